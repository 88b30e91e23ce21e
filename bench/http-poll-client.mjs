// One client run of bench/http-poll.mjs, in its own process so that its CPU time is its own:
//   node bench/http-poll-client.mjs fleetsim|autocannon PORT CONNECTIONS REQUESTS ETAG|-
// Keeps CONNECTIONS polls in flight (one per connection, no pipelining) until REQUESTS have been
// answered, and prints {requests, non2xx, cpuUs, wallMs} as JSON. ETAG '-' polls without
// If-None-Match (200 with a body); otherwise every poll carries it (304, no body).
import autocannon from 'autocannon';
import { createHttpTransport } from '../dist/drivers/http/index.js';

const [kind, portArg, connArg, reqArg, etagArg] = process.argv.slice(2);
const port = Number(portArg);
const connections = Number(connArg);
const requests = Number(reqArg);
const etag = etagArg === '-' ? undefined : etagArg;
const PATH = '/v1/devices/dev-000042/target';

function runAutocannon() {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}${PATH}`,
        connections,
        pipelining: 1,
        amount: requests,
        headers: etag === undefined ? { authorization: 'Bearer bench' } : { authorization: 'Bearer bench', 'if-none-match': etag },
      },
      (err, result) => (err ? reject(err) : resolve({ requests: result.requests.total, bad: result.non2xx - (etag === undefined ? 0 : result['3xx'] ?? 0) + result.errors })),
    );
  });
}

function runFleetsim() {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = 0;
    let bad = 0;
    const ok = etag === undefined ? 200 : 304;
    const t = createHttpTransport(
      { baseUrl: `http://127.0.0.1:${port}`, client: process.env.FLEETSIM_HTTP_CLIENT ?? 'lean', connections: 'pooled', poolSize: connections, devices: connections, timeoutMs: 30_000 },
      {
        onHttpResponse(dev, _op, status) {
          if (status !== ok) bad++;
          answered++;
          if (sent < requests) poll(dev);
          else if (answered === requests) void t.close().then(() => resolve({ requests: answered, bad }));
        },
      },
    );
    const poll = (dev) => {
      sent++;
      t.request(dev, 1, 'GET', PATH, 'Bearer bench', undefined, etag);
    };
    for (let dev = 0; dev < connections && sent < requests; dev++) poll(dev);
  });
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const r = kind === 'autocannon' ? await runAutocannon() : await runFleetsim();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ kind, ...r, cpuUs: cpu.user + cpu.system, wallMs }));
