import type { RunLayout } from '../../scenario/capacity.js';
import { ProcessShards } from './process-shards.js';
import { yieldingNice } from './shard-priority.js';
import type { ShardLauncher } from './launcher.js';
import { ThreadShards } from './thread-shards.js';

export interface LaunchOptions {
  /**
   * The coordinator hosts the system under test (the embedded backend): shard processes yield the
   * CPU to it (shard-priority.ts). Shard threads of the coordinator's own process share its
   * priority and its scheduling group already.
   */
  yieldToBackend?: boolean;
}

/** The launcher a layout calls for: worker threads here, or shard processes with worker threads each. */
export function launchShards(layout: RunLayout, shards: number, opts: LaunchOptions = {}): ShardLauncher {
  if (layout.processes <= 1) return new ThreadShards(shards);
  const nice = opts.yieldToBackend === true ? yieldingNice(layout.processes) : 0;
  return new ProcessShards({ processes: layout.processes, threadsPerProcess: layout.workersPerProcess, nice });
}
