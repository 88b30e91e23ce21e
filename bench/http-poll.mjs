// HTTP target-state polling: fleetsim's HTTP transport against autocannon, side by side.
// The same node:http server (its own process, bench/http-poll-server.mjs) answers both clients;
// each client runs in its own process over the same number of keep-alive connections with one
// request in flight per connection. For each case (200 with a body, 304 via If-None-Match) it runs
// PAIRS back-to-back pairs, alternating which client goes first, and compares client CPU per
// request (user + system of the client process), which does not depend on the share of the
// machine a run got. Throughput is printed too, as a secondary figure.
//   npm run build && node bench/http-poll.mjs
//   PAIRS=3 REQUESTS=100000 CONNECTIONS=32 node bench/http-poll.mjs
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { envInt, machine, median, runChild } from './lib/common.mjs';

const PAIRS = envInt('PAIRS', 3);
const REQUESTS = envInt('REQUESTS', 100_000);
const CONNECTIONS = envInt('CONNECTIONS', 32);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here('./http-poll-server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (d) => resolve({ child, ...JSON.parse(d.trim().split('\n')[0]) }));
    child.once('error', reject);
  });
}

const info = machine();
console.log(`# http-poll: ${info.cpu}, ${info.nproc} cores, node ${info.node}, ${info.date}`);
console.log(`# load before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${PAIRS} pairs x ${REQUESTS} requests over ${CONNECTIONS} connections`);
const server = await startServer();
const results = [];
try {
  for (const [label, etag] of [['200 (body)', '-'], ['304 (If-None-Match)', server.etag]]) {
    const ratios = [];
    const rows = { fleetsim: [], autocannon: [] };
    for (let pair = 0; pair < PAIRS; pair++) {
      const order = pair % 2 === 0 ? ['fleetsim', 'autocannon'] : ['autocannon', 'fleetsim'];
      const got = {};
      for (const kind of order) {
        const r = await runChild(here('./http-poll-client.mjs'), [kind, server.port, CONNECTIONS, REQUESTS, etag]);
        if (r.bad !== 0) throw new Error(`${kind} got ${r.bad} unexpected answers`);
        got[kind] = { usPerReq: r.cpuUs / r.requests, reqPerS: (r.requests / r.wallMs) * 1000 };
        rows[kind].push(got[kind]);
      }
      // Above 1: fleetsim spends less client CPU per request than autocannon.
      ratios.push(got.autocannon.usPerReq / got.fleetsim.usPerReq);
      console.log(
        `${label} pair ${pair + 1}: fleetsim ${got.fleetsim.usPerReq.toFixed(2)} us/req (${Math.round(got.fleetsim.reqPerS)} req/s), ` +
          `autocannon ${got.autocannon.usPerReq.toFixed(2)} us/req (${Math.round(got.autocannon.reqPerS)} req/s), ratio ${ratios.at(-1).toFixed(3)}`,
      );
    }
    const m = (kind, f) => median(rows[kind].map((r) => r[f]));
    results.push({ label, ratio: median(ratios), fleetsimUs: m('fleetsim', 'usPerReq'), autocannonUs: m('autocannon', 'usPerReq'), fleetsimRps: m('fleetsim', 'reqPerS'), autocannonRps: m('autocannon', 'reqPerS') });
  }
} finally {
  server.child.kill('SIGTERM');
}
console.log(`# load after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const r of results) {
  console.log(
    `${r.label}: median autocannon/fleetsim CPU per request = ${r.ratio.toFixed(3)} (bar >= 0.95: ${r.ratio >= 0.95 ? 'met' : 'not met'}); ` +
      `fleetsim ${r.fleetsimUs.toFixed(2)} us/req, autocannon ${r.autocannonUs.toFixed(2)} us/req; throughput ${Math.round(r.fleetsimRps)} vs ${Math.round(r.autocannonRps)} req/s`,
  );
}
