import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeHistogram } from '../../src/metrics/histogram.js';
import { loadReport } from '../../src/report/writer.js';
import type { RunSummary } from '../../src/summary/run-summary.js';
import type { TimelineRow } from '../../src/metrics/aggregate.js';
import { CLI, runCli, type CliResult } from '../helpers/cli.js';

/**
 * Cross-machine sharding, as users run it: one virtual-clock run whole, the same run as three
 * `--shard i/3` processes started together, then `fleetsim merge`. Every device keeps its global
 * index, so its draws and arrival time do not depend on the split, and the merged counters,
 * accounting and histograms must be identical to the whole run's, not merely close.
 */
const SCENARIO = `
name: shard-merge
seed: 11
duration: 40s
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 700, link: ethernet }
  - { profile: esp32-wifi-sensor, count: 1100, link: wifi }
arrival: { rate: 150/s }
behaviour:
  telemetry: { every: 4s, jitter: 20%, size: 200B, qos: 1 }
  poll: { every: 15s, jitter: 10% }
thresholds:
  telemetry.ack.latency: ["p(99) < 5s"]
  provision.latency: ["p(95) < 1s"]
  telemetry.failed: ["rate < 1%"]
`;

/** Percentiles compared point by point: the encoded strings may differ in compression only. */
const PERCENTILES = [0, 0.1, 1, 5, ...Array.from({ length: 19 }, (_, i) => 10 + i * 5), 97, 98, 99, 99.5, 99.9, 99.95, 99.99, 100];

function histogramPoints(encoded: string): { count: number; min: number; max: number; mean: number; at: number[] } {
  const h = decodeHistogram(encoded);
  try {
    return { count: h.totalCount, min: h.minNonZeroValue, max: h.maxValue, mean: h.mean, at: PERCENTILES.map((p) => h.getValueAtPercentile(p)) };
  } finally {
    h.destroy();
  }
}

const onlyDir = (parent: string, pattern: RegExp) => {
  const found = readdirSync(parent).filter((d) => pattern.test(d));
  expect(found, `${parent}: ${pattern}`).toHaveLength(1);
  return path.join(parent, found[0]);
};

/**
 * The set-up runs four CLI processes at once (the whole run and three shards), then a merge, and
 * the tests below run more CLI processes: on a loaded 2-core machine that can outlast the default
 * 60 s timeouts. The deadline is for a process that hangs; how fast they run is not what this
 * test measures.
 */
const CLI_RUNS_DEADLINE_MS = 300_000;

describe('fleetsim run --shard i/3 in three processes + fleetsim merge', () => {
  let tmp: string;
  let file: string;
  let shardDirs: string[];
  let whole: { summary: RunSummary; timeline: TimelineRow[] };
  let merged: { summary: RunSummary; timeline: TimelineRow[] };
  let mergeRun: CliResult;
  let shardRuns: CliResult[];

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
    tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-shards-'));
    file = path.join(tmp, 'shard-merge.yaml');
    writeFileSync(file, SCENARIO);
    let wholeRun: CliResult;
    [wholeRun, ...shardRuns] = await Promise.all([
      runCli(['run', file, '--workers', '1', '--out', path.join(tmp, 'whole'), '--quiet']),
      ...[0, 1, 2].map((i) => runCli(['run', file, '--workers', '1', '--shard', `${i}/3`, '--out', path.join(tmp, 'shards'), '--quiet'])),
    ]);
    for (const r of [wholeRun, ...shardRuns]) expect(r.code, r.stderr).toBe(0);
    shardDirs = [0, 1, 2].map((i) => onlyDir(path.join(tmp, 'shards'), new RegExp(`-shard${i}of3$`)));
    mergeRun = await runCli(['merge', ...shardDirs, '--out', path.join(tmp, 'merged')]);
    expect(mergeRun.code, mergeRun.stderr).toBe(0);
    whole = await loadReport(onlyDir(path.join(tmp, 'whole'), /^shard-merge-/));
    merged = await loadReport(onlyDir(path.join(tmp, 'merged'), /-merged$/));
  }, CLI_RUNS_DEADLINE_MS);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('each shard ran its own third of the fleet, and the merge is the whole fleet', async () => {
    const shards = await Promise.all(shardDirs.map((d) => loadReport(d)));
    expect(shards.map((s) => s.summary.run.shard)).toEqual([0, 1, 2].map((index) => ({ index, count: 3 })));
    expect(shards.map((s) => s.summary.counters['devices.powered_on'])).toEqual([600, 600, 600]);
    expect(merged.summary.run.devices).toBe(1800);
    expect(merged.summary.run.shard).toBeUndefined();
    expect(mergeRun.stdout).toContain('merged 3 shard(s)');
  });

  test("each shard's console and HTML headers name the shard as its --shard flag and run id do", () => {
    shardDirs.forEach((dir, i) => {
      const runId = path.basename(dir);
      expect(runId.endsWith(`-shard${i}of3`)).toBe(true);
      expect(shardRuns[i].stdout).toContain(`run ${runId} · shard ${i}/3\n`);
      expect(readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain(`<dt>shard</dt><dd>${i}/3</dd>`);
    });
  });

  test('identical counters and accounting', () => {
    expect(whole.summary.counters['telemetry.acked']).toBeGreaterThan(10_000);
    expect(merged.summary.counters).toEqual(whole.summary.counters);
    expect(merged.summary.accounting).toEqual(whole.summary.accounting);
    expect(merged.summary.accounting.holds).toBe(true);
  });

  test('identical histograms: same count, min, max, mean and value at every percentile', () => {
    const names = Object.keys(whole.summary.histograms);
    expect(Object.keys(merged.summary.histograms)).toEqual(names);
    // The latencies this scenario produces must have data; the others (OTA, commands) stay empty on both sides.
    for (const name of ['provision.latency', 'mqtt.connect.latency', 'telemetry.ack.latency', 'poll.latency']) {
      expect(histogramPoints(whole.summary.histograms[name].encoded).count, name).toBeGreaterThan(0);
    }
    for (const name of names) {
      const w = histogramPoints(whole.summary.histograms[name].encoded);
      expect(histogramPoints(merged.summary.histograms[name].encoded), name).toEqual(w);
      expect(merged.summary.histograms[name].stats, name).toEqual(whole.summary.histograms[name].stats);
    }
  });

  test('identical thresholds, verdict and timeline (interval by interval)', () => {
    expect(merged.summary.thresholds).toEqual(whole.summary.thresholds);
    expect(merged.summary.result).toEqual(whole.summary.result);
    expect(merged.timeline.length).toBe(whole.timeline.length);
    merged.timeline.forEach((row, i) => {
      const w = whole.timeline[i];
      expect([row.interval, row.tMs], `interval ${i}`).toEqual([w.interval, w.tMs]);
      expect(row.counters, `interval ${i}`).toEqual(w.counters);
      expect(row.histograms, `interval ${i}`).toEqual(w.histograms);
    });
  });

  test('a missing shard (not passed, or a directory without summary.json) is exit 3 naming it', async () => {
    const twoOfThree = await runCli(['merge', shardDirs[0], shardDirs[2], '--out', path.join(tmp, 'bad')]);
    expect(twoOfThree.code).toBe(3);
    expect(twoOfThree.stderr).toContain('FLEETSIM_E_SHARD_MISSING');
    expect(twoOfThree.stderr).toContain('missing shard 1/3');

    rmSync(path.join(shardDirs[1], 'summary.json'));
    const died = await runCli(['merge', ...shardDirs, '--out', path.join(tmp, 'bad')]);
    expect(died.code).toBe(3);
    expect(died.stderr).toContain(`${shardDirs[1]} holds no summary.json`);
    expect(died.stderr).toContain('missing shard 1/3');
    expect(existsSync(path.join(tmp, 'bad'))).toBe(false);
  }, CLI_RUNS_DEADLINE_MS);

  test('a wall-clock --shard run whose rollout decides on fleet-wide counts, with the embedded backend, is refused (exit 2) before it starts', async () => {
    const gated = path.join(tmp, 'gated-wall.yaml');
    writeFileSync(
      gated,
      `name: gated-wall
duration: 20s
clock: wall
fleet:
  - { profile: rpi4-gateway, count: 30, link: ethernet }
arrival: { rate: 30/s }
behaviour:
  poll: { every: 5s }
phases:
  - at: 5s
    update:
      release: os-2.0
      target: os
      size: 1MB
      rollout: { strategy: steps, steps: [10%, 100%], stepWait: 5s }
      abortIf: "failure_rate > 5%"
      minSample: 2
`,
    );
    const out = path.join(tmp, 'gated-out');
    const r = await runCli(['run', gated, '--shard', '0/2', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('FLEETSIM_E_SHARD_DECISION');
    expect(r.stderr).toContain('update os-2.0 decides on fleet-wide outcome counts (staged steps and abortIf/minSample)');
    expect(r.stderr).toMatch(/hint: .*--clock virtual/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
  }, CLI_RUNS_DEADLINE_MS);

  test('a staged rollout sharded 3 ways through the CLI: the merge commits what the whole run commits and its report has the Fleet operations section', async () => {
    // ota-rollout's shape, smaller: the 1% step is ~6 devices per shard, under minSample 10, so
    // shards gating on their own counts never left the first step (the 99 vs 9,694).
    const ota = path.join(tmp, 'ota.yaml');
    writeFileSync(
      ota,
      `name: ota-small
seed: 9
duration: 50m
clock: virtual
fleet:
  - { profile: rpi4-gateway, count: 1200, link: ethernet }
  - { profile: esp32-wifi-sensor, count: 600, link: wifi }
arrival: { rate: 100/s }
behaviour:
  poll: { every: 5m, jitter: 10% }
phases:
  - at: 5m
    update:
      release: os-2.0
      target: os
      size: 8MB
      rollout: { strategy: steps, steps: [1%, 10%, 100%], stepWait: 5m }
      abortIf: "failure_rate > 50%"
      minSample: 10
options: { snapshotEvery: 30s }
`,
    );
    const [whole, ...parts] = await Promise.all([
      runCli(['run', ota, '--workers', '1', '--out', path.join(tmp, 'ota-whole'), '--quiet']),
      ...[0, 1, 2].map((i) => runCli(['run', ota, '--workers', '1', '--shard', `${i}/3`, '--out', path.join(tmp, 'ota-shards'), '--quiet'])),
    ]);
    for (const r of [whole, ...parts]) expect(r.code, r.stderr).toBe(0);
    expect(parts[1].stderr).toContain('this shard also simulates the other 1200 devices, unreported');
    const dirs = [0, 1, 2].map((i) => onlyDir(path.join(tmp, 'ota-shards'), new RegExp(`-shard${i}of3$`)));
    for (const d of dirs) expect(existsSync(path.join(d, 'merge-parts.json')), d).toBe(true);
    const m = await runCli(['merge', ...dirs, '--out', path.join(tmp, 'ota-merged')]);
    expect(m.code, m.stderr).toBe(0);
    const wholeDir = onlyDir(path.join(tmp, 'ota-whole'), /^ota-small-/);
    const mergedDir = onlyDir(path.join(tmp, 'ota-merged'), /-merged$/);
    const w = (await loadReport(wholeDir)).summary;
    const mm = (await loadReport(mergedDir)).summary;
    expect(w.counters['update.success']).toBeGreaterThan(1000);
    expect(mm.counters['update.success']).toBe(w.counters['update.success']);
    expect(mm.fleet?.ota).toEqual(w.fleet?.ota);
    expect(mm.fleet?.rollout).toEqual(w.fleet?.rollout);
    expect(readFileSync(path.join(mergedDir, 'report.html'), 'utf8')).toContain('<section id="fleet-ops"><h2>Fleet operations</h2>');
    expect(m.stdout).toMatch(/FLEET OPERATIONS/);
  }, CLI_RUNS_DEADLINE_MS);

  test('a shard of another seed is exit 3 naming it', async () => {
    const foreignOut = path.join(tmp, 'foreign');
    const r = await runCli(['run', file, '--workers', '1', '--shard', '1/3', '--seed', '12', '--out', foreignOut, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const foreign = onlyDir(foreignOut, /-shard1of3$/);
    const m = await runCli(['merge', shardDirs[0], foreign, shardDirs[2], '--out', path.join(tmp, 'bad')]);
    expect(m.code).toBe(3);
    expect(m.stderr).toContain('FLEETSIM_E_SHARD_MISSING');
    expect(m.stderr).toContain(`${foreign} is from another scenario or seed (shard-merge, seed 12; expected shard-merge, seed 11)`);
  }, CLI_RUNS_DEADLINE_MS);
});
