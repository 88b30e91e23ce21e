import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { FleetsimError, formatError } from '../../src/errors/fleetsim-error.js';
import { loadScenario, parseScenarioText } from '../../src/scenario/load.js';
import { planLayout } from '../../src/scenario/capacity.js';
import { MAX_TIMELINE_ROWS } from '../../src/scenario/feasibility.js';
import { scenarioJsonSchema } from '../../src/scenario/schema.js';

/**
 * Values that were accepted and then crashed or hung the run (issue 15): each now has a range
 * the schema states, or a check before anything starts.
 */
const QUICKSTART = readFileSync('scenarios/quickstart.yaml', 'utf8');

function problemsOf(text: string): string {
  try {
    parseScenarioText(text, 'v.yaml');
  } catch (err) {
    if (!(err instanceof FleetsimError)) throw err;
    expect(err.exitCode).toBe(2);
    const printed = formatError(err);
    expect(printed).not.toMatch(/undefined|NaN|Infinity|\[object Object\]/);
    return printed;
  }
  throw new Error('the scenario was accepted');
}

const edit = (from: string, to: string): string => {
  expect(QUICKSTART).toContain(from);
  return QUICKSTART.replace(from, to);
};

describe('every value has a range', () => {
  test.each([
    ['count up to 2^53', edit('count: 40,', 'count: 9007199254740991,'), /v\.yaml:11:\d+: fleet\[0\]\.count: must be at most 10000000/],
    ['a 250-character name (the report folder would be too long a file name)', edit('name: quickstart', `name: ${'n'.repeat(250)}`), /v\.yaml:5:7: name: must have at most 100 characters/],
    ['telemetry every nanosecond', edit('every: 5s', 'every: 0.000000001ms'), /behaviour\.telemetry\.every: "0\.000000001ms" is below the smallest value allowed here, 1ms/],
    ['a snapshot every picosecond', QUICKSTART + 'options: { snapshotEvery: 0.000001ms }\n', /options\.snapshotEvery: "0\.000001ms" is below the smallest value allowed here, 10ms/],
    ['a duration of 400 nines', edit('duration: 60s', `duration: ${'9'.repeat(400)}s`), /v\.yaml:7:11: duration: "9{40}…" is too large to be a number fleetsim can use/],
    ['a snapshot interval of 400 nines', QUICKSTART + `options: { snapshotEvery: ${'9'.repeat(400)}ms }\n`, /options\.snapshotEvery: "9{40}…" is too large/],
    ['a poll every 8,000 years', edit('poll: { every: 30s', 'poll: { every: 260000000000000ms'), /behaviour\.poll\.every: "260000000000000ms" is above the largest value allowed here, 100y/],
    ['a time scale of 1e300', QUICKSTART + 'timeScale: 1e300\n', /timeScale: must be at most 1000/],
    ['a phase after the run ends', QUICKSTART + 'phases: [{ at: 2m, outage: { duration: 10s } }]\n', /v\.yaml:23:\d+: phases\[0\]\.at: the phase starts at 2m, when the run \(duration: 60s\) has ended, so it would never happen/],
  ])('%s is refused where it is written', (_what, text, expected) => {
    expect(problemsOf(text)).toMatch(expected);
  });

  test('257 fleet groups (a shard holds 256 link parameter sets) are refused; 256 are accepted', () => {
    const groups = (n: number) => edit('  - { profile: rpi4-gateway, count: 40, link: ethernet }\n  - { profile: esp32-wifi-sensor, count: 60, link: wifi }\n', '  - { profile: rpi4-gateway, count: 1, link: ethernet }\n'.repeat(n));
    expect(problemsOf(groups(257))).toMatch(/fleet: must have at most 256 items/);
    expect(parseScenarioText(groups(256), 'v.yaml').fleet).toHaveLength(256);
  });

  test('a fleet of more than 10 million devices in groups each within range is refused as a whole', () => {
    const text = edit('count: 40,', 'count: 6000000,').replace('count: 60,', 'count: 6000000,');
    expect(problemsOf(text)).toMatch(/fleet: the fleet has 12,000,000 devices; one run simulates at most 10,000,000/);
  });

  test('the JSON Schema states the ranges editors show', () => {
    const schema = JSON.stringify(scenarioJsonSchema());
    expect(schema).toContain('Telemetry interval. Range: 1ms to 100y.');
    expect(schema).toMatch(/"maximum":10000000/);
    expect(schema).toMatch(/"maxItems":256/);
  });
});

describe('what multiplies past what a machine can run is refused before anything starts', () => {
  test('every shipped scenario fits: no problem of feasibility', () => {
    for (const f of readdirSync('scenarios').filter((n) => n.endsWith('.yaml'))) {
      const s = loadScenario(`scenarios/${f}`);
      const layout = planLayout(s, s.devices, { workers: 2 }, {});
      expect(layout.problems.map((p) => p.message), f).toEqual([]);
    }
  });

  test('a year of 10 million devices reporting every millisecond: events versus time', () => {
    const s = parseScenarioText(edit('clock: wall', 'clock: virtual').replace('duration: 60s', 'duration: 1y').replace('count: 40,', 'count: 9000000,').replace('every: 5s', 'every: 1ms'), 'v.yaml');
    const layout = planLayout(s, s.devices, { workers: 2 }, {});
    expect(layout.problems.map((p) => p.message).join('\n')).toMatch(/the virtual clock would run about [\d.e+]+ events: ~[\d,]+ hours on 2 shards/);
  });

  test('timeline rows past the limit: the fix names the interval', () => {
    const s = parseScenarioText(edit('duration: 60s', 'duration: 1y') + 'options: { snapshotEvery: 10ms }\n', 'v.yaml');
    const layout = planLayout(s, s.devices, { workers: 1 }, {});
    expect(layout.problems.map((p) => `${p.message} ${p.fix}`).join('\n')).toMatch(new RegExp(`timeline rows; a report holds at most ${MAX_TIMELINE_ROWS.toLocaleString('en-US')} set options.snapshotEvery to at least`));
  });

  test('devices versus memory on the virtual clock', () => {
    const s = parseScenarioText(edit('clock: wall', 'clock: virtual').replace('count: 40,', 'count: 9000000,'), 'v.yaml');
    const layout = planLayout(s, s.devices, { workers: 2 }, { availableMemoryMB: 1024 });
    expect(layout.problems.map((p) => p.message).join('\n')).toMatch(/this run needs about \d+ MB .* but 1024 MB are available/);
  });
});
