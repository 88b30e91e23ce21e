import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticRun } from '../helpers/synthetic-run.js';

/**
 * summary.json v1 must not drift by accident: the deep key set (with JSON types) of a summary the
 * engine's builder produces must equal the committed shape, and docs/summary.md must document
 * every key. Changing the shape on purpose means updating the fixture, the docs and, when a field
 * changes meaning or goes away, SUMMARY_SCHEMA_VERSION.
 *
 * Shape notation: `a.b` object member, `a.*` any key of a map (counters, histograms), `a[]` array
 * element; types of every value seen at a path, sorted and joined with `|`.
 */
const ROOT = join(import.meta.dirname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/summary/v1-shape.json');
const DOCS = join(ROOT, 'docs/summary.md');

/** Maps whose keys are data (metric names, failure causes), not schema fields. */
const MAPS = new Set(['counters', 'gauges', 'histograms', 'fleet.ota.failuresByCause', 'requestErrors.byRoute', 'requestErrors.byRoute.*', 'requestErrors.cancelled']);

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function shapeOf(value: unknown, path = '', out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  const t = jsonType(value);
  if (path) {
    if (!out.has(path)) out.set(path, new Set());
    out.get(path)!.add(t);
  }
  if (t === 'array') for (const item of value as unknown[]) shapeOf(item, `${path}[]`, out);
  if (t === 'object') {
    for (const [k, v] of Object.entries(value as object)) {
      shapeOf(v, MAPS.has(path) ? `${path}.*` : path ? `${path}.${k}` : k, out);
    }
  }
  return out;
}

function shapeRecord(value: unknown): Record<string, string> {
  const shape = shapeOf(value);
  return Object.fromEntries([...shape.keys()].sort().map((k) => [k, [...shape.get(k)!].sort().join('|')]));
}

describe('summary.json v1 shape', () => {
  // Every optional field present, so that the shape covers the whole contract.
  const { summary } = syntheticRun({ intervals: 8, devices: 20, full: true });
  const actual = shapeRecord(JSON.parse(JSON.stringify(summary)));
  const expected = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>;

  it('matches the committed v1 shape (deep keys and types)', () => {
    if (process.env.FLEETSIM_UPDATE_SHAPE === '1') {
      // Deliberate schema change: regenerate the fixture, then review the diff.
      writeFileSync(FIXTURE, JSON.stringify(actual, null, 2) + '\n');
    }
    expect(actual).toEqual(expected);
  });

  it('is documented: docs/summary.md names every key path', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const documented = new Set([...docs.matchAll(/`([A-Za-z0-9_.*[\]]+)`/g)].map((m) => m[1]));
    const missing = Object.keys(expected).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  it('the shape helper sees a removed or retyped field', () => {
    const broken = JSON.parse(JSON.stringify(summary));
    delete broken.run.seed;
    broken.generator.saturated = 'no';
    const shape = shapeRecord(broken);
    expect(shape['run.seed']).toBeUndefined();
    expect(shape['generator.saturated']).toBe('string');
  });
});
