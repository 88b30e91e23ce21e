import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runScenario, type RunResult } from '../../src/engine/coordinator.js';
import { mergePartsJson, parseMergeParts } from '../../src/engine/results/merge-parts.js';
import { mergeShardRuns } from '../../src/engine/results/merge-shards.js';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import type { TimelineRow } from '../../src/metrics/aggregate.js';
import { loadScenario, type ScenarioOverrides } from '../../src/scenario/load.js';
import type { ResolvedScenario } from '../../src/scenario/resolved.js';
import { scaleScenario } from '../../src/scenario/scale.js';
import type { RunSummary } from '../../src/summary/run-summary.js';
import { CLI, ROOT } from '../helpers/cli.js';

/**
 * README: a sharded virtual-clock run "merges to exactly the whole run". For every scenario in
 * scenarios/ (virtual ones as written, wall ones with --clock virtual), the run whole and as
 * `--shard 0/3`, `1/3`, `2/3` merged must agree field by field: counters, gauges, accounting,
 * thresholds, verdict, every histogram (count, min, max, mean and values at percentiles), the
 * fleet results (fleet.*, with the fleet-operations members) and the timeline interval by
 * interval. The shards go through merge-parts.json's serialisation, as `fleetsim merge` reads it.
 *
 * Reduced to keep CI time reasonable (same code paths, fewer simulated hours or devices):
 * - battery-life-nbiot: `--duration 6h` (the scenario simulates 7 days, then projects 5 years);
 * - ota-rollout: scaled to 6,000 devices and `--duration 40m` (the campaign starts at 10 min and
 *   its 1% -> 10% -> 100% steps advance at 20 and 30 min once each step's cohort has its minSample
 *   of 50, 60 devices in the 1% step, so every step decision falls inside the run; 6,000 devices
 *   take 60% of 10,000's CPU and reach the same step);
 * - fleet-500k: scaled to 3,000 devices (same mix and per-device rates) and `--duration 3m`;
 * - backend-sizing: scaled to 5,000 devices and `--duration 7m` (its 96 connect servers still
 *   queue in the outage's reconnect storm, and every shard process queues at the whole fleet's
 *   backend: shadow shards).
 * Every other scenario runs as written, the ones with backend fault phases (chaos-api,
 * broker-restart) included: the backend model plays them (drivers/model/fault-model.ts), and the
 * merged `faults` section (injected summed, observed and recovery read off the merged timeline)
 * equals the whole run's. A scenario added to scenarios/ is covered automatically.
 */
const REDUCED: Record<string, { overrides?: ScenarioOverrides; devices?: number }> = {
  'battery-life-nbiot': { overrides: { duration: '6h' } },
  'ota-rollout': { overrides: { duration: '40m' }, devices: 6000 },
  'fleet-500k': { overrides: { duration: '3m' }, devices: 3000 },
  'backend-sizing': { overrides: { duration: '7m' }, devices: 5000 },
};

const SHARDS = 3;
// Four runs of one scenario at once (the whole and three shards): ota-rollout takes ~37 s of CPU,
// which on a shared 2-core box can stretch past vitest's default 60 s.
const SCENARIO_TIMEOUT_MS = 240_000;
const SCENARIO_DIR = path.join(ROOT, 'scenarios');
const names = readdirSync(SCENARIO_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

const PERCENTILES = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100];

function histogramPoints(encoded: string | undefined): number[] | null {
  if (!encoded) return null;
  const h = decodeHistogram(encoded);
  try {
    return [h.totalCount, h.minNonZeroValue, h.maxValue, h.mean, ...PERCENTILES.map((p) => h.getValueAtPercentile(p))];
  } finally {
    h.destroy();
  }
}

function timelineRow(r: TimelineRow): unknown {
  const { shards: _shards, hdr, ...row } = r;
  return { ...row, hdr: Object.fromEntries(Object.entries(hdr ?? {}).map(([k, v]) => [k, histogramPoints(v)])) };
}

function scenarioFor(name: string): ResolvedScenario {
  const r = REDUCED[name] ?? {};
  const s = loadScenario(path.join(SCENARIO_DIR, `${name}.yaml`), { clock: 'virtual', ...r.overrides });
  return r.devices === undefined ? s : scaleScenario(s, r.devices);
}

async function run(s: ResolvedScenario, runId: string, shard?: { index: number; count: number }): Promise<RunResult> {
  return runScenario(s, { workers: 1, runId, ...(shard ? { shard } : {}) });
}

describe('every scenario: merged --shard i/3 runs equal the whole run, field by field', () => {
  test('the built engine exists (worker threads load dist/)', () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
    expect(names.length).toBeGreaterThanOrEqual(8);
  });

  test.each(names)('%s', async (name) => {
    const s = scenarioFor(name);
    // Concurrently, as shards on several machines would run (and both cores of a CI box work).
    const [whole, ...shards] = await Promise.all([
      run(s, `${name}-whole`),
      ...Array.from({ length: SHARDS }, (_, index) => run(s, `${name}-shard${index}of${SHARDS}`, { index, count: SHARDS })),
    ]);
    const parts = shards.map((r, index) => ({ source: `shard ${index}`, summary: r.summary, timeline: r.timeline, parts: parseMergeParts(mergePartsJson(r.mergeParts!)) }));
    if (s.cost !== undefined || s.lifetime !== undefined) {
      // Cost per group and the fleet over years are answers about the whole fleet: merging shards
      // that carry them is refused (FLEETSIM_E_MERGE_WHOLE_FLEET), never summed into a wrong figure.
      expect(whole.summary.run.status, name).toBe('completed');
      expect(shards.map((r) => r.summary.run.devices).reduce((a, b) => a + b, 0)).toBe(s.devices);
      expect(() => mergeShardRuns(parts, `${name}-merged`)).toThrow(expect.objectContaining({ code: 'FLEETSIM_E_MERGE_WHOLE_FLEET' }));
      return;
    }
    const { summary: m, timeline } = mergeShardRuns(parts, `${name}-merged`);
    const w: RunSummary = whole.summary;

    expect(w.run.status, name).toBe('completed');
    expect(shards.map((r) => r.summary.run.devices).reduce((a, b) => a + b, 0)).toBe(s.devices);
    expect(m.run.devices).toBe(w.run.devices);
    expect(m.counters, `${name}: counters`).toEqual(w.counters);
    expect(m.gauges, `${name}: gauges`).toEqual(w.gauges);
    expect(m.accounting, `${name}: accounting`).toEqual(w.accounting);
    expect(m.thresholds, `${name}: thresholds`).toEqual(w.thresholds);
    expect(m.result, `${name}: verdict`).toEqual(w.result);
    expect(Object.keys(m.histograms)).toEqual(Object.keys(w.histograms));
    for (const [k, h] of Object.entries(w.histograms)) {
      expect(m.histograms[k].stats, `${name}: ${k} stats`).toEqual(h.stats);
      expect(histogramPoints(m.histograms[k].encoded), `${name}: ${k}`).toEqual(histogramPoints(h.encoded));
    }
    // fleet.* member by member, so that a failure names the member.
    expect(Object.keys(m.fleet ?? {}).sort(), `${name}: fleet members`).toEqual(Object.keys(w.fleet ?? {}).sort());
    for (const [k, v] of Object.entries(w.fleet ?? {})) expect((m.fleet as Record<string, unknown>)[k], `${name}: fleet.${k}`).toEqual(v);
    expect(timeline.length, `${name}: timeline rows`).toBe(whole.timeline.length);
    timeline.forEach((row, i) => expect(timelineRow(row), `${name}: interval ${i}`).toEqual(timelineRow(whole.timeline[i])));

    // The scenario did what it is for, so that equality is not the equality of two empty reports.
    expect(w.counters['devices.powered_on'], name).toBeGreaterThan(0);
    expect(m.faults, `${name}: faults`).toEqual(w.faults);
    if (w.faults) expect(w.faults.phases.every((p) => p.injected.total > 0 && p.recovery.affected > 0), `${name}: every fault phase injected and knocked devices out`).toBe(true);
    if (name === 'ota-rollout') {
      expect(w.counters['update.success']).toBeGreaterThan(0.5 * s.devices);
      expect(m.fleet?.ota?.campaigns).toEqual(w.fleet?.ota?.campaigns);
      expect(w.fleet?.ota?.campaigns?.[0].step).toBe(2);
    }
  }, SCENARIO_TIMEOUT_MS);
});
