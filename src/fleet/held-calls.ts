import { grown } from '../collections/grown.js';

/**
 * Driver calls and driver answers held on a device's modelled link until they are due
 * (fleet/linked-driver.ts): pooled slots in typed arrays, a short unsorted list per device (a
 * device has a handful at most: a request, an answer, a report), no object per call. `ref` keeps
 * the call's one object argument (an artifact, a report, an offer), which the caller already owns.
 * Concurrency: the shard's thread only.
 */
export class HeldCalls {
  private at = new Float64Array(64);
  private op = new Uint8Array(64);
  private status = new Int32Array(64);
  private a = new Float64Array(64);
  private b = new Float64Array(64);
  private next = new Int32Array(64);
  private readonly ref: unknown[] = [];
  private readonly free: number[] = [];
  private used = 0;
  private readonly head: Int32Array;

  constructor(count: number) {
    this.head = new Int32Array(count).fill(-1);
  }

  /** Holds call `op` of `dev` until `at`, appended behind the device's earlier ones (same-time calls keep their order). */
  hold(dev: number, at: number, op: number, status: number, a: number, b: number, ref: unknown): void {
    let n: number;
    if (this.free.length > 0) n = this.free.pop()!;
    else {
      if (this.used === this.at.length) this.grow();
      n = this.used++;
    }
    this.at[n] = at;
    this.op[n] = op;
    this.status[n] = status;
    this.a[n] = a;
    this.b[n] = b;
    this.ref[n] = ref;
    this.next[n] = -1;
    let last = this.head[dev];
    if (last < 0) this.head[dev] = n;
    else {
      while (this.next[last] >= 0) last = this.next[last];
      this.next[last] = n;
    }
  }

  /** The device's first call due at `now` (in the order held), unlinked from its list; -1 when none. Read it, then `free` it. */
  takeDue(dev: number, now: number): number {
    let prev = -1;
    for (let n = this.head[dev]; n >= 0; prev = n, n = this.next[n]) {
      if (this.at[n] > now) continue;
      if (prev < 0) this.head[dev] = this.next[n];
      else this.next[prev] = this.next[n];
      return n;
    }
    return -1;
  }

  /** Drops the device's held calls whose op's bit (1 << op) is set in `mask`; returns how many. */
  dropOps(dev: number, mask: number): number {
    let prev = -1;
    let dropped = 0;
    for (let n = this.head[dev]; n >= 0; ) {
      const nx = this.next[n];
      if ((mask & (1 << this.op[n])) !== 0) {
        if (prev < 0) this.head[dev] = nx;
        else this.next[prev] = nx;
        this.release(n);
        dropped++;
      } else prev = n;
      n = nx;
    }
    return dropped;
  }

  /** The device's first held call of `op`, unlinked from its list; -1 when none. Read it, then `release` it. */
  takeOp(dev: number, op: number): number {
    let prev = -1;
    for (let n = this.head[dev]; n >= 0; prev = n, n = this.next[n]) {
      if (this.op[n] !== op) continue;
      if (prev < 0) this.head[dev] = this.next[n];
      else this.next[prev] = this.next[n];
      return n;
    }
    return -1;
  }

  /** The device's held call of `op`, or -1. */
  find(dev: number, op: number): number {
    for (let n = this.head[dev]; n >= 0; n = this.next[n]) if (this.op[n] === op) return n;
    return -1;
  }

  atOf(n: number): number {
    return this.at[n];
  }
  opOf(n: number): number {
    return this.op[n];
  }
  statusOf(n: number): number {
    return this.status[n];
  }
  setStatus(n: number, status: number): void {
    this.status[n] = status;
  }
  aOf(n: number): number {
    return this.a[n];
  }
  bOf(n: number): number {
    return this.b[n];
  }
  refOf(n: number): unknown {
    return this.ref[n];
  }

  release(n: number): void {
    this.ref[n] = undefined;
    this.free.push(n);
  }

  private grow(): void {
    const cap = this.at.length * 2;
    this.at = grown(this.at, cap);
    this.op = grown(this.op, cap);
    this.status = grown(this.status, cap);
    this.a = grown(this.a, cap);
    this.b = grown(this.b, cap);
    this.next = grown(this.next, cap);
  }
}
