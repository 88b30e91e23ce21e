import { CalendarQueue } from './calendar-queue.js';
import { DeferredEvents, ownDeferredSlots, type DeferredSlots } from './deferred-events.js';
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
  private readonly queue: CalendarQueue;
  /** Device-local events kept out of the queue (`defer`); undefined until deferDeviceEvents. */
  private deferred: DeferredEvents | undefined;
  private t = 0;
  private events = 0;
  private deferredEvents = 0;

  /** `expectedEvents`: about how many events will be pending at once, to size the queue (0: unknown). */
  constructor(
    private readonly dispatch: VirtualDispatch,
    expectedEvents = 0,
  ) {
    this.queue = new CalendarQueue(expectedEvents);
  }

  now(): number {
    return this.t;
  }

  measureNow(): number {
    return this.t;
  }

  measureAt(simMs: number): number {
    return simMs;
  }

  measureInto(times: Float64Array): void {
    times[1] = this.t;
  }

  at(timeMs: number, dev: number, kind: number): void {
    // An event in the past would make time run backwards; run it now instead.
    this.queue.push(timeMs < this.t ? this.t : timeMs, dev, kind);
  }

  /**
   * Lets `defer` keep device-local events out of the queue, for devices 0 .. devices - 1, with
   * each device's two fields in `slots` (its records) or in arrays of their own.
   */
  deferDeviceEvents(devices: number, slots: DeferredSlots = ownDeferredSlots(devices)): void {
    this.deferred = new DeferredEvents(slots);
  }

  /**
   * An event whose handler touches only device `dev`'s state and order-free totals (integer counts,
   * histogram counts), and schedules events only for `dev`: it may run later than its time, just
   * before the next event of `dev` after it, or at the end of the runFor that passes its time, with
   * `now()` at its own time (deferred-events.ts). Each device still sees its events in exactly
   * (time, seq) order, so results are those of `at`, which it is without deferDeviceEvents.
   */
  defer(timeMs: number, dev: number, kind: number): void {
    const time = timeMs < this.t ? this.t : timeMs;
    const d = this.deferred;
    if (d === undefined || !d.add(time, this.queue.takeSeq(), dev, kind)) this.queue.push(time, dev, kind);
  }

  /** See CalendarQueue.warmRecords: device `dev`'s state starts at `records[dev << shift]`. */
  warmRecords(records: Uint8Array, shift: number): void {
    this.queue.warmRecords(records, shift);
  }

  get processed(): number {
    return this.events;
  }

  /** Of `processed`, the events that ran deferred. */
  get deferredProcessed(): number {
    return this.deferredEvents;
  }

  get pending(): number {
    return this.queue.size + (this.deferred?.size ?? 0);
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
      if (t >= nextBoundary) {
        // The interval ends: what was deferred before it runs in it. That may queue events for
        // its devices, so the queue is looked at again before the next one runs.
        this.flushDeferred(nextBoundary);
        this.t = nextBoundary;
        onBoundary(interval++, nextBoundary);
        nextBoundary += everyMs;
        continue;
      }
      if (this.deferredFirst(t)) continue;
      this.runTop(t);
    }
    while (nextBoundary <= untilMs) {
      this.flushDeferred(nextBoundary);
      this.t = nextBoundary;
      onBoundary(interval++, nextBoundary);
      nextBoundary += everyMs;
    }
    this.flushDeferred(untilMs);
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
    if (!this.runQueued(untilMs, maxEvents)) return false;
    // Every queued event before `untilMs` has run: the deferred ones before it run now.
    this.flushDeferred(untilMs);
    this.t = untilMs;
    return true;
  }

  /**
   * Runs deferred events whose time is before `untilMs` (all of them when it is Infinity), each
   * device's in order with the events they schedule. Called when every queued event before
   * `untilMs` has run (a run slice's end, a stop), so whatever runs here is one device's own.
   */
  flushDeferred(untilMs: number): void {
    const d = this.deferred;
    if (d === undefined || d.size === 0) return;
    // Every entry, including those the events run here add: one due before `untilMs` runs its
    // device's deferred events before it; one due later is set aside, and put back at the end.
    while (d.ringSize > 0) {
      const due = d.ringDueBefore(untilMs);
      const dev = d.ringShift();
      if (!due) {
        d.setAside(dev);
        continue;
      }
      while (d.dueBefore(dev, untilMs)) {
        this.runDeferred(dev);
        // What it scheduled for its device before `untilMs` runs in order with the device's other deferred events.
        if (this.queue.peekTime() < untilMs) this.runQueued(untilMs, Infinity);
      }
    }
    d.putBack();
  }

  /** Runs queued events before `untilMs`, at most `maxEvents` (no flush); true when none is left before `untilMs`. */
  private runQueued(untilMs: number, maxEvents: number): boolean {
    const queue = this.queue;
    const d = this.deferred;
    // A parameter arrives tagged, and `t < untilMs ? t : untilMs` would merge the double `t` with
    // it, which V8 does by boxing `t`: a new HeapNumber per event. Made a number here, the merge
    // stays an unboxed double (bench/RESULTS.md, "Garbage per event", round 18).
    const until = +untilMs;
    for (let n = 0; n < maxEvents; n++) {
      const t = queue.peekTime();
      // Deferred events run in the order they were deferred once the clock passes their time.
      if (d !== undefined && d.ringDueBefore(t < until ? t : until)) {
        this.ringFirst(d, untilMs);
        continue;
      }
      if (!(t < until)) return true;
      if (this.deferredFirst(t)) continue;
      this.runTop(t);
    }
    return !(queue.peekTime() < untilMs);
  }

  /**
   * Takes the ring's oldest entry (due before `limit`, the earliest queued event or the slice's
   * end) and runs its device's first deferred event if that is due before `limit` too: every
   * queued event before `limit` has run, so none of the device's can come between. It takes
   * `untilMs` and works `limit` out again rather than being passed it: V8 does not inline this
   * call, and a fractional time passed to a call is a new HeapNumber (one per deferred event).
   */
  private ringFirst(d: DeferredEvents, untilMs: number): void {
    const t = this.queue.peekTime();
    const until = +untilMs; // see runQueued
    const limit = t < until ? t : until;
    const dev = d.ringShift();
    this.runDeferredIf(d.dueBefore(dev, limit), dev);
  }

  /**
   * When the earliest queued event (due at `t`) belongs to a device with a deferred event before
   * it, runs that deferred event instead and says true (the caller looks at the queue again: the
   * deferred event may have scheduled one for its device before `t`). Inlined into both loops.
   */
  private deferredFirst(t: number): boolean {
    const d = this.deferred;
    if (d === undefined) return false;
    const dev = this.queue.topDev();
    return this.runDeferredIf(d.runsBefore(dev, t, this.queue.topSeq()), dev);
  }

  /**
   * Runs `dev`'s first deferred event when `due`, and says `due`. One call site for both ways a
   * deferred event runs, because V8 keeps what it has seen per site of a function, inlined or
   * not: the ring runs deferred events from the first acks on, so by the time the loop is
   * optimized this call has been seen, and the rarer way (a deferred event ahead of its device's
   * next queued one) no longer meets a call V8 never saw, which threw the optimized loop away
   * (bench/RESULTS.md, issue 17 round 21).
   */
  private runDeferredIf(due: boolean, dev: number): boolean {
    if (due) this.runDeferred(dev);
    return due;
  }

  /** Runs `dev`'s first deferred event, at its own time. */
  private runDeferred(dev: number): void {
    const d = this.deferred!;
    const kind = d.shift(dev);
    this.t = d.taken[0];
    this.events++;
    this.deferredEvents++;
    this.dispatch(kind, dev);
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
    this.deferred?.clear();
  }
}
