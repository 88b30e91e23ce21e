import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { formatPlan, planRun } from '../../src/scenario/plan.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { pingFreeKeepaliveS, pingsPerReport } from '../../src/models/data-volume.js';

/**
 * The plan's keepalive pings (models/data-volume.ts, as the cost model counts them) against what the fleet's keepalive
 * (fleet/keepalive.ts) really sends: standing sessions reporting every 60 s ± 10 % on the virtual
 * clock, counted by `mqtt.pings`. The plan is what a user reads before a 500,000-session run to
 * know how many packets the brokers will see, so it must agree with the engine.
 */
const scenario = (keepalive: string) => `name: ka-plan
seed: 11
duration: 3h
clock: virtual
target: embedded
fleet:
  - { profile: rpi4-gateway, count: 300, link: ethernet }
arrival: { rate: 300/s }
behaviour:
  session: always
  keepalive: ${keepalive}
  telemetry: { every: 1m, jitter: 10%, size: 64B, qos: 1 }
`;

describe('keepalive pings, planned and run', () => {
  it('the expected pings per report follow the gap between reports', () => {
    // Gaps uniform on [54 s, 66 s]: half pass 60 s.
    expect(pingsPerReport(60, 60, 0.1)).toBeCloseTo(0.5, 12);
    // Gaps of exactly 15 min with k = 60 s: pings at 1..14 min.
    expect(pingsPerReport(900, 60, 0)).toBe(14);
    expect(pingsPerReport(60, 66, 0.1)).toBe(0);
    expect(pingsPerReport(60, 0, 0.1)).toBe(0);
    expect(pingFreeKeepaliveS(60, 0.1)).toBe(66);
  });

  it('keepalive 60 s with reports every 60 s ± 10 %: the plan says half a ping per report, and the fleet sends that', async () => {
    const s = parseScenarioText(scenario('60s'), 'ka-plan.yaml');
    const plan = planRun(s, 1);
    expect(plan.rates.keepalive.pingsPerReport).toBeCloseTo(0.5, 6);
    expect(plan.rates.keepalive.pingsPerSec).toBeCloseTo(300 * 0.5 / 60, 6);
    expect(formatPlan(plan)).toContain('keepalive pings          2.5/s (0.5 per report, each a PINGREQ and a PINGRESP: keepalive 60 s is shorter than the longest gap between reports; 66 s or more sends none)');
    const { summary } = await runScenario(s, { workers: 1, runId: 'ka-plan-60' });
    const perReport = summary.counters['mqtt.pings'] / summary.counters['telemetry.generated'];
    // ~54,000 reports: the binomial spread of the share is ~0.2 %; 5 % leaves room for the edges of the run.
    expect(perReport).toBeGreaterThan(0.475);
    expect(perReport).toBeLessThan(0.525);
  }, 60_000);

  it('keepalive 66 s: the plan predicts no pings and the fleet sends none', async () => {
    const s = parseScenarioText(scenario('66s'), 'ka-plan-66.yaml');
    const plan = planRun(s, 1);
    expect(plan.rates.keepalive.pingsPerSec).toBe(0);
    expect(formatPlan(plan)).not.toContain('keepalive pings');
    const { summary } = await runScenario(s, { workers: 1, runId: 'ka-plan-66' });
    expect(summary.counters['telemetry.generated']).toBeGreaterThan(50_000);
    expect(summary.counters['mqtt.pings']).toBe(0);
  }, 60_000);
});
