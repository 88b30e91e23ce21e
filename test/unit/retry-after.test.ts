import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from '../../src/drivers/http/retry-after.js';
import { NO_RETRY_AFTER } from '../../src/drivers/types.js';

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

  it('is NO_RETRY_AFTER (-1) when absent or unreadable, so a carried "0" stays visible', () => {
    expect(parseRetryAfterMs(undefined, now)).toBe(NO_RETRY_AFTER);
    expect(parseRetryAfterMs('', now)).toBe(NO_RETRY_AFTER);
    expect(parseRetryAfterMs('soon', now)).toBe(NO_RETRY_AFTER);
    expect(parseRetryAfterMs('1.2.3', now)).toBe(NO_RETRY_AFTER);
    expect(NO_RETRY_AFTER).toBeLessThan(0);
  });
});
