import { Rec32, RECORD_BYTES, type DeviceTable } from './device-table.js';
import { grown } from '../collections/grown.js';

const W = RECORD_BYTES / 4;

/**
 * QoS 1 messages in flight, for all devices of a shard, in typed arrays: the one bookkeeping of
 * them (the model driver times its acks in here too, through `AckLedger`). A slot's index is the
 * token handed to the driver, so an ack finds its message in O(1). Slots of one device form a
 * circular list in send order whose newest slot is kept in the device's record (one field per
 * device, on the cache line a report touches anyway): the oldest is the newest's successor, so
 * opening, acking the oldest and failing all of a device's messages are O(1) per message. Free
 * slots are kept on a stack (the few slots in use stay in cache); capacity doubles when needed.
 */
export class InflightTable {
  private dev: Int32Array;
  private sentAtMs: Float64Array;
  private wireAtMs: Float64Array;
  private scheduledAtMs: Float64Array;
  /** 1 for a message of a reconnect's backlog (TelemetryPipeline). */
  private backlog: Uint8Array;
  private ackAtMs: Float64Array;
  private next: Int32Array;
  private free: Int32Array;
  private freeTop = 0;
  private readonly tails: Int32Array;
  private count = 0;

  constructor(devices: DeviceTable, initialCapacity = 1024) {
    this.tails = devices.i32;
    const cap = Math.max(16, initialCapacity);
    this.dev = new Int32Array(cap);
    this.sentAtMs = new Float64Array(cap);
    this.wireAtMs = new Float64Array(cap);
    this.backlog = new Uint8Array(cap);
    this.scheduledAtMs = new Float64Array(cap);
    this.ackAtMs = new Float64Array(cap);
    this.next = new Int32Array(cap);
    this.free = new Int32Array(cap);
    this.pushFree(0, cap);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Opens a slot (the device's newest message) and returns its token. `times[0]` is when the
   * message was due, `times[1]` when it left the device; it reaches the wire then too unless a
   * modelled link holds it (`setWireAt`). The times come in a Float64Array because fractions passed
   * to a call V8 did not inline are a new HeapNumber each, two per report on the virtual clock.
   */
  open(dev: number, times: Float64Array, backlog = false): number {
    if (this.freeTop === 0) this.grow();
    const slot = this.free[--this.freeTop];
    this.dev[slot] = dev;
    this.scheduledAtMs[slot] = times[0];
    this.sentAtMs[slot] = times[1];
    this.wireAtMs[slot] = times[1];
    this.backlog[slot] = backlog ? 1 : 0;
    this.ackAtMs[slot] = Infinity;
    const k = dev * W + Rec32.inflightTail;
    const tail = this.tails[k];
    if (tail < 0) this.next[slot] = slot;
    else {
      this.next[slot] = this.next[tail];
      this.next[tail] = slot;
    }
    this.tails[k] = slot;
    this.count++;
    return slot;
  }

  /** True when `token` is open and belongs to `dev` (acks for failed slots are ignored). */
  isOpen(token: number, dev: number): boolean {
    return token >= 0 && token < this.dev.length && this.dev[token] === dev;
  }

  /** True when `dev` has a message in flight. */
  hasAny(dev: number): boolean {
    return this.tails[dev * W + Rec32.inflightTail] >= 0;
  }

  /** The device's oldest message in flight (its token), or -1. */
  oldest(dev: number): number {
    const tail = this.tails[dev * W + Rec32.inflightTail];
    return tail < 0 ? -1 : this.next[tail];
  }

  /** The device's next newer message after `token`, or -1 when `token` is its newest. */
  newer(dev: number, token: number): number {
    return token === this.tails[dev * W + Rec32.inflightTail] ? -1 : this.next[token];
  }

  sentAt(token: number): number {
    return this.sentAtMs[token];
  }

  /** When the message was written to the session (after the modelled link's transit). */
  wireAt(token: number): number {
    return this.wireAtMs[token];
  }

  setWireAt(token: number, t: number): void {
    this.wireAtMs[token] = t;
  }

  /** True for a message of a reconnect's backlog. */
  fromBacklog(token: number): boolean {
    return this.backlog[token] === 1;
  }

  scheduledAt(token: number): number {
    return this.scheduledAtMs[token];
  }

  /** When the (modelled) ack of `token` arrives; Infinity until the model driver published it. */
  ackAt(token: number): number {
    return this.ackAtMs[token];
  }

  setAckAt(token: number, t: number): void {
    this.ackAtMs[token] = t;
  }

  /** Closes an open slot; O(1) for the device's oldest message (acks come in order on one session). */
  close(token: number): void {
    const dev = this.dev[token];
    const k = dev * W + Rec32.inflightTail;
    const tail = this.tails[k];
    let p = tail;
    while (this.next[p] !== token) p = this.next[p];
    this.next[p] = this.next[token];
    if (token === tail) this.tails[k] = p === token ? -1 : p;
    this.release(token);
    this.count--;
  }

  /** Closes every slot of `dev`; returns how many there were. */
  closeAllOf(dev: number): number {
    const k = dev * W + Rec32.inflightTail;
    const tail = this.tails[k];
    if (tail < 0) return 0;
    let closed = 0;
    let s = this.next[tail];
    for (;;) {
      const n = this.next[s];
      this.release(s);
      closed++;
      if (s === tail) break;
      s = n;
    }
    this.tails[k] = -1;
    this.count -= closed;
    return closed;
  }

  private release(slot: number): void {
    this.dev[slot] = -1;
    this.free[this.freeTop++] = slot;
  }

  private pushFree(from: number, to: number): void {
    // Lowest slots on top, so that tokens start at 0 and stay small.
    for (let i = to - 1; i >= from; i--) {
      this.free[this.freeTop++] = i;
      this.dev[i] = -1;
    }
  }

  private grow(): void {
    const old = this.dev.length;
    const cap = old * 2;
    this.dev = grown(this.dev, cap);
    this.sentAtMs = grown(this.sentAtMs, cap);
    this.wireAtMs = grown(this.wireAtMs, cap);
    this.backlog = grown(this.backlog, cap);
    this.scheduledAtMs = grown(this.scheduledAtMs, cap);
    this.ackAtMs = grown(this.ackAtMs, cap);
    this.next = grown(this.next, cap);
    this.free = new Int32Array(cap);
    this.pushFree(old, cap);
  }
}
