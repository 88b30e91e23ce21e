import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { rolloutRank } from '../../src/wire/rollout.js';

/**
 * OTA campaigns end to end on the wall clock: real HTTP downloads with Range, MQTT notifications
 * and state reports against the embedded backend, which is started here (as an external target)
 * when a test needs to inject faults or read its counters per device.
 */

let backend: EmbeddedBackend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});

const KEY = 'ota-test-key';
async function external(): Promise<EmbeddedBackend> {
  backend = await startEmbeddedBackend({ fleetKey: KEY });
  return backend;
}
const target = (b: EmbeddedBackend) => `{ http: "${b.httpUrl}", mqtt: "${b.mqttUrl}", fleetKey: ${KEY} }`;

describe('OTA campaigns against the embedded backend', () => {
  it('reaches every online compatible device; incompatible devices count the attempt and never install', async () => {
    const s = parseScenarioText(
      `
name: ota-reach
seed: 5
duration: 11s
fleet:
  - { profile: rpi4-gateway, count: 40, link: ethernet }
  - { profile: esp32-wifi-sensor, count: 20, link: wifi }
arrival: { rate: 200/s }
behaviour:
  poll: { every: 4s }
  download: { healthCheck: 500ms, appRestart: 200ms }
phases:
  - at: 1s
    update: { release: app-2.0, size: 200KB, archs: [arm64], rollout: { strategy: all } }
`,
      'ota-reach.yaml',
    );
    const { summary, operator } = await runScenario(s, { workers: 2, runId: 'ota-reach', drainMs: 3000 });
    expect(summary.run.status).toBe('completed');
    expect(summary.counters['update.success']).toBe(40);
    expect(summary.counters['update.incompatible']).toBe(20);
    expect(summary.fleet!.ota!.failuresByCause).toEqual({ incompatible: 20 });
    expect(summary.fleet!.ota!.releases[0]).toMatchObject({ release: 'app-2.0', compatible: 40, updated: 40 });
    // Only arm64 devices downloaded: 40 x 200 kB, and the backend served exactly that.
    expect(summary.counters['ota.bytes_downloaded']).toBe(40 * 200_000);
    expect(operator!.backend!.artifactBytesServed).toBe(40 * 200_000);
    expect(operator!.backend!.versions).toEqual({ 'app-1.0': 20, 'app-2.0': 40 });
    const rollout = summary.fleet!.rollout!.find((r) => r.release === 'app-2.0')!;
    expect(rollout.points[rollout.points.length - 1][1]).toBeCloseTo(40 / 60, 6);
  });

  it('resumed downloads transfer exactly the missing bytes after forced interruptions', async () => {
    const b = await external();
    // The first 25 artifact responses are cut after 70,000 bytes: those devices resume with Range.
    b.setFaults({ artifact: { cutAfterBytes: 70_000, first: 25 } });
    const s = parseScenarioText(
      `
name: ota-resume
seed: 9
duration: 12s
target: ${target(b)}
fleet:
  - { profile: rpi4-gateway, count: 30, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  download: { healthCheck: 500ms, appRestart: 200ms }
phases:
  - at: 1s
    update: { release: app-3.0, size: 250KB, rollout: { strategy: all } }
`,
      'ota-resume.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'ota-resume', drainMs: 3000 });
    expect(summary.counters['update.success']).toBe(30);
    expect(summary.counters['ota.resumes']).toBe(25);
    // Each interrupted device had 70,000 bytes on disk and fetched only the remaining 180,000.
    expect(summary.counters['ota.bytes_saved_resume']).toBe(25 * 70_000);
    const stats = b.fleetOpsStats();
    expect(summary.counters['ota.bytes_downloaded']).toBe(30 * 250_000);
    expect(stats.artifactBytesServed).toBe(summary.counters['ota.bytes_downloaded']);
    for (const [id, bytes] of Object.entries(stats.bytesByDevice)) expect(bytes, id).toBe(250_000);
    expect(Object.keys(stats.bytesByDevice)).toHaveLength(30);
  });

  it('a corrupted artifact fails its checksum and is never installed', async () => {
    const s = parseScenarioText(
      `
name: ota-corrupt
seed: 2
duration: 8s
fleet:
  - { profile: rpi4-gateway, count: 40, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  download: { healthCheck: 300ms, appRestart: 100ms }
phases:
  - at: 1s
    update: { release: app-2.1, size: 100KB, corrupt: 25%, rollout: { strategy: all } }
`,
      'ota-corrupt.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'ota-corrupt', drainMs: 3000 });
    const checksum = summary.fleet!.ota!.failuresByCause.checksum ?? 0;
    // corruptDraw is deterministic per serial: 40 devices at 25% gives some but not all.
    expect(checksum).toBeGreaterThan(0);
    expect(checksum).toBeLessThan(40);
    expect(summary.counters['update.success'] + checksum).toBe(40);
  });

  it('a staged rollout stops at the step whose failure rate trips abortIf', async () => {
    const b = await external();
    const s = parseScenarioText(
      `
name: ota-staged
seed: 11
duration: 10s
target: ${target(b)}
fleet:
  - { profile: rpi4-gateway, count: 100, link: ethernet }
arrival: { rate: 500/s }
behaviour:
  download: { healthCheck: 300ms, appRestart: 100ms }
phases:
  - at: 1s
    update:
      release: app-4.0
      size: 50KB
      rollout: { strategy: steps, steps: [20%, 60%, 100%], stepWait: 2s }
      abortIf: "failure_rate > 20%"
      minSample: 8
      failureRate: 60%
`,
      'ota-staged.yaml',
    );
    const { summary, operator } = await runScenario(s, { workers: 1, runId: 'ota-staged', drainMs: 3000 });
    const c = operator!.campaigns[0];
    expect(c.state).toBe('aborted');
    expect(c.step).toBe(0);
    expect(c.reason).toMatch(/^step 1 \(20%\)/);
    expect(summary.fleet!.ota!.campaigns[0]).toMatchObject({ state: 'aborted', step: 0 });
    // Only the first cohort (rank < 20%) was ever admitted.
    const cohort = Array.from({ length: 100 }, (_, i) => rolloutRank(`ota-staged-${i}`)).filter((r) => r < 0.2).length;
    expect(summary.counters['update.started']).toBeLessThanOrEqual(cohort);
    expect(summary.counters['update.started']).toBeGreaterThanOrEqual(8);
  });

  it('a maintenance window holds devices until it opens', async () => {
    const s = parseScenarioText(
      `
name: ota-window
seed: 4
duration: 9s
fleet:
  - { profile: rpi4-gateway, count: 20, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  download: { healthCheck: 200ms, appRestart: 100ms }
phases:
  - at: 1s
    update: { release: app-5.0, size: 50KB, rollout: { strategy: all }, maintenanceWindow: { opens: 5s, length: 2s } }
`,
      'ota-window.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'ota-window', drainMs: 3000 });
    expect(summary.counters['update.success']).toBe(20);
    const points = summary.fleet!.rollout!.find((r) => r.release === 'app-5.0')!.points;
    // Downloads finished within ~1 s of the offer, yet nobody ran app-5.0 before the window opened at 5 s.
    for (const [t, share] of points) if (t <= 5000) expect(share, `t=${t}`).toBe(0);
    expect(points[points.length - 1][1]).toBe(1);
    expect(summary.histograms['update.duration'].stats.min).toBeGreaterThan(3_500_000);
  });
});
