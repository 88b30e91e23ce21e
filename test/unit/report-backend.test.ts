import { describe, expect, it } from 'vitest';
import { formatSummaryTable } from '../../src/report/console.js';
import { renderHtml } from '../../src/report/html.js';
import { headlineTiles } from '../../src/report/html-headline.js';
import type { BackendQueues } from '../../src/summary/backend-queues.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/** summary.json `backend` (a sized backend on the virtual clock) in the console summary and report.html. */
describe('backend queues in the reports', () => {
  const queues: BackendQueues = {
    lockstepMs: 100,
    operations: {
      connect: { servers: 96, queueLimit: 20_000, whenFull: 'reject', arrivals: 105_123, served: 104_000, rejected: 1_123, dropped: 0, utilisation: 0.4213, waitMs: { mean: 120.5, p50: 0, p99: 1_512, max: 2_230 }, waitedShare: 0.2345, heldToStep: { count: 9_876, meanMs: 42.1 } },
      poll: { servers: 2, queueLimit: null, whenFull: 'drop', arrivals: 500, served: 500, rejected: 0, dropped: 0, utilisation: 0.01, waitMs: { mean: 0, p50: 0, p99: 0, max: 0 }, waitedShare: 0, heldToStep: { count: 3, meanMs: 7 } },
    },
  };
  const run = () => {
    const r = syntheticRun({ intervals: 20, devices: 100 });
    r.summary.backend = structuredClone(queues);
    r.summary.thresholds = [{ metric: 'mqtt.connect.latency', expression: 'p(99) < 2s', ok: true, value: 1_640_000, display: '1.64 s' } as (typeof r.summary.thresholds)[number]];
    r.summary.histograms['mqtt.connect.latency'] = structuredClone(r.summary.histograms['telemetry.ack.latency']);
    return r;
  };

  it('the console summary has one row per queueing operation with every statistic', () => {
    const text = formatSummaryTable(run().summary);
    expect(text).toContain('BACKEND QUEUES');
    const row = text.split('\n').find((l) => l.trim().startsWith('connect '))!;
    for (const v of ['96', '20,000', '105,123', '104,000', '1,123', '42.1%', '23.4%', '9,876']) expect(row).toContain(v);
    expect(text.split('\n').find((l) => l.trim().startsWith('poll '))).toContain('no limit');
  });

  it('report.html has the table in its own section, and a sized backend leads the tiles with its answer', () => {
    const { summary, timeline } = run();
    const html = renderHtml(summary, timeline);
    expect(html).toContain('<a href="#backend">Backend</a>');
    const section = html.slice(html.indexOf('<section id="backend">'));
    expect(section).toContain('id="backend-backend-queues"');
    expect(section).toContain('<td>connect</td><td class="num">96</td><td>20,000</td><td class="num">105,123</td><td class="num">104,000</td><td class="num">1,123</td><td class="num">0</td><td class="num">42.1%</td>');
    const tiles = headlineTiles(summary, timeline);
    expect(tiles.slice(0, 4).map((t) => t.kind)).toEqual(['backend', 'backend', 'backend', 'backend']);
    expect(tiles[0]).toMatchObject({ value: '96', label: 'connect servers · 42.1% busy' });
    expect(tiles[1]).toMatchObject({ label: 'connect latency p99 on devices · p(99) < 2s held', tone: 'good' });
    expect(tiles[3]).toMatchObject({ value: '1,123', label: 'connects turned away of 105,123 (rejected when full)', tone: 'bad' });
  });

  it('a run without a sized backend shows neither', () => {
    const { summary, timeline } = syntheticRun({ intervals: 20, devices: 100 });
    expect(formatSummaryTable(summary)).not.toContain('BACKEND QUEUES');
    expect(renderHtml(summary, timeline)).not.toContain('id="backend"');
    expect(headlineTiles(summary, timeline).some((t) => t.kind === 'backend')).toBe(false);
  });
});
