import { describe, expect, it } from 'vitest';
import { InflightTable } from '../../src/fleet/inflight.js';

describe('InflightTable', () => {
  it('returns reusable tokens and keeps per-message times', () => {
    const t = new InflightTable(4, 16);
    const a = t.open(1, 10, 100, 101);
    const b = t.open(1, 11, 200, 201);
    expect(a).not.toBe(b);
    expect(t.isOpen(a, 1)).toBe(true);
    expect(t.isOpen(a, 2)).toBe(false);
    expect(t.sentAt(b)).toBe(201);
    expect(t.scheduledAt(a)).toBe(100);
    t.close(a);
    expect(t.isOpen(a, 1)).toBe(false);
    expect(t.size).toBe(1);
    const c = t.open(2, 1, 0, 0);
    expect(c).toBe(a); // freed slot reused
  });

  it('fails exactly one device\'s messages and survives growth', () => {
    const t = new InflightTable(3, 16);
    const tokens: number[][] = [[], [], []];
    for (let i = 0; i < 300; i++) tokens[i % 3].push(t.open(i % 3, i, i, i));
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
