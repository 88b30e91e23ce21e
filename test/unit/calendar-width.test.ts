import { describe, expect, it } from 'vitest';
import { BucketWidthPolicy, NARROW_AFTER } from '../../src/engine/clock/calendar-width.js';

/** The width `policy` picks after `turns` turns that popped `perTurn` events each, none beyond the ring. */
function after(policy: BucketWidthPolicy, width: number, turns: number, perTurn: number, popsSoFar = 0): number {
  const pops = popsSoFar + turns * perTurn;
  return policy.decide(width, turns, pops, 0, pops);
}

describe('BucketWidthPolicy', () => {
  it('narrows a bucket that is k halvings too full in one step, not one halving per look', () => {
    // ~2,000 events per 1,024 ms turn (a power-on burst): two halvings bring it under 512 per turn.
    // One halving per look re-bucketed every pending event twice (bench/RESULTS.md, round 21).
    expect(after(new BucketWidthPolicy(), 1024, NARROW_AFTER, 2_000)).toBe(256);
    expect(after(new BucketWidthPolicy(), 1024, NARROW_AFTER, 513)).toBe(512);
    expect(after(new BucketWidthPolicy(), 1024, NARROW_AFTER, 40_000)).toBe(8);
  });

  it('waits for NARROW_AFTER turns before it judges, however full they are', () => {
    expect(after(new BucketWidthPolicy(), 1024, NARROW_AFTER - 1, 40_000)).toBe(-1);
  });

  it('keeps the width while a turn holds at most 512 events, and waits for more turns before widening', () => {
    expect(after(new BucketWidthPolicy(), 1024, NARROW_AFTER, 512)).toBe(-1);
    expect(after(new BucketWidthPolicy(), 1024, 256, 100)).toBe(1024);
    expect(after(new BucketWidthPolicy(), 1024, 256, 10)).toBe(2048);
  });

  it('never narrows below a width it had to widen from because too much went beyond the ring', () => {
    const policy = new BucketWidthPolicy();
    // A quarter of the pushes beyond the ring at 64 ms: it doubles to 128 and 128 becomes the floor.
    expect(policy.decide(64, 256, 256 * 100, 256 * 25, 256 * 100)).toBe(128);
    // However full the turns get now, it does not narrow (-1: no change, keep counting).
    expect(after(policy, 128, NARROW_AFTER, 50_000, 256 * 100)).toBe(-1);
    // A fresh policy at the same width and load would have gone down to 1 ms.
    expect(after(new BucketWidthPolicy(), 128, NARROW_AFTER, 50_000)).toBe(1);
  });
});
