import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, runCli } from '../helpers/cli.js';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';

/**
 * Secrets in the target section (`${env:NAME}`, `${file:path}`): a run uses them (its devices
 * provision against a backend that knows only the planted key: the threshold provision.ok ==
 * devices passes only if the value was substituted) and no output of the run
 * carries them: stdout, stderr and every file the run wrote are searched for the value. A
 * missing secret is exit 2 with its code, line and column, and a hint.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fleetsim-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const scenario = (target: string) => `name: secrets
seed: 5
duration: 4s
${target}
fleet:
  - { profile: esp32-wifi-sensor, count: 8 }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 1s, qos: 1 }
  poll: { every: 2s }
thresholds:
  provision.ok: ["count == 8"]
`;

async function expectNowhere(secret: string, outDir: string, streams: string[]): Promise<void> {
  const files = await filesUnder(outDir);
  expect(files.map((f) => path.basename(f)).sort()).toEqual(['junit.xml', 'report.html', 'summary.json', 'timeline.ndjson']);
  for (const f of files) expect((await readFile(f, 'utf8')).includes(secret), f).toBe(false);
  for (const s of streams) expect(s.includes(secret)).toBe(false);
}

describe('secrets in the target section', () => {
  /** Runs against a backend that knows only `secret`, with the fleet key written as `ref`. */
  async function runWithSecret(name: string, secret: string, ref: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const backend = await startEmbeddedBackend({ fleetKey: secret });
    try {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, scenario(`target: { http: "${backend.httpUrl}", mqtt: "${backend.mqttUrl}", fleetKey: "${ref}" }`));
      const out = path.join(dir, `out-${name}`);
      const r = await runCli(['run', file, '--out', out], { env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(backend.stats().totals.provisions).toBe(8);
      await expectNowhere(secret, out, [r.stdout, r.stderr]);
    } finally {
      await backend.close();
    }
  }

  it('${env:NAME}: the run uses the planted key and no output carries it', async () => {
    const secret = `planted-${randomBytes(9).toString('hex')}`;
    await runWithSecret('env', secret, '${env:FLEETSIM_TEST_FLEET_KEY}', { FLEETSIM_TEST_FLEET_KEY: secret });
  });

  it('${file:path} (relative to the scenario): used, and nowhere in the outputs', async () => {
    const secret = `planted-${randomBytes(9).toString('hex')}`;
    await writeFile(path.join(dir, 'fleet.key'), secret + '\n');
    await runWithSecret('file', secret, '${file:fleet.key}');
  });

  it('a missing secret is exit 2: FLEETSIM_E_SECRET_MISSING at its line and column, with a hint, before anything starts', async () => {
    const file = path.join(dir, 'missing.yaml');
    await writeFile(file, scenario('target:\n  http: https://api.example.com\n  mqtt: mqtts://broker.example.com:8883\n  fleetKey: "${env:FLEETSIM_TEST_UNSET_KEY}"'));
    const r = await runCli(['run', file, '--out', path.join(dir, 'out-missing')], { env: { FLEETSIM_TEST_UNSET_KEY: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FLEETSIM_E_SECRET_MISSING/);
    expect(r.stderr).toMatch(/missing\.yaml:7:13/);
    expect(r.stderr).toMatch(/environment variable FLEETSIM_TEST_UNSET_KEY is not set/);
    expect(r.stderr).toMatch(/export FLEETSIM_TEST_UNSET_KEY=/);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    await writeFile(file, scenario('target: { embedded: { fleetKey: "${file:./no-such.key}" } }'));
    const f = await runCli(['validate', file]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/secret file \.\/no-such\.key cannot be read: ENOENT/);
  });
});
