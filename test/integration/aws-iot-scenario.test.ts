import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * scenarios/presets/aws-iot.yaml on the wall clock against the AWS IoT fake, small and short
 * (12 devices, 12 s, polling every 4 s, a 32 KB release, 25% failing their health check; its thresholds scaled
 * alike): every device provisions itself by claim, the jobs campaign stands on the fake as the
 * devices saw it (SUCCEEDED where they committed, FAILED where they rolled back, in progress
 * where the run ended first), and no error counter moves: the only failures are the injected ones. A preset or
 * fake that loses answers, sends stale versions or polls before its session shows here as errors
 * or as jobs the fake still holds open.
 */
const DEVICES = 12;

function small(edits: Array<[RegExp, string]>): string {
  let text = readFileSync('scenarios/presets/aws-iot.yaml', 'utf8');
  for (const [re, to] of edits) {
    expect(re.test(text), `aws-iot.yaml has ${re}`).toBe(true);
    text = text.replace(re, to);
  }
  return text;
}

describe('scenarios/presets/aws-iot.yaml', () => {
  it('wall clock, small, against the AWS IoT fake: provisioned by claim, the jobs campaign reconciles with the fake, no unexplained error', async () => {
    const text = small([
      // Fast flash: downloaded, verifying, installing and rebooting follow each other within
      // milliseconds, so their answers overlap (the case where answers were lost and the terminal
      // update went with a stale expectedVersion; aws-iot-exchanges.test.ts pins it down exactly).
      [/profile: rpi4-gateway, count: 40/, 'profile: { extends: rpi4-gateway, storage: { writeSpeed: 1GB/s } }, count: 8'],
      [/profile: nrf9160-tracker, count: 20/, 'profile: { extends: nrf9160-tracker, storage: { writeSpeed: 1GB/s } }, count: 4'],
      [/duration: 2m/, 'duration: 12s'],
      // Polls often enough that a device provisioned after the job was queued (seconds, on a loaded
      // box) hears of it within the run: the preset learns of a job queued while it was offline at
      // its next poll, not on coming online (docs/presets/aws-iot.md, known gaps).
      [/poll: \{ every: 20s, jitter: 10% \}/, 'poll: { every: 4s, jitter: 10% }'],
      [/at: 20s/, 'at: 2s'],
      [/size: 256KB/, 'size: 32KB'],
      [/failureRate: 5%/, 'failureRate: 25%'],
      [/"count == 60"/, `"count == ${DEVICES}"`],
      [/"count > 45"/, '"count >= 1"'],
      [/"count < 12"/, '"count < 6"'],
    ]);
    const result = await runScenario(parseScenarioText(text, 'aws-iot-small.yaml'), { workers: 1, runId: 'it-aws-iot', drainMs: 2000, collectDeviceCounts: true });
    const { summary } = result;
    const c = summary.counters;
    expect(summary.run.status).toBe('completed');
    expect(summary.result.verdict, JSON.stringify(summary.thresholds)).toBe('passed');
    expect(summary.accounting.holds).toBe(true);

    // Zero unexplained errors: the injected failures are health checks (update.rolled_back), never an error counter.
    const errors = Object.entries(c).filter(([k, v]) => (k.startsWith('errors.') || k.endsWith('.failed') || k === 'mqtt.request.late') && v > 0);
    expect(errors, 'error counters that moved').toEqual([]);

    // Every device provisioned by claim once (CreateKeysAndCertificate + RegisterThing), as its own thing on the fake.
    expect(c['provision.ok']).toBe(DEVICES);
    expect(result.backendDevices).toHaveLength(DEVICES);
    for (const d of result.backendDevices!) {
      expect(d.deviceId, 'thing name from the template').toMatch(/^fleetsim-/);
      expect(d.provisions, d.deviceId).toBe(1);
    }
    // Every poll (StartNextPendingJobExecution) the devices counted as answered, the fake served;
    // it served at most the ones the end of the run cut off besides (cancelled.poll, not errors).
    const served = result.backendDevices!.reduce((n, d) => n + d.polls, 0);
    expect(served).toBeGreaterThanOrEqual(c['poll.ok']);
    expect(served).toBeLessThanOrEqual(c['poll.ok'] + (c['cancelled.poll'] ?? 0));

    // The campaign as the fake's job executions record it, one per thing: SUCCEEDED where the
    // device committed, FAILED where it rolled back, IN_PROGRESS at the step last reported where
    // the end of the run cut the update short, QUEUED (not counted) where it had not started: a
    // device that came online after the job was queued hears of it at its first poll.
    const [campaign] = result.operator!.campaigns;
    const { success = 0, failed = 0, ...running } = campaign.statuses;
    const finished = c['update.success'] + c['update.rolled_back'] + c['update.failed'];
    expect({ success, failed }, JSON.stringify(campaign.statuses)).toEqual({ success: c['update.success'], failed: c['update.rolled_back'] + c['update.failed'] });
    expect(Object.values(running).reduce((a, b) => a + b, 0), JSON.stringify(campaign.statuses)).toBe(c['update.started'] - finished);
    // The release reported to each committed device's shadow; the bytes the fake served are the
    // bytes the devices downloaded (fleetsim's devices share one offer per campaign, so they all
    // fetch the presigned URL the first one read: the fake cannot tell bytes per thing).
    const backend = result.operator!.backend!;
    expect(backend.versions['app-2.0'] ?? 0).toBe(c['update.success']);
    // (a download the end of the run cut off was served but not counted on the device).
    expect(backend.artifactBytesServed).toBeGreaterThanOrEqual(c['ota.bytes_downloaded']);
    expect(c['ota.bytes_downloaded']).toBeGreaterThanOrEqual(c['update.started'] > 0 ? 32_000 : 0);
  }, 60_000);
});
