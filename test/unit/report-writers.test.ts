import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WRITERS, loadReport, writeReport } from '../../src/report/writer.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/**
 * The contract every report writer keeps (see ReportWriter in src/report/report-writer.ts), run once
 * per writer in DEFAULT_WRITERS so that a new writer is covered by adding it to the list.
 */
const HOSTILE = '<script>alert(1)</script> & "quotes" \'apos\'';
const run = syntheticRun({ intervals: 20, devices: 40, scenario: HOSTILE, full: true });

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleetsim-writers-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each(DEFAULT_WRITERS.map((w) => [w.name, w] as const))('report writer %s', (_name, writer) => {
  it('writes its file, non-empty, creating the directory', async () => {
    const dir = join(root, writer.name, 'nested');
    await writer.write(dir, run.summary, run.timeline);
    const st = await stat(join(dir, writer.file));
    expect(st.size).toBeGreaterThan(0);
    // Only the file itself: no temporary files left behind.
    expect(await readdir(dir)).toEqual([writer.file]);
  });

  it('is idempotent: writing twice gives the same bytes', async () => {
    const dir = join(root, writer.name, 'twice');
    await writer.write(dir, run.summary, run.timeline);
    const first = await readFile(join(dir, writer.file), 'utf8');
    await writer.write(dir, run.summary, run.timeline);
    expect(await readFile(join(dir, writer.file), 'utf8')).toBe(first);
  });

  it('never emits a device-supplied string unescaped', async () => {
    const dir = join(root, writer.name, 'hostile');
    await writer.write(dir, run.summary, run.timeline);
    const text = await readFile(join(dir, writer.file), 'utf8');
    expect(text).not.toContain('<script>alert(1)</script>');
    expect(text).not.toContain('<img src=x');
  });
});

describe('writeReport and loadReport', () => {
  it('writes every default file and reads summary and timeline back unchanged', async () => {
    const dir = join(root, 'roundtrip');
    const files = await writeReport(dir, run.summary, run.timeline);
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(DEFAULT_WRITERS.map((w) => w.file).sort());
    const loaded = await loadReport(dir);
    expect(loaded.summary).toEqual(run.summary);
    expect(loaded.timeline).toEqual(run.timeline);
    expect((await loadReport(join(dir, 'summary.json'))).timeline).toHaveLength(run.timeline.length);
  });

  it('names the writer that failed', async () => {
    const broken = { name: 'broken', file: 'x.txt', write: async () => { throw new Error('disk full'); } };
    await expect(writeReport(join(root, 'broken'), run.summary, run.timeline, [...DEFAULT_WRITERS, broken])).rejects.toThrow(/report writer "broken" failed.*disk full/);
  });
});
