import { describe, expect, it } from 'vitest';
import { CalendarQueue } from '../../src/engine/clock/calendar-queue.js';
import { EventHeap } from '../../src/engine/clock/event-heap.js';
import { uniform } from '../../src/models/rng.js';

type Queue = Pick<CalendarQueue, 'push' | 'pop' | 'peekTime' | 'topDev' | 'topKind' | 'size'>;

/**
 * A discrete-event run driven by `next(i, t)` (the follow-up delay of the i-th popped event, or
 * -1 for none), on any queue: returns the pop sequence. The calendar queue must give exactly the
 * heap's sequence, since the heap's (time, seq) order is the reference.
 */
function simulate(q: Queue, seeds: number, next: (i: number, t: number) => number, maxPops = 200_000): Array<[number, number, number]> {
  for (let d = 0; d < seeds; d++) q.push(Math.floor(uniform(3, d, 1, 0) * 1000), d, d & 0xff);
  const out: Array<[number, number, number]> = [];
  let i = 0;
  while (q.size > 0 && i < maxPops) {
    const t = q.peekTime();
    const dev = q.topDev();
    out.push([t, dev, q.topKind()]);
    q.pop();
    const dt = next(i++, t);
    if (dt >= 0) q.push(t + dt, dev, (dev + i) & 0xff);
  }
  return out;
}

function sameAsHeap(seeds: number, next: (i: number, t: number) => number, maxPops?: number, expectedEvents = 0): CalendarQueue {
  const cal = new CalendarQueue(expectedEvents);
  const got = simulate(cal, seeds, next, maxPops);
  const want = simulate(new EventHeap(16), seeds, next, maxPops);
  expect(got.length).toBe(want.length);
  // Compare in one go (a failing toEqual on 10^5 rows is unreadable): first divergence.
  const at = got.findIndex((g, k) => g[0] !== want[k][0] || g[1] !== want[k][1] || g[2] !== want[k][2]);
  expect(at, at >= 0 ? `diverges at pop ${at}: ${got[at]} vs ${want[at]}` : '').toBe(-1);
  return cal;
}

const u = (i: number, s = 1) => uniform(11, i, s, 0);

describe('CalendarQueue', () => {
  it('breaks ties in insertion order, in the current bucket and in later ones', () => {
    const q = new CalendarQueue();
    // Same time, pushed out of device order, some in bucket 0 and some far ahead.
    for (const [t, d] of [[5, 3], [5, 1], [3_000, 9], [5, 2], [3_000, 4], [1e9, 7], [1e9, 6], [3_000, 8]]) q.push(t, d, 1);
    const order: number[] = [];
    while (q.size > 0) {
      q.peekTime();
      order.push(q.topDev());
      q.pop();
    }
    expect(order).toEqual([3, 1, 2, 9, 4, 8, 7, 6]);
    expect(q.peekTime()).toBe(Infinity);
  });

  it('matches the heap with events pushed into the bucket being drained (acks a few ms later)', () => {
    sameAsHeap(500, (i) => (i % 3 === 0 ? 900_000 * (0.9 + 0.2 * u(i)) : i % 3 === 1 ? 8 * u(i, 2) : 0), 60_000);
  });

  it('matches the heap with far-future events (beyond the ring) mixed with near ones', () => {
    // Up-times of hours to years next to millisecond follow-ups: the far heap and migration work.
    sameAsHeap(300, (i) => (i % 4 === 0 ? -Math.log(1 - u(i)) * 3.6e6 * 24 * 365 : i % 4 === 1 ? 2e8 * u(i) : 15 * u(i, 3)), 60_000);
  });

  it('matches the heap with coarse times (many exact ties) and zero delays', () => {
    sameAsHeap(2_000, (i) => Math.floor(u(i) * 4) * 1000, 50_000);
  });

  it('narrows its buckets under a dense load and widens them under a sparse one, order unchanged', () => {
    // 1,000 devices each every ~25 ms: ~40k events per 1,024 ms bucket, far above HIGH.
    const dense = sameAsHeap(1_000, (i) => 20 + 10 * u(i), 200_000);
    expect(dense.bucketWidthMs).toBeLessThan(1024);
    // 3 devices every ~10 minutes: a few events per thousands of buckets.
    const sparse = sameAsHeap(3, (i) => 600_000 * (0.5 + u(i)), 3_000);
    expect(sparse.bucketWidthMs).toBeGreaterThan(1024);
  });

  it('after a dense phase narrowed the buckets, widens them until the ring spans the report interval', () => {
    // 1,000 chatty devices every 10 ms for 10 s narrow the buckets to 4 ms. Then 500k devices
    // report every 15 min ± 10%, each report followed by 3 quick events: judged by the events per
    // bucket alone the width settles at 8 ms, a ring of 8.7 minutes, and every report goes through
    // the far heap; the far share must widen it to span 16.5 minutes.
    const q = new CalendarQueue();
    for (let d = 0; d < 1_000; d++) q.push(u(d, 4) * 10, d, 1);
    for (let d = 1_000; d < 501_000; d++) q.push(u(d) * 900_000, d, 4);
    let last = -Infinity;
    let ordered = true;
    let i = 0;
    while (q.peekTime() < 60_000) {
      const t = q.peekTime();
      if (t < last) ordered = false;
      last = t;
      const dev = q.topDev();
      const kind = q.topKind();
      q.pop();
      if (kind === 1 && t < 10_000) q.push(t + 10, dev, 1);
      if (kind !== 4) continue;
      q.push(t + 900_000 * (0.9 + 0.2 * u(i++, 2)), dev, 4);
      for (let k = 0; k < 3; k++) q.push(t + 50 * u(i++, 3), dev, 5);
    }
    expect(ordered).toBe(true);
    expect(q.bucketWidthMs * 65_536).toBeGreaterThan(990_000);
  });

  it('grows its node pool and survives clear()', () => {
    const q = new CalendarQueue();
    for (let i = 0; i < 50_000; i++) q.push(2_000 + u(i) * 1e7, i, 4);
    expect(q.size).toBe(50_000);
    let last = -Infinity;
    for (let i = 0; i < 25_000; i++) {
      const t = q.peekTime();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
      q.pop();
    }
    q.clear();
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
    q.push(last + 1, 42, 7);
    expect(q.peekTime()).toBe(last + 1);
    expect(q.topDev()).toBe(42);
    expect(q.topKind()).toBe(7);
  });

  it('pops the same order whether sized for its events up front, for too few, or for far more', () => {
    // 30,000 pending events at once, each re-queued 0-40 s later: the block store holds ~10^4 blocks.
    const next = (i: number) => (i < 150_000 ? u(i, 2) * 40_000 : -1);
    for (const expected of [0, 100, 30_000, 5_000_000]) sameAsHeap(30_000, next, undefined, expected);
  });

  it('never delivers events at an infinite time', () => {
    const q = new CalendarQueue();
    q.push(Infinity, 1, 1);
    q.push(10, 2, 1);
    expect(q.peekTime()).toBe(10);
    q.pop();
    expect(q.peekTime()).toBe(Infinity);
    expect(q.size).toBe(1);
  });
});
