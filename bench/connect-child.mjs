// One connect-benchmark run in a fresh process: connect N idle clients, report rate and RSS.
// Usage: node --expose-gc bench/connect-child.mjs <bare-mqttjs|lean|mqttjs|lean-mtls|bare-tls> <url> <N> <concurrency> [caDir]
// lean-mtls and bare-tls (bench/tls.mjs) connect to a TLS broker with a client certificate per
// device, issued by the fleet CA in caDir before the timed part (as a run issues them before its
// shards are ready; the issuing cost is reported as certUs). lean-mtls is fleetsim's lean
// transport; bare-tls is tls.connect + one raw CONNECT per device, the floor a TLS client can reach.
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { createMqttTransport } from '../dist/drivers/mqtt/index.js';
import { encodeConnect } from '../dist/drivers/mqtt/lean-frames.js';
import { issueCertificate, loadFleetCa } from '../dist/identity/x509.js';
import { limitedLoop, sleep } from './lib/common.mjs';

const [mode, url, nArg, concArg, caDir] = process.argv.slice(2);
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
  if (caDir === undefined) return { ids: undefined, certUs: 0, caPem: undefined };
  const caPem = { cert: readFileSync(`${caDir}/ca.crt`, 'utf8'), key: readFileSync(`${caDir}/ca.key`, 'utf8') };
  const ca = await loadFleetCa(caPem);
  const ids = new Array(N);
  const t0 = performance.now();
  await limitedLoop(N, 8, (i, done) => issueCertificate(ca, `dev-${i}`, { client: true }).then((id) => { ids[i] = id; done(); }));
  return { ids, certUs: ((performance.now() - t0) * 1000) / N, caPem: caPem.cert };
}

function bareTls(ids, caPem) {
  const { hostname: host, port } = new URL(url);
  const sockets = [];
  let failed = 0;
  let connected = 0;
  return {
    run: (i, done) => {
      const s = tls.connect({ host, port: Number(port), ca: caPem, key: ids[i].key, cert: ids[i].cert });
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
    close: () => t.close(),
  };
}

// mqtt-packet builds a process-wide cache of 65,536 small number buffers on first use (~5 MB,
// used by mqtt.js and by the lean CONNECT alike): a fixed cost, so it goes into the baseline.
mqttPacket.generate({ cmd: 'connect', clientId: 'warm-up', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60 });
const { ids, certUs, caPem } = await issueAll();
const base = await settledRss();
const subject = mode === 'bare-mqttjs' ? bareMqttjs() : mode === 'bare-tls' ? bareTls(ids, caPem) : transport(mode === 'lean-mtls' ? 'lean' : mode, ids, caPem);
// Connect in two halves with a measurement between them: the second half's growth is the
// marginal cost of one more idle device, free of fixed costs (V8's young generation grows to its
// maximum during any allocation burst and stays committed, whatever N is).
const half = N >> 1;
let t0 = performance.now();
await limitedLoop(half, concurrency, (i, done) => subject.run(i, done));
let seconds = (performance.now() - t0) / 1000;
await sleep(500);
const middle = await settledRss();
t0 = performance.now();
await limitedLoop(N - half, concurrency, (i, done) => subject.run(half + i, done));
seconds += (performance.now() - t0) / 1000;
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
