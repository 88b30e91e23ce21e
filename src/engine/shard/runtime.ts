import { threadId } from 'node:worker_threads';
import { ShardMetrics } from '../../metrics/registry.js';
import { envelope, type ControlMessage, type Envelope, type ShardFinal } from './protocol.js';
import type { ShardTask } from './task.js';
import type { ShardContext } from './context.js';
import { ControlInbox } from './control-inbox.js';
import { tuneCompiler } from './compiler-tuning.js';

export type ShardResult = ShardFinal & { threadIdAtStart: number; threadIdAtEnd: number };

/**
 * The worker side of a shard: owns its device range for the whole run and follows the
 * coordinator's control messages. The wall and virtual clocks differ in how time advances
 * (wall.ts, virtual.ts); both end by sending `stopped` with the shard's accounting.
 *
 * Concurrency: everything runs on the shard's own worker thread; the only way in or out is the
 * task's MessagePort. The task's promise resolves only after `stop`, so piscina keeps this
 * thread busy (and never reaps it) for the whole run.
 */
export async function runShard(task: ShardTask): Promise<ShardResult> {
  // Before the runner's hot code is compiled (a shard process has its own V8 flags to set).
  tuneCompiler();
  const threadIdAtStart = threadId;
  const seq = { next: 0 };
  const inbox = new ControlInbox();
  task.port.on('message', (env: Envelope<ControlMessage>) => inbox.deliver(env.msg));
  const ctx: ShardContext = {
    task,
    metrics: new ShardMetrics(task.shard),
    send: (msg) => task.port.postMessage(envelope(seq, msg)),
    onControl: (h) => inbox.onControl(h),
  };
  try {
    // The runner of this run's clock and the profiler are imported here, when chosen: a shard
    // process loads neither the other clock's runner (the virtual one brings the whole backend
    // model, drivers/model/) nor node:inspector for nothing, and each module a shard process holds
    // costs V8 heap in every one of them (26 at 500,000 devices; bench/RESULTS.md, "Shard process
    // code"). An import that fails rejects here, as a throw from the runner would.
    const profiler = task.profile ? await (await import('./profiler.js')).ShardProfiler.start(task.profile) : undefined;
    const final = task.scenario.clock === 'virtual' ? await (await import('./virtual.js')).runVirtualShard(ctx) : await (await import('./wall.js')).runWallShard(ctx);
    if (profiler) {
      const file = await profiler.stop(task.profileDir ?? '.', task.shard);
      ctx.send({ type: 'log', level: 'info', text: `${task.profile} profile written to ${file}` });
    }
    ctx.send({ type: 'stopped', shard: task.shard, final });
    return { ...final, threadIdAtStart, threadIdAtEnd: threadId };
  } finally {
    ctx.metrics.destroy();
    task.port.close();
  }
}
