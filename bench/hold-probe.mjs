// Hold probe: user and system CPU, context switches (every thread) and TCP segments of a running
// `fleetsim run`'s shard processes and Mosquitto brokers over a window, per telemetry message.
// Attach it to a bench already in its hold (bench/RESULTS.md, "Shard CPU per message at
// density, round 7"):
//   N=38000 PROCESSES=2 BROKERS=2 RATE=1200 HOLD=150 SLACK=1.3 TELEMETRY=1m node bench/connected.mjs &
//   node bench/hold-probe.mjs <pid of connected.mjs> <delay s> <window s> <messages per s>
// The tree under the pid is walked for `fleetsim run` (node .../cli/main.js run), its node
// children (shard processes) and mosquitto children. TCP segments are box-wide (/proc/net/snmp):
// other work on the box counts too. Prints one JSON line.
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

const [rootArg, delayArg, windowArg, rateArg] = process.argv.slice(2);
const ROOT = Number(rootArg);
const DELAY_S = Number(delayArg ?? 0);
const WINDOW_S = Number(windowArg ?? 60);
const MSGS_PER_S = Number(rateArg ?? NaN);
const TICK = 100; // USER_HZ: /proc/<pid>/stat's utime and stime are in 1/100 s

const read = (p) => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};

function procs() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = read(`/proc/${name}/stat`);
    if (s === undefined) continue;
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' ');
    out.push({ pid: Number(name), comm: s.slice(s.indexOf('(') + 1, close), ppid: Number(f[1]) });
  }
  return out;
}

/** The run's coordinator (node .../cli/main.js run) under ROOT, its shard processes and brokers. */
function tree() {
  const all = procs();
  const below = (pid) => all.filter((p) => p.ppid === pid);
  const coordinator = below(ROOT).find((p) => (read(`/proc/${p.pid}/cmdline`) ?? '').includes('main.js\0run'));
  if (!coordinator) throw new Error(`no fleetsim run under pid ${ROOT}`);
  const kids = below(coordinator.pid);
  return { coordinator: coordinator.pid, shards: kids.filter((p) => p.comm.startsWith('node')).map((p) => p.pid), brokers: kids.filter((p) => p.comm === 'mosquitto').map((p) => p.pid) };
}

function cpu(pid) {
  const s = read(`/proc/${pid}/stat`);
  if (s === undefined) return { user: NaN, sys: NaN };
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) * 1000) / TICK, sys: (Number(f[12]) * 1000) / TICK };
}

/** Context switches of every thread of `pid`, and of its main thread alone. */
function switches(pid) {
  let vol = 0;
  let invol = 0;
  let mainVol = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const st = read(`/proc/${pid}/task/${tid}/status`) ?? '';
    const v = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    vol += v;
    invol += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    if (Number(tid) === pid) mainVol = v;
  }
  return { vol, invol, mainVol };
}

function tcpSegs() {
  const lines = (read('/proc/net/snmp') ?? '').split('\n').filter((l) => l.startsWith('Tcp:'));
  const keys = lines[0].split(/\s+/);
  const vals = lines[1].split(/\s+/).map(Number);
  return { in: vals[keys.indexOf('InSegs')], out: vals[keys.indexOf('OutSegs')] };
}

function snap(t) {
  const one = (pid) => ({ pid, ...cpu(pid), ...switches(pid) });
  return { at: performance.now(), shards: t.shards.map(one), brokers: t.brokers.map(one), coordinator: one(t.coordinator), tcp: tcpSegs() };
}

await new Promise((r) => setTimeout(r, DELAY_S * 1000));
const t = tree();
const loadBefore = os.loadavg()[0];
const a = snap(t);
await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
const b = snap(t);
const wallS = (b.at - a.at) / 1000;
const msgs = MSGS_PER_S * wallS;
const group = (k) => {
  const sum = (f) => b[k].reduce((acc, p, i) => acc + f(p) - f(a[k][i]), 0);
  const user = sum((p) => p.user);
  const sys = sum((p) => p.sys);
  return {
    processes: b[k].length,
    cores: (user + sys) / 1000 / wallS,
    userUsPerMsg: (user * 1000) / msgs,
    sysUsPerMsg: (sys * 1000) / msgs,
    cpuUsPerMsg: ((user + sys) * 1000) / msgs,
    volSwitchesPerMsg: sum((p) => p.vol) / msgs,
    mainThreadWakesPerMsg: sum((p) => p.mainVol) / msgs,
    involSwitchesPerMsg: sum((p) => p.invol) / msgs,
  };
};
const c = { shards: group('shards'), brokers: group('brokers') };
const coord = { cores: (b.coordinator.user + b.coordinator.sys - a.coordinator.user - a.coordinator.sys) / 1000 / wallS };
console.log(
  JSON.stringify({
    probe: 'hold',
    wallS,
    msgsPerS: MSGS_PER_S,
    loadBefore,
    loadAfter: os.loadavg()[0],
    shardPids: t.shards,
    brokerPids: t.brokers,
    ...c,
    coordinator: coord,
    tcpSegsPerMsgBoxWide: { in: (b.tcp.in - a.tcp.in) / msgs, out: (b.tcp.out - a.tcp.out) / msgs },
  }),
);
