// Where a virtual-clock run's CPU goes, by thread: the coordinator (main thread), the shard
// workers, and V8's helper threads (optimizing compiles, concurrent GC). One fresh child process
// per run (bench/virtual-child.mjs), its threads' CPU read from /proc every 50 ms (Linux only);
// minor page faults and peak RSS from the child's resource usage. Runs of several simulated durations
// at one fleet size split the fixed cost of a run (start-up, JIT, the summary) from the cost per
// event: `1s` is almost all start-up and the end of the run.
//   DEVICES=500000 WORKERS=2 DURATIONS=1s,10m,1h,24h R=3 node bench/virtual-threads.mjs
// SNAPSHOT_EVERY (default 1m, as bench/virtual.mjs) sets the timeline rows' interval.
// ROOTS=/old/checkout,/new/checkout compares builds (each root built, with bench/virtual-child.mjs
// of its own): their runs alternate, so a busy minute of a shared box falls on both.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { envInt, machine, median } from './lib/common.mjs';
import { virtualFleetYaml } from './lib/virtual-fleet.mjs';

const DEVICES = envInt('DEVICES', 500_000);
const WORKERS = envInt('WORKERS', 2);
const R = envInt('R', 3);
const DURATIONS = (process.env.DURATIONS ?? '1s,1h,24h').split(',').filter(Boolean);
const SNAPSHOT_EVERY = process.env.SNAPSHOT_EVERY ?? '1m';
const here = path.dirname(new URL(import.meta.url).pathname);
const ROOTS = (process.env.ROOTS ?? path.resolve(here, '..')).split(',').filter(Boolean);
const TICK_MS = 50;

/** utime + stime of every thread of `pid` seen so far, in seconds, keyed by thread id (in order of first sight). */
function sampleThreads(pid, seen) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // the process has exited
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seen.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended between readdir and read: its last sample stands
    }
  }
}

function runOnce(root, file) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(root, 'bench/virtual-child.mjs'), file, String(WORKERS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const seen = new Map();
    const timer = setInterval(() => sampleThreads(p.pid, seen), TICK_MS);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.once('error', reject);
    p.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`virtual-child exited with ${code}: ${out.slice(-2000)}`));
      const res = JSON.parse(out.trim().split('\n').pop());
      // The first thread is the main thread; the WORKERS busiest others are the shards; the rest are V8's and libuv's helpers.
      const [main, ...others] = [...seen.values()];
      others.sort((a, b) => b - a);
      const workers = others.slice(0, WORKERS).reduce((a, b) => a + b, 0);
      const helpers = others.slice(WORKERS).reduce((a, b) => a + b, 0);
      resolve({ events: res.events, cpuS: res.cpuMs / 1000, mainS: main, workersS: workers, helpersS: helpers, maxRssMiB: res.maxRssKiB / 1024, minorFaults: res.minorFaults ?? NaN });
    });
  });
}

const tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-bench-threads-'));
console.log(JSON.stringify({ bench: 'virtual-threads', DEVICES, WORKERS, R, DURATIONS, SNAPSHOT_EVERY, ROOTS, machine: machine(), load: loadavg()[0] }));
const table = [];
try {
  for (const duration of DURATIONS) {
    const file = path.join(tmp, `${duration}.yaml`);
    writeFileSync(file, virtualFleetYaml({ devices: DEVICES, duration }).replace('snapshotEvery: 1m', `snapshotEvery: ${SNAPSHOT_EVERY}`));
    const runs = ROOTS.map(() => []);
    for (let r = 0; r < R; r++) {
      // Alternate the builds, each round starting with the other one.
      for (let k = 0; k < ROOTS.length; k++) {
        const b = (k + r) % ROOTS.length;
        const loadBefore = +loadavg()[0].toFixed(2);
        const x = await runOnce(ROOTS[b], file);
        runs[b].push(x);
        console.log(JSON.stringify({ duration, root: ROOTS[b], run: r + 1, ...x, loadBefore, loadAfter: +loadavg()[0].toFixed(2) }));
      }
    }
    runs.forEach((rs, b) => {
      const m = (k) => median(rs.map((x) => x[k]));
      table.push({ duration, root: ROOTS[b], events: m('events'), cpuS: m('cpuS'), mainS: m('mainS'), workersS: m('workersS'), helpersS: m('helpersS'), maxRssMiB: m('maxRssMiB'), minorFaults: m('minorFaults') });
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const f = (n, d = 2) => n.toFixed(d);
console.log(`\nmedians of ${R} runs, ${DEVICES.toLocaleString('en-US')} devices on ${WORKERS} workers (CPU-s)`);
console.log('| simulated | build | events | all threads | main | workers | V8 helpers | peak RSS MiB | page faults |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const t of table) console.log(`| ${t.duration} | ${t.root} | ${t.events.toLocaleString('en-US')} | ${f(t.cpuS)} | ${f(t.mainS)} | ${f(t.workersS)} | ${f(t.helpersS)} | ${f(t.maxRssMiB, 0)} | ${Number.isNaN(t.minorFaults) ? 'n/a' : t.minorFaults.toLocaleString('en-US')} |`);
console.log(JSON.stringify({ medians: table }));
