// Micro-bench: CPU of this process per QoS 1 PUBLISH -> PUBACK round trip against the embedded
// backend's lean broker in-process, C raw-socket devices (provisioned first) with one publish in
// flight each: both ends of one MQTT exchange on an open connection (the end-of-line test's).
//   node bench/micro-mqtt-puback.mjs <dist> [round trips = 100000] [devices = 64]
// Prints one JSON line (usPerAck: user + system CPU per round trip, after 20,000 warm-up ones).
import net from 'node:net';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
const dist = process.argv[2];
const N = Number(process.argv[3] ?? 100000), C = Number(process.argv[4] ?? 64), WARM = 20000;
const imp = (f) => import(pathToFileURL(`${dist}/${f}`).href);
const { startEmbeddedBackend } = await imp('backend/index.js');
const { encodeConnect, encodePublish } = await imp('drivers/mqtt/lean-frames.js');
const { telemetryTopic, encodeTelemetry, HTTP_PATHS } = await imp('wire/reference-protocol.js');
const be = await startEmbeddedBackend({ fleetKey: 'k' });
const mq = new URL(be.mqttUrl);
const load = os.loadavg()[0];
let done = 0, sent = 0, t0, c0;
const devs = [];
for (let c = 0; c < C; c++) {
  const r = await fetch(be.httpUrl + HTTP_PATHS.provision, { method: 'POST', body: JSON.stringify({ serial: `m${c}`, fleetKey: 'k' }) });
  devs.push(await r.json());
}
await new Promise((resolve) => {
  for (const d of devs) {
    const s = net.connect({ port: +mq.port, host: mq.hostname, noDelay: true });
    const frames = [];
    for (let i = 0; i < 16; i++) frames.push(encodePublish(telemetryTopic(d.deviceId), encodeTelemetry(i, Date.now(), 32), 1, i + 1));
    let k = 0;
    const next = () => { if (sent < N + WARM) { sent++; s.write(frames[k++ & 15]); } };
    s.on('connect', () => s.write(encodeConnect({ clientId: d.deviceId, username: d.deviceId, password: d.deviceKey, keepalive: 60 })));
    let connacked = false;
    s.on('data', (b) => {
      let at = 0;
      while (at < b.length) {
        const t = b[at] >> 4; at += 2 + b[at + 1];
        if (t === 2) { connacked = true; next(); continue; }
        done++;
        if (done === WARM) { t0 = process.hrtime.bigint(); c0 = process.cpuUsage(); }
        if (done === N + WARM) return resolve();
        next();
      }
    });
  }
});
const cu = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify({ dist, load: +load.toFixed(2), usPerAck: +((cu.user + cu.system) / N).toFixed(2), userUs: +(cu.user / N).toFixed(2), sysUs: +(cu.system / N).toFixed(2), perS: Math.round(N / wall * 1000) }));
await be.close();
process.exit(0);
