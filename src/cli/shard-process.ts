/**
 * Entry of a forked shard process (engine/hosting/process-shards.ts starts it). The process's
 * life is decided here, like the CLI's: it ignores SIGINT (the coordinator sends `stop` on
 * Ctrl-C, which reaches the whole process group) and exits when the IPC channel closes, so it
 * never outlives a coordinator that died.
 */
import { hostShards } from '../engine/hosting/process-host.js';
import { lowerPriority } from '../engine/hosting/shard-priority.js';

process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(process.exitCode ?? 1));
// Yield to the embedded backend when the coordinator hosts it: the thread's niceness now, before
// any worker thread starts (they inherit it), the autogroup's when the kernel allows it.
void lowerPriority(Number(process.argv[3] ?? '0'));
await hostShards(Number(process.argv[2] ?? '1'));
