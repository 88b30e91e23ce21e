import { describe, expect, test } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { planLayout } from '../../src/scenario/capacity.js';
import { planRun } from '../../src/scenario/plan.js';
import { sessionShare, sessionsIn, shardRanges, SLEEPY_PEAK_FACTOR, SLEEPY_SESSION_HOLD_MS } from '../../src/scenario/session-load.js';
import { lifecycleConfig } from '../../src/engine/shard/assembly.js';

const mix = (trackers: number, gateways: number, extra = '') =>
  parseScenarioText(
    [
      'name: mix',
      'duration: 20m',
      'target: { mqtt: local-mosquitto, brokers: 8 }',
      'fleet:',
      `  - { profile: nrf9160-tracker, count: ${trackers}, link: lte-m, session: per-report }`,
      `  - { profile: rpi4-gateway, count: ${gateways}, link: ethernet }`,
      'arrival: { rate: 600/s }',
      'behaviour: { telemetry: { every: 15m } }',
      extra,
    ].join('\n'),
  );
const HERE = { descriptorsPerProcess: 20_000, availableMemoryMB: 22_000, totalMemoryMB: 24_000 };

describe('per-group session', () => {
  test('a group overrides behaviour.session; the others inherit it', () => {
    const s = mix(10, 5, 'clock: wall');
    expect(s.fleet.map((g) => g.session)).toEqual(['per-report', 'always']);
    const sleepyDefault = parseScenarioText('name: d\nduration: 1m\nfleet: [{ profile: nrf9160-tracker, count: 3 }, { profile: rpi4-gateway, count: 2, session: always }]\narrival: { rate: 1/s }\nbehaviour: { session: per-report }');
    expect(sleepyDefault.fleet.map((g) => g.session)).toEqual(['per-report', 'always']);
    // The lifecycle reads it per group.
    expect(Array.from(lifecycleConfig(sleepyDefault).perReportSession)).toEqual([1, 0]);
  });

  test('sleepy devices count for the share of time they hold a session; gateways for all of it', () => {
    const s = mix(450_000, 50_000);
    const share = (SLEEPY_SESSION_HOLD_MS * SLEEPY_PEAK_FACTOR) / (15 * 60_000);
    expect(sessionShare(s, 0)).toBeCloseTo(share, 12);
    expect(sessionShare(s, 1)).toBe(1);
    expect(sessionsIn(s, 0, 500_000)).toBe(Math.ceil(450_000 * share + 50_000));
    // Across the group boundary: 100 trackers + 100 gateways.
    expect(sessionsIn(s, 449_900, 200)).toBe(Math.ceil(100 * share + 100));
  });

  test('shards are balanced by sessions held at once, cover every device once, and plan matches', () => {
    const s = mix(450_000, 50_000);
    const ranges = shardRanges(s, 0, 500_000, 6);
    expect(ranges).toHaveLength(6);
    let next = 0;
    for (const r of ranges) {
      expect(r.firstDevice).toBe(next);
      expect(r.count).toBeGreaterThan(0);
      next += r.count;
    }
    expect(next).toBe(500_000);
    const sessions = ranges.map((r) => sessionsIn(s, r.firstDevice, r.count));
    // No shard holds much more than an even share of the sessions (the shards of trackers hold
    // a little less: each device also weighs a little for its memory and events).
    const total = sessionsIn(s, 0, 500_000);
    expect(Math.max(...sessions)).toBeLessThan((1.2 * total) / 6);
    expect(Math.min(...sessions)).toBeGreaterThan((0.5 * total) / 6);
    // The tracker shards hold many more devices than the gateway shards.
    expect(ranges[0].count).toBeGreaterThan(5 * ranges[5].count);
    expect(planRun(s, 6, { processes: 6 }).shards.map((p) => ({ firstDevice: p.firstDevice, count: p.deviceCount }))).toEqual(ranges);
  });

  test('a sleepy fleet of 500k needs a handful of shard processes, not one per 19,000 devices', () => {
    const mixed = planLayout(mix(450_000, 50_000), 500_000, { workers: 2 }, HERE);
    expect(mixed.problems).toEqual([]);
    expect(mixed.processes).toBeLessThanOrEqual(5);
    expect(mixed.descriptors.perShardProcess).toBeLessThanOrEqual(20_000);
    const standing = parseScenarioText(
      'name: s\nduration: 20m\ntarget: { mqtt: local-mosquitto, brokers: 30 }\nfleet: [{ profile: nrf9160-tracker, count: 450000, link: lte-m }, { profile: rpi4-gateway, count: 50000 }]\narrival: { rate: 600/s }\nbehaviour: { telemetry: { every: 15m } }',
    );
    expect(planLayout(standing, 500_000, { workers: 2 }, HERE).processes).toBeGreaterThanOrEqual(26);
  });

  test('the virtual clock and all-standing fleets keep the even split', () => {
    const v = mix(1000, 10, 'clock: virtual');
    expect(shardRanges(v, 0, 1010, 2)).toEqual([{ firstDevice: 0, count: 505 }, { firstDevice: 505, count: 505 }]);
    const tiny = mix(3, 2);
    const r = shardRanges(tiny, 0, 5, 5);
    expect(r.map((x) => x.count)).toEqual([1, 1, 1, 1, 1]);
  });
});
