import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * scenarios/presets/{mender,hawkbit}.yaml, small and short, on the wall clock against the platform
 * fakes: 20 devices instead of 200 and shorter times (their own thresholds scaled alike). Mender:
 * pending until accepted and an update campaign with health-check failures, with the link model
 * (25 s suffice since an application release no longer reboots the device). hawkBit: a maintenance
 * window, then every device finishes its update (an app update restarts the application; when the
 * preset took every hawkBit update for an OS image, devices were still rebooting at the end).
 */
function small(file: string, edits: Array<[RegExp, string]>): string {
  let text = readFileSync(file, 'utf8');
  for (const [re, to] of edits) {
    expect(re.test(text), `${file} has ${re}`).toBe(true);
    text = text.replace(re, to);
  }
  return text;
}

const shrink: Array<[RegExp, string]> = [
  [/count: 150/, 'count: 15'],
  [/count: 50/, 'count: 5'],
  [/size: 512KB/, 'size: 64KB'],
];

// The three runs are independent (each its own fake on its own ports) and spend their time waiting
// on timers: they run at the same time, so the file takes as long as the longest run.
describe.concurrent('preset scenarios against the platform fakes (wall clock, small)', () => {
  it('mender: pending until accepted, re-authenticated when tokens expire, updated', async () => {
    const text = small('scenarios/presets/mender.yaml', [
      ...shrink,
      [/duration: 5m/, 'duration: 25s'],
      [/approvalRate: 200\/s/, 'approvalRate: 40/s'],
      [/telemetry: \{ every: 30s/, 'telemetry: { every: 5s'],
      [/poll: \{ every: 20s/, 'poll: { every: 3s'],
      [/at: 30s/, 'at: 5s'],
      [/failureRate: 5%/, 'failureRate: 20%'],
      [/"count == 200"/, '"count == 20"'],
      [/"count > 170"/, '"count >= 8"'],
      [/"count < 30"/, '"count < 5"'],
    ]);
    const result = await runScenario(parseScenarioText(text, 'mender-small.yaml'), { workers: 1, runId: 'it-mender', drainMs: 3000 });
    const { summary } = result;
    expect(summary.run.status).toBe('completed');
    expect(summary.result.verdict, JSON.stringify(summary.thresholds)).toBe('passed');
    expect(summary.counters['provision.pending']).toBeGreaterThan(0);
    // Every device finishes its update within 25 s, through the modelled link (every exchange crosses it).
    expect((summary.counters['update.rolled_back'] ?? 0) + (summary.counters['update.failed'] ?? 0) + summary.counters['update.success']).toBe(20);
    // Tokens last 40% of the run: devices re-authenticate when a request is answered 401.
    expect(summary.counters['auth.reauth']).toBeGreaterThan(0);
    expect(summary.counters['errors.poll.http_4xx_other']).toBeGreaterThan(0);
    // An application release is a single-file module-image: nothing reboots, and the health-check
    // failures complete within the run (when every artifact was an OS image they never did).
    expect(summary.counters['update.reboots'] ?? 0).toBe(0);
    expect(summary.counters['update.rolled_back'] ?? 0).toBeGreaterThan(0);
    expect(summary.accounting.holds).toBe(true);
  }, 90_000);
  it('hawkbit: maintenance window, then every device installs or fails (none stalls after verifying)', async () => {
    const text = small('scenarios/presets/hawkbit.yaml', [
      ...shrink,
      [/duration: 4m/, 'duration: 45s'],
      [/poll: \{ every: 30s/, 'poll: { every: 3s'],
      [/at: 20s/, 'at: 5s'],
      [/maintenanceWindow: \{ opens: 1m30s, length: 2m \}/, 'maintenanceWindow: { opens: 12s, length: 30s }'],
      [/failureRate: 5%/, 'failureRate: 20%'],
      [/"count == 200"/, '"count == 20"'],
      [/"count > 170"/, '"count >= 8"'],
      [/"count < 30"/, '"count < 10"'],
      [/thresholds:/, 'options: { linkModel: false }\nthresholds:'],
    ]);
    const result = await runScenario(parseScenarioText(text, 'hawkbit-small.yaml'), { workers: 1, runId: 'it-hawkbit', drainMs: 3000 });
    const { summary } = result;
    expect(summary.run.status).toBe('completed');
    const c = summary.counters;
    const finished = (c['update.rolled_back'] ?? 0) + (c['update.failed'] ?? 0) + (c['update.success'] ?? 0);
    expect(finished, JSON.stringify(c)).toBe(20);
    expect(summary.result.verdict, JSON.stringify(summary.thresholds)).toBe('passed');
    expect(summary.accounting.holds).toBe(true);
  }, 90_000);
  it('thingsboard: provisioned by key and secret, firmware through fw_* attributes, server-side RPC answered', async () => {
    const text = small('scenarios/presets/thingsboard.yaml', [
      [/count: 100/, 'count: 10'],
      [/count: 70/, 'count: 7'],
      [/count: 30/, 'count: 3'],
      [/size: 512KB/, 'size: 64KB'],
      [/duration: 3m/, 'duration: 60s'],
      [/every: 15s/, 'every: 5s'],
      [/at: 20s/, 'at: 5s'],
      [/at: 30s/, 'at: 8s'],
      [/at: 2m/, 'at: 40s'],
      [/failureRate: 5%/, 'failureRate: 20%'],
      [/"count == 200"/, '"count == 20"'],
      [/"count > 170"/, '"count >= 10"'],
      [/"count < 30"/, '"count < 5"'],
      [/"count > 250"/, '"count >= 25"'],
      [/thresholds:/, 'options: { linkModel: false }\nthresholds:'],
    ]);
    const { summary, operator } = await runScenario(parseScenarioText(text, 'thingsboard-small.yaml'), { workers: 1, runId: 'it-thingsboard', drainMs: 3000 });
    expect(summary.run.status).toBe('completed');
    expect(summary.result.verdict, JSON.stringify(summary.thresholds)).toBe('passed');
    // Every command went out as an RPC the fake delivered, and the devices' answers reached it.
    const commands = operator?.commands ?? [];
    expect(commands.length).toBe(2);
    for (const c of commands) expect(c.answered, JSON.stringify(c)).toBe(c.sent);
    expect(summary.accounting.holds).toBe(true);
  }, 90_000);
});
