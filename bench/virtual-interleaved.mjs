// Virtual clock, two builds in one process on one thread, their event loops interleaved: shard CPU
// per device-event of each. Each build's scenario runs on an inline shard (no worker thread), both
// runs at once under `node --single-threaded`; a shard yields between its run slices, so the two
// take turns every few milliseconds and a busy neighbour slows both alike. The CPU of every slice
// (VirtualScheduler.runFor, wrapped here from the outside) is added to its build's total; the
// coordinators' work between slices is not counted. Slices before simulated hour 1 are left out
// (JIT warm-up, the power-on burst).
// Biases were found running a build against a copy of itself (bench/RESULTS.md, round 19): ~5 %
// between the same code loaded from two folders, or loaded first and last. Each build is therefore
// loaded from two folders, one early and one late, and the runs go through the four combinations of
// which copy of each build runs and which starts first: use a multiple of 4 runs.
// After `npm run build` here and in the baseline checkout:
//   BASELINE_DIST=/tmp/base RUNS=8 DEVICES=250000 HOURS=6 node --single-threaded bench/virtual-interleaved.mjs
// BASELINE_DIST is the baseline checkout's root (it holds dist/).
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { envInt, machine, median } from './lib/common.mjs';
import { virtualFleetYaml } from './lib/virtual-fleet.mjs';

const RUNS = envInt('RUNS', 8);
const DEVICES = envInt('DEVICES', 250_000);
const HOURS = envInt('HOURS', 12);
const SKIP_MS = 3_600_000;
const here = path.dirname(new URL(import.meta.url).pathname);
const roots = { old: process.env.BASELINE_DIST, new: path.join(here, '..') };
if (!roots.old) throw new Error('BASELINE_DIST: the root of a built baseline checkout');
if (!process.execArgv.includes('--single-threaded')) throw new Error('run under node --single-threaded (V8 helper threads would do GC and compilation off the measured thread)');

/** Build `root`'s modules, with its scheduler's run slices timed into `acc`. */
async function load(root, acc) {
  const dist = path.join(root, 'dist');
  const { VirtualScheduler } = await import(path.join(dist, 'engine/clock/virtual-scheduler.js'));
  const { loadScenario } = await import(path.join(dist, 'scenario/load.js'));
  const { runScenario } = await import(path.join(dist, 'engine/coordinator.js'));
  const { InlineShards } = await import(path.join(dist, 'engine/hosting/inline-shards.js'));
  const runFor = VirtualScheduler.prototype.runFor;
  VirtualScheduler.prototype.runFor = function timedRunFor(untilMs, maxEvents) {
    const e0 = this.processed;
    const c0 = process.cpuUsage();
    const done = runFor.call(this, untilMs, maxEvents);
    const c = process.cpuUsage(c0);
    if (this.now() >= SKIP_MS) {
      acc.cpuUs += c.user + c.system;
      acc.events += this.processed - e0;
      acc.slices++;
    }
    return done;
  };
  return (file) => runScenario(loadScenario(file), { workers: 1, runId: 'bench-interleaved', launch: () => new InlineShards() });
}

/** A copy of `root`'s dist/ in `dir`, beside links to the rest of the checkout (profiles, node_modules, ...). */
function copyBuild(root, dir) {
  mkdirSync(dir);
  for (const name of readdirSync(root)) {
    if (name === 'dist') cpSync(path.join(root, name), path.join(dir, name), { recursive: true });
    else symlinkSync(path.join(root, name), path.join(dir, name));
  }
  return dir;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-bench-interleaved-'));
const file = path.join(tmp, 'fleet.yaml');
writeFileSync(file, virtualFleetYaml({ devices: DEVICES, duration: `${HOURS}h` }));
const acc = { old: { cpuUs: 0, events: 0, slices: 0 }, new: { cpuUs: 0, events: 0, slices: 0 } };
// run[build][folder]: each build loaded from two folders, a module instance each, in the order
// old 0, new 1, new 0, old 1: each build has one of the first two instances loaded and one of the last two.
const run = { old: [], new: [] };
for (const [b, f] of [['old', 0], ['new', 1], ['new', 0], ['old', 1]]) run[b][f] = await load(copyBuild(roots[b], path.join(tmp, `${b}-${f}`)), acc[b]);
console.log(JSON.stringify({ bench: 'virtual-interleaved', RUNS, DEVICES, HOURS, roots, machine: machine() }));

const rows = [];
try {
  for (let r = 0; r < RUNS; r++) {
    for (const a of Object.values(acc)) Object.assign(a, { cpuUs: 0, events: 0, slices: 0 });
    const order = r % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
    // Runs 1-2: old from folder 0, new from folder 1; runs 3-4 the other way round; and so on.
    const folder = { old: (r >> 1) & 1, new: 1 - ((r >> 1) & 1) };
    const loadBefore = +loadavg()[0].toFixed(2);
    const results = await Promise.all(order.map((b) => run[b][folder[b]](file)));
    const loadAfter = +loadavg()[0].toFixed(2);
    if (results[0].summary.run.events !== results[1].summary.run.events) throw new Error('the two builds ran different numbers of events');
    const ns = Object.fromEntries(Object.entries(acc).map(([b, a]) => [b, (a.cpuUs * 1000) / a.events]));
    const row = { run: r + 1, first: order[0], oldFolder: folder.old, nsPerEventOld: +ns.old.toFixed(1), nsPerEventNew: +ns.new.toFixed(1), ratio: +(ns.new / ns.old).toFixed(3), slices: [acc.old.slices, acc.new.slices], events: results[0].summary.run.events, loadBefore, loadAfter };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const lower = rows.filter((x) => x.ratio < 1).length;
console.log(`\nshard CPU per device-event, new over old: ${rows.map((x) => x.ratio.toFixed(3)).join(', ')}; median ${median(rows.map((x) => x.ratio)).toFixed(3)} (lower in ${lower} of ${rows.length})`);
console.log(`ns per event: old ${median(rows.map((x) => x.nsPerEventOld)).toFixed(1)}, new ${median(rows.map((x) => x.nsPerEventNew)).toFixed(1)} (medians)`);
