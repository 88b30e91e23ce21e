import { grown } from '../../collections/grown.js';
/**
 * A 4-ary min-heap of (time, device, kind) events on typed arrays. Ties on time break on an
 * insertion sequence number, so the pop order is fully deterministic: the virtual clock relies on
 * that for bit-identical runs. No object is allocated per event; the arrays double when full.
 *
 * Why 4-ary: a pop walks half as many levels as in a binary heap, and the four children sit next
 * to each other in memory. Device and kind share one Int32 (device << 8 | kind) so that a move
 * touches three arrays, not four. Devices per shard are therefore limited to 2^23.
 */
export const MAX_HEAP_DEVICES = 1 << 23;

export class EventHeap {
  private times: Float64Array;
  private seqs: Float64Array;
  private tags: Int32Array;
  private n = 0;
  private nextSeq = 0;

  constructor(initialCapacity = 1024) {
    const cap = Math.max(16, initialCapacity);
    this.times = new Float64Array(cap);
    this.seqs = new Float64Array(cap);
    this.tags = new Int32Array(cap);
    this.times[0] = Infinity;
  }

  get size(): number {
    return this.n;
  }

  /**
   * Time of the earliest event; Infinity when empty: an empty heap keeps Infinity in slot 0.
   * Why a sentinel and not `n > 0 ? times[0] : Infinity`: the global `Infinity` on a branch that
   * never ran has no feedback, so V8 loads it through a generic call whose result is tagged, and
   * the conditional that merges it with the double makes every peek of a fractional time a new
   * HeapNumber (most of a shard's garbage; bench/RESULTS.md, round 18).
   */
  peekTime(): number {
    return this.times[0];
  }

  push(time: number, dev: number, kind: number): void {
    this.pushTagged(time, this.nextSeq++, (dev << 8) | kind);
  }

  /**
   * Inserts an event whose sequence number was assigned elsewhere (a calendar queue moving events
   * between its levels keeps their original order keys).
   */
  pushTagged(time: number, seq: number, tag: number): void {
    if (this.n === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    const tags = this.tags;
    let i = this.n++;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pt = times[parent];
      if (pt < time || (pt === time && seqs[parent] < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent];
      tags[i] = tags[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    tags[i] = tag;
  }

  /**
   * Appends an event without ordering it; call `heapify()` before the next peek or pop. Loading a
   * batch this way costs O(n) instead of O(n log n).
   */
  append(time: number, seq: number, tag: number): void {
    if (this.n === this.times.length) this.grow();
    const i = this.n++;
    this.times[i] = time;
    this.seqs[i] = seq;
    this.tags[i] = tag;
  }

  /**
   * Reads the first and the last byte of the record of every event's device, `records[dev << shift
   * ..]` of 2^shift bytes, and returns them xor-ed (the caller keeps the result, so that the loads
   * are not dropped). For CalendarQueue.warmRecords: with records of two cache lines that start on a
   * line, the two bytes are the two lines.
   */
  touchRecords(records: Uint8Array, shift: number): number {
    const tags = this.tags;
    const n = this.n;
    const last = (1 << shift) - 1;
    let sink = 0;
    for (let i = 0; i < n; i++) {
      const at = (tags[i] >>> 8) << shift;
      sink ^= records[at] ^ records[at + last];
    }
    return sink;
  }

  /** Restores heap order after `append`s (bottom-up, Floyd). */
  heapify(): void {
    const n = this.n;
    for (let i = (n - 2) >> 2; i >= 0; i--) this.siftDown(i, this.times[i], this.seqs[i], this.tags[i], n);
  }

  /**
   * Removes the earliest event. Read it first with `topDev()`/`topKind()`/`peekTime()`; pop
   * returns nothing so that the hot loop allocates nothing.
   */
  pop(): void {
    const last = --this.n;
    if (last <= 0) {
      if (last === 0) this.times[0] = Infinity;
      return;
    }
    this.siftDown(0, this.times[last], this.seqs[last], this.tags[last], last);
  }

  /** Places (time, seq, tag) at or below slot `i` of a heap of `n` entries. */
  private siftDown(i: number, time: number, seq: number, tag: number, n: number): void {
    const times = this.times;
    const seqs = this.seqs;
    const tags = this.tags;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // The smallest of up to four children.
      let best = first;
      let bt = times[first];
      let bs = seqs[first];
      const end = first + 4 < n ? first + 4 : n;
      for (let c = first + 1; c < end; c++) {
        const ct = times[c];
        if (ct < bt || (ct === bt && seqs[c] < bs)) {
          best = c;
          bt = ct;
          bs = seqs[c];
        }
      }
      if (time < bt || (time === bt && seq < bs)) break;
      times[i] = bt;
      seqs[i] = bs;
      tags[i] = tags[best];
      i = best;
    }
    times[i] = time;
    seqs[i] = seq;
    tags[i] = tag;
  }

  topDev(): number {
    return this.tags[0] >>> 8;
  }

  topKind(): number {
    return this.tags[0] & 0xff;
  }

  topSeq(): number {
    return this.seqs[0];
  }

  topTag(): number {
    return this.tags[0];
  }

  clear(): void {
    this.n = 0;
    this.times[0] = Infinity;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    this.times = grown(this.times, cap);
    this.seqs = grown(this.seqs, cap);
    this.tags = grown(this.tags, cap);
  }
}
