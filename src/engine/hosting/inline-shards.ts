import type { ControlMessage, Envelope, ShardMessage } from '../shard/protocol.js';
import { runShard } from '../shard/runtime.js';
import { ShardPorts, type LaunchedShard, type ShardLauncher, type ShardSpec } from './launcher.js';

/**
 * A shard on the main thread of a shard process that hosts only one: the process already
 * isolates it, and a worker thread would add a second V8 heap (tens of MB, measured in
 * bench/RESULTS.md) for nothing. Messages still go through a MessageChannel, so the shard runs
 * exactly as it does in a worker.
 */
export class InlineShards implements ShardLauncher {
  private readonly ports = new ShardPorts();

  async run(spec: ShardSpec, onMessage: (env: Envelope<ShardMessage>) => void): Promise<LaunchedShard> {
    const channel = this.ports.open(onMessage);
    const result = await runShard({ ...spec, port: channel.port });
    await channel.stopped();
    return { result, pid: process.pid };
  }

  broadcast(env: Envelope<ControlMessage>): void {
    this.ports.broadcast(env);
  }

  close(): Promise<void> {
    return this.ports.close();
  }
}
