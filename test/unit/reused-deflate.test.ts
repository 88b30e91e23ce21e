import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflateRowEncoding, ROW_DEFLATE_OPTIONS } from '../../src/metrics/reused-deflate.js';
import { uniform } from '../../src/models/rng.js';

/** A fresh stream's deflate with the row options: what a reused stream must give. */
const fresh = (input: Uint8Array): Buffer => deflateSync(input, ROW_DEFLATE_OPTIONS);

/** Bytes like a histogram's encoding: mostly small numbers, runs of one value, some noise. */
function payload(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const u = uniform(seed, i, 0, 0);
    out[i] = u < 0.4 ? 0 : u < 0.7 ? 2 : Math.floor(uniform(seed, i, 1, 0) * 256);
  }
  return out;
}

describe('deflateRowEncoding', () => {
  it('gives deflateSync’s bytes (same options) call after call, whatever came before', () => {
    // Lengths from empty to larger than the stream's output room (the fallback), interleaved so
    // that each call follows a different one: a reset that left state behind would show.
    const lengths = [0, 1, 40, 1_200, 7, 30_000, 3_000, 200_000, 90, 16_384, 1, 40_000, 2_000];
    for (let round = 0; round < 3; round++) {
      for (const [k, n] of lengths.entries()) {
        const input = payload(round * 100 + k, n);
        const mine = deflateRowEncoding(input);
        expect(Buffer.compare(mine, fresh(input))).toBe(0);
        expect(Buffer.compare(inflateSync(mine), Buffer.from(input))).toBe(0);
      }
    }
  });

  it('returns a buffer of its own: a later call does not change an earlier result', () => {
    const a = deflateRowEncoding(payload(1, 500));
    const copy = Buffer.from(a);
    deflateRowEncoding(payload(2, 500));
    expect(Buffer.compare(a, copy)).toBe(0);
  });

  it('accepts a view into a larger buffer (a Writer’s bytes, subarray)', () => {
    const whole = payload(3, 4_000);
    const view = whole.subarray(100, 2_100);
    expect(Buffer.compare(deflateRowEncoding(view), fresh(view))).toBe(0);
  });
});

describe('deflateRowEncoding on histogram-sized inputs', () => {
  it('matches deflateSync (same options) on 3,000 inputs of random length in random order', () => {
    for (let k = 0; k < 3_000; k++) {
      const n = Math.floor(uniform(77, k, 2, 0) * (uniform(77, k, 3, 0) < 0.1 ? 20_000 : 3_000));
      const input = payload(1_000 + k, n);
      expect(Buffer.compare(deflateRowEncoding(input), fresh(input))).toBe(0);
    }
  });
});

describe('the row deflate strategy', () => {
  it('is Huffman coding only: no smaller for a long repeat, where a match search would shrink it', () => {
    // 4 KB of one repeated 64-byte pattern: the default strategy's matches take it to a few dozen
    // bytes; Huffman coding alone still spends bits on every byte.
    const pattern = payload(9, 64);
    const input = new Uint8Array(4_096);
    for (let i = 0; i < input.length; i++) input[i] = pattern[i % 64];
    const mine = deflateRowEncoding(input);
    expect(deflateSync(input).length).toBeLessThan(100);
    expect(mine.length).toBeGreaterThan(1_000);
    expect(Buffer.compare(inflateSync(mine), Buffer.from(input))).toBe(0);
  });
});
