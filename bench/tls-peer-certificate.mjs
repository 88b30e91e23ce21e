// What a mutual-TLS server pays to read the client's certificate on a fresh socket (the AWS IoT
// fake does it once per CONNECT): getPeerCertificate(false).raw against getPeerX509Certificate().raw,
// CPU of the first call on each of M sequential loopback connections (the first connection, which
// loads modules, left out). Needs `npm run build`.
//   node bench/tls-peer-certificate.mjs            # M=300, both ways, twice each, interleaved
import tls from 'node:tls';
import { createFleetCa, issueCertificate } from '../dist/identity/x509.js';
import { envInt, median } from './lib/common.mjs';

const M = envInt('M', 300);
const ca = await createFleetCa('bench CA');
const srv = await issueCertificate(ca, 'localhost', { server: ['127.0.0.1'] });
const dev = await issueCertificate(ca, 'dev-1', { client: true });
const ctx = tls.createSecureContext({ ca: ca.pem.cert, key: dev.key, cert: dev.cert });
const read = { object: (s) => s.getPeerCertificate(false)?.raw, x509: (s) => s.getPeerX509Certificate()?.raw };

async function run(way) {
  const costs = [];
  const server = tls.createServer({ key: srv.key, cert: srv.cert, ca: ca.pem.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    const t0 = process.cpuUsage();
    read[way](s);
    const t = process.cpuUsage(t0);
    costs.push(t.user + t.system);
    s.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  for (let i = 0; i < M; i++) {
    await new Promise((r) => {
      const c = tls.connect({ port, host: '127.0.0.1', secureContext: ctx, servername: 'localhost' });
      c.on('data', () => {});
      c.on('end', () => c.end());
      c.on('close', r);
      c.on('error', r);
    });
  }
  server.close();
  return costs.slice(1).reduce((a, b) => a + b, 0) / (costs.length - 1);
}

const results = { object: [], x509: [] };
for (const way of ['object', 'x509', 'x509', 'object']) results[way].push(await run(way));
for (const [way, us] of Object.entries(results)) console.log(`${way === 'object' ? 'getPeerCertificate(false).raw' : 'getPeerX509Certificate().raw '}  ${us.map((u) => u.toFixed(0)).join(', ')} µs per first call (median ${median(us).toFixed(0)})`);
