import type { CostResults, YearsResults } from '../../summary/run-summary.js';

/** The cost and years results as counters, so that thresholds can assert them (metrics/catalog.ts, DERIVED). */
export function addCostAndYearsCounters(counters: Record<string, number>, cost: CostResults | undefined, years: YearsResults | undefined): void {
  if (cost) {
    counters['cost.device_month'] = cost.costPerDeviceMonth;
    counters['data.device_month'] = cost.bytesPerDeviceMonth;
  }
  if (years) {
    const sum = (f: (r: YearsResults['rows'][number]) => number) => years.rows.reduce((a, r) => a + f(r), 0);
    counters['lifetime.devices'] = years.devices;
    counters['lifetime.failed'] = sum((r) => r.failed.hardware + r.failed.storage + r.failed.battery + r.failed.bricked);
    counters['lifetime.bricked'] = sum((r) => r.failed.bricked);
    counters['lifetime.installs'] = years.campaigns.reduce((a, c) => a + c.installs, 0);
    counters['lifetime.replacements'] = sum((r) => r.replacements);
    counters['lifetime.in_field'] = years.rows.length > 0 ? years.rows[years.rows.length - 1].inField : 0;
  }
}
