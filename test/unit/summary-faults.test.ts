import { describe, expect, it } from 'vitest';
import type { TimelineRow } from '../../src/metrics/aggregate.js';
import { faultRecoveryTimeToShare, faultReportOf, mergeFaultReports } from '../../src/summary/fault-report.js';
import { mergeRuns, type ShardRun } from '../../src/summary/merge-runs.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

const row = (tMs: number, counters: Record<string, number>): TimelineRow => ({ interval: tMs / 1000, tMs, shards: 1, counters, gauges: {}, histograms: {} });

/** Two faults 10 s apart on a 1 s timeline: 10 devices out in the first, 4 in the second. */
const timeline = [
  row(1000, {}),
  row(2000, { 'recovery.devices_out': 6, 'errors.poll.http_503': 6, 'poll.failed': 6 }),
  row(3000, { 'recovery.devices_out': 4, 'errors.poll.http_503': 4, 'poll.failed': 4 }),
  row(4000, { 'recovery.devices_back': 5 }),
  row(5000, { 'recovery.devices_back': 4 }),
  row(7000, { 'recovery.devices_back': 1 }),
  row(12000, { 'recovery.devices_out': 4, 'mqtt.connection_lost': 4 }),
  row(13000, { 'recovery.devices_back': 4 }),
];
const phases = [
  { index: 0, label: 'http 503 poll', atMs: 2000, forMs: 2000 },
  { index: 3, label: 'mqtt disconnect', atMs: 11000, forMs: 0 },
];
const injected = [
  { phase: 0, kind: 'http_status', route: 'poll', count: 10 },
  { phase: 3, kind: 'session_disconnected', route: 'mqtt_session', count: 4 },
];

describe('faults section', () => {
  const r = faultReportOf(timeline, phases, injected, 14000, []);

  it('sets what was injected beside what devices saw in each phase window', () => {
    expect(r.phases.map((p) => [p.phase, p.windowEndMs, p.injected.total, p.observed.errors, p.observed.sessionsLost])).toEqual([
      [0, 11000, 10, { 'errors.poll.http_503': 10 }, 0],
      [3, 14000, 4, {}, 4],
    ]);
  });

  it('times recovery from the end of the fault: 50% at 4 s, when it ended (0), 95% and 99% at 7 s', () => {
    expect(r.phases[0].recovery).toEqual({ affected: 10, back: 10, stillOut: 0, timeTo50Ms: 0, timeTo95Ms: 3000, timeTo99Ms: 3000, resolutionMs: 1000 });
    expect(r.phases[1].recovery.timeTo99Ms).toBe(2000);
  });

  it('recovery.time_to_back is the slowest phase, in µs; a share never reached is null, no knocked-out device no data', () => {
    expect(faultRecoveryTimeToShare(r, timeline, 0.95)).toBe(3_000_000);
    const cut = timeline.slice(0, 5);
    expect(faultRecoveryTimeToShare(faultReportOf(cut, phases.slice(0, 1), injected, 5000, []), cut, 0.99)).toBeNull();
    const quiet = [row(1000, {}), row(2000, {})];
    expect(faultRecoveryTimeToShare(faultReportOf(quiet, phases.slice(0, 1), [], 2000, []), quiet, 0.5)).toBeUndefined();
  });
});

describe('fleetsim merge of the faults section', () => {
  /** The same run as two shards: devices split unevenly, every counter of the timeline with them. */
  const shardOf = (k: 0 | 1) => timeline.map((r) => ({ ...r, counters: Object.fromEntries(Object.entries(r.counters).map(([n, v]) => [n, k === 0 ? Math.ceil(v * 0.6) : v - Math.ceil(v * 0.6)])) }));
  const first = (phase: number) => (phase === 0 ? 7 : 1);
  const shardInjected = (k: 0 | 1) => injected.map((c) => ({ ...c, count: k === 0 ? first(c.phase) : c.count - first(c.phase) }));
  const shards = [0, 1].map((k) => faultReportOf(shardOf(k as 0 | 1), phases, shardInjected(k as 0 | 1), 14000, k === 1 ? ['broker restart (phase 3): gone'] : []));

  it('sums what each shard injected, and reads observed counts and recovery again off the merged timeline: the whole run exactly', () => {
    const merged = mergeFaultReports(shards, timeline, 14000);
    expect(merged).toEqual(faultReportOf(timeline, phases, injected, 14000, ['broker restart (phase 3): gone']));
    // Neither shard alone has the whole run's recovery: a merge that kept one would be wrong.
    expect(shards[0].phases[0].recovery).not.toEqual(merged!.phases[0].recovery);
  });

  it('keeps a phase only one shard reached, and is undefined when no shard had fault phases', () => {
    const one = faultReportOf(shardOf(0), phases.slice(0, 1), shardInjected(0).slice(0, 1), 14000, []);
    expect(mergeFaultReports([one, shards[1]], timeline, 14000)!.phases.map((p) => [p.phase, p.injected.total])).toEqual([[0, 10], [3, 3]]);
    expect(mergeFaultReports([undefined, undefined], timeline, 14000)).toBeUndefined();
  });

  it('mergeRuns carries the section and evaluates recovery.time_to_back on the merged timeline', () => {
    const runs: ShardRun[] = [0, 1].map((k) => {
      const { summary } = syntheticRun({ intervals: 5, devices: 20, shards: 1 });
      summary.run.shard = { index: k, count: 2 };
      summary.run.durationMs = 14000;
      summary.faults = shards[k];
      summary.thresholds = [{ metric: 'recovery.time_to_back', expression: 'p(95) < 4s', value: null, display: '', ok: false }];
      return { source: `shard${k}`, summary, timeline: shardOf(k as 0 | 1) };
    });
    const { summary } = mergeRuns(runs, 'merged');
    expect(summary.faults).toEqual(faultReportOf(summary.faults ? timelineOfMerge(runs) : [], phases, injected, 14000, ['broker restart (phase 3): gone']));
    expect(summary.thresholds[0]).toMatchObject({ metric: 'recovery.time_to_back', value: 3_000_000, ok: true });
  });
});

/** The merged timeline as mergeRuns builds it (counters added interval by interval). */
function timelineOfMerge(runs: ShardRun[]): TimelineRow[] {
  return runs[0].timeline.map((r, i) => ({ ...r, counters: Object.fromEntries(Object.keys({ ...r.counters, ...runs[1].timeline[i].counters }).map((n) => [n, (r.counters[n] ?? 0) + (runs[1].timeline[i].counters[n] ?? 0)])) }));
}
