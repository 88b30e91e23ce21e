import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';

/**
 * `fleetsim` is a bundle (scripts/bundle-cli.mjs): dist/cli/main.js, its own shard worker
 * (dist/cli/shard-worker.js) and chunks. The same code also runs as tsc's modules
 * (`node dist/cli/program.js`). A run must not depend on which one started it: same counters, same
 * timeline, with shards as the bundle's worker threads and as shard processes (which the bundle
 * starts from the modules, dist/cli/shard-process.js).
 */
const MODULES = path.join(ROOT, 'dist/cli/program.js');

const SCENARIO = `name: bundle-equal
seed: 7
duration: 2h
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: 3000, link: nb-iot, cells: 20 }
arrival: { rate: 500/s }
behaviour:
  telemetry: { every: 5m, jitter: 10%, size: 120B, qos: 1 }
  offline: { availability: 90%, downtime: { distribution: lognormal, median: 3m } }
options:
  snapshotEvery: 5m
`;

interface Ran {
  counters: Record<string, number>;
  histograms: unknown;
  rows: unknown[];
  events: number;
}

describe('the bundled CLI and the modules run the same fleet', () => {
  let tmp: string;
  let file: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'fleetsim-bundle-'));
    file = path.join(tmp, 'fleet.yaml');
    writeFileSync(file, SCENARIO);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** One run of the scenario by `entry` (a CLI's file); its report's counters and timeline. */
  async function run(label: string, entry: string, extra: string[], layout: string[] = []): Promise<Ran> {
    const out = path.join(tmp, label);
    const child = spawn(process.execPath, [entry, 'run', file, ...extra, '-q', '-o', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    // The run's banner (and the shard processes' layout) go to stderr; nothing else may.
    expect(stderr.trim().split('\n'), label).toEqual(['fleetsim: bundle-equal: 3000 devices, 2 worker(s), virtual clock', ...layout]);
    expect(code, label).toBe(0);
    return read(out);
  }

  function read(out: string): Ran {
    const [dir] = readdirSync(out);
    const summary = JSON.parse(readFileSync(path.join(out, dir, 'summary.json'), 'utf8')) as { counters: Record<string, number>; histograms: unknown; run: { events: number } };
    // Timeline rows without the wall-clock fields of the run that wrote them.
    const rows = readFileSync(path.join(out, dir, 'timeline.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map(({ interval, tMs, counters, gauges }) => ({ interval, tMs, counters, gauges }));
    return { counters: summary.counters, histograms: summary.histograms, rows, events: summary.run.events };
  }

  test('bundle with worker threads, modules with worker threads, bundle with shard processes', async () => {
    const bundled = await run('bundle-threads', CLI, ['-w', '2']);
    const modules = await run('modules-threads', MODULES, ['-w', '2']);
    const processes = await run('bundle-processes', CLI, ['-w', '2', '--processes', '2'], ['shard processes: 2 x 1 worker thread(s)']);

    // The run did what the scenario asks (the comparison is not of two empty runs).
    expect(bundled.counters['devices.powered_on']).toBe(3000);
    expect(bundled.counters['telemetry.acked']).toBeGreaterThan(3000 * 20);
    expect(bundled.counters['link.down']).toBeGreaterThan(0);
    expect(bundled.rows.length).toBeGreaterThanOrEqual(24);

    expect(modules.counters).toEqual(bundled.counters);
    expect(modules.histograms).toEqual(bundled.histograms);
    expect(modules.rows).toEqual(bundled.rows);
    expect(modules.events).toBe(bundled.events);
    expect(processes.counters).toEqual(bundled.counters);
    expect(processes.histograms).toEqual(bundled.histograms);
    expect(processes.rows).toEqual(bundled.rows);
  });
});
