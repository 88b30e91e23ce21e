import { describe, expect, test } from 'vitest';
import { parseProcessesFlag, parseSourceAddressesFlag, parseStartAtFlag } from '../../src/cli/flags.js';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';

function usageError(fn: () => unknown): FleetsimError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetsimError);
    expect((err as FleetsimError).code).toBe('FLEETSIM_E_USAGE');
    return err as FleetsimError;
  }
  throw new Error('expected a usage error');
}

describe('--source-addresses', () => {
  test('a full range expands in order', () => {
    const a = parseSourceAddressesFlag('127.0.0.1-127.0.0.32');
    expect(a).toHaveLength(32);
    expect(a[0]).toBe('127.0.0.1');
    expect(a[31]).toBe('127.0.0.32');
  });

  test('a range may cross an octet and may give only the last octet', () => {
    expect(parseSourceAddressesFlag('127.0.0.254-127.0.1.1')).toEqual(['127.0.0.254', '127.0.0.255', '127.0.1.0', '127.0.1.1']);
    expect(parseSourceAddressesFlag('10.1.2.3-5')).toEqual(['10.1.2.3', '10.1.2.4', '10.1.2.5']);
  });

  test('lists mix addresses, ranges and IPv6', () => {
    expect(parseSourceAddressesFlag('10.0.0.5, 10.0.0.7-8,::1')).toEqual(['10.0.0.5', '10.0.0.7', '10.0.0.8', '::1']);
    expect(parseSourceAddressesFlag('none')).toEqual([]);
  });

  test('bad input is a usage error with a hint', () => {
    expect(usageError(() => parseSourceAddressesFlag('127.0.0.9-127.0.0.1')).message).toContain('ends before it starts');
    expect(usageError(() => parseSourceAddressesFlag('127.0.0.300')).message).toContain('not an IP address');
    expect(usageError(() => parseSourceAddressesFlag('localhost')).message).toContain('not an IP address');
    expect(usageError(() => parseSourceAddressesFlag('127.0.0.1,,127.0.0.2')).message).toContain('empty item');
    expect(usageError(() => parseSourceAddressesFlag('127.0.0.1,127.0.0.1-2')).message).toContain('127.0.0.1 is listed twice');
    expect(usageError(() => parseSourceAddressesFlag('10.0.0.0-10.1.0.0')).message).toContain('at most 1024');
    expect(usageError(() => parseSourceAddressesFlag('127.0.0.1-300')).message).toContain('not a range');
    expect(usageError(() => parseSourceAddressesFlag('x')).hint).toContain('127.0.0.1-127.0.0.32');
  });
});

describe('--processes', () => {
  test('a whole number from 1 to 256', () => {
    expect(parseProcessesFlag('13')).toBe(13);
    for (const bad of ['0', '-1', '1.5', 'two', '257']) expect(usageError(() => parseProcessesFlag(bad)).message).toContain('--processes');
  });
});

describe('--start-at', () => {
  test('takes an ISO instant or epoch milliseconds, and nothing else', () => {
    expect(parseStartAtFlag(undefined)).toBeUndefined();
    expect(parseStartAtFlag('2026-11-28T10:00:00Z')).toBe(Date.UTC(2026, 10, 28, 10, 0, 0));
    expect(parseStartAtFlag('1800000000000')).toBe(1_800_000_000_000);
    expect(() => parseStartAtFlag('soon')).toThrow(/--start-at soon: not a time/);
  });
});
