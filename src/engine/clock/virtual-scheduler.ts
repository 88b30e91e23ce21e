import { CalendarQueue } from './calendar-queue.js';
import type { Schedule } from '../../fleet/schedule.js';

/**
 * The virtual clock's dispatch target. The event's time is not passed: it is the scheduler's
 * `now()` while the event runs. A time is a fraction, and a fraction passed to a call V8 does not
 * inline is a new HeapNumber: one per event here (bench/RESULTS.md, "Virtual-clock events, round 7").
 */
export type VirtualDispatch = (kind: number, dev: number) => void;

/**
 * The virtual clock: a discrete-event simulation that jumps from event to event as fast as the
 * CPU allows. Time is whatever the current event says; measurement time is simulated time (the
 * backend is a model, so its latencies are modelled, not measured). Deterministic: the queue
 * breaks ties by insertion order and every draw is counter-based, so one seed gives one result.
 *
 * The queue is a calendar queue rather than one heap: with ~10^6 pending events per shard a
 * heap pop walks ~10 levels of cache misses, and that was a third of the run time (see
 * calendar-queue.ts and bench/RESULTS.md).
 */
export class VirtualScheduler implements Schedule {
  private readonly queue = new CalendarQueue();
  private t = 0;
  private events = 0;

  constructor(private readonly dispatch: VirtualDispatch) {}

  now(): number {
    return this.t;
  }

  measureNow(): number {
    return this.t;
  }

  measureAt(simMs: number): number {
    return simMs;
  }

  at(timeMs: number, dev: number, kind: number): void {
    // An event in the past would make time run backwards; run it now instead.
    this.queue.push(timeMs < this.t ? this.t : timeMs, dev, kind);
  }

  /** See CalendarQueue.warmRecords: device `dev`'s state starts at `records[dev << shift]`. */
  warmRecords(records: Uint8Array, shift: number): void {
    this.queue.warmRecords(records, shift);
  }

  get processed(): number {
    return this.events;
  }

  get pending(): number {
    return this.queue.size;
  }

  /**
   * Runs every event with time < `untilMs`, calling `onBoundary(k)` each time simulated time
   * crosses a multiple of `everyMs` (interval snapshots). Returns the time reached.
   */
  runUntil(untilMs: number, everyMs: number, onBoundary: (interval: number, tMs: number) => void): number {
    const queue = this.queue;
    let nextBoundary = everyMs;
    let interval = 0;
    for (;;) {
      const t = queue.peekTime();
      if (!(t < untilMs)) break;
      while (t >= nextBoundary) {
        this.t = nextBoundary;
        onBoundary(interval++, nextBoundary);
        nextBoundary += everyMs;
      }
      this.runTop(t);
    }
    while (nextBoundary <= untilMs) {
      this.t = nextBoundary;
      onBoundary(interval++, nextBoundary);
      nextBoundary += everyMs;
    }
    this.t = untilMs;
    return untilMs;
  }

  /**
   * Runs at most `maxEvents` events with time < `untilMs`; true when it got there (time is then
   * `untilMs`), false when the budget ran out first (time is that of the last event). Shards run
   * a window in slices of this, yielding in between, so that a stop is seen however dense the
   * window is.
   */
  runFor(untilMs: number, maxEvents: number): boolean {
    const queue = this.queue;
    for (let n = 0; n < maxEvents; n++) {
      const t = queue.peekTime();
      if (!(t < untilMs)) {
        this.t = untilMs;
        return true;
      }
      this.runTop(t);
    }
    if (!(queue.peekTime() < untilMs)) {
      this.t = untilMs;
      return true;
    }
    return false;
  }

  /** Pops the earliest event (due at `t`) and runs it. Small enough for V8 to inline into both loops. */
  private runTop(t: number): void {
    const queue = this.queue;
    const dev = queue.topDev();
    const kind = queue.topKind();
    queue.pop();
    this.t = t;
    this.events++;
    this.dispatch(kind, dev);
  }

  clear(): void {
    this.queue.clear();
  }
}
