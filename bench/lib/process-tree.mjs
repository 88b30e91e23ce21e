// Resident memory of a process tree, read from /proc (Linux): a run's coordinator, its shard
// processes and the Mosquitto brokers it started, told apart by command name.
import { readdirSync, readFileSync } from 'node:fs';

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const ppid = Number(s.slice(close + 2).split(' ')[1]);
    return { pid, comm, ppid };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** VmRSS of a process in bytes (0 when it is gone). */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Memory of a process, bytes: `rss` (VmRSS), `anon` (its private anonymous pages: heaps, buffers)
 * and `pss` (proportional set size: shared pages, such as the node binary every shard process
 * maps, divided among the processes sharing them, so a sum over processes counts them once).
 */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (re, text) => Number(re.exec(text)?.[1] ?? 0) * 1024;
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss: kb(/^VmRSS:\s+(\d+) kB/m, status), anon: kb(/^RssAnon:\s+(\d+) kB/m, status), pss: kb(/^Pss:\s+(\d+) kB/m, rollup) };
  } catch {
    return { rss: 0, anon: 0, pss: 0 };
  }
}

/** The process `root` and all its descendants, each with its command name and memory (memoryOf). */
export function processTree(root) {
  const all = [];
  for (const name of readdirSync('/proc')) if (/^\d+$/.test(name)) {
    const s = stat(Number(name));
    if (s) all.push(s);
  }
  const byParent = new Map();
  for (const s of all) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const out = [];
  const walk = (pid, depth) => {
    const self = all.find((s) => s.pid === pid);
    if (self) out.push({ ...self, depth, ...memoryOf(pid) });
    for (const c of byParent.get(pid) ?? []) walk(c.pid, depth + 1);
  };
  walk(root, 0);
  return out;
}

/** Memory the kernel could still give out, bytes (MemAvailable). */
export function memAvailableBytes() {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Kernel memory held by TCP socket buffers, bytes (/proc/net/sockstat "mem", in pages). */
export function tcpBufferBytes() {
  const m = /^TCP:.* mem (\d+)/m.exec(readFileSync('/proc/net/sockstat', 'utf8'));
  return m ? Number(m[1]) * 4096 : Number.NaN;
}
