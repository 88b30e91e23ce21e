import { Direction, type LinkStates } from '../models/link.js';
import { grown } from '../collections/grown.js';
import { messageLeg, TRANSFER_GAVE_UP, TRANSFER_LOSSES } from '../models/tcp-transfer.js';

/** Marks of a held message: TCP gives the connection up on it; it belongs to a reconnect's backlog. */
export const HELD_GAVE_UP = 1;
export const HELD_BACKLOG = 2;

/** `transit`'s out-parameters: [packets lost, 1 when the connection timed out]. */
export const TRANSIT_LOSSES = TRANSFER_LOSSES;
export const TRANSIT_GAVE_UP = TRANSFER_GAVE_UP;

/**
 * The link model acting on telemetry in transit, on either clock: each message gets the link's
 * one-way delays (up and back) and its packets may be lost on the way (Gilbert–Elliott, bursty).
 * MQTT runs over TCP, so a lost packet is retransmitted when the retransmission timeout expires,
 * and the timeout doubles on each expiry (models/tcp-retransmission.ts: Linux's RTO, backoff,
 * cap and give-up time): packet loss makes delivery late, whatever the QoS. Only when the link
 * stays bad for the whole give-up time does TCP abandon the connection; the message is then lost
 * on the link, and the session ends with everything queued behind it.
 *
 * Messages held on the link wait in a FIFO per device (a device's session is one ordered stream,
 * as on TCP: a message being retransmitted holds back the ones after it), in typed arrays: time,
 * sequence number, token, intended time and whether the connection gives up on it.
 */
export class LinkShaper {
  private at = new Float64Array(256);
  /** Per held message: HELD_GAVE_UP, HELD_BACKLOG. */
  private marks = new Uint8Array(256);
  private seq = new Uint32Array(256);
  private token = new Int32Array(256);
  private scheduledAt = new Float64Array(256);
  private next = new Int32Array(256);
  private readonly free: number[] = [];
  private used = 0;
  /** Messages held now, and how many of them are QoS 1 (have a token). */
  private heldAll = 0;
  private heldWithToken = 0;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  /** Latest delivery time per device: later messages never overtake earlier ones. */
  private readonly lastAt: Float64Array;

  constructor(
    readonly states: LinkStates,
    /** Retransmission timeout of an established connection per link parameter set (LinkStates.paramsOf), ms. */
    private readonly rtoMsOf: readonly number[],
    /** After this long without getting a message through, TCP gives the connection up, ms (tcpGiveUpMs). */
    private readonly giveUpMs: number,
  ) {
    this.head = new Int32Array(states.count).fill(-1);
    this.tail = new Int32Array(states.count).fill(-1);
    this.lastAt = new Float64Array(states.count);
  }

  /**
   * Transit time of one message of `bytes` (there, and the acknowledgement back), ms, counting
   * lost packets in `out[TRANSIT_LOSSES]`. Each direction retransmits on its own timer: a lost
   * acknowledgement is sent again too, it does not arrive for free. When TCP gives up first,
   * `out[TRANSIT_GAVE_UP]` is 1 and the time is when it does.
   */
  transit(dev: number, bytes: number, out: Float64Array): number {
    const rto = this.rtoMsOf[this.states.paramsOf[dev]];
    const there = messageLeg(this.states, dev, bytes, Direction.up, rto, this.giveUpMs, out);
    return out[TRANSIT_GAVE_UP] === 1 ? there : there + messageLeg(this.states, dev, 0, Direction.down, rto, this.giveUpMs, out);
  }

  /**
   * Holds a message until `at` (kept in order behind the device's earlier ones); returns when it
   * is due. `marks`: HELD_GAVE_UP (the connection times out on it then, instead of delivering
   * it), HELD_BACKLOG.
   */
  hold(dev: number, at: number, seq: number, token: number, scheduledAt: number, marks = 0): number {
    const due = Math.max(at, this.lastAt[dev]);
    this.lastAt[dev] = due;
    let n: number;
    if (this.free.length > 0) n = this.free.pop()!;
    else {
      if (this.used === this.at.length) this.grow();
      n = this.used++;
    }
    this.heldAll++;
    if (token >= 0) this.heldWithToken++;
    this.at[n] = due;
    this.marks[n] = marks;
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
  /** True when TCP gives the connection up on this message instead of delivering it. */
  gaveUpOn(n: number): boolean {
    return (this.marks[n] & HELD_GAVE_UP) !== 0;
  }
  /** True for a message of a reconnect's backlog. */
  fromBacklog(n: number): boolean {
    return (this.marks[n] & HELD_BACKLOG) !== 0;
  }

  /** The device's first held message, due or not, else -1 (to empty the FIFO when the session ends). */
  first(dev: number): number {
    return this.head[dev];
  }

  release(dev: number, n: number): void {
    this.heldAll--;
    if (this.token[n] >= 0) this.heldWithToken--;
    this.head[dev] = this.next[n];
    if (this.head[dev] < 0) this.tail[dev] = -1;
    this.free.push(n);
  }

  /** QoS 0 messages held for all devices (QoS 1 ones are in the in-flight table too). */
  heldWithoutToken(): number {
    return this.heldAll - this.heldWithToken;
  }

  holding(dev: number): boolean {
    return this.head[dev] >= 0;
  }

  private grow(): void {
    const cap = this.at.length * 2;
    this.at = grown(this.at, cap);
    this.scheduledAt = grown(this.scheduledAt, cap);
    this.marks = grown(this.marks, cap);
    this.seq = grown(this.seq, cap);
    this.token = grown(this.token, cap);
    this.next = grown(this.next, cap);
  }
}
