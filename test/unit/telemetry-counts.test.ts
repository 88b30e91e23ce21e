import { describe, expect, it } from 'vitest';
import { MAX_TRACKED_SEQ, SeqTracker } from '../../src/backend/telemetry-counts.js';

describe('SeqTracker', () => {
  it('starts empty', () => {
    const t = new SeqTracker();
    expect([t.received, t.duplicates, t.gaps, t.maxSeq]).toEqual([0, 0, 0, -1]);
  });

  it('counts distinct, duplicate and missing sequence numbers exactly, in any order', () => {
    const t = new SeqTracker();
    const seqs = [5, 3, 3, 0, 1000, 999, 5, 31, 32, 33, 1000];
    for (const s of seqs) expect(t.record(s)).toBe(true);
    expect(t.received).toBe(8);
    expect(t.duplicates).toBe(3);
    expect(t.maxSeq).toBe(1000);
    expect(t.gaps).toBe(1001 - 8);
    expect(t.has(999)).toBe(true);
    expect(t.has(998)).toBe(false);
    expect(t.has(5000)).toBe(false);
  });

  it('refuses sequence numbers it cannot track, without recording them', () => {
    const t = new SeqTracker();
    for (const s of [-1, 1.5, MAX_TRACKED_SEQ + 1, Number.NaN]) expect(t.record(s)).toBe(false);
    expect(t.record(MAX_TRACKED_SEQ)).toBe(true);
    expect([t.received, t.duplicates, t.maxSeq]).toEqual([1, 0, MAX_TRACKED_SEQ]);
  });
});
