import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * scenarios/presets/balena.yaml on both clocks: small and short on the wall clock against the
 * balena fake (20 devices, 30 s; its own thresholds scaled alike), where what the fake recorded
 * (releases done and aborted, log lines received in batches) must match what the devices did;
 * and as shipped on the virtual clock (the modelled backend), where it passes its thresholds.
 */
function small(edits: Array<[RegExp, string]>): string {
  let text = readFileSync('scenarios/presets/balena.yaml', 'utf8');
  for (const [re, to] of edits) {
    expect(re.test(text), `balena.yaml has ${re}`).toBe(true);
    text = text.replace(re, to);
  }
  return text;
}

describe('scenarios/presets/balena.yaml', () => {
  it('wall clock, small, against the balena fake: registered, updated through the update_status steps, logs in batches; the fake agrees', async () => {
    const text = small([
      [/count: 150/, 'count: 15'],
      [/count: 50/, 'count: 5'],
      [/duration: 4m/, 'duration: 30s'],
      // 512 KB as shipped: several Range chunks, so the download must know where the image ends.
      [/poll: \{ every: 31s, jitter: 3% \}/, 'poll: { every: 3s, jitter: 10% }'],
      [/at: 30s/, 'at: 5s'],
      [/failureRate: 5%/, 'failureRate: 20%'],
      [/"count == 200"/, '"count == 20"'],
      [/"count > 170"/, '"count >= 8"'],
      [/"count < 30"/, '"count < 10"'],
      [/"count > 100000"/, '"count > 1000"'],
    ]);
    const result = await runScenario(parseScenarioText(text, 'balena-small.yaml'), { workers: 1, runId: 'it-balena', drainMs: 3000, collectDeviceCounts: true });
    const { summary } = result;
    expect(summary.run.status).toBe('completed');
    expect(summary.result.verdict, JSON.stringify(summary.thresholds)).toBe('passed');
    expect(summary.accounting.holds).toBe(true);
    const c = summary.counters;
    // Every device registered once and polled, per serial on the fake.
    expect(result.backendDevices).toHaveLength(20);
    for (const d of result.backendDevices!) {
      expect(d.provisions, d.deviceId).toBe(1);
      expect(d.polls, d.deviceId).toBeGreaterThan(0);
    }
    // The campaign as the fake saw it: done where the devices succeeded, aborted where they rolled back.
    const [campaign] = result.operator!.campaigns;
    expect(campaign.statuses.success ?? 0).toBe(c['update.success']);
    expect(campaign.statuses.failed ?? 0).toBe((c['update.rolled_back'] ?? 0) + (c['update.failed'] ?? 0));
    expect(c['update.rolled_back']).toBeGreaterThan(0);
    // Log lines: what the fake received in batches is what the devices shipped, but for the
    // last flush still in flight when the fake was asked (15 lines per device at most).
    const backend = result.operator!.backend!;
    expect(backend.logLines).toBeLessThanOrEqual(c['logs.sent']);
    expect(backend.logLines).toBeGreaterThanOrEqual(c['logs.sent'] - 20 * 15);
    expect(c['errors.state.http_4xx_other'] ?? 0).toBe(0);
    // The image size comes only from Content-Range (v3 names none); through the modelled link it
    // must still reach the download, or devices ask past the last byte and no update finishes.
    expect(c['errors.artifact.http_4xx_other'] ?? 0).toBe(0);
  }, 90_000);

  it('virtual clock, as shipped: passes its thresholds on the modelled backend', async () => {
    const result = await runScenario(loadScenario('scenarios/presets/balena.yaml', { clock: 'virtual' }), { workers: 1, runId: 'it-balena-virtual' });
    expect(result.summary.result.verdict, JSON.stringify(result.summary.thresholds)).toBe('passed');
    expect(result.summary.accounting.holds).toBe(true);
  }, 90_000);
});
