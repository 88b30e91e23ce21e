import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ERROR_CATALOG, type ErrorCode } from '../../src/errors/catalog.js';
import { EXIT_CODES } from '../../src/summary/verdict.js';

/** The rows of docs/errors.md's table: code and exit status as documented. */
function documentedRows(): Map<string, number> {
  const rows = new Map<string, number>();
  for (const line of readFileSync('docs/errors.md', 'utf8').split('\n')) {
    const m = /^\|\s*`(FLEETSIM_E_[A-Z_]+)`\s*\|\s*(\d+)\s*\|/.exec(line);
    if (!m) continue;
    expect(rows.has(m[1]), `${m[1]} is listed twice`).toBe(false);
    rows.set(m[1], Number(m[2]));
  }
  return rows;
}

describe('docs/errors.md lists exactly the error catalog', () => {
  const rows = documentedRows();
  const codes = Object.keys(ERROR_CATALOG) as ErrorCode[];

  test('no code is missing from the doc', () => {
    expect(codes.filter((c) => !rows.has(c))).toEqual([]);
  });

  test('the doc has no code the catalog lacks', () => {
    expect([...rows.keys()].filter((c) => !(c in ERROR_CATALOG))).toEqual([]);
  });

  test('each documented exit status is the catalog one', () => {
    for (const c of codes) expect({ code: c, exit: rows.get(c) }).toEqual({ code: c, exit: ERROR_CATALOG[c].exit });
  });
});

describe('docs/errors.md lists every exit status in one place', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Exit statuses'), doc.indexOf('## Error codes'));
  const documented = [...section.matchAll(/^\|\s*(\d+)\s*\|/gm)].map((m) => Number(m[1]));

  test('the table is exactly the verdicts\' exit codes and the error catalog\'s (130 included)', () => {
    const used = new Set<number>([...Object.values(EXIT_CODES), ...Object.values(ERROR_CATALOG).map((e) => e.exit)]);
    expect(documented).toEqual([...used].sort((a, b) => a - b));
    expect(documented).toContain(130);
  });
});
