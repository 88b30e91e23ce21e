// What a shard snapshot's histograms cost to send: structured clone (what worker ports and the
// 'advanced' IPC of shard processes do) of one snapshot whose three latency histograms hold a
// simulated minute of acks, as a plain array of small integers (the format before issue 17 round
// 5) against the Float64Array HdrRecorder.drainCounts gives now. CPU of this thread only.
// After `npm run build`:  SAMPLES=3300 N=3000 node bench/snapshot-clone.mjs
import { HdrRecorder } from '../dist/metrics/hdr-counts.js';
import { envInt, median } from './lib/common.mjs';

const SAMPLES = envInt('SAMPLES', 3300); // acks per shard per simulated minute: 100,000 devices on 2 workers
const N = envInt('N', 3000);
const R = envInt('R', 5);

/** Backend-like latencies: lognormal around 40 ms (a deterministic sequence, the same every run). */
function drained(seed) {
  const rec = new HdrRecorder();
  let x = seed;
  for (let i = 0; i < SAMPLES; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const u = (x + 0.5) / 2 ** 32;
    const v = (Math.imul(x ^ (x >>> 13), 2654435761) >>> 0) / 2 ** 32 + 1e-9;
    const z = Math.sqrt(-2 * Math.log(v)) * Math.cos(2 * Math.PI * u);
    rec.record(40_000 * Math.exp(0.6 * z));
  }
  return rec.drainCounts();
}
const typed = [drained(1), drained(2), drained(3)];
const plain = typed.map((c) => Array.from(c, (n) => (n < 2 ** 31 ? n | 0 : n)));
const snapshot = (histograms) => ({ shard: 0, interval: 7, tMs: 480_000, counters: new Array(80).fill(3), gauges: new Array(20).fill(1), histograms: [...histograms, null, null] });

function cpuPerClone(s) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) structuredClone(s);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / N;
}
const runs = { plain: [], typed: [] };
for (let r = 0; r < R; r++) {
  runs.plain.push(cpuPerClone(snapshot(plain)));
  runs.typed.push(cpuPerClone(snapshot(typed)));
}
const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
console.log(`histogram lengths ${typed.map((c) => c.length).join(', ')} (${SAMPLES} samples each)`);
console.log(`plain array:  ${median(runs.plain).toFixed(1)} µs CPU per snapshot clone (runs ${fmt(runs.plain)})`);
console.log(`Float64Array: ${median(runs.typed).toFixed(1)} µs CPU per snapshot clone (runs ${fmt(runs.typed)})`);
console.log(`ratio ${(median(runs.plain) / median(runs.typed)).toFixed(2)}x`);
