import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ControlMessage, Envelope, ShardMessage } from '../shard/protocol.js';
import type { ShardResult } from '../shard/runtime.js';
import type { ShardTask } from '../shard/task.js';

/** A shard's task as the coordinator describes it; the launcher adds the message port. */
export type ShardSpec = Omit<ShardTask, 'port'>;

/** Where a shard ran: the process (pid) and, inside it, the thread at its start and end. */
export interface LaunchedShard {
  result: ShardResult;
  pid: number;
}

/**
 * Runs the coordinator's shards somewhere: as worker threads of this process (thread-shards.ts)
 * or spread over child processes, each running its shards as worker threads (process-shards.ts).
 * The coordinator sees the same thing either way: one message stream per shard, a broadcast of
 * control messages, and one result per shard.
 *
 * Concurrency: methods are called on the coordinator's main thread; `onMessage` callbacks arrive
 * there too, in the order each shard sent its messages.
 */
export interface ShardLauncher {
  /**
   * Starts one shard. Its messages go to `onMessage` as they arrive; every message the shard sent
   * before it finished has been delivered when the promise resolves. Rejects when the shard (or
   * the process hosting it) fails.
   */
  run(spec: ShardSpec, onMessage: (env: Envelope<ShardMessage>) => void): Promise<LaunchedShard>;
  /** Sends a control message to every shard started so far. */
  broadcast(env: Envelope<ControlMessage>): void;
  /** Releases the threads (and processes); call once every run() has settled. */
  close(): Promise<void>;
}

/**
 * Relays a shard's port to `onMessage` and tells when its last message (`stopped`) came. The
 * shard's result and its port's messages travel on different channels, so `stopped` may arrive
 * after the result: launchers wait for it, briefly (a failed shard never sends it).
 */
export function relayShardPort(port: MessagePort, onMessage: (env: Envelope<ShardMessage>) => void): { stopped(): Promise<void> } {
  let sawStopped!: () => void;
  const stopped = new Promise<void>((r) => (sawStopped = r));
  port.on('message', (env: Envelope<ShardMessage>) => {
    onMessage(env);
    if (env.msg.type === 'stopped') sawStopped();
  });
  return {
    stopped: async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
    },
  };
}

/**
 * The coordinator's ends of the MessageChannels of the shards a launcher runs in this process:
 * one per shard, each relayed to that shard's `onMessage`; control messages go to all of them.
 */
export class ShardPorts {
  private readonly ports: MessagePort[] = [];

  /** A channel for one more shard: hand `port` to the shard; `stopped()` as in relayShardPort. */
  open(onMessage: (env: Envelope<ShardMessage>) => void): { port: MessagePort; stopped(): Promise<void> } {
    const { port1, port2 } = new MessageChannel();
    this.ports.push(port1);
    return { port: port2, stopped: relayShardPort(port1, onMessage).stopped };
  }

  broadcast(env: Envelope<ControlMessage>): void {
    for (const p of this.ports) p.postMessage(env);
  }

  /** Lets the last messages drain from the ports, then closes them. */
  async close(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    for (const p of this.ports) p.close();
  }
}
