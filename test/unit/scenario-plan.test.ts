import { describe, expect, test } from 'vitest';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';
import { formatPlan, planRun, type RunPlan } from '../../src/scenario/plan.js';
import { balancedRanges } from '../../src/scenario/session-load.js';
import { arrivalTimeMs, powerOnTimeMs } from '../../src/models/arrival.js';

const quickstart = loadScenario('scenarios/quickstart.yaml');

function coveredOnce(plan: RunPlan, first: number, total: number): void {
  const seen = new Uint8Array(total);
  let next = first;
  for (const sh of plan.shards) {
    expect(sh.firstDevice).toBe(next); // contiguous, in order
    let inGroups = 0;
    for (const g of sh.groups) {
      for (let d = g.firstDevice; d < g.firstDevice + g.count; d++) seen[d - first]++;
      inGroups += g.count;
    }
    expect(inGroups).toBe(sh.deviceCount);
    next += sh.deviceCount;
  }
  expect(next).toBe(first + total);
  expect(seen.every((n) => n === 1)).toBe(true);
}

describe('planning a run', () => {
  test.each([1, 2, 3, 7, 64])('%i workers: every device in exactly one shard, shards balanced to within one', (workers) => {
    const plan = planRun(quickstart, workers);
    coveredOnce(plan, 0, 100);
    const sizes = plan.shards.map((s) => s.deviceCount);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(plan.shards).toHaveLength(Math.min(workers, 100));
  });

  test('groups are split faithfully at shard boundaries', () => {
    const plan = planRun(quickstart, 3);
    expect(plan.shards.map((s) => s.groups.map((g) => [g.profile, g.link, g.firstDevice, g.count]))).toEqual([
      [['rpi4-gateway', 'ethernet', 0, 34]],
      [
        ['rpi4-gateway', 'ethernet', 34, 6],
        ['esp32-wifi-sensor', 'wifi', 40, 27],
      ],
      [['esp32-wifi-sensor', 'wifi', 67, 33]],
    ]);
  });

  test('steady-state rates and expected totals', () => {
    const r = planRun(quickstart, 2).rates;
    // 100 devices, telemetry every 5 s, poll every 30 s, 20 power-ons per second.
    expect(r.telemetryPerSec).toBe(20);
    expect(r.telemetryBytesPerSec).toBe(4000);
    expect(r.pollsPerSec).toBeCloseTo(100 / 30);
    expect(r.arrivalPerSec).toBe(20);
    expect(r.allOnAtMs).toBe(4950);
    expect(r.devicesOnByEnd).toBe(100);
    // Device g is on from g/20 s: sum over g of (60 - g/20) s = 6000 - 247.5 = 5752.5 device-seconds.
    expect(r.telemetryMessages).toBe(Math.floor(5752.5 / 5));
    expect(r.polls).toBe(Math.floor(5752.5 / 30));
  });

  test('resources: one MQTT session per device, pooled HTTP per shard, backend sockets for the embedded target', () => {
    const res = planRun(quickstart, 2, { descriptorLimit: 1024 }).resources;
    expect(res.mqttConnections).toBe(100);
    expect(res.httpConnections).toBe(100); // two shards of 50 devices, pools of up to 64
    expect(res.clientSockets).toBe(200);
    expect(res.backendSockets).toBe(200);
    expect(res.descriptors).toBe(600);
    expect(res.descriptorLimit).toBe(1024);
  });

  test('warnings: descriptors over the limit, devices that never power on, phases after the end, too many workers', () => {
    const s = parseScenarioText(
      [
        'name: big',
        // The file's phase is inside its 30 s; --duration 10s cuts it off (validation refuses a file whose own phase is after its end).
        'duration: 30s',
        'fleet: [{ profile: esp32-wifi-sensor, count: 30000 }]',
        'arrival: { rate: 1000/s }',
        'behaviour: { telemetry: { every: 1s } }',
        'options: { http: { connections: per-device }, embeddedBroker: aedes }',
        'phases: [{ at: 20s, outage: { fraction: 10%, duration: 5s } }]',
      ].join('\n'),
      '<inline>',
      { duration: '10s' },
    );
    const plan = planRun(s, 4, { descriptorLimit: 20_000 });
    expect(plan.rates.devicesOnByEnd).toBe(10_000);
    expect(plan.resources.httpConnections).toBe(30_000);
    const text = plan.warnings.join('\n');
    expect(text).toContain('only 10000 of 30000 devices power on');
    expect(text).toContain('descriptors but this process may open 20000');
    expect(text).toContain('ports one source address gives');
    expect(text).toContain('aedes) holds about 10000 connections');
    expect(text).toContain('aedes) collapses above');
    expect(text).toContain('phase outage at 20.0s never runs');
    expect(planRun(quickstart, 200).warnings).toEqual(['200 workers requested but only 100 devices: running 100 shards']);
    expect(planRun(quickstart, 2).warnings).toEqual([]);
  });

  test('a --shard slice plans only its part of the global index space', () => {
    const plan = planRun(quickstart, 2, { shard: { index: 1, count: 3 } });
    expect(plan.localDevices).toBe(33);
    coveredOnce(plan, 34, 33);
    // Arrivals are interleaved over the fleet: every shard's devices span the arrival window.
    const times = Array.from({ length: 33 }, (_, k) => powerOnTimeMs(34 + k, quickstart.devices, quickstart.arrival));
    expect(plan.shards[0].powerOnFromMs).toBe(Math.min(...times.slice(0, 17)));
    expect(plan.shards[0].powerOnToMs - plan.shards[0].powerOnFromMs).toBeGreaterThan(3000);
  });

  test('the virtual clock opens no sockets', () => {
    const plan = planRun(loadScenario('scenarios/quickstart.yaml', { clock: 'virtual' }), 2);
    expect(plan.resources.clientSockets).toBe(0);
    expect(formatPlan(plan)).toContain('none: under the virtual clock');
  });

  test('power-on follows a linear ramp, then the end rate', () => {
    const a = { ratePerSec: 10, toRatePerSec: 30, overMs: 10_000 };
    // N(t) = 10t + t^2 over the ramp: 200 devices by t = 10 s, then 30/s.
    expect(arrivalTimeMs(0, a)).toBe(0);
    expect(arrivalTimeMs(11, a)).toBeCloseTo(1000);
    expect(arrivalTimeMs(200, a)).toBeCloseTo(10_000);
    expect(arrivalTimeMs(230, a)).toBeCloseTo(11_000);
  });

  test('balancedRanges never returns empty parts and always covers the total', () => {
    expect(balancedRanges(10, 5, 3)).toEqual([
      { firstDevice: 10, count: 2 },
      { firstDevice: 12, count: 2 },
      { firstDevice: 14, count: 1 },
    ]);
    expect(balancedRanges(0, 2, 8)).toHaveLength(2);
  });

  test('formatPlan prints shards, rates and resources', () => {
    const text = formatPlan(planRun(quickstart, 2, { descriptorLimit: 1024 }));
    expect(text).toContain('scenario quickstart: 100 devices, 1m00s, wall clock');
    expect(text).toContain('shard 1: devices 50..99 (50) 50 esp32-wifi-sensor/wifi');
    expect(text).toContain('telemetry                20/s');
    expect(text).toContain('descriptors              ~600 (limit 1024)');
  });
});
