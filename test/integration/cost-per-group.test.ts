import { describe, expect, test } from 'vitest';
import { runScenario } from '../../src/engine/coordinator.js';
import { GroupUsage, groupTotals, sumGroupRows } from '../../src/metrics/group-usage.js';
import { C } from '../../src/metrics/catalog.js';
import { parseScenarioText } from '../../src/scenario/load.js';

/**
 * Cost per fleet group: each group is priced on its own link from its own devices' counters, not
 * as the fleet's average device. Trackers with a session per report pay for sessions and no
 * keepalives; gateways with a standing session pay for keepalives, not sessions.
 */
const SCENARIO = `
name: cost-per-group
seed: 4
duration: 6h
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 300, link: lte-m, session: per-report }
  - { profile: jetson-orin-nano-edge, count: 30, link: lte-cat4, session: always }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 15m, jitter: 10%, size: 200B, qos: 1 }
  poll: { every: 1h, jitter: 10% }
  keepalive: 60s
cost:
  currency: USD
  links:
    lte-m: { plan: { monthly: 0.60, allowance: 5MB, overPerMB: 0.30 } }
    lte-cat4: { perMB: 0.10 }
  perDeviceMonth: 0.05
options: { snapshotEvery: 5m }
`;

describe('cost per fleet group', () => {
  test('each group is priced on its own link from what its own devices did', async () => {
    const { summary } = await runScenario(parseScenarioText(SCENARIO), { workers: 2, runId: 'cost-groups' });
    const c = summary.cost!;
    const [trackers, gateways] = c.byGroup;
    expect(c.byGroup.map((g) => [g.profile, g.link, g.devices])).toEqual([
      ['nrf9160-tracker', 'lte-m', 300],
      ['jetson-orin-nano-edge', 'lte-cat4', 30],
    ]);
    // Per-report sessions: no keepalives, a session per report; a standing session: the reverse.
    expect(trackers.activities.keepalive).toBe(0);
    expect(gateways.activities.keepalive).toBeGreaterThan(0);
    expect(trackers.activities.sessions).toBeGreaterThan(10 * gateways.activities.sessions);
    // The plan's fee is the trackers' alone; the gateways pay per MB.
    expect(trackers.planPerMonth).toBeCloseTo(0.6, 9);
    expect(gateways.planPerMonth).toBe(0);
    // Device time per group adds up to the fleet's (exact per group; the timeline's is sampled).
    expect(trackers.deviceDays + gateways.deviceDays).toBeCloseTo(c.deviceDays, 9);
    expect(gateways.deviceDays / c.deviceDays).toBeGreaterThan(0.05);
    expect(gateways.deviceDays / c.deviceDays).toBeLessThan(0.12);
    expect(c.fleetPerMonth).toBeCloseTo(trackers.fleetPerMonth + gateways.fleetPerMonth, 6);
    expect(c.costPerDeviceMonth).toBeCloseTo(c.fleetPerMonth / 330, 9);
  }, 60_000);

  test('group rows: counters by group, device and session time closed at the end, summed over shards', () => {
    const g = new GroupUsage(Uint16Array.from([0, 1, 1]), 2);
    g.add(C['telemetry.sent'], 1, 3);
    g.add(C['telemetry.sent'], 2, 1);
    g.add(C['mqtt.connection_lost'], 0, 5); // not priced: not kept per group
    g.poweredOn(0, 1_000);
    g.poweredOn(1, 2_000);
    g.session(1, 1, 2_000);
    g.session(1, -1, 5_000);
    g.session(1, 1, 8_000); // still online at the end
    const rows = sumGroupRows([g.at(86_400_000), undefined, g.at(86_400_000)])!;
    const [a, b] = groupTotals(rows, 2);
    expect(a.counters['telemetry.sent']).toBe(0);
    expect(b.counters['telemetry.sent']).toBe(8);
    expect(a.deviceDays).toBeCloseTo((2 * (86_400_000 - 1_000)) / 86_400_000, 12);
    expect(b.onlineDays).toBeCloseTo((2 * (3_000 + 86_400_000 - 8_000)) / 86_400_000, 12);
    expect(Object.values(a.counters).reduce((x, y) => x + y, 0)).toBe(0);
  });
});
