/**
 * The shard side of the HDR histograms, without hdr-histogram-js: shards only count samples into
 * the library's counts-array layout and send the non-zero counts; the coordinator adds them into
 * real HDR histograms (`addCounts` in histogram.ts). Loading the library costs a shard process
 * ~5 MiB and its histograms ~1.7 MiB more (bench/RESULTS.md, "250,000 connected devices"), so this
 * file must never import it, nor import anything that does (test/unit/shard-imports.test.ts).
 */

/**
 * One histogram shape everywhere: integer microseconds from 1 µs to 1 hour, 3 significant digits,
 * no auto-resize. Because every shard and every machine uses exactly this shape, adding encoded
 * histograms together is exact, whatever the split.
 */
export const HDR_LOWEST_US = 1;
export const HDR_HIGHEST_US = 3_600_000_000;
export const HDR_SIGNIFICANT_DIGITS = 3;

/**
 * One interval's samples of one histogram as they travel from a shard to the coordinator: the
 * counts-array index of the first non-zero count, then the counts from there on, ascending, in the
 * fixed shape's layout (index i means what it means in the coordinator's HDR histograms), where a
 * negative number -k stands for k empty buckets (counts are never negative): HDR's own zero-run
 * idea, ~2.5x smaller than (index, count) pairs for wide latency spreads. Example: [1500, 3, -2, 1]
 * is 3 samples at index 1500 and 1 at 1503. Shards send it as a typed array (`drainCounts`): an
 * Int32Array, or a Float64Array when a count could pass 2^31 - 1. Structured clone (worker ports,
 * `serialization: 'advanced'` IPC) copies a typed array's bytes in one go, where a plain array was
 * written and read element by element, ~5x the CPU per snapshot (bench/RESULTS.md, issue 17
 * round 5). They are copied, never transferred: the first ArrayBuffer detached in an isolate
 * switches off V8's detaching protector, and from then on the optimized code of every typed-array
 * access of the shard's event loop checks for a detached buffer (+10 % instructions per event,
 * bench/RESULTS.md, issue 17 round 22). Readers take any array of numbers.
 */
export type HdrCounts = ArrayLike<number>;

const INT32_MAX = 0x7fffffff;

/**
 * The counts-array index of an integer value in [1, 2^32) for the fixed shape above
 * (unitMagnitude 0, 2048 sub-buckets, so subBucketHalfCountMagnitude 10): hdr-histogram-js's
 * countsArrayIndex with Math.clz32 in place of Math.log2/Math.pow.
 */
export function countsIndexOf(v: number): number {
  const b = 21 - Math.clz32(v); // floor(log2 v) - 10
  return b > 0 ? (b << 10) + (v >>> b) : v;
}

/** Length of the fixed shape's counts array (the index of the highest value, plus one). */
export const COUNTS_LENGTH = countsIndexOf(HDR_HIGHEST_US) + 1;

/** Words of a bitmap with one bit per counts-array index (~730). */
export const BITMAP_WORDS = (COUNTS_LENGTH + 31) >>> 5;

/**
 * The counts-array index of the lowest set bit of `word`, the k-th word of such a bitmap. Draining
 * walks the bitmap's words from the lowest to the highest index holding a count and takes the set
 * bits in ascending order, instead of scanning every count in between: a latency histogram spans
 * up to ~23,000 indices while one interval of a shard touches a few hundred, and scanning (or
 * sorting a list of touched indices) at every snapshot was ~10% of a virtual-clock shard's CPU at
 * one-minute snapshots (bench/RESULTS.md, "Virtual clock").
 */
export function lowestIndexIn(k: number, word: number): number {
  return (k << 5) | (31 - Math.clz32(word & -word));
}

/**
 * Adds the non-zero counts of `c` (marked in `bits`, between indices `lo` and `hi`) into `tc`, and
 * marks them in `tbits`: a bitmap word ORed in at a time. The caller updates the target's extremes
 * and total once. Shared by HdrRecorder (shards) and IntervalCounts (the coordinator), which lay
 * their counts out alike.
 */
export function addMarkedCounts(c: Float64Array, bits: Int32Array, lo: number, hi: number, tc: Float64Array, tbits: Int32Array): void {
  for (let k = lo >>> 5; k <= hi >> 5; k++) {
    const word = bits[k];
    if (word === 0) continue;
    tbits[k] |= word;
    for (let w = word; w !== 0; w &= w - 1) {
      const i = lowestIndexIn(k, w);
      tc[i] += c[i];
    }
  }
}

/**
 * The hot-path front of a histogram: `record` only bumps a count in a typed array (no Math.log2,
 * no Math.pow, no method dispatch, no allocation), and `drainCounts` hands the interval's counts
 * over at snapshot time. The counts are exactly those hdr-histogram-js would hold for the same
 * values (test/unit/hdr-recorder.test.ts). The counts array (~180 KiB) is allocated on first use.
 * Owned by one thread.
 */
export class HdrRecorder {
  private counts: Float64Array | undefined;
  /** Bit i set: counts[i] is non-zero (lowestIndexIn). */
  private bits: Int32Array | undefined;
  /** Lowest and highest index holding a count (Infinity / -1 when empty). */
  private lo = Infinity;
  private hi = -1;
  total = 0;

  record(us: number): void {
    const v = us < HDR_LOWEST_US ? HDR_LOWEST_US : us > HDR_HIGHEST_US ? HDR_HIGHEST_US : Math.round(us);
    if (v !== v) return; // NaN: the library would count it nowhere
    this.addAt(countsIndexOf(v), 1);
  }

  private addAt(i: number, n: number): void {
    const c = this.counts ?? this.allocate();
    if (c[i] === 0) {
      this.bits![i >>> 5] |= 1 << (i & 31);
      if (i < this.lo) this.lo = i;
      if (i > this.hi) this.hi = i;
    }
    c[i] += n;
    this.total += n;
  }

  private allocate(): Float64Array {
    this.bits = new Int32Array(BITMAP_WORDS);
    return (this.counts = new Float64Array(COUNTS_LENGTH));
  }

  /**
   * Adds every count into `target`; this recorder keeps its counts. A word of this bitmap ORed
   * into the target's marks all its indices at once, and the extremes and the total are set once:
   * with a call per count (`addAt`) it was as dear as collecting the snapshot itself (callgrind,
   * bench/RESULTS.md, issue 17 round 22).
   */
  addInto(target: HdrRecorder): void {
    const c = this.counts;
    const bits = this.bits;
    if (!c || !bits || this.total === 0) return;
    addMarkedCounts(c, bits, this.lo, this.hi, target.counts ?? target.allocate(), target.bits!);
    if (this.lo < target.lo) target.lo = this.lo;
    if (this.hi > target.hi) target.hi = this.hi;
    target.total += this.total;
  }

  /** Empties the recorder (its counts array is kept for reuse). */
  clear(): void {
    const c = this.counts;
    const bits = this.bits;
    if (!c || !bits || this.total === 0) return;
    for (let k = this.lo >>> 5; k <= this.hi >> 5; k++) {
      for (let w = bits[k]; w !== 0; w &= w - 1) c[lowestIndexIn(k, w)] = 0;
      bits[k] = 0;
    }
    this.reset();
  }

  /** The counts in drainCounts' format (null when empty), without emptying the recorder. */
  peekCounts(): Int32Array | Float64Array | null {
    return this.collect(false);
  }

  /** The interval's counts (null when nothing was recorded), then starts empty. */
  drainCounts(): Int32Array | Float64Array | null {
    return this.collect(true);
  }

  private collect(drain: boolean): Int32Array | Float64Array | null {
    const c = this.counts;
    const bits = this.bits;
    if (!c || !bits || this.total === 0) return null;
    // Every count is at most the total, so below 2^31 the whole array fits 32-bit integers (gaps
    // and indices are below COUNTS_LENGTH): half the bytes to copy and send, which kept a
    // one-minute snapshot (~17,000 numbers at 250,000 devices per shard) under glibc's 128 KiB
    // mmap threshold, where each send and receive had paid a fresh mapping's page faults.
    const wide = this.total > INT32_MAX;
    let out: Int32Array | Float64Array = wide ? drainScratchWide : drainScratch;
    // The start index, then per non-zero index a gap (if any) and its count.
    out[0] = this.lo;
    let n = 1;
    let prev = this.lo - 1;
    for (let k = this.lo >>> 5; k <= this.hi >> 5; k++) {
      const word = bits[k];
      if (word === 0) continue;
      // Room for the word's 32 indices, a gap and a count each.
      if (n + 64 > out.length) out = grownScratch(out, wide);
      for (let w = word; w !== 0; w &= w - 1) {
        const i = lowestIndexIn(k, w);
        if (i > prev + 1) out[n++] = prev + 1 - i;
        out[n++] = c[i];
        if (drain) c[i] = 0;
        prev = i;
      }
      if (drain) bits[k] = 0;
    }
    if (drain) this.reset();
    return out.slice(0, n);
  }

  /** Drops the counts array (a recorder used again allocates a new one). */
  release(): void {
    this.counts = undefined;
    this.bits = undefined;
    this.reset();
  }

  private reset(): void {
    this.lo = Infinity;
    this.hi = -1;
    this.total = 0;
  }
}

/**
 * Where `drainCounts` writes before copying out exactly what it wrote: one per thread (a module's
 * state is per isolate), grown by doubling, so a snapshot allocates only the array it sends.
 * `drainScratchWide` is for counts past 2^31 - 1.
 */
let drainScratch = new Int32Array(1024);
let drainScratchWide = new Float64Array(1024);

function grownScratch(a: Int32Array | Float64Array, wide: boolean): Int32Array | Float64Array {
  if (wide) {
    const b = new Float64Array(a.length * 2);
    b.set(a);
    return (drainScratchWide = b);
  }
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return (drainScratch = b);
}
