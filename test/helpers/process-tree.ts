import { existsSync, readFileSync, readdirSync } from 'node:fs';

/**
 * What a process left behind, read from /proc (Linux): its descendants with their command names,
 * and the TCP ports something listens on. For tests that check a run ends clean.
 */

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** The command line, NUL-separated arguments joined with spaces. */
  cmdline: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (state === 'Z') return undefined; // exited, waiting to be reaped: nothing of it runs
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close), cmdline };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** Every live descendant of `root` (not `root` itself). */
export function descendants(root: number): ProcInfo[] {
  const all = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => procInfo(Number(n)))
    .filter((p): p is ProcInfo => p !== undefined);
  const out: ProcInfo[] = [];
  const walk = (pid: number) => {
    for (const c of all) {
      if (c.ppid === pid) {
        out.push(c);
        walk(c.pid);
      }
    }
  };
  walk(root);
  return out;
}

/** True while a process with this pid runs (a zombie does not). */
export function alive(pid: number): boolean {
  return procInfo(pid) !== undefined;
}

/** Local ports in LISTEN state on this machine (IPv4 and IPv6). */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c[3] === '0A') ports.add(parseInt(c[1].split(':')[1], 16));
    }
  }
  return ports;
}
