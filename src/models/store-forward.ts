/**
 * Bounded store-and-forward buffers for N devices, kept as counts (not payloads), so that the
 * accounting identity holds exactly for every device at every instant:
 *
 *   pushed = flushed + dropped + buffered        (messages; bytes likewise)
 *
 * Each device's messages have one fixed size (its telemetry `size`), which makes the byte side exact
 * without remembering each message: bytes = messages × size. A buffer holds at most
 * min(maxMessages, floor(maxBytes / size)) messages. When it is full, 'drop-oldest' discards the oldest
 * messages to make room (telemetry: the newest reading matters most); 'drop-newest' refuses the new
 * ones (balena's log buffer: once full, messages are dropped and counted).
 *
 * Concurrency: one StoreForward per shard; no method yields, so each call is atomic.
 */

export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

export interface StoreForwardOptions {
  /** Message size in bytes of each device (or one size for all). */
  readonly messageBytes: number | ArrayLike<number>;
  readonly maxMessages?: number;
  readonly maxBytes?: number;
  readonly policy?: OverflowPolicy;
}

export class StoreForward {
  readonly count: number;
  readonly policy: OverflowPolicy;
  /** Messages currently buffered per device. */
  readonly buffered: Uint32Array;
  /** Cumulative counts per device (Float64: exact up to 2^53). */
  readonly pushed: Float64Array;
  readonly flushed: Float64Array;
  readonly dropped: Float64Array;
  /** Capacity in messages per device. */
  readonly capacity: Uint32Array;
  readonly messageBytes: Uint32Array;

  constructor(count: number, options: StoreForwardOptions) {
    this.count = count;
    this.policy = options.policy ?? 'drop-oldest';
    this.buffered = new Uint32Array(count);
    this.pushed = new Float64Array(count);
    this.flushed = new Float64Array(count);
    this.dropped = new Float64Array(count);
    this.capacity = new Uint32Array(count);
    this.messageBytes = new Uint32Array(count);
    const maxMessages = options.maxMessages ?? 0xffffffff;
    const maxBytes = options.maxBytes ?? Infinity;
    for (let d = 0; d < count; d++) {
      const size = typeof options.messageBytes === 'number' ? options.messageBytes : options.messageBytes[d];
      if (!(size >= 1)) throw new RangeError(`StoreForward: device ${d} message size must be >= 1 byte`);
      this.messageBytes[d] = size;
      this.capacity[d] = Math.min(maxMessages, Math.floor(maxBytes / size));
    }
  }

  /**
   * Buffers `n` new messages for `dev`; returns how many messages were dropped to stay within bounds.
   * Both policies drop the same *number*; they differ in which messages survive. With 'drop-oldest' the
   * buffer always holds the contiguous newest sequence numbers [pushed − buffered, pushed).
   */
  push(dev: number, n = 1): number {
    this.pushed[dev] += n;
    const cap = this.capacity[dev];
    const total = this.buffered[dev] + n;
    const drop = total > cap ? total - cap : 0;
    this.buffered[dev] = total - drop;
    this.dropped[dev] += drop;
    return drop;
  }

  /** Takes up to `max` of `dev`'s oldest messages out for sending; returns how many. */
  flush(dev: number, max = Infinity): number {
    const b = this.buffered[dev];
    const n = b < max ? b : Math.max(0, Math.floor(max));
    this.buffered[dev] = b - n;
    this.flushed[dev] += n;
    return n;
  }

  /** Messages dropped so far by `dev`. */
  droppedOf(dev: number): number {
    return this.dropped[dev];
  }

  bufferedBytes(dev: number): number {
    return this.buffered[dev] * this.messageBytes[dev];
  }

  /** pushed − (flushed + dropped + buffered) for `dev`: zero unless the accounting is broken. */
  imbalance(dev: number): number {
    return this.pushed[dev] - (this.flushed[dev] + this.dropped[dev] + this.buffered[dev]);
  }

  /** Fleet totals (allocates one small object: for reports, not hot paths). */
  totals(): { pushed: number; flushed: number; dropped: number; buffered: number } {
    let pushed = 0;
    let flushed = 0;
    let dropped = 0;
    let buffered = 0;
    for (let d = 0; d < this.count; d++) {
      pushed += this.pushed[d];
      flushed += this.flushed[d];
      dropped += this.dropped[d];
      buffered += this.buffered[d];
    }
    return { pushed, flushed, dropped, buffered };
  }
}
