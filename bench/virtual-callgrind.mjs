// Virtual clock: where one device-event's instructions go, by compiled JavaScript function (or by
// source line), counted by valgrind's callgrind. With BRANCHES=1 callgrind also simulates a branch
// predictor and counts mispredicted conditional branches (Bcm) per function.
//
// How: the bench fleet (bench/lib/virtual-fleet.mjs) runs twice, at two durations, under
// `callgrind --dump-instr=yes` and `node --single-threaded --perf-prof`: valgrind counts every
// instruction by address, and V8's jitdump (bench/lib/jitdump.mjs) names the optimized code at each
// address, with the source line of each instruction. The difference of the two runs over the
// difference of their events is what one more event costs (start-up, loading and most compiling
// drop out), as in bench/virtual-instructions.mjs, whose totals this splits.
//
// Two cautions when reading it:
// - V8 inlines: a function's row holds the code inlined into it, and a line number may be of an
//   inlined function in another file (V8 names the outer script with it).
// - Counts are not time. valgrind's branch predictor is simpler than a real CPU's: a change that
//   took mispredictions out here did not make the bench box faster (bench/RESULTS.md, issue 17
//   round 26), so confirm with CPU time side by side (bench/virtual-threads.mjs ROOTS=…).
//
// After `npm run build`, with valgrind installed (Debian: apt-get install -y valgrind):
//   node bench/virtual-callgrind.mjs
//   DEVICES=100000 SHORT_H=2 LONG_H=6 BRANCHES=1 BY=line TOP=60 node bench/virtual-callgrind.mjs
// BASELINE_DIST=/path/to/other/checkout (built) profiles that build too and prints both side by side.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { envInt, machine, valgrindVersion } from './lib/common.mjs';
import { selfCosts } from './lib/callgrind-costs.mjs';
import { codeNamer, readJitdump } from './lib/jitdump.mjs';
import { virtualFleetYaml } from './lib/virtual-fleet.mjs';

const DEVICES = envInt('DEVICES', 100_000);
const SHORT_H = envInt('SHORT_H', 2);
const LONG_H = envInt('LONG_H', 6);
const TOP = envInt('TOP', 30);
const BRANCHES = process.env.BRANCHES === '1';
const BY = process.env.BY === 'line' ? 'line' : 'function';
const here = path.dirname(new URL(import.meta.url).pathname);
const builds = { this: path.join(here, '..'), ...(process.env.BASELINE_DIST ? { baseline: process.env.BASELINE_DIST } : {}) };
if (LONG_H <= SHORT_H) throw new Error('LONG_H must be longer than SHORT_H');

const valgrind = valgrindVersion();

const tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-bench-callgrind-'));

/** One profiled run in a directory of its own (V8 writes the jitdump to the working directory). */
function profiled(root, hours) {
  const dir = path.join(tmp, `${path.basename(root)}-${hours}h-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  const fleet = path.join(dir, 'fleet.yaml');
  writeFileSync(fleet, virtualFleetYaml({ devices: DEVICES, duration: `${hours}h` }));
  const out = path.join(dir, 'callgrind.out');
  const args = ['--tool=callgrind', '--dump-instr=yes', '--smc-check=all', `--callgrind-out-file=${out}`, ...(BRANCHES ? ['--branch-sim=yes'] : [])];
  args.push(process.execPath, '--single-threaded', '--perf-prof', path.join(root, 'bench/virtual-child.mjs'), fleet, '1');
  return new Promise((resolve, reject) => {
    const p = spawn('valgrind', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.once('error', reject);
    p.once('exit', async (code) => {
      try {
        if (code !== 0) throw new Error(`valgrind ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`);
        const run = JSON.parse(stdout.trim().split('\n').pop());
        const dump = readdirSync(dir).find((f) => /^jit-\d+\.dump$/.test(f));
        if (!dump) throw new Error(`no jitdump in ${dir}: is this node built with --perf-prof support?`);
        const name = codeNamer(readJitdump(path.join(dir, dump)), BY === 'line');
        resolve({ deviceEvents: run.events, ...(await selfCosts(out, name)) });
      } catch (e) {
        reject(e);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** Per device-event of the long run over the short: { names, total: [..], rows: Map(location -> [..]) }. */
function marginal(short, long) {
  const de = long.deviceEvents - short.deviceEvents;
  const rows = new Map();
  for (const key of new Set([...short.self.keys(), ...long.self.keys()])) {
    const a = short.self.get(key);
    const b = long.self.get(key);
    rows.set(
      key.replace(/file:\/\/\/\S*?\/dist\//, ''),
      long.names.map((_, i) => ((b?.[i] ?? 0) - (a?.[i] ?? 0)) / de),
    );
  }
  return { names: long.names, total: long.total.map((t, i) => (t - short.total[i]) / de), rows };
}

console.log(JSON.stringify({ bench: 'virtual-callgrind', DEVICES, SHORT_H, LONG_H, BRANCHES, BY, builds, machine: { ...machine(), valgrind } }));
const results = {};
try {
  for (const [build, root] of Object.entries(builds)) {
    const loadBefore = +loadavg()[0].toFixed(2);
    // Side by side: a count does not depend on sharing the CPU.
    const [short, long] = await Promise.all([profiled(root, SHORT_H), profiled(root, LONG_H)]);
    results[build] = marginal(short, long);
    console.log(JSON.stringify({ build, short: short.deviceEvents, long: long.deviceEvents, loadBefore, loadAfter: +loadavg()[0].toFixed(2) }));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const shown = ['Ir', 'Bc', 'Bcm'].filter((e) => results.this.names.includes(e));
const fmt = (x) => x.toFixed(1).padStart(8);
for (const [build, r] of Object.entries(results)) {
  console.log(`\n${build} (${builds[build]}): per device-event, ${DEVICES.toLocaleString('en-US')} devices on 1 worker, ${SHORT_H} -> ${LONG_H} h`);
  console.log(`  all: ${shown.map((e) => `${e} ${r.total[r.names.indexOf(e)].toFixed(1)}`).join(', ')}`);
  console.log(`${shown.map((e) => e.padStart(8)).join('')}  ${BY}`);
  const iIr = r.names.indexOf('Ir');
  for (const [key, v] of [...r.rows].sort((x, y) => y[1][iIr] - x[1][iIr]).slice(0, TOP)) {
    console.log(`${shown.map((e) => fmt(v[r.names.indexOf(e)])).join('')}  ${key.slice(0, 110)}`);
  }
}
console.log(JSON.stringify({ totals: Object.fromEntries(Object.entries(results).map(([b, r]) => [b, Object.fromEntries(r.names.map((n, i) => [n, r.total[i]]))])) }));
