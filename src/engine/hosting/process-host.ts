/**
 * The work of a shard process (forked by process-shards.ts; its entry is cli/shard-process.ts,
 * which owns the process's exit): runs the shards the coordinator hands it as worker threads of this process (thread-shards.ts), or on its main thread when it hosts
 * just one (inline-shards.ts), and relays their messages both ways
 * over the IPC channel, which uses structured clone (`serialization: 'advanced'`), so snapshots
 * and tasks cross unchanged.
 *
 * The coordinator owns the run: the process ignores SIGINT (a Ctrl-C in the terminal reaches the
 * whole process group; the coordinator then sends `stop` so devices disconnect gracefully) and
 * exits when the IPC channel closes, so it never outlives a coordinator that died.
 */
import { InlineShards } from './inline-shards.js';
import type { HostToParent, ParentToHost } from './process-protocol.js';

/** Serves the coordinator's requests over this process's IPC channel, `threads` shards at a time. */
export async function hostShards(threads: number): Promise<void> {
  // One shard: run it on this process's main thread (the process is its isolation); several: worker
  // threads, with piscina loaded only then (it costs ~7 MB of RSS per process).
  const shards = threads === 1 ? new InlineShards() : new (await import('./thread-shards.js')).ThreadShards(threads);
  const send = (m: HostToParent): void => {
    if (process.connected) process.send!(m);
  };

  process.on('message', (m: ParentToHost) => {
    switch (m.kind) {
      case 'run':
        shards
          .run(m.spec, (env) => send({ kind: 'message', shard: m.spec.shard, env }))
          .then(
            (launched) => send({ kind: 'done', shard: m.spec.shard, launched }),
            (err: Error) => send({ kind: 'failed', shard: m.spec.shard, error: err.message }),
          );
        break;
      case 'control':
        shards.broadcast(m.env);
        break;
      case 'close':
        void shards.close().then(() => {
          process.exitCode = 0;
          send({ kind: 'closed' });
          process.disconnect();
        });
        break;
    }
  });
  send({ kind: 'up', pid: process.pid });
}
