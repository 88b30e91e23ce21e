import type { TimelineRow } from '../../metrics/aggregate.js';
import { failedShare } from '../../models/hardware-failure.js';
import { resolveFaults } from '../../models/hardware-faults.js';
import { projectedBatteryLifeYears } from '../../models/hardware-lifetime.js';
import { brickPerInstall, installWindowS } from '../../models/power-loss.js';
import { enduranceHostBytes, hostBytesPerDay, ratedWearoutYears, wearoutScaleYears } from '../../models/storage-wear.js';
import { simulateYears, type Revision } from '../../models/fleet-years.js';
import { INITIAL_RELEASE_NAME } from '../../wire/reference-protocol.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { FleetResults, YearsResults } from '../../summary/run-summary.js';
import { measuredUsage } from './usage.js';

const YEAR_MS = 365 * 86_400_000;
/** Storage a profile has when its `faults.storage.type` is not given: small parts are NOR flash. */
const NOR_UP_TO_BYTES = 64 * 1024 * 1024;

/** Battery lifetimes (years) as 101 quantiles of the run's projection for a profile, or the closed form. */
function batteryQuantiles(s: ResolvedScenario, group: ResolvedScenario['fleet'][number], fleet: FleetResults | undefined): number[] {
  const hw = group.hardware;
  const pts = fleet?.batteryLifetime?.find((b) => b.profile === group.profile)?.percentiles;
  if (pts && pts.length > 1) {
    const out: number[] = [];
    for (let q = 0; q <= 100; q++) {
      let i = 1;
      while (i < pts.length - 1 && pts[i][0] < q) i++;
      const [p0, d0] = pts[i - 1];
      const [p1, d1] = pts[i];
      const days = p1 > p0 ? d0 + ((q - p0) / (p1 - p0)) * (d1 - d0) : d1;
      out.push(days / 365.25);
    }
    return out;
  }
  if (!hw || !s.behaviour.telemetry) return [];
  const y = projectedBatteryLifeYears(hw, s.behaviour.telemetry.everyMs / 1000);
  return y === undefined || !Number.isFinite(y) ? [] : [y];
}

/**
 * The `years` member of a summary: the fleet over `lifetime.years` (models/fleet-years.ts), each
 * production batch a fleet group whose simulated days set its writes, battery life and data use.
 */
export function yearsResults(s: ResolvedScenario, counters: Readonly<Record<string, number>>, timeline: readonly TimelineRow[], fleet: FleetResults | undefined): YearsResults | undefined {
  const l = s.lifetime;
  if (!l) return undefined;
  const { usage, logLinesPerDay } = measuredUsage(s, counters, timeline);
  const availability = s.behaviour.offline?.availability ?? 1;
  const imageBytes = l.campaigns.length > 0 ? l.campaigns.reduce((a, c) => a + c.imageBytes, 0) / l.campaigns.length : 0;
  const installsPerDay = l.campaigns.length / (l.years * 365.25);
  const used = [...new Set(l.production.map((b) => b.group))].sort((a, b) => a - b);
  const revisions: Revision[] = [];
  const profiles: YearsResults['profiles'] = [];
  for (const gi of used) {
    const g = s.fleet[gi];
    const hw = g.hardware;
    const capacity = hw?.storage.bytes ?? 1e9;
    const f = resolveFaults(hw?.faults, capacity <= NOR_UP_TO_BYTES ? 'nor-flash' : 'emmc');
    const records = usage.reports * (l.storeReports === 'all' ? 1 : 1 - availability);
    const perDay = hostBytesPerDay(f.storage, { records, recordBytes: usage.payloadBytes, logLines: logLinesPerDay, logLineBytes: s.behaviour.fleetOps.logs?.lineBytes ?? 0, installsPerDay, imageBytes, backgroundBytes: f.storage.backgroundBytesPerDay });
    const rated = ratedWearoutYears(f.storage, capacity, perDay);
    const window = hw ? installWindowS(imageBytes, hw.storage.writeBytesPerSec, hw.rebootMs / 1000) : 0;
    const battery = batteryQuantiles(s, g, fleet);
    revisions.push({ name: `${g.profile} (group ${gi})`, hazard: f.hazard, wearShape: f.storage.spread, wearScaleYears: Number.isFinite(rated) ? wearoutScaleYears(rated, f.storage.spread) : Infinity, batteryYears: battery, power: f.power, installWindowS: window });
    const curve: Array<[number, number]> = [];
    for (let t = 0; t <= l.years * 4; t++) curve.push([t / 4, failedShare(f.hazard, t / 4)]);
    profiles.push({
      group: gi,
      profile: g.profile,
      storage: f.storage.type,
      enduranceBytes: enduranceHostBytes(f.storage, capacity),
      writesPerDay: perDay,
      wearoutYears: Number.isFinite(rated) ? rated : null,
      hardwareFailedShare: failedShare(f.hazard, l.years),
      slots: f.power.slots,
      cutsPerYear: f.power.cutsPerYear,
      installWindowS: window,
      brickPerInstall: brickPerInstall(f.power, window),
      batteryYearsP50: battery.length > 0 ? battery[Math.floor(battery.length / 2)] : null,
      failureCurve: curve,
    });
  }
  const index = new Map(used.map((g, i) => [g, i]));
  const r = simulateYears({
    seed: s.seed,
    years: l.years,
    revisions,
    production: l.production.map((b) => ({ startMonth: b.startMonth, months: b.months, perMonth: b.perMonth, revision: index.get(b.group)! })),
    campaigns: l.campaigns.map((c) => ({ release: c.release, atYears: c.atMs / YEAR_MS, spreadYears: c.spreadMs / YEAR_MS })),
    retireAtYears: l.retireAtMs === undefined ? Infinity : l.retireAtMs / YEAR_MS,
    replace: l.replace,
    replaceAfterYears: l.replaceAfterMs / YEAR_MS,
    availability,
    initialRelease: INITIAL_RELEASE_NAME,
  });
  return { years: l.years, devices: r.devices, rows: r.rows, campaigns: r.campaigns, profiles };
}
