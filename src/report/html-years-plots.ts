import type { PlotSpec } from './plot-spec.js';
import type { RunSummary } from '../summary/run-summary.js';

/**
 * The plots of `years` (the fleet over years): failures of each kind and replacements per year,
 * and each revision's failure curve (share of its devices failed by random hardware failures, by
 * age). The tables beside them (longrun-tables.ts) carry the same numbers.
 */
export function yearsPlots(summary: RunSummary): PlotSpec[] {
  const y = summary.years;
  if (!y) return [];
  const rows = y.rows;
  const perYear = (name: string, pick: (r: (typeof rows)[number]) => number) => ({ name, points: rows.map((r) => [r.year, pick(r)] as [number, number]) });
  const series = [
    perYear('hardware failed', (r) => r.failed.hardware),
    perYear('worn out (storage)', (r) => r.failed.storage),
    perYear('battery', (r) => r.failed.battery),
    perYear('bricked', (r) => r.failed.bricked),
    perYear('replaced', (r) => r.replacements),
  ].filter((s) => s.points.some(([, v]) => v > 0));
  return [
    {
      id: 'years-failures', section: 'years', title: 'Failures and replacements per year', subtitle: `devices that failed in each year, by cause, and the units that replaced them (${y.years} years)`,
      x: { kind: 'linear', unit: 'count', label: 'year', min: 1, max: Math.max(1, y.years) }, y: { unit: 'count', label: 'devices' }, series,
    },
    {
      // Age in days on the axis, which reads in years (0y 2y 4y) like the battery lifetime plot.
      id: 'years-failure-curve', section: 'years', title: 'Failure curve', subtitle: 'share of each revision failed by random hardware failures, by age (bathtub Weibull)',
      x: { kind: 'linear', unit: 'days', label: 'age', min: 0 }, y: { unit: 'share', label: 'failed' },
      series: y.profiles.map((p) => ({ name: `${p.profile} (group ${p.group})`, points: p.failureCurve.map(([t, f]) => [t * 365.25, f] as [number, number]) })),
    },
  ];
}
