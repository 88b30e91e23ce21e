import { EventHeap } from './event-heap.js';
import { BucketWidthPolicy } from './calendar-width.js';
import { grown } from '../../collections/grown.js';

/** Buckets in the ring (a power of two): the ring spans RING bucket widths ahead of "now". */
const RING_BITS = 16;
const RING = 1 << RING_BITS;
const WORDS = RING >>> 5;
/** Bucket width at the start, ms; it adapts (calendar-width.ts). */
const START_WIDTH_MS = 1024;
/**
 * Ring blocks: 256 bytes each, an 8-byte header (next block, fill) and BLOCK events of 24 bytes
 * (time, seq, tag + padding) side by side, so that an append writes one cache line (it wrote
 * three when times, seqs and tags were in separate arrays) and a bucket load reads sequential
 * lines. (512-byte blocks were no faster and wasted more memory in partly filled blocks.)
 */
const BLOCK_BYTES = 256;
const BLOCK = 10;
/** Block stride and event slots in Float64 (time, seq) and Int32 (header, tag) units. */
const BF = BLOCK_BYTES / 8;
const BW = BLOCK_BYTES / 4;
const fTime = (k: number, j: number) => k * BF + 1 + 3 * j;
const wTag = (k: number, j: number) => k * BW + 6 + 6 * j;

/**
 * Ring slot of absolute bucket index b: b mod RING for any integer b within ±2^53 (negative too),
 * because ToInt32 keeps b mod 2^32 and RING divides 2^32. Much cheaper than a double `%`.
 */
function slotOf(b: number): number {
  return b & (RING - 1);
}

/** Blocks for `events` pending: full ones, plus a partly filled one per non-empty bucket, as a power of two. */
function blocksFor(events: number): number {
  const need = Math.ceil(events / BLOCK) + Math.min(RING, events);
  let cap = 256;
  while (cap < need) cap *= 2;
  return cap;
}

/** Empties interleaved ring slots (see CalendarQueue.slots). */
function resetSlots(a: Int32Array): Int32Array {
  for (let i = 0; i < RING; i++) {
    a[2 * i] = -1;
    a[2 * i + 1] = BLOCK;
  }
  return a;
}

/**
 * The virtual clock's event queue: a calendar queue (Brown 1988) in three levels, so that the heap
 * the hot loop pops from stays small enough to live in cache while a shard holds ~10^6 pending
 * events.
 *
 * - `near`: a 4-ary heap holding exactly the events of the current bucket (times in
 *   [cur·w, (cur+1)·w), plus anything pushed for an earlier time). Most follow-up events (acks a
 *   few ms later) land here directly.
 * - the ring: RING buckets of width w covering (cur, cur + RING), each an unordered chain of
 *   blocks in typed arrays (O(1) append), with a bitmap of non-empty buckets. When `near` runs
 *   dry, the next non-empty bucket is loaded into it in O(k) (append + heapify).
 * - `far`: a heap for events beyond the ring (long up-times of the outage process, and anything
 *   when the width has shrunk); they move into the ring as it turns.
 *
 * Order is exactly (time, seq) whatever the level or width: seq is assigned once, at push, and
 * travels with the event; every event of `near` is earlier than every event in the ring or in
 * `far`, because bucket index floor(t / w) is monotone in t. The width therefore never shows in
 * the pop order, which is what lets it adapt (halve when buckets hold too many events, double when
 * too few) without touching determinism. Tags are dev << 8 | kind, as in EventHeap.
 *
 * Single-threaded: one per shard.
 */
export class CalendarQueue {
  private readonly near = new EventHeap(1024);
  private readonly far = new EventHeap(1024);
  /**
   * Per ring slot: its newest block ([2s], -1 when empty) and that block's fill ([2s + 1]; BLOCK
   * when empty, so that the first append allocates), side by side so that an append reads one line
   * before it writes the event's.
   */
  private readonly slots = resetSlots(new Int32Array(2 * RING));
  private readonly bits = new Uint32Array(WORDS);
  private ringCount = 0;
  /**
   * Ring storage: each bucket is a chain of blocks, newest block first (only it may be partly
   * full; its fill is in `slots`, the header's fill is written when a chain is detached). Blocks
   * rather than one node per event because loading a bucket reads events pushed long before (a
   * report 15 minutes ahead): with nodes scattered over the pool every event was a cache miss,
   * with blocks it is a few sequential lines per BLOCK events. Free blocks chain through their
   * next field. Two views of one buffer: blockF for times and seqs, blockI for headers and tags.
   */
  private blockCap: number;
  private blockF: Float64Array;
  private blockI: Int32Array;
  private freeBlock = -1;
  private blocksUsed = 0;
  /** Absolute index of the bucket whose events are in `near`. */
  private cur = 0;
  private width = START_WIDTH_MS;
  private inv = 1 / START_WIDTH_MS;
  private readonly widths = new BucketWidthPolicy();
  private nextSeq = 0;
  private n = 0;
  private pops = 0;
  /** Pushes that went beyond the ring (re-placements by migrate/rescale included). */
  private farPushes = 0;
  private turns = 0;
  /** Per-device records touched when their events are loaded (see warmRecords); none by default. */
  private warm: Uint8Array | undefined;
  private warmShift = 0;
  /** Where the touched bytes go, so that the loads are not optimised away. */
  private warmSink = 0;

  /**
   * `expectedEvents`: about how many will be pending at once (0: unknown), to size the block store
   * up front. Blocks never used are never touched, so a generous guess costs address space, not
   * memory; doubling from 256 copied the store ~9 times and faulted twice its pages in while a
   * 250,000-device shard planned its first events (bench/RESULTS.md, issue 17 round 20).
   */
  constructor(expectedEvents = 0) {
    this.blockCap = blocksFor(expectedEvents);
    this.blockF = new Float64Array(BF * this.blockCap);
    this.blockI = new Int32Array(this.blockF.buffer);
  }

  get size(): number {
    return this.n;
  }

  /**
   * Touch device `dev`'s record, `records[dev << shift ..]` of 2^shift bytes starting on a cache
   * line, for every event loaded from a ring bucket. Why: a bucket's events are for devices last
   * seen minutes ago, whose state is out of cache; touching them all in one loop overlaps those
   * memory accesses (they do not depend on each other) instead of stalling on each when its event
   * runs. A bucket holds at most a few hundred events, so their records stay cached until then.
   * (A table too small to be line-aligned, fleet/device-table.ts, is in cache anyway.)
   * The loop does nothing else (EventHeap.touchRecords, after the bucket is copied): with the
   * touches inside the copy, ~60 instructions per event apart, fewer misses were in flight at
   * once, and a shard's event loop took ~10 % more CPU (bench/RESULTS.md, "A bucket's records
   * warmed in a loop of their own", round 19).
   */
  warmRecords(records: Uint8Array, shift: number): void {
    this.warm = records;
    this.warmShift = shift;
  }

  /** Current bucket width, ms (for tests and diagnostics). */
  get bucketWidthMs(): number {
    return this.width;
  }

  push(time: number, dev: number, kind: number): void {
    this.n++;
    this.place(time, this.nextSeq++, (dev << 8) | kind);
  }

  /**
   * Time of the earliest event; Infinity when empty (an empty heap peeks Infinity). refill's result
   * is not merged into it: tagged, it would box every fractional peek (see EventHeap.peekTime).
   */
  peekTime(): number {
    if (this.near.size === 0) this.refill();
    return this.near.peekTime();
  }

  topDev(): number {
    return this.near.topDev();
  }

  topKind(): number {
    return this.near.topKind();
  }

  /** Sequence number of the earliest event (its place among events at the same time). */
  topSeq(): number {
    return this.near.topSeq();
  }

  /**
   * Hands out the next sequence number without queueing anything: an event kept elsewhere (a
   * deferred event, deferred-events.ts) still takes its place in the one (time, seq) order.
   */
  takeSeq(): number {
    return this.nextSeq++;
  }

  /** Removes the earliest event (read it first with peekTime/topDev/topKind). */
  pop(): void {
    if (this.near.size === 0 && this.refill() === Infinity) return;
    this.near.pop();
    this.n--;
    this.pops++;
  }

  clear(): void {
    this.near.clear();
    this.far.clear();
    resetSlots(this.slots);
    this.bits.fill(0);
    this.ringCount = 0;
    this.freeBlock = -1;
    this.blocksUsed = 0;
    this.n = 0;
  }

  private place(time: number, seq: number, tag: number): void {
    const b = Math.floor(time * this.inv);
    if (b <= this.cur) this.near.pushTagged(time, seq, tag);
    else if (b - this.cur < RING) this.toRing(slotOf(b), time, seq, tag);
    else {
      this.farPushes++;
      this.far.pushTagged(time, seq, tag);
    }
  }

  private toRing(slot: number, time: number, seq: number, tag: number): void {
    const sl = this.slots;
    let k = sl[2 * slot];
    let fill = sl[2 * slot + 1];
    if (fill === BLOCK) {
      const head = k;
      k = this.allocBlock();
      this.blockI[k * BW] = head;
      sl[2 * slot] = k;
      if (head < 0) this.bits[slot >>> 5] |= 1 << (slot & 31);
      fill = 0;
    }
    const f = fTime(k, fill);
    this.blockF[f] = time;
    this.blockF[f + 1] = seq;
    this.blockI[wTag(k, fill)] = tag;
    sl[2 * slot + 1] = fill + 1;
    this.ringCount++;
  }

  private allocBlock(): number {
    const k = this.freeBlock;
    if (k >= 0) {
      this.freeBlock = this.blockI[k * BW];
      return k;
    }
    if (this.blocksUsed === this.blockCap) this.growBlocks();
    return this.blocksUsed++;
  }

  /** `near` is empty: moves the next non-empty bucket into it. Returns the new earliest time. */
  private refill(): number {
    if (this.n === 0) return Infinity;
    this.turns++;
    this.adapt();
    if (this.near.size > 0) return this.near.peekTime();
    if (this.ringCount === 0) {
      // Nothing within the ring: jump straight to the far heap's first bucket. Events at an
      // infinite (or NaN) time are never due, as with EventHeap under runUntil.
      const t = this.far.peekTime();
      if (!(t < Infinity)) return Infinity;
      this.cur = Math.floor(t * this.inv);
      this.migrate();
      return this.near.peekTime();
    }
    this.cur = this.nextBucket();
    this.loadBucket(slotOf(this.cur));
    this.migrate();
    return this.near.peekTime();
  }

  /** Absolute index of the first non-empty ring bucket after `cur` (the ring is not empty). */
  private nextBucket(): number {
    const start = slotOf(this.cur + 1);
    let w = start >>> 5;
    let word = this.bits[w] & (-1 << (start & 31));
    for (let scanned = 0; word === 0; scanned++) {
      if (scanned > WORDS) throw new Error('CalendarQueue: ring count and bitmap disagree');
      w = (w + 1) & (WORDS - 1);
      word = this.bits[w];
    }
    const slot = (w << 5) + 31 - Math.clz32(word & -word);
    return this.cur + 1 + ((slot - start + RING) % RING);
  }

  /** Moves bucket `slot` into `near` (which is empty): append everything, heapify once. */
  private loadBucket(slot: number): void {
    const f = this.blockF;
    const ints = this.blockI;
    const near = this.near;
    const sl = this.slots;
    let k = sl[2 * slot];
    let fill = sl[2 * slot + 1];
    const first = k;
    let last = -1;
    let loaded = 0;
    while (k >= 0) {
      for (let j = 0; j < fill; j++) near.append(f[fTime(k, j)], f[fTime(k, j) + 1], ints[wTag(k, j)]);
      loaded += fill;
      last = k;
      k = ints[k * BW];
      fill = BLOCK;
    }
    // `near` was empty: it holds exactly this bucket's events now.
    if (this.warm !== undefined) this.warmSink ^= near.touchRecords(this.warm, this.warmShift);
    // The whole chain goes back to the free list at once.
    ints[last * BW] = this.freeBlock;
    this.freeBlock = first;
    sl[2 * slot] = -1;
    sl[2 * slot + 1] = BLOCK;
    this.bits[slot >>> 5] &= ~(1 << (slot & 31));
    this.ringCount -= loaded;
    near.heapify();
  }

  /** Moves far events whose bucket is now within the ring's reach. */
  private migrate(): void {
    const far = this.far;
    const limit = (this.cur + RING) * this.width;
    while (far.size > 0 && far.peekTime() < limit) {
      const time = far.peekTime();
      const seq = far.topSeq();
      const tag = far.topTag();
      far.pop();
      this.place(time, seq, tag);
    }
  }

  /**
   * Asks the width policy about the turns since it last decided (runs with `near` empty, every
   * turn). No branch: the same code runs whether the policy waits, keeps the width or changes it,
   * so that V8 has seen all of it from the first turns on (see BucketWidthPolicy.decide: code
   * first run here after the hot loop was optimized threw that loop away).
   */
  private adapt(): void {
    const width = this.widths.decide(this.width, this.turns, this.pops, this.farPushes, this.nextSeq);
    const decided = width >= 0;
    this.turns = decided ? 0 : this.turns;
    this.rescale(decided ? width : this.width);
  }

  /**
   * Re-buckets the ring at a new width (nothing when it is the current one). Every pending event
   * is at or after bucket `cur`'s start.
   */
  private rescale(width: number): void {
    if (width === this.width) return;
    const curStart = this.cur * this.width;
    // Detach every ring chain into one list of blocks, then re-place each event at the new width;
    // a block is freed only once its events are placed (placing may allocate blocks).
    let list = -1;
    for (let w = 0; w < WORDS; w++) {
      let word = this.bits[w];
      while (word !== 0) {
        const slot = (w << 5) + 31 - Math.clz32(word & -word);
        word &= word - 1;
        const sl = this.slots;
        let k = sl[2 * slot];
        let fill = sl[2 * slot + 1];
        while (k >= 0) {
          const next = this.blockI[k * BW];
          this.blockI[k * BW] = list;
          this.blockI[k * BW + 1] = fill;
          list = k;
          k = next;
          fill = BLOCK;
        }
        sl[2 * slot] = -1;
        sl[2 * slot + 1] = BLOCK;
      }
      this.bits[w] = 0;
    }
    this.ringCount = 0;
    this.width = width;
    this.inv = 1 / width;
    this.cur = Math.floor(curStart * this.inv);
    while (list >= 0) {
      const next = this.blockI[list * BW];
      const fill = this.blockI[list * BW + 1];
      for (let j = 0; j < fill; j++) this.place(this.blockF[fTime(list, j)], this.blockF[fTime(list, j) + 1], this.blockI[wTag(list, j)]);
      this.blockI[list * BW] = this.freeBlock;
      this.freeBlock = list;
      list = next;
    }
    this.migrate();
  }

  private growBlocks(): void {
    this.blockCap *= 2;
    this.blockF = grown(this.blockF, BF * this.blockCap);
    this.blockI = new Int32Array(this.blockF.buffer);
  }
}
