// Virtual clock, instructions per device-event: fleetsim and its SimPy peer (bench/virtual_simpy.py)
// counted by valgrind's cachegrind (Ir: instructions executed, every thread of the process).
//
// Why: CPU time on a shared box moves with the neighbours. The same fleetsim run here took 9.2 to
// 13.5 CPU-seconds within an hour (bench/RESULTS.md, "Instructions per device-event"), so a change
// worth a few per cent cannot be seen in CPU time without dozens of runs. The count of instructions
// does not depend on who else runs: two runs of one build differ by ~0.3 %. It is not time (a
// cache miss costs no instruction), so it complements the CPU-second bars and does not replace them.
//
// Marginal: each side runs twice, at two durations, and the figure is
// (Ir long - Ir short) / (events long - events short), which leaves out what does not grow with the
// run (node's start-up, module loading, most compilation). fleetsim runs on 1 worker with
// `node --single-threaded`: V8 then compiles and collects garbage on the thread that needs it, so
// the count repeats (with helper threads, compilation races the run and the count wanders by ~20 %).
//
// After `npm run build`, with valgrind installed (Debian: apt-get install -y valgrind):
//   node bench/virtual-instructions.mjs
//   DEVICES=100000 SHORT_H=2 LONG_H=5 SIMPY_DEVICES=2000 SIMPY_SHORT_H=6 SIMPY_LONG_H=18 R=1 node bench/virtual-instructions.mjs
// BASELINE_DIST=/path/to/other/checkout (built) also counts that build's fleetsim, for an A/B of a
// change by instructions; SIMPY=0 leaves the SimPy peer out. SNAPSHOT_EVERY=5h (one row) against the
// default 1m gives what the timeline rows cost.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { envInt, machine, median, valgrindVersion } from './lib/common.mjs';
import { simpyConfig } from './lib/simpy-config.mjs';
import { virtualFleetYaml } from './lib/virtual-fleet.mjs';

const DEVICES = envInt('DEVICES', 100_000);
const SHORT_H = envInt('SHORT_H', 2);
const LONG_H = envInt('LONG_H', 5);
const SIMPY_DEVICES = envInt('SIMPY_DEVICES', 2_000);
const SIMPY_SHORT_H = envInt('SIMPY_SHORT_H', 6);
const SIMPY_LONG_H = envInt('SIMPY_LONG_H', 18);
const R = envInt('R', 1);
const SIMPY = process.env.SIMPY !== '0';
// The timeline rows' interval (default 1m, as bench/virtual.mjs); a value as long as the runs leaves
// one row, so that the difference of two counts is what the rows cost.
const SNAPSHOT_EVERY = process.env.SNAPSHOT_EVERY ?? '1m';
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const here = path.dirname(new URL(import.meta.url).pathname);
const builds = { new: path.join(here, '..'), ...(process.env.BASELINE_DIST ? { old: process.env.BASELINE_DIST } : {}) };
if (LONG_H <= SHORT_H || SIMPY_LONG_H <= SIMPY_SHORT_H) throw new Error('LONG_H must be longer than SHORT_H (and SIMPY_LONG_H than SIMPY_SHORT_H)');

const valgrind = valgrindVersion();

/** Runs `argv` under cachegrind; resolves with the JSON its last stdout line holds and the instructions counted. */
function counted(argv) {
  return new Promise((resolve, reject) => {
    const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', '--smc-check=all', ...argv];
    const p = spawn('valgrind', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.once('error', reject);
    p.once('exit', (code) => {
      const ir = /I\s+refs:\s+([\d,]+)/.exec(err);
      if (code !== 0 || !ir) return reject(new Error(`valgrind ${argv.join(' ')} exited with ${code}: ${err.slice(-2000)}`));
      resolve({ ...JSON.parse(out.trim().split('\n').pop()), instructions: Number(ir[1].replaceAll(',', '')) });
    });
  });
}

const tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-bench-instructions-'));
const fleet = (devices, hours) => {
  const file = path.join(tmp, `fleet-${devices}-${hours}h.yaml`);
  writeFileSync(file, virtualFleetYaml({ devices, duration: `${hours}h` }).replace('snapshotEvery: 1m', `snapshotEvery: ${SNAPSHOT_EVERY}`));
  return file;
};
const fleetsimFiles = [fleet(DEVICES, SHORT_H), fleet(DEVICES, LONG_H)];
const simpyFiles = [fleet(SIMPY_DEVICES, SIMPY_SHORT_H), fleet(SIMPY_DEVICES, SIMPY_LONG_H)];

const sides = {
  ...Object.fromEntries(
    Object.entries(builds).map(([name, root]) => [
      `fleetsim-${name}`,
      (file) => counted([process.execPath, '--single-threaded', path.join(root, 'bench/virtual-child.mjs'), file, '1']),
    ]),
  ),
  ...(SIMPY ? { simpy: (file) => counted([PYTHON, path.join(here, 'virtual_simpy.py'), JSON.stringify(simpyConfig(file, 'counter'))]) } : {}),
};

console.log(JSON.stringify({ bench: 'virtual-instructions', DEVICES, SHORT_H, LONG_H, SIMPY_DEVICES, SIMPY_SHORT_H, SIMPY_LONG_H, SNAPSHOT_EVERY, R, builds, machine: { ...machine(), valgrind } }));
const marginal = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
try {
  for (let r = 0; r < R; r++) {
    for (const [side, run] of Object.entries(sides)) {
      const files = side === 'simpy' ? simpyFiles : fleetsimFiles;
      const loadBefore = +loadavg()[0].toFixed(2);
      // The short and the long run side by side: an instruction count does not depend on sharing the CPU.
      const [short, long] = await Promise.all(files.map((f) => run(f)));
      const perEvent = (long.instructions - short.instructions) / (long.events - short.events);
      marginal[side].push(perEvent);
      console.log(
        JSON.stringify({ run: r + 1, side, short: { events: short.events, instructions: short.instructions }, long: { events: long.events, instructions: long.instructions }, perEvent, loadBefore, loadAfter: +loadavg()[0].toFixed(2) }),
      );
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const med = Object.fromEntries(Object.entries(marginal).map(([k, xs]) => [k, median(xs)]));
console.log(`\ninstructions per device-event (marginal, median of ${R}):`);
for (const [side, xs] of Object.entries(marginal)) {
  const what = side === 'simpy' ? `SimPy ${fmt(SIMPY_DEVICES)} devices, rng counter, ${SIMPY_SHORT_H} -> ${SIMPY_LONG_H} h` : `${side} ${fmt(DEVICES)} devices on 1 worker, ${SHORT_H} -> ${LONG_H} h`;
  console.log(`  ${what}: ${fmt(med[side])} (runs: ${xs.map((x) => fmt(x)).join(', ')})`);
}
if (SIMPY) console.log(`  SimPy over fleetsim: ${fmt(med.simpy / med['fleetsim-new'], 1)}x fewer instructions per event in fleetsim`);
if (builds.old) console.log(`  this build over the baseline: ${fmt(med['fleetsim-new'] / med['fleetsim-old'], 4)} (below 1: fewer instructions)`);
console.log(JSON.stringify({ medians: med }));
