import { ascendingSum } from '../../collections/ascending.js';
import { SECONDS_PER_YEAR } from '../../models/battery.js';
import { meanOf } from '../../models/distributions.js';
import { renewalFromAvailability } from '../../models/outage.js';
import { formatSpan } from '../../models/units.js';
import type { EnergyProjection } from '../../fleet/energy-meter.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { BatteryProjectionBasis } from '../../summary/run-summary.js';

/**
 * How many times the slowest recurring cycle of the scenario must have been seen before its rate
 * is extrapolated. A device's first report and first poll come at a uniformly random point of
 * their first interval, so a window of n cycles holds n ± 1 of them: 20 cycles bound that error
 * at 5%, the tolerance the projection is tested to (a 20 s wall-clock quickstart against 2 h
 * on the virtual clock).
 */
export const PROJECTION_MIN_CYCLES = 20;

/** A recurring process the scenario states, with its mean period. */
export interface Cycle {
  name: string;
  ms: number;
}

/** The processes that recur and cost energy: reports, polls, and each link's up/down cycle. */
export function recurringCycles(s: ResolvedScenario): Cycle[] {
  const out: Cycle[] = [];
  const b = s.behaviour;
  if (b.telemetry) out.push({ name: 'reports', ms: b.telemetry.everyMs });
  if (b.poll) out.push({ name: 'polls', ms: b.poll.everyMs });
  const renewal = (a: Parameters<typeof renewalFromAvailability>[0]) => {
    const m = renewalFromAvailability(a);
    return meanOf(m.up) + meanOf(m.down);
  };
  if (b.offline) out.push({ name: 'link outages', ms: renewal(b.offline) });
  if (b.offline?.backup) out.push({ name: 'backup-link outages', ms: renewal(b.offline.backup) });
  return out;
}

/** The profile's projection: lifetimes (s from power-on, ascending) and what they rest on. */
export interface ProfileProjection {
  lifetimesS: Float64Array;
  basis: BatteryProjectionBasis;
}

/**
 * Projects the battery lifetime of each device of one profile from the steady-state rate of its
 * energy, with the one-off energy (shelf time, boot, first attach, provisioning, OTA) counted once,
 * or OTA at the rate the scenario states (`update.recurs`):
 *
 *   lifetime = (usable capacity − one-off energy) / (recurring energy / window + self-discharge + OTA recurrence)
 *
 * The rate is each device's own when every device's window covered PROJECTION_MIN_CYCLES of the
 * slowest recurring cycle; otherwise one rate pooled over the profile's devices, when they covered
 * that many together; otherwise nothing is projected (the run is too short to know).
 */
export function projectProfile(p: EnergyProjection, s: ResolvedScenario, simulatedMs: number): ProfileProjection {
  const cycles = recurringCycles(s);
  const slowest = cycles.reduce<Cycle | null>((a, c) => (a === null || c.ms > a.ms ? c : a), null);
  const { oneOffJ, recurringJ, windowS } = p.running;
  const n = windowS.length;
  let minWindowS = n > 0 ? Infinity : 0;
  // A loop, not Math.min(...): 250k windows overflow the call stack as arguments.
  for (let i = 0; i < n; i++) if (windowS[i] < minWindowS) minWindowS = windowS[i];
  const totalWindowS = ascendingSum(windowS);
  const perDeviceCycles = slowest ? (minWindowS * 1000) / slowest.ms : Infinity;
  const pooledCycles = slowest ? (totalWindowS * 1000) / slowest.ms : Infinity;
  const recursMs = s.phases.reduce<number | undefined>((a, ph) => (ph.kind === 'update' && ph.spec.recursEveryMs !== undefined ? Math.min(a ?? Infinity, ph.spec.recursEveryMs) : a), undefined);
  const otaPerDeviceJ = p.batteryDevices > 0 ? p.energyJ.ota / p.batteryDevices : 0;
  const otaW = recursMs === undefined ? 0 : otaPerDeviceJ / (recursMs / 1000);
  const method: BatteryProjectionBasis['method'] =
    n === 0 && p.depletedAfterS.length === 0 ? 'refused' : n === 0 || perDeviceCycles >= PROJECTION_MIN_CYCLES ? 'per-device' : pooledCycles >= PROJECTION_MIN_CYCLES ? 'pooled' : 'refused';
  const pooledW = totalWindowS > 0 ? ascendingSum(recurringJ) / totalWindowS : 0;
  // Depleted devices' lifetimes, then the projected ones, sorted in place (typed: numeric order).
  const depleted = p.depletedAfterS.length;
  const lifetimes = new Float64Array(depleted + (method === 'refused' ? 0 : n));
  lifetimes.set(p.depletedAfterS);
  if (method !== 'refused') {
    for (let i = 0; i < n; i++) {
      const rateW = (method === 'pooled' ? pooledW : recurringJ[i] / windowS[i]) + p.selfDischargeW + otaW;
      const left = Math.max(0, p.capacityJ - oneOffJ[i]);
      lifetimes[depleted + i] = rateW > 0 ? left / rateW : Infinity;
    }
  }
  const lifetimesS = lifetimes.sort();
  const oneOffPerDeviceJ = n > 0 ? ascendingSum(oneOffJ) / n : 0;
  const basis: BatteryProjectionBasis = {
    profile: p.profile,
    method,
    simulatedMs,
    steadyFromMs: Math.max(0, p.lastPowerOnMs),
    devices: n,
    ...(slowest ? { slowestCycle: { name: slowest.name, ms: slowest.ms } } : {}),
    cyclesPerDevice: Number.isFinite(perDeviceCycles) ? perDeviceCycles : null,
    cyclesPooled: Number.isFinite(pooledCycles) ? pooledCycles : null,
    oneOffJPerDevice: oneOffPerDeviceJ,
    recurringWPerDevice: n > 0 ? pooledW + p.selfDischargeW : null,
    ...(recursMs === undefined ? {} : { otaRecursEveryMs: recursMs }),
    text: '',
  };
  basis.text = basisText(basis, p);
  return { lifetimesS: method === 'refused' ? new Float64Array(0) : lifetimesS, basis };
}

const count = (n: number) => n.toLocaleString('en-US');

/** The sentence a reader sees under the lifetimes ("from 7d simulated, steady state after 1m40s ..."). */
function basisText(b: BatteryProjectionBasis, p: EnergyProjection): string {
  const cycle = b.slowestCycle ? `${b.slowestCycle.name} every ${formatSpan(b.slowestCycle.ms)}` : '';
  const oneOffs =
    b.otaRecursEveryMs === undefined
      ? 'one-off energy (boot, first attach, provisioning, OTA) counted once'
      : `one-off energy (boot, first attach, provisioning) counted once, OTA energy recurring every ${formatSpan(b.otaRecursEveryMs)}`;
  if (b.method === 'refused') {
    if (b.devices === 0) return `not projected: no ${p.profile} device ran long enough to draw a steady rate`;
    const needMs = b.slowestCycle ? (PROJECTION_MIN_CYCLES * b.slowestCycle.ms) / Math.max(1, b.devices) : 0;
    return `not projected: the run is too short to know. The slowest cycle (${cycle}) was seen ${(b.cyclesPooled ?? 0).toFixed(1)} times over ${count(b.devices)} devices; a projection needs ${PROJECTION_MIN_CYCLES} (run at least ${formatSpan(needMs + b.steadyFromMs)})`;
  }
  const head = `from ${formatSpan(b.simulatedMs)} simulated, steady state after ${formatSpan(b.steadyFromMs)} (the last power-on)`;
  if (b.method === 'pooled') {
    return `${head}; one rate pooled over ${count(b.devices)} devices (each saw ${cycle} only ${(b.cyclesPerDevice ?? 0).toFixed(1)} times, together ${count(Math.floor(b.cyclesPooled ?? 0))}); ${oneOffs}`;
  }
  return `${head}; each device's own rate${cycle ? ` (${cycle}: at least ${Math.floor(b.cyclesPerDevice ?? 0)} per device)` : ''}; ${oneOffs}`;
}

/** Lifetimes in years, for the summary's tables. */
export function yearsOf(lifetimesS: Float64Array): Float64Array {
  return lifetimesS.map((sec) => sec / SECONDS_PER_YEAR);
}
