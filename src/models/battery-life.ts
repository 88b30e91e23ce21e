/**
 * Closed-form battery lifetime for a fixed duty cycle.
 *
 * 500k devices × 96 reports a day × 10 years is 1.75e11 events, so "how many years does this battery
 * last?" is answered from average powers, not by simulation:
 *
 *   P_avg  = P_sleep * (1 - busy fraction) + Σ_events E_event * perDay / 86 400 s
 *   life   = C_usable / (P_avg / eta + P_self - P_harvest)
 *
 * where the busy fraction is Σ perDay * duration / 86 400 s (the time an event replaces sleep; events
 * given as a total energy with no duration simply add on top of sleep).
 *
 * Sanity case (docs/models.md): NB-IoT on an nRF9160 reporting every 15 min (96/day) from a 2.6 Ah
 * Li-SOCl2 AA at 3.6 V derated to 80% -> C_usable = 2.6 * 3600 * 3.6 * 0.8 = 26 956.8 J.
 * - "≈5.9 years, measured": Røstad (NTNU 2020) per-report charge 28.76 mC (536 B uplink) plus the
 *   measured PSM floor 29.52 mC/h, both at 3.6 V, eta 1, no self-discharge:
 *   96 * 28.76 mC + 24 * 29.52 mC = 3.469 C/day = 12.49 J/day -> 2158 days = 5.91 years.
 * - "≈1.4 years, datasheet": every report is charged the datasheet's PSM TAU energy, 550 mJ (over
 *   2.7 s), and nothing else: 96 * 0.55 J = 52.8 J/day -> 510.5 days = 1.40 years. (The stated figure
 *   is reproduced only with no sleep term; adding the 2.7 µA PSM floor at 3.6 V gives 1.38 years, and
 *   adding Røstad's 29.52 mC/h floor gives 1.33 years.)
 * The network settings dominate the answer, so a profile must say which assumption it uses.
 */
import { SECONDS_PER_YEAR } from './battery.js';

/** A recurring event of the duty cycle (one report, a TAU, an attach, a daily OTA check, ...). */
export interface PeriodicEvent {
  readonly name: string;
  /** Energy of one occurrence at the load, J. */
  readonly energyJ: number;
  readonly perDay: number;
  /** Time it replaces the sleep state, s (default 0: the energy adds on top of sleep). */
  readonly durationS?: number;
}

export interface DutyCycle {
  /** Floor power at the load including board overhead, W. */
  readonly sleepPowerW: number;
  readonly events: readonly PeriodicEvent[];
}

export interface LifetimeSupply {
  readonly usableCapacityJ: number;
  /** Conversion efficiency, (0, 1]; default 1. */
  readonly eta?: number;
  /** Self-discharge as a constant power, W; default 0. */
  readonly selfDischargeW?: number;
  /** Average harvested power, W; default 0. */
  readonly harvestW?: number;
}

/** Average power at the load over a day, W. */
export function averageLoadW(duty: DutyCycle): number {
  let busyS = 0;
  let eventJ = 0;
  for (const e of duty.events) {
    busyS += e.perDay * (e.durationS ?? 0);
    eventJ += e.perDay * e.energyJ;
  }
  if (busyS > 86_400) throw new RangeError('averageLoadW: events take longer than a day');
  return duty.sleepPowerW * (1 - busyS / 86_400) + eventJ / 86_400;
}

/** Net drain on the battery, W: load through the converter plus self-discharge minus harvest. */
export function batteryDrainW(supply: LifetimeSupply, duty: DutyCycle): number {
  const eta = supply.eta ?? 1;
  return averageLoadW(duty) / eta + (supply.selfDischargeW ?? 0) - (supply.harvestW ?? 0);
}

/** Projected lifetime in seconds (Infinity when harvest covers the drain). */
export function batteryLifeSeconds(supply: LifetimeSupply, duty: DutyCycle): number {
  const drain = batteryDrainW(supply, duty);
  return drain > 0 ? supply.usableCapacityJ / drain : Infinity;
}

/** Projected lifetime in (Julian) years. */
export function batteryLifeYears(supply: LifetimeSupply, duty: DutyCycle): number {
  return batteryLifeSeconds(supply, duty) / SECONDS_PER_YEAR;
}
