// TLS benchmark, side by side in one run: the connect rate and the CPU per connect (this client's
// and the broker's, from /proc) of the lean transport with mutual TLS (an EC P-256 client
// certificate per device from fleetsim's fleet CA, against a Mosquitto with require_certificate),
// first connects and resumed reconnects, next to its plain-TCP connect; and RSS per connected idle
// TLS device, lean-mtls next to a bare tls.connect loop (one TLS socket and one raw CONNECT per
// device; from PEM per connect, and with contexts made beforehand).
// Each run is a fresh child process and a fresh broker; modes rotate. After `npm run build`:
//   N=2000 R=3 CONCURRENCY=100 node bench/tls.mjs
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalMosquitto } from '../dist/drivers/mqtt/local-mosquitto.js';
import { createFleetCa, issueCertificate } from '../dist/identity/x509.js';
import { connectMedians, envInt, listenOverflows, machine, runChild } from './lib/common.mjs';

const N = envInt('N', 2000);
const R = envInt('R', 3);
const CONCURRENCY = envInt('CONCURRENCY', 100);
const MODES = ['lean', 'lean-mtls', 'lean-mtls-resume', 'bare-tls', 'bare-tls-ctx'];
const child = new URL('./connect-child.mjs', import.meta.url).pathname;

const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-bench-tls-'));
const ca = await createFleetCa('bench fleet CA');
writeFileSync(path.join(dir, 'ca.crt'), ca.pem.cert);
writeFileSync(path.join(dir, 'ca.key'), ca.pem.key);
const server = await issueCertificate(ca, 'localhost', { server: ['127.0.0.1', 'localhost'] });

console.log(JSON.stringify({ bench: 'tls', N, R, CONCURRENCY, machine: machine() }));
const results = Object.fromEntries(MODES.map((m) => [m, []]));
try {
  for (let r = 0; r < R; r++) {
    const order = MODES.map((_, i) => MODES[(i + r) % MODES.length]);
    for (const mode of order) {
      const secure = mode !== 'lean';
      const broker = await startLocalMosquitto({ maxConnections: N + 100, ...(secure ? { tls: { ca: ca.pem.cert, cert: server.cert, key: server.key, requireCertificate: true } } : {}) });
      try {
        const overflowsBefore = listenOverflows();
        const res = await runChild(child, [mode, broker.url, N, CONCURRENCY, ...(secure ? [dir] : ['-']), broker.pid], ['--expose-gc']);
        res.listenOverflows = listenOverflows() - overflowsBefore;
        results[mode].push(res);
        console.log(JSON.stringify({ run: r + 1, ...res }));
      } finally {
        await broker.stop();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (x, d = 0) => x.toFixed(d).padStart(11);
console.log(`\nmedians over ${R} runs, N = ${N}, concurrency = ${CONCURRENCY}`);
console.log('mode               connects/s  client us/conn  broker us/conn   RSS B/dev  marginal B/dev  cert us  ctx us  failed   runs (connects/s; client+broker us/conn)');
const med = {};
for (const mode of MODES) {
  const rs = results[mode];
  med[mode] = connectMedians(rs);
  const m = med[mode];
  const runs = rs.map((x) => `${x.connectsPerSec.toFixed(0)}; ${(x.clientCpuUsPerConnect + x.brokerCpuUsPerConnect).toFixed(0)}`).join(' | ');
  console.log(`${mode.padEnd(17)}${fmt(m.rate)}${fmt(m.clientCpuUs).padStart(16)}${fmt(m.brokerCpuUs).padStart(16)}${fmt(m.rss)}${fmt(m.marginalRss).padStart(16)}${fmt(m.certUs).padStart(9)}${fmt(m.contextUs).padStart(8)}${String(m.failed).padStart(8)}   ${runs}`);
}
const cpuOf = (m) => m.clientCpuUs + m.brokerCpuUs;
for (const mode of ['lean-mtls', 'lean-mtls-resume']) {
  const ratio = med[mode].rate / med.lean.rate;
  const cpuRatio = cpuOf(med.lean) / cpuOf(med[mode]);
  console.log(`\n${mode} / lean plain TCP: connect rate ${ratio.toFixed(2)}x, by CPU per connect (client + broker) ${cpuRatio.toFixed(2)}x (bar >= 0.5x: rate ${ratio >= 0.5 ? 'met' : 'MISSED'}, CPU ${cpuRatio >= 0.5 ? 'met' : 'MISSED'})`);
}
// Marginal (second half of the devices) is the cost of one more device; whole-run RSS also carries
// what issuing the certificates left in the heap before the baseline, which differs by mode.
const kib = (b) => (b / 1024).toFixed(1);
console.log(`RSS per connected idle TLS device, marginal: lean-mtls ${kib(med['lean-mtls'].marginalRss)} KiB, bare tls.connect ${kib(med['bare-tls'].marginalRss)} KiB (${(med['lean-mtls'].marginalRss / med['bare-tls'].marginalRss).toFixed(2)}x); plain-TCP lean ${kib(med.lean.marginalRss)} KiB`);
console.log(`issuing a device certificate (EC P-256 key + X.509, before the run): ${med['lean-mtls'].certUs.toFixed(0)} us each`);
console.log(JSON.stringify({ medians: med }));
