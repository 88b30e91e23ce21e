import { describe, expect, it } from 'vitest';
import { CalendarQueue } from '../../src/engine/clock/calendar-queue.js';
import { EventHeap } from '../../src/engine/clock/event-heap.js';
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

  it('peeks Infinity whenever it is empty: new, emptied one by one, cleared, and as a calendar queue sees it', () => {
    const heap = new EventHeap(16);
    expect(heap.peekTime()).toBe(Infinity);
    heap.push(2.5, 1, 1);
    expect(heap.peekTime()).toBe(2.5);
    heap.pop();
    expect(heap.peekTime()).toBe(Infinity);
    for (let i = 0; i < 40; i++) heap.push(100 - i + 0.25, i, 1); // grows past 16
    heap.clear();
    expect(heap.peekTime()).toBe(Infinity);
    heap.append(7.5, 0, 3);
    heap.heapify();
    expect(heap.peekTime()).toBe(7.5);
    heap.pop();
    expect(heap.peekTime()).toBe(Infinity);
    const queue = new CalendarQueue();
    queue.push(3.75, 4, 2);
    expect(queue.peekTime()).toBe(3.75);
    queue.pop();
    expect(queue.peekTime()).toBe(Infinity);
    queue.push(1e9 + 0.5, 5, 2); // far beyond the ring: found through refill
    expect(queue.peekTime()).toBe(1e9 + 0.5);
    queue.pop();
    expect(queue.peekTime()).toBe(Infinity);
  });

  it('touchRecords reads the first and the last byte of the record of each held event\'s device', () => {
    const shift = 7;
    const records = new Uint8Array(8 << shift);
    for (let dev = 0; dev < 8; dev++) {
      records[dev << shift] = 1 << dev; // first byte
      records[((dev + 1) << shift) - 1] = 0x80 | dev; // last byte
      records[(dev << shift) + 64] = 0xff; // the middle is not read
    }
    const h = new EventHeap();
    expect(h.touchRecords(records, shift)).toBe(0);
    for (const dev of [3, 5, 6]) h.push(dev, dev, 1);
    expect(h.touchRecords(records, shift)).toBe((1 << 3) ^ (0x80 | 3) ^ (1 << 5) ^ (0x80 | 5) ^ (1 << 6) ^ (0x80 | 6));
    h.pop();
    // Only the events still held: device 3's was popped.
    expect(h.touchRecords(records, shift)).toBe((1 << 5) ^ (0x80 | 5) ^ (1 << 6) ^ (0x80 | 6));
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

describe('EventHeap with sequence numbers given by the caller', () => {
  it('append + heapify gives the same order as pushTagged, ties broken by the given seq', () => {
    const a = new EventHeap(16);
    const b = new EventHeap(16);
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const t = Math.floor(uniform(5, i, 1, 0) * 50);
      // Seqs deliberately not in insertion order: the heap must order by the given seq.
      const seq = (i * 7919) % n;
      a.pushTagged(t, seq, (i << 8) | 3);
      b.append(t, seq, (i << 8) | 3);
    }
    b.heapify();
    const drain = (h: EventHeap) => {
      const out: Array<[number, number, number]> = [];
      while (h.size > 0) {
        out.push([h.peekTime(), h.topSeq(), h.topTag()]);
        h.pop();
      }
      return out;
    };
    const fromPush = drain(a);
    expect(drain(b)).toEqual(fromPush);
    const sorted = [...fromPush].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(fromPush).toEqual(sorted);
    expect(fromPush[0][2] & 0xff).toBe(3);
  });
});
