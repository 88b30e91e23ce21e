import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryJsonWriter } from '../../src/report/summary-json.js';
import { writeReport } from '../../src/report/writer.js';
import { runCli } from '../helpers/cli.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/**
 * `fleetsim compare` and `fleetsim report` as CI runs them: the built CLI in a subprocess
 * (`npm test` builds first), real report directories, exit codes checked.
 */
let root: string;
let baseDir: string;
let sameDir: string;
let slowDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fleetsim-compare-'));
  baseDir = join(root, 'base');
  sameDir = join(root, 'same');
  slowDir = join(root, 'slow');
  const base = syntheticRun({ intervals: 30, devices: 120 });
  await writeReport(baseDir, base.summary, base.timeline);
  // Same seed, same inputs: an unchanged rerun.
  const same = syntheticRun({ intervals: 30, devices: 120 });
  await summaryJsonWriter.write(sameDir, same.summary, same.timeline);
  // The slowest ~4% of acks take twice as long: p99 doubles, p50 does not move.
  const slow = syntheticRun({ intervals: 30, devices: 120, tailFactor: 2 });
  await summaryJsonWriter.write(slowDir, slow.summary, slow.timeline);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const RULES = ['--max-regression', 'telemetry.ack.latency:p(99)=+10%', '--max-regression', 'telemetry.failed:count=+0'];

describe('fleetsim compare', () => {
  it('exits 0 for an unchanged run', async () => {
    const r = await runCli(['compare', baseDir, join(sameDir, 'summary.json'), ...RULES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓\s+telemetry\.ack\.latency:p\(99\)=\+10%/);
    expect(r.stdout).toContain('all 2 regression rules held (exit 0)');
  });

  it('exits 99 on an injected regression (p99 ×2) and shows the offending row', async () => {
    const r = await runCli(['compare', baseDir, slowDir, ...RULES]);
    expect(r.code).toBe(99);
    const row = r.stdout.split('\n').find((l) => l.includes('telemetry.ack.latency:p(99)=+10%'));
    expect(row).toMatch(/^✗/);
    // base → current, both shown, the change near +100%.
    const change = Number(/\+(\d+\.\d)%\s*$/.exec(row!)![1]);
    expect(change).toBeGreaterThan(95);
    expect(change).toBeLessThan(105);
    expect(r.stdout).toMatch(/✓\s+telemetry\.failed:count=\+0/);
    expect(r.stdout).toContain('1 of 2 regression rules violated (exit 99)');
  });

  it('applies absolute allowances (=+5ms)', async () => {
    const loose = await runCli(['compare', baseDir, slowDir, '--max-regression', 'telemetry.ack.latency:p(50)=+5ms']);
    expect(loose.code).toBe(0);
    const tight = await runCli(['compare', baseDir, slowDir, '--max-regression', 'telemetry.ack.latency:max=+5ms']);
    expect(tight.code).toBe(99);
  });

  it('prints a GitHub markdown table with --format md', async () => {
    const r = await runCli(['compare', baseDir, slowDir, ...RULES, '--format', 'md']);
    expect(r.code).toBe(99);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^### fleetsim compare: ❌ 1 regression/);
    expect(lines).toContain('| | rule | base | current | limit | change |');
    expect(lines).toContain('|:-:|---|---:|---:|---:|---:|');
    const rule = lines.find((l) => l.includes('`telemetry.ack.latency:p(99)=+10%`'));
    expect(rule).toMatch(/^\| ❌ \|/);
    // Every table row has the same number of cells as its header.
    const rows = lines.filter((l) => l.startsWith('| `telemetry.ack.latency`'));
    expect(rows.length).toBe(7);
    for (const l of rows) expect(l.split(' | ').length).toBe(5);
  });

  it('prints the comparison as JSON with --format json', async () => {
    const r = await runCli(['compare', baseDir, slowDir, ...RULES, '--format', 'json']);
    expect(r.code).toBe(99);
    const c = JSON.parse(r.stdout);
    expect(c.exitCode).toBe(99);
    expect(c.violations).toBe(1);
    const p50 = c.histograms.find((h: { metric: string; stat: string }) => h.metric === 'telemetry.ack.latency' && h.stat === 'p50');
    expect(Math.abs(p50.deltaPct)).toBeLessThan(1);
  });

  it('exits 2 for an unknown metric, bad rule syntax, a bad format or a missing report', async () => {
    const unknown = await runCli(['compare', baseDir, slowDir, '--max-regression', 'telemetry.ack.latencyy:p(99)=+10%']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('FLEETSIM_E_UNKNOWN_METRIC');
    expect(unknown.stderr).toContain('telemetry.ack.latency');
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
    const syntax = await runCli(['compare', baseDir, slowDir, '--max-regression', 'telemetry.ack.latency<10%']);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('FLEETSIM_E_USAGE');
    const noUnit = await runCli(['compare', baseDir, slowDir, '--max-regression', 'telemetry.ack.latency:p(99)=+5']);
    expect(noUnit.code).toBe(2);
    const format = await runCli(['compare', baseDir, slowDir, '--format', 'html']);
    expect(format.code).toBe(2);
    const missing = await runCli(['compare', baseDir, join(root, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('FLEETSIM_E_REPORT_INVALID');
  });
});

describe('fleetsim report', () => {
  it('re-renders report.html and junit.xml from a saved run and prints their paths', async () => {
    const r = await runCli(['report', baseDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([join(baseDir, 'junit.xml'), join(baseDir, 'report.html')]);
  });

  it('refuses a summary of another schema version with exit 2 and a hint', async () => {
    const dir = join(root, 'future');
    await writeReport(dir, { ...syntheticRun({ intervals: 3, devices: 4 }).summary, schemaVersion: 2 as 1 }, []);
    const r = await runCli(['report', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FLEETSIM_E_REPORT_INVALID');
    expect(r.stderr).toContain('schemaVersion 2');
    expect(r.stderr).toContain('hint:');
    await writeFile(join(dir, 'summary.json'), '{"schemaVersion": 1, "run": ');
    expect((await runCli(['report', dir])).code).toBe(2);
  });
});
