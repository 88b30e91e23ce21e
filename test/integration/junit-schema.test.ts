import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { junitWriter } from '../../src/report/junit.js';
import type { RunSummary } from '../../src/summary/run-summary.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/**
 * junit.xml against the Jenkins/Ant-style JUnit schema (test/fixtures/junit/junit.xsd), checked
 * by libxml2's xmllint, and read back with XPath so the assertions see what a CI server parses.
 */
const XSD = join(import.meta.dirname, '../fixtures/junit/junit.xsd');
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
if (!hasXmllint) {
  if (process.env.CI) throw new Error('xmllint is required under CI (apt-get install libxml2-utils)');
  console.warn('junit-schema: skipping: xmllint is not installed (apt-get install libxml2-utils)');
}

function xpath(file: string, expr: string): string {
  return execFileSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8' }).trim();
}

function validate(file: string): { ok: boolean; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const HOSTILE = 'fleet <b>"x"</b> & \'y\' \u0001\u001b]0;title\u0007 ]]> end';

describe.runIf(hasXmllint)('junit.xml', () => {
  let root: string;
  const base = syntheticRun({ intervals: 12, devices: 30, scenario: HOSTILE });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fleetsim-junit-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function write(name: string, summary: RunSummary): Promise<string> {
    const dir = join(root, name);
    await junitWriter.write(dir, summary, base.timeline);
    return join(dir, junitWriter.file);
  }

  it('validates against the schema for a passing run, with one testcase per threshold plus "run completed"', async () => {
    const file = await write('pass', base.summary);
    const v = validate(file);
    expect(v.output).toContain('validates');
    expect(v.ok).toBe(true);
    expect(Number(xpath(file, 'count(/testsuites/testsuite)'))).toBe(1);
    expect(Number(xpath(file, 'count(//testcase)'))).toBe(base.summary.thresholds.length + 1);
    expect(Number(xpath(file, 'count(//failure)'))).toBe(0);
    const t = base.summary.thresholds[0];
    expect(xpath(file, `string(//testcase[1]/@name)`)).toBe(`${t.metric}: ${t.expression}`);
    expect(xpath(file, `string(//testcase[1]/system-out)`)).toContain(`measured: ${t.display}`);
    expect(xpath(file, 'string(//testcase[last()]/@name)')).toBe('run completed');
    // The hostile name survives as text (control characters replaced, never raw).
    expect(xpath(file, 'string(//property[@name="scenario"]/@value)')).toBe(HOSTILE.replace(/[\u0001\u001b\u0007]/g, '\uFFFD'));
  });

  it('fails a threshold testcase with the measured value in the message and in system-out', async () => {
    const s = structuredClone(base.summary);
    s.thresholds[0] = { ...s.thresholds[0], ok: false, value: 312_000, display: '312ms' };
    s.thresholds.push({ metric: 'poll.latency', expression: 'p(99) < 1ms & "<x>"', value: null, display: 'no data', ok: false });
    s.result = { verdict: 'thresholds_failed', exitCode: 99, reasons: ['threshold failed'] };
    const file = await write('thresholds', s);
    expect(validate(file).ok).toBe(true);
    expect(Number(xpath(file, 'string(/testsuites/@failures)'))).toBe(2);
    expect(Number(xpath(file, 'string(//testsuite/@failures)'))).toBe(2);
    expect(xpath(file, 'string(//testcase[1]/failure/@message)')).toContain('measured 312ms');
    expect(xpath(file, 'string(//testcase[1]/system-out)')).toContain('measured: 312ms');
    expect(xpath(file, `string(//testcase[@name='poll.latency: p(99) < 1ms & "<x>"']/failure/@message)`)).toContain('no data');
    expect(Number(xpath(file, "count(//testcase[@name='run completed']/failure)"))).toBe(0);
  });

  it('fails "run completed" when the run was interrupted, the identity broke or the generator saturated', async () => {
    const cases: Array<[string, (s: RunSummary) => void, RegExp]> = [
      ['interrupted', (s) => (s.run.status = 'interrupted'), /status is interrupted/],
      ['identity', (s) => { s.accounting.holds = false; s.accounting.buffered += 7; }, /accounting identity does not hold/],
      ['saturated', (s) => { s.generator.saturated = true; s.generator.maxScheduleLagMs = 2500; }, /generator saturated/],
    ];
    for (const [name, mutate, why] of cases) {
      const s = structuredClone(base.summary);
      mutate(s);
      const file = await write(name, s);
      expect(validate(file).ok, name).toBe(true);
      expect(xpath(file, "string(//testcase[@name='run completed']/failure/@message)"), name).toMatch(why);
    }
  });

  it('the schema is not a rubber stamp: it rejects a testcase without a name', async () => {
    const file = await write('pass-again', base.summary);
    const broken = join(root, 'broken.xml');
    await writeFile(broken, (await readFile(file, 'utf8')).replace('<testcase name="run completed"', '<testcase'));
    expect(validate(broken).ok).toBe(false);
  });
});
