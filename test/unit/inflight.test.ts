import { describe, expect, it } from 'vitest';
import { DeviceTable } from '../../src/fleet/device-table.js';
import { InflightTable } from '../../src/fleet/inflight.js';

/** Opens a slot due at `scheduledAt` that left the device at `sentAt`. */
function open(t: InflightTable, dev: number, scheduledAt: number, sentAt: number): number {
  return t.open(dev, Float64Array.of(scheduledAt, sentAt));
}

describe('InflightTable', () => {
  it('returns reusable tokens and keeps per-message times', () => {
    const t = new InflightTable(new DeviceTable(4, 0), 16);
    const a = open(t, 1, 100, 101);
    const b = open(t, 1, 200, 201);
    expect(a).not.toBe(b);
    expect(t.isOpen(a, 1)).toBe(true);
    expect(t.isOpen(a, 2)).toBe(false);
    expect(t.sentAt(b)).toBe(201);
    expect(t.scheduledAt(a)).toBe(100);
    t.close(a);
    expect(t.isOpen(a, 1)).toBe(false);
    expect(t.size).toBe(1);
    const c = open(t, 2, 0, 0);
    expect(c).toBe(a); // freed slot reused
  });

  it('keeps each device\'s messages in send order, whichever one closes (acks for the model driver)', () => {
    const t = new InflightTable(new DeviceTable(2, 0), 16);
    expect(t.oldest(0)).toBe(-1);
    const [a, b, c] = [open(t, 0, 1, 1), open(t, 0, 2, 2), open(t, 0, 3, 3)];
    const other = open(t, 1, 9, 9);
    expect(t.ackAt(a)).toBe(Infinity);
    t.setAckAt(a, 50);
    expect(t.ackAt(a)).toBe(50);
    expect(t.oldest(0)).toBe(a);
    t.close(b); // out of order (the wall clock's acks may be)
    expect(t.oldest(0)).toBe(a);
    t.close(a);
    expect(t.oldest(0)).toBe(c);
    const d = open(t, 0, 4, 4);
    t.close(c);
    expect(t.oldest(0)).toBe(d);
    t.close(d);
    expect(t.oldest(0)).toBe(-1);
    expect(t.hasAny(0)).toBe(false);
    expect(t.oldest(1)).toBe(other);
    expect(t.size).toBe(1);
  });

  it('fails exactly one device\'s messages and survives growth', () => {
    const t = new InflightTable(new DeviceTable(3, 0), 16);
    const tokens: number[][] = [[], [], []];
    for (let i = 0; i < 300; i++) tokens[i % 3].push(open(t, i % 3, i, i));
    expect(t.size).toBe(300);
    t.close(tokens[1][5]);
    expect(t.closeAllOf(1)).toBe(99);
    expect(t.size).toBe(200);
    for (const tok of tokens[1]) expect(t.isOpen(tok, 1)).toBe(false);
    for (const tok of tokens[0]) expect(t.isOpen(tok, 0)).toBe(true);
    expect(t.closeAllOf(1)).toBe(0);
    for (const tok of tokens[2]) t.close(tok);
    expect(t.closeAllOf(0)).toBe(100);
    expect(t.size).toBe(0);
  });
});
