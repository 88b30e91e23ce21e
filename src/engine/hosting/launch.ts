import type { RunLayout } from '../../scenario/capacity.js';
import { ProcessShards } from './process-shards.js';
import type { ShardLauncher } from './launcher.js';
import { ThreadShards } from './thread-shards.js';

/** The launcher a layout calls for: worker threads here, or shard processes with worker threads each. */
export function launchShards(layout: RunLayout, shards: number): ShardLauncher {
  if (layout.processes <= 1) return new ThreadShards(shards);
  return new ProcessShards({ processes: layout.processes, threadsPerProcess: layout.workersPerProcess });
}
