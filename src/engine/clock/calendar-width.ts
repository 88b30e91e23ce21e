/**
 * When the calendar queue (calendar-queue.ts) changes its bucket width. The queue re-buckets its
 * events when told; this decides when, from what the last turns saw.
 *
 * Width adapts to keep the events handled per bucket turn in [LOW, HIGH] and the ring's horizon
 * (RING widths) long enough that few pushes go to the far heap. It narrows as soon as a few turns
 * were too full (a full `near` is a big heap again), by as many halvings as their count asks for;
 * it doubles after many turns that were too empty, or that sent more than FAR_SHARE of the
 * pushes beyond the ring (each of those costs a far-heap push and pop; a power-on burst once
 * shrank the width until every 15-minute report went there), and then never halves back below
 * that width. Halving at most halves the mean per non-empty bucket and doubling at most doubles
 * it, so with HIGH > 2·LOW, and the floor, the rules never undo each other. The range was
 * measured (bench/RESULTS.md): the near heap stays a few levels deep, and the buckets being
 * appended to (a report 15 minutes ahead, ± jitter) stay few enough for their blocks to remain in
 * cache; with ~20 events per bucket every append was a cache miss, with ~600 every pop walked a
 * deep heap.
 */

/** Turns between two looks at the width (a narrowing needs no more than this many too-full turns). */
export const NARROW_AFTER = 4;
const WIDEN_AFTER = 256;
const LOW_PER_BUCKET = 16;
const HIGH_PER_BUCKET = 512;
const FAR_SHARE = 1 / 8;
/** Bucket widths are powers of two ms, so that rescaling a bucket index is exact. */
const MIN_WIDTH_MS = 2 ** -6;
const MAX_WIDTH_MS = 2 ** 20;

/** One queue's width decisions: the queue's counts at the last decision, and the narrowest width allowed. */
export class BucketWidthPolicy {
  private popsAt = 0;
  private farAt = 0;
  private seqAt = 0;
  /** Narrowest width allowed: raised when a narrower one sent too much beyond the ring. */
  private floorWidth = MIN_WIDTH_MS;

  /**
   * The width to use after `turns` bucket turns at `width` (`width` itself to keep it), or -1 to
   * keep counting turns (always, before NARROW_AFTER turns). `pops`, `farPushes` and `seq` are
   * the queue's running totals of events popped, pushes that went beyond the ring, and sequence
   * numbers handed out.
   */
  decide(width: number, turns: number, pops: number, farPushes: number, seq: number): number {
    const perTurn = (pops - this.popsAt) / turns;
    const farShare = (farPushes - this.farAt) / Math.max(1, seq - this.seqAt);
    const floor = this.floorWidth;
    // Every comparison, operation and store below runs on every call, whichever way the call
    // decides (the narrowing loop's body aside: it first runs at the power-on burst, along with
    // the first re-bucketing, which V8 meets for the first time then anyway). This is inlined into the virtual clock's hot loop, and V8 compiles an operation it
    // has never seen run into a deoptimization: the first widening, hundreds of turns in, threw
    // away the whole optimized loop, which was then compiled twice more (on-stack and whole), the
    // most expensive compiles of a run (bench/RESULTS.md, issue 17 round 21).
    //
    // As many halvings as the count asks for, in one re-bucketing: each splits a bucket's events
    // over two, so k of them bring perTurn to at least perTurn / 2^k, and the first k with
    // perTurn / 2^k <= HIGH leaves more than HIGH / 2 per turn, well above LOW (no widening
    // follows). One halving at a time re-bucketed every pending event once per step: a power-on
    // burst of 250,000 devices per shard took two, ~60-130 ms each.
    let narrowed = width;
    for (let q = perTurn; q > HIGH_PER_BUCKET && narrowed > floor; q /= 2) narrowed /= 2;
    const counted = turns >= WIDEN_AFTER;
    const canWiden = width < MAX_WIDTH_MS;
    const farTooMuch = farShare > FAR_SHARE;
    const notBusy = perTurn < HIGH_PER_BUCKET / 2;
    const tooEmpty = perTurn < LOW_PER_BUCKET;
    const narrows = narrowed < width;
    // The horizon was too short at this width: widen, and never narrow back to it.
    const farWiden = canWiden && farTooMuch && notBusy;
    const doubled = width * 2;
    const early = turns < NARROW_AFTER;
    const next = early ? -1 : narrows ? narrowed : !counted ? -1 : farWiden || (canWiden && tooEmpty) ? doubled : width;
    const decided = next >= 0;
    this.floorWidth = decided && !narrows && farWiden ? doubled : floor;
    this.popsAt = decided ? pops : this.popsAt;
    this.farAt = decided ? farPushes : this.farAt;
    this.seqAt = decided ? seq : this.seqAt;
    return next;
  }
}
