/**
 * `fleetsim backend --preset NAME` through the built CLI, for every registered platform fake:
 * it prints its URLs and what a device needs, answers a documented device request (its probe),
 * and on SIGTERM closes, prints what it counted and exits with EXIT_CODES.interrupted. An unknown
 * name is a usage error naming the likely one and every choice.
 */
import { describe, expect, it } from 'vitest';
import { PLATFORM_FAKES } from '../../src/backend/fakes/registry.js';
import { EXIT_CODES } from '../../src/summary/verdict.js';
import { runCli, startCli } from '../helpers/cli.js';
import { FAKE_PROBES } from '../helpers/platform-fake-probes.js';
import { alive } from '../helpers/process-tree.js';
import { waitFor } from '../helpers/wait-for.js';

const printed = (stdout: string, label: string): string | undefined => new RegExp(`^  ${label} +(\\S+)$`, 'm').exec(stdout)?.[1];

describe('fleetsim backend --preset NAME', () => {
  for (const fake of PLATFORM_FAKES) {
    it(`${fake.name}: prints its URLs and credentials, answers a device, exits clean on SIGTERM`, async () => {
      const key = `${fake.exampleFleetKey}-cli`;
      const cli = startCli(['backend', '--preset', fake.name, '--fleet-key', key]);
      let stdout = '';
      cli.child.stdout!.on('data', (d) => (stdout += d));
      try {
        await waitFor(() => stdout.includes('press Ctrl+C to stop') || cli.child.exitCode !== null, 'the fake to print its addresses', 20_000);
        const httpUrl = printed(stdout, 'http');
        const mqttUrl = printed(stdout, 'mqtt');
        expect(httpUrl !== undefined, stdout).toBe(fake.serves.http);
        expect(mqttUrl !== undefined, stdout).toBe(fake.serves.mqtt);
        expect(printed(stdout, 'fleet key')).toBe(key);
        expect(stdout).toContain(`preset: ${fake.preset}`);
        const answer = await FAKE_PROBES[fake.name]({ httpUrl, mqttUrl }, key, 'cli-dev-1');
        expect(answer.status).toBeGreaterThanOrEqual(200);
        expect(answer.status).toBeLessThan(300);
      } finally {
        cli.child.kill('SIGTERM');
      }
      const r = await cli.done;
      expect(r.stderr).toBe('');
      expect({ code: r.code, signal: r.signal }).toEqual({ code: EXIT_CODES.interrupted, signal: null });
      expect(r.stdout).toMatch(/SIGTERM: closed\. devices 1, /);
      expect(alive(cli.child.pid!)).toBe(false);
    }, 40_000);
  }

  it('an unknown name: exit 2, did-you-mean and every choice', async () => {
    const r = await runCli(['backend', '--preset', 'hawkbt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FLEETSIM_E_USAGE');
    expect(r.stderr).toContain('did you mean "hawkbit"?');
    for (const name of ['reference', ...PLATFORM_FAKES.map((f) => f.name)]) expect(r.stderr).toContain(name);
  });
});
