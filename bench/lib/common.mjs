// Shared plumbing for the benchmarks: child processes, medians, machine description.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function envInt(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

/** Runs `node [nodeArgs] script args` and returns the JSON object printed on its last stdout line. */
export function runChild(script, args, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited with ${code ?? signal}: ${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} printed no JSON result: ${out.slice(-2000)}`));
      }
    });
  });
}

/** valgrind's version; without valgrind, says how to install it and exits 2 (the benches that count instructions need it). */
export function valgrindVersion() {
  try {
    return execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    console.error('valgrind is not installed: apt-get install -y valgrind (Debian), then run this again.');
    process.exit(2);
  }
}

export function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let mosquitto = 'unknown';
  try {
    mosquitto = execFileSync('mosquitto', ['-h'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/usr/local/sbin` } })
      .split('\n')[0];
  } catch (err) {
    // mosquitto -h exits non-zero on some versions but still prints its version
    mosquitto = String(err.stdout ?? '').split('\n')[0] || 'unknown';
  }
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    mosquitto,
    date: new Date().toISOString(),
  };
}

/** Runs `start()` with at most `limit` outstanding; `start(i, done)` must call done() exactly once. */
export function limitedLoop(total, limit, start) {
  return new Promise((resolve) => {
    let next = 0;
    let finished = 0;
    const done = () => {
      finished++;
      if (finished === total) resolve();
      else if (next < total) start(next++, done);
    };
    if (total === 0) return resolve();
    while (next < total && next < limit) start(next++, done);
  });
}

/** The kernel's count of connections dropped because a listen queue was full (Linux only, else 0). */
export function listenOverflows() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    return Number(values[names.indexOf('ListenOverflows')]) || 0;
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux unless getconf says otherwise). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux only, else NaN). */
export function processCpuMs(pid) {
  try {
    // Fields after the command name (which may contain spaces) start at the closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Medians of connect-child results (bench/connect.mjs, bench/tls.mjs): rate, memory per device, certificate cost, failures summed. */
export function connectMedians(rs) {
  return {
    rate: median(rs.map((x) => x.connectsPerSec)),
    rss: median(rs.map((x) => x.rssPerDeviceBytes)),
    marginalRss: median(rs.map((x) => x.marginalRssPerDeviceBytes)),
    heap: median(rs.map((x) => x.heapPerDeviceBytes)),
    ext: median(rs.map((x) => x.externalPerDeviceBytes)),
    certUs: median(rs.map((x) => x.certUs ?? 0)),
    contextUs: median(rs.map((x) => x.contextUs ?? 0)),
    clientCpuUs: median(rs.map((x) => x.clientCpuUsPerConnect ?? 0)),
    brokerCpuUs: median(rs.map((x) => x.brokerCpuUsPerConnect ?? 0)),
    failed: rs.reduce((a, x) => a + x.failed, 0),
  };
}

/**
 * The head of a bench scenario: `devices` Raspberry Pi gateways on ethernet against `target` (a
 * scenario target: `embedded`, or `{ mqtt: local-mosquitto, brokers: N }`), powered on at `rate`
 * per second, for `durationS` (bench/connected.mjs, bench/soak.mjs add behaviour and options).
 */
export function gatewayFleetYaml({ name, durationS, target, devices, rate }) {
  return [
    `name: ${name}`,
    'seed: 1',
    `duration: ${durationS}s`,
    `target: ${target}`,
    'fleet:',
    `  - { profile: rpi4-gateway, count: ${devices}, link: ethernet }`,
    `arrival: { rate: ${rate}/s }`,
  ];
}

/** Every TCP socket of the machine (IPv4 and IPv6): state (hex; '06' is TIME_WAIT), local and remote port, inode. */
export function tcpTable() {
  const rows = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue; // no IPv6 on this machine
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 10) continue;
      rows.push({ local: parseInt(c[1].split(':')[1], 16), remote: parseInt(c[2].split(':')[1], 16), state: c[3], inode: c[9] });
    }
  }
  return rows;
}
