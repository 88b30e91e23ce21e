/**
 * fleet/reachability.ts on a fake schedule: which devices a scripted outage takes, the +1 / -1
 * transitions it reports (nested outages end only with the last), a device's own on/off process
 * and the switchover to a backup link.
 */
import { describe, expect, it } from 'vitest';
import { Down, Reachability, type OutagePhase } from '../../src/fleet/reachability.js';
import { Ev } from '../../src/fleet/event-kinds.js';
import { FakeSchedule } from '../helpers/fake-schedule.js';

const outage = (over: Partial<OutagePhase>): OutagePhase => ({ atMs: 1000, durationMs: 500, scope: 'fleet', fraction: 1, index: 0, ...over });

/** Runs the schedule, applying each reachability event, and returns the transitions seen. */
function play(reach: Reachability, schedule: FakeSchedule, untilMs: number): Array<[number, number, number]> {
  const seen: Array<[number, number, number]> = [];
  schedule.dispatch = (kind, dev, t) => {
    const change = reach.apply(kind, dev, t, schedule);
    if (change !== 0) seen.push([t, dev, change]);
  };
  schedule.runUntil(untilMs);
  return seen;
}

describe('reachability: scripted outages', () => {
  it('a fleet outage takes every device down at its start and gives it back at its end', () => {
    const reach = new Reachability(3, 0, { seed: 1, outages: [outage({})] });
    const schedule = new FakeSchedule();
    reach.plan(schedule);
    expect(schedule.pending(undefined, Ev.outageStart)).toHaveLength(3);
    const seen = play(reach, schedule, 1200);
    expect(seen).toEqual([
      [1000, 0, -1],
      [1000, 1, -1],
      [1000, 2, -1],
    ]);
    expect(reach.unreachableCount()).toBe(3);
    expect(reach.reachable(1)).toBe(false);
    expect(reach.down[1] & Down.outage).toBe(Down.outage);
    expect(play(reach, schedule, 2000)).toEqual([
      [1500, 0, 1],
      [1500, 1, 1],
      [1500, 2, 1],
    ]);
    expect(reach.unreachableCount()).toBe(0);
  });

  it('overlapping outages: the device comes back only when the last one ends', () => {
    const reach = new Reachability(1, 0, { seed: 1, outages: [outage({ atMs: 1000, durationMs: 1000 }), outage({ atMs: 1500, durationMs: 1000, index: 1 })] });
    const schedule = new FakeSchedule();
    reach.plan(schedule);
    expect(play(reach, schedule, 5000)).toEqual([
      [1000, 0, -1],
      [2500, 0, 1],
    ]);
  });

  it('a device outage takes about its fraction of devices, the same ones on any shard split', () => {
    const n = 2000;
    const whole = new Reachability(n, 0, { seed: 7, outages: [outage({ scope: 'device', fraction: 0.3 })] });
    const s = new FakeSchedule();
    whole.plan(s);
    const hit = s.pending(undefined, Ev.outageStart).map((e) => e.dev);
    expect(hit.length / n).toBeGreaterThan(0.25);
    expect(hit.length / n).toBeLessThan(0.35);
    // The second half as its own shard (first device 1000) picks the same global devices.
    const half = new Reachability(n / 2, n / 2, { seed: 7, outages: [outage({ scope: 'device', fraction: 0.3 })] });
    const s2 = new FakeSchedule();
    half.plan(s2);
    expect(s2.pending(undefined, Ev.outageStart).map((e) => e.dev + n / 2)).toEqual(hit.filter((d) => d >= n / 2));
  });

  it('a cell outage takes exactly the devices of the picked cells', () => {
    const cellOf = new Int32Array([0, 1, 2, 3, 0, 1, 2, 3, -1]);
    const reach = new Reachability(9, 0, { seed: 3, cellOf, cellCount: 4, outages: [outage({ scope: 'cell', fraction: 0.5 })] });
    const s = new FakeSchedule();
    reach.plan(s);
    const hit = s.pending(undefined, Ev.outageStart).map((e) => e.dev);
    const cells = new Set(hit.map((d) => cellOf[d]));
    expect(cells.size).toBe(2);
    // Every device of a picked cell, none outside them, never the device without a cell.
    expect(hit).toEqual(cellOf.reduce<number[]>((acc, c, d) => (cells.has(c) ? [...acc, d] : acc), []));
  });
});

describe("reachability: a device's own link", () => {
  const offline = { availability: 0.5, downtime: { distribution: 'exponential' as const, mean: 1000 } };

  it('flips between up and down, reporting each change once and rescheduling the next flip', () => {
    const reach = new Reachability(4, 0, { seed: 11, offline, outages: [] });
    const schedule = new FakeSchedule();
    reach.plan(schedule);
    const downAtStart = reach.unreachableCount();
    const seen = play(reach, schedule, 60_000);
    expect(seen.length).toBeGreaterThan(8);
    for (let dev = 0; dev < 4; dev++) {
      const changes = seen.filter(([, d]) => d === dev).map(([, , c]) => c);
      // Alternating: never two downs or two ups in a row.
      for (let i = 1; i < changes.length; i++) expect(changes[i]).toBe(-changes[i - 1]);
    }
    // Each device always has its next flip queued.
    for (let dev = 0; dev < 4; dev++) expect(schedule.pending(dev, Ev.linkFlip)).toHaveLength(1);
    const net = seen.reduce((n, [, , c]) => n - c, downAtStart);
    expect(net).toBe(reach.unreachableCount());
  });

  it('with a backup link, a device whose primary is down is reachable again after the switchover', () => {
    // Backup always up in practice (availability close to 1), so every primary outage fails over.
    const backup = { availability: 0.999999, downtime: { distribution: 'exponential' as const, mean: 1 }, switchoverMs: 200 };
    const reach = new Reachability(8, 0, { seed: 5, offline, backup, outages: [] });
    const schedule = new FakeSchedule();
    reach.plan(schedule);
    const seen = play(reach, schedule, 30_000);
    const downs = seen.filter(([, , c]) => c < 0);
    expect(downs.length).toBeGreaterThan(0);
    // Every loss of the primary is followed by the switchover, 200 ms later (or the primary's return).
    for (const [t, dev] of downs) {
      const back = seen.find(([t2, d, c]) => d === dev && c > 0 && t2 > t);
      if (back) expect(back[0] - t).toBeLessThanOrEqual(200);
    }
    expect(reach.failovers).toBeGreaterThan(0);
  });
});
