// Throughput of each platform fake, with autocannon as the peer: requests per second and requests
// per CPU-second of the fake's process (/proc/<pid>/stat utime+stime around each run, so the number
// does not depend on the share of the box the fake got). Each fake runs as `fleetsim backend
// --preset NAME` (its own process); one device is provisioned first, then autocannon repeats that
// device's documented steady-state request. Needs `npm run build`.
//   RUNS=3 SECONDS=5 CONNECTIONS=20 node bench/fakes.mjs
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, sign } from 'node:crypto';
import autocannon from 'autocannon';
import { hawkbitTargetToken } from '../dist/wire/hawkbit-token.js';

const RUNS = Number(process.env.RUNS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts clock ticks of 10 ms

const cpuSec = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICK;
};

/** Per fake: the fleet key and, after one device provisions, the autocannon request to repeat. */
const FAKES = {
  mender: {
    key: 'tenant-token-demo',
    async request(http) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const body = JSON.stringify({ id_data: JSON.stringify({ sn: 'bench-1' }), pubkey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), tenant_token: 'tenant-token-demo' });
      const r = await fetch(`${http}/api/devices/v1/authentication/auth_requests`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-men-signature': sign('sha256', Buffer.from(body), privateKey).toString('base64') } });
      const jwt = await r.text();
      return { what: 'GET deployments/next (Bearer JWT)', url: `${http}/api/devices/v1/deployments/device/deployments/next?artifact_name=app-1.0&device_type=fleetsim`, method: 'GET', headers: { authorization: `Bearer ${jwt}` } };
    },
  },
  hawkbit: {
    key: 'hawkbit-fleet-secret',
    async request(http) {
      return { what: 'GET controller base (TargetToken)', url: `${http}/DEFAULT/controller/v1/bench-1`, method: 'GET', headers: { authorization: `TargetToken ${hawkbitTargetToken('hawkbit-fleet-secret', 'bench-1')}` } };
    },
  },
  thingsboard: {
    key: 'provision-key:provision-secret',
    async request(http) {
      const r = await fetch(`${http}/api/v1/provision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceName: 'bench-1', provisionDeviceKey: 'provision-key', provisionDeviceSecret: 'provision-secret' }) });
      const { credentialsValue } = await r.json();
      return { what: 'POST telemetry over HTTP (access token)', url: `${http}/api/v1/${credentialsValue}/telemetry`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ temperature: 21.5, humidity: 40 }) };
    },
  },
};

async function startFake(name, key) {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'backend', '--preset', name, '--fleet-key', key], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!out.includes('press Ctrl+C')) {
    if (Date.now() > deadline) throw new Error(`${name}: no addresses printed`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, http: /^  http +(\S+)$/m.exec(out)[1] };
}

const only = process.argv.slice(2);
for (const [name, f] of Object.entries(FAKES)) {
  if (only.length && !only.includes(name)) continue;
  const { child, http } = await startFake(name, f.key);
  const req = await f.request(http);
  const rows = [];
  for (let i = 0; i < RUNS; i++) {
    const cpu0 = cpuSec(child.pid);
    const r = await autocannon({ url: req.url, method: req.method, headers: req.headers, body: req.body, connections: CONNECTIONS, duration: SECONDS });
    const cpu = cpuSec(child.pid) - cpu0;
    const ok = r['2xx'];
    rows.push({ reqPerSec: ok / SECONDS, reqPerCpuSec: ok / cpu, cpuSec: cpu, non2xx: r.non2xx, errors: r.errors, p99ms: r.latency.p99 });
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.on('close', r));
  const med = (k) => rows.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
  console.log(JSON.stringify({ fake: name, request: req.what, connections: CONNECTIONS, seconds: SECONDS, runs: rows, median: { reqPerSec: med('reqPerSec'), reqPerCpuSec: med('reqPerCpuSec'), p99ms: med('p99ms') } }));
}
