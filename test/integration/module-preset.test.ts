import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { parseScenarioText } from '../../src/scenario/load.js';

/**
 * Module presets (target.preset: ./x.mjs): examples/presets/signed-reference.mjs speaks the
 * reference protocol from plain JavaScript against the embedded backend, imported by path in
 * every shard; a module that does not implement the interface stops the run before it starts.
 */
const LABEL = 'test/fixtures/protocols/module-run.yaml';
const scenario = (backend: EmbeddedBackend, preset: string) => `
name: module-preset
seed: 9
duration: 6s
target: { http: ${backend.httpUrl}, mqtt: ${backend.mqttUrl}, fleetKey: module-key, preset: ${preset} }
fleet:
  - { profile: rpi4-gateway, count: 12, link: ethernet }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 1s, size: 100B, qos: 1 }
  poll: { every: 2s }
`;

let backend: EmbeddedBackend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});

describe('module presets', () => {
  it('a module imported by path drives the fleet, and the backend reconciles per device', async () => {
    backend = await startEmbeddedBackend({ fleetKey: 'module-key' });
    const s = parseScenarioText(scenario(backend, '../../../examples/presets/signed-reference.mjs'), LABEL);
    expect(s.target.kind === 'external' && s.target.preset.kind).toBe('module');
    const result = await runScenario(s, { workers: 2, runId: 'it-module-preset', collectDeviceCounts: true, drainMs: 3000 });
    const { summary } = result;
    expect(summary.run.status).toBe('completed');
    expect(summary.counters['provision.ok']).toBe(12);
    expect(summary.counters['poll.ok']).toBeGreaterThan(12);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.failed).toBe(0);
    const devices = backend.stats().devices;
    expect(devices).toHaveLength(12);
    for (const d of devices) {
      const g = Number(d.deviceId.slice(d.deviceId.lastIndexOf('-') + 1));
      expect([d.provisions, d.duplicates, d.gaps], d.deviceId).toEqual([1, 0, 0]);
      expect(d.received, d.deviceId).toBe(result.deviceAcked!.get(g));
    }
  }, 40_000);

  it('a module that lacks members of the interface is refused before the run, naming them (exit 2)', async () => {
    backend = await startEmbeddedBackend({ fleetKey: 'module-key' });
    const s = parseScenarioText(scenario(backend, './incomplete-preset.mjs'), LABEL);
    const err = await runScenario(s, { workers: 1, runId: 'it-module-bad' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FleetsimError);
    expect((err as FleetsimError).code).toBe('FLEETSIM_E_PRESET_MODULE');
    expect((err as FleetsimError).exitCode).toBe(2);
    expect((err as FleetsimError).message).toContain('missing authorization, connectIdentity, subscriptions');
    expect(backend.stats().totals.provisions).toBe(0);
  });

  it('a module path that does not exist is a validation problem at target.preset', () => {
    const e = (() => {
      try {
        parseScenarioText(scenario({ httpUrl: 'http://127.0.0.1:1', mqttUrl: 'mqtt://127.0.0.1:1' } as EmbeddedBackend, './no-such-preset.mjs'), LABEL);
      } catch (x) {
        return x as FleetsimError;
      }
      return undefined;
    })();
    expect(e?.code).toBe('FLEETSIM_E_SCENARIO_INVALID');
    expect(e?.problems.map((p) => [p.path, p.location?.line, p.message])).toEqual([['target.preset', 5, 'module preset ./no-such-preset.mjs does not exist']]);
  });
});
