import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * scenarios/presets/aws-iot.yaml on the wall clock against the AWS IoT fake, small and short
 * (12 devices, 12 s, the job queued at the start, a 32 KB release, 25% failing their health check; its thresholds scaled
 * alike): every device provisions itself by claim and hears of the job when its session comes up, the jobs campaign stands on the fake as the
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
      // The job is queued before any device is provisioned: notify-next reaches none of them (it
      // fires when the next pending execution changes, before their sessions exist), and the
      // shipped 20 s poll interval is longer than the run. Each device hears of the job by the
      // start-next it asks for as soon as its session is up (the device workflow page).
      [/at: 20s/, 'at: 0s'],
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

    // Every device was offered the job by the start-next it made when its session came up (its
    // scheduled first poll falls anywhere in the first 20 s; one that fell before the session was up
    // left with it, and the poll on connect was not doubled), and started it.
    expect(c['poll.on_connect']).toBeGreaterThan(0);
    expect(c['update.offered']).toBe(DEVICES);
    expect(c['update.started']).toBe(DEVICES);

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
    // the end of the run cut the update short, QUEUED (not counted) where it had not started.
    const [campaign] = result.operator!.campaigns;
    const { success = 0, failed = 0, ...running } = campaign.statuses;
    const finished = c['update.success'] + c['update.rolled_back'] + c['update.failed'];
    expect({ success, failed }, JSON.stringify(campaign.statuses)).toEqual({ success: c['update.success'], failed: c['update.rolled_back'] + c['update.failed'] });
    expect(Object.values(running).reduce((a, b) => a + b, 0), JSON.stringify(campaign.statuses)).toBe(c['update.started'] - finished);
    // The release reported to each committed device's shadow; the bytes the fake served are the
    // bytes the devices downloaded, each from the URL presigned for its own thing (per-thing bytes:
    // test/unit/ota-own-artifact.test.ts).
    const backend = result.operator!.backend!;
    expect(backend.versions['app-2.0'] ?? 0).toBe(c['update.success']);
    // (a download the end of the run cut off was served but not counted on the device).
    expect(backend.artifactBytesServed).toBeGreaterThanOrEqual(c['ota.bytes_downloaded']);
    expect(c['ota.bytes_downloaded']).toBeGreaterThanOrEqual(c['update.started'] > 0 ? 32_000 : 0);
  }, 60_000);
});
