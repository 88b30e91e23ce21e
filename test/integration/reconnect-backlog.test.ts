import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * Issue 10, "Messages delivered after a reconnect are counted separately": devices that lose their
 * link keep generating into their buffer and send the backlog when they are back. Those messages
 * get their own count and a delay histogram from generation to delivery, not only a share of
 * `acked`. Virtual clock, so the numbers are exact and the same for any number of workers.
 */
const scenario = (qos: 0 | 1) => `
name: backlog-qos${qos}
seed: 31
duration: 6h
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 100, link: ethernet }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 1m, jitter: 10%, size: 100B, qos: ${qos} }
  offline:
    availability: 90%
    downtime: { distribution: exponential, mean: 30m }
options: { snapshotEvery: 10m }
`;

describe.each([0, 1] as const)('the backlog after a reconnect (QoS %i)', (qos) => {
  it('is counted and timed on its own, and is part of what was delivered', async () => {
    const s = parseScenarioText(scenario(qos), `backlog-qos${qos}.yaml`);
    const one = await runScenario(s, { workers: 1, runId: `backlog-${qos}-1` });
    const a = one.summary.accounting;
    expect(a.holds).toBe(true);
    const delivered = qos === 1 ? a.acked : a.sentNoAck;
    // ~10% of the time offline, in outages of ~30 reports: a tenth of the messages waited.
    expect(a.deliveredAfterReconnect).toBeGreaterThan(delivered * 0.03);
    expect(a.deliveredAfterReconnect).toBeLessThan(delivered * 0.3);
    expect(one.summary.counters['telemetry.delivered_after_reconnect']).toBe(a.deliveredAfterReconnect);
    const delay = one.summary.histograms['telemetry.delivered_after_reconnect.delay'].stats;
    expect(delay.count).toBe(a.deliveredAfterReconnect);
    // They waited out outages of minutes; the backend answered them as fast as any other.
    expect(delay.p50).toBeGreaterThan(60_000_000);
    if (qos === 1) expect(one.summary.histograms['telemetry.ack.latency'].stats.p99).toBeLessThan(1_000_000);

    const two = await runScenario(s, { workers: 2, runId: `backlog-${qos}-2` });
    expect(two.summary.accounting).toEqual(a);
    expect(two.summary.histograms['telemetry.delivered_after_reconnect.delay'].encoded).toBe(one.summary.histograms['telemetry.delivered_after_reconnect.delay'].encoded);
  });
});
