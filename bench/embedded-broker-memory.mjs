// Memory per MQTT session of the embedded lean broker, in the process that hosts it (the
// coordinator's, in a run against the embedded backend): what `fleetsim plan` counts as
// embeddedBrokerKB (src/scenario/memory-costs.ts).
//
//   npm run build && node bench/embedded-broker-memory.mjs            # N=10000 R=3
//   N=10000 R=3 BASELINE_DIST=/tmp/base/dist node bench/embedded-broker-memory.mjs
//
// Each run is a fresh process (`node --expose-gc bench/embedded-broker-memory.mjs child <dist> N`):
// it starts the lean broker over a device store holding N provisioned devices, runs 4 GCs and reads
// its PSS (/proc/self/smaps_rollup) and V8 heap used; a client process then logs N sessions in
// (CONNECT, CONNACK; keepalive 600 s) and keeps them open; after 4 GCs the broker's process is read
// again. Per session = growth / N. The clients live in their own process, so only the broker's side
// is counted (the kernel's socket buffers are not in PSS: memory-costs.ts counts them apart).
// With BASELINE_DIST, runs alternate between that build and this checkout's.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envInt, median } from './lib/common.mjs';

const here = fileURLToPath(import.meta.url);

function pssKiB() {
  const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function settle() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (process.argv[2] === 'child') {
  // The broker's process.
  const [, , , dist, nText] = process.argv;
  const n = Number(nText);
  const imp = (f) => import(pathToFileURL(`${dist}/${f}`).href);
  const { startLeanBroker } = await imp('backend/broker-lean.js');
  const { DeviceStore } = await imp('backend/store.js');
  const store = new DeviceStore('fleet-key');
  const creds = [];
  for (let i = 0; i < n; i++) {
    const rec = store.provision(`m${i}`);
    creds.push([rec.id, rec.key]);
  }
  const broker = await startLeanBroker(store, { host: '127.0.0.1', port: 0, log: () => {} });
  await settle();
  const before = { pss: pssKiB(), heap: process.memoryUsage().heapUsed };
  const clients = spawn(process.execPath, [here, 'clients', String(broker.port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  clients.stdin.end(JSON.stringify(creds));
  let out = '';
  clients.stdout.on('data', (d) => (out += d));
  while (!out.includes('ready')) await once(clients.stdout, 'data');
  if (broker.connectedClients() !== n) throw new Error(`${broker.connectedClients()} of ${n} sessions logged in`);
  await settle();
  const after = { pss: pssKiB(), heap: process.memoryUsage().heapUsed };
  clients.kill();
  console.log(JSON.stringify({ dist, n, pssKiBPerSession: +((after.pss - before.pss) / n).toFixed(3), heapBPerSession: Math.round((after.heap - before.heap) / n) }));
  process.exit(0);
} else if (process.argv[2] === 'clients') {
  // N sessions, 100 connecting at a time, kept open until killed.
  const port = Number(process.argv[3]);
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const creds = JSON.parse(text);
  const imp = (f) => import(new URL(`../dist/${f}`, import.meta.url).href);
  const { encodeConnect } = await imp('drivers/mqtt/lean-frames.js');
  const sockets = [];
  let next = 0;
  let done = 0;
  await new Promise((resolve) => {
    const one = () => {
      if (next >= creds.length) return;
      const [id, key] = creds[next++];
      const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
      sockets.push(s);
      s.on('error', () => {});
      s.once('connect', () => s.write(encodeConnect({ clientId: id, username: id, password: key, keepalive: 600 })));
      s.once('data', () => {
        if (++done === creds.length) resolve();
        else one();
      });
    };
    for (let i = 0; i < 100; i++) one();
  });
  process.stdout.write('ready\n');
  await new Promise(() => {});
} else {
  const N = envInt('N', 10_000);
  const R = envInt('R', 3);
  const builds = process.env.BASELINE_DIST ? [process.env.BASELINE_DIST, fileURLToPath(new URL('../dist', import.meta.url))] : [fileURLToPath(new URL('../dist', import.meta.url))];
  console.error(`${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString()}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const results = new Map(builds.map((b) => [b, []]));
  for (let r = 0; r < R; r++) {
    for (const dist of builds) {
      const res = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--expose-gc', here, 'child', dist, String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`child exited ${code}: ${out}`))));
      });
      console.error(`run ${r + 1}/${R} ${dist}: ${res.pssKiBPerSession} KiB PSS, ${res.heapBPerSession} B of V8 heap per session`);
      results.get(dist).push(res);
    }
  }
  const summary = [...results].map(([dist, runs]) => ({ dist, n: N, pssKiBPerSession: runs.map((x) => x.pssKiBPerSession), medianPssKiB: median(runs.map((x) => x.pssKiBPerSession)), heapBPerSession: runs.map((x) => x.heapBPerSession), medianHeapB: median(runs.map((x) => x.heapBPerSession)) }));
  console.error(`load after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(JSON.stringify(summary, null, 2));
}
