import { Piscina } from 'piscina';
import type { ControlMessage, Envelope, ShardMessage } from '../shard/protocol.js';
import type { ShardResult } from '../shard/runtime.js';
import { builtFile, ShardPorts, type LaunchedShard, type ShardLauncher, type ShardSpec } from './launcher.js';

/**
 * Shards as worker threads of this process: one long-lived piscina task per shard, each with its
 * own MessageChannel. The pool is pinned (as many threads as shards, atomics off, no idle
 * timeout), so piscina never parks or reaps a worker whose task is still running its shard.
 */
export class ThreadShards implements ShardLauncher {
  private readonly pool: Piscina;
  private readonly ports = new ShardPorts();

  constructor(threads: number) {
    this.pool = new Piscina({
      filename: builtFile(import.meta.url, './shard-worker.js'),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      idleTimeout: Number.MAX_SAFE_INTEGER,
      maxQueue: threads,
    });
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
    await this.ports.close();
    await this.pool.destroy();
  }
}
