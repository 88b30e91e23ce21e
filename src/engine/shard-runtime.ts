import { threadId } from 'node:worker_threads';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { G } from '../metrics/catalog.js';
import { ShardMetrics } from '../metrics/registry.js';
import { Lifecycle } from '../fleet/lifecycle.js';
import { WireDriver } from '../drivers/wire-driver.js';
import { presetByName } from '../drivers/presets/reference.js';
import { WallScheduler } from './wall-scheduler.js';
import { envelope, type ControlMessage, type Envelope, type ShardFinal, type ShardMessage } from './protocol.js';
import type { ShardTask } from './shard-task.js';

/**
 * The worker side of a shard: owns its device range for the whole run. It builds the metric
 * registry, the scheduler, the driver and the device lifecycle, then follows the coordinator's
 * control messages (start, stop) and sends one metric snapshot per interval.
 *
 * Concurrency: everything here runs on the shard's own worker thread; the only way in or out is
 * the task's MessagePort. The task's promise resolves only after `stop`, so piscina keeps this
 * thread busy (and never reaps it) for the whole run.
 */
export async function runShard(task: ShardTask): Promise<ShardFinal & { threadIdAtStart: number; threadIdAtEnd: number }> {
  const s = task.scenario;
  const port = task.port;
  const seq = { next: 0 };
  const send = (msg: ShardMessage) => port.postMessage(envelope(seq, msg));
  const threadIdAtStart = threadId;

  const metrics = new ShardMetrics(task.shard);
  let lifecycle!: Lifecycle;
  const scheduler = new WallScheduler(s.timeScale, (kind, dev, t) => lifecycle.handle(kind, dev, t));
  const preset = presetByName(task.target.preset);
  if (!preset) throw new Error(`unknown preset ${task.target.preset}`);
  const driver = new WireDriver(
    {
      httpUrl: task.target.httpUrl,
      mqttUrl: task.target.mqttUrl,
      fleetKey: task.target.fleetKey,
      preset,
      devices: task.count,
      mqttClient: s.options.mqttClient,
      http: s.options.http,
      keepaliveSec: s.behaviour.keepaliveSec,
      connectTimeoutMs: 10_000,
      httpTimeoutMs: 10_000,
      sourceAddresses: task.target.sourceAddresses,
    },
    {
      onProvisioned: (dev, status, ra) => lifecycle.onProvisioned(dev, status, ra),
      onConnected: (dev, ok, code) => lifecycle.onConnected(dev, ok, code),
      onTelemetryAcked: (dev, token) => lifecycle.onTelemetryAcked(dev, token),
      onConnectionLost: (dev, reason) => lifecycle.onConnectionLost(dev, reason),
      onPolled: (dev, status, ra) => lifecycle.onPolled(dev, status, ra),
    },
  );
  const tel = s.behaviour.telemetry;
  lifecycle = new Lifecycle(
    task.count,
    task.firstDevice,
    {
      seed: s.seed,
      serialPrefix: s.name,
      arrival: s.arrival,
      telemetry: tel ? { everyMs: tel.everyMs, jitter: tel.jitter, spec: { size: tel.sizeBytes, qos: tel.qos } } : undefined,
      poll: s.behaviour.poll,
      reconnect: s.behaviour.reconnect,
      bufferCapacity: 1000,
      flushBurst: 64,
    },
    scheduler,
    driver,
    metrics,
  );
  lifecycle.planArrivals();

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let maxLag = 0;
  let maxLoopDelay = 0;
  let interval = 0;
  let snapshotTimer: NodeJS.Timeout | undefined;
  let startAt = 0;
  const snapEvery = s.options.snapshotEveryMs;

  const takeSnapshot = () => {
    const lag = scheduler.takeMaxLagMs();
    const delay = loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0;
    loopDelay.reset();
    maxLag = Math.max(maxLag, lag);
    maxLoopDelay = Math.max(maxLoopDelay, delay);
    metrics.set(G['generator.schedule_lag'], lag);
    metrics.set(G['generator.event_loop_delay'], delay);
    lifecycle.updateGauges();
    const tMs = Math.min((interval + 1) * snapEvery, Math.max(0, Date.now() - startAt)) * s.timeScale;
    send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, tMs) });
  };
  const scheduleSnapshot = () => {
    // Aligned to the shared start time, so interval k means the same span on every shard.
    const due = startAt + (interval + 1) * snapEvery;
    snapshotTimer = setTimeout(() => {
      takeSnapshot();
      scheduleSnapshot();
    }, Math.max(0, due - Date.now()));
  };

  return await new Promise((resolve, reject) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      try {
        lifecycle.stopGenerating();
        scheduler.stop();
        const deadline = Date.now() + task.drainMs;
        while (lifecycle.inflightCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        lifecycle.disconnectAll();
        await driver.close();
        if (snapshotTimer) clearTimeout(snapshotTimer);
        takeSnapshot();
        loopDelay.disable();
        const a = lifecycle.accounting();
        const final: ShardFinal = { shard: task.shard, ...a, maxScheduleLagMs: maxLag, maxEventLoopDelayMs: maxLoopDelay };
        send({ type: 'stopped', shard: task.shard, final });
        metrics.destroy();
        port.close();
        resolve({ ...final, threadIdAtStart, threadIdAtEnd: threadId });
      } catch (err) {
        reject(err);
      }
    };
    port.on('message', (env: Envelope<ControlMessage>) => {
      const msg = env.msg;
      if (msg.type === 'start') {
        startAt = msg.startAtMs;
        scheduler.start(startAt);
        scheduleSnapshot();
      } else if (msg.type === 'stop') {
        void stop();
      }
    });
    send({ type: 'ready', shard: task.shard, devices: task.count });
  });
}
