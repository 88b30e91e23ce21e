// Fixed memory of a shard process: a small wall-clock run (`fleetsim run --processes 2`, 2,000
// devices with QoS 1 telemetry every 10 s against a local Mosquitto), each shard process sampled
// once every device is online (two full GCs first): PSS, USS, V8 heap used and committed, and with
// COUNT=1 the modules it loaded. Compares builds side by side: ROOTS is a comma-separated list of
// checkouts (each with its own `npm run build`), run interleaved R times (old, new, old, new ...).
//   ROOTS=/tmp/old,. R=4 node bench/shard-footprint.mjs
//   COUNT=1 ROOTS=/tmp/old,. R=1 node bench/shard-footprint.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envInt } from './lib/common.mjs';

const ROOTS = (process.env.ROOTS ?? '.').split(',').map((r) => path.resolve(r));
const R = envInt('R', 3);
const N = envInt('N', 2000);
/** Seconds from the shard processes' start to the sample: the 2 s ramp and two telemetry rounds. */
const SETTLE_S = envInt('SETTLE', 25);
const COUNT = Boolean(process.env.COUNT);
const PROBE = path.resolve(import.meta.dirname, 'lib/shard-footprint-probe.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, ok, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (ok()) return;
  throw new Error(`timed out waiting for ${what}`);
}

async function oneRun(root) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-footprint-'));
  writeFileSync(
    `${dir}/s.yaml`,
    ['name: shard-footprint', 'seed: 1', 'duration: 120s', 'target: { mqtt: local-mosquitto, brokers: 1 }', 'fleet:', `  - { profile: rpi4-gateway, count: ${N}, link: ethernet }`, 'arrival: { rate: 1000/s }', 'behaviour: { session: always, keepalive: 60s, telemetry: { every: 10s, size: 200B, qos: 1 } }'].join('\n'),
  );
  const env = { ...process.env, NODE_OPTIONS: `--import=${PROBE}`, FOOTPRINT_DIR: dir, ...(COUNT ? { FOOTPRINT_COUNT: '1' } : {}) };
  const cli = spawn(process.execPath, [`${root}/dist/cli/main.js`, 'run', `${dir}/s.yaml`, '-q', '--processes', '2', '--workers', '2', '--out', `${dir}/out`], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const shards = () => readdirSync(dir).filter((f) => f.startsWith('up-')).map((f) => Number(f.slice(3)));
  try {
    await waitFor('two shard processes', () => shards().length === 2, 60_000);
    await sleep(SETTLE_S * 1000);
    const pids = shards();
    for (const pid of pids) process.kill(pid, 'SIGUSR2');
    await waitFor('the samples', () => pids.every((pid) => existsSync(`${dir}/out-${pid}.json`)), 30_000);
    const outs = pids.map((pid) => JSON.parse(readFileSync(`${dir}/out-${pid}.json`, 'utf8')));
    const row = { root, date: new Date().toISOString(), load1: os.loadavg()[0] };
    for (const k of ['pssKiB', 'ussKiB', 'heapUsedKiB', 'heapCommittedKiB']) row[k] = outs.map((o) => o[k]);
    if (COUNT) {
      row.modules = pids.map((pid) => {
        const urls = readFileSync(`${dir}/mods-${pid}`, 'utf8').trim().split('\n');
        const own = urls.filter((u) => u.startsWith(`file://${root}/dist/`));
        return { all: urls.length, own: own.length, ownBytes: own.reduce((a, u) => a + readFileSync(new URL(u)).length, 0), packages: urls.filter((u) => u.includes('/node_modules/')).length };
      });
    }
    console.log(JSON.stringify(row));
    return row;
  } finally {
    cli.kill('SIGINT');
    await new Promise((r) => (cli.exitCode === null ? cli.once('exit', r) : r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (let r = 0; r < R; r++) for (const root of ROOTS) rows.push(await oneRun(root));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;
for (const root of ROOTS) {
  const mine = rows.filter((row) => row.root === root);
  const med = (k) => median(mine.flatMap((row) => row[k]));
  console.log(`${root}: ${mine.length} runs x 2 shard processes, medians: PSS ${med('pssKiB')} KiB, USS ${med('ussKiB')} KiB, V8 heap used ${med('heapUsedKiB')} KiB, committed ${med('heapCommittedKiB')} KiB`);
}
