// One provisioning run of bench/fleet-ops.mjs in a process of its own, started cold as `fleetsim run`
// is: fleetsim's modules (the CLI's commands included) are loaded here, before the run, so the
// process's CPU from its start is the all-in figure, and every run pays the same start-up (a run
// in a process that already ran one would find its code loaded and compiled).
// Usage: node bench/fleet-ops-provision.mjs '<json: target, rate, run, broker, devices, maxS, workers, dist, pipelining>'
// (`dist`: another build's dist/ folder to run instead of this checkout's, for side-by-side runs)
// Prints one JSON line: the run's figures, CPU per device over every thread of this process and its
// children (`cpuMsPerDevice`: from just before the run to the interval that saw the last end-of-line
// ack), the same from this process's start (`allInCpuMsPerDevice`: node's start and loading fleetsim
// included), and what the start-up cost before the run (`startCpuMs`).
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { listenOverflows } from './lib/common.mjs';
import { cpuBetween, cpuSnapshot } from './lib/cpu-tree.mjs';

const { target, rate, run, broker, devices, maxS, workers, dist, pipelining } = JSON.parse(process.argv[2]);
const from = (file) => (dist ? pathToFileURL(`${dist}/${file}`).href : new URL(`../dist/${file}`, import.meta.url).href);
await import(from('cli/commands/index.js'));
const { parseScenarioText } = await import(from('scenario/load.js'));
const { runScenario } = await import(from('engine/coordinator.js'));
const { defaultWorkers } = await import(from('engine/resources.js'));
const s = parseScenarioText(
  `
name: bench-prov
seed: ${run + 1}
duration: ${maxS}s
target: ${target}
fleet: [{ profile: rpi4-gateway, count: ${devices}, link: ethernet }]
arrival: { rate: ${rate}/s }
provisioning: { endOfLineTest: true }
options: { snapshotEvery: 100ms, embeddedBroker: ${broker}, http: { poolSize: 128 }${pipelining ? ', mqttPipelining: true' : ''} }
`,
  'bench-prov.yaml',
);
const load1 = +os.loadavg()[0].toFixed(2);
const overflows0 = listenOverflows();
const t0 = Date.now();
// CPU of every thread and process (fleetsim, its shard threads, V8's helpers, the embedded backend
// wherever it runs, brokers) from just before the run until the interval that saw the last
// end-of-line ack, where the run is stopped: starting the shard threads and the backend is in it
// (devices power on from t = 0), the idle sessions' tail and the shutdown are not.
const snap0 = cpuSnapshot();
const zero = { self: 0, threads: new Map(), children: 0 };
let atLast;
let eolSeen = 0;
let stop;
const interrupt = new Promise((resolve) => (stop = resolve));
const onInterval = (row) => {
  eolSeen += row.counters['provision.eol_ok'] ?? 0;
  if (atLast === undefined && eolSeen >= devices) {
    atLast = cpuSnapshot();
    stop();
  }
};
const { summary, timeline } = await runScenario(s, { workers: workers ?? defaultWorkers(s), drainMs: 5000, runId: `bench-prov-${run}`, onInterval, interrupt });
const end = atLast ?? cpuSnapshot();
const cpu = cpuBetween(snap0, end);
const allIn = cpuBetween(zero, end);
const perDevice = (ms) => +(ms / devices).toFixed(4);
let acc = 0;
let lastMs = 0;
for (const row of timeline) {
  acc += row.counters['provision.eol_ok'] ?? 0;
  if (acc >= devices) {
    lastMs = row.tMs;
    break;
  }
}
// Threads that existed before the run are the main thread and V8's platform workers (GC,
// optimizing compiler); the ones started during it are the shard threads.
const before = new Set(snap0.threads.keys());
const started = [...end.threads.keys()].filter((t) => !before.has(t));
const delta = (tid) => (end.threads.get(tid) ?? 0) - (snap0.threads.get(tid) ?? 0);
const helpers = [...before].filter((t) => t !== process.pid).reduce((a, t) => a + delta(t), 0);
console.log(
  JSON.stringify({
    target,
    broker,
    build: dist ?? 'this checkout',
    pipelining: pipelining === true,
    load1,
    load1After: +os.loadavg()[0].toFixed(2),
    offeredRate: rate,
    devices,
    eolOk: summary.counters['provision.eol_ok'],
    secondsToLast: lastMs / 1000,
    devicesPerSec: lastMs > 0 ? Math.round(devices / (lastMs / 1000)) : 0,
    provisionP99Ms: summary.histograms['provision.latency'].stats.p99 / 1000,
    eolP99Ms: summary.histograms['provision.eol.latency'].stats.p99 / 1000,
    wallS: (Date.now() - t0) / 1000,
    listenOverflows: listenOverflows() - overflows0,
    retries: { provision: summary.counters['provision.failed'] ?? 0, mqttConnect: summary.counters['mqtt.connect.failed'] ?? 0 },
    cpuMs: +cpu.total.toFixed(0),
    cpuMsPerDevice: perDevice(cpu.total),
    allInCpuMs: +allIn.total.toFixed(0),
    allInCpuMsPerDevice: perDevice(allIn.total),
    startCpuMs: +snap0.self.toFixed(0),
    cpuBreakdownMsPerDevice: {
      main: perDevice(cpu.main),
      shardThreads: perDevice(started.reduce((a, t) => a + delta(t), 0)),
      v8Helpers: perDevice(helpers),
      exitedThreads: perDevice(cpu.self - cpu.main - started.reduce((a, t) => a + delta(t), 0) - helpers),
      children: perDevice(cpu.children),
    },
  }),
);
