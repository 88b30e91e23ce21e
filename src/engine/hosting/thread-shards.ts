import { Piscina } from 'piscina';
import type { ControlMessage, Envelope, ShardMessage } from '../shard/protocol.js';
import type { ShardResult } from '../shard/runtime.js';
import { IN_CLI_BUNDLE, packagePath } from '../../package-files.js';
import { ShardPorts, type LaunchedShard, type ShardLauncher, type ShardSpec } from './launcher.js';
import { compileSynchronouslyFromNow } from '../shard/compiler-tuning.js';

export interface ThreadShardsOptions {
  /** The threads compile optimized code themselves, not on V8's helper threads (virtual clock; compiler-tuning.ts). */
  synchronousCompile?: boolean;
}

/**
 * The worker's entry, always built JS (tests run the TS sources, but a worker needs JS): the CLI's
 * bundle starts its own bundle of it (scripts/bundle-cli.mjs), the modules start the module.
 */
const SHARD_WORKER = packagePath(IN_CLI_BUNDLE ? 'dist/cli/shard-worker.js' : 'dist/engine/hosting/shard-worker.js');

/**
 * Shards as worker threads of this process: one long-lived piscina task per shard, each with its
 * own MessageChannel. The pool is pinned (as many threads as shards, atomics off, no idle
 * timeout), so piscina never parks or reaps a worker whose task is still running its shard.
 */
export class ThreadShards implements ShardLauncher {
  private readonly pool: Piscina;
  private readonly ports = new ShardPorts();
  /** Puts the process's compile mode back for isolates created later (on close: the pool's threads have long started). */
  private readonly restoreCompile: () => void;

  constructor(threads: number, opts: ThreadShardsOptions = {}) {
    // Before the pool: piscina starts its threads in its constructor, each creating its isolate.
    this.restoreCompile = opts.synchronousCompile === true ? compileSynchronouslyFromNow() : () => {};
    try {
      this.pool = new Piscina({
        filename: SHARD_WORKER,
        minThreads: threads,
        maxThreads: threads,
        concurrentTasksPerWorker: 1,
        atomics: 'disabled',
        idleTimeout: Number.MAX_SAFE_INTEGER,
        maxQueue: threads,
      });
    } catch (err) {
      // No pool, so no close() to put the compile mode back: later workers of this process would keep it.
      this.restoreCompile();
      throw err;
    }
  }

  async run(spec: ShardSpec, onMessage: (env: Envelope<ShardMessage>) => void): Promise<LaunchedShard> {
    const channel = this.ports.open(onMessage);
    const result = (await this.pool.run({ ...spec, port: channel.port }, { transferList: [channel.port] })) as ShardResult;
    await channel.stopped();
    return { result, pid: process.pid };
  }

  broadcast(env: Envelope<ControlMessage>): void {
    this.ports.broadcast(env);
  }

  async close(): Promise<void> {
    this.restoreCompile();
    await this.ports.close();
    await this.pool.destroy();
  }
}
