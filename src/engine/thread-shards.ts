import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ControlMessage, Envelope, ShardMessage } from './protocol.js';
import type { ShardResult } from './shard-runtime.js';
import { builtEngineFile, relayShardPort, type LaunchedShard, type ShardLauncher, type ShardSpec } from './shard-launcher.js';

/**
 * Shards as worker threads of this process: one long-lived piscina task per shard, each with its
 * own MessageChannel. The pool is pinned (as many threads as shards, atomics off, no idle
 * timeout), so piscina never parks or reaps a worker whose task is still running its shard.
 */
export class ThreadShards implements ShardLauncher {
  private readonly pool: Piscina;
  private readonly ports: MessagePort[] = [];

  constructor(threads: number) {
    this.pool = new Piscina({
      filename: builtEngineFile(import.meta.url, 'shard-worker.js'),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      idleTimeout: Number.MAX_SAFE_INTEGER,
      maxQueue: threads,
    });
  }

  async run(spec: ShardSpec, onMessage: (env: Envelope<ShardMessage>) => void): Promise<LaunchedShard> {
    const { port1, port2 } = new MessageChannel();
    this.ports.push(port1);
    const relay = relayShardPort(port1, onMessage);
    const result = (await this.pool.run({ ...spec, port: port2 }, { transferList: [port2] })) as ShardResult;
    await relay.stopped();
    return { result, pid: process.pid };
  }

  broadcast(env: Envelope<ControlMessage>): void {
    for (const p of this.ports) p.postMessage(env);
  }

  async close(): Promise<void> {
    // Let the last messages drain from the ports before closing them.
    await new Promise((r) => setImmediate(r));
    for (const p of this.ports) p.close();
    await this.pool.destroy();
  }
}
