// One connect-benchmark run in a fresh process: connect N idle clients, report rate and RSS.
// Usage: node --expose-gc bench/connect-child.mjs <mode> <url> <N> <concurrency> [caDir [brokerPid]]
// (caDir "-": none.) modes: bare-mqttjs | lean | mqttjs | lean-mtls | lean-mtls-resume | bare-tls | bare-tls-ctx
// The TLS modes (bench/tls.mjs) connect to a TLS broker with a client certificate per device,
// issued by the fleet CA in caDir before the timed part (as a run issues them before its shards
// are ready; the issuing cost is reported as certUs). lean-mtls is fleetsim's lean transport, with
// each device's TLS context made with its certificate (as engine/shard/wall.ts does);
// lean-mtls-resume times a second pass after every device disconnected, resuming its TLS session.
// bare-tls is tls.connect from PEM + one raw CONNECT per device (what a plain Node client does);
// bare-tls-ctx the same with each device's context made beforehand: the floor a TLS client reaches.
// CPU per connect: this process (process.cpuUsage) and, given its pid, the broker (/proc/<pid>/stat).
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { createMqttTransport } from '../dist/drivers/mqtt/index.js';
import { encodeConnect } from '../dist/drivers/mqtt/lean-frames.js';
import { issueCertificate, loadFleetCa } from '../dist/identity/x509.js';
import { clientContext } from '../dist/drivers/mqtt/broker-address.js';
import { limitedLoop, sleep } from './lib/common.mjs';

const [mode, url, nArg, concArg, caDir, brokerPidArg] = process.argv.slice(2);
const brokerPid = brokerPidArg === undefined ? undefined : Number(brokerPidArg);
const TICKS_PER_SECOND = 100; // USER_HZ of /proc/<pid>/stat on Linux

/** CPU µs used so far by this process and by the broker (0 when its pid is unknown). */
function cpuNow() {
  const c = process.cpuUsage();
  let broker = 0;
  if (brokerPid !== undefined) {
    const f = readFileSync(`/proc/${brokerPid}/stat`, 'utf8').split(') ')[1].split(' ');
    broker = ((Number(f[11]) + Number(f[12])) * 1e6) / TICKS_PER_SECOND;
  }
  return { client: c.user + c.system, broker };
}
const N = Number(nArg);
const concurrency = Number(concArg);
const KEEPALIVE = 60;

async function settledRss() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
}

function bareMqttjs() {
  const clients = [];
  let failed = 0;
  const run = (i, done) => {
    const client = mqtt.connect(url, { clientId: `bare-${i}`, keepalive: KEEPALIVE, reconnectPeriod: 0, clean: true, protocolVersion: 4, connectTimeout: 30_000 });
    clients.push(client);
    let settled = false;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      if (!ok) failed++;
      done();
    };
    client.once('connect', () => settle(true));
    client.once('close', () => settle(false));
  };
  return {
    run,
    connected: () => clients.filter((c) => c.connected).length,
    failed: () => failed,
    close: () => Promise.all(clients.map((c) => new Promise((r) => c.end(true, {}, r)))),
  };
}

/** Device certificates from the fleet CA in caDir, issued now; returns them and µs per certificate. */
async function issueAll() {
  if (caDir === undefined || caDir === '-') return { ids: undefined, certUs: 0, caPem: undefined };
  const caPem = { cert: readFileSync(`${caDir}/ca.crt`, 'utf8'), key: readFileSync(`${caDir}/ca.key`, 'utf8') };
  const ca = await loadFleetCa(caPem);
  const ids = new Array(N);
  const t0 = performance.now();
  await limitedLoop(N, 8, (i, done) => issueCertificate(ca, `dev-${i}`, { client: true }).then((id) => { ids[i] = id; done(); }));
  return { ids, certUs: ((performance.now() - t0) * 1000) / N, caPem: caPem.cert };
}

function bareTls(ids, caPem, prebuilt) {
  const { hostname: host, port } = new URL(url);
  const sockets = [];
  let failed = 0;
  let connected = 0;
  return {
    run: (i, done) => {
      const s = prebuilt
        ? tls.connect({ host, port: Number(port), secureContext: clientContext(ids[i], { ca: caPem }) })
        : tls.connect({ host, port: Number(port), ca: caPem, key: ids[i].key, cert: ids[i].cert });
      sockets.push(s);
      let settled = false;
      const settle = (ok) => {
        if (settled) return;
        settled = true;
        if (ok) connected++;
        else failed++;
        done();
      };
      s.once('secureConnect', () => s.write(encodeConnect({ clientId: `bare-tls-${i}`, keepalive: KEEPALIVE })));
      s.once('data', (b) => settle(b[0] === 0x20 && b[3] === 0));
      s.once('error', () => settle(false));
    },
    connected: () => connected,
    failed: () => failed,
    close: async () => sockets.forEach((s) => s.destroy()),
  };
}

function transport(kind, ids, caPem) {
  const waiting = new Array(N);
  let failed = 0;
  const t = createMqttTransport(kind, { url, devices: N, connectTimeoutMs: 30_000, ...(caPem ? { tls: { ca: caPem } } : {}) }, {
    onConnect(dev, ok) {
      if (!ok) failed++;
      waiting[dev]();
      waiting[dev] = undefined;
    },
    onPublishAck() {},
    onConnectionLost() {},
  });
  return {
    run: (i, done) => {
      waiting[i] = done;
      t.connect(i, { clientId: `${kind}-${i}`, keepalive: KEEPALIVE, ...(ids ? { identity: ids[i] } : {}) });
    },
    connected: () => t.connectedCount(),
    failed: () => failed,
    disconnectAll: () => {
      for (let i = 0; i < N; i++) t.disconnect(i);
    },
    close: () => t.close(),
  };
}

// mqtt-packet builds a process-wide cache of 65,536 small number buffers on first use (~5 MB,
// used by mqtt.js and by the lean CONNECT alike): a fixed cost, so it goes into the baseline.
mqttPacket.generate({ cmd: 'connect', clientId: 'warm-up', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60 });
const { ids, certUs, caPem } = await issueAll();
// A run makes each device's TLS context with its certificate, before the run (engine/shard/wall.ts).
let contextUs = 0;
if (ids !== undefined && (mode.startsWith('lean-mtls') || mode === 'bare-tls-ctx')) {
  const t0 = performance.now();
  for (const id of ids) clientContext(id, { ca: caPem });
  contextUs = ((performance.now() - t0) * 1000) / N;
}
const base = await settledRss();
const subject =
  mode === 'bare-mqttjs' ? bareMqttjs() : mode.startsWith('bare-tls') ? bareTls(ids, caPem, mode === 'bare-tls-ctx') : transport(mode.startsWith('lean-mtls') ? 'lean' : mode, ids, caPem);
if (mode === 'lean-mtls-resume') {
  // A first pass that is not timed: each device's session ticket is kept; then all disconnect.
  await limitedLoop(N, concurrency, (i, done) => subject.run(i, done));
  subject.disconnectAll();
  const deadline = Date.now() + 30_000;
  while (subject.connected() > 0 && Date.now() < deadline) await sleep(50);
  await sleep(500);
}
// Connect in two halves with a measurement between them: the second half's growth is the
// marginal cost of one more idle device, free of fixed costs (V8's young generation grows to its
// maximum during any allocation burst and stays committed, whatever N is).
const half = N >> 1;
let cpu0 = cpuNow();
let t0 = performance.now();
await limitedLoop(half, concurrency, (i, done) => subject.run(i, done));
let seconds = (performance.now() - t0) / 1000;
let cpu1 = cpuNow();
let clientCpuUs = cpu1.client - cpu0.client;
let brokerCpuUs = cpu1.broker - cpu0.broker;
await sleep(500);
const middle = await settledRss();
cpu0 = cpuNow();
t0 = performance.now();
await limitedLoop(N - half, concurrency, (i, done) => subject.run(half + i, done));
seconds += (performance.now() - t0) / 1000;
cpu1 = cpuNow();
clientCpuUs += cpu1.client - cpu0.client;
brokerCpuUs += cpu1.broker - cpu0.broker;
await sleep(1000); // idle: let any post-connect work (keepalive set-up, buffers) settle
const after = await settledRss();
const connected = subject.connected();
const result = {
  mode,
  n: N,
  connected,
  failed: subject.failed(),
  seconds,
  connectsPerSec: connected / seconds,
  clientCpuUsPerConnect: clientCpuUs / N,
  brokerCpuUsPerConnect: brokerCpuUs / N,
  contextUs,
  rssPerDeviceBytes: (after.rss - base.rss) / connected,
  marginalRssPerDeviceBytes: (after.rss - middle.rss) / (N - half),
  heapPerDeviceBytes: (after.heapUsed - base.heapUsed) / connected,
  externalPerDeviceBytes: (after.external - base.external) / connected,
  certUs,
  baseRssMiB: base.rss / 2 ** 20,
  rssMiB: after.rss / 2 ** 20,
};
await subject.close();
console.log(JSON.stringify(result));
