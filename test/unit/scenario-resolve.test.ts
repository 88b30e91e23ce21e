import { describe, expect, test } from 'vitest';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';

const VALID = 'test/fixtures/scenarios/valid';

describe('resolving a scenario', () => {
  test('defaults: embedded target and dev key, AWS IoT backoff, keepalive, options, profile links', () => {
    const s = loadScenario(`${VALID}/minimal.yaml`);
    expect(s.seed).toBe(1);
    expect(s.clock).toBe('wall');
    expect(s.timeScale).toBe(1);
    expect(s.target).toEqual({ kind: 'embedded', fleetKey: 'fleetsim-dev-key' });
    expect(s.fleet.map(({ hardware: _, ...g }) => g)).toEqual([{ index: 0, profile: 'nrf9160-tracker', count: 3, link: 'nb-iot', session: 'always', firstDevice: 0 }]);
    expect(s.fleet[0].hardware?.name).toBe('nrf9160-tracker');
    expect(s.behaviour).toEqual({
      reconnect: { baseMs: 1000, capMs: 128000 },
      retryAfterJitter: 1,
      keepaliveSec: 60,
      session: 'always',
      fleetOps: { download: { chunkMs: 2000, lowSpeedBytesPerSec: 100, lowSpeedTimeMs: 60_000, healthCheckMs: 5000, appRestartMs: 2000 }, config: { applyMs: 50 } },
    });
    expect(s.phases).toEqual([]);
    expect(s.thresholds).toEqual([]);
    expect(s.options).toEqual({ mqttClient: 'lean', mqttPipelining: false, embeddedBroker: 'lean', http: { client: 'lean', connections: 'pooled', poolSize: 64 }, maxScheduleLagMs: 2000, snapshotEveryMs: 1000, linkModel: true });
    expect(s.file).toMatch(/\/test\/fixtures\/scenarios\/valid\/minimal\.yaml$/);
  });

  test('telemetry and poll defaults: jitter 10%, 200 B, QoS 1', () => {
    const s = parseScenarioText('name: t\nduration: 1m\nfleet: [{ profile: rpi4-gateway, count: 2 }]\narrival: { rate: 5/s }\nbehaviour: { telemetry: { every: 2s }, poll: { every: 1m } }\n');
    expect(s.behaviour.telemetry).toEqual({ everyMs: 2000, jitter: 0.1, sizeBytes: 200, qos: 1 });
    expect(s.behaviour.poll).toEqual({ everyMs: 60000, jitter: 0.1 });
  });

  test('every field of full.yaml is converted to numbers in base units', () => {
    const s = loadScenario(`${VALID}/full.yaml`);
    expect(s.durationMs).toBe(5_400_000);
    expect(s.clock).toBe('virtual');
    expect(s.timeScale).toBe(60);
    expect(s.target).toEqual({ kind: 'external', http: 'https://api.example.com:8443', mqtt: 'mqtts://broker.example.com:8883', preset: { kind: 'builtin', name: 'reference' }, fleetKey: 'prod-fleet-key' });
    expect(s.fleet.map((g) => [g.profile, g.count, g.link, g.firstDevice])).toEqual([
      ['rpi4-gateway', 1000, 'wifi', 0],
      ['lorawan-sensor', 250, 'lorawan', 1000],
      ['jetson-orin-nano-edge', 10, 'ethernet', 1250],
    ]);
    expect(s.fleet[1].cells).toBe(5);
    expect(s.devices).toBe(1260);
    expect(s.arrival).toEqual({ ratePerSec: 50, toRatePerSec: 200, overMs: 60_000 });
    expect(s.behaviour.telemetry).toEqual({ everyMs: 900_000, jitter: 0.05, sizeBytes: 1024, qos: 0 });
    expect(s.behaviour.reconnect).toEqual({ baseMs: 500, capMs: 60_000 });
    expect(s.behaviour.keepaliveSec).toBe(300);
    expect(s.behaviour.offline).toEqual({ availability: 0.9, downtime: { distribution: 'lognormal', median: 300_000 } });
    // Phases come out in time order, each with its kind and its payload in base units.
    expect(s.phases.map((p) => [p.atMs, p.kind])).toEqual([
      [1_800_000, 'update'],
      [2_700_000, 'command'],
      [3_000_000, 'config'],
      [3_600_000, 'outage'],
    ]);
    expect(s.phases[0].spec).toEqual({
      release: 'app-2.0',
      target: 'app',
      sizeBytes: 20_000_000,
      rollout: { strategy: 'steps', steps: [0.01, 0.1, 1], stepWaitMs: 60_000 },
      notify: 'mqtt',
      failureRate: 0,
      failureByProfile: {},
    });
    expect(s.phases[1].spec).toEqual({ name: 'reboot', devices: 1 });
    expect(s.phases[2].spec).toEqual({ set: { telemetryEvery: '5m' } });
    expect(s.thresholds.find((t) => t.expression === 'p(99.9) < 2s')).toEqual({
      metric: 'provision.latency',
      expression: 'p(99.9) < 2s',
      aggregate: { kind: 'p', percentile: 99.9 },
      op: '<',
      value: 2_000_000,
    });
    expect(s.options).toEqual({ mqttClient: 'mqttjs', mqttPipelining: false, embeddedBroker: 'lean', http: { client: 'lean', connections: 'per-device', poolSize: 8 }, maxScheduleLagMs: 500, snapshotEveryMs: 5000, linkModel: true });
  });

  test('an embedded target may carry its own fleet key', () => {
    expect(loadScenario(`${VALID}/embedded-object.yaml`).target).toEqual({ kind: 'embedded', fleetKey: 'my-key' });
  });

  test('command-line overrides win over the file', () => {
    const s = loadScenario(`${VALID}/minimal.yaml`, { clock: 'virtual', seed: 99, duration: '5s', workers: 3 });
    expect([s.clock, s.seed, s.durationMs, s.options.workers]).toEqual(['virtual', 99, 5000, 3]);
  });

  test('the result is deep-frozen', () => {
    const s = loadScenario(`${VALID}/full.yaml`);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.fleet[0])).toBe(true);
    expect(Object.isFrozen(s.phases[0].spec)).toBe(true);
    expect(Object.isFrozen(s.thresholds[0].aggregate)).toBe(true);
    expect(() => {
      (s.behaviour.reconnect as { baseMs: number }).baseMs = 1;
    }).toThrow(TypeError);
  });

  test('a resolved scenario survives structured cloning (it is sent to worker threads)', () => {
    const s = loadScenario(`${VALID}/full.yaml`);
    expect(structuredClone(s)).toEqual(s);
  });
});
