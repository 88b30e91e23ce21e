import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesUnder, runCli } from '../helpers/cli.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { loadScenario } from '../../src/scenario/load.js';
import type { ThingCounts } from '../../src/backend/fakes/acme/index.js';

/**
 * scenarios/custom-protocol.yaml end to end: the protocol file protocols/example.yaml spoken by
 * the declarative preset against the acme test backend (target.backend: example), which checks
 * what it receives and counts per thing. 24 s is past the 18 s at which a 20 s token is renewed
 * (renewBefore 2s), so most devices re-authenticate once and keep working.
 */
describe('scenarios/custom-protocol.yaml', () => {
  it('runs, passes its thresholds and reconciles per device with the backend, through token renewals', async () => {
    const s = loadScenario('scenarios/custom-protocol.yaml', { duration: '24s' });
    const result = await runScenario(s, { workers: 2, runId: 'it-custom-protocol', collectDeviceCounts: true, drainMs: 5000 });
    const { summary } = result;
    expect(summary.run.status).toBe('completed');
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.failed).toBe(0);
    // The count thresholds hold (auth.reauth's bound is for the scenario's 45 s: in 24 s only devices that
    // polled after their renewal time renewed); latency bounds are the scenario's, for a quiet machine.
    expect(summary.thresholds.filter((t) => !t.ok && t.metric !== 'auth.reauth' && !t.metric.endsWith('.latency'))).toEqual([]);

    // Per device: what the backend received by sequence number is exactly what fleetsim counted as acked.
    const things = result.backendDevices as unknown as ThingCounts[];
    expect(things).toHaveLength(40);
    let reauths = 0;
    for (const t of things) {
      const g = Number(t.serial.slice(t.serial.lastIndexOf('-') + 1));
      expect(t.received, t.serial).toBe(result.deviceAcked!.get(g));
      expect([t.duplicates, t.gaps, t.malformedTelemetry], t.serial).toEqual([0, 0, 0]);
      expect(t.received, t.serial).toBeGreaterThan(3);
      expect(t.commandsAcked, t.serial).toBe(t.commandsSent);
      expect(t.logLines, t.serial).toBeGreaterThan(0);
      reauths += t.reauths;
    }
    expect(summary.accounting.backend!.received).toBe(summary.accounting.acked);
    // Renewals: counted by fleetsim as the backend saw them (enrolments after the first), never fatal.
    // One cut off by the end of the run may have reached the backend: it is counted as cancelled.
    const cutOff = summary.counters['cancelled.provision'] ?? 0;
    expect(summary.counters['auth.reauth']).toBeLessThanOrEqual(reauths);
    expect(reauths).toBeLessThanOrEqual(summary.counters['auth.reauth'] + cutOff);
    expect(reauths).toBeGreaterThanOrEqual(20);
    expect(summary.counters['auth.reauth_failed']).toBe(0);
    expect(summary.counters['provision.ok']).toBe(40);
    // Version polling: after the first answer the backend says "nothing newer" (204), which is not a failure.
    expect(summary.counters['poll.failed']).toBe(0);
    expect(summary.counters['poll.ok']).toBeGreaterThan(40 * 3);
    expect(summary.counters['command.answered']).toBe(things.reduce((n, t) => n + t.commandsSent, 0));
  }, 60_000);
});

describe('a secret in a protocol file', () => {
  it('is used (the backend accepts the provisioning key only from it) and appears in no output', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fleetsim-protocol-secret-'));
    try {
      const secret = `planted-${randomBytes(9).toString('hex')}`;
      await writeFile(path.join(dir, 'provisioning.key'), secret + '\n');
      const protocol = (await readFile('protocols/example.yaml', 'utf8')).replace('x-provisioning-key: "{{fleetKey}}"', 'x-provisioning-key: "${file:provisioning.key}"');
      expect(protocol).toContain('${file:provisioning.key}');
      await writeFile(path.join(dir, 'acme.yaml'), protocol);
      await writeFile(
        path.join(dir, 'run.yaml'),
        `name: protocol-secret
duration: 5s
target: { backend: example, preset: ./acme.yaml, fleetKey: "\${env:FLEETSIM_TEST_ACME_KEY}" }
fleet:
  - { profile: rpi4-gateway, count: 8, link: ethernet }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 1s, size: 80B, qos: 1 }
thresholds:
  provision.ok: ["count == 8"]
  telemetry.failed: ["count == 0"]
`,
      );
      const out = path.join(dir, 'out');
      const r = await runCli(['run', path.join(dir, 'run.yaml'), '--out', out], { env: { FLEETSIM_TEST_ACME_KEY: secret } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const files = await filesUnder(out);
      expect(files.length).toBeGreaterThanOrEqual(4);
      for (const f of files) expect((await readFile(f, 'utf8')).includes(secret), f).toBe(false);
      expect(r.stdout.includes(secret) || r.stderr.includes(secret)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
