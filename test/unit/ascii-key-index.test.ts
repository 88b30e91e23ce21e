import { describe, expect, it } from 'vitest';
import { AsciiKeyIndex } from '../../src/collections/ascii-key-index.js';

describe('AsciiKeyIndex', () => {
  it('numbers keys in order and finds each from a string or from bytes, across growth of the table and the arena', () => {
    const index = new AsciiKeyIndex();
    const keys = Array.from({ length: 5000 }, (_, i) => `d-gw-${String(i).padStart(6, '0')}`);
    keys.forEach((k, i) => expect(index.add(k)).toBe(i));
    expect(index.size).toBe(5000);
    const frame = Buffer.from('xxfleet/d-gw-004321/telemetry');
    expect(index.findBytes(frame, 8, 8 + 'd-gw-004321'.length)).toBe(4321);
    for (let i = 0; i < keys.length; i += 7) {
      expect(index.find(keys[i])).toBe(i);
      expect(index.keyOf(i)).toBe(keys[i]);
      const b = Buffer.from(`>${keys[i]}<`);
      expect(index.findBytes(b, 1, b.length - 1)).toBe(i);
    }
  });

  it('finds nothing for keys it does not hold: unknown, a prefix, a longer one, non-ASCII', () => {
    const index = new AsciiKeyIndex();
    index.add('d-a1');
    index.add('d-a12');
    expect(index.find('d-a')).toBe(-1);
    expect(index.find('d-a123')).toBe(-1);
    expect(index.find('d-a1')).toBe(0);
    expect(index.find('d-a12')).toBe(1);
    expect(index.find('d-é')).toBe(-1);
    expect(index.findBytes(Buffer.from('d-a2'), 0, 4)).toBe(-1);
    expect(AsciiKeyIndex.fits('d-é')).toBe(false);
    expect(AsciiKeyIndex.fits('')).toBe(false);
    expect(AsciiKeyIndex.fits('d-a')).toBe(true);
  });
});
