import { constants, createDeflate, deflateSync, type Deflate } from 'node:zlib';

/**
 * `zlib.deflateSync(input)` (default options) through one long-lived zlib stream: the same bytes,
 * without a new stream per call. A timeline row deflates a few histogram encodings of ~1 KB;
 * `deflateSync` builds a Transform stream and a zlib state (~256 KB of window, hash chains and
 * pending buffer) for each and frees them again, which cost more than the compression itself
 * (bench/RESULTS.md, "the coordinator's per-row CPU").
 *
 * Byte for byte: `deflateReset` leaves the stream as `deflateInit2` with the same parameters does
 * except for the window's old bytes. zlib zeroes the bytes just past new input only up to the
 * highest point the window has reached (`high_water`), and its match search may read those bytes
 * (a match found there is cut back to the input's end, but it can win over another candidate):
 * after a longer input the stale bytes changed the output (seen in test/unit/reused-deflate.test.ts).
 * So every call puts back the window a fresh stream has: after the input, it deflates as many
 * zero bytes (output discarded), which leaves zeros wherever the input was, and the window holds
 * only zeros between calls.
 *
 * Node's synchronous zlib has no public call that keeps a stream open (`deflateSync` and
 * `_processChunk` close it after Z_FINISH), so this writes through the stream's handle as
 * `processChunkSync` does (`_handle.writeSync`, `_writeState`). Where those are missing, the
 * handle was closed by an error, or an input is larger than the buffers, it uses `deflateSync`.
 * One stream per thread (module state); calls are synchronous and never overlap.
 */
interface DeflateHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}
type OpenDeflate = Deflate & { _handle?: DeflateHandle | null; _writeState?: Uint32Array };

/** Largest input deflated on the reused stream (larger ones go to deflateSync): a row's histogram is a few KB. */
const MAX_INPUT = 32 * 1024;
/** Output room: deflate's worst case for MAX_INPUT bytes is MAX_INPUT + 5 per 16 KB block + 6. */
const OUT_BYTES = MAX_INPUT + 1024;

let stream: OpenDeflate | undefined;
let out: Buffer | undefined;
let zeros: Uint8Array | undefined;
let usable = true;

/** What deflateSync(input) returns. */
export function deflateReused(input: Uint8Array): Buffer {
  if (!usable || input.byteLength > MAX_INPUT) return deflateSync(input);
  if (stream === undefined) {
    stream = createDeflate() as OpenDeflate;
    if (typeof stream._handle?.writeSync !== 'function' || !(stream._writeState instanceof Uint32Array)) {
      usable = false;
      stream.close();
      stream = undefined;
      return deflateSync(input);
    }
    out ??= Buffer.allocUnsafe(OUT_BYTES);
    zeros ??= new Uint8Array(MAX_INPUT);
  }
  const s = stream;
  const buf = out!;
  if (!finish(s, input, buf)) {
    // An error closed the handle (or the output did not fit): start over with a new stream.
    s.close();
    stream = undefined;
    return deflateSync(input);
  }
  const result = Buffer.from(buf.subarray(0, OUT_BYTES - s._writeState![0]));
  // Zeros where the input was: the next call finds the window a fresh stream has.
  if (!finish(s, zeros!.subarray(0, input.byteLength), buf)) {
    s.close();
    stream = undefined;
  }
  return result;
}

/** One whole deflate stream of `input` into `buf` (Z_FINISH), then deflateReset; false if it did not end. */
function finish(s: OpenDeflate, input: Uint8Array, buf: Buffer): boolean {
  const handle = s._handle;
  if (!handle) return false;
  handle.writeSync(constants.Z_FINISH, input, 0, input.byteLength, buf, 0, OUT_BYTES);
  if (!s._handle) return false;
  const [availOut, availIn] = s._writeState!;
  s.reset();
  // All input consumed with room left over: the stream ended within this call (Z_STREAM_END).
  return availIn === 0 && availOut > 0;
}
