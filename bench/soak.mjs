// Soak: does anything leak over a long run? `fleetsim run` holds N devices on the wall clock against
// local Mosquitto brokers for MINUTES, with reconnect churn (each device goes offline on its own,
// availability 90 %, so about 10 % of the fleet is offline at any time and devices keep cycling) and
// every broker killed and restarted every RESTART_MIN minutes. Every SAMPLE_S seconds it records,
// per process (coordinator with the embedded HTTP API, each shard process, each broker):
//   RSS and descriptors (open fds, of which sockets) from /proc;
//   V8 heap and event-loop delay (p50/p99/max over the interval) of every Node process and thread,
//     from bench/lib/soak-probe.mjs, loaded into each through NODE_OPTIONS=--import;
//   sockets in TIME_WAIT (they belong to no process) by the server port they involve: the
//     embedded HTTP API's, each broker's, and everything else on the machine.
//   CPU seconds per minute of each process, from /proc/<pid>/stat (its own work, whatever the
//     neighbours do: work that grows with time shows here even on a loaded box).
// Pass: no upward trend after the warm-up (bench/lib/trend.mjs states the test). Event-loop delay is
// judged on the trend the machine's load average does not explain (a neighbour's burst delays every
// timer on a shared box); its raw slope is printed beside it. After `npm run build`:
//   node bench/soak.mjs                                                   # 20,000 devices, 60 min
//   N=2000 MINUTES=6 RESTART_MIN=2 WARMUP_MIN=2 SAMPLE_S=15 node bench/soak.mjs   # short version
//   ANALYZE=/tmp/fleetsim-soak-XXXX node bench/soak.mjs   # judge a finished run's raw data again
// Knobs: N, MINUTES, RESTART_MIN (0 = no restarts), RESTART_DOWN_S (how long brokers stay down, 5),
// WARMUP_MIN (5), SAMPLE_S (60), BROKERS (ceil(N / 10,000)), PROCESSES (2), WORKERS (2), RATE
// power-ons per second (200), TELEMETRY_S (60), CHURN_DOWN_S mean offline time (60), OUT (a temp
// dir), FLEETSIM_CLI (default dist/cli/main.js; point it at a copy to keep rebuilding meanwhile).
// WORKERS = PROCESSES by default: each shard process then runs its one shard on its main thread
// (engine/hosting/process-host.ts), where the probe sees it (NODE_OPTIONS preloads skip worker threads).
// Broker restarts: the bench sends the broker SIGTERM, waits RESTART_DOWN_S and starts
// `mosquitto -c <same config>` itself on the same port; it stops its replacements when the run ends.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { envInt, gatewayFleetYaml, machine, processCpuMs, sleep, tcpTable } from './lib/common.mjs';
import { memoryOf, processTree } from './lib/process-tree.mjs';
import { trendVerdict, trendVerdictLoadAdjusted, REL_BOUND, FLOORS } from './lib/trend.mjs';

const N = envInt('N', 20_000);
const MINUTES = envInt('MINUTES', 60);
const RESTART_MIN = process.env.RESTART_MIN === '0' ? 0 : envInt('RESTART_MIN', 10);
const RESTART_DOWN_S = envInt('RESTART_DOWN_S', 5);
const WARMUP_MIN = envInt('WARMUP_MIN', 5);
const SAMPLE_S = envInt('SAMPLE_S', 60);
const BROKERS = envInt('BROKERS', Math.ceil(N / 10_000));
const PROCESSES = envInt('PROCESSES', 2);
const WORKERS = envInt('WORKERS', 2);
const RATE = envInt('RATE', 200);
const TELEMETRY_S = envInt('TELEMETRY_S', 60);
const CHURN_DOWN_S = envInt('CHURN_DOWN_S', 60);
const CLI = process.env.FLEETSIM_CLI ?? new URL('../dist/cli/main.js', import.meta.url).pathname;
const PROBE = new URL('./lib/soak-probe.mjs', import.meta.url).href;
// ANALYZE=<dir of an earlier run>: no run, only the analysis of that run's raw data.
const ANALYZE = process.env.ANALYZE;
const OUT = ANALYZE ?? process.env.OUT ?? mkdtempSync(path.join(os.tmpdir(), 'fleetsim-soak-'));
mkdirSync(OUT, { recursive: true });
const probeDir = path.join(OUT, 'probe');
mkdirSync(probeDir, { recursive: true });

const rampS = Math.ceil(N / RATE);
const durationS = MINUTES * 60;

function scenarioYaml() {
  return [
    ...gatewayFleetYaml({ name: 'soak', durationS, target: `{ mqtt: local-mosquitto, brokers: ${BROKERS} }`, devices: N, rate: RATE }),
    'behaviour:',
    `  telemetry: { every: ${TELEMETRY_S}s, jitter: 10%, size: 200B, qos: 1 }`,
    '  poll: { every: 5m, jitter: 10% }',
    '  keepalive: 60s',
    // About 10 % of the fleet offline at any time, each device cycling on its own.
    `  offline: { availability: 90%, downtime: { distribution: exponential, mean: ${CHURN_DOWN_S}s } }`,
    // A shared machine: a slow interval is recorded, not fatal to the soak.
    'options: { maxScheduleLag: 30s, snapshotEvery: 10s }',
  ].join('\n');
}

// ---- /proc readers -------------------------------------------------------------------------

function fdCounts(pid) {
  let fds = 0;
  let sockets = 0;
  const inodes = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      fds++;
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (link.startsWith('socket:[')) {
          sockets++;
          inodes.push(link.slice(8, -1));
        }
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone
  }
  return { fds, sockets, inodes };
}

/** CPU time (user + system) a process has used, in seconds; undefined when it is gone. */
function cpuSeconds(pid) {
  const ms = processCpuMs(pid);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

function brokerPort(pid) {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const conf = argv[argv.indexOf('-c') + 1];
    const m = /^listener (\d+) (\S+)/m.exec(readFileSync(conf, 'utf8'));
    return m ? { port: Number(m[1]), host: m[2], conf, exe: readlinkSync(`/proc/${pid}/exe`) } : undefined;
  } catch {
    return undefined;
  }
}

// ---- broker restarts -----------------------------------------------------------------------

/** Replacement brokers the bench started, by port. */
const replacements = new Map();
const brokerInfo = new Map(); // port -> { conf, host, exe }

function alive(pid) {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function canConnect(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function restartBroker(pid, port) {
  const info = brokerInfo.get(port);
  const t0 = Date.now();
  process.kill(pid, 'SIGTERM');
  while (alive(pid) && Date.now() - t0 < 10_000) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  await sleep(RESTART_DOWN_S * 1000);
  for (let attempt = 0; attempt < 20; attempt++) {
    const child = spawn(info.exe, ['-c', info.conf], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    const deadline = Date.now() + 5000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null) up = await canConnect(info.host, port);
    if (up) {
      replacements.set(port, { child, exited });
      return Date.now() - t0;
    }
    child.kill('SIGKILL');
    await exited;
    await sleep(500); // the port may still be held for a moment
  }
  throw new Error(`could not restart the broker on port ${port}`);
}

// ---- sampling ------------------------------------------------------------------------------

const samplesFile = path.join(OUT, 'samples.ndjson');
// Sample times are kept relative to the start; an analysis of an earlier run recovers its start
// from the first sample, which carries both.
const startedAt = ANALYZE ? firstSampleStart() : Date.now();

function firstSampleStart() {
  const first = JSON.parse(readFileSync(samplesFile, 'utf8').split('\n')[0]);
  return Date.parse(first.at) - first.t;
}

function sampleOnce(rootPid) {
  const tree = processTree(rootPid);
  const procs = [];
  const coord = tree.find((p) => p.depth === 0);
  if (coord) procs.push({ role: 'coordinator', ...coord });
  tree
    .filter((p) => p.depth === 1 && p.comm.startsWith('node'))
    .sort((a, b) => a.pid - b.pid)
    .forEach((p, i) => procs.push({ role: `shard-process-${i}`, ...p }));
  const brokerPids = tree.filter((p) => p.comm === 'mosquitto').map((p) => p.pid);
  for (const { child } of replacements.values()) if (child.exitCode === null) brokerPids.push(child.pid);
  for (const pid of brokerPids) {
    const b = brokerPort(pid);
    if (!b) continue;
    brokerInfo.set(b.port, b);
    procs.push({ role: `broker-${b.port}`, pid, port: b.port, ...memoryOf(pid) });
  }
  const table = tcpTable();
  const listenPorts = new Map(); // port -> role
  const rows = [];
  for (const p of procs) {
    const { fds, sockets, inodes } = fdCounts(p.pid);
    const mine = new Set(inodes);
    for (const r of table) if (r.state === '0A' && mine.has(r.inode)) listenPorts.set(r.local, p.role === 'coordinator' ? 'http' : p.role);
    rows.push({ role: p.role, pid: p.pid, rss: p.rss, fds, sockets, cpuS: cpuSeconds(p.pid) });
  }
  const timeWait = { other: 0 };
  for (const r of table) {
    if (r.state !== '06') continue;
    const role = listenPorts.get(r.local) ?? listenPorts.get(r.remote) ?? 'other';
    timeWait[role] = (timeWait[role] ?? 0) + 1;
  }
  const s = { t: Date.now() - startedAt, at: new Date().toISOString(), load: os.loadavg(), procs: rows, timeWait };
  appendFileSync(samplesFile, JSON.stringify(s) + '\n');
  return s;
}

function probeLines() {
  const out = [];
  for (const f of readdirSync(probeDir)) {
    for (const line of readFileSync(path.join(probeDir, f), 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

// ---- the run -------------------------------------------------------------------------------
let info;
let exitCode;
let restarts = [];
if (ANALYZE) {
  const read = (f, fallback) => (existsSync(path.join(OUT, f)) ? JSON.parse(readFileSync(path.join(OUT, f), 'utf8')) : fallback);
  info = read('info.json', { machine: machine(), load: undefined, N, MINUTES, RESTART_MIN, RESTART_DOWN_S, WARMUP_MIN, SAMPLE_S, BROKERS, PROCESSES, WORKERS, RATE, TELEMETRY_S, CHURN_DOWN_S, out: OUT, analyzedLater: true });
  ({ exitCode, restarts } = read('run-end.json', { exitCode: undefined, restarts: [] }));
} else {
  await runSoak();
}

async function runSoak() {

  const scenario = path.join(OUT, 'soak.yaml');
  writeFileSync(scenario, scenarioYaml());
  info = { machine: machine(), load: os.loadavg(), N, MINUTES, RESTART_MIN, RESTART_DOWN_S, WARMUP_MIN, SAMPLE_S, BROKERS, PROCESSES, WORKERS, RATE, TELEMETRY_S, CHURN_DOWN_S, out: OUT };
  console.error(`soak: ${JSON.stringify(info)}`);
  writeFileSync(path.join(OUT, 'info.json'), JSON.stringify(info));
  const nodeOptions = [process.env.NODE_OPTIONS, `--import=${PROBE}`].filter(Boolean).join(' ');
  const child = spawn(process.execPath, [CLI, 'run', scenario, '-q', '-o', path.join(OUT, 'reports'), '--workers', String(WORKERS), '--processes', String(PROCESSES)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions, FLEETSIM_SOAK_PROBE_DIR: probeDir, FLEETSIM_SOAK_PROBE_MS: String(SAMPLE_S * 1000) },
  });
  const log = path.join(OUT, 'run.log');
  child.stdout.on('data', (d) => appendFileSync(log, d));
  child.stderr.on('data', (d) => appendFileSync(log, d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r((exitCode = code ?? signal))));
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => child.kill(sig));

  let nextRestart = RESTART_MIN > 0 ? RESTART_MIN * 60_000 : Infinity;
  let nextSample = 0;
  while (exitCode === undefined) {
    const now = Date.now() - startedAt;
    if (now >= nextSample) {
      const s = sampleOnce(child.pid);
      nextSample += SAMPLE_S * 1000;
      console.error(`[${(s.t / 60_000).toFixed(1)} min] ${s.procs.map((p) => `${p.role} ${(p.rss / 2 ** 20).toFixed(0)}MiB ${p.fds}fd`).join(', ')}; TIME_WAIT ${JSON.stringify(s.timeWait)}`);
    }
    // No restart in the run's last 30 s: the replacement would only be stopped again.
    if (now >= nextRestart && now < durationS * 1000 - 30_000) {
      nextRestart += RESTART_MIN * 60_000;
      const brokers = processTree(child.pid).filter((p) => p.comm === 'mosquitto').map((p) => p.pid);
      for (const { child: c } of replacements.values()) if (c.exitCode === null) brokers.push(c.pid);
      const down = await Promise.all(
        brokers.map(async (pid) => {
          const port = brokerPort(pid)?.port;
          const old = replacements.get(port);
          const ms = await restartBroker(pid, port);
          if (old) await old.exited;
          return { port, ms };
        }),
      );
      restarts.push({ t: Date.now() - startedAt, brokers: down });
      console.error(`[${((Date.now() - startedAt) / 60_000).toFixed(1)} min] restarted brokers ${JSON.stringify(down)}`);
    }
    await Promise.race([exited, sleep(500)]);
  }
  await exited;
  for (const { child: c, exited: e } of replacements.values()) {
    if (c.exitCode === null) c.kill('SIGTERM');
    await e;
  }
  writeFileSync(path.join(OUT, 'run-end.json'), JSON.stringify({ exitCode, restarts }));
}

// ---- analysis ------------------------------------------------------------------------------

const samples = readFileSync(samplesFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const series = new Map(); // "role metric" -> points
const add = (role, metric, t, v, load) => {
  const k = `${role}\t${metric}`;
  if (!series.has(k)) series.set(k, []);
  series.get(k).push({ t, v, load });
};
// The machine's 1-minute load average nearest in time to t (ms since the start).
const loadAt = (t) => {
  let best;
  for (const s of samples) if (best === undefined || Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
  return best?.load?.[0];
};
const lastCpu = new Map(); // pid -> { t, cpuS }
const roleOfPid = new Map();
for (const s of samples) {
  for (const p of s.procs) {
    roleOfPid.set(p.pid, p.role);
    add(p.role, 'rss', s.t, p.rss);
    add(p.role, 'fds', s.t, p.fds);
    add(p.role, 'sockets', s.t, p.sockets);
    // CPU per minute between two samples of the same process (a restarted broker is a new pid).
    const prev = lastCpu.get(p.pid);
    if (p.cpuS !== undefined && prev && s.t > prev.t) add(p.role, 'cpuSecPerMin', s.t, ((p.cpuS - prev.cpuS) * 60_000) / (s.t - prev.t));
    if (p.cpuS !== undefined) lastCpu.set(p.pid, { t: s.t, cpuS: p.cpuS });
  }
  for (const [role, n] of Object.entries(s.timeWait)) add(role === 'http' || role.startsWith('broker') || role === 'other' ? role : role, 'timeWait', s.t, n);
}
for (const l of probeLines()) {
  const role = roleOfPid.get(l.pid) ?? `pid-${l.pid}`;
  const who = l.main ? role : `${role}/thread-${l.threadId}`;
  add(who, 'heapUsed', l.at - startedAt, l.heapUsed);
  add(who, 'loopDelayP99', l.at - startedAt, l.loopDelayMs.p99, loadAt(l.at - startedAt));
}
// One CSV line per process per sample, for RESULTS.md's raw data: the /proc figures of the sample
// and the probe's line of the same process nearest in time (within one sampling interval).
{
  const probes = probeLines();
  const nearestProbe = (pid, at) => {
    let best;
    for (const l of probes) if (l.pid === pid && l.main && Math.abs(l.at - at) <= SAMPLE_S * 1000 && (!best || Math.abs(l.at - at) < Math.abs(best.at - at))) best = l;
    return best;
  };
  const mib = (b) => (b === undefined ? '' : (b / 2 ** 20).toFixed(1));
  const rows = ['minute,load1,process,pid,rss_mib,fds,sockets,cpu_s,heap_used_mib,loop_delay_p50_ms,loop_delay_p99_ms,loop_delay_max_ms,time_wait_on_its_port'];
  for (const s of samples) {
    const at = startedAt + s.t;
    const minute = (s.t / 60_000).toFixed(2);
    for (const p of s.procs) {
      const l = nearestProbe(p.pid, at);
      const tw = s.timeWait[p.role === 'coordinator' ? 'http' : p.role] ?? '';
      rows.push([minute, s.load[0], p.role, p.pid, mib(p.rss), p.fds, p.sockets, p.cpuS ?? '', mib(l?.heapUsed), l?.loopDelayMs.p50 ?? '', l?.loopDelayMs.p99 ?? '', l?.loopDelayMs.max ?? '', tw].join(','));
    }
    rows.push([minute, s.load[0], 'machine (other TIME_WAIT)', '', '', '', '', '', '', '', '', '', s.timeWait.other ?? 0].join(','));
  }
  writeFileSync(path.join(OUT, 'samples.csv'), rows.join('\n') + '\n');
}
const verdicts = [];
for (const [k, points] of series) {
  const [role, metric] = k.split('\t');
  const judge = metric === 'loopDelayP99' ? trendVerdictLoadAdjusted : trendVerdict;
  verdicts.push({ role, metric, ...judge(points, metric, WARMUP_MIN * 60_000), first: points[0]?.v, last: points[points.length - 1]?.v });
}
// The machine-wide remainder of TIME_WAIT is other people's traffic on a shared box: shown, not judged.
const judged = verdicts.filter((v) => v.role !== 'other' && v.verdict !== 'too few samples');
const reportDir = existsSync(path.join(OUT, 'reports')) ? readdirSync(path.join(OUT, 'reports')).find((d) => !d.startsWith('.')) : undefined;
let summary;
try {
  summary = JSON.parse(readFileSync(path.join(OUT, 'reports', reportDir, 'summary.json'), 'utf8'));
} catch {
  summary = undefined;
}
const leftover = replacements.size > 0 ? [...replacements.values()].filter(({ child: c }) => c.exitCode === null).length : 0;
const result = {
  ...info,
  loadAfter: os.loadavg(),
  exitCode,
  verdict: summary?.result?.verdict,
  counters: summary && {
    connects: summary.counters['mqtt.connect.ok'],
    reconnects: summary.counters['mqtt.reconnects'],
    connectionLost: summary.counters['mqtt.connection_lost'],
    connectFailed: summary.counters['mqtt.connect.failed'],
    telemetrySent: summary.counters['telemetry.sent'],
    telemetryAcked: summary.counters['telemetry.acked'],
  },
  restarts,
  leftoverBrokers: leftover,
  pass: judged.length > 0 && judged.every((v) => v.verdict === 'flat'),
  test: `least-squares slope after ${WARMUP_MIN} min; growth = slope x window must be <= max(${REL_BOUND * 100}% of the window mean, floor ${JSON.stringify(FLOORS)}); loopDelayP99 is judged on its slope after the machine's 1-min load average is regressed out (v = a + b·t + c·load), its raw slope shown beside it`,
  verdicts,
};
// An analysis of an earlier run keeps that run's own result.json.
writeFileSync(path.join(OUT, ANALYZE ? 'result-analyzed.json' : 'result.json'), JSON.stringify(result, null, 2));

const fmt = (metric, v) => {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (metric === 'rss' || metric === 'heapUsed') return `${(v / 2 ** 20).toFixed(1)} MiB`;
  if (metric === 'loopDelayP99') return `${v.toFixed(1)} ms`;
  return v.toFixed(metric === 'timeWait' || metric === 'fds' || metric === 'sockets' ? 1 : 3);
};
console.log(`\n| process | metric | samples | mean | slope/min | growth over window | bound | verdict |\n|---|---|---|---|---|---|---|---|`);
const rawNote = (v) => (v.rawSlopePerMin === undefined ? '' : ` (raw ${fmt(v.metric, v.rawSlopePerMin)}/min, ${v.perLoad.toFixed(1)} ms per unit of load)`);
for (const v of verdicts.sort((a, b) => a.role.localeCompare(b.role) || a.metric.localeCompare(b.metric))) {
  console.log(`| ${v.role} | ${v.metric} | ${v.samples} | ${fmt(v.metric, v.mean)} | ${fmt(v.metric, v.slopePerMin)}${rawNote(v)} | ${fmt(v.metric, v.growth)} | ${fmt(v.metric, v.bound)} | ${v.verdict} |`);
}
console.log(`\nexit ${exitCode}, verdict ${result.verdict}, restarts ${restarts.length}, pass ${result.pass}; raw data in ${OUT}`);
process.exitCode = result.pass ? 0 : 1;
