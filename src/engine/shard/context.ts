import type { ShardMetrics } from '../../metrics/registry.js';
import type { ControlMessage, ShardMessage } from './protocol.js';
import type { ShardTask } from './task.js';

/** What both clocks' shard runners share: the port, the metric registry and the lifecycle config. */
export interface ShardContext {
  task: ShardTask;
  metrics: ShardMetrics;
  send(msg: ShardMessage): void;
  /** Registers the handler of control messages (one at a time). */
  onControl(handler: (msg: ControlMessage) => void): void;
}
