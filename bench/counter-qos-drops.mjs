// Does a QoS 1 subscription keep more than QoS 0 from Mosquitto 2.0 when the subscriber falls
// behind? A raw-socket subscriber on fleet/+/telemetry stops reading while an mqtt.js publisher
// sends M QoS 1 messages (200 B) and gets them acked, then reads again and counts what arrives.
// With local-mosquitto's config (max_inflight_messages 0, max_queued_messages 10,000) both QoS
// drop past the queue (bench/RESULTS.md, "Coordinator per telemetry message and per device").
// After `npm run build`:  node bench/counter-qos-drops.mjs 0 40000; node bench/counter-qos-drops.mjs 1 40000
import net from 'node:net';
import mqtt from 'mqtt';
import { startLocalMosquitto } from '../dist/drivers/mqtt/local-mosquitto.js';
import { encodeConnect, encodeSubscribe } from '../dist/wire/mqtt-client-frames.js';
const QOS = Number(process.argv[2]); const M = Number(process.argv[3] ?? 40000);
const b = await startLocalMosquitto({});
const u = new URL(b.url);
const s = net.connect({ host: u.hostname, port: Number(u.port) });
let count = 0, buf = Buffer.alloc(0), subacked = false;
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  const acks = [];
  for (;;) {
    if (buf.length < 2) break;
    let len = 0, mul = 1, p = 1;
    for (;; p++) { if (p >= buf.length) { len = -1; break; } len += (buf[p] & 0x7f) * mul; if ((buf[p] & 0x80) === 0) break; mul *= 128; }
    if (len < 0 || buf.length < p + 1 + len) break;
    const t = buf[0] >> 4;
    if (t === 9) subacked = true;
    if (t === 3) { count++; if ((buf[0] >> 1) & 3) { const tl = buf.readUInt16BE(p + 1); acks.push(Buffer.from([0x40, 2, buf[p + 3 + tl], buf[p + 4 + tl]])); } }
    buf = buf.subarray(p + 1 + len);
  }
  if (acks.length) s.write(Buffer.concat(acks));
});
s.write(encodeConnect({ clientId: 'cnt', keepalive: 0 }));
s.write(encodeSubscribe(1, 'fleet/+/telemetry', QOS));
while (!subacked) await new Promise((r) => setTimeout(r, 20));
s.pause();
const pub = await mqtt.connectAsync(b.url, { clientId: 'pub' });
const payload = Buffer.alloc(200, 120);
let inflight = [];
for (let i = 0; i < M; i++) { inflight.push(pub.publishAsync(`fleet/d-${i % 1000}/telemetry`, payload, { qos: 1 })); if (inflight.length >= 500) { await Promise.all(inflight); inflight = []; } }
await Promise.all(inflight);
console.log('published+acked', M, 'while subscriber paused; received so far', count);
s.resume();
let last = -1; while (last !== count) { last = count; await new Promise((r) => setTimeout(r, 1000)); }
console.log(`QoS ${QOS}: received ${count} of ${M}`);
await pub.endAsync(); s.destroy(); await b.stop();
