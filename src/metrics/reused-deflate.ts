import { constants, createDeflate, deflateSync, type Deflate } from 'node:zlib';

/**
 * How a timeline row's histogram encodings are deflated: Huffman coding only, no match search
 * (zlib's Z_HUFFMAN_ONLY). An encoding's payload is ZigZag LEB128 counts, mostly one-byte numbers
 * with little repetition a match could use, so the match search of zlib's default strategy was
 * most of the time and bought nothing: on histogram encodings like the bench fleet's rows,
 * Huffman-only output is 2-7 % smaller than the default's and takes about half the CPU
 * (bench/RESULTS.md, "Timeline rows deflated Huffman-only"). Any zlib inflater reads it:
 * HdrHistogram's decoders inflate whatever stream they get, and hdr-histogram-js's
 * `decodeFromCompressedBase64` gives the same histogram.
 */
export const ROW_DEFLATE_OPTIONS = { strategy: constants.Z_HUFFMAN_ONLY } as const;

/**
 * `zlib.deflateSync(input, ROW_DEFLATE_OPTIONS)` through one long-lived zlib stream: the same
 * bytes, without a new stream per call. A 24-hour run at one-minute rows deflates ~7,000 inputs
 * of ~1.4 KB; `deflateSync` builds a Transform stream and a zlib state (~256 KB of window, hash
 * chains and pending buffer) for each and frees it again, about 10 µs a call before any coding.
 *
 * Byte for byte: `deflateReset` leaves the stream as `deflateInit2` with the same parameters does
 * except for the window's old bytes, and Huffman-only coding never reads the window beyond the
 * current input (there is no match search). Under the default strategy the old bytes did change
 * the output (seen in test/unit/reused-deflate.test.ts before this strategy), which cost a second
 * pass of zeros per call to put the window back.
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
let usable = true;

/** What deflateSync(input, ROW_DEFLATE_OPTIONS) returns. */
export function deflateRowEncoding(input: Uint8Array): Buffer {
  if (!usable || input.byteLength > MAX_INPUT) return deflateSync(input, ROW_DEFLATE_OPTIONS);
  if (stream === undefined) {
    stream = createDeflate(ROW_DEFLATE_OPTIONS) as OpenDeflate;
    if (typeof stream._handle?.writeSync !== 'function' || !(stream._writeState instanceof Uint32Array)) {
      usable = false;
      stream.close();
      stream = undefined;
      return deflateSync(input, ROW_DEFLATE_OPTIONS);
    }
    out ??= Buffer.allocUnsafe(OUT_BYTES);
  }
  const s = stream;
  const buf = out!;
  if (!finish(s, input, buf)) {
    // An error closed the handle (or the output did not fit): start over with a new stream.
    s.close();
    stream = undefined;
    return deflateSync(input, ROW_DEFLATE_OPTIONS);
  }
  return Buffer.from(buf.subarray(0, OUT_BYTES - s._writeState![0]));
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
