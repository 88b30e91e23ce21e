import { grown } from '../../collections/grown.js';
import type { RecordSlots, SlotRequest } from '../../fleet/device-table.js';

/** Pool entries and ring slots to start with; both double when full (one per deferred event pending). */
const START_ENTRIES = 1024;
/**
 * Most deferred events pending at once: entry numbers (from 1) fit the records' 16-bit fields. Beyond
 * it `add` says no and the event is queued as usual (exact either way). Acks run within their
 * latency of being deferred, so a shard has a few hundred pending, a reconnect storm thousands.
 */
const MAX_ENTRIES = 0xffff;

/**
 * Where each device's two deferred-event fields live: 16-bit slots in the caller's per-device
 * records, so that the check the scheduler makes on every event reads a line the event touches
 * anyway (fleet/device-table.ts reserveSlots). `first` is the device's first deferred entry
 * (0: none), read on every event of the device; `last` its last entry, read only when a
 * device defers a second event.
 */
export type DeferredSlots = RecordSlots<'first' | 'last'>;

/** The slots a scheduler asks the device records for. */
export const DEFERRED_EVENT_SLOTS: readonly SlotRequest<'first' | 'last'>[] = [
  { name: 'first', bytes: 2, line: 'hot' },
  { name: 'last', bytes: 2, line: 'cold' },
];

/** `a` with entry 0, the "none" sentinel, due at +Infinity (DeferredEvents' pool). */
function sentinelled(a: Float64Array): Float64Array {
  a[0] = Infinity;
  return a;
}

/** Own records for the two fields when the caller has none (tests). */
export function ownDeferredSlots(devices: number): DeferredSlots {
  return { buffer: new ArrayBuffer(devices * 4), recordBytes: 4, first: 0, last: 2 };
}

/**
 * The virtual clock's device-local events (VirtualScheduler.defer): events kept out of the event
 * queue, in one FIFO per device. Only an event whose handler reads and writes nothing but its own
 * device's state and totals whose value does not depend on the order they are added in (integer
 * counts, histogram counts), and schedules events only for its device, may be deferred. The
 * scheduler runs a deferred event (a) as soon as the earliest queued event is later than it, in
 * the order events were deferred (the ring below), or (b) before the next queued event of its own
 * device that it precedes in (time, seq) order, whichever is first; and (c) at the end of a run
 * slice that passes its time. Every device therefore sees its own events in exactly (time, seq)
 * order, and no other device can tell the difference: results are bit for bit those of queueing
 * them. What it saves is the queue: an ack that never enters the calendar queue costs no push, no
 * pop and no heap sift (bench/RESULTS.md, "Deferred acks").
 *
 * A device's FIFO only takes times in non-decreasing order (`add` says false otherwise, and the
 * caller queues that event as usual). The pool of entries (time, seq, kind, next) and the ring are
 * typed arrays of START_ENTRIES each, doubled when full. Single-threaded: one per shard scheduler.
 */
export class DeferredEvents {
  /** The records' 16-bit view and the two fields' offsets and stride in its units. */
  private readonly rec: Uint16Array;
  private readonly stride: number;
  private readonly firstAt: number;
  private readonly lastAt: number;
  /**
   * Pool: entry e >= 1 is (times[e], seqs[e], kinds[e]), then next[e] (its device's next entry, or
   * the next free entry; 0 ends). Index 0 is "none", a sentinel due at +Infinity: a device with
   * nothing deferred reads it like any other entry, so `runsBefore`, asked on every event, has no
   * branch of its own that only runs once acks are deferred. Such a branch, inlined into the
   * virtual clock's loop, was first taken after V8 had optimized the loop, which threw the
   * optimized loop away (bench/RESULTS.md, issue 17 round 21).
   */
  private times = sentinelled(new Float64Array(START_ENTRIES));
  private seqs = sentinelled(new Float64Array(START_ENTRIES));
  private kinds = new Int32Array(START_ENTRIES);
  private next = new Int32Array(START_ENTRIES);
  /** The first free entry (0: none). */
  private free = 0;
  /** The highest entry handed out so far. */
  private used = 0;
  private n = 0;
  /**
   * Every deferred event's device and time, in the order they were deferred (a ring, `ringHead`
   * to `ringTail`). Acks are deferred in nearly time order (publish time plus a short latency), so
   * running the ring's head once the clock passes its time runs them while their device's state
   * is still in cache. The k-th entry of a device stands for its k-th deferred event: taking it
   * runs the device's first pending event if that is due, which is event k unless k already ran
   * (then it runs nothing); so each pending event's own entry is always still in the ring.
   */
  private ringDevs = new Int32Array(START_ENTRIES);
  private ringTimes = new Float64Array(START_ENTRIES);
  private ringHead = 0;
  private ringTail = 0;
  /** Entries a flush takes out of the ring and puts back when it is done (`setAside`, `putBack`). */
  private asideDevs = new Int32Array(0);
  private asideTimes = new Float64Array(0);
  private asideCount = 0;
  /** The time of the event or ring entry `shift` or `ringShift` just took. */
  readonly taken = new Float64Array(1);

  constructor(slots: DeferredSlots) {
    this.rec = new Uint16Array(slots.buffer);
    this.stride = slots.recordBytes >> 1;
    this.firstAt = slots.first >> 1;
    this.lastAt = slots.last >> 1;
  }

  /** Deferred events not yet run. */
  get size(): number {
    return this.n;
  }

  /**
   * Defers (time, seq, kind) for `dev`; false when `time` is earlier than the device's last
   * deferred time, or MAX_ENTRIES are pending (queue it instead).
   */
  add(time: number, seq: number, dev: number, kind: number): boolean {
    const r = dev * this.stride;
    const tail = this.rec[r + this.lastAt];
    const empty = this.rec[r + this.firstAt] === 0;
    // Compared whether or not the device has an entry (see `times`): against the sentinel it is
    // true, and ignored.
    const beforeTail = time < this.times[tail];
    if ((beforeTail && !empty) || (this.free === 0 && this.used === MAX_ENTRIES)) return false;
    const e = this.take();
    this.times[e] = time;
    this.seqs[e] = seq;
    this.kinds[e] = kind;
    this.next[e] = 0;
    if (empty) this.rec[r + this.firstAt] = e;
    else this.next[tail] = e;
    this.rec[r + this.lastAt] = e;
    this.n++;
    this.toRing(dev, time);
    return true;
  }

  /** True when `dev`'s first deferred event is due before `limit`. */
  dueBefore(dev: number, limit: number): boolean {
    return this.times[this.rec[dev * this.stride + this.firstAt]] < limit;
  }

  /**
   * True when `dev` has a deferred event before the queued event (t, seq) of the same device:
   * earlier, or at the same time and deferred first.
   */
  runsBefore(dev: number, t: number, seq: number): boolean {
    const e = this.rec[dev * this.stride + this.firstAt];
    const at = this.times[e];
    return at < t || (at === t && this.seqs[e] < seq);
  }

  /**
   * Removes `dev`'s first deferred event (it has one): its kind is returned, its time left in
   * `taken[0]`. (A time returned from a call V8 does not inline is a new heap number: one per ack.)
   */
  shift(dev: number): number {
    const k = dev * this.stride + this.firstAt;
    const e = this.rec[k];
    this.taken[0] = this.times[e];
    this.rec[k] = this.next[e];
    this.next[e] = this.free;
    this.free = e;
    this.n--;
    return this.kinds[e];
  }

  /** True when the ring's oldest entry is due before `limit`. */
  ringDueBefore(limit: number): boolean {
    return this.ringHead !== this.ringTail && this.ringTimes[this.ringHead & (this.ringDevs.length - 1)] < limit;
  }

  /** Entries in the ring. */
  get ringSize(): number {
    return this.ringTail - this.ringHead;
  }

  /** Removes the ring's oldest entry (there is one) and returns its device; its time is left in `taken[0]`. */
  ringShift(): number {
    const at = this.ringHead++ & (this.ringDevs.length - 1);
    this.taken[0] = this.ringTimes[at];
    return this.ringDevs[at];
  }

  /** Keeps the entry ringShift just gave (a flush found it not yet due) until `putBack`. */
  setAside(dev: number): void {
    const time = this.taken[0];
    if (this.asideCount === this.asideDevs.length) {
      const cap = Math.max(START_ENTRIES, this.asideCount * 2);
      this.asideDevs = grown(this.asideDevs, cap);
      this.asideTimes = grown(this.asideTimes, cap);
    }
    this.asideDevs[this.asideCount] = dev;
    this.asideTimes[this.asideCount++] = time;
  }

  /** Returns the entries set aside to the ring's end, in the order they were set aside. */
  putBack(): void {
    for (let i = 0; i < this.asideCount; i++) this.toRing(this.asideDevs[i], this.asideTimes[i]);
    this.asideCount = 0;
  }

  private toRing(dev: number, time: number): void {
    if (this.ringTail - this.ringHead === this.ringDevs.length) this.growRing();
    const at = this.ringTail++ & (this.ringDevs.length - 1);
    this.ringDevs[at] = dev;
    this.ringTimes[at] = time;
  }

  clear(): void {
    for (let i = this.ringHead; i < this.ringTail; i++) {
      const r = this.ringDevs[i & (this.ringDevs.length - 1)] * this.stride;
      this.rec[r + this.firstAt] = 0;
      this.rec[r + this.lastAt] = 0;
    }
    this.free = 0;
    this.used = 0;
    this.n = 0;
    this.ringHead = 0;
    this.ringTail = 0;
  }

  private take(): number {
    const e = this.free;
    if (e > 0) {
      this.free = this.next[e];
      return e;
    }
    if (this.used + 1 === this.times.length) {
      const cap = Math.min(this.times.length * 2, MAX_ENTRIES + 1);
      this.times = grown(this.times, cap);
      this.seqs = grown(this.seqs, cap);
      this.kinds = grown(this.kinds, cap);
      this.next = grown(this.next, cap);
    }
    return ++this.used;
  }

  /** Doubles the ring, its entries moved to the start in order. */
  private growRing(): void {
    const cap = this.ringDevs.length;
    const devs = new Int32Array(cap * 2);
    const times = new Float64Array(cap * 2);
    for (let i = 0; i < cap; i++) {
      devs[i] = this.ringDevs[(this.ringHead + i) & (cap - 1)];
      times[i] = this.ringTimes[(this.ringHead + i) & (cap - 1)];
    }
    this.ringDevs = devs;
    this.ringTimes = times;
    this.ringHead = 0;
    this.ringTail = cap;
  }
}
