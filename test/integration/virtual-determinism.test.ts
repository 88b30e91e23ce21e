import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { runScenario, type RunResult } from '../../src/engine/coordinator.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { comparableSummary, comparableTimeline } from '../helpers/virtual-compare.js';
import { ROOT } from '../helpers/cli.js';

/**
 * Determinism of the virtual clock across worker counts: the same seed gives the same summary and
 * the same timeline with 1 and with 2 workers. The scenario exercises everything whose order could
 * leak the split: own outages (lognormal renewal), a scripted cell outage (a reconnect storm with
 * many equal event times), battery energy, telemetry with jitter and polls. Only wall-clock fields
 * (run timing, ids, worker count, generator health) and the per-row shard count may differ.
 */
const SCENARIO = `
name: virtual-determinism
seed: 23
duration: 3h
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 900, link: nb-iot, cells: 12 }
  - { profile: esp32-wifi-sensor, count: 600, link: wifi, cells: 6 }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 5m, jitter: 10%, size: 200B, qos: 1 }
  poll: { every: 20m, jitter: 5% }
  offline: { availability: 90%, downtime: { distribution: lognormal, median: 4m } }
phases:
  - at: 1h
    outage: { scope: cell, fraction: 40%, duration: 10m }
options:
  snapshotEvery: 5m
`;

describe('virtual clock: 1 worker and 2 workers give identical results', () => {
  let one: RunResult;
  let two: RunResult;

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist/engine/hosting/shard-worker.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const s = parseScenarioText(SCENARIO, 'virtual-determinism.yaml');
    one = await runScenario(s, { workers: 1, runId: 'det-1' });
    two = await runScenario(s, { workers: 2, runId: 'det-2' });
  });

  test('the run is not trivial: outages, storms, energy and acks all happened', () => {
    const c = one.summary.counters;
    expect(one.summary.run.status).toBe('completed');
    expect(c['link.down']).toBeGreaterThan(100);
    expect(c['mqtt.connect.ok']).toBeGreaterThan(1500);
    expect(c['telemetry.acked']).toBeGreaterThan(40_000);
    expect(c['poll.ok']).toBeGreaterThan(5_000);
    expect(one.summary.accounting.holds).toBe(true);
    expect(one.summary.fleet?.energyByActivity?.length).toBeGreaterThan(0);
    expect(two.summary.run.workers).toBe(2);
  });

  test('summaries are deep-equal apart from wall-clock fields', () => {
    expect(comparableSummary(two.summary)).toEqual(comparableSummary(one.summary));
  });

  test('timelines are equal row by row', () => {
    expect(two.timeline.length).toBe(one.timeline.length);
    expect(comparableTimeline(two.timeline)).toEqual(comparableTimeline(one.timeline));
  });
});
