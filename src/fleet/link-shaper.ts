import { Direction, LOST, type LinkStates } from '../models/link.js';
import { grown } from '../collections/grown.js';

/**
 * The link model acting on telemetry in transit, on either clock: each message gets the link's
 * one-way delays (up and back) and its packets may be lost on the way (Gilbert–Elliott, bursty).
 * MQTT runs over TCP, so a lost packet is retransmitted after the retransmission timeout, which
 * doubles on each loss (RFC 6298): packet loss makes delivery late, whatever the QoS. A message
 * is lost only when the link stays bad through every retransmission (then TCP gives up): a QoS 0
 * message is gone, a QoS 1 message fails.
 *
 * Messages held on the wire wait in a FIFO per device (a device's session is one ordered stream,
 * as on TCP), in typed arrays: time, sequence number, token and intended time of each.
 */
export class LinkShaper {
  private at = new Float64Array(256);
  private seq = new Uint32Array(256);
  private token = new Int32Array(256);
  private scheduledAt = new Float64Array(256);
  private next = new Int32Array(256);
  private readonly free: number[] = [];
  private used = 0;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** Latest delivery time per device: later messages never overtake earlier ones. */
  private readonly lastAt: Float64Array;

  constructor(
    readonly states: LinkStates,
    /** First retransmission timeout per link parameter set (LinkStates.paramsOf), ms. */
    private readonly rtoMsOf: readonly number[],
    private readonly maxTries: number,
  ) {
    this.head = new Int32Array(states.count).fill(-1);
    this.tail = new Int32Array(states.count).fill(-1);
    this.lastAt = new Float64Array(states.count);
  }

  /**
   * Transit time of one message of `bytes` (there and the ack back), ms, counting lost packets in
   * `losses[0]`; LOST when it never arrives.
   */
  transit(dev: number, bytes: number, losses: Float64Array): number {
    let waited = 0;
    let rto = this.rtoMsOf[this.states.paramsOf[dev]];
    for (let tries = 0; tries < this.maxTries; tries++) {
      const up = this.states.transmit(dev, bytes, Direction.up);
      if (up !== LOST) return waited + up + Math.max(0, this.states.transmit(dev, 0, Direction.down));
      losses[0]++;
      waited += rto;
      rto *= 2;
    }
    return LOST;
  }

  /** Holds a message until `at` (kept in order behind the device's earlier ones); returns when it is due. */
  hold(dev: number, at: number, seq: number, token: number, scheduledAt: number): number {
    const due = Math.max(at, this.lastAt[dev]);
    this.lastAt[dev] = due;
    let n: number;
    if (this.free.length > 0) n = this.free.pop()!;
    else {
      if (this.used === this.at.length) this.grow();
      n = this.used++;
    }
    this.at[n] = due;
    this.seq[n] = seq;
    this.token[n] = token;
    this.scheduledAt[n] = scheduledAt;
    this.next[n] = -1;
    if (this.tail[dev] >= 0) this.next[this.tail[dev]] = n;
    else this.head[dev] = n;
    this.tail[dev] = n;
    return due;
  }

  /** The device's first held message if it is due at `now`, else -1. Read it, then `release` it. */
  due(dev: number, now: number): number {
    const n = this.head[dev];
    return n >= 0 && this.at[n] <= now ? n : -1;
  }

  seqOf(n: number): number {
    return this.seq[n];
  }
  tokenOf(n: number): number {
    return this.token[n];
  }
  scheduledAtOf(n: number): number {
    return this.scheduledAt[n];
  }

  release(dev: number, n: number): void {
    this.head[dev] = this.next[n];
    if (this.head[dev] < 0) this.tail[dev] = -1;
    this.free.push(n);
  }

  holding(dev: number): boolean {
    return this.head[dev] >= 0;
  }

  /** Drops everything held for `dev` (its session ended); returns how many messages that was. */
  clear(dev: number): number {
    let k = 0;
    for (let n = this.head[dev]; n >= 0; n = this.next[n]) {
      this.free.push(n);
      k++;
    }
    this.head[dev] = -1;
    this.tail[dev] = -1;
    return k;
  }

  private grow(): void {
    const cap = this.at.length * 2;
    this.at = grown(this.at, cap);
    this.scheduledAt = grown(this.scheduledAt, cap);
    this.seq = grown(this.seq, cap);
    this.token = grown(this.token, cap);
    this.next = grown(this.next, cap);
  }
}
