import { describe, expect, test } from 'vitest';
import { WallScheduler } from '../../src/engine/clock/wall-scheduler.js';

/** Resolves after `ms` of wall time. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wall-clock scheduler', () => {
  test('runs events in time order, each no earlier than its time', async () => {
    const ran: Array<[number, number, number]> = [];
    let s!: WallScheduler;
    s = new WallScheduler(1, (kind, dev, t) => ran.push([dev, kind, s.now() - t]));
    for (const [t, dev] of [[30, 3], [10, 1], [20, 2], [10.5, 4]] as const) s.at(t, dev, 7);
    s.start(Date.now());
    await sleep(80);
    s.stop();
    expect(ran.map(([dev]) => dev)).toEqual([1, 4, 2, 3]);
    for (const [, kind, late] of ran) {
      expect(kind).toBe(7);
      expect(late).toBeGreaterThanOrEqual(0);
    }
  });

  test('does not spin while waiting for events at fractional milliseconds', async () => {
    // Thousands of events spread over fractional times, each rescheduling itself far ahead: the
    // scheduler must wake about once per due event, not re-arm the same timer in a busy loop
    // (it did: a timer armed inside the timers phase fired again in the same pass, 400 times a ms).
    let events = 0;
    let s!: WallScheduler;
    s = new WallScheduler(1, (kind, dev, t) => {
      events++;
      s.at(t + 60_000, dev, kind);
    });
    for (let dev = 0; dev < 5000; dev++) s.at(((dev * 7919) % 5000) * 0.1 + 0.37, dev, 1);
    let wakes = 0;
    const turn = (s as unknown as { turn(): void }).turn.bind(s);
    (s as unknown as { turn(): void }).turn = () => {
      wakes++;
      turn();
    };
    s.start(Date.now());
    await sleep(300);
    s.stop();
    expect(events).toBeGreaterThan(1000);
    expect(wakes).toBeLessThan(3 * events);
  });
});
