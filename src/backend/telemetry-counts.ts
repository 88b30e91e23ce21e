import { doubledCapacity, grown } from '../collections/grown.js';
/**
 * Exact per-device accounting of received telemetry sequence numbers. Each device has a growable
 * bitmap of the sequence numbers it has delivered, so duplicates are exact (not estimated) and gaps
 * follow from the counts: every number in [0, maxSeq] that is not set is a gap.
 *
 * Memory: one bit per sequence number up to the highest seen, so a device that sent 10,000
 * messages costs ~1.25 KB. Sequence numbers above MAX_TRACKED_SEQ are refused (the caller counts
 * them as malformed) so that one bad payload cannot make the backend allocate gigabytes.
 *
 * Concurrency: used only from the backend's event loop; no locking.
 */

/** Highest sequence number tracked: 2^24 - 1 (a 2 MiB bitmap at most per device). */
export const MAX_TRACKED_SEQ = (1 << 24) - 1;

const EMPTY = new Uint32Array(0);
const MIN_WORDS = 4;

export class SeqTracker {
  /** Distinct sequence numbers received. */
  received = 0;
  /** Messages whose sequence number had been received before. */
  duplicates = 0;
  /** Highest sequence number received, or -1. */
  maxSeq = -1;
  private seen: Uint32Array = EMPTY;

  /**
   * Records one received message. Returns false (and records nothing) when `seq` is not a
   * trackable sequence number.
   */
  record(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq > MAX_TRACKED_SEQ) return false;
    const word = seq >>> 5;
    if (word >= this.seen.length) this.grow(word + 1);
    const bit = 1 << (seq & 31);
    if ((this.seen[word] & bit) !== 0) {
      this.duplicates++;
      return true;
    }
    this.seen[word] |= bit;
    this.received++;
    if (seq > this.maxSeq) this.maxSeq = seq;
    return true;
  }

  /** Sequence numbers below the highest one seen that never arrived. */
  get gaps(): number {
    return this.maxSeq + 1 - this.received;
  }

  /** Whether `seq` has been received. */
  has(seq: number): boolean {
    const word = seq >>> 5;
    return word < this.seen.length && (this.seen[word] & (1 << (seq & 31))) !== 0;
  }

  private grow(minWords: number): void {
    this.seen = grown(this.seen, doubledCapacity(this.seen.length, minWords, MIN_WORDS));
  }
}
