import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';

const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios/runs', name);
let out: string;

beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'fleetsim-cli-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function onlyRunDir(parent: string): Promise<string> {
  const dirs = await readdir(parent);
  expect(dirs).toHaveLength(1);
  return path.join(parent, dirs[0]);
}

describe('fleetsim run (CLI)', () => {
  it('runs the smoke scenario, prints the summary and writes every report file', async () => {
    const dir = path.join(out, 'smoke');
    const r = await runCli(['run', 'scenarios/smoke.yaml', '--workers', '2', '--out', dir]);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ACCOUNTING/);
    expect(r.stdout).toMatch(/holds/);
    const run = await onlyRunDir(dir);
    for (const f of ['summary.json', 'timeline.ndjson', 'junit.xml', 'report.html']) expect((await stat(path.join(run, f))).size).toBeGreaterThan(0);
    const summary = JSON.parse(await readFile(path.join(run, 'summary.json'), 'utf8'));
    expect(summary.schemaVersion).toBe(1);
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.backend.lostBetween).toBe(0);
  });

  it('progress off a terminal: the virtual-clock bar reaches 100% of the simulated horizon in ~20 lines of at most 80 columns', async () => {
    const dir = path.join(out, 'progress');
    const file = path.join(out, 'progress.yaml');
    // One year projected from 2 days simulated, 288 snapshots: the bar used to stay at 0% over 288 lines.
    await writeFile(
      file,
      `name: progress
seed: 1
duration: 1y
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 50, link: nb-iot }
arrival: { rate: 100/s }
behaviour:
  telemetry: { every: 15m, size: 100B, qos: 1 }
  session: per-report
options:
  snapshotEvery: 10m
  projectAfter: 2d
`,
    );
    const r = await runCli(['run', file, '--workers', '1', '--out', dir], { env: { CI: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^\s*\d+%/.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(20);
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(lines.at(-1)).toMatch(/^100%\s+2d00h\/2d00h/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('reports an overloaded generator as an invalid measurement (exit 3), blaming the generator, not the backend', async () => {
    // The overload is injected (the shard's thread stalls 500 ms every 200 ms), so the outcome
    // does not depend on how fast this machine is; the bound comes from the scenario's tightest
    // latency threshold (p(99) < 400ms -> 200 ms), not from the fixed 2 s default.
    const dir = path.join(out, 'overload');
    const r = await runCli(['run', fixture('generator-stall.yaml'), '--workers', '1', '--quiet', '--out', dir], { env: { FLEETSIM_TEST_STALL_MS: '500' } });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const summary = JSON.parse(await readFile(path.join(await onlyRunDir(dir), 'summary.json'), 'utf8'));
    expect(summary.generator.boundMs).toBe(200);
    expect(summary.generator.boundSource).toBe('50% of the tightest latency threshold, telemetry.ack.latency p(99) < 400ms');
    expect(summary.generator.maxScheduleLagMs).toBeGreaterThan(200);
    expect(summary.generator.maxEventLoopDelayMs).toBeGreaterThan(200);
    expect(summary.generator.saturated).toBe(true);
    expect(summary.result.verdict).toBe('invalid');
    const why = summary.result.reasons.join(' ');
    expect(why).toMatch(/the load generator \(fleetsim on this machine, not the backend\) ran events up to .* behind schedule/);
    expect(why).toContain('over its bound of 200.0ms (50% of the tightest latency threshold, telemetry.ack.latency p(99) < 400ms)');
    expect(r.stdout).toMatch(/✗ schedule lag .* bound 200.0ms .*SATURATED/);
    expect(summary.accounting.holds).toBe(true);
  });

  it('does not count the shards closing their sessions after the run as generator load', async () => {
    // Each shard blocks its thread 3 x 1.2 s while it disconnects (injected), over the 1 s
    // bound: at 500,000 sessions that teardown took 31.8 s and made a healthy run invalid.
    const dir = path.join(out, 'teardown');
    const r = await runCli(['run', fixture('teardown-stall.yaml'), '--workers', '1', '--quiet', '--out', dir], { env: { FLEETSIM_TEST_TEARDOWN_STALL_MS: '1200' } });
    const summary = JSON.parse(await readFile(path.join(await onlyRunDir(dir), 'summary.json'), 'utf8'));
    expect(summary.generator.boundMs).toBe(1000);
    expect(summary.generator.maxEventLoopDelayMs, JSON.stringify(summary.generator)).toBeLessThan(1000);
    expect(summary.generator.saturated).toBe(false);
    expect(summary.result.verdict, summary.result.reasons.join('; ')).toBe('passed');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('takes no periodic snapshot once the shards start closing their sessions: "online just before the end" is what was online', async () => {
    // The teardown blocks 3 x 300 ms, yielding in between, so snapshot timers (every 250 ms) fall
    // inside it. Rows taken there showed 0 devices online before the final row, and the summary
    // said 0 were online just before the end of a run that had all 10 online until it ended.
    const dir = path.join(out, 'teardown-rows');
    const r = await runCli(['run', fixture('teardown-rows.yaml'), '--workers', '1', '--quiet', '--out', dir], { env: { FLEETSIM_TEST_TEARDOWN_STALL_MS: '300' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const run = await onlyRunDir(dir);
    const summary = JSON.parse(await readFile(path.join(run, 'summary.json'), 'utf8'));
    expect(summary.online).toMatchObject({ peak: 10, beforeEnd: 10 });
    const rows = (await readFile(path.join(run, 'timeline.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const online = rows.map((row) => row.gauges['devices.online']);
    // All 10 are on within 0.1 s; the first row is at 250 ms. Only the last row is after the teardown.
    expect(online.slice(0, -1).every((n) => n === 10), online.join(' ')).toBe(true);
    expect(online.at(-1)).toBe(0);
    expect(summary.accounting.holds).toBe(true);
  });

  it('on SIGINT stops gracefully, writes a partial report marked interrupted (exit 130) that `report` renders', async () => {
    const dir = path.join(out, 'interrupt');
    const metricsLine = /metrics: (http:\/\/\S+)/;
    const { child, done } = startCli(['run', fixture('long.yaml'), '--workers', '1', '--out', dir, '--metrics-port', '0']);
    // Wait until the run is under way (a progress line), then interrupt.
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (/\d+\/20 online|online/.test(stderr) && metricsLine.test(stderr)) resolve();
      });
    });
    // The live Prometheus endpoint answers while the run is under way.
    const url = metricsLine.exec(stderr)![1];
    // Scraped until acks have been counted (a merged interval with acks reached the endpoint).
    let scrape = '';
    const acked = /fleetsim_telemetry_acked_total\{[^}]*\} [1-9]/;
    await waitFor(async () => acked.test((scrape = await fetch(url).then((res) => res.text()))), 'acks on the live endpoint', 20_000, 100);
    expect(scrape).toMatch(/fleetsim_latency_seconds\{[^}]*metric="telemetry.ack.latency"[^}]*quantile="0.99"/);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    const run = await onlyRunDir(dir);
    const summary = JSON.parse(await readFile(path.join(run, 'summary.json'), 'utf8'));
    expect(summary.run.status).toBe('interrupted');
    expect(summary.result.verdict).toBe('interrupted');
    expect(summary.accounting.holds).toBe(true);
    expect(summary.run.durationMs).toBeLessThan(60_000);

    await rm(path.join(run, 'report.html'));
    const rendered = await runCli(['report', run]);
    expect(rendered.code, rendered.stderr).toBe(0);
    const html = await readFile(path.join(run, 'report.html'), 'utf8');
    expect(html).toMatch(/interrupted/);
  });

  it('writes a CPU profile per shard with --profile cpu', async () => {
    const dir = path.join(out, 'profile');
    const r = await runCli(['run', 'scenarios/smoke.yaml', '--workers', '2', '--quiet', '--duration', '3s', '--profile', 'cpu', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    const run = await onlyRunDir(dir);
    for (const shard of [0, 1]) {
      const profile = JSON.parse(await readFile(path.join(run, `shard-${shard}.cpuprofile`), 'utf8'));
      expect(profile.nodes.length).toBeGreaterThan(10);
    }
  });

  it('rejects a bad flag with exit 2 and a hint, no stack trace', async () => {
    const r = await runCli(['run', 'scenarios/smoke.yaml', '--workers', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FLEETSIM_E_USAGE/);
    expect(r.stderr).toMatch(/hint:/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
