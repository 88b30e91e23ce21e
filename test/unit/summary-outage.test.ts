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

  it('times each of several outages on its own: two broker restarts do not read as one slow recovery', () => {
    // 100 devices out at 3 s, all back at 5-6 s; a second restart knocks 100 out at 12 s, back at
    // 14-15 s. Each outage's 50% is 1 s after its first return; counted as one outage (as the soak's
    // report did) 50% of the 200 knock-outs was reached only in the second one, 10 s later.
    const rows: Array<[number, number, number]> = [[10, 0, 0], [10, 0, 0], [10, 100, 0], [0, 0, 0], [20, 0, 40], [20, 0, 60], [10, 0, 0], [10, 0, 0], [10, 0, 0], [10, 0, 0], [10, 0, 0], [10, 100, 0], [0, 0, 0], [20, 0, 40], [20, 0, 58], [10, 0, 0]];
    const o = outageOf(timeline(rows))!;
    expect(o.episodes).toHaveLength(2);
    expect(o.episodes[0]).toMatchObject({ startMs: 3000, recoveredAtMs: 5000, affected: 100, back: 100, stillOut: 0, timeTo50Ms: 1000, timeTo95Ms: 1000, timeTo99Ms: 1000 });
    expect(o.episodes[1]).toMatchObject({ startMs: 12000, recoveredAtMs: 14000, affected: 100, back: 98, stillOut: 2, timeTo50Ms: 1000, timeTo95Ms: 1000, timeTo99Ms: null });
    // The top level: devices summed, times the worst of the two (99% never reached in the second).
    expect(o).toMatchObject({ startMs: 3000, affected: 200, back: 198, stillOut: 2, timeTo50Ms: 1000, timeTo95Ms: 1000, timeTo99Ms: null });
    // The steady rate comes from outside both outages (10/s), so each peak of 20/s is 2x.
    expect(o.steadyRequestsPerSec).toBe(10);
    expect(o.episodes.map((e) => e.peakRatio)).toEqual([2, 2]);
  });

  it('keeps knock-outs one outage while the fleet has not come back in between', () => {
    // A second wave at 6 s while only 20 of the first 100 are back: one outage of 150 devices.
    const o = outageOf(timeline([[10, 0, 0], [10, 100, 0], [0, 0, 0], [5, 0, 20], [0, 0, 0], [10, 50, 0], [0, 0, 0], [30, 0, 130], [10, 0, 0]]))!;
    expect(o.episodes).toHaveLength(1);
    expect(o).toMatchObject({ affected: 150, back: 150, startMs: 2000, recoveredAtMs: 4000, timeTo50Ms: 4000 });
  });
});

