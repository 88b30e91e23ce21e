/**
 * Writes numbers as ASCII digits straight into a buffer: the template filler's hot path, where
 * `toFixed` would allocate a string per field per message.
 */

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];
/** Largest decimals a field may ask for (POW10 covers them). */
export const MAX_DECIMALS = POW10.length - 1;
const NULL_BYTES = [0x6e, 0x75, 0x6c, 0x6c];

/** Bytes an unsigned integer needs. */
function digitCount(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes a non-negative integer below 2^53 at `at`; returns the offset after it. */
function writeUint(buf: Uint8Array, at: number, n: number): number {
  const end = at + digitCount(n);
  let i = end;
  do {
    const q = Math.floor(n / 10);
    buf[--i] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}

/** Most bytes `writeFixed` can write (sign, 16 integer digits, point, decimals); longer values go through toFixed. */
export const MAX_NUMBER_BYTES = 32;

/**
 * Writes `value` with exactly `decimals` decimals (rounded half away from zero) at `at`, JSON
 * style: `null` for NaN and infinities. Returns the offset after it. The caller guarantees
 * MAX_NUMBER_BYTES of room.
 */
export function writeFixed(buf: Uint8Array, at: number, value: number, decimals: number): number {
  if (!Number.isFinite(value)) {
    for (let i = 0; i < 4; i++) buf[at + i] = NULL_BYTES[i];
    return at + 4;
  }
  const scale = POW10[decimals];
  let scaled = Math.round(Math.abs(value) * scale);
  if (scaled >= Number.MAX_SAFE_INTEGER) {
    // Beyond exact integers: rare enough to pay for a string.
    const text = value.toFixed(decimals);
    for (let i = 0; i < text.length && i < MAX_NUMBER_BYTES; i++) buf[at + i] = text.charCodeAt(i);
    return at + Math.min(text.length, MAX_NUMBER_BYTES);
  }
  if (scaled === 0) {
    buf[at++] = 0x30;
  } else if (value < 0) {
    buf[at++] = 0x2d;
  }
  if (scaled === 0) {
    if (decimals === 0) return at;
    buf[at++] = 0x2e;
    for (let i = 0; i < decimals; i++) buf[at++] = 0x30;
    return at;
  }
  const whole = Math.floor(scaled / scale);
  at = writeUint(buf, at, whole);
  if (decimals === 0) return at;
  buf[at++] = 0x2e;
  scaled -= whole * scale;
  // Fraction digits, leading zeros included.
  for (let i = decimals - 1; i >= 0; i--) {
    const p = POW10[i];
    const digit = Math.floor(scaled / p);
    buf[at++] = 0x30 + digit;
    scaled -= digit * p;
  }
  return at;
}
