import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * Fleet operations on the virtual clock: the backend model plays the campaign with the same
 * rollout policy as the embedded backend, fast enough for statistical checks, and identically
 * for any number of workers (rollout gates use fleet-wide counts exchanged in lockstep).
 */
const scenario = (extra = '') => `
name: ota-virtual
seed: 21
duration: 10m
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 1500, link: ethernet }
  - { profile: esp32-wifi-sensor, count: 1500, link: wifi }
arrival: { rate: 500/s }
behaviour:
  poll: { every: 5m }
  offline: { availability: 80%, downtime: { distribution: lognormal, median: 1m } }
phases:
  - at: 30s
    update:
      release: os-2.0
      target: os
      size: 2MB
      failureRate: 10%
      failureByProfile: { esp32-wifi-sensor: 30% }
${extra}
`;

describe('fleet operations on the virtual clock', () => {
  it('rollbacks match the injected failure probability per profile within 4 standard deviations', async () => {
    const { summary } = await runScenario(parseScenarioText(scenario('      rollout: { strategy: all }'), 'v.yaml'), { workers: 2, runId: 'ota-v-rb' });
    const ota = summary.fleet!.ota!;
    const finished = ota.succeeded + ota.rolledBack;
    expect(finished).toBeGreaterThan(2500);
    // Expected share: half the fleet at 10%, half at 30%, weighted by who finished (offline devices finish later).
    const perProfile = ota.energyPerUpdate; // updates committed per profile
    const rpiOk = perProfile.find((p) => p.profile === 'rpi4-gateway')!.updates;
    const espOk = perProfile.find((p) => p.profile === 'esp32-wifi-sensor')!.updates;
    // rpi: ok ~ 0.9 of its finished, esp: ok ~ 0.7 of its finished; finished per profile = ok / (1 - p) in expectation.
    const p = (0.1 * (rpiOk / 0.9) + 0.3 * (espOk / 0.7)) / (rpiOk / 0.9 + espOk / 0.7);
    const sd = Math.sqrt(finished * p * (1 - p));
    expect(Math.abs(ota.rolledBack - finished * p)).toBeLessThan(4 * sd);
    expect(ota.failuresByCause['health-check']).toBe(ota.rolledBack);
    // os updates reboot: offline devices resumed their downloads, and the energy of OTA was charged.
    expect(ota.energyPerUpdate.every((e) => e.otaJ > 0)).toBe(true);
  });

  it('a staged rollout aborts at the same step, with the same counts, on 1 and 3 workers', async () => {
    // An ideal link: the link's draws (on downloads, connects and reports) change which devices
    // finish first, and with it the failure share the first 30 show; this test is about the gate.
    const staged = `      rollout: { strategy: steps, steps: [5%, 30%, 100%], stepWait: 1m }
      abortIf: "failure_rate > 15%"
      minSample: 30
options: { linkModel: false }`;
    const runs = [];
    for (const workers of [1, 3]) runs.push(await runScenario(parseScenarioText(scenario(staged), 'v.yaml'), { workers, runId: `ota-v-st-${workers}` }));
    const [a, b] = runs.map((r) => r.summary);
    // Fleet failure rate is ~20% (> 15%): the first step trips once 30 devices finished.
    expect(a.fleet!.ota!.campaigns[0]).toMatchObject({ state: 'aborted', step: 0 });
    expect(b.fleet!.ota!.campaigns).toEqual(a.fleet!.ota!.campaigns);
    for (const k of ['update.started', 'update.success', 'update.rolled_back', 'ota.bytes_downloaded'] as const) expect(b.counters[k], k).toBe(a.counters[k]);
    // Nobody outside the 5% cohort ever started (~150 of 3000 devices).
    expect(a.counters['update.started']).toBeLessThan(220);
  });

  // Thresholds on fleet-operation outcomes (issue 12): a QA engineer testing "abort above 15%"
  // asserts the abort itself, the failure share the rule saw and the time to N% of the fleet.
  const byMetric = (s: { thresholds: Array<{ metric: string; expression: string; ok: boolean; value: number | null; display: string }> }) =>
    Object.fromEntries(s.thresholds.map((t) => [`${t.metric}: ${t.expression}`, t]));

  it('thresholds: a campaign that aborts above 15% is asserted directly, with the failure share the rule saw', async () => {
    const text = scenario(`      rollout: { strategy: steps, steps: [5%, 30%, 100%], stepWait: 1m }
      abortIf: "failure_rate > 15%"
      minSample: 30
thresholds:
  campaign.aborted: ["count == 1", "rate == 100%"]
  campaign.failures: ["rate > 15%"]
  update.rolled_back: ["rate > 10%"]
  campaign.time_to_updated: ["p(95) < 1h"]`);
    const { summary } = await runScenario(parseScenarioText(text, 'abort.yaml'), { workers: 2, runId: 'outcome-abort' });
    expect(summary.fleet!.ota!.campaigns[0].state).toBe('aborted');
    const t = byMetric(summary);
    expect(t['campaign.aborted: count == 1']).toMatchObject({ ok: true, value: 1 });
    expect(t['campaign.aborted: rate == 100%'].ok).toBe(true);
    const finished = summary.counters['update.success'] + summary.counters['update.failed'] + summary.counters['update.rolled_back'];
    expect(summary.counters['campaign.failures']).toBe(summary.counters['update.failed'] + summary.counters['update.rolled_back']);
    expect(t['campaign.failures: rate > 15%'].value).toBeCloseTo(summary.counters['campaign.failures'] / finished, 12);
    expect(t['update.rolled_back: rate > 10%'].ok).toBe(true);
    // Aborted in the 5% cohort: 95% of the fleet is never reached, so the threshold fails.
    expect(t['campaign.time_to_updated: p(95) < 1h']).toMatchObject({ ok: false, value: null, display: '95% never reached' });
    expect(summary.result.exitCode).toBe(99);
  });

  it('thresholds: a campaign that does not abort holds count == 0, and time to N% is what the report shows', async () => {
    const text = scenario(`      rollout: { strategy: all }
      abortIf: "failure_rate > 50%"
thresholds:
  campaign.aborted: ["count == 0"]
  campaign.failures: ["rate < 50%"]
  campaign.time_to_updated: ["p(50) < 9m", "p(99.9) < 9m"]`);
    const { summary } = await runScenario(parseScenarioText(text, 'all.yaml'), { workers: 1, runId: 'outcome-all' });
    const t = byMetric(summary);
    expect(t['campaign.aborted: count == 0']).toMatchObject({ ok: true, value: 0 });
    expect(t['campaign.failures: rate < 50%'].ok).toBe(true);
    const release = summary.fleet!.ota!.releases[0];
    expect(release.timeTo50Ms).not.toBeNull();
    expect(t['campaign.time_to_updated: p(50) < 9m']).toMatchObject({ ok: true, value: release.timeTo50Ms! * 1000 });
    // Rollbacks (10% and 30%) keep 99.9% of the fleet from ever running os-2.0.
    expect(t['campaign.time_to_updated: p(99.9) < 9m'].ok).toBe(false);
  });

  it('config propagation and diagnostics round trips are measured; logs obey their identity when buffers overflow', async () => {
    const s = parseScenarioText(
      `
name: ops-virtual
seed: 8
duration: 5m
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 400, link: ethernet }
  - { profile: nrf9160-tracker, count: 400, link: lte-m }
arrival: { rate: 200/s }
behaviour:
  offline: { availability: 70%, downtime: { distribution: exponential, mean: 40s } }
  diagnostics: { processing: 100ms, byProfile: { nrf9160-tracker: 2s } }
  logs: { rate: 5/s, lineSize: 100B, buffer: 10KB, flushEvery: 5s }
phases:
  - at: 1m
    config: { set: { sampling: 10s } }
  - at: 2m
    command: { name: diagnostics, devices: 50% }
`,
      'ops.yaml',
    );
    const { summary } = await runScenario(s, { workers: 2, runId: 'ops-v' });
    const f = summary.fleet!;
    // Online devices at the push apply within the modelled latency plus 50 ms; offline ones catch up later.
    expect(f.config!.applied).toBeGreaterThan(700);
    expect(f.config!.p99Ms!).toBeLessThan(1000);
    expect(f.config!.catchupP50Ms).not.toBeNull();
    expect(f.configPropagation!.at(-1)![1]).toBe(1);
    expect(f.commands!.sent).toBeGreaterThan(100);
    // A device that loses its link while working on the command cannot answer it.
    expect(f.commands!.answered).toBeLessThanOrEqual(f.commands!.received);
    expect(f.commands!.answered).toBeGreaterThan(f.commands!.received * 0.9);
    expect(summary.histograms['command.rtt'].stats.max).toBeGreaterThan(2_000_000); // the trackers' 2 s processing
    expect(f.logs!.holds).toBe(true);
    expect(f.logs!.dropped).toBeGreaterThan(0); // 100 lines of buffer, 25 lines per flush, offline for ~40 s
    expect(summary.counters['logs.suppressed_notices']).toBeGreaterThan(0);
  });
});
