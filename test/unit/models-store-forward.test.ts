import { describe, expect, it } from 'vitest';
import { uniform } from '../../src/models/rng.js';
import { StoreForward } from '../../src/models/store-forward.js';

describe('StoreForward', () => {
  it('keeps pushed = flushed + dropped + buffered after every operation', () => {
    const devices = 200;
    const sizes = Array.from({ length: devices }, (_, d) => 50 + (d % 7) * 100);
    for (const policy of ['drop-oldest', 'drop-newest'] as const) {
      const sf = new StoreForward(devices, { messageBytes: sizes, maxMessages: 64, maxBytes: 16 * 1024, policy });
      let broken = 0;
      for (let step = 0; step < 50_000; step++) {
        const d = Math.floor(uniform(5, step, 12, 0) * devices);
        const u = uniform(5, step, 12, 1);
        if (u < 0.6) sf.push(d, 1 + Math.floor(uniform(5, step, 12, 2) * 5));
        else sf.flush(d, Math.floor(uniform(5, step, 12, 2) * 40));
        if (sf.imbalance(d) !== 0) broken++;
        if (sf.buffered[d] > sf.capacity[d]) broken++;
      }
      expect(broken).toBe(0);
      const t = sf.totals();
      expect(t.pushed).toBe(t.flushed + t.dropped + t.buffered);
      expect(t.dropped).toBeGreaterThan(0); // the schedule really overflows some buffers
      expect(t.flushed).toBeGreaterThan(0);
    }
  });

  it('drops exactly the overflow and caps by bytes', () => {
    const sf = new StoreForward(2, { messageBytes: 200, maxMessages: 10, maxBytes: 1000 });
    expect(sf.capacity[0]).toBe(5); // 1000 B / 200 B
    expect(sf.push(0, 3)).toBe(0);
    expect(sf.push(0, 4)).toBe(2);
    expect(sf.buffered[0]).toBe(5);
    expect(sf.bufferedBytes(0)).toBe(1000);
    expect(sf.flush(0, 2)).toBe(2);
    expect(sf.flush(0)).toBe(3);
    expect(sf.flush(0)).toBe(0);
    expect(sf.push(0, 12)).toBe(7);
    expect(sf.droppedOf(0)).toBe(9);
    expect(sf.pushed[0]).toBe(19);
    expect(sf.flushed[0] + sf.dropped[0] + sf.buffered[0]).toBe(19);
    expect(sf.pushed[1]).toBe(0);
    expect(() => new StoreForward(1, { messageBytes: 0 })).toThrow(RangeError);
  });
});
