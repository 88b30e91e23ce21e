import { describe, expect, it } from 'vitest';
import { ascending, ascendingSum } from '../../src/collections/ascending.js';
import { uniform } from '../../src/models/rng.js';

describe('ascending sums (per-device totals that must not depend on the shard layout)', () => {
  // Magnitudes spread over 12 decades, so that the order of the additions shows in the last bits.
  const values = Array.from({ length: 10_000 }, (_, i) => uniform(5, i, 1, 0) * 10 ** Math.floor(uniform(5, i, 2, 0) * 12));

  it('gives the same bits whatever order the values came in (two shards in either order, or one)', () => {
    const sum = ascendingSum(values);
    const half = values.length / 2;
    const swapped = [...values.slice(half), ...values.slice(0, half)];
    const interleaved = values.map((_, i) => values[(i * 7919) % values.length]);
    expect(ascendingSum(swapped)).toBe(sum);
    expect(ascendingSum(Float64Array.from(interleaved))).toBe(sum);
    // It is order-sensitive at all: the naive left-to-right sums of the two orders differ.
    const naive = (a: number[]) => a.reduce((s, v) => s + v, 0);
    expect(naive(swapped)).not.toBe(naive(values));
  });

  it('is the sum of the values in ascending numeric order, and leaves its input as it was', () => {
    const input = Float64Array.of(3, -1, 2.5, 0, 10);
    expect(Array.from(ascending(input))).toEqual([-1, 0, 2.5, 3, 10]);
    expect(ascendingSum(input)).toBe(-1 + 0 + 2.5 + 3 + 10);
    expect(Array.from(input)).toEqual([3, -1, 2.5, 0, 10]);
  });
});
