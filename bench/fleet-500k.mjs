// Runs scenarios/fleet-500k.yaml (or FILE=...) through `fleetsim run` and records what it took:
// wall time, peak memory of every process (coordinator with the embedded HTTP API, shard
// processes, Mosquitto brokers) and of the machine, CPU by part, and whether the accounting
// identity held and reconciled with what the backend counted. After `npm run build`:
//   node bench/fleet-500k.mjs            # FILE, PROCESSES, WORKERS, DURATION knobs
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envInt, machine } from './lib/common.mjs';
import { cpuCores, peakMemory, sampledRun } from './lib/sampled-run.mjs';

const FILE = process.env.FILE ?? new URL('../scenarios/fleet-500k.yaml', import.meta.url).pathname;
const WORKERS = envInt('WORKERS', 2);
const args = [FILE, '-q', '--workers', String(WORKERS)];
if (process.env.PROCESSES) args.push('--processes', process.env.PROCESSES);
if (process.env.DURATION) args.push('--duration', process.env.DURATION);

console.log(JSON.stringify({ bench: 'fleet-500k', file: FILE, args, machine: machine() }));
const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-500k-'));
const t0 = Date.now();
const { code, samples, summary, timeline } = await sampledRun(args, dir, { everyMs: 5000 });
const wallSeconds = (Date.now() - t0) / 1000;
writeFileSync(path.join(dir, 'samples.json'), JSON.stringify(samples));

const online = timeline.map((r) => r.gauges['devices.online']);
const devices = summary.run.devices;
const allOn = timeline.find((r) => r.gauges['devices.online'] >= devices);
const a = summary.accounting;
const result = {
  exitCode: code,
  verdict: summary.result.verdict,
  reasons: summary.result.reasons,
  devices,
  shardProcesses: Math.max(...samples.map((s) => s.shardProcesses)),
  brokers: Math.max(...samples.map((s) => s.brokerCount)),
  wallSeconds,
  runWallSeconds: summary.run.wallMs / 1000,
  peakOnline: Math.max(...online),
  allOnlineAtSeconds: allOn ? allOn.tMs / 1000 : null,
  accounting: a,
  counters: Object.fromEntries(
    ['provision.ok', 'provision.failed', 'mqtt.connect.ok', 'mqtt.connect.failed', 'mqtt.connection_lost', 'telemetry.sent', 'telemetry.acked', 'poll.ok', 'poll.failed'].map((k) => [k, summary.counters[k]]),
  ),
  latencyMs: Object.fromEntries(['provision.latency', 'mqtt.connect.latency', 'telemetry.ack.latency'].map((k) => [k, { p50: summary.histograms[k].stats.p50 / 1000, p99: summary.histograms[k].stats.p99 / 1000 }])),
  generator: summary.generator,
  peakMiB: peakMemory(samples),
  cpuCores: cpuCores(samples[0], samples[samples.length - 1]),
  reportDir: dir,
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `\n${devices} devices: exit ${code} (${summary.result.verdict}) after ${wallSeconds.toFixed(0)} s; peak online ${result.peakOnline}; ` +
    `accounting ${a.holds ? 'holds' : 'BROKEN'}; backend received ${a.backend?.received} (lost between ${a.backend?.lostBetween}); ` +
    `peak memory: all processes ${(result.peakMiB.allProcessesPss / 1024).toFixed(2)} GiB PSS (${(result.peakMiB.allProcessesRss / 1024).toFixed(2)} GiB summed RSS), machine ${(result.peakMiB.machineUsed / 1024).toFixed(2)} GiB`,
);
if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
