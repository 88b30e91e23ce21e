import { addMarkedCounts, BITMAP_WORDS, COUNTS_LENGTH, HDR_HIGHEST_US, HDR_LOWEST_US, HDR_SIGNIFICANT_DIGITS, lowestIndexIn, type HdrCounts } from './hdr-counts.js';
import { highestOfIndex, lowestOfIndex, middleOfIndex, type HistogramStats } from './histogram.js';
import { deflateRowEncoding } from './reused-deflate.js';

/**
 * One timeline interval of one histogram on the coordinator: the shards' counts added into a plain
 * counts array of the fixed HDR shape, with the statistics and the compressed encoding a timeline
 * row needs computed straight from it. The statistics are hdr-histogram-js's for the same counts,
 * bit for bit; the encoding is the library's V2 encoding byte for byte before compression, and
 * decodes to the same histogram (test/unit/interval-counts.test.ts; only the deflate strategy
 * differs, see reused-deflate.ts). Building a library histogram per row did the same work
 * through ~5 percentile scans of the whole counts array and an encoder walking it value by value,
 * and was most of the coordinator's CPU on one-minute snapshots of a 24-hour virtual run
 * (bench/RESULTS.md, "Virtual clock"). Reused row after row (`clear`).
 * Main thread only.
 */
export class IntervalCounts {
  private readonly counts = new Float64Array(COUNTS_LENGTH);
  /** Bit i set: counts[i] is non-zero (hdr-counts.ts's lowestIndexIn). */
  private readonly bits = new Int32Array(BITMAP_WORDS);
  /** Lowest and highest index holding a count (Infinity / -1 when empty). */
  private lo = Infinity;
  private hi = -1;
  total = 0;

  /**
   * Adds a shard's interval counts (HdrRecorder.drainCounts' format, hdr-counts.ts). The loop keeps
   * its state in locals: the total in a field was a double stored to the heap per count, and with
   * the first and last index tracked per count it took ~60 instructions per count (callgrind,
   * bench/RESULTS.md, issue 17 round 22). The format's first count is at its start index.
   */
  add(counts: HdrCounts): void {
    const len = counts.length;
    if (len < 2) return;
    const c = this.counts;
    const bits = this.bits;
    const first = counts[0];
    let i = first;
    let total = 0;
    for (let k = 1; k < len; k++) {
      const n = counts[k];
      if (n < 0) {
        i -= n;
        continue;
      }
      const had = c[i];
      if (had === 0) bits[i >>> 5] |= 1 << (i & 31);
      c[i] = had + n;
      total += n;
      i++;
    }
    this.total += total;
    // The last entry is a count (a run of empty buckets is only written before one).
    const last = i - 1;
    if (first < this.lo) this.lo = first;
    if (last > this.hi) this.hi = last;
  }

  /**
   * histogramStats (histogram.ts) of a library histogram holding these counts. No closures: `total`
   * captured by one (it is a double once counts are added) made V8 deoptimize this method at its
   * first comparison on every row, ~260 times a 24-hour run. The bucket values are the fixed
   * shape's in closed form (histogram.ts): through the library's methods, inlined, each optimizing
   * compile of this method took ~45 ms of a V8 helper thread (bench/RESULTS.md, issue 17 round 6).
   */
  stats(): HistogramStats {
    return this.scan(false, false);
  }

  /**
   * The compressed base64 encoding of a histogram holding these counts: hdr-histogram-js's
   * `encodeIntoCompressedBase64` layout and uncompressed bytes, deflated Huffman-only
   * (reused-deflate.ts). `decodeFromCompressedBase64` of it is the library histogram of the counts.
   */
  encode(): string {
    this.scan(true, false);
    return this.encoded();
  }

  /**
   * A timeline row's statistics and encoding (`encoded` holds the encoding until the next call),
   * read in one pass over the counts that also empties them, as `clear` does, and adds them into
   * `run` (the run's totals) on the way. Three passes (stats, encode, clear), each a walk of the
   * bitmap and a read of the counts, were ~40 % of the coordinator's instructions per row
   * (callgrind, bench/RESULTS.md, issue 17 round 22).
   */
  take(run?: IntervalCounts): HistogramStats {
    return this.scan(true, true, run);
  }

  /** Adds `o`'s counts (o unchanged). */
  addFrom(o: IntervalCounts): void {
    if (o.total === 0) return;
    addMarkedCounts(o.counts, o.bits, o.lo, o.hi, this.counts, this.bits);
    this.extend(o.lo, o.hi, o.total);
  }

  /** Adds a count total whose indices run from `lo` to `hi` (their counts and bits already added). */
  private extend(lo: number, hi: number, total: number): void {
    if (lo < this.lo) this.lo = lo;
    if (hi > this.hi) this.hi = hi;
    this.total += total;
  }

  /** The encoding the last `take` (or `encode`) wrote, compressed and in base64. */
  encoded(): string {
    const out = writer!;
    const compressed = deflateRowEncoding(out.bytes.subarray(0, out.at));
    const framed = Buffer.allocUnsafe(8 + compressed.length);
    framed.writeInt32BE(V2_COMPRESSED_COOKIE, 0);
    framed.writeInt32BE(compressed.length, 4);
    compressed.copy(framed, 8);
    return framed.toString('base64');
  }

  /**
   * One ascending walk of the non-zero counts: the statistics always (the library's
   * getValueAtPercentile, all five at once, and meanOf's sum: the same terms in the same order);
   * with `encode`, the V2 encoding into the shared writer; with `empty`, each count zeroed once read;
   * with `run`, every count added into it (a run's totals, MetricsAggregator).
   */
  private scan(encode: boolean, empty: boolean, run?: IntervalCounts): HistogramStats {
    const total = this.total;
    const out = (writer ??= new Writer(WRITER_BYTES));
    out.at = 0;
    let payloadStart = 0;
    if (encode) {
      // V2 encoding: a 40-byte header, then the counts from index 0 to the highest non-zero one as
      // ZigZag LEB128 longs, a run of k > 1 empty buckets written as -k.
      out.int32(V2_ENCODING_COOKIE);
      out.int32(0); // payload length, below
      out.int32(1); // normalizingIndexOffset
      out.int32(HDR_SIGNIFICANT_DIGITS);
      out.int64(HDR_LOWEST_US);
      out.int64(HDR_HIGHEST_US);
      out.int64(1); // integerToDoubleValueConversionRatio
      payloadStart = out.at;
    }
    if (total === 0) {
      if (encode) out.setInt32(4, 0);
      return { count: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
    }
    const c = this.counts;
    const wanted = WANTED;
    for (let p = 0; p < PERCENTILES.length; p++) wanted[p] = countAtPercentile(PERCENTILES[p], total);
    const found = [0, 0, 0, 0, 0];
    let next = 0;
    let seen = 0;
    let sum = 0;
    let prev = -1;
    const bits = this.bits;
    const lo = this.lo;
    const hi = this.hi;
    const rc = run?.counts;
    const rbits = run?.bits;
    for (let k = lo >>> 5; k <= hi >> 5; k++) {
      const word = bits[k];
      if (word === 0) continue;
      if (rbits !== undefined) rbits[k] |= word;
      for (let w = word; w !== 0; w &= w - 1) {
        const i = lowestIndexIn(k, w);
        const n = c[i];
        if (rc !== undefined) rc[i] += n;
        seen += n;
        sum += middleOfIndex(i) * n;
        while (next < 5 && seen >= wanted[next]) found[next++] = i;
        if (encode) {
          // Only the non-zero indices: the empty runs between them follow from their distances.
          // Most counts and gaps take one byte: written here, the rest by the writer.
          const gap = i - prev - 1;
          if (gap > 0) out.zigZag(gap > 1 ? -gap : 0);
          if (n < 64 && out.at < out.bytes.length) out.bytes[out.at++] = n * 2;
          else out.zigZag(n);
          prev = i;
        }
        if (empty) c[i] = 0;
      }
      if (empty) bits[k] = 0;
    }
    if (encode) out.setInt32(4, out.at - payloadStart);
    run?.extend(lo, hi, total);
    if (empty) this.reset();
    return {
      count: total,
      min: lowestOfIndex(lo),
      max: highestOfIndex(hi),
      avg: sum / total,
      p50: highestOfIndex(found[0]),
      p90: highestOfIndex(found[1]),
      p95: highestOfIndex(found[2]),
      p99: highestOfIndex(found[3]),
      p999: highestOfIndex(found[4]),
    };
  }

  /**
   * The counts in HdrRecorder.drainCounts' format (hdr-counts.ts), null when empty; unchanged.
   * `addCounts` of them into a library histogram gives what adding every part did one by one: the
   * same counts and total, and min and max are the extremes of the parts' extremes.
   */
  toCounts(): HdrCounts | null {
    if (this.total === 0) return null;
    const c = this.counts;
    const bits = this.bits;
    const out: number[] = [];
    let prev = -1;
    for (let k = this.lo >>> 5; k <= this.hi >> 5; k++) {
      for (let w = bits[k]; w !== 0; w &= w - 1) {
        const i = lowestIndexIn(k, w);
        if (prev < 0) out.push(i);
        else if (i > prev + 1) out.push(prev + 1 - i);
        out.push(c[i]);
        prev = i;
      }
    }
    return out;
  }

  /** True when `o` holds exactly these counts (then its stats and encoding are these too). */
  sameCounts(o: IntervalCounts): boolean {
    if (o.total !== this.total || o.lo !== this.lo || o.hi !== this.hi) return false;
    const bits = this.bits;
    for (let k = this.lo >>> 5; k <= this.hi >> 5; k++) {
      if (bits[k] !== o.bits[k]) return false;
      for (let w = bits[k]; w !== 0; w &= w - 1) {
        const i = lowestIndexIn(k, w);
        if (this.counts[i] !== o.counts[i]) return false;
      }
    }
    return true;
  }

  clear(): void {
    const bits = this.bits;
    for (let k = this.lo >>> 5; k <= this.hi >> 5; k++) {
      for (let w = bits[k]; w !== 0; w &= w - 1) this.counts[lowestIndexIn(k, w)] = 0;
      bits[k] = 0;
    }
    this.reset();
  }

  private reset(): void {
    this.lo = Infinity;
    this.hi = -1;
    this.total = 0;
  }
}

const PERCENTILES = [50, 90, 95, 99, 99.9];
/** The counts the five percentiles must reach, refilled by every stats() call (main thread only). */
const WANTED = new Float64Array(PERCENTILES.length);
const V2_ENCODING_COOKIE = 0x1c849303 | 0x10;
const V2_COMPRESSED_COOKIE = 0x1c849304 | 0x10;

/** The library's count a percentile must reach: ceil of the exact share, guarded by one ulp. */
function countAtPercentile(p: number, total: number): number {
  const fp = (Math.min(p, 100) / 100) * total;
  return Math.max(Math.ceil(fp - Math.pow(2, Math.floor(Math.log2(fp)) - 52)), 1);
}

/**
 * The encoder's bytes, reused row after row (main thread only; encode() never re-enters): a new
 * zeroed array per call, sized for the histogram's whole index span (up to ~47 KB), was ~10 % of
 * the coordinator's per-row CPU at 20,000 devices.
 */
let writer: Writer | undefined;
/** A row's encoding is a header and ~1-3 bytes per non-zero bucket; the writer grows past this if needed. */
const WRITER_BYTES = 16 * 1024;

/** A growable big-endian byte writer with the library's ZigZag LEB128 longs. */
class Writer {
  bytes: Uint8Array;
  at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    grown.set(this.bytes);
    this.bytes = grown;
  }
  int32(v: number): void {
    this.room(4);
    this.setInt32(this.at, v);
    this.at += 4;
  }
  setInt32(at: number, v: number): void {
    const b = this.bytes;
    b[at] = v >>> 24;
    b[at + 1] = v >>> 16;
    b[at + 2] = v >>> 8;
    b[at + 3] = v;
  }
  int64(v: number): void {
    this.int32(Math.floor(v / 2 ** 32));
    this.int32(v % 2 ** 32);
  }
  /** ZigZag, then LEB128 in up to 9 bytes (counts stay far below 2^56). */
  zigZag(value: number): void {
    this.room(9);
    let v = value >= 0 ? value * 2 : -value * 2 - 1;
    const b = this.bytes;
    while (v >= 128) {
      b[this.at++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.at++] = v;
  }
}
