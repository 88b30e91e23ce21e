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

/** Digits of a non-negative int32. */
function digits32(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : n < 1_000_000_000 ? 9 : 10;
}

const INT32_MAX = 0x7fff_ffff;

/**
 * Writes `value` with exactly `decimals` decimals (rounded half away from zero) at `at`, JSON
 * style: `null` for NaN and infinities. Returns the offset after it. The caller guarantees
 * MAX_NUMBER_BYTES of room. Values whose scaled form fits in 31 bits (every reading a device
 * sends) take an int32 path; larger ones (epoch milliseconds) the general one.
 */
export function writeFixed(buf: Uint8Array, at: number, value: number, decimals: number): number {
  if (value - value !== 0) {
    for (let i = 0; i < 4; i++) buf[at + i] = NULL_BYTES[i];
    return at + 4;
  }
  const scale = POW10[decimals];
  const negative = value < 0;
  const scaled = Math.round((negative ? -value : value) * scale);
  if (scaled > INT32_MAX) return writeFixedWide(buf, at, value, decimals, scaled, scale);
  if (negative && scaled !== 0) buf[at++] = 0x2d;
  let whole = (scaled / scale) | 0;
  let frac = scaled - whole * scale;
  const end = at + digits32(whole);
  for (let i = end - 1; i >= at; i--) {
    const q = (whole / 10) | 0;
    buf[i] = 0x30 + whole - q * 10;
    whole = q;
  }
  if (decimals === 0) return end;
  buf[end] = 0x2e;
  const stop = end + 1 + decimals;
  for (let i = stop - 1; i > end; i--) {
    const q = (frac / 10) | 0;
    buf[i] = 0x30 + frac - q * 10;
    frac = q;
  }
  return stop;
}

/** writeFixed beyond 31 bits: exact integers up to 2^53 digit by digit, then through toFixed. */
function writeFixedWide(buf: Uint8Array, at: number, value: number, decimals: number, scaled: number, scale: number): number {
  if (scaled >= Number.MAX_SAFE_INTEGER) {
    // Beyond exact integers: rare enough to pay for a string.
    const text = value.toFixed(decimals);
    for (let i = 0; i < text.length && i < MAX_NUMBER_BYTES; i++) buf[at + i] = text.charCodeAt(i);
    return at + Math.min(text.length, MAX_NUMBER_BYTES);
  }
  if (value < 0) buf[at++] = 0x2d;
  const whole = Math.floor(scaled / scale);
  at = writeUint(buf, at, whole);
  if (decimals === 0) return at;
  buf[at++] = 0x2e;
  let rest = scaled - whole * scale;
  for (let i = decimals - 1; i >= 0; i--) {
    const p = POW10[i];
    const digit = Math.floor(rest / p);
    buf[at++] = 0x30 + digit;
    rest -= digit * p;
  }
  return at;
}
