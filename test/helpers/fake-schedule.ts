/**
 * A Schedule for unit tests of fleet/: time moves only when the test says so, and events run in
 * (time, insertion) order, as on both real clocks (test/contracts/schedule.contract.ts checks them
 * for that). The measurement clock runs with simulated time but from a different origin (as the
 * wall clock's does: epoch milliseconds), so code that mixes the two clocks shows in a test.
 */
import type { Schedule } from '../../src/fleet/schedule.js';

export interface ScheduledEvent {
  t: number;
  dev: number;
  kind: number;
}

export class FakeSchedule implements Schedule {
  private t = 0;
  private queue: Array<ScheduledEvent & { seq: number }> = [];
  private seq = 0;
  /** Where due events go (the lifecycle's `handle`, usually); events are kept until it is set. */
  dispatch: ((kind: number, dev: number, t: number) => void) | undefined;

  /** Measurement time of simulated time 0. */
  static readonly MEASURE_ORIGIN_MS = 1_700_000_000_000;

  now(): number {
    return this.t;
  }
  measureNow(): number {
    return this.measureAt(this.t);
  }
  measureAt(simMs: number): number {
    return FakeSchedule.MEASURE_ORIGIN_MS + simMs;
  }
  measureInto(times: Float64Array): void {
    times[0] = this.measureAt(times[0]);
    times[1] = this.measureNow();
  }
  at(timeMs: number, dev: number, kind: number): void {
    this.queue.push({ t: Math.max(timeMs, this.t), dev, kind, seq: this.seq++ });
  }

  /** Events still to run, in the order they will run (optionally only those of `dev` / `kind`). */
  pending(dev?: number, kind?: number): ScheduledEvent[] {
    return this.sorted()
      .filter((e) => (dev === undefined || e.dev === dev) && (kind === undefined || e.kind === kind))
      .map(({ t, dev: d, kind: k }) => ({ t, dev: d, kind: k }));
  }

  /** Runs every event due at or before `untilMs` (including those they schedule), then sets the time to it. */
  runUntil(untilMs: number): void {
    for (;;) {
      const next = this.sorted()[0];
      if (next === undefined || next.t > untilMs) break;
      this.queue.splice(this.queue.indexOf(next), 1);
      this.t = next.t;
      this.dispatch?.(next.kind, next.dev, next.t);
    }
    this.t = Math.max(this.t, untilMs);
  }

  /** Drops the events of one kind (a test that drives that kind by hand). */
  cancel(kind: number): void {
    this.queue = this.queue.filter((e) => e.kind !== kind);
  }

  private sorted(): Array<ScheduledEvent & { seq: number }> {
    return [...this.queue].sort((a, b) => a.t - b.t || a.seq - b.seq);
  }
}
