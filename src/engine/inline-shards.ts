import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ControlMessage, Envelope, ShardMessage } from './protocol.js';
import { runShard } from './shard-runtime.js';
import { relayShardPort, type LaunchedShard, type ShardLauncher, type ShardSpec } from './shard-launcher.js';

/**
 * A shard on the main thread of a shard process that hosts only one: the process already
 * isolates it, and a worker thread would add a second V8 heap (tens of MB, measured in
 * bench/RESULTS.md) for nothing. Messages still go through a MessageChannel, so the shard runs
 * exactly as it does in a worker.
 */
export class InlineShards implements ShardLauncher {
  private readonly ports: MessagePort[] = [];

  async run(spec: ShardSpec, onMessage: (env: Envelope<ShardMessage>) => void): Promise<LaunchedShard> {
    const { port1, port2 } = new MessageChannel();
    this.ports.push(port1);
    const relay = relayShardPort(port1, onMessage);
    const result = await runShard({ ...spec, port: port2 });
    await relay.stopped();
    return { result, pid: process.pid };
  }

  broadcast(env: Envelope<ControlMessage>): void {
    for (const p of this.ports) p.postMessage(env);
  }

  async close(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    for (const p of this.ports) p.close();
  }
}
