import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { DeviceIdentities } from '../../identity/device-identities.js';
import { clientContext } from '../../drivers/mqtt/broker-address.js';
import { C, G } from '../../metrics/catalog.js';
import type { Lifecycle } from '../../fleet/lifecycle.js';
import { WireDriver } from '../../drivers/wire-driver.js';
import { presetFactoryFor } from './preset-factory.js';
import { WallScheduler } from '../clock/wall-scheduler.js';
import type { ShardFinal } from './protocol.js';
import { buildLifecycle, LifecycleEvents, finalOf, startTelemetryEpoch } from './assembly.js';
import type { ShardContext } from './context.js';
import { CONNECT_TIMEOUT_MS, HTTP_TIMEOUT_MS, LOOP_DELAY_RESOLUTION_MS, WALL_WAKE_QUANTUM_MS } from './tuning.js';
import { injectedTeardownStall, startInjectedStalls } from './injected-stall.js';
import { epochNow } from '../clock/epoch-clock.js';

/**
 * A wall-clock shard: real sockets through the WireDriver, time from the shared start instant,
 * one snapshot per interval aligned to that instant, graceful drain and disconnect on `stop`.
 */
export async function runWallShard(ctx: ShardContext): Promise<ShardFinal> {
  const { task, metrics } = ctx;
  const s = task.scenario;
  const preset = (await presetFactoryFor(task.target.preset))({ fleetKey: task.target.fleetKey });

  // Client certificates are issued (or read) before the shard is ready: a connect only looks one up.
  const tls = task.target.tls;
  let identities: DeviceIdentities | undefined;
  if (tls?.deviceCerts) {
    const began = performance.now();
    // Imported only for a run with client certificates: the X.509 code stays out of every other shard.
    const { DeviceIdentities } = await import('../../identity/device-identities.js');
    identities = await DeviceIdentities.prepare(tls.deviceCerts, { firstDevice: task.firstDevice, count: task.count, seed: s.seed, serialOf: (g) => `${s.name}-${g}` });
    // Each device's TLS context too: parsing PEM per connect would cost a third of the handshake.
    for (const id of identities.all()) if (id !== undefined) clientContext(id, tls.settings);
    const ms = performance.now() - began;
    ctx.send({ type: 'log', level: 'info', text: `shard ${task.shard}: ${tls.deviceCerts.kind === 'folder' ? 'read' : tls.deviceCerts.kind === 'shared' ? 'shared one certificate among' : 'issued'} ${task.count} device certificates in ${ms.toFixed(0)} ms (${((ms * 1000) / Math.max(1, task.count)).toFixed(0)} µs each)` });
  }

  let lifecycle!: Lifecycle;
  const scheduler = new WallScheduler(s.timeScale, (kind, dev, t) => lifecycle.handle(kind, dev, t), WALL_WAKE_QUANTUM_MS);
  const events = new LifecycleEvents();
  const driver = new WireDriver(
    {
      httpUrl: task.target.httpUrl,
      mqttUrl: task.target.mqttUrl,
      brokerRanges: task.target.brokerRanges,
      firstDevice: task.firstDevice,
      preset,
      devices: task.count,
      mqttClient: s.options.mqttClient,
      mqttPipelining: s.options.mqttPipelining,
      http: s.options.http,
      // The fleet pings (fleet/keepalive.ts) every keepalive of simulated time, which is
      // keepalive / timeScale of real time: CONNECT tells the broker that real interval.
      keepaliveSec: connectKeepaliveSec(s.behaviour.keepaliveSec, s.timeScale),
      callerPings: true,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      httpTimeoutMs: HTTP_TIMEOUT_MS,
      sourceAddresses: task.target.sourceAddresses,
      tls: tls?.settings,
      identities,
      onLateAnswer: () => metrics.inc(C['mqtt.request.late']),
      onReportRetried: () => {
        metrics.inc(C['state.version_retries']);
        metrics.inc(C['requests.started']);
      },
    },
    events,
  );
  lifecycle = buildLifecycle(task, scheduler, driver, metrics, events);

  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loopDelay.enable();
  let maxLag = 0;
  let maxLoopDelay = 0;
  let interval = 0;
  let snapshotTimer: NodeJS.Timeout | undefined;
  let startAt = 0;
  let stopStalls = () => {};
  const snapEvery = s.options.snapshotEveryMs / s.timeScale; // wall ms between snapshots

  /** The drain's loop delay, held for the next snapshot once the teardown stops measuring. */
  let drainLoopDelay = 0;
  const loopDelayMs = () => Math.max(drainLoopDelay, loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0);
  const takeSnapshot = () => {
    const lag = scheduler.takeMaxLagMs();
    const delay = loopDelayMs();
    drainLoopDelay = 0;
    loopDelay.reset();
    maxLag = Math.max(maxLag, lag);
    maxLoopDelay = Math.max(maxLoopDelay, delay);
    metrics.set(G['generator.schedule_lag'], lag);
    metrics.set(G['generator.event_loop_delay'], delay);
    lifecycle.updateGauges();
    const tMs = Math.min((interval + 1) * snapEvery, Math.max(0, epochNow() - startAt)) * s.timeScale;
    ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, tMs) });
  };
  const scheduleSnapshot = () => {
    // Aligned to the shared start time, so interval k means the same span on every shard.
    const due = startAt + (interval + 1) * snapEvery;
    snapshotTimer = setTimeout(() => {
      takeSnapshot();
      scheduleSnapshot();
    }, Math.max(0, due - epochNow()));
  };

  await new Promise<void>((resolve) => {
    ctx.onControl((msg) => {
      if (msg.type === 'start') {
        startAt = msg.startAtMs;
        startTelemetryEpoch(lifecycle, startAt);
        scheduler.start(startAt);
        scheduleSnapshot();
        stopStalls = startInjectedStalls();
      } else if (msg.type === 'stop') {
        resolve();
      }
    });
    ctx.send({ type: 'ready', shard: task.shard, devices: task.count });
  });

  stopStalls();
  const endedAtMs = scheduler.now();
  lifecycle.stopGenerating();
  scheduler.stop();
  const deadline = Date.now() + task.drainMs;
  while (lifecycle.inflightCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // Closing every session is teardown, not load: nothing is timed from here on, so the event loop's
  // delay stops counting towards the generator's health. At 500,000 sessions the shards, at low
  // priority under 27 brokers closing theirs, took 31.8 s to close and the run was judged invalid
  // for it while its schedule lag never passed 1.9 s (bench/RESULTS.md, round 8).
  drainLoopDelay = loopDelayMs();
  loopDelay.disable();
  loopDelay.reset();
  // No periodic snapshot from here on: closing the sessions can take seconds (a broker slow to
  // close its end, or 19,000 sessions at 500,000 devices), and a row taken meanwhile showed the
  // devices offline before the run's end, so "online just before the end" read 0. The final
  // snapshot below holds everything since the last periodic one.
  if (snapshotTimer) clearTimeout(snapshotTimer);
  lifecycle.disconnectAll();
  await injectedTeardownStall();
  await lifecycle.closeDriver();
  takeSnapshot();
  return finalOf(task, lifecycle, maxLag, maxLoopDelay, Math.min(endedAtMs, s.durationMs));
}

/**
 * The keepalive CONNECT carries, in real seconds, for devices that ping every `keepaliveSec` of
 * simulated time at `timeScale`: whole seconds (the field is 16 bits, MQTT 3.1.1 §3.1.2.10), at
 * least 1 (0 would turn the broker's check off), at most 65,535; 0 stays 0.
 */
export function connectKeepaliveSec(keepaliveSec: number, timeScale: number): number {
  if (keepaliveSec <= 0) return 0;
  return Math.min(65_535, Math.max(1, Math.ceil(keepaliveSec / timeScale)));
}
