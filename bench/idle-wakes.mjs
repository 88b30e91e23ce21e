// CPU of an otherwise idle Node process for 20 s with what a shard process runs whatever its
// fleet does: the event-loop delay monitor at resolution R ms (0: off), and T timers of one
// second each making a pass over D typed-array slots (what the lean transport's session sweep
// was per broker before it idled in holds). Run several side by side, interleaved:
//   for i in 1 2 3; do node bench/idle-wakes.mjs 20 27 & node bench/idle-wakes.mjs 100 0 & node bench/idle-wakes.mjs 20 0 & node bench/idle-wakes.mjs 0 0 & wait; done
import { monitorEventLoopDelay } from 'node:perf_hooks';

const R = Number(process.argv[2] ?? 20);
const T = Number(process.argv[3] ?? 0);
const D = Number(process.argv[4] ?? 700);
if (R > 0) monitorEventLoopDelay({ resolution: R }).enable();
for (let t = 0; t < T; t++) {
  const state = new Uint8Array(D).fill(2);
  const wrote = new Uint8Array(D);
  const last = new Float64Array(D);
  const keepalive = new Uint16Array(D);
  setInterval(() => {
    const now = performance.now();
    for (let d = 0; d < D; d++) {
      if (state[d] === 0) continue;
      if (wrote[d] !== 0) {
        wrote[d] = 0;
        last[d] = now;
      }
      if (keepalive[d] === 0) continue;
    }
  }, 1000);
}
const u0 = process.cpuUsage();
setTimeout(() => {
  const u = process.cpuUsage(u0);
  console.log(JSON.stringify({ resolutionMs: R, timers: T, slots: D, cpuMsPerSecond: (u.user + u.system) / 1000 / 20 }));
  process.exit(0);
}, 20_000);
