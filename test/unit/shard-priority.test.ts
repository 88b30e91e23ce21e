import { describe, expect, it } from 'vitest';
import { yieldingNice } from '../../src/engine/hosting/shard-priority.js';

/** CFS weights of nice 0..19 (Linux kernel/sched/core.c, sched_prio_to_weight), to check the choice against. */
const W = [1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15];

describe('shard processes yielding to the embedded backend', () => {
  it('take the smallest niceness at which all of them weigh no more than one nice-0 thread', () => {
    expect([1, 2, 8, 13, 26, 68, 1000].map(yieldingNice)).toEqual([0, 4, 10, 12, 15, 19, 19]);
    for (let p = 1; p <= 68; p++) {
      const n = yieldingNice(p);
      expect(p * W[n]).toBeLessThanOrEqual(1024);
      if (n > 0) expect(p * W[n - 1]).toBeGreaterThan(1024);
    }
  });
});
