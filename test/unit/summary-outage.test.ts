import { describe, expect, it } from 'vitest';
import type { TimelineRow } from '../../src/metrics/aggregate.js';
import { outageOf, SYNCHRONIZED_RETRY_RATIO } from '../../src/summary/outage.js';

/** A timeline of 1 s intervals from per-interval (requests, knocked out, back) triples. */
function timeline(rows: Array<[requests: number, out: number, back: number]>): TimelineRow[] {
  return rows.map(([requests, out, back], i) => ({
    interval: i,
    tMs: (i + 1) * 1000,
    shards: 1,
    counters: { 'requests.started': requests, 'recovery.devices_out': out, 'recovery.devices_back': back },
    gauges: {},
    histograms: {},
  }));
}

describe('outage and recovery from the timeline', () => {
  it('is absent when no device was knocked out', () => {
    expect(outageOf(timeline([[10, 0, 0], [10, 0, 0]]))).toBeUndefined();
  });

  it('times 50/95/99% back from the first device back, and reports who is still out', () => {
    // 100 devices out at 3 s; back: 10 at 6 s, 40 at 7 s, 45 at 9 s; 5 never.
    const o = outageOf(timeline([[100, 0, 0], [10, 0, 0], [10, 100, 0], [2, 0, 0], [2, 0, 0], [12, 0, 10], [42, 0, 40], [10, 0, 0], [47, 0, 45], [10, 0, 0]]))!;
    expect(o).toMatchObject({ startMs: 3000, recoveredAtMs: 6000, affected: 100, back: 95, stillOut: 5, timeTo50Ms: 1000, timeTo95Ms: 3000, timeTo99Ms: null, resolutionMs: 1000 });
  });

  it('flags retries that come back together (peak against the steady rate), not ones spread out', () => {
    const steady: Array<[number, number, number]> = [[50, 0, 0], [10, 0, 0], [10, 0, 0], [10, 0, 0]];
    const lockstep = outageOf(timeline([...steady, [10, 30, 0], [0, 0, 0], [0, 0, 0], [40, 0, 30], [10, 0, 0], [10, 0, 0]]))!;
    expect(lockstep.steadyRequestsPerSec).toBe(10);
    expect(lockstep.peakRequestsPerSec).toBe(40);
    expect(lockstep.peakRatio).toBeGreaterThanOrEqual(SYNCHRONIZED_RETRY_RATIO);
    expect(lockstep.synchronizedRetries).toBe(true);
    const spread = outageOf(timeline([...steady, [10, 30, 0], [0, 0, 0], [0, 0, 0], [18, 0, 10], [18, 0, 10], [18, 0, 10], [10, 0, 0], [10, 0, 0]]))!;
    expect(spread.synchronizedRetries).toBe(false);
    expect(spread.peakRatio).toBeCloseTo(1.8);
  });
});
