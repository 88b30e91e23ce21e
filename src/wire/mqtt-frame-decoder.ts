/**
 * Incremental MQTT frame splitter, for the lean client transport and the embedded broker. TCP delivers bytes, not frames: one read
 * may hold many frames (coalesced acks under load) or a fraction of one (a large PUBLISH, or a
 * header split across reads). Whole frames inside a read are handed to the sink in place, with no
 * copy; only the unfinished tail is copied into the connection's carry buffer, because the read
 * buffer is shared by every socket of the thread and is overwritten by the next read.
 */

/** Where the decoder keeps an unfinished frame between reads. One per connection. */
export interface FrameCarry {
  /** Bytes of the unfinished frame, or null when the last read ended on a frame boundary. */
  carry: Buffer | null;
  /** How many bytes of `carry` are filled. */
  carryLength: number;
}

export interface FrameSink {
  /**
   * One whole frame: `header` is its first byte, its body is `buf[start, end)`. The bytes are valid
   * only during the call. Return false to stop decoding (the connection was closed meanwhile).
   */
  onFrame(header: number, buf: Buffer, start: number, end: number): boolean;
}

export const FRAME_INCOMPLETE = -1;
export const FRAME_MALFORMED = -2;

/**
 * Total length (fixed header + body) of the frame starting at `buf[at]`, FRAME_INCOMPLETE when
 * `buf[at, stop)` does not yet say, or FRAME_MALFORMED when the length field runs past 4 bytes.
 */
export function frameLength(buf: Buffer, at: number, stop: number): number {
  let length = 0;
  let multiplier = 1;
  for (let p = at + 1; p < stop; p++) {
    const digit = buf[p];
    length += (digit & 0x7f) * multiplier;
    if ((digit & 0x80) === 0) return p + 1 - at + length;
    if (p - at === 4) return FRAME_MALFORMED;
    multiplier *= 128;
  }
  return stop - at >= 5 ? FRAME_MALFORMED : FRAME_INCOMPLETE;
}

/** Size of the fixed header (type byte + length varint) of a complete frame at `buf[at]`. */
function headerLength(buf: Buffer, at: number): number {
  let p = at + 1;
  while ((buf[p] & 0x80) !== 0) p++;
  return p + 1 - at;
}

/**
 * Feeds `chunk[start, end)` to the decoder. Returns false when the stream is malformed (the caller
 * must drop the connection) and true otherwise, including when the sink asked to stop.
 */
export function decodeFrames(state: FrameCarry, chunk: Buffer, start: number, end: number, sink: FrameSink): boolean {
  let at = start;
  if (state.carry !== null) {
    at = completeCarry(state, chunk, at, end, sink);
    if (at < 0) return at !== FRAME_MALFORMED;
    if (state.carry !== null) return true; // the chunk ended inside the carried frame
  }
  while (at < end) {
    const total = frameLength(chunk, at, end);
    if (total === FRAME_MALFORMED) return false;
    if (total === FRAME_INCOMPLETE || at + total > end) {
      keepTail(state, chunk, at, end, total);
      return true;
    }
    const body = at + headerLength(chunk, at);
    if (!sink.onFrame(chunk[at], chunk, body, at + total)) return true;
    at += total;
  }
  return true;
}

/** Stop signal from completeCarry when the sink asked to stop (not an error). */
const SINK_STOPPED = -3;

/**
 * Moves bytes from the chunk into the carried frame until it is whole, then delivers it. Returns
 * the chunk offset where decoding continues, or a negative code.
 */
function completeCarry(state: FrameCarry, chunk: Buffer, at: number, end: number, sink: FrameSink): number {
  let total = frameLength(state.carry!, 0, state.carryLength);
  // The header itself may be split: take one byte at a time until the length is known (<= 4 bytes).
  while (total === FRAME_INCOMPLETE && at < end) {
    append(state, chunk, at, at + 1);
    at++;
    total = frameLength(state.carry!, 0, state.carryLength);
  }
  if (total === FRAME_MALFORMED) return FRAME_MALFORMED;
  if (total === FRAME_INCOMPLETE) return at;
  const take = Math.min(end - at, total - state.carryLength);
  append(state, chunk, at, at + take);
  at += take;
  if (state.carryLength < total) return at;
  const frame = state.carry!;
  state.carry = null;
  state.carryLength = 0;
  if (!sink.onFrame(frame[0], frame, headerLength(frame, 0), total)) return SINK_STOPPED;
  return at;
}

function keepTail(state: FrameCarry, chunk: Buffer, at: number, end: number, total: number): void {
  // Size the carry for the whole frame when its length is known (up to 1 MiB; beyond that it grows
  // by doubling), so a large frame arriving in many reads is not re-grown on every read.
  state.carry = Buffer.allocUnsafe(Math.max(Math.min(total, 1 << 20), end - at, 8));
  state.carryLength = 0;
  append(state, chunk, at, end);
}

function append(state: FrameCarry, chunk: Buffer, from: number, to: number): void {
  let carry = state.carry!;
  const needed = state.carryLength + (to - from);
  if (needed > carry.length) {
    const grown = Buffer.allocUnsafe(Math.max(needed, carry.length * 2));
    carry.copy(grown, 0, 0, state.carryLength);
    state.carry = carry = grown;
  }
  chunk.copy(carry, state.carryLength, from, to);
  state.carryLength = needed;
}
