import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from '../../src/drivers/http/retry-after.js';

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('120', now)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
    expect(parseRetryAfterMs('1.5', now)).toBe(1_500);
    expect(parseRetryAfterMs(['7', '9'], now)).toBe(7_000);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('is 0 when absent or unreadable', () => {
    expect(parseRetryAfterMs(undefined, now)).toBe(0);
    expect(parseRetryAfterMs('', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBe(0);
    expect(parseRetryAfterMs('1.2.3', now)).toBe(0);
  });
});
