/**
 * Battery capacity in joules: nominal energy, derating, self-discharge.
 *
 * Energy is counted in joules, not mAh, because a load draws roughly constant *power* as the cell
 * voltage sags (Nordic nWP034). Usable capacity is `C_nom * f_temp * f_rate * f_cutoff`; each factor
 * comes from a small derating table (Peukert's law is overkill at µA average drain).
 */

/** Seconds in a Julian year: the unit of every "per year" figure and of projected lifetimes. */
export const SECONDS_PER_YEAR = 365.25 * 86_400;

/** A piecewise-linear table: `x` strictly ascending, `y[i]` the value at `x[i]`. */
export interface PiecewiseLinear {
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** Where the numbers come from. */
  readonly source: string;
}

/**
 * Linear interpolation in a table, clamped to the first and last value outside its range
 * (a derating table is never extrapolated: beyond the measured range we keep the last measured factor).
 */
export function interpolate(table: PiecewiseLinear, at: number): number {
  const { x, y } = table;
  const n = x.length;
  if (n === 0) throw new RangeError('interpolate: empty table');
  if (at <= x[0]) return y[0];
  if (at >= x[n - 1]) return y[n - 1];
  let i = 1;
  while (x[i] < at) i++;
  const t = (at - x[i - 1]) / (x[i] - x[i - 1]);
  return y[i - 1] + t * (y[i] - y[i - 1]);
}

/**
 * Rate derating of a bobbin Li-SOCl2 D cell: about 19 Ah at 4 mA but about 7 Ah at 35 mA
 * (Linden's Handbook of Batteries, §14). Factors are relative to the 4 mA capacity. For other cell sizes,
 * scale the drain by the cell's size first (assumed: the same curve in drain per unit of capacity).
 */
export const LI_SOCL2_BOBBIN_D_RATE_DERATING: PiecewiseLinear = {
  x: [4, 35],
  y: [1, 7 / 19],
  source: "Linden's Handbook of Batteries §14 (D cell: ~19 Ah at 4 mA, ~7 Ah at 35 mA)",
};

/** The three derating factors of usable capacity, each in (0, 1]. */
export interface Derating {
  readonly fTemp: number;
  readonly fRate: number;
  readonly fCutoff: number;
}

export const NO_DERATING: Derating = { fTemp: 1, fRate: 1, fCutoff: 1 };

/** Nominal energy of a cell in J from its charge rating (Ah) and nominal voltage (V). */
export function nominalEnergyJ(capacityAh: number, nominalV: number): number {
  return capacityAh * 3600 * nominalV;
}

/** Usable capacity `C_nom * f_temp * f_rate * f_cutoff`, in J. */
export function usableCapacityJ(nominalJ: number, derating: Derating): number {
  return nominalJ * derating.fTemp * derating.fRate * derating.fCutoff;
}

/** Energy in J of a charge in coulombs drawn at a given voltage (measurements are often in mC). */
export function chargeToJoules(coulombs: number, volts: number): number {
  return coulombs * volts;
}

export type Chemistry = 'li-mno2' | 'li-socl2' | 'li-ion';

/** Self-discharge as a fraction of nominal capacity per year. */
export const SELF_DISCHARGE_PER_YEAR: Readonly<
  Record<Chemistry, { readonly typical: number; readonly min: number; readonly max: number; readonly source: string }>
> = {
  'li-mno2': { typical: 0.015, min: 0.015, max: 0.015, source: 'Rayovac FAQ (about 1.5%/year)' },
  // Vendors claim 0.5–3%/year; 1% as the typical value is assumed.
  'li-socl2': { typical: 0.01, min: 0.005, max: 0.03, source: 'vendor claims 0.5–3%/year; typical 1% assumed' },
  // "A few % per month": 2%/month is assumed.
  'li-ion': { typical: 0.24, min: 0.12, max: 0.36, source: 'assumed: a few % per month (2%/month typical)' },
};

/**
 * Self-discharge as a constant power in W. A yearly fraction of nominal capacity spread evenly over
 * the year: at µA-level loads this is indistinguishable from the real (slightly decaying) rate.
 */
export function selfDischargeW(nominalJ: number, fractionPerYear: number): number {
  return (nominalJ * fractionPerYear) / SECONDS_PER_YEAR;
}

/**
 * Terminal voltage across the discharge, as fractions of the nominal voltage at full and at empty,
 * read off typical discharge curves: Li-ion 4.2 V full to 3.0 V cut-off around 3.7 V nominal;
 * Li-SOCl2 flat near 3.6 V until a knee near 3.3 V at the end of life; Li-MnO2 3.2 V to 2.0 V
 * around 3.0 V nominal; alkaline 1.6 V to 1.0 V per 1.5 V cell; NiMH 1.4 V to 1.0 V per 1.2 V cell.
 * A straight line between the two is enough for telemetry that looks like a device's.
 */
export const VOLTAGE_SPAN: Readonly<Record<'li-socl2' | 'li-mno2' | 'li-ion' | 'alkaline' | 'nimh', { full: number; empty: number }>> = {
  'li-ion': { full: 4.2 / 3.7, empty: 3.0 / 3.7 },
  'li-socl2': { full: 3.67 / 3.6, empty: 3.3 / 3.6 },
  'li-mno2': { full: 3.2 / 3.0, empty: 2.0 / 3.0 },
  alkaline: { full: 1.6 / 1.5, empty: 1.0 / 1.5 },
  nimh: { full: 1.4 / 1.2, empty: 1.0 / 1.2 },
};

/** Terminal voltage of a battery of `chemistry` and nominal `nominalV` at state of charge `soc` (0..1). */
export function terminalVoltage(chemistry: keyof typeof VOLTAGE_SPAN, nominalV: number, soc: number): number {
  const s = VOLTAGE_SPAN[chemistry];
  return nominalV * (s.empty + (s.full - s.empty) * soc);
}
