import { describe, expect, it } from 'vitest';
import { EventHeap } from '../../src/engine/event-heap.js';
import { uniform } from '../../src/models/rng.js';

describe('EventHeap', () => {
  it('pops events in time order, ties in insertion order, across growth', () => {
    const heap = new EventHeap(16);
    const n = 5000;
    const expected: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      // Coarse times force many ties, which must come out in insertion order.
      const t = Math.floor(uniform(7, i, 1, 0) * 100);
      heap.push(t, i, i % 200);
      expected.push([t, i]);
    }
    expected.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const got: Array<[number, number]> = [];
    while (heap.size > 0) {
      got.push([heap.peekTime(), heap.topDev()]);
      expect(heap.topKind()).toBe(heap.topDev() % 200);
      heap.pop();
    }
    expect(got).toEqual(expected);
    expect(heap.peekTime()).toBe(Infinity);
  });

  it('interleaves pushes and pops correctly', () => {
    const heap = new EventHeap();
    heap.push(10, 1, 1);
    heap.push(5, 2, 1);
    expect(heap.topDev()).toBe(2);
    heap.pop();
    heap.push(7, 3, 1);
    heap.push(20, 4, 1);
    const order: number[] = [];
    while (heap.size) {
      order.push(heap.topDev());
      heap.pop();
    }
    expect(order).toEqual([3, 1, 4]);
  });
});
