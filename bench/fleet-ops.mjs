// Fleet-operation throughput against the embedded backend, end to end through fleetsim's own run
// (worker shards, real HTTP and MQTT on loopback):
//   1. provisioning: devices power on faster than 2,000/s; each provisions (HTTP), connects (MQTT)
//      and passes its end-of-line test (a QoS 1 publish acked by the broker). Rate = devices / time
//      from the first power-on until the last end-of-line ack.
//   2. artifact downloads paced to a modelled link (LTE-M, 300 kbit/s): the measured download time
//      must equal the modelled one (size / bandwidth), i.e. the link limits, not the simulator.
//   3. the same downloads on an unpaced link (Ethernet, 100 Mbit/s per device, far above what one
//      process can serve): the measured rate is what the simulator and backend can move.
// Usage: npm run build && node bench/fleet-ops.mjs
//   PROV_DEVICES, DL_DEVICES   fleet sizes (8000, 1000)
//   PARTS=provisioning         only the provisioning part (or: downloads)
//   RUNS=3                     provisioning runs per configuration (medians reported)
//   PROV_TARGETS=embedded,mosquitto   provisioning against the embedded backend (HTTP API + aedes on
//                              the coordinator's event loop), and against its HTTP API + a local
//                              Mosquitto broker (MQTT off the coordinator's event loop); also
//                              mosquitto2: two local brokers (Mosquitto's listen queue is 100)
//   WORKERS                    shard threads (default: fleetsim's, i.e. cores - 1 with aedes in-process)
//   RATES=2500,4000            offered power-on rates
//   BROKERS=lean,aedes         the embedded backend's broker(s) (default lean); several alternate run by run
//   PROV_MAX_S=120             cap of one provisioning run, s (it stops at the last end-of-line ack)
// Each provisioning run also records the 1-minute load average when it started (on a shared box a
// run next to another busy process measures the neighbour, not fleetsim), the failed provisioning
// and connect attempts (a backend that falls behind makes devices time out and retry), and the CPU
// time per device of every thread of this process and its children (cpuMsPerDevice: the shard
// threads, the embedded backend, V8's GC and compiler threads, brokers), with the main thread's
// share. On this 2-core VM the CPU per device still grows with the load (cache and memory
// contention with neighbours), so compare figures taken side by side.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseScenarioText } from '../dist/scenario/load.js';
import { runScenario } from '../dist/engine/coordinator.js';
import { defaultWorkers } from '../dist/engine/resources.js';
import { envInt, median } from './lib/common.mjs';
import { cpuBetween, cpuSnapshot } from './lib/cpu-tree.mjs';

const PROV_DEVICES = envInt('PROV_DEVICES', 8000);
const DL_DEVICES = envInt('DL_DEVICES', 1000);
const RUNS = envInt('RUNS', 3);
const PARTS = (process.env.PARTS ?? 'provisioning,downloads').split(',');
const TARGETS = { embedded: 'embedded', mosquitto: '{ mqtt: local-mosquitto }', mosquitto2: '{ mqtt: local-mosquitto, brokers: 2 }' };
const PROV_TARGETS = (process.env.PROV_TARGETS ?? 'embedded,mosquitto').split(',').map((t) => {
  if (!(t in TARGETS)) throw new Error(`PROV_TARGETS: unknown target "${t}" (${Object.keys(TARGETS).join(', ')})`);
  return TARGETS[t];
});
const RATES = (process.env.RATES ?? '2500,4000').split(',').map(Number);
/** The embedded backend's broker(s) (options.embeddedBroker); with two, their runs alternate, side by side. */
const BROKERS = (process.env.BROKERS ?? 'lean').split(',');
/**
 * Longest a provisioning run may take, s: the run stops as soon as the last device passed its
 * end-of-line test, so on a loaded box (where 8,000 devices can take a minute) this is only a cap.
 */
const PROV_MAX_S = envInt('PROV_MAX_S', 120);
const WORKERS = process.env.WORKERS === undefined ? undefined : envInt('WORKERS', 2);
/** Run options for a scenario: fleetsim's own default worker count unless WORKERS says otherwise. */
const quiet = (s) => ({ workers: WORKERS ?? defaultWorkers(s), drainMs: 5000 });

/** CPU seconds (user + system) of this process's main thread so far; null off Linux. */
function mainThreadCpuS() {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * The kernel's count of connections dropped because a listen queue was full (Linux, system-wide:
 * on a quiet box, ours). Each drop costs the device a handshake retransmission: 1 s, then 3 s ...
 */
function listenOverflows() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const [names, values] = lines.map((l) => l.split(' '));
    return Number(values[names.indexOf('ListenOverflows')]);
  } catch {
    return null;
  }
}

async function provisioning(target, rate, run, broker) {
  const s = parseScenarioText(
    `
name: bench-prov
seed: ${run + 1}
duration: ${PROV_MAX_S}s
target: ${target}
fleet: [{ profile: rpi4-gateway, count: ${PROV_DEVICES}, link: ethernet }]
arrival: { rate: ${rate}/s }
provisioning: { endOfLineTest: true }
options: { snapshotEvery: 100ms, embeddedBroker: ${broker}, http: { poolSize: 128 } }
`,
    'bench-prov.yaml',
  );
  const load1 = +os.loadavg()[0].toFixed(2);
  const cpu0 = mainThreadCpuS();
  const overflows0 = listenOverflows();
  const t0 = Date.now();
  // CPU of every thread and process (fleetsim, its shard threads, V8's helpers, the embedded backend
  // wherever it runs, brokers) from just before the run until the interval that saw the last
  // end-of-line ack: starting the run included, the idle sessions' tail and the shutdown not.
  // From just before the run (so starting the shard threads and the backend, ~1 s of CPU, is
  // included: devices power on from t = 0) to the interval that saw the last end-of-line ack, where
  // the run is stopped.
  const snap0 = cpuSnapshot();
  let atLast;
  let eolSeen = 0;
  let stop;
  const interrupt = new Promise((resolve) => (stop = resolve));
  const onInterval = (row) => {
    eolSeen += row.counters['provision.eol_ok'] ?? 0;
    if (atLast === undefined && eolSeen >= PROV_DEVICES) {
      atLast = cpuSnapshot();
      stop();
    }
  };
  const { summary, timeline } = await runScenario(s, { ...quiet(s), runId: `bench-prov-${run}`, onInterval, interrupt });
  const cpu = cpuBetween(snap0, atLast ?? cpuSnapshot());
  const perDevice = (ms) => +(ms / PROV_DEVICES).toFixed(3);
  let acc = 0;
  let lastMs = 0;
  for (const row of timeline) {
    acc += row.counters['provision.eol_ok'] ?? 0;
    if (acc >= PROV_DEVICES) {
      lastMs = row.tMs;
      break;
    }
  }
  return {
    target,
    broker,
    load1,
    offeredRate: rate,
    devices: PROV_DEVICES,
    eolOk: summary.counters['provision.eol_ok'],
    secondsToLast: lastMs / 1000,
    devicesPerSec: lastMs > 0 ? Math.round(PROV_DEVICES / (lastMs / 1000)) : 0,
    provisionP99Ms: summary.histograms['provision.latency'].stats.p99 / 1000,
    eolP99Ms: summary.histograms['provision.eol.latency'].stats.p99 / 1000,
    wallS: (Date.now() - t0) / 1000,
    listenOverflows: overflows0 === null ? null : listenOverflows() - overflows0,
    cpuMsPerDevice: perDevice(cpu.total),
    retries: { provision: summary.counters['provision.failed'] ?? 0, mqttConnect: summary.counters['mqtt.connect.failed'] ?? 0 },
    cpuBreakdownMsPerDevice: { main: perDevice(cpu.main), otherThreads: cpu.threads.map(perDevice), children: perDevice(cpu.children) },
    mainCpuMsPerDevice: cpu0 === null ? null : +(((mainThreadCpuS() - cpu0) * 1000) / PROV_DEVICES).toFixed(3),
  };
}

async function downloads(link, sizeKB, chunk) {
  const s = parseScenarioText(
    `
name: bench-dl-${link}
seed: 2
duration: 30s
fleet: [{ profile: ${link === 'lte-m' ? 'nrf9160-tracker' : 'rpi4-gateway'}, count: ${DL_DEVICES}, link: ${link} }]
arrival: { rate: 2000/s }
behaviour: { download: { chunk: ${chunk}, healthCheck: 100ms, appRestart: 100ms } }
phases:
  - at: 2s
    update: { release: app-9, size: ${sizeKB}KB, rollout: { strategy: all } }
options: { http: { poolSize: 128 } }
`,
    `bench-dl-${link}.yaml`,
  );
  const { summary, operator } = await runScenario(s, { ...quiet(s), runId: `bench-dl-${link}` });
  const d = summary.histograms['ota.download.duration'].stats;
  const bps = { 'lte-m': 300e3 / 8, ethernet: 100e6 / 8 }[link];
  const modelledMs = ((sizeKB * 1000) / bps) * 1000;
  const bytes = summary.counters['ota.bytes_downloaded'];
  return {
    link,
    devices: DL_DEVICES,
    sizeKB,
    succeeded: summary.counters['update.success'],
    bytesDevices: bytes,
    bytesBackend: operator.backend.artifactBytesServed,
    modelledMs: Math.round(modelledMs),
    measuredP50Ms: Math.round(d.p50 / 1000),
    measuredP99Ms: Math.round(d.p99 / 1000),
    p50OverModelled: +(d.p50 / 1000 / modelledMs).toFixed(3),
    // Aggregate rate while the fleet downloaded: every device at once, so bytes / p99 duration.
    aggregateMBps: +(bytes / 1e6 / (d.p99 / 1e6)).toFixed(1),
  };
}

const out = { provisioning: [], downloads: [] };
if (PARTS.includes('provisioning')) {
  for (const target of PROV_TARGETS) for (const rate of RATES) {
    const runs = Object.fromEntries(BROKERS.map((b) => [b, []]));
    for (let r = 0; r < RUNS; r++) for (const broker of BROKERS) {
      const x = await provisioning(target, rate, r, broker);
      runs[broker].push(x);
      console.error(`provisioning ${target} (${broker}) @${rate}/s run ${r + 1}/${RUNS}: ${x.devicesPerSec} devices/s, ${x.cpuMsPerDevice} ms CPU/device in all (main thread ${x.cpuBreakdownMsPerDevice.main}, others ${x.cpuBreakdownMsPerDevice.otherThreads.join(' ')}, children ${x.cpuBreakdownMsPerDevice.children}), failed attempts ${JSON.stringify(x.retries)}, ${x.listenOverflows} listen overflows (load ${x.load1})`);
    }
    for (const broker of BROKERS) {
      const rs = runs[broker];
      const m = (k) => median(rs.map((x) => x[k]));
      out.provisioning.push({ ...rs[0], runs: rs.map((x) => x.devicesPerSec), loads: rs.map((x) => x.load1), devicesPerSec: m('devicesPerSec'), secondsToLast: m('secondsToLast'), provisionP99Ms: m('provisionP99Ms'), eolP99Ms: m('eolP99Ms'), mainCpuMsPerDevice: m('mainCpuMsPerDevice'), cpuMsPerDevice: m('cpuMsPerDevice'), cpuRuns: rs.map((x) => x.cpuMsPerDevice), mainCpuRuns: rs.map((x) => x.cpuBreakdownMsPerDevice.main), retries: rs.map((x) => x.retries), listenOverflows: rs.map((x) => x.listenOverflows), eolOk: Math.min(...rs.map((x) => x.eolOk)) });
    }
  }
}
if (PARTS.includes('downloads')) {
  out.downloads.push(await downloads('lte-m', 256, '2s'));
  out.downloads.push(await downloads('ethernet', 4000, '2s'));
}
console.log(JSON.stringify(out, null, 2));
