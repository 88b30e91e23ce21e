// Connected benchmark: fleetsim holds N MQTT devices connected at once against local Mosquitto
// brokers for a keepalive period, through the real engine (`fleetsim run`: embedded HTTP API for
// provisioning, shard processes past the descriptor limit, local brokers). It reports the connect
// rate, unexpected disconnects and resident memory per connected device. After `npm run build`:
//   N=250000 HOLD=300 node bench/connected.mjs
// Knobs: N devices; HOLD seconds all connected; RATE power-ons per second; BROKERS (default
// ceil(N / 19,000)); PROCESSES (default automatic); WORKERS (threads in all, default 2);
// KEEPALIVE seconds (60); R runs (1). Each run is a fresh `fleetsim run` with fresh brokers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envInt, machine, median } from './lib/common.mjs';
import { cpuCores, peakMemory, sampledRun } from './lib/sampled-run.mjs';

const N = envInt('N', 250_000);
const HOLD = envInt('HOLD', 300);
const RATE = envInt('RATE', 2500);
const BROKERS = envInt('BROKERS', Math.ceil(N / 19_000));
const PROCESSES = process.env.PROCESSES ? envInt('PROCESSES', 1) : undefined;
const WORKERS = envInt('WORKERS', 2);
const KEEPALIVE = envInt('KEEPALIVE', 60);
const R = envInt('R', 1);
const SAMPLE_MS = 2000;

const rampS = Math.ceil(N / RATE);
// Slack for a ramp slower than planned (a shared machine, provisioning retries), so the hold still lasts HOLD.
const durationS = Math.ceil(rampS * 1.6) + HOLD + 30;
const KB = 1024;
const MiB = 2 ** 20;

function scenarioYaml() {
  return [
    'name: bench-connected',
    'seed: 1',
    `duration: ${durationS}s`,
    `target: { mqtt: local-mosquitto, brokers: ${BROKERS} }`,
    'fleet:',
    `  - { profile: rpi4-gateway, count: ${N}, link: ethernet }`,
    `arrival: { rate: ${RATE}/s }`,
    `behaviour: { keepalive: ${KEEPALIVE}s }`,
    // Idle sessions only: any lag here comes from connects and keepalives, so allow 5 s before
    // calling the generator saturated (the default 2 s is for telemetry timing).
    'options: { maxScheduleLag: 5s, snapshotEvery: 2s }',
  ].join('\n');
}

async function oneRun(r) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-connected-'));
  const file = path.join(dir, 'bench-connected.yaml');
  writeFileSync(file, scenarioYaml());
  const args = [file, '-q', '--workers', String(WORKERS), ...(PROCESSES ? ['--processes', String(PROCESSES)] : [])];
  const { code, samples, summary, timeline } = await sampledRun(args, dir, { label: `[run ${r}] ` });
  const online = (row) => row.gauges['devices.online'];
  const allOn = timeline.find((row) => online(row) >= N);
  // The last row is the shards' final snapshot, taken after they disconnected on `stop`.
  const last = timeline[timeline.length - 2] ?? timeline[0];
  // The hold: from the first interval with every device online to the last interval before stop.
  const hold = allOn ? timeline.slice(0, -1).filter((row) => row.tMs >= allOn.tMs) : [];
  const startedAt = Date.parse(summary.run.startedAt);
  // RSS samples well inside the hold (the timeline's t = 0 is a few seconds after startedAt).
  const holdSamples = allOn ? samples.filter((s) => s.at >= startedAt + allOn.tMs + 10_000 && s.at <= startedAt + last.tMs - 5_000) : [];
  const firstFull = samples.find((s) => s.shardProcesses > 0 && s.brokerCount === BROKERS);
  const m = (k) => median(holdSamples.map((s) => s[k]));
  const rampEnd = allOn ? samples.find((x) => x.at >= startedAt + allOn.tMs) : samples[samples.length - 1];
  const result = {
    run: r,
    exitCode: code,
    verdict: summary.result.verdict,
    devices: N,
    brokers: BROKERS,
    shardProcesses: Math.max(...samples.map((s) => s.shardProcesses)),
    workers: summary.run.workers,
    peakOnline: Math.max(...timeline.map(online)),
    secondsToAllOnline: allOn ? allOn.tMs / 1000 : null,
    connectsPerSec: allOn ? N / (allOn.tMs / 1000) : null,
    connectLatencyMs: { p50: summary.histograms['mqtt.connect.latency'].stats.p50 / 1000, p99: summary.histograms['mqtt.connect.latency'].stats.p99 / 1000 },
    holdSeconds: hold.length ? (last.tMs - allOn.tMs) / 1000 : 0,
    minOnlineDuringHold: hold.length ? Math.min(...hold.map(online)) : 0,
    connectionLost: summary.counters['mqtt.connection_lost'],
    connectFailed: summary.counters['mqtt.connect.failed'],
    provisionFailed: summary.counters['provision.failed'],
    reconnects: summary.counters['mqtt.reconnects'],
    maxScheduleLagMs: summary.generator.maxScheduleLagMs,
    holdSamples: holdSamples.length,
    // Memory per connected device. pss counts pages shared between processes (the node binary,
    // mapped by every shard process) once; rss counts them in every process.
    perDeviceBytes: {
      simulatorPss: (m('coordinatorPss') + m('shardsPss')) / N,
      simulatorRss: (m('coordinator') + m('shards')) / N,
      shardProcessesPss: m('shardsPss') / N,
      shardProcessesAnon: m('shardsAnon') / N,
      shardProcessesRss: m('shards') / N,
      shardProcessesMarginalRss: firstFull ? (m('shards') - firstFull.shards) / N : null,
    },
    brokerRssPerConnectionBytes: m('brokers') / N,
    holdMiB: {
      coordinatorRss: m('coordinator') / MiB,
      coordinatorPss: m('coordinatorPss') / MiB,
      shardsRss: m('shards') / MiB,
      shardsPss: m('shardsPss') / MiB,
      shardsAnon: m('shardsAnon') / MiB,
      shardsRssAtStart: firstFull ? firstFull.shards / MiB : null,
      brokersRss: m('brokers') / MiB,
    },
    peakMiB: peakMemory(samples),
    wallSeconds: summary.run.wallMs / 1000,
    cpuCores: { ramp: cpuCores(firstFull, rampEnd), hold: cpuCores(holdSamples[0], holdSamples[holdSamples.length - 1]) },
  };
  writeFileSync(path.join(dir, 'samples.json'), JSON.stringify(samples));
  if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  else result.dir = dir;
  return result;
}

console.log(JSON.stringify({ bench: 'connected', N, HOLD, RATE, BROKERS, PROCESSES: PROCESSES ?? 'auto', WORKERS, KEEPALIVE, R, machine: machine() }));
const runs = [];
for (let r = 1; r <= R; r++) {
  const res = await oneRun(r);
  runs.push(res);
  console.log(JSON.stringify(res));
}
const med = (f) => median(runs.map(f));
const verdicts = {
  connected: runs.every((x) => x.peakOnline >= 250_000 && x.minOnlineDuringHold >= 250_000),
  held: runs.every((x) => x.holdSeconds >= 300),
  noDisconnects: runs.every((x) => x.connectionLost === 0 && x.connectFailed === 0),
  rss: med((x) => x.perDeviceBytes.simulatorPss) <= 4 * KB,
};
console.log(`\n${R} run(s), ${N} devices on ${BROKERS} local Mosquitto brokers, ${runs[0].shardProcesses} shard processes, keepalive ${KEEPALIVE}s`);
console.log(`connect rate (power-on to all online, incl. HTTP provisioning): ${med((x) => x.connectsPerSec ?? 0).toFixed(0)} devices/s`);
console.log(`held all ${N} online for ${med((x) => x.holdSeconds).toFixed(0)} s; connection lost ${runs.map((x) => x.connectionLost).join(',')}, connect failed ${runs.map((x) => x.connectFailed).join(',')}`);
const kib = (f) => (med(f) / KB).toFixed(2);
console.log(`simulator memory per connected device (coordinator + shard processes): ${kib((x) => x.perDeviceBytes.simulatorPss)} KiB PSS, ${kib((x) => x.perDeviceBytes.simulatorRss)} KiB summed RSS`);
console.log(`  shard processes only: ${kib((x) => x.perDeviceBytes.shardProcessesPss)} KiB PSS, ${kib((x) => x.perDeviceBytes.shardProcessesAnon)} KiB private anonymous, ${kib((x) => x.perDeviceBytes.shardProcessesRss)} KiB RSS`);
console.log(`Mosquitto RSS per connection: ${(med((x) => x.brokerRssPerConnectionBytes) / KB).toFixed(2)} KiB; peak machine memory used: ${(med((x) => x.peakMiB.machineUsed) / 1024).toFixed(2)} GiB`);
console.log(`bars: >= 250k connected ${verdicts.connected ? 'met' : 'MISSED'}; 5 min hold ${verdicts.held ? 'met' : 'MISSED'}; zero unexpected disconnects ${verdicts.noDisconnects ? 'met' : 'MISSED'}; <= 4 KB simulator memory (PSS) per device ${verdicts.rss ? 'met' : 'MISSED'}`);
console.log(JSON.stringify({ medians: { connectsPerSec: med((x) => x.connectsPerSec ?? 0), pssPerDevice: med((x) => x.perDeviceBytes.simulatorPss), rssPerDevice: med((x) => x.perDeviceBytes.simulatorRss) }, verdicts }));
