// CPU and bytes per timeline-row histogram encoding (IntervalCounts.encode on the coordinator), two
// builds side by side in one process, rounds alternating (A B A B ...). What the encoding's
// deflate strategy is judged by: the same rows, the same counts, CPU per encode from
// process.cpuUsage and the encoded size.
// After `npm run build` here and in the baseline checkout:
//   BASELINE_DIST=/path/to/old/dist ROUNDS=5 ROWS=1440 node bench/row-encoding.mjs
// Rows: five histograms each, as the bench fleet's rows have (bench/virtual.mjs): a lognormal
// latency around 8 ms with a heavy tail, the connect latency, and a "from schedule" latency with a
// few samples hours late; sample counts per row drawn from 50 to 3,000 (a 20,000-device fleet
// reporting every 15 minutes acks ~1,300 a minute). Deterministic: counter-based draws.
import { inflateSync } from 'node:zlib';
import { loadavg } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { envInt, machine, median } from './lib/common.mjs';

const ROUNDS = envInt('ROUNDS', 5);
const ROWS = envInt('ROWS', 1440);
const here = path.dirname(new URL(import.meta.url).pathname);
const dists = { old: process.env.BASELINE_DIST, new: path.join(here, '..', 'dist') };
if (!dists.old) throw new Error('BASELINE_DIST: a built baseline dist/ folder');

async function load(dist) {
  const at = (f) => pathToFileURL(path.join(dist, f)).href;
  const { IntervalCounts } = await import(at('metrics/interval-counts.js'));
  const { HdrRecorder, decodeHistogram, histogramStats } = await import(at('metrics/histogram.js'));
  const { uniform, standardNormal } = await import(at('models/rng.js'));
  return { IntervalCounts, HdrRecorder, decodeHistogram, histogramStats, uniform, standardNormal };
}
const builds = { old: await load(dists.old), new: await load(dists.new) };

// The rows' counts, made once with the new build's recorder (drainCounts' format is the same in both).
const { HdrRecorder, uniform, standardNormal } = builds.new;
const normal = (seed, i, k) => standardNormal(uniform(seed, i, k, 0), uniform(seed, i, k + 1, 0));
const shapes = [
  (s, i) => 8_000 * Math.exp(0.9 * normal(s, i, 2)),
  (s, i) => 15_000 * Math.exp(1.1 * normal(s, i, 4)),
  (s, i) => (uniform(s, i, 6, 0) < 0.02 ? 3.6e9 * uniform(s, i, 7, 0) : 8_000 * Math.exp(0.9 * normal(s, i, 2))),
  (s, i) => 9_000 * Math.exp(0.9 * normal(s, i, 8)),
  (s, i) => 60_000 * Math.exp(1.5 * normal(s, i, 10)),
];
const rows = [];
for (let r = 0; r < ROWS; r++) {
  const samples = 50 + Math.floor(uniform(99, r, 0, 0) * 2_950);
  rows.push(
    shapes.map((shape, h) => {
      const rec = new HdrRecorder();
      for (let i = 0; i < samples; i++) rec.record(shape(r * 10 + h, i));
      return rec.drainCounts();
    }),
  );
}

/** Encodes every row's histograms once; CPU µs per encode and bytes per encoding (base64 decoded). */
function round(build) {
  const ic = new build.IntervalCounts();
  let bytes = 0;
  let n = 0;
  const t0 = process.cpuUsage();
  for (const row of rows) {
    for (const counts of row) {
      ic.clear();
      ic.add(counts);
      bytes += (ic.encode().length * 3) / 4;
      n++;
    }
  }
  const t = process.cpuUsage(t0);
  return { usPerEncode: (t.user + t.system) / n, bytesPerEncoding: bytes / n, encodes: n };
}

// Both builds decode to the same histogram, and their encodings hold the same bytes once inflated.
for (const counts of rows[7]) {
  const a = new builds.old.IntervalCounts();
  const b = new builds.new.IntervalCounts();
  a.add(counts);
  b.add(counts);
  const ea = a.encode();
  const eb = b.encode();
  const raw = (e) => inflateSync(Buffer.from(e, 'base64').subarray(8));
  if (Buffer.compare(raw(ea), raw(eb)) !== 0) throw new Error('the builds encode different histograms');
  const sa = JSON.stringify(builds.new.histogramStats(builds.new.decodeHistogram(ea)));
  const sb = JSON.stringify(builds.new.histogramStats(builds.new.decodeHistogram(eb)));
  if (sa !== sb) throw new Error('the encodings decode differently');
}

console.log(JSON.stringify({ bench: 'row-encoding', ROUNDS, ROWS, machine: machine(), load: loadavg().map((x) => +x.toFixed(2)) }));
// One warm-up round each (compiles), not counted.
round(builds.old);
round(builds.new);
const runs = { old: [], new: [] };
for (let k = 0; k < ROUNDS; k++) {
  const order = k % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
  for (const side of order) {
    const r = round(builds[side]);
    runs[side].push(r);
    console.log(`round ${k + 1} ${side}: ${r.usPerEncode.toFixed(2)} µs CPU per encode, ${r.bytesPerEncoding.toFixed(1)} bytes per encoding (${r.encodes} encodes)`);
  }
}
const med = (side, key) => median(runs[side].map((r) => r[key]));
const ratios = runs.old.map((r, k) => r.usPerEncode / runs.new[k].usPerEncode);
console.log(
  JSON.stringify({
    old: { usPerEncode: +med('old', 'usPerEncode').toFixed(2), bytesPerEncoding: +med('old', 'bytesPerEncoding').toFixed(1) },
    new: { usPerEncode: +med('new', 'usPerEncode').toFixed(2), bytesPerEncoding: +med('new', 'bytesPerEncoding').toFixed(1) },
    oldOverNewPerRound: ratios.map((x) => +x.toFixed(3)),
    medianOldOverNew: +median(ratios).toFixed(3),
    loadAfter: loadavg().map((x) => +x.toFixed(2)),
  }),
);
