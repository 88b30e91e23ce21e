/**
 * A binary min-heap of (time, device, kind) events on typed arrays. Ties on time break on an
 * insertion sequence number, so the pop order is fully deterministic: the virtual clock relies on
 * that for bit-identical runs. No object is allocated per event; the arrays double when full.
 */
export class EventHeap {
  private times: Float64Array;
  private seqs: Float64Array;
  private devs: Int32Array;
  private kinds: Uint8Array;
  private n = 0;
  private nextSeq = 0;

  constructor(initialCapacity = 1024) {
    const cap = Math.max(16, initialCapacity);
    this.times = new Float64Array(cap);
    this.seqs = new Float64Array(cap);
    this.devs = new Int32Array(cap);
    this.kinds = new Uint8Array(cap);
  }

  get size(): number {
    return this.n;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.times[0] : Infinity;
  }

  push(time: number, dev: number, kind: number): void {
    if (this.n === this.times.length) this.grow();
    let i = this.n++;
    const seq = this.nextSeq++;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(time, seq, this.times[parent], this.seqs[parent])) break;
      this.move(parent, i);
      i = parent;
    }
    this.times[i] = time;
    this.seqs[i] = seq;
    this.devs[i] = dev;
    this.kinds[i] = kind;
  }

  /**
   * Removes the earliest event. Read it first with `topDev()`/`topKind()`/`peekTime()`; pop
   * returns nothing so that the hot loop allocates nothing.
   */
  pop(): void {
    const last = --this.n;
    if (last === 0) return;
    const time = this.times[last];
    const seq = this.seqs[last];
    const dev = this.devs[last];
    const kind = this.kinds[last];
    let i = 0;
    const half = last >> 1;
    while (i < half) {
      let child = 2 * i + 1;
      const right = child + 1;
      if (right < last && this.less(this.times[right], this.seqs[right], this.times[child], this.seqs[child])) child = right;
      if (!this.less(this.times[child], this.seqs[child], time, seq)) break;
      this.move(child, i);
      i = child;
    }
    this.times[i] = time;
    this.seqs[i] = seq;
    this.devs[i] = dev;
    this.kinds[i] = kind;
  }

  topDev(): number {
    return this.devs[0];
  }

  topKind(): number {
    return this.kinds[0];
  }

  clear(): void {
    this.n = 0;
  }

  private less(t1: number, s1: number, t2: number, s2: number): boolean {
    return t1 < t2 || (t1 === t2 && s1 < s2);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from];
    this.seqs[to] = this.seqs[from];
    this.devs[to] = this.devs[from];
    this.kinds[to] = this.kinds[from];
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const t = new Float64Array(cap);
    t.set(this.times);
    this.times = t;
    const s = new Float64Array(cap);
    s.set(this.seqs);
    this.seqs = s;
    const d = new Int32Array(cap);
    d.set(this.devs);
    this.devs = d;
    const k = new Uint8Array(cap);
    k.set(this.kinds);
    this.kinds = k;
  }
}
