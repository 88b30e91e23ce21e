// Virtual clock, two builds side by side: CPU per device-event of the bench fleet (bench/virtual.mjs's
// YAML), old and new interleaved (A B A B ...), one fresh process per run, CPU of the whole process
// and per thread (coordinator main thread, the shard threads, V8's helper threads) from
// /proc/<pid>/task/*/stat. What a before/after of the virtual clock is judged by on a shared box.
// After `npm run build` here and in the baseline checkout:
//   BASELINE_DIST=/tmp/base PAIRS=3 DEVICES=20000 HOURS=24 WORKERS=1 node bench/virtual-ab.mjs
// BASELINE_DIST is the baseline checkout's root (it holds dist/ and bench/virtual-child.mjs).
// BASELINE_DIST=eager-acks runs this build against itself with every ack a queued event
// (RunOptions.eagerAcks): what deferring acks saves (engine/clock/deferred-events.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { CLK_TCK, envInt, machine, median } from './lib/common.mjs';
import { virtualFleetYaml } from './lib/virtual-fleet.mjs';

const PAIRS = envInt('PAIRS', 3);
const DEVICES = envInt('DEVICES', 20_000);
const HOURS = envInt('HOURS', 24);
const WORKERS = envInt('WORKERS', 1);
const here = path.dirname(new URL(import.meta.url).pathname);
const EAGER_ACKS = process.env.BASELINE_DIST === 'eager-acks';
const builds = { old: EAGER_ACKS ? path.join(here, '..') : process.env.BASELINE_DIST, new: path.join(here, '..') };
if (!builds.old) throw new Error('BASELINE_DIST: the root of a built baseline checkout, or eager-acks');

const yaml = virtualFleetYaml({ devices: DEVICES, duration: `${HOURS}h` });

/** One run of `root`'s bench/virtual-child.mjs; CPU per thread sampled every 50 ms (a thread's last reading before it exits). */
function run(root, file, eagerAcks) {
  return new Promise((resolve, reject) => {
    const env = eagerAcks ? { ...process.env, FLEETSIM_BENCH_EAGER_ACKS: '1' } : process.env;
    const p = spawn(process.execPath, [path.join(root, 'bench/virtual-child.mjs'), file, String(WORKERS)], { stdio: ['ignore', 'pipe', 'inherit'], env });
    const threads = new Map();
    const sample = () => {
      let tids = [];
      try {
        tids = readdirSync(`/proc/${p.pid}/task`);
      } catch {
        return;
      }
      for (const tid of tids) {
        try {
          const stat = readFileSync(`/proc/${p.pid}/task/${tid}/stat`, 'utf8');
          const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          threads.set(tid, (Number(f[11]) + Number(f[12])) / CLK_TCK);
        } catch {
          // the thread ended between the listing and the read
        }
      }
    };
    const timer = setInterval(sample, 50);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.once('error', reject);
    p.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`${root}: virtual-child exited with ${code}`));
      const r = JSON.parse(out.trim().split('\n').pop());
      // The shard threads are the busiest after the main thread; the rest are V8's and libuv's helpers.
      const others = [...threads].filter(([tid]) => tid !== String(p.pid)).map(([, s]) => s).sort((a, b) => b - a);
      const main = threads.get(String(p.pid)) ?? 0;
      const shards = others.slice(0, WORKERS).reduce((a, b) => a + b, 0);
      const cpuS = r.cpuMs / 1000;
      // wallS: load, run and summary in the child (what a user waits for, node's start-up aside).
      resolve({ events: r.events, acked: r.counters.acked, cpuS, main, shards, helpers: cpuS - main - shards, wallS: r.wallMs / 1000, usPerEvent: (cpuS * 1e6) / r.events, eventsPerCpuS: r.events / cpuS });
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-virtual-ab-'));
const file = path.join(dir, 'fleet.yaml');
writeFileSync(file, yaml);
console.log(JSON.stringify({ bench: 'virtual-ab', PAIRS, DEVICES, HOURS, WORKERS, builds, ...(EAGER_ACKS ? { old: 'this build, eagerAcks' } : {}), machine: machine() }));
const runs = { old: [], new: [] };
try {
  for (let i = 0; i < PAIRS; i++) {
    for (const side of ['old', 'new']) {
      const loadBefore = +loadavg()[0].toFixed(2);
      const r = await run(builds[side], file, EAGER_ACKS && side === 'old');
      const row = { pair: i + 1, side, ...r, loadBefore, loadAfter: +loadavg()[0].toFixed(2) };
      runs[side].push(row);
      console.log(JSON.stringify(row));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const ratios = runs.old.map((o, i) => o.cpuS / runs.new[i].cpuS);
const med = (side, k) => +median(runs[side].map((r) => r[k])).toFixed(3);
console.log(
  JSON.stringify({
    medians: Object.fromEntries(['old', 'new'].map((s) => [s, { cpuS: med(s, 'cpuS'), main: med(s, 'main'), shards: med(s, 'shards'), helpers: med(s, 'helpers'), wallS: med(s, 'wallS'), eventsPerCpuS: Math.round(med(s, 'eventsPerCpuS')) }])),
    perPairSpeedup: ratios.map((x) => +x.toFixed(3)),
    medianSpeedup: +median(ratios).toFixed(3),
    sameEvents: runs.old.every((o, i) => o.events === runs.new[i].events && o.acked === runs.new[i].acked),
  }),
);
