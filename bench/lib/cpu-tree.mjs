// CPU time of this process and everything it started, from /proc (Linux): for benches whose bar is
// CPU per unit of work across every thread of every process (worker threads, V8's GC and compiler
// threads, child processes such as brokers or a backend process), which a loaded box does not move.
import { readdirSync, readFileSync } from 'node:fs';
import { processCpuMs } from './common.mjs';
import { processTree } from './process-tree.mjs';

/** utime + stime of one thread of this process, ms (NaN when it is gone). */
function threadCpuMs(tid) {
  try {
    const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * A snapshot: `self` is this process's CPU over all its threads, exited ones included
 * (process.cpuUsage is getrusage(RUSAGE_SELF)); `threads` maps each live thread id to its CPU;
 * `children` sums the CPU of live descendant processes (each over all its threads).
 */
export function cpuSnapshot() {
  const u = process.cpuUsage();
  const threads = new Map();
  for (const t of readdirSync('/proc/self/task')) threads.set(Number(t), threadCpuMs(t));
  let children = 0;
  for (const p of processTree(process.pid)) if (p.pid !== process.pid) children += processCpuMs(p.pid) || 0;
  return { self: (u.user + u.system) / 1000, threads, children };
}

/**
 * CPU between two snapshots, ms: `total` (this process + descendants), `main` (the main thread),
 * `threads` (every other thread that ran, busiest first: worker threads, V8 helpers) and `children`.
 * Descendants that exited before `b` are not counted, so take `b` while they still run.
 */
export function cpuBetween(a, b) {
  const delta = (tid) => (b.threads.get(tid) ?? 0) - (a.threads.get(tid) ?? 0);
  const others = [...b.threads.keys()].filter((t) => t !== process.pid).map((t) => +delta(t).toFixed(0)).filter((ms) => ms > 0).sort((x, y) => y - x);
  const children = b.children - a.children;
  return { total: b.self - a.self + children, self: b.self - a.self, main: delta(process.pid), threads: others, children };
}
