import { describe, expect, it } from 'vitest';
import { buildPlots } from '../../src/report/html-plots.js';
import { renderHtml } from '../../src/report/html.js';
import type { RunSummary } from '../../src/summary/run-summary.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

/** The fleet over years in report.html: failures and replacements per year, and the failure curve, as charts. */
describe('years plots', () => {
  const row = (year: number, hw: number, storage: number, replaced: number) => ({ year, produced: 1000, replacements: replaced, failed: { hardware: hw, storage, battery: 0, bricked: 2 }, retired: 0, decommissioned: hw + storage, inField: 1000 * year, working: 990 * year, onlineShare: 0.98, releases: { 'app-1': 990 * year } });
  const years = {
    years: 3,
    devices: 3100,
    rows: [row(1, 10, 0, 12), row(2, 6, 1, 9), row(3, 8, 30, 40)],
    campaigns: [],
    profiles: [{ group: 0, profile: 'nrf9160-tracker', storage: 'nor', enduranceBytes: 1e9, writesPerDay: 1e5, wearoutYears: null, hardwareFailedShare: 0.03, slots: 'A/B', cutsPerYear: 2, installWindowS: 30, brickPerInstall: 0, batteryYearsP50: 4, failureCurve: [[0, 0], [0.5, 0.006], [1, 0.01], [2, 0.018], [3, 0.03]] as Array<[number, number]> }],
  } as unknown as NonNullable<RunSummary['years']>;

  it('per-year failures by cause with replacements, and the failure curve by age in days', () => {
    const { summary, timeline } = syntheticRun({ intervals: 10, devices: 20 });
    summary.years = years;
    const plots = buildPlots(summary, timeline).filter((p) => p.section === 'years');
    expect(plots.map((p) => p.id)).toEqual(['years-failures', 'years-failure-curve']);
    const perYear = plots[0];
    // battery: never failed, so no series; bricked: 2 a year.
    expect(perYear.series.map((s) => s.name)).toEqual(['hardware failed', 'worn out (storage)', 'bricked', 'replaced']);
    expect(perYear.series.find((s) => s.name === 'replaced')!.points).toEqual([[1, 12], [2, 9], [3, 40]]);
    expect(plots[1].series[0].points.at(-1)).toEqual([3 * 365.25, 0.03]);
    const html = renderHtml(summary, timeline);
    const section = html.slice(html.indexOf('<section id="years">'));
    expect(section).toContain('data-plot="years-failures"');
    expect(section).toContain('data-plot="years-failure-curve"');
  });

  it('no years, no years plots', () => {
    const { summary, timeline } = syntheticRun({ intervals: 10, devices: 20 });
    expect(buildPlots(summary, timeline).some((p) => p.section === 'years')).toBe(false);
  });
});
