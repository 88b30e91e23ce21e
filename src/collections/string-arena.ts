/** Bytes the arena starts with. */
const INITIAL_BYTES = 4096;
/**
 * Growth when full: by a quarter, not doubled, so at most a fifth of the buffer is unused
 * (doubling left up to half: ~55 bytes per device at 19,000 devices). Copies stay amortised O(1)
 * per byte (at most 5 copies of each byte) and a grow happens only when credentials are issued.
 */
const GROWTH = 1.25;
/** Longest value kept, in UTF-8 bytes (a field's length is a Uint16). */
export const MAX_ARENA_VALUE_BYTES = 0xffff;
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Short strings kept per record as UTF-8 bytes in one shared buffer instead of one heap string
 * each: a V8 string costs a 16-byte header plus its characters rounded up to 8, and a string
 * built by concatenation is a chain of 32-byte cons cells that keeps every piece alive. A record
 * is `fields` values stored back to back; reading one makes a fresh string, so read values where
 * they are rare (a CONNECT, a provisioning request), not per message.
 *
 * Replacing a record appends it and abandons the old bytes; when the buffer is full and at least
 * half of it is abandoned bytes, it is compacted instead of grown, so renewals that replace
 * values forever keep the buffer at most twice the live bytes.
 *
 * Concurrency: one thread (the owning shard's).
 */
export class StringArena {
  private bytes: Buffer = Buffer.alloc(INITIAL_BYTES);
  /** Bytes written so far (live or abandoned). */
  private end = 0;
  /** Bytes of the records' current values. */
  private liveBytes = 0;
  private readonly start: Uint32Array;
  /** Byte length of field f of record r at r * fields + f. */
  private readonly lengths: Uint16Array;

  constructor(
    records: number,
    private readonly fields: number,
  ) {
    this.start = new Uint32Array(records);
    this.lengths = new Uint16Array(records * fields);
  }

  /**
   * True when every value can be kept exactly: at most MAX_ARENA_VALUE_BYTES of UTF-8 and no
   * UTF-16 surrogate (a lone one would not survive UTF-8; pairs are rare enough to keep as strings).
   */
  static fits(value: string): boolean {
    return !SURROGATE.test(value) && (value.length * 3 <= MAX_ARENA_VALUE_BYTES || Buffer.byteLength(value, 'utf8') <= MAX_ARENA_VALUE_BYTES);
  }

  /** Replaces record `r`'s values (`values.length` must be `fields`, each one `fits`). */
  set(r: number, values: readonly string[]): void {
    this.clear(r);
    let need = 0;
    for (let f = 0; f < this.fields; f++) need += Buffer.byteLength(values[f], 'utf8');
    if (this.end + need > this.bytes.length) this.makeRoom(need);
    this.start[r] = this.end;
    for (let f = 0; f < this.fields; f++) {
      const n = this.bytes.write(values[f], this.end, 'utf8');
      this.lengths[r * this.fields + f] = n;
      this.end += n;
    }
    this.liveBytes += need;
  }

  /** Field `f` of record `r` as a new string ('' when the record was never set or was cleared). */
  get(r: number, f: number): string {
    let at = this.start[r];
    const base = r * this.fields;
    for (let i = 0; i < f; i++) at += this.lengths[base + i];
    return this.bytes.toString('utf8', at, at + this.lengths[base + f]);
  }

  /** Forgets record `r`'s values (their bytes become abandoned). */
  clear(r: number): void {
    const base = r * this.fields;
    for (let f = 0; f < this.fields; f++) {
      this.liveBytes -= this.lengths[base + f];
      this.lengths[base + f] = 0;
    }
  }

  private makeRoom(need: number): void {
    const live = this.liveBytes + need;
    // Compact when at least half is abandoned; else grow. Either way the new values fit after.
    const compact = this.liveBytes * 2 <= this.end && live <= this.bytes.length;
    const capacity = compact ? this.bytes.length : Math.max(live, Math.ceil(this.bytes.length * GROWTH));
    const next = Buffer.alloc(capacity);
    let end = 0;
    for (let r = 0; r < this.start.length; r++) {
      const base = r * this.fields;
      let n = 0;
      for (let f = 0; f < this.fields; f++) n += this.lengths[base + f];
      if (n === 0) continue;
      this.bytes.copy(next, end, this.start[r], this.start[r] + n);
      this.start[r] = end;
      end += n;
    }
    this.bytes = next;
    this.end = end;
  }
}
