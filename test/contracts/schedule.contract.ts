/**
 * The Schedule contract (src/fleet/schedule.ts), written once and run over every scheduler: what
 * device behaviour relies on, whichever clock drives it.
 *
 * - Each event runs once, in time order, never before its time; events at the same time run in
 *   the order they were scheduled (the virtual clock's determinism rests on it).
 * - An event scheduled for the past, or for now, still runs (at once), once.
 * - Events scheduled from inside a dispatch run too (every device plans its next event that way).
 * - The measurement clock never reads earlier than the measurement time of the event being run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/fleet/schedule.js';

export type Dispatch = (kind: number, dev: number, timeMs: number) => void;

export interface ScheduleHarness {
  schedule: Schedule;
  /** Starts the clock (events scheduled before this are kept). */
  start(): void;
  /** Lets the scheduler's time pass until `cond` holds; rejects at a deadline. */
  until(cond: () => boolean, what: string): Promise<void>;
  /** Lets every event due so far run (a barrier for "and nothing else ran"). */
  settle(): Promise<void>;
  stop(): void;
}

export type ScheduleFactory = (dispatch: Dispatch) => ScheduleHarness;

interface Ran {
  dev: number;
  kind: number;
  t: number;
  now: number;
  measureNow: number;
  measureAtT: number;
  /** measureInto of [t, anything]: [measureAt(t), measureNow()]. */
  measuredInto: [number, number];
}

export function scheduleContract(name: string, factory: ScheduleFactory): void {
  describe(`Schedule contract: ${name}`, () => {
    let harness: ScheduleHarness | undefined;
    afterEach(() => {
      harness?.stop();
      harness = undefined;
    });

    function open(onRun?: (r: Ran, s: Schedule) => void): { h: ScheduleHarness; s: Schedule; ran: Ran[] } {
      const ran: Ran[] = [];
      let s!: Schedule;
      harness = factory((kind, dev, t) => {
        const times = Float64Array.of(t, NaN);
        s.measureInto(times);
        const r: Ran = { dev, kind, t, now: s.now(), measureNow: s.measureNow(), measureAtT: s.measureAt(t), measuredInto: [times[0], times[1]] };
        ran.push(r);
        onRun?.(r, s);
      });
      s = harness.schedule;
      return { h: harness, s, ran };
    }

    it('runs each event once, in time order, never before its time; ties in the order scheduled', async () => {
      const { h, s, ran } = open();
      const plan: Array<[number, number, number]> = [
        [30, 3, 4],
        [10, 1, 4],
        [20, 2, 5],
        [10, 4, 5],
        [10.5, 5, 4],
        [20, 6, 4],
      ];
      for (const [t, dev, kind] of plan) s.at(t, dev, kind);
      h.start();
      await h.until(() => ran.length === plan.length, 'every event');
      await h.settle();
      expect(ran.map((r) => [r.t, r.dev, r.kind])).toEqual([
        [10, 1, 4],
        [10, 4, 5],
        [10.5, 5, 4],
        [20, 2, 5],
        [20, 6, 4],
        [30, 3, 4],
      ]);
      for (const r of ran) expect(r.now).toBeGreaterThanOrEqual(r.t);
    });

    it('runs an event scheduled in the past or for now, once', async () => {
      const { h, s, ran } = open();
      s.at(5, 1, 1);
      h.start();
      await h.until(() => ran.length === 1, 'the first event');
      const now = s.now();
      s.at(now - 3, 2, 1);
      s.at(now, 3, 1);
      await h.until(() => ran.length === 3, 'the late events');
      await h.settle();
      expect(ran.map((r) => r.dev)).toEqual([1, 2, 3]);
    });

    it('runs events scheduled from inside a dispatch (chains), in order', async () => {
      const { h, s, ran } = open((r, sched) => {
        if (r.kind < 5) sched.at(r.t + 7, r.dev, r.kind + 1);
      });
      s.at(1, 0, 1);
      s.at(2, 1, 3);
      h.start();
      await h.until(() => ran.length === 8, 'both chains');
      await h.settle();
      expect(ran.map((r) => [r.dev, r.kind, r.t])).toEqual([
        [0, 1, 1],
        [1, 3, 2],
        [0, 2, 8],
        [1, 4, 9],
        [0, 3, 15],
        [1, 5, 16],
        [0, 4, 22],
        [0, 5, 29],
      ]);
    });

    it('measures no earlier than the measurement time of the event it runs, and maps later times later', async () => {
      const { h, s, ran } = open();
      for (let i = 1; i <= 5; i++) s.at(i * 4, i, 1);
      h.start();
      await h.until(() => ran.length === 5, 'every event');
      for (const r of ran) expect(r.measureNow).toBeGreaterThanOrEqual(r.measureAtT);
      // measureInto is the two calls in one: the same intended time, and a now read in the same event.
      for (const r of ran) {
        expect(r.measuredInto[0]).toBe(r.measureAtT);
        expect(r.measuredInto[1]).toBeGreaterThanOrEqual(r.measureAtT);
        expect(r.measuredInto[1]).toBeLessThanOrEqual(r.measureNow);
      }
      for (let i = 1; i < ran.length; i++) expect(ran[i].measureAtT).toBeGreaterThan(ran[i - 1].measureAtT);
      expect(s.measureAt(100)).toBeGreaterThan(s.measureAt(50));
    });
  });
}
