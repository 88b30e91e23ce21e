import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FleetsimError, formatError, MAX_PRINTED_PROBLEMS } from '../../src/errors/fleetsim-error.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { closest } from '../../src/scenario/suggest.js';
import { MAX_INPUT_BYTES, MAX_NESTING_DEPTH } from '../../src/scenario/yaml-limits.js';

/**
 * Inputs found by fuzzing (issue 15, "Bad input, everywhere") that escaped the error path or took
 * seconds to reject. Each must give one FleetsimError with located problems, quickly.
 */
const QUICKSTART = readFileSync('scenarios/quickstart.yaml', 'utf8');

function failure(text: string): FleetsimError {
  try {
    parseScenarioText(text, 'fuzz.yaml');
  } catch (err) {
    if (err instanceof FleetsimError) return err;
    throw err;
  }
  throw new Error('the scenario was accepted');
}

/** Nothing in the printed text that betrays an escape: engine errors, JS values. */
function expectHuman(err: FleetsimError): string {
  const text = formatError(err);
  expect(text).not.toMatch(/Maximum call stack|undefined|NaN|\[object Object\]|ReferenceError|FLEETSIM_E_INTERNAL/);
  expect(err.exitCode).toBe(2);
  expect(err.problems.length).toBeGreaterThan(0);
  for (const p of err.problems) expect(p.location?.line).toBeGreaterThan(0);
  return text;
}

/**
 * CPU time (user + system) of `f`, in ms: on a shared machine wall time says more about the
 * neighbours than about the parser, CPU time much less. The bounds below sit far between today's
 * cost and the old code's (seconds to tens of seconds), so they tell the two apart on any box.
 */
function timed<T>(f: () => T): { value: T; ms: number } {
  const t = process.cpuUsage();
  const value = f();
  const d = process.cpuUsage(t);
  return { value, ms: (d.user + d.system) / 1000 };
}

describe('YAML that used to escape the error path', () => {
  test('an alias of no anchor is a located syntax problem, not an internal error', () => {
    const err = failure(QUICKSTART.replace('duration: 60s', 'duration: *nope'));
    expect(err.code).toBe('FLEETSIM_E_YAML_SYNTAX');
    expect(expectHuman(err)).toMatch(/fuzz\.yaml:7:11: YAML syntax: alias "\*nope" refers to no anchor/);
  });

  test('an anchor bomb (aliases past the expansion limit) is refused at the first alias', () => {
    const rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e']]) rows.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    const err = failure(rows.join('\n') + '\n');
    expect(err.code).toBe('FLEETSIM_E_INPUT_LIMIT');
    expect(expectHuman(err)).toMatch(/fuzz\.yaml:2:8: aliases \(\*name\) expand to more than 1,000 copies/);
  });

  test('nested block mappings past the depth limit: refused where the limit is passed, no stack overflow', () => {
    // 2,000 levels (issue 15) are 2 MB of indentation, past the size limit; 600 fit under it.
    const text = Array.from({ length: 600 }, (_, i) => `${' '.repeat(i)}a:\n`).join('');
    const err = failure(text);
    expect(err.code).toBe('FLEETSIM_E_INPUT_LIMIT');
    expect(expectHuman(err)).toMatch(new RegExp(`fuzz\\.yaml:${MAX_NESTING_DEPTH + 1}:${MAX_NESTING_DEPTH + 1}: nested more than ${MAX_NESTING_DEPTH} levels deep`));
  });

  test('2,000 nested block sequences on one line overflowed the stack; now the depth limit', () => {
    const err = failure(`${'- '.repeat(2000)}a\n`);
    expect(err.code).toBe('FLEETSIM_E_INPUT_LIMIT');
    expect(expectHuman(err)).toMatch(/fuzz\.yaml:1:\d+: nested more than 64 levels deep/);
  });

  test('1,000 nested [ give the depth limit, not a JavaScript engine error', () => {
    const err = failure(`name: x\nd: ${'['.repeat(1000)}${']'.repeat(1000)}\n`);
    expect(err.code).toBe('FLEETSIM_E_INPUT_LIMIT');
    expect(expectHuman(err)).toMatch(/fuzz\.yaml:2:\d+: nested more than 64 levels deep/);
  });

  test('a file past the size limit is refused without being parsed', () => {
    const err = failure(QUICKSTART + `# ${'x'.repeat(MAX_INPUT_BYTES)}\n`);
    expect(err.code).toBe('FLEETSIM_E_INPUT_LIMIT');
    expect(expectHuman(err)).toMatch(/fuzz\.yaml:1:1: the file is 257 KiB; fleetsim reads YAML files of up to 256 KiB/);
  });

  test('several documents in one file are still a syntax problem at the second one', () => {
    const err = failure(QUICKSTART + '---\nname: two\n');
    expect(err.code).toBe('FLEETSIM_E_YAML_SYNTAX');
    expect(expectHuman(err)).toMatch(/fuzz\.yaml:23:1: YAML syntax: Source contains multiple documents/);
  });
});

describe('bad input rejected quickly, with a bounded report', () => {
  test('20,000 unknown keys: linear time, all counted, the first few printed', () => {
    const keys = (n: number) => QUICKSTART + Array.from({ length: n }, (_, i) => `k${i}: 1\n`).join('');
    timed(() => failure(keys(1_000))); // warm the parser up so the two measured runs compare alike
    const small = timed(() => failure(keys(5_000)));
    const { value: err, ms } = timed(() => failure(keys(20_000)));
    // Locating each key scanned the mapping: 8.5 s for 20k before (issue 15), growing as n^2
    // (x16 for 4x the keys). Linear work grows x4; allow noise up to x8.
    expect(ms / Math.max(small.ms, 1)).toBeLessThan(8);
    expect(ms).toBeLessThan(6000);
    expect(err.problems).toHaveLength(20_000);
    const printed = expectHuman(err);
    expect(printed.split('\n').filter((l) => l.includes('unknown key'))).toHaveLength(MAX_PRINTED_PROBLEMS);
    expect(printed).toContain(`… and ${(20_000 - MAX_PRINTED_PROBLEMS).toLocaleString('en-US')} more problems`);
  });

  test('a 2 MB name gets no "did you mean" table and is not echoed whole', () => {
    const name = 'q'.repeat(2_000_000);
    // The edit distance table had 2e6 x 15 cells per candidate: 18.6 s for five profiles.
    const { value, ms } = timed(() => closest(name, ['rpi4-gateway', 'esp32-wifi-sensor', 'nrf9160-tracker']));
    expect(value).toBeUndefined();
    expect(ms).toBeLessThan(50);
    const err = failure(QUICKSTART.replace('profile: rpi4-gateway', `profile: ${'q'.repeat(200_000)}`));
    const printed = expectHuman(err);
    expect(printed).toMatch(/unknown profile "q{80}"… \(200,000 characters\)/);
    expect(printed.length).toBeLessThan(3000);
  });

  test('a near miss still gets its suggestion', () => {
    expect(closest('rpi4-gatway', ['rpi4-gateway', 'esp32-wifi-sensor'])).toBe('rpi4-gateway');
    expect(closest('telemtry', ['telemetry', 'poll'])).toBe('telemetry');
  });

  test('a file of 36,000 syntax errors is reported in seconds (200,000 took 47 s)', () => {
    // Each problem used to capture a stack trace; the size limit bounds their number (~145,000).
    const text = 'x: {a: 1}}\n'.repeat(Math.floor(MAX_INPUT_BYTES / 44));
    const { value: err, ms } = timed(() => failure(text));
    expect(err.code).toBe('FLEETSIM_E_YAML_SYNTAX');
    expectHuman(err);
    expect(err.problems.length).toBeGreaterThan(30_000);
    expect(ms).toBeLessThan(8000);
  });
});
