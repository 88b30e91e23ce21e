// Throughput of the undici HTTP transport against the embedded backend, in one process.
// Provisions DEVICES devices, then keeps CONCURRENCY target polls in flight until REQUESTS have
// been answered, for both connection modes. Run after `npm run build`:
//   node bench/http-transport.mjs
//   DEVICES=2000 REQUESTS=100000 CONCURRENCY=256 POOL=16 node bench/http-transport.mjs
// Client and server share one event loop here, so the numbers are a floor for either side.
import { startEmbeddedBackend } from '../dist/backend/index.js';
import { createHttpTransport } from '../dist/drivers/http/index.js';
import { AUTH_SCHEME, HTTP_PATHS } from '../dist/wire/reference-protocol.js';

const DEVICES = Number(process.env.DEVICES ?? 1000);
const REQUESTS = Number(process.env.REQUESTS ?? 50_000);
const CONCURRENCY = Math.min(Number(process.env.CONCURRENCY ?? 128), DEVICES);
const POOL = Number(process.env.POOL ?? 16);

async function runMode(backend, connections) {
  const ids = new Array(DEVICES);
  const keys = new Array(DEVICES);
  const etags = new Array(DEVICES);
  let answered = 0;
  let failed = 0;
  let sent = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const t = createHttpTransport(
    { baseUrl: backend.httpUrl, connections, poolSize: POOL, devices: DEVICES, timeoutMs: 10_000 },
    {
      onHttpResponse(dev, op, status, body, _retry, etag) {
        if (op === 1) {
          const c = JSON.parse(body);
          ids[dev] = c.deviceId;
          keys[dev] = `${AUTH_SCHEME} ${c.deviceKey}`;
          if (++answered === DEVICES) done();
          return;
        }
        if (status !== 200 && status !== 304) failed++;
        if (etag !== undefined) etags[dev] = etag;
        answered++;
        if (sent < REQUESTS) poll(dev);
        else if (answered === REQUESTS) done();
      },
    },
  );
  const poll = (dev) => {
    sent++;
    t.request(dev, 2, 'GET', HTTP_PATHS.target(ids[dev]), keys[dev], undefined, etags[dev]);
  };
  for (let dev = 0; dev < DEVICES; dev++) {
    t.request(dev, 1, 'POST', HTTP_PATHS.provision, undefined, JSON.stringify({ serial: `${connections}-${dev}`, fleetKey: backend.fleetKey }));
  }
  await finished;
  answered = 0;
  const finishedPolls = new Promise((r) => (done = r));
  const start = performance.now();
  for (let dev = 0; dev < CONCURRENCY; dev++) poll(dev);
  await finishedPolls;
  const ms = performance.now() - start;
  await t.close();
  console.log(`${connections.padEnd(10)} ${REQUESTS} polls, ${CONCURRENCY} in flight: ${Math.round((REQUESTS / ms) * 1000)} req/s, ${failed} failed`);
}

const backend = await startEmbeddedBackend({ fleetKey: 'bench', mqtt: false });
console.log(`node ${process.version}, pool ${POOL}, devices ${DEVICES}`);
await runMode(backend, 'pooled');
await runMode(backend, 'per-device');
await backend.close();
