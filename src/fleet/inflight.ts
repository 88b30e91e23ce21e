/**
 * QoS 1 messages in flight, for all devices of a shard, in typed arrays. A slot's index is the
 * token handed to the driver, so an ack finds its send time in O(1). Slots of one device form a
 * doubly linked list so that a lost session fails exactly that device's messages in O(its
 * messages). Free slots are kept on a stack; capacity doubles when needed.
 */
export class InflightTable {
  private dev: Int32Array;
  private seq: Uint32Array;
  private sentAtMs: Float64Array;
  private scheduledAtMs: Float64Array;
  private next: Int32Array;
  private prev: Int32Array;
  private free: Int32Array;
  private freeTop = 0;
  private readonly head: Int32Array;
  private count = 0;

  constructor(devices: number, initialCapacity = 1024) {
    this.head = new Int32Array(devices).fill(-1);
    const cap = Math.max(16, initialCapacity);
    this.dev = new Int32Array(cap);
    this.seq = new Uint32Array(cap);
    this.sentAtMs = new Float64Array(cap);
    this.scheduledAtMs = new Float64Array(cap);
    this.next = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.free = new Int32Array(cap);
    this.pushFree(0, cap);
  }

  get size(): number {
    return this.count;
  }

  /** Opens a slot and returns its token. */
  open(dev: number, seq: number, scheduledAtMs: number, sentAtMs: number): number {
    if (this.freeTop === 0) this.grow();
    const slot = this.free[--this.freeTop];
    this.dev[slot] = dev;
    this.seq[slot] = seq;
    this.scheduledAtMs[slot] = scheduledAtMs;
    this.sentAtMs[slot] = sentAtMs;
    const h = this.head[dev];
    this.next[slot] = h;
    this.prev[slot] = -1;
    if (h >= 0) this.prev[h] = slot;
    this.head[dev] = slot;
    this.count++;
    return slot;
  }

  /** True when `token` is open and belongs to `dev` (acks for failed slots are ignored). */
  isOpen(token: number, dev: number): boolean {
    return token >= 0 && token < this.dev.length && this.dev[token] === dev;
  }

  /** True when `dev` has a message in flight. */
  hasAny(dev: number): boolean {
    return this.head[dev] >= 0;
  }

  sentAt(token: number): number {
    return this.sentAtMs[token];
  }

  scheduledAt(token: number): number {
    return this.scheduledAtMs[token];
  }

  close(token: number): void {
    const dev = this.dev[token];
    const n = this.next[token];
    const p = this.prev[token];
    if (p >= 0) this.next[p] = n;
    else this.head[dev] = n;
    if (n >= 0) this.prev[n] = p;
    this.dev[token] = -1;
    this.free[this.freeTop++] = token;
    this.count--;
  }

  /** Closes every slot of `dev`; returns how many there were. */
  closeAllOf(dev: number): number {
    let closed = 0;
    let s = this.head[dev];
    while (s >= 0) {
      const n = this.next[s];
      this.dev[s] = -1;
      this.free[this.freeTop++] = s;
      closed++;
      s = n;
    }
    this.head[dev] = -1;
    this.count -= closed;
    return closed;
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
    const g = <T extends Int32Array | Uint32Array | Float64Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(cap);
      b.set(a);
      return b;
    };
    this.dev = g(this.dev, Int32Array);
    this.seq = g(this.seq, Uint32Array);
    this.sentAtMs = g(this.sentAtMs, Float64Array);
    this.scheduledAtMs = g(this.scheduledAtMs, Float64Array);
    this.next = g(this.next, Int32Array);
    this.prev = g(this.prev, Int32Array);
    this.free = new Int32Array(cap);
    this.pushFree(old, cap);
  }
}
