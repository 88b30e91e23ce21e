import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { metricNames } from '../../src/metrics/catalog.js';
import { parseDuration, parsePercent, parseRate, parseSize } from '../../src/models/units.js';
import { renderScenarioJsonSchema, scenarioJsonSchema } from '../../src/scenario/schema.js';

type JsonSchema = { properties?: Record<string, JsonSchema>; pattern?: string; additionalProperties?: unknown; propertyNames?: { enum: string[] }; default?: unknown };

describe('scenario JSON Schema', () => {
  test('schema/scenario.schema.json is up to date (regenerate: npm run build && node dist/cli/main.js schema --out schema/scenario.schema.json)', () => {
    expect(readFileSync('schema/scenario.schema.json', 'utf8')).toBe(renderScenarioJsonSchema());
  });

  const schema = scenarioJsonSchema() as JsonSchema;
  const props = schema.properties!;

  test('is strict (unknown keys are errors in editors too) and lists the metric names for thresholds', () => {
    expect(schema.additionalProperties).toBe(false);
    expect(props.behaviour.additionalProperties).toBe(false);
    expect(props.thresholds.propertyNames?.enum).toEqual(metricNames());
  });

  test('shows literal defaults to editors', () => {
    expect(props.seed.default).toBe(1);
    expect(props.clock.default).toBe('wall');
    expect(props.target.default).toBe('embedded');
  });

  // The editor's patterns must agree with the parsers that validation uses.
  test('duration, size, rate and percent patterns agree with their parsers', () => {
    const behaviour = props.behaviour.properties!;
    const tel = behaviour.telemetry.properties!;
    const cases: Array<[string | undefined, (t: string) => { ok: boolean }, string[], string[]]> = [
      [props.duration.pattern, parseDuration, ['500ms', '10s', '1m30s', '1.5h', '5y'], ['10 s', '10', 'ten seconds', '']],
      [tel.size.pattern, parseSize, ['200B', '4KB', '1KiB', '20mb'], ['200 B', '4K', 'big']],
      [props.arrival.properties!.rate.pattern, parseRate, ['20/s', '0.5/m', '1000/d'], ['20', '20 per s', '20/w']],
      [tel.jitter.pattern, parsePercent, ['10%', '0.5%'], ['10', '10 %', 'ten%']],
    ];
    for (const [pattern, parse, good, bad] of cases) {
      const re = new RegExp(pattern!);
      for (const g of good) expect([g, re.test(g), parse(g).ok]).toEqual([g, true, true]);
      for (const b of bad) expect([b, re.test(b), parse(b).ok]).toEqual([b, false, false]);
    }
  });
});
