import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { RunSummary } from '../../src/summary/run-summary.js';

/**
 * Battery projections must not depend on how long the run was: boot, attach, provisioning and OTA
 * are counted once, only the steady rate is extrapolated, and a run too short to know says so.
 */
let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'fleetsim-battery-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function run(name: string, args: string[], okCodes = [0, 99]): Promise<RunSummary> {
  const dir = path.join(out, name);
  const r = await runCli(['run', ...args, '--quiet', '--out', dir]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(okCodes).toContain(r.code);
  const [run] = await readdir(dir);
  return JSON.parse(await readFile(path.join(dir, run, 'summary.json'), 'utf8')) as RunSummary;
}

const esp32 = (s: RunSummary) => s.fleet!.batteryYears!.find((b) => b.profile === 'esp32-wifi-sensor')!;
const esp32Basis = (s: RunSummary) => s.fleet!.batteryBasis!.find((b) => b.profile === 'esp32-wifi-sensor')!;

describe('battery projection', () => {
  it('a 20 s wall-clock quickstart projects what 2 h on the virtual clock does, within 5%', async () => {
    // Exit 3 too: on a CI box shared with other test files fleetsim may judge its own generator
    // behind the quickstart's latency-derived bound and call the run invalid. The projection is
    // energy, not latency; a generator that fell behind enough to change it fails the 5% check below.
    const short = await run('wall-20s', ['scenarios/quickstart.yaml', '--duration', '20s', '--workers', '1'], [0, 3, 99]);
    const long = await run('virtual-2h', ['scenarios/quickstart.yaml', '--clock', 'virtual', '--duration', '2h', '--workers', '1']);
    expect(short.run.clock).toBe('wall');
    // Every device disconnects at the end: the gauge says 0, summary.online what was online before.
    expect(short.gauges['devices.online']).toBe(0);
    expect(short.online).toMatchObject({ peak: 100, beforeEnd: 100 });
    const a = esp32(short).p50;
    const b = esp32(long).p50;
    expect(Math.abs(a - b) / b, `wall 20 s ${(a * 365.25).toFixed(2)} d, virtual 2 h ${(b * 365.25).toFixed(2)} d`).toBeLessThan(0.05);
    // What each rests on is stated: the short run pools its devices, the long one has enough per device.
    expect(esp32Basis(short).method).toBe('pooled');
    expect(esp32Basis(short).text).toMatch(/^from 20s simulated, steady state after \d/);
    expect(esp32Basis(long).method).toBe('per-device');
    expect(esp32Basis(long).text).toMatch(/^from 2h simulated/);
  }, 120_000);

  it('refuses to project a run too short to know, and says so', async () => {
    const s = await run('virtual-10s', ['scenarios/quickstart.yaml', '--clock', 'virtual', '--duration', '10s', '--workers', '1']);
    expect(s.fleet!.batteryYears).toBeUndefined();
    expect(s.fleet!.batteryLifetime).toBeUndefined();
    const basis = esp32Basis(s);
    expect(basis.method).toBe('refused');
    expect(basis.text).toMatch(/too short to know.*polls every 30s/);
  });

  it('counts a one-off OTA once: the ESP32 projection with a campaign equals the one without, and `recurs` amortizes it', async () => {
    // ota-rollout's shape, smaller: 73% of the ESP32 energy of the 6 h run is the update.
    const scenario = (update: string) => `name: ota-battery
seed: 42
duration: 6h
clock: virtual
fleet:
  - { profile: esp32-wifi-sensor, count: 400, link: wifi }
arrival: { rate: 100/s }
behaviour:
  poll: { every: 15m, jitter: 10% }
  offline: { availability: 80%, downtime: { distribution: lognormal, median: 10m, shape: 1.5 } }
${update}`;
    const update = (extra: string) => `phases:
  - at: 10m
    update: { release: os-2.0, target: os, size: 64MB, delta: { from: app-1.0, size: 12MB }, rollout: { strategy: steps, steps: [1%, 10%, 100%], stepWait: 10m }${extra} }
`;
    const files = { none: scenario(''), once: scenario(update('')), recurring: scenario(update(', recurs: 1d')) };
    const years: Record<string, number> = {};
    const s: Record<string, RunSummary> = {};
    for (const [k, text] of Object.entries(files)) {
      const f = path.join(out, `${k}.yaml`);
      await writeFile(f, text);
      s[k] = await run(`ota-${k}`, [f, '--workers', '1']);
      years[k] = esp32(s[k]).p50;
    }
    const e = s.once.fleet!.energyByActivity!.find((x) => x.profile === 'esp32-wifi-sensor')!;
    // The update is most of what the ESP32s drew in the run ...
    expect(e.otaJ / (e.sleepJ + e.cpuJ + e.radioJ + e.otaJ)).toBeGreaterThan(0.5);
    // ... yet, counted once, it barely moves a lifetime of more than a year.
    expect(years.none).toBeGreaterThan(1);
    expect(Math.abs(years.once - years.none) / years.none).toBeLessThan(0.02);
    // An update every day is another matter: the stated rate shortens the projection, and says so.
    expect(years.recurring).toBeLessThan(years.once * 0.8);
    expect(esp32Basis(s.recurring).otaRecursEveryMs).toBe(86_400_000);
    expect(esp32Basis(s.recurring).text).toMatch(/OTA energy recurring every 24h/);
  }, 120_000);
});
