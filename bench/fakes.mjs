// Throughput of each platform fake, with autocannon as the peer: requests per second and requests
// per CPU-second of the fake's process (/proc/<pid>/stat utime+stime around each run, so the number
// does not depend on the share of the box the fake got). Each fake runs as `fleetsim backend
// --preset NAME` (its own process); devices are provisioned first, then autocannon repeats a
// device's documented steady-state request. ThingsBoard's MQTT side (`thingsboard-mqtt`): mqtt.js
// clients, one per connection and device, publish QoS 1 telemetry with WINDOW publishes in flight
// each; counted are PUBACKs (the fake acknowledges a publish once it has handled it). Needs
// `npm run build`. AWS IoT (`aws-iot-mqtt`): AWS_CONNECTIONS devices provision themselves by claim
// over mutual TLS (CreateKeysAndCertificate, RegisterThing), then each connects as its thing with
// its own certificate and publishes at AWS_RATE per second (under AWS IoT's 100 publishes per
// second per connection, which the fake enforces by discarding the excess): QoS 1 telemetry
// (PUBACKs counted), then Jobs start-next requests (start-next/accepted answers counted). Its raw
// peer (`aws-iot-mqtt`, same row set): Debian Mosquitto on a mutual-TLS listener, the same number
// of sessions with certificates of its own CA publishing the same telemetry at the same rate.
// Names on the command line pick fakes (mender hawkbit thingsboard balena thingsboard-mqtt
// aws-iot-mqtt); none: all.
//   RUNS=3 SECONDS=3 CONNECTIONS=20 node bench/fakes.mjs   (WARMUP=1 s unrecorded first; WINDOW=10;
//   AWS_CONNECTIONS=50 AWS_RATE=90)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, sign } from 'node:crypto';
import autocannon from 'autocannon';
import mqtt from 'mqtt';
import { hawkbitTargetToken } from '../dist/wire/hawkbit-token.js';
import { createFleetCa, issueCertificate } from '../dist/identity/x509.js';
import { startLocalMosquitto } from '../dist/drivers/mqtt/local-mosquitto.js';

const RUNS = Number(process.env.RUNS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
/** Seconds of unrecorded load before each row's runs: the fake's JIT warms up (a cold first run read 3-8x lower). */
const WARMUP = Number(process.env.WARMUP ?? 1);
/** QoS 1 publishes each MQTT client keeps in flight. */
const WINDOW = Number(process.env.WINDOW ?? 10);
/** balena devices the log batches rotate over: the API takes 14 batches per device per 10 s. */
const BALENA_LOG_DEVICES = Number(process.env.BALENA_LOG_DEVICES ?? 6000);
/** AWS IoT: sessions, and publishes per second each (AWS IoT allows 100 per connection; the fake discards the excess). */
const AWS_CONNECTIONS = Number(process.env.AWS_CONNECTIONS ?? 50);
const AWS_RATE = Number(process.env.AWS_RATE ?? 90);
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts clock ticks of 10 ms

const cpuSec = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICK;
};

/** balena registration (open-balena-api device-provisioning): the fleet's provisioning key, the device's own api_key. */
async function balenaRegister(http, n) {
  const uuid = n.toString(16).padStart(32, '0');
  const key = `bench-key-${n}`;
  const r = await fetch(`${http}/device/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer balena-provisioning-key' },
    body: JSON.stringify({ application: 1, uuid, device_type: 'generic-aarch64', api_key: key, supervisor_version: '19.0.5' }),
  });
  if (r.status !== 201) throw new Error(`balena register: ${r.status} ${await r.text()}`);
  return { uuid, key };
}

/**
 * Per fake: the fleet key and, after devices provision, the autocannon requests to repeat (one
 * row each). `ok`: autocannon's status class that counts as answered (2xx, or 3xx for a 304).
 */
const FAKES = {
  mender: {
    key: 'tenant-token-demo',
    async request(http) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const body = JSON.stringify({ id_data: JSON.stringify({ sn: 'bench-1' }), pubkey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), tenant_token: 'tenant-token-demo' });
      const r = await fetch(`${http}/api/devices/v1/authentication/auth_requests`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-men-signature': sign('sha256', Buffer.from(body), privateKey).toString('base64') } });
      const jwt = await r.text();
      return { what: 'GET deployments/next (Bearer JWT)', url: `${http}/api/devices/v1/deployments/device/deployments/next?artifact_name=app-1.0&device_type=fleetsim`, method: 'GET', headers: { authorization: `Bearer ${jwt}` } };
    },
  },
  hawkbit: {
    key: 'hawkbit-fleet-secret',
    async request(http) {
      return { what: 'GET controller base (TargetToken)', url: `${http}/DEFAULT/controller/v1/bench-1`, method: 'GET', headers: { authorization: `TargetToken ${hawkbitTargetToken('hawkbit-fleet-secret', 'bench-1')}` } };
    },
  },
  thingsboard: {
    key: 'provision-key:provision-secret',
    async request(http) {
      const r = await fetch(`${http}/api/v1/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceName: 'bench-1', provisionDeviceKey: 'provision-key', provisionDeviceSecret: 'provision-secret' }) });
      const { credentialsValue } = await r.json();
      return { what: 'POST telemetry over HTTP (access token)', url: `${http}/api/v1/${credentialsValue}/telemetry`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ temperature: 21.5, humidity: 40 }) };
    },
  },
  balena: {
    key: '1:balena-provisioning-key',
    async requests(http) {
      const dev = await balenaRegister(http, 1);
      const auth = { authorization: `Bearer ${dev.key}` };
      // The supervisor's steady state: its target state is unchanged, If-None-Match gets a 304.
      const first = await fetch(`${http}/device/v3/${dev.uuid}/state`, { headers: auth });
      const etag = first.headers.get('etag');
      await first.text();
      const fleetUuid = `f1ee75${'1'.padStart(26, '0')}`;
      const commit = 'c0ffee'.padEnd(32, '0');
      const patch = { [dev.uuid]: { is_online: true, apps: { [fleetUuid]: { releases: { [commit]: { update_status: 'downloading', services: { main: { image: 'registry/main@sha256:' + '0'.repeat(64), status: 'Downloading', download_progress: 50 } } } } } } } };
      // Log batches rotate over many devices: one device may send 14 batches per 10 s (429 after).
      const logDevices = [];
      for (let n = 2; n < 2 + BALENA_LOG_DEVICES; n += 100) logDevices.push(...(await Promise.all(Array.from({ length: Math.min(100, 2 + BALENA_LOG_DEVICES - n) }, (_, i) => balenaRegister(http, n + i)))));
      const batch = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ message: `bench line ${i}: service started, listening on :8080`, timestamp: 1_700_000_000_000 + i, isSystem: false, isStdErr: false, serviceId: 1 })));
      let next = 0;
      return [
        { what: 'GET target state v3, If-None-Match (304)', url: `${http}/device/v3/${dev.uuid}/state`, method: 'GET', headers: { ...auth, 'if-none-match': etag }, ok: '3xx' },
        { what: 'PATCH state v3 (update_status)', url: `${http}/device/v3/state`, method: 'PATCH', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(patch) },
        {
          what: `POST log batch of 10 lines (${BALENA_LOG_DEVICES} devices in turn)`,
          url: `${http}/device/v2/${logDevices[0].uuid}/logs`,
          method: 'POST',
          requests: [{
            setupRequest: (req) => {
              const d = logDevices[next++ % logDevices.length];
              return { ...req, path: `/device/v2/${d.uuid}/logs`, headers: { ...req.headers, authorization: `Bearer ${d.key}`, 'content-type': 'application/json' }, body: batch };
            },
          }],
        },
      ];
    },
  },
};

async function startFake(name, key) {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'backend', '--preset', name, '--fleet-key', key], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!out.includes('press Ctrl+C')) {
    if (Date.now() > deadline) throw new Error(`${name}: no addresses printed`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const mqttUrl = /^  mqtt +(\S+)$/m.exec(out)?.[1];
  return { child, http: /^  http +(\S+)$/m.exec(out)[1], mqtt: mqttUrl };
}

async function stopFake(child) {
  child.kill('SIGTERM');
  await new Promise((r) => child.on('close', r));
}

const median = (rows, k) => rows.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];

async function httpRows(name, child, req) {
  const rows = [];
  const okClass = req.ok ?? '2xx';
  if (WARMUP > 0) await autocannon({ url: req.url, method: req.method, headers: req.headers, body: req.body, requests: req.requests, connections: CONNECTIONS, duration: WARMUP });
  for (let i = 0; i < RUNS; i++) {
    const cpu0 = cpuSec(child.pid);
    const r = await autocannon({ url: req.url, method: req.method, headers: req.headers, body: req.body, requests: req.requests, connections: CONNECTIONS, duration: SECONDS });
    const cpu = cpuSec(child.pid) - cpu0;
    const ok = r[okClass];
    rows.push({ reqPerSec: ok / SECONDS, reqPerCpuSec: ok / cpu, cpuSec: cpu, answered: okClass, notAnswered: r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'] - ok, errors: r.errors, p99ms: r.latency.p99 });
  }
  console.log(JSON.stringify({ fake: name, request: req.what, connections: CONNECTIONS, seconds: SECONDS, runs: rows, median: { reqPerSec: median(rows, 'reqPerSec'), reqPerCpuSec: median(rows, 'reqPerCpuSec'), p99ms: median(rows, 'p99ms') } }));
}

/** ThingsBoard MQTT: CONNECTIONS devices provisioned over HTTP, each an mqtt.js session publishing QoS 1 telemetry. */
async function thingsboardMqtt() {
  const { child, http, mqtt: url } = await startFake('thingsboard', FAKES.thingsboard.key);
  const tokens = await Promise.all(Array.from({ length: CONNECTIONS }, async (_, i) => {
    const r = await fetch(`${http}/api/v1/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceName: `bench-mqtt-${i}`, provisionDeviceKey: 'provision-key', provisionDeviceSecret: 'provision-secret' }) });
    return (await r.json()).credentialsValue;
  }));
  const clients = await Promise.all(tokens.map((t, i) => mqtt.connectAsync(url, { username: t, clientId: `bench-mqtt-${i}`, protocolVersion: 4, reconnectPeriod: 0 })));
  const payload = JSON.stringify({ temperature: 21.5, humidity: 40 });
  const rows = [];
  for (let i = -1; i < RUNS; i++) {
    // i = -1: the warm-up, not recorded.
    if (i < 0 && WARMUP <= 0) continue;
    let acked = 0;
    let failed = 0;
    let running = true;
    const cpu0 = cpuSec(child.pid);
    const t0 = process.hrtime.bigint();
    const pump = (c) =>
      new Promise((done) => {
        let inFlight = 0;
        const send = () => {
          while (running && inFlight < WINDOW) {
            inFlight++;
            c.publish('v1/devices/me/telemetry', payload, { qos: 1 }, (err) => {
              inFlight--;
              if (err) failed++;
              else if (running) acked++;
              if (running) send();
              else if (inFlight === 0) done();
            });
          }
        };
        send();
      });
    const pumps = clients.map(pump);
    await new Promise((r) => setTimeout(r, (i < 0 ? WARMUP : SECONDS) * 1000));
    running = false;
    const cpu = cpuSec(child.pid) - cpu0;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    await Promise.all(pumps);
    if (i >= 0) rows.push({ pubPerSec: acked / secs, pubPerCpuSec: acked / cpu, cpuSec: cpu, failed });
  }
  await Promise.all(clients.map((c) => c.endAsync()));
  await stopFake(child);
  console.log(JSON.stringify({ fake: 'thingsboard-mqtt', request: `PUBLISH QoS 1 v1/devices/me/telemetry, PUBACK counted (${WINDOW} in flight per session)`, connections: CONNECTIONS, seconds: SECONDS, runs: rows, median: { pubPerSec: median(rows, 'pubPerSec'), pubPerCpuSec: median(rows, 'pubPerCpuSec') } }));
}

/** One AWS IoT device by claim: CreateKeysAndCertificate, RegisterThing, on a session with the claim certificate. */
async function awsClaim(url, tlsInfo, serial) {
  const c = await mqtt.connectAsync(url, { ca: tlsInfo.ca, cert: tlsInfo.claimCert, key: tlsInfo.claimKey, clientId: serial, protocolVersion: 4, reconnectPeriod: 0 });
  const register = `$aws/provisioning-templates/${tlsInfo.templateName}/provision/json`;
  await c.subscribeAsync(['$aws/certificates/create/json/+', `${register}/+`]);
  const answer = (topic) => new Promise((resolve, reject) => c.on('message', (t, p) => {
    if (t === `${topic}/accepted`) resolve(JSON.parse(p.toString()));
    else if (t === `${topic}/rejected`) reject(new Error(`${topic}: ${p}`));
  }));
  const created = answer('$aws/certificates/create/json');
  await c.publishAsync('$aws/certificates/create/json', '{}', { qos: 1 });
  const { certificatePem, privateKey, certificateOwnershipToken } = await created;
  const registered = answer(register);
  await c.publishAsync(register, JSON.stringify({ certificateOwnershipToken, parameters: { SerialNumber: serial } }), { qos: 1 });
  const { thingName } = await registered;
  await c.endAsync();
  return { thingName, cert: certificatePem, key: privateKey };
}

/**
 * Paced MQTT load: every client sends `rate` messages a second (a burst each 100 ms) for `seconds`;
 * `count(c)` resolves the messages answered since the last call. Returns answered per second and
 * per CPU-second of process `pid`.
 */
async function pacedRun(pid, clients, seconds, send, answered) {
  const perTick = Math.max(1, Math.round(AWS_RATE / 10));
  const cpu0 = cpuSec(pid);
  const t0 = process.hrtime.bigint();
  const before = answered();
  const timer = setInterval(() => {
    for (const c of clients) for (let k = 0; k < perTick; k++) send(c);
  }, 100);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  const n = answered() - before;
  const cpu = cpuSec(pid) - cpu0;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { perSec: n / secs, perCpuSec: n / cpu, cpuSec: cpu, offeredPerSec: (clients.length * perTick * 10) };
}

async function pacedRows(label, request, pid, clients, send, answered) {
  if (WARMUP > 0) await pacedRun(pid, clients, WARMUP, send, answered);
  const rows = [];
  for (let i = 0; i < RUNS; i++) rows.push(await pacedRun(pid, clients, SECONDS, send, answered));
  console.log(JSON.stringify({ fake: label, request, connections: clients.length, ratePerConnection: AWS_RATE, seconds: SECONDS, runs: rows, median: { perSec: median(rows, 'perSec'), perCpuSec: median(rows, 'perCpuSec') } }));
}

/** AWS IoT: devices by claim over mutual TLS, then telemetry and Jobs start-next on their own sessions; Mosquitto with mTLS as the raw peer. */
async function awsIotMqtt() {
  const { child, http, mqtt: url } = await startFake('aws-iot', 'FleetsimTemplate');
  const tlsInfo = await (await fetch(`${http}/v1/fake/device-tls`)).json();
  const devices = [];
  for (let i = 0; i < AWS_CONNECTIONS; i += 10) {
    devices.push(...(await Promise.all(Array.from({ length: Math.min(10, AWS_CONNECTIONS - i) }, (_, k) => awsClaim(url, tlsInfo, `bench-aws-${i + k}`)))));
  }
  const clients = await Promise.all(devices.map((d) => mqtt.connectAsync(url, { ca: tlsInfo.ca, cert: d.cert, key: d.key, clientId: d.thingName, protocolVersion: 4, reconnectPeriod: 0 }).then((c) => Object.assign(c, { thing: d.thingName }))));
  let acked = 0;
  let answers = 0;
  await Promise.all(clients.map((c) => c.subscribeAsync(`$aws/things/${c.thing}/jobs/start-next/+`)));
  for (const c of clients) c.on('message', (t) => t.endsWith('/start-next/accepted') && answers++);
  const payload = JSON.stringify({ seq: 1, ts: 0, pad: 'x'.repeat(150) });
  await pacedRows('aws-iot-mqtt', `PUBLISH QoS 1 dt/fleetsim/<thing>/telemetry over mTLS, PUBACK counted (${AWS_RATE}/s per session)`, child.pid, clients,
    (c) => c.publish(`dt/fleetsim/${c.thing}/telemetry`, payload, { qos: 1 }, (err) => !err && acked++), () => acked);
  await pacedRows('aws-iot-mqtt', `Jobs start-next request, start-next/accepted answer counted (${AWS_RATE}/s per session)`, child.pid, clients,
    (c) => c.publish(`$aws/things/${c.thing}/jobs/start-next`, '{}', { qos: 1 }), () => answers);
  await Promise.all(clients.map((c) => c.endAsync()));
  await stopFake(child);

  // The raw peer: Mosquitto on a mutual-TLS listener, the same sessions and telemetry, no AWS semantics.
  const ca = await createFleetCa('bench mosquitto CA');
  const server = await issueCertificate(ca, 'localhost', { server: ['127.0.0.1', 'localhost'] });
  const broker = await startLocalMosquitto({ tls: { ca: ca.pem.cert, cert: server.cert, key: server.key, requireCertificate: true } });
  const ids = await Promise.all(Array.from({ length: AWS_CONNECTIONS }, (_, i) => issueCertificate(ca, `bench-peer-${i}`, { client: true })));
  const peers = await Promise.all(ids.map((id, i) => mqtt.connectAsync(broker.url, { ca: ca.pem.cert, cert: id.cert, key: id.key, clientId: `bench-peer-${i}`, protocolVersion: 4, reconnectPeriod: 0 }).then((c) => Object.assign(c, { thing: `bench-peer-${i}` }))));
  let peerAcked = 0;
  await pacedRows('mosquitto-mtls (peer)', `PUBLISH QoS 1 dt/fleetsim/<client>/telemetry over mTLS, PUBACK counted (${AWS_RATE}/s per session)`, broker.pid, peers,
    (c) => c.publish(`dt/fleetsim/${c.thing}/telemetry`, payload, { qos: 1 }, (err) => !err && peerAcked++), () => peerAcked);
  await Promise.all(peers.map((c) => c.endAsync()));
  await broker.stop();
}

const only = process.argv.slice(2);
for (const [name, f] of Object.entries(FAKES)) {
  if (only.length && !only.includes(name)) continue;
  const { child, http } = await startFake(name, f.key);
  const reqs = f.requests ? await f.requests(http) : [await f.request(http)];
  for (const req of reqs) await httpRows(name, child, req);
  await stopFake(child);
}
if (!only.length || only.includes('thingsboard-mqtt')) await thingsboardMqtt();
if (!only.length || only.includes('aws-iot-mqtt')) await awsIotMqtt();
