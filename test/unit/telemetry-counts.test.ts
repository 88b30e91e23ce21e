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

  it('keeps every bit across words and growth (30 per word)', () => {
    const t = new SeqTracker();
    const seqs = [29, 30, 59, 60, 89, 90, 119, 120, 4095, 65_536, 0];
    for (const s of seqs) t.record(s);
    for (const s of seqs) expect(t.has(s)).toBe(true);
    for (const s of [1, 28, 31, 58, 61, 121, 4094, 65_535]) expect(t.has(s)).toBe(false);
    expect([t.received, t.duplicates, t.maxSeq]).toEqual([seqs.length, 0, 65_536]);
    for (const s of seqs) t.record(s);
    expect(t.duplicates).toBe(seqs.length);
  });

  it('refuses sequence numbers it cannot track, without recording them', () => {
    const t = new SeqTracker();
    for (const s of [-1, 1.5, MAX_TRACKED_SEQ + 1, Number.NaN]) expect(t.record(s)).toBe(false);
    expect(t.record(MAX_TRACKED_SEQ)).toBe(true);
    expect([t.received, t.duplicates, t.maxSeq]).toEqual([1, 0, MAX_TRACKED_SEQ]);
  });
});
