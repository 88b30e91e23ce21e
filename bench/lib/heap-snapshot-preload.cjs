// Preloaded (NODE_OPTIONS=--require) into every node of a bench run: in a shard process (main
// thread and its worker threads), writes one heap snapshot SNAP_AT_MS after start.
const v8 = require('node:v8');
const wt = require('node:worker_threads');
if ((process.argv[1] ?? '').includes('shard-process')) {
  setTimeout(() => {
    const f = `${process.env.SNAP_DIR}/${process.pid}-${wt.threadId}.heapsnapshot`;
    v8.writeHeapSnapshot(f);
  }, Number(process.env.SNAP_AT_MS)).unref();
}
