import type { RunLayout } from '../../scenario/capacity.js';
import { ProcessShards, SHARD_PROCESS_FLAGS } from './process-shards.js';
import { processOptions, synchronousCompileOptions } from '../shard/compiler-tuning.js';
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
  /**
   * The shards run on the virtual clock: they compile optimized code on their own threads, not on
   * V8's helper threads (compiler-tuning.ts, SYNCHRONOUS_COMPILE_FLAG).
   */
  virtualClock?: boolean;
}

/** The launcher a layout calls for: worker threads here, or shard processes with worker threads each. */
export function launchShards(layout: RunLayout, shards: number, opts: LaunchOptions = {}): ShardLauncher {
  const virtual = opts.virtualClock === true;
  if (layout.processes <= 1) return new ThreadShards(shards, { synchronousCompile: virtual });
  const nice = opts.yieldToBackend === true ? yieldingNice(layout.processes) : 0;
  return new ProcessShards({ processes: layout.processes, threadsPerProcess: layout.workersPerProcess, nice, execArgv: shardProcessFlags(virtual) });
}

/**
 * Node flags of shard processes: SHARD_PROCESS_FLAGS, and synchronous compiles on the virtual
 * clock unless the user chose in the coordinator's own node options (`ownOptions`).
 */
export function shardProcessFlags(virtualClock: boolean, ownOptions = processOptions()): string[] {
  return virtualClock ? [...SHARD_PROCESS_FLAGS, ...synchronousCompileOptions(ownOptions)] : [...SHARD_PROCESS_FLAGS];
}
