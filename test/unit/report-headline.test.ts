import { describe, expect, it } from 'vitest';
import { headlineTiles } from '../../src/report/html-headline.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/** The tiles on top of report.html answer what the scenario exists to answer. */
describe('headline tiles', () => {
  const line = (tiles: ReturnType<typeof headlineTiles>) => tiles.map((t) => `${t.kind}: ${t.value} | ${t.label}`);

  it('a provisioning line leads with devices per second and the devices waiting for approval', () => {
    const { summary, timeline } = syntheticRun({ intervals: 20, devices: 100 });
    summary.counters['provision.eol_ok'] = 100;
    summary.counters['provision.pending'] = 7;
    summary.gauges['devices.provisioned'] = summary.counters['devices.powered_on'] - 3;
    const tiles = line(headlineTiles(summary, timeline));
    expect(tiles[0]).toMatch(/^provisioning: [\d.]+\/s \| devices provisioned per second \(100 in all\)$/);
    expect(tiles[1]).toBe('provisioning: 3 | pending approval at the end');
  });

  it('a battery run whose projection was refused says so instead of a number', () => {
    const { summary, timeline } = syntheticRun({ intervals: 20, devices: 100, full: true });
    delete summary.fleet!.ota;
    delete summary.fleet!.batteryYears;
    const tiles = line(headlineTiles(summary, timeline));
    expect(tiles[0]).toBe('battery: not projected | battery lifetime: the run is too short to know');
  });

  it('"online at the end" is the peak and the count just before the end', () => {
    const { summary, timeline } = syntheticRun({ intervals: 20, devices: 100 });
    expect(summary.online).toEqual({ peak: 100, peakAtMs: expect.any(Number), beforeEnd: 100, beforeEndAtMs: expect.any(Number) });
    expect(line(headlineTiles(summary, timeline))).toContain('online: 100 | peak online of 100 · 100 just before the end');
  });

  it('a run without telemetry shows no telemetry tiles ("0 acked", "– p99")', () => {
    const { summary, timeline } = syntheticRun({ intervals: 20, devices: 100, full: true });
    summary.accounting.generated = 0;
    summary.counters['telemetry.generated'] = 0;
    expect(headlineTiles(summary, timeline).filter((t) => t.kind === 'telemetry')).toEqual([]);
  });
});
