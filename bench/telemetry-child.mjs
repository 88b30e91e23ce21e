// One telemetry-benchmark run in a fresh process: saturate the broker with QoS 1 publishes from
// CONNS connections with WINDOW messages in flight on each, and count PUBACKs per second.
// Usage: node bench/telemetry-child.mjs <raw|lean|mqttjs|padded|templated> <url> <conns> <window> <payloadBytes> <warmupS> <seconds> <brokerPid>
// `padded` and `templated` are the lean transport with each message's payload made as a run makes
// it: the reference preset's padded JSON (a new buffer per message), or the telemetry template
// of bench/scenarios/template.yaml filled per message (payloadBytes is ignored: the template's size).
import { createMqttTransport } from '../dist/drivers/mqtt/index.js';
import { referencePreset } from '../dist/drivers/presets/reference.js';
import { loadScenario } from '../dist/scenario/load.js';
import { DeviceTable } from '../dist/fleet/device-table.js';
import { buildDeviceModels } from '../dist/engine/shard/device-models.js';
import { telemetryPayloads } from '../dist/engine/shard/telemetry-payloads.js';
import { processCpuMs, sleep } from './lib/common.mjs';
import { startRawPublishers } from './lib/raw-publisher.mjs';

const reference = referencePreset({ fleetKey: '' });

const [mode, url, connsArg, windowArg, sizeArg, warmupArg, secondsArg, brokerPidArg] = process.argv.slice(2);
const brokerPid = Number(brokerPidArg);
const CONNS = Number(connsArg);
const WINDOW = Number(windowArg);
const payload = Buffer.alloc(Number(sizeArg), 0x61);
const { hostname: host, port } = new URL(url);

let acked = 0;

/** How the `padded` and `templated` modes make each message's payload; the others send one fixed buffer. */
function payloadMaker(m) {
  if (m === 'padded') {
    const size = Number(sizeArg);
    return (dev, seq) => reference.telemetryPayload(seq, seq * 1000, size);
  }
  if (m === 'templated') {
    const s = loadScenario(new URL('./scenarios/template.yaml', import.meta.url).pathname);
    const devices = new DeviceTable(CONNS, 0);
    const { models } = buildDeviceModels(s, devices);
    const filler = telemetryPayloads(s, devices, models.energy, undefined);
    return (dev, seq) => filler.fill(dev, seq, seq * 1000);
  }
  return () => payload;
}
const makePayload = payloadMaker(mode);

/** The lean/mqttjs transports, driven through MqttTransport with one token per message. */
async function viaTransport(kind) {
  const MAX_TOKENS = 1 << 24;
  const tokenState = new Uint8Array(MAX_TOKENS); // 1 sent, 2 acked
  let nextToken = 0;
  let sent = 0;
  let duplicates = 0;
  let lost = 0;
  let running = true;
  let connected = 0;
  const topics = Array.from({ length: CONNS }, (_, dev) => `fleet/${kind}-${dev}/telemetry`);
  let onAllConnected;
  const allConnected = new Promise((r) => (onAllConnected = r));
  const seqs = new Uint32Array(CONNS);
  const send = (dev) => {
    const token = nextToken++;
    if (t.publish(dev, topics[dev], makePayload(dev, seqs[dev]++), 1, token)) {
      tokenState[token] = 1;
      sent++;
    }
  };
  const t = createMqttTransport(kind, { url, devices: CONNS, connectTimeoutMs: 10_000 }, {
    onConnect(dev, ok) {
      if (!ok) throw new Error(`device ${dev} failed to connect`);
      if (++connected === CONNS) onAllConnected();
    },
    onPublishAck(dev, token) {
      if (tokenState[token] !== 1) duplicates++;
      tokenState[token] = 2;
      acked++;
      if (running) send(dev);
    },
    onConnectionLost() {
      lost++;
    },
  });
  for (let dev = 0; dev < CONNS; dev++) t.connect(dev, { clientId: `${kind}-${dev}`, keepalive: 60 });
  await allConnected;
  return {
    start: () => {
      for (let dev = 0; dev < CONNS; dev++) for (let i = 0; i < WINDOW; i++) send(dev);
    },
    stop: () => {
      running = false;
    },
    sent: () => sent,
    extra: () => ({ duplicates, sessionsLost: lost }),
    close: () => t.close(),
  };
}

const subject =
  mode === 'raw'
    ? await startRawPublishers({ host, port: Number(port), connections: CONNS, window: WINDOW, payload, onAck: (k) => (acked += k) })
    : await viaTransport(mode === 'padded' || mode === 'templated' ? 'lean' : mode);

subject.start();
await sleep(Number(warmupArg) * 1000);
const a0 = acked;
const cpu0 = process.cpuUsage();
const brokerCpu0 = processCpuMs(brokerPid);
const t0 = performance.now();
await sleep(Number(secondsArg) * 1000);
const seconds = (performance.now() - t0) / 1000;
const a1 = acked;
const cpu = process.cpuUsage(cpu0);
const brokerCpuMs = processCpuMs(brokerPid) - brokerCpu0;
subject.stop();
const sentAtStop = subject.sent();
const ackedAtStop = acked;
// Drain: every message sent must still be acked once publishing stops.
const drainDeadline = Date.now() + 10_000;
while (acked < subject.sent() && Date.now() < drainDeadline) await sleep(10);
const result = {
  mode,
  msgsPerSec: (a1 - a0) / seconds,
  clientCpuPercent: ((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100,
  brokerCpuPercent: (brokerCpuMs / (seconds * 1000)) * 100,
  sent: subject.sent(),
  ackedAtStop,
  inflightAtStop: sentAtStop - ackedAtStop,
  ackedFinal: acked,
  unackedAfterDrain: subject.sent() - acked,
  ...(subject.extra?.() ?? {}),
};
await subject.close();
console.log(JSON.stringify(result));
