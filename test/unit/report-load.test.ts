import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { loadReport, loadSummary } from '../../src/report/load.js';
import { summaryJsonWriter } from '../../src/report/summary-json.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/** Reading saved runs back: every bad input is FLEETSIM_E_REPORT_INVALID (exit 2) with a hint. */
let root: string;
const run = syntheticRun({ intervals: 4, devices: 8 });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleetsim-load-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<FleetsimError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(FleetsimError);
  const fe = err as FleetsimError;
  expect(fe.code).toBe('FLEETSIM_E_REPORT_INVALID');
  expect(fe.exitCode).toBe(2);
  expect(fe.hint).toBeTruthy();
  return fe;
}

async function dirWith(name: string, summaryText: string, timelineText?: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'summary.json'), summaryText);
  if (timelineText !== undefined) await writeFile(join(dir, 'timeline.ndjson'), timelineText);
  return dir;
}

describe('loadReport', () => {
  it('reads a directory without a timeline as an empty timeline', async () => {
    const dir = join(root, 'no-timeline');
    await summaryJsonWriter.write(dir, run.summary, run.timeline);
    const r = await loadReport(dir);
    expect(r.summary.run.id).toBe(run.summary.run.id);
    expect(r.timeline).toEqual([]);
  });

  it('rejects a missing path and a directory without summary.json', async () => {
    expect((await failure(loadReport(join(root, 'nope')))).message).toContain('does not exist');
    await mkdir(join(root, 'empty'));
    expect((await failure(loadReport(join(root, 'empty')))).message).toContain('holds no summary.json');
  });

  it('rejects malformed JSON, a file that is not a summary, and another schema version', async () => {
    expect((await failure(loadSummary(await dirWith('cut', '{"schemaVersion": 1, "run": {')))).message).toContain('not valid JSON');
    expect((await failure(loadSummary(await dirWith('other', '{"name": "x"}')))).message).toContain('no schemaVersion');
    const v2 = await failure(loadSummary(await dirWith('v2', JSON.stringify({ ...run.summary, schemaVersion: 2 }))));
    expect(v2.message).toContain('schemaVersion 2; this fleetsim reads version 1');
    expect(v2.hint).toContain('0.1.0');
  });

  it('lists every missing or mistyped top-level member', async () => {
    const { accounting: _a, ...rest } = run.summary;
    const e = await failure(loadSummary(await dirWith('partial', JSON.stringify({ ...rest, thresholds: {} }))));
    expect(e.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(['accounting: expected object, found undefined', 'thresholds: expected array, found object']);
  });

  it('points at damaged timeline lines by file and line', async () => {
    const good = JSON.stringify(run.timeline[0]);
    const dir = await dirWith('bad-lines', JSON.stringify(run.summary), `${good}\n{"tMs": \n${good}\n[1,2]\n`);
    const e = await failure(loadReport(dir));
    expect(e.problems.map((p) => p.location?.line)).toEqual([2, 4]);
    expect(e.problems[0].location?.file).toBe(join(dir, 'timeline.ndjson'));
  });
});
