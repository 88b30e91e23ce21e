import { describe, expect, it } from 'vitest';
import type { TimelineRow } from '../../src/metrics/aggregate.js';
import { faultRecoveryTimeToShare, faultReportOf } from '../../src/summary/fault-report.js';

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
