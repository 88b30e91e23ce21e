import { describe, expect, it } from 'vitest';
import { LINE_ALIGNED_FROM_BYTES, lineAlignedBuffer } from '../../src/collections/line-aligned.js';
import { DeviceTable, RECORD_BYTES } from '../../src/fleet/device-table.js';

describe('lineAlignedBuffer', () => {
  it('gives a zeroed buffer of at least the size asked, whole wasm pages when large', () => {
    const small = lineAlignedBuffer(1000);
    expect(small.byteLength).toBe(1000);
    const bytes = LINE_ALIGNED_FROM_BYTES + 100;
    const large = lineAlignedBuffer(bytes);
    expect(large.byteLength).toBeGreaterThanOrEqual(bytes);
    expect(large.byteLength % 65_536).toBe(0);
    const view = new Uint8Array(large);
    expect(view.every((b) => b === 0)).toBe(true);
    view[bytes - 1] = 7;
    expect(new Uint8Array(large)[bytes - 1]).toBe(7);
  });

  it('backs a large DeviceTable whose views cover its records exactly', () => {
    const count = Math.ceil(LINE_ALIGNED_FROM_BYTES / RECORD_BYTES) + 3;
    const t = new DeviceTable(count, 0);
    expect(t.bytes.length).toBe(count * RECORD_BYTES);
    expect(t.f64.length).toBe((count * RECORD_BYTES) / 8);
    expect(t.buffered(count - 1)).toBe(0);
    t.generated(count - 1, 5);
    expect([t.buffered(count - 1), t.lastGeneratedAt(count - 1), t.buffered(count - 2)]).toEqual([1, 5, 0]);
  });
});
