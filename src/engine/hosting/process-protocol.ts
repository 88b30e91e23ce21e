import type { ControlMessage, Envelope, ShardMessage } from '../shard/protocol.js';
import type { LaunchedShard, ShardSpec } from './launcher.js';

/** Coordinator -> shard process, over the IPC channel. */
export type ParentToHost =
  /** Start one shard as a worker thread of the host. */
  | { kind: 'run'; spec: ShardSpec }
  /** Relay to every shard of the host. */
  | { kind: 'control'; env: Envelope<ControlMessage> }
  /** Every shard has settled: release the threads and exit. */
  | { kind: 'close' };

/** Shard process -> coordinator. Per shard, `message`s come before its `done` or `failed`. */
export type HostToParent =
  | { kind: 'up'; pid: number }
  | { kind: 'message'; shard: number; env: Envelope<ShardMessage> }
  | { kind: 'done'; shard: number; launched: LaunchedShard }
  | { kind: 'failed'; shard: number; error: string }
  | { kind: 'closed' };
