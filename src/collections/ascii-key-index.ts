/** Bytes the key arena starts with; it and the per-key arrays grow by a quarter when full (keys are only ever added). */
const INITIAL_ARENA_BYTES = 4096;
/** Slots of the hash table at first (a power of two); doubled when more than half are used. */
const INITIAL_SLOTS = 1024;
/** Longest key, in bytes (a key's length is a Uint16). */
export const MAX_ASCII_KEY_BYTES = 0xffff;

/**
 * Numbers short ASCII keys (device ids) 0, 1, 2, … in the order they are added, and finds a key's
 * number from a string or straight from bytes (a topic inside a read buffer) without making a
 * string. The keys live back to back in one byte arena and the table is open addressing over an
 * Int32Array, so a key costs its bytes plus ~14 bytes of index, not a Map entry and a heap string
 * each (~0.1 KiB; heap snapshot in bench/RESULTS.md, "Coordinator per telemetry message and per
 * device"). Keys are never removed.
 *
 * Only ASCII keys (code points < 0x80) can be added; a lookup with anything else finds nothing.
 *
 * Concurrency: one thread (the owner's event loop); lookups run to completion.
 */
export class AsciiKeyIndex {
  private arena: Buffer = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
  private arenaEnd = 0;
  private starts = new Uint32Array(64);
  private lengths = new Uint16Array(64);
  /** Key number + 1 per slot, 0 when empty. */
  private slots = new Int32Array(INITIAL_SLOTS);
  private count = 0;
  /** Where `find` spells a string's bytes to look them up (ASCII: one byte per char). */
  private scratch = Buffer.allocUnsafe(256);

  get size(): number {
    return this.count;
  }

  /** True when `key` can be added: ASCII only, 1 to MAX_ASCII_KEY_BYTES long. */
  static fits(key: string): boolean {
    if (key.length === 0 || key.length > MAX_ASCII_KEY_BYTES) return false;
    for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) return false;
    return true;
  }

  /** The number of `key`, or -1. */
  find(key: string): number {
    const n = key.length;
    for (let i = 0; i < n; i++) if (key.charCodeAt(i) > 0x7f) return -1;
    if (n > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(n, this.scratch.length * 2));
    this.scratch.write(key, 0, 'latin1');
    return this.findBytes(this.scratch, 0, n);
  }

  /** The number of the key spelled by `buf[start, end)`, or -1. */
  findBytes(buf: Uint8Array, start: number, end: number): number {
    const n = end - start;
    const h = hashBytes(buf, start, end);
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const k = this.slots[s] - 1;
      if (k < 0) return -1;
      if (this.lengths[k] !== n) continue;
      const at = this.starts[k];
      let i = 0;
      while (i < n && this.arena[at + i] === buf[start + i]) i++;
      if (i === n) return k;
    }
  }

  /** Adds `key` (which must `fit` and not be present yet) and returns its number. */
  add(key: string): number {
    const k = this.count;
    if (k === this.starts.length) this.growKeys();
    if (this.arenaEnd + key.length > this.arena.length) this.growArena(key.length);
    const at = this.arenaEnd;
    this.arena.write(key, at, 'latin1');
    this.arenaEnd += key.length;
    this.starts[k] = at;
    this.lengths[k] = key.length;
    this.count++;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(k);
    return k;
  }

  /** Key number `k` as a new string. */
  keyOf(k: number): string {
    const at = this.starts[k];
    return this.arena.toString('latin1', at, at + this.lengths[k]);
  }

  private place(k: number): void {
    const at = this.starts[k];
    const mask = this.slots.length - 1;
    let s = hashBytes(this.arena, at, at + this.lengths[k]) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = k + 1;
  }

  private rehash(slots: number): void {
    this.slots = new Int32Array(slots);
    for (let k = 0; k < this.count; k++) this.place(k);
  }

  private growKeys(): void {
    const cap = Math.ceil(this.starts.length * 1.25);
    const starts = new Uint32Array(cap);
    starts.set(this.starts);
    const lengths = new Uint16Array(cap);
    lengths.set(this.lengths);
    this.starts = starts;
    this.lengths = lengths;
  }

  private growArena(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.arenaEnd + need, Math.ceil(this.arena.length * 1.25)));
    this.arena.copy(next, 0, 0, this.arenaEnd);
    this.arena = next;
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over bytes, the same value `find` computes over a string's char codes. */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], FNV_PRIME);
  return mix(h);
}

/** Spreads every bit of `h` into the low bits the table masks (sequential serials differ only in their last bytes). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
