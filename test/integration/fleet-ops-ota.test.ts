import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import type { ResolvedScenario } from '../../src/scenario/resolved.js';
import { runScenario, type RunOptions, type RunResult } from '../../src/engine/coordinator.js';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { rolloutRank } from '../../src/wire/rollout.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * OTA campaigns end to end on the wall clock: real HTTP downloads with Range, MQTT notifications
 * and state reports against the embedded backend, which is started here (as an external target)
 * when a test needs to inject faults or read what it has seen.
 *
 * Each run lasts until the outcome the test checks has happened (runUntil), its duration only the
 * deadline: on a loaded box the same campaign takes longer, and a fixed run length cut it short.
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

/** What a run has reported so far: its device counters, summed over the merged intervals (one a second), and how far it got (run ms). */
interface Reported {
  counters: Readonly<Record<string, number>>;
  reachedMs: number;
}

/**
 * Runs `s` until `done` holds (polled, with the scenario's duration as the deadline), then stops
 * it. The run must end there, stopped ('interrupted'), not at its deadline ('completed').
 */
async function runUntil(s: ResolvedScenario, opts: RunOptions, what: string, done: (r: Reported) => boolean): Promise<RunResult> {
  const counters: Record<string, number> = {};
  const reported = { counters, reachedMs: 0 };
  let stop!: () => void;
  const interrupt = new Promise<void>((r) => (stop = r));
  let ended = false;
  const run = runScenario(s, {
    ...opts,
    interrupt,
    onInterval: (row) => {
      for (const [k, v] of Object.entries(row.counters)) counters[k] = (counters[k] ?? 0) + v;
      reported.reachedMs = row.tMs;
    },
  }).finally(() => (ended = true));
  try {
    await waitFor(() => ended || done(reported), what, s.durationMs + 15_000, 20);
  } finally {
    stop();
  }
  const result = await run;
  const c = result.summary.counters;
  // What the devices reported of their updates and state reports, for the message.
  const outcomes = Object.keys(c).filter((k) => (k.startsWith('update.') || k.startsWith('errors.state.') || k === 'cancelled.state') && c[k] > 0).map((k) => `${k} ${c[k]}`);
  expect(result.summary.run.status, `the run reached its deadline before ${what} (${outcomes.join(', ')})`).toBe('interrupted');
  return result;
}

describe('OTA campaigns against the embedded backend', () => {
  it('reaches every online compatible device; incompatible devices count the attempt and never install', async () => {
    const b = await external();
    const s = parseScenarioText(
      `
name: ota-reach
seed: 5
duration: 40s
target: ${target(b)}
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
    const { summary, operator } = await runUntil(
      s,
      { workers: 2, runId: 'ota-reach', drainMs: 3000 },
      'every device to have its outcome, and the backend every success',
      (r) => r.counters['update.success'] >= 40 && r.counters['update.incompatible'] >= 20 && (b.fleetOpsStats().versions['app-2.0'] ?? 0) >= 40,
    );
    expect(summary.counters['update.success']).toBe(40);
    expect(summary.counters['update.incompatible']).toBe(20);
    expect(summary.fleet!.ota!.failuresByCause).toEqual({ incompatible: 20 });
    expect(summary.fleet!.ota!.releases[0]).toMatchObject({ release: 'app-2.0', compatible: 40, updated: 40 });
    // Only arm64 devices downloaded: 40 x 200 kB, and the backend served exactly that.
    expect(summary.counters['ota.bytes_downloaded']).toBe(40 * 200_000);
    expect(operator!.backend!.artifactBytesServed).toBe(40 * 200_000);
    // Can still fail on a loaded box, for a reason of fleetsim's: a device's state reports leave
    // without waiting for the previous one's answer, so a late 'installing' (still naming
    // app-1.0) can reach the backend after the device's 'success'.
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
duration: 40s
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
    const { summary } = await runUntil(s, { workers: 1, runId: 'ota-resume', drainMs: 3000 }, 'every device to have installed', (r) => r.counters['update.success'] >= 30);
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
duration: 40s
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
    const { summary } = await runUntil(s, { workers: 1, runId: 'ota-corrupt', drainMs: 3000 }, 'every device to have its outcome', (r) => r.counters['update.success'] + r.counters['update.failed'] >= 40);
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
duration: 40s
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
    // On until the abort, and for 10 s of run at least: time in which a later step would have
    // been admitted (2 s soak, then a 1 s tick) had the abort not held.
    const aborted = () => b.campaigns()[0]?.state === 'aborted';
    const { summary, operator } = await runUntil(s, { workers: 1, runId: 'ota-staged', drainMs: 3000 }, 'the abort, after 10 s of run', (r) => r.reachedMs >= 10_000 && aborted());
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
    // Open for 30 s: long enough for a loaded box (a device whose install came due after the
    // window closed would wait a day for the next one).
    const s = parseScenarioText(
      `
name: ota-window
seed: 4
duration: 40s
fleet:
  - { profile: rpi4-gateway, count: 20, link: ethernet }
arrival: { rate: 200/s }
behaviour:
  download: { healthCheck: 200ms, appRestart: 100ms }
phases:
  - at: 1s
    update: { release: app-5.0, size: 50KB, rollout: { strategy: all }, maintenanceWindow: { opens: 5s, length: 30s } }
`,
      'ota-window.yaml',
    );
    const { summary } = await runUntil(s, { workers: 1, runId: 'ota-window', drainMs: 3000 }, 'every device to have installed', (r) => r.counters['update.success'] >= 20);
    expect(summary.counters['update.success']).toBe(20);
    const points = summary.fleet!.rollout!.find((r) => r.release === 'app-5.0')!.points;
    // Downloads finished within ~1 s of the offer, yet nobody ran app-5.0 before the window opened at 5 s.
    for (const [t, share] of points) if (t <= 5000) expect(share, `t=${t}`).toBe(0);
    expect(points[points.length - 1][1]).toBe(1);
    // update.duration runs from the offer as the device heard it to the commit, so it must hold the
    // wait for the window: without it a 50 KB download on ethernet plus 300 ms of health check and
    // restart ends well inside 1 s. Offers go at 1 s and the window opens at 5 s; the floor leaves
    // 2 s for an offer pushed over MQTT to reach its device on a loaded box (3.37 s was seen once
    // under load against an earlier floor of 3.5 s, which assumed delivery within 0.5 s).
    expect(summary.histograms['update.duration'].stats.min).toBeGreaterThan(2_000_000);
  });
});
