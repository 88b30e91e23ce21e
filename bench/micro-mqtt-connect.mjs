// Micro-bench: CPU of this process per new connection, both ends in this process, 100 connects
// outstanding, every connection kept open (as a provisioned device's is):
//   mqtt: net.connect to the embedded backend's lean broker, CONNECT -> CONNACK
//   echo: the same against a bare net.Server answering the CONNECT with 4 bytes (no broker logic)
//   tcp:  net.connect + accept only (Node's socket set-up on both ends and the kernel's handshake)
//   subscribe: mqtt, then SUBSCRIBE to the device's commands topic once CONNACK came -> SUBACK
//   pipelined: CONNECT and SUBSCRIBE in one write, without waiting for CONNACK (MQTT 3.1.1 §3.1;
//              options.mqttPipelining) -> CONNACK + SUBACK
//   node bench/micro-mqtt-connect.mjs <dist> [connections = 8000] [mqtt|echo|tcp|subscribe|pipelined]
// Prints one JSON line (usPerConn: user + system CPU per connection).
import net from 'node:net';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
const dist = process.argv[2];
const N = Number(process.argv[3] ?? 8000), CONC = 100, mode = process.argv[4] ?? 'mqtt';
const imp = (f) => import(pathToFileURL(`${dist}/${f}`).href);
const { startEmbeddedBackend } = await imp('backend/index.js');
const { encodeConnect, encodeSubscribe } = await imp('drivers/mqtt/lean-frames.js');
const { HTTP_PATHS, commandsTopic } = await imp('wire/reference-protocol.js');
const be = await startEmbeddedBackend({ fleetKey: 'k' });
let port = +new URL(be.mqttUrl).port;
let srv;
if (mode === 'echo' || mode === 'tcp') { const ack = Buffer.from([0x20, 2, 0, 0]); srv = net.createServer((s) => { s.setNoDelay(true); s.on('data', () => { if (mode === 'echo') s.write(ack); }); }); srv.listen(0, '127.0.0.1'); await new Promise((r) => srv.once('listening', r)); port = srv.address().port; }
const r = await fetch(be.httpUrl + HTTP_PATHS.provision, { method: 'POST', body: JSON.stringify({ serial: 'c1', fleetKey: 'k' }) });
const d = await r.json();
const subscribe = encodeSubscribe(1, commandsTopic(d.deviceId), 1);
// Bytes the device reads before it is done: CONNACK (4), and SUBACK (5) when it subscribes.
const answerBytes = mode === 'subscribe' || mode === 'pipelined' ? 9 : 1;
const load = os.loadavg()[0];
const sockets = [];
let started = 0, done = 0;
const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
await new Promise((resolve) => {
  const one = () => {
    if (started >= N) return;
    const id = ++started; // each connection its own client id (the same one twice is a takeover)
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    sockets.push(s);
    let got = 0;
    s.on('connect', () => {
      if (mode === 'tcp') { if (++done === N) resolve(); else one(); return; }
      const connect = encodeConnect({ clientId: `${d.deviceId}-${id}`, username: d.deviceId, password: d.deviceKey, keepalive: 600 });
      s.write(mode === 'pipelined' ? Buffer.concat([connect, subscribe]) : connect);
    });
    s.on('data', (chunk) => {
      const before = got;
      got += chunk.length;
      if (mode === 'subscribe' && before < 4 && got >= 4 && got < answerBytes) s.write(subscribe);
      if (got >= answerBytes && before < answerBytes) { if (++done === N) resolve(); else one(); }
    });
    s.on('error', () => {});
  };
  for (let i = 0; i < CONC; i++) one();
});
const cu = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify({ dist, mode, load: +load.toFixed(2), usPerConn: +((cu.user + cu.system) / N).toFixed(1), userUs: +(cu.user / N).toFixed(1), sysUs: +(cu.system / N).toFixed(1), perS: Math.round(N / wall * 1000) }));
process.exit(0);
