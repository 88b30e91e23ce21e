/**
 * The ShardLauncher contract suite (test/contracts/shard-launcher.contract.ts) over the ways of
 * hosting shards: worker threads of this process, child processes (one thread each) and, as a
 * child process hosting one shard does, inline on the main thread. Runs the built dist/ files
 * (worker threads and child processes load compiled JavaScript).
 */
import { InlineShards } from '../../src/engine/hosting/inline-shards.js';
import { ProcessShards } from '../../src/engine/hosting/process-shards.js';
import { ThreadShards } from '../../src/engine/hosting/thread-shards.js';
import { shardLauncherContract } from '../contracts/shard-launcher.contract.js';

shardLauncherContract('worker threads', (shards) => ({ launcher: new ThreadShards(shards), hostedIn: 'this' }));
shardLauncherContract('shard processes', (shards) => ({ launcher: new ProcessShards({ processes: shards, threadsPerProcess: 1 }), hostedIn: 'child' }));
shardLauncherContract('inline', () => ({ launcher: new InlineShards(), hostedIn: 'this' }));
