// Loaded into every process of a `fleetsim run` by bench/shard-footprint.mjs (NODE_OPTIONS=--import):
// a shard process announces itself in $FOOTPRINT_DIR and, on SIGUSR2, runs two full GCs and writes
// its PSS, USS, V8 heap used/committed and heap spaces there. With FOOTPRINT_COUNT=1 it also
// records every module the process loads (an ESM load hook; the hooks thread costs memory, so
// counting runs are separate from measuring ones).
import { register } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';
import { readFileSync, writeFileSync } from 'node:fs';

const DIR = process.env.FOOTPRINT_DIR;
if (DIR && process.argv[1]?.endsWith('shard-process.js')) {
  if (process.env.FOOTPRINT_COUNT) register(new URL('./shard-footprint-hooks.mjs', import.meta.url));
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  writeFileSync(`${DIR}/up-${process.pid}`, '');
  process.on('SIGUSR2', () => {
    gc();
    gc();
    const h = v8.getHeapStatistics();
    const smaps = readFileSync(`/proc/${process.pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(smaps)[1]);
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_used_size / 1024)]));
    const out = { pid: process.pid, pssKiB: kb('Pss'), ussKiB: kb('Private_Clean') + kb('Private_Dirty'), heapUsedKiB: Math.round(h.used_heap_size / 1024), heapCommittedKiB: Math.round(h.total_heap_size / 1024), spaces };
    writeFileSync(`${DIR}/out-${process.pid}.tmp`, JSON.stringify(out));
    writeFileSync(`${DIR}/out-${process.pid}.json`, JSON.stringify(out));
  });
}
