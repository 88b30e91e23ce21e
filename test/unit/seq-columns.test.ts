import { describe, expect, it } from 'vitest';
import { SeqColumns } from '../../src/backend/seq-columns.js';
import { MAX_TRACKED_SEQ, SeqTracker } from '../../src/backend/telemetry-counts.js';
import { rng } from '../fuzz/mutate.js';

function expectSame(c: SeqColumns, k: number, t: SeqTracker): void {
  expect([c.received(k), c.duplicates(k), c.gaps(k), c.maxSeq(k)]).toEqual([t.received, t.duplicates, t.gaps, t.maxSeq]);
}

describe('SeqColumns', () => {
  it('counts as SeqTracker does, device by device: in order, reordered, duplicated, lost, and past the window', () => {
    const devices = 40;
    const c = new SeqColumns();
    c.resize(devices);
    const ref = Array.from({ length: devices }, () => new SeqTracker());
    const next = rng(17);
    for (let k = 0; k < devices; k++) {
      // Each device its own mix: every 4th loses messages for good (and so leaves the window).
      const lossy = k % 4 === 0;
      const seqs: number[] = [];
      for (let seq = 0; seq < 300; seq++) if (!(lossy && next() < 0.05)) seqs.push(seq);
      // Reorder by up to 20 places, and duplicate now and then.
      for (let i = 0; i < seqs.length; i++) {
        const j = Math.min(seqs.length - 1, i + Math.floor(next() * 20));
        if (next() < 0.2) [seqs[i], seqs[j]] = [seqs[j], seqs[i]];
      }
      for (const s of seqs) {
        const times = next() < 0.05 ? 2 : 1;
        for (let i = 0; i < times; i++) expect(c.record(k, s)).toBe(ref[k].record(s));
      }
    }
    for (let k = 0; k < devices; k++) expectSame(c, k, ref[k]);
    expect(c.spilledDevices).toBeGreaterThan(0);
    expect(c.spilledDevices).toBeLessThan(devices);
  });

  it('keeps in-order devices in the window, with exact counts at its edges', () => {
    const c = new SeqColumns();
    c.resize(3);
    for (let s = 0; s < 1000; s++) c.record(0, s);
    expect([c.received(0), c.duplicates(0), c.gaps(0), c.maxSeq(0)]).toEqual([1000, 0, 0, 999]);
    // Device 1: 0 lost, 1..32 arrive (the window's last bit), then 0 arrives late: all slide out.
    for (let s = 1; s <= 32; s++) c.record(1, s);
    expect([c.received(1), c.gaps(1), c.maxSeq(1)]).toEqual([32, 1, 32]);
    c.record(1, 0);
    c.record(1, 5);
    expect([c.received(1), c.duplicates(1), c.gaps(1), c.maxSeq(1)]).toEqual([33, 1, 0, 32]);
    expect(c.spilledDevices).toBe(0);
    // Device 2: 33 past its lowest missing number leaves the window with what it had.
    c.record(2, 1);
    c.record(2, 34);
    c.record(2, 1);
    expect([c.received(2), c.duplicates(2), c.gaps(2), c.maxSeq(2)]).toEqual([2, 1, 33, 34]);
    expect(c.spilledDevices).toBe(1);
  });

  it('refuses what it cannot track, and keeps counts across resizes', () => {
    const c = new SeqColumns();
    c.resize(1);
    c.record(0, 0);
    for (const s of [-1, 1.5, MAX_TRACKED_SEQ + 1, Number.NaN]) expect(c.record(0, s)).toBe(false);
    c.resize(1000);
    expect([c.received(0), c.maxSeq(0)]).toEqual([1, 0]);
    expect([c.received(999), c.maxSeq(999), c.gaps(999)]).toEqual([0, -1, 0]);
    expect(c.record(999, MAX_TRACKED_SEQ)).toBe(true);
    expect([c.received(999), c.maxSeq(999), c.gaps(999)]).toEqual([1, MAX_TRACKED_SEQ, MAX_TRACKED_SEQ]);
  });
});
