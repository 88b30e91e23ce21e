import type { TimelineRow } from '../../metrics/aggregate.js';
import { SECONDS_PER_YEAR } from '../../models/battery.js';
import type { FleetResults } from '../../summary/run-summary.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import { energyJOf, type EnergyProjection, type PerDevice } from '../../fleet/energy-meter.js';
import { projectProfile, yearsOf } from './battery-projection.js';

const LIFETIME_PERCENTILES = [0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100];

/** Nearest-rank percentile of an ascending array. */
function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** `parts` end to end, in one Float64Array. */
function concatenated(parts: readonly PerDevice[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Merges the shards' per-profile energy (per-device samples concatenated, energies added). */
export function mergeProjections(parts: EnergyProjection[][]): EnergyProjection[] {
  const byProfile = new Map<string, { m: EnergyProjection; oneOffJ: PerDevice[]; recurringJ: PerDevice[]; windowS: PerDevice[]; depletedAfterS: PerDevice[] }>();
  for (const list of parts) {
    for (const p of list) {
      const seen = byProfile.get(p.profile);
      if (!seen) {
        const m = { ...p, energyJ: { ...p.energyJ }, energyNJ: { ...p.energyNJ } };
        byProfile.set(p.profile, { m, oneOffJ: [p.running.oneOffJ], recurringJ: [p.running.recurringJ], windowS: [p.running.windowS], depletedAfterS: [p.depletedAfterS] });
        continue;
      }
      const m = seen.m;
      m.devices += p.devices;
      m.batteryDevices += p.batteryDevices;
      m.depleted += p.depleted;
      m.notStarted += p.notStarted;
      m.lastPowerOnMs = Math.max(m.lastPowerOnMs, p.lastPowerOnMs);
      seen.oneOffJ.push(p.running.oneOffJ);
      seen.recurringJ.push(p.running.recurringJ);
      seen.windowS.push(p.running.windowS);
      seen.depletedAfterS.push(p.depletedAfterS);
      // Exact integer sums, then J: the same totals whatever the split into shards.
      m.energyNJ.sleep += p.energyNJ.sleep;
      m.energyNJ.cpu += p.energyNJ.cpu;
      m.energyNJ.radio += p.energyNJ.radio;
      m.energyNJ.ota += p.energyNJ.ota;
      m.energyJ = energyJOf(m.energyNJ);
    }
  }
  // The shards' per-device numbers are concatenated once, at the end.
  return [...byProfile.values()].map(({ m, oneOffJ, recurringJ, windowS, depletedAfterS }) => ({
    ...m,
    running: { oneOffJ: concatenated(oneOffJ), recurringJ: concatenated(recurringJ), windowS: concatenated(windowS) },
    depletedAfterS: concatenated(depletedAfterS),
  }));
}

/**
 * The fleet-side results of a run: offline share over time (from the timeline), and, when the
 * fleet has energy models, battery lifetimes per profile, energy by activity and devices
 * depleted over time up to the end of `duration` (projected past the simulated horizon).
 */
export function buildFleetResults(s: ResolvedScenario, timeline: readonly TimelineRow[], projections: EnergyProjection[], simulatedMs: number): FleetResults | undefined {
  const out: FleetResults = {};
  if (s.behaviour.offline || s.phases.some((p) => p.kind === 'outage')) {
    out.offlineShare = timeline.map((r) => [r.tMs, (r.gauges['devices.offline'] ?? 0) / s.devices]);
  }
  const battery = projections.filter((p) => p.batteryDevices > 0);
  if (projections.length > 0) {
    out.energyByActivity = projections.map((p) => ({ profile: p.profile, sleepJ: p.energyJ.sleep, cpuJ: p.energyJ.cpu, radioJ: p.energyJ.radio, otaJ: p.energyJ.ota }));
  }
  if (battery.length > 0) {
    const projected = battery.map((p) => ({ p, ...projectProfile(p, s, simulatedMs) }));
    out.batteryBasis = projected.map((x) => x.basis);
    const shown = projected.filter((x) => x.basis.method !== 'refused');
    const years = shown.map((x) => ({ p: x.p, years: yearsOf(x.lifetimesS) }));
    if (shown.length > 0) {
      out.batteryLifetime = years.map(({ p, years: y }) => ({
        profile: p.profile,
        devices: p.batteryDevices,
        percentiles: LIFETIME_PERCENTILES.map((q) => [q, (pct(y, q) * SECONDS_PER_YEAR) / 86_400] as [number, number]),
      }));
      out.batteryYears = years.map(({ p, years: y }) => ({
        profile: p.profile,
        devices: p.batteryDevices,
        depleted: p.depleted,
        p5: pct(y, 5),
        p50: pct(y, 50),
        p95: pct(y, 95),
        min: y[0],
        max: y[y.length - 1],
      }));
      // Depleted devices at 100 points up to the end of the scenario's duration.
      // Each profile's lifetimes are ascending already, and so in ms; several profiles are merged by a sort.
      const all = concatenated(shown.map((x) => x.lifetimesS.map((sec) => sec * 1000)));
      if (shown.length > 1) all.sort();
      const curve: Array<[number, number]> = [];
      let k = 0;
      for (let i = 0; i <= 100; i++) {
        const t = (s.durationMs * i) / 100;
        while (k < all.length && all[k] <= t) k++;
        curve.push([t, k]);
      }
      out.depletedOverTime = curve;
      if (simulatedMs < s.durationMs) out.projectedFromMs = simulatedMs;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
