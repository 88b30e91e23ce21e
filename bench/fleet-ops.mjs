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
//   PROV_DEVICES, DL_DEVICES   fleet sizes (8000, 1000); PROV_DEVICES=2000,8000 also gives the marginal
//                              CPU per device (see below)
//   PARTS=provisioning         only the provisioning part (or: downloads)
//   RUNS=3                     provisioning runs per configuration (medians reported)
//   PROV_TARGETS=embedded,mosquitto   provisioning against the embedded backend (HTTP API + aedes on
//                              the coordinator's event loop), and against its HTTP API + a local
//                              Mosquitto broker (MQTT off the coordinator's event loop); also
//                              mosquitto2: two local brokers (Mosquitto's listen queue is 100)
//   WORKERS                    shard threads (default: fleetsim's, i.e. cores - 1 with aedes in-process)
//   RATES=2500,4000            offered power-on rates
//   BROKERS=lean,aedes         the embedded backend's broker(s) (default lean); several alternate run by run
//   PIPELINING=off,on          devices' SUBSCRIBE in the CONNECT's write (options.mqttPipelining; default off);
//                              several alternate run by run, as BROKERS do
//   PROV_MAX_S=120             cap of one provisioning run, s (it stops at the last end-of-line ack)
//   NEIGHBOURS=2               a busy box, reproducibly: that many processes spinning on the CPU at
//                              nice 0 through every provisioning run (one per core makes the load 2+
//                              on 2 cores); the run's load averages show what it met
//   BASELINE_DIST=<dir>        another build's dist/ (say, main before a change: git archive <commit> |
//                              tar -x -C /tmp/base, link node_modules, npm run build there): every
//                              provisioning run is paired with the same run on that build, alternating
// Each provisioning run is a fresh process (bench/fleet-ops-provision.mjs), cold as `fleetsim run`
// is. It records the 1-minute load average before and after (on a shared box a run next to another
// busy process measures the neighbour, not fleetsim), the failed provisioning and connect attempts
// (a backend that falls behind makes devices time out and retry), and the CPU time per device of
// every thread of its process and its children: `cpuMsPerDevice` from just before the run
// (the main thread: backend + coordinator; the shard threads; V8's GC and compiler threads;
// brokers), `allInCpuMsPerDevice` from the process's start (loading fleetsim included), and with
// two fleet sizes the marginal CPU per device. On this 2-core VM the CPU per device still grows
// with the load (cache and memory contention with neighbours), so compare figures taken side by side.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseScenarioText } from '../dist/scenario/load.js';
import { runScenario } from '../dist/engine/coordinator.js';
import { defaultWorkers } from '../dist/engine/resources.js';
import { envInt, machine, median, runChild } from './lib/common.mjs';

/**
 * Fleet sizes of the provisioning runs. With two (PROV_DEVICES=2000,8000) their runs alternate and
 * each pair also gives the marginal CPU per device, (CPU of the larger - of the smaller) / (the
 * difference in devices): what one more device costs, without the run's fixed costs (starting the
 * shard threads and the backend, compiling hot code), which a per-device figure at one size
 * spreads over however many devices that run had.
 */
const PROV_DEVICES = (process.env.PROV_DEVICES ?? '8000').split(',').map((n) => {
  if (!/^[1-9][0-9]*$/.test(n)) throw new Error(`PROV_DEVICES must be one or two positive integers, got "${process.env.PROV_DEVICES}"`);
  return Number(n);
});
if (PROV_DEVICES.length > 2) throw new Error('PROV_DEVICES takes one or two fleet sizes');
const PROVISION_CHILD = fileURLToPath(new URL('./fleet-ops-provision.mjs', import.meta.url));
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
/** Devices subscribe in the CONNECT's write (options.mqttPipelining): off, on, or both alternating. */
const PIPELINING = (process.env.PIPELINING ?? 'off').split(',').map((v) => {
  if (v !== 'on' && v !== 'off') throw new Error(`PIPELINING takes on and/or off, got "${v}"`);
  return v === 'on';
});
/**
 * Longest a provisioning run may take, s: the run stops as soon as the last device passed its
 * end-of-line test, so on a loaded box (where 8,000 devices can take a minute) this is only a cap.
 */
const PROV_MAX_S = envInt('PROV_MAX_S', 120);
const WORKERS = process.env.WORKERS === undefined ? undefined : envInt('WORKERS', 2);
/** Builds whose provisioning runs alternate: this checkout's, and BASELINE_DIST's when given (side by side). */
const BUILDS = process.env.BASELINE_DIST ? [undefined, process.env.BASELINE_DIST] : [undefined];
/** Busy neighbours (NEIGHBOURS): CPU-bound processes that share the box with every provisioning run. */
const NEIGHBOURS = envInt('NEIGHBOURS', 0);
function startNeighbours(n) {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

/** Run options for a scenario: fleetsim's own default worker count unless WORKERS says otherwise. */
const quiet = (s) => ({ workers: WORKERS ?? defaultWorkers(s), drainMs: 5000 });

/** One provisioning run, in a fresh process (bench/fleet-ops-provision.mjs: cold, as `fleetsim run` starts). */
function provisioning(target, rate, run, broker, devices, dist, pipelining) {
  return runChild(PROVISION_CHILD, [JSON.stringify({ target, rate, run, broker, devices, maxS: PROV_MAX_S, workers: WORKERS, dist, pipelining })]);
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

const out = { machine: machine(), provisioning: [], downloads: [] };
console.error(`${out.machine.cpu}, ${out.machine.nproc} cores, ${out.machine.ramGiB} GiB, node ${out.machine.node}, ${out.machine.date}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const line = (x) =>
  `${x.devices} devices: ${x.devicesPerSec} devices/s, ${x.cpuMsPerDevice} ms CPU/device in the run (main thread ${x.cpuBreakdownMsPerDevice.main}, shard threads ${x.cpuBreakdownMsPerDevice.shardThreads}, V8 helpers ${x.cpuBreakdownMsPerDevice.v8Helpers}, children ${x.cpuBreakdownMsPerDevice.children}), ${x.allInCpuMsPerDevice} all-in (start-up ${x.startCpuMs} ms), failed attempts ${JSON.stringify(x.retries)}, ${x.listenOverflows} listen overflows, EOL p99 ${x.eolP99Ms} ms (load ${x.load1} -> ${x.load1After})`;
const neighbours = startNeighbours(NEIGHBOURS);
// Never leave them spinning, whichever way this script ends.
process.on('exit', () => neighbours.forEach((p) => p.kill()));
if (NEIGHBOURS) console.error(`${NEIGHBOURS} busy neighbour process(es) spinning through the provisioning runs`);
if (PARTS.includes('provisioning')) {
  for (const target of PROV_TARGETS) for (const rate of RATES) {
    const configs = BROKERS.flatMap((broker) => PIPELINING.flatMap((pipelining) => BUILDS.map((dist) => ({ broker, dist, pipelining, key: `${broker}${pipelining ? ' pipelined' : ''}${dist ? ` @ ${dist}` : ''}` }))));
    const runs = Object.fromEntries(configs.map((c) => [c.key, PROV_DEVICES.map(() => [])]));
    for (let r = 0; r < RUNS; r++) for (const { broker, dist, pipelining, key } of configs) {
      for (let k = 0; k < PROV_DEVICES.length; k++) {
        const x = await provisioning(target, rate, r, broker, PROV_DEVICES[k], dist, pipelining);
        runs[key][k].push(x);
        console.error(`provisioning ${target} (${key}) @${rate}/s run ${r + 1}/${RUNS}, ${line(x)}`);
      }
      if (PROV_DEVICES.length === 2) {
        const [a, b] = runs[key].map((rs) => rs[r]);
        console.error(`  marginal: ${((b.cpuMs - a.cpuMs) / (b.devices - a.devices)).toFixed(4)} ms CPU per device (${a.devices} -> ${b.devices})`);
      }
    }
    for (const { broker, dist, pipelining, key } of configs) {
      const build = `${dist ?? 'this checkout'}${pipelining ? ', mqttPipelining' : ''}`;
      const bySize = runs[key];
      for (const rs of bySize) {
        const m = (f) => median(rs.map(f));
        out.provisioning.push({
          target, broker, build, offeredRate: rate, devices: rs[0].devices,
          loads: rs.map((x) => [x.load1, x.load1After]),
          runs: rs.map((x) => x.devicesPerSec), devicesPerSec: m((x) => x.devicesPerSec),
          cpuRuns: rs.map((x) => x.cpuMsPerDevice), cpuMsPerDevice: m((x) => x.cpuMsPerDevice),
          allInCpuRuns: rs.map((x) => x.allInCpuMsPerDevice), allInCpuMsPerDevice: m((x) => x.allInCpuMsPerDevice),
          startCpuMs: rs.map((x) => x.startCpuMs),
          mainCpuRuns: rs.map((x) => x.cpuBreakdownMsPerDevice.main), mainCpuMsPerDevice: m((x) => x.cpuBreakdownMsPerDevice.main),
          shardCpuRuns: rs.map((x) => x.cpuBreakdownMsPerDevice.shardThreads), helperCpuRuns: rs.map((x) => x.cpuBreakdownMsPerDevice.v8Helpers),
          secondsToLast: m((x) => x.secondsToLast), provisionP99Ms: m((x) => x.provisionP99Ms), eolP99Ms: m((x) => x.eolP99Ms),
          retries: rs.map((x) => x.retries), listenOverflows: rs.map((x) => x.listenOverflows), eolOk: Math.min(...rs.map((x) => x.eolOk)),
        });
      }
      if (bySize.length === 2) {
        const [small, large] = bySize;
        const marginal = large.map((b, i) => +((b.cpuMs - small[i].cpuMs) / (b.devices - small[i].devices)).toFixed(4));
        out.provisioning.push({ target, broker, build, offeredRate: rate, marginalBetween: [small[0].devices, large[0].devices], marginalRuns: marginal, marginalCpuMsPerDevice: median(marginal) });
      }
    }
  }
}
for (const p of neighbours) p.kill();
out.neighbours = NEIGHBOURS;
if (PARTS.includes('downloads')) {
  out.downloads.push(await downloads('lte-m', 256, '2s'));
  out.downloads.push(await downloads('ethernet', 4000, '2s'));
}
console.log(JSON.stringify(out, null, 2));
