import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';
import { decodeHistogram, encodeHistogram, histogramStats, type Histogram } from '../../src/metrics/histogram.js';

/**
 * Asserts that `encoded` (a timeline row's histogram) is the library histogram `lib`, encoded: the
 * same 8-byte frame cookie, the same V2 encoding once inflated (header and counts, byte for byte),
 * and decoding it with hdr-histogram-js gives a histogram the library encodes exactly as it
 * encodes `lib`. Only the deflate stream may differ (rows are deflated Huffman-only).
 */
export function expectEncodingOf(encoded: string, lib: Histogram): void {
  const mine = Buffer.from(encoded, 'base64');
  const theirs = Buffer.from(encodeHistogram(lib), 'base64');
  expect(mine.readInt32BE(0)).toBe(theirs.readInt32BE(0));
  expect(mine.readInt32BE(4)).toBe(mine.length - 8);
  expect(Buffer.compare(inflateSync(mine.subarray(8)), inflateSync(theirs.subarray(8)))).toBe(0);
  const decoded = decodeHistogram(encoded);
  expect(decoded.totalCount).toBe(lib.totalCount);
  expect(histogramStats(decoded)).toEqual(histogramStats(lib));
  expect(encodeHistogram(decoded)).toBe(encodeHistogram(lib));
}
