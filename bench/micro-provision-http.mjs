// Micro-bench: CPU of this process per provisioning request (POST /v1/provision -> 201) against
// the embedded backend's HTTP API (no MQTT) in-process (its lean front, backend/http-front.ts, since
// round 13; Node's http.Server in builds before it), over C keep-alive connections with one
// request in flight each, from a raw-socket client: both ends of the HTTP exchange a device's
// provisioning costs, without the rest of a run. Side by side with another build's dist/:
//   for i in 1 2 3 4 5 6 7 8; do node bench/micro-provision-http.mjs <old>/dist; node bench/micro-provision-http.mjs dist; done
// Args: <dist> [requests = 40000] [connections = 64] [http|floor|sketch|poll]. Prints one JSON line
// (usPerReq: user + system CPU per request, after 8,000 warm-up requests).
// `poll`: target polls with If-None-Match, each answered 304 (see polls() below), instead of provisioning.
// `floor`: the same requests answered by a bare net.Server that finds the end of each request
// (head end + Content-Length) and writes a fixed 201 of the same size: no HTTP parsing, no
// handler, no store. What a server on `net` cannot go below; the gap to `http` is the most a
// leaner HTTP server for the embedded backend could save (Node's parser, IncomingMessage,
// ServerResponse, and the handler's own work, which any server keeps).
// `sketch`: the floor plus what a lean server would still do: the request line and headers split
// into strings, the body parsed, the device provisioned in a DeviceStore, the JSON answer framed
// with its Content-Length and a Date cached per second. Not a server (no validation, no errors):
// an estimate of a lean HTTP server's cost for this route.
import net from 'node:net';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
const dist = process.argv[2];
const N = Number(process.argv[3] ?? 40000), C = Number(process.argv[4] ?? 64), WARM = 8000, mode = process.argv[5] ?? 'http';
const { startEmbeddedBackend } = await import(pathToFileURL(`${dist}/backend/index.js`).href);
const be = await startEmbeddedBackend({ fleetKey: 'k', mqtt: false });
let url = new URL(be.httpUrl);
const { DeviceStore } = await import(pathToFileURL(`${dist}/backend/store.js`).href);
const store = new DeviceStore('k');
let date = '', dateS = 0;
if (mode === 'floor' || mode === 'sketch') {
  const body = '{"deviceId":"dev-00000000-0000-0000-0000-000000000000","deviceKey":"0123456789abcdef0123456789abcdef"}';
  const answer = Buffer.from(`HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nDate: Thu, 03 Dec 2026 22:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30\r\n\r\n${body}`);
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    let pending = '';
    s.setEncoding('latin1');
    s.on('data', (d) => {
      pending += d;
      let e;
      while ((e = pending.indexOf('\r\n\r\n')) >= 0) {
        const m = /content-length: (\d+)/i.exec(pending.slice(0, e));
        const end = e + 4 + (m ? +m[1] : 0);
        if (pending.length < end) break;
        if (mode === 'floor') {
          pending = pending.slice(end);
          s.write(answer);
          continue;
        }
        const lines = pending.slice(0, e).split('\r\n');
        const [method, path] = lines[0].split(' ');
        const headers = {};
        for (let i = 1; i < lines.length; i++) { const c = lines[i].indexOf(':'); headers[lines[i].slice(0, c).toLowerCase()] = lines[i].slice(c + 1).trim(); }
        const doc = JSON.parse(pending.slice(e + 4, end));
        pending = pending.slice(end);
        if (method !== 'POST' || path !== '/v1/provision' || doc.fleetKey !== store.fleetKey || !DeviceStore.isValidSerial(doc.serial)) throw new Error('unexpected request');
        const rec = store.provision(doc.serial);
        const out = JSON.stringify({ deviceId: rec.id, deviceKey: rec.key });
        const now = Math.floor(Date.now() / 1000);
        if (now !== dateS) { dateS = now; date = new Date(now * 1000).toUTCString(); }
        s.write(`HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(out)}\r\nDate: ${date}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30\r\n\r\n${out}`, 'latin1');
      }
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  url = new URL(`http://127.0.0.1:${srv.address().port}`);
}
let sent = 0, done = 0, t0, c0;
const load = os.loadavg()[0];
const provisionRequest = (serial) => { const body = `{"serial":"${serial}","fleetKey":"k"}`; return `POST /v1/provision HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`; };

/**
 * One keep-alive client connection: `start(socket)` once connected, then `answer(status, head,
 * body, socket)` for each whole response (framed by Content-Length, or chunked up to its last chunk).
 */
function client(start, answer) {
  const s = net.connect(+url.port, url.hostname);
  s.setNoDelay(true);
  s.setEncoding('latin1');
  let buf = '';
  s.on('connect', () => start(s));
  s.on('data', (d) => {
    buf += d;
    let e;
    while ((e = buf.indexOf('\r\n\r\n')) >= 0) {
      const head = buf.slice(0, e);
      const m = /content-length: (\d+)/i.exec(head);
      let end;
      if (m) { end = e + 4 + +m[1]; if (buf.length < end) break; }
      else if (/transfer-encoding: chunked/i.test(head)) { const z = buf.indexOf('\r\n0\r\n\r\n', e); if (z < 0) break; end = z + 7; }
      else end = e + 4;
      const body = buf.slice(e + 4, end);
      buf = buf.slice(end);
      if (answer(head.slice(9, 12), head, body, s) === false) return;
    }
  });
}

/** Counts one timed answer (after WARM untimed ones); false once all are in (then `resolve` was called). */
function counted(resolve) {
  done++;
  if (done === WARM) { t0 = process.hrtime.bigint(); c0 = process.cpuUsage(); }
  if (done === N + WARM) { resolve(); return false; }
  return true;
}

/** Provisioning: every request a new device's POST /v1/provision, answered 201. */
function provisions() {
  return new Promise((resolve) => {
    const next = (s) => { if (sent < N + WARM) s.write(provisionRequest(`sn-${sent++}`)); };
    for (let c = 0; c < C; c++) {
      client(next, (status, head, _body, s) => {
        if (status !== '201') throw new Error(head);
        if (!counted(resolve)) return false;
        next(s);
      });
    }
  });
}

/**
 * `poll` mode: each connection provisions a device of its own, reads its target once (200, for
 * the ETag), then polls it back to back with If-None-Match: every timed request is a 304, the
 * answer a fleet's idle poll gets.
 */
function polls() {
  return new Promise((resolve) => {
    for (let c = 0; c < C; c++) {
      let poll = '';
      client((s) => s.write(provisionRequest(`poll-${c}`)), (status, head, body, s) => {
        if (status === '201') {
          const { deviceId, deviceKey } = JSON.parse(body);
          poll = `GET /v1/devices/${deviceId}/target HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Device ${deviceKey}\r\n`;
          s.write(poll + '\r\n');
          return;
        }
        if (status === '200') poll += `if-none-match: ${/etag: (.*)/i.exec(head)[1].trim()}\r\n\r\n`;
        else if (status !== '304') throw new Error(head);
        else if (!counted(resolve)) return false;
        if (sent++ < N + WARM) s.write(poll);
      });
    }
  });
}

await (mode === 'poll' ? polls() : provisions());
const cu = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(JSON.stringify({ dist, mode, load: +load.toFixed(2), usPerReq: +((cu.user + cu.system) / N).toFixed(2), userUs: +(cu.user / N).toFixed(2), sysUs: +(cu.system / N).toFixed(2), reqPerS: Math.round(N / wall * 1000) }));
await be.close();
process.exit(0);
