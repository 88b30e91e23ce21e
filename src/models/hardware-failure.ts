/**
 * Random hardware failures over a device's life: the bathtub curve as three competing risks.
 *
 *   H(t) = (t / eta_i)^beta_i  +  lambda t  +  (t / eta_w)^beta_w        (cumulative hazard)
 *   F(t) = 1 - exp(-H(t))                                               (share failed by age t)
 *
 * The first term (beta_i < 1) is infant mortality, the second a constant random rate, the third
 * (beta_w > 1) wear-out of the board (solder joints, capacitors). The time to failure is the
 * minimum of three independent draws, one per risk, each by inverse transform: this is what a
 * sum of hazards means (NIST/SEMATECH e-Handbook of Statistical Methods, §8.1.2.4 and §8.1.6.2).
 *
 * Ages are in years. Storage wear-out is separate (storage-wear.ts): it depends on how much the
 * device writes, not on age alone.
 */

export interface WeibullRisk {
  readonly shape: number;
  readonly scaleYears: number;
}

export interface BathtubHazard {
  /** Infant mortality (shape < 1); absent: none. */
  readonly infant?: WeibullRisk;
  /** Constant failure rate per year (the flat bottom of the bathtub); 0: none. */
  readonly randomPerYear: number;
  /** Wear-out of the board (shape > 1); absent: none. */
  readonly wearout?: WeibullRisk;
}

const term = (r: WeibullRisk | undefined, t: number) => (r ? Math.pow(t / r.scaleYears, r.shape) : 0);

/** Cumulative hazard H(t) at age `years`. */
export function cumulativeHazard(h: BathtubHazard, years: number): number {
  if (!(years > 0)) return 0;
  return term(h.infant, years) + h.randomPerYear * years + term(h.wearout, years);
}

/** Share of devices failed by age `years`: 1 - exp(-H(t)). */
export function failedShare(h: BathtubHazard, years: number): number {
  return -Math.expm1(-cumulativeHazard(h, years));
}

/** One Weibull draw by inverse transform from a uniform in [0, 1). */
export function weibullDraw(r: WeibullRisk, u: number): number {
  return r.scaleYears * Math.pow(-Math.log1p(-u), 1 / r.shape);
}

/** Age at failure, years (Infinity when no risk is set): the earliest of the three risks. */
export function failureAgeYears(h: BathtubHazard, uInfant: number, uRandom: number, uWearout: number): number {
  const a = h.infant ? weibullDraw(h.infant, uInfant) : Infinity;
  const b = h.randomPerYear > 0 ? -Math.log1p(-uRandom) / h.randomPerYear : Infinity;
  const c = h.wearout ? weibullDraw(h.wearout, uWearout) : Infinity;
  return Math.min(a, b, c);
}

/**
 * An infant-mortality risk from the share of devices it takes in the first year:
 * (1 / eta)^beta = -ln(1 - share), so eta = (-ln(1 - share))^(-1/beta).
 */
export function infantRisk(shape: number, firstYearShare: number): WeibullRisk {
  if (!(firstYearShare > 0 && firstYearShare < 1)) throw new RangeError('infantRisk: the first-year share must be in (0, 1)');
  return { shape, scaleYears: Math.pow(-Math.log1p(-firstYearShare), -1 / shape) };
}

/**
 * Engineering defaults of a board with no field data, by kind (assumed, stated in docs/models.md):
 * 1% of units fail in their first year from manufacturing defects (shape 0.5), 0.5% a year at
 * random, and board wear-out with shape 3 and a characteristic life of 15 years. They are in the
 * range the reliability literature gives for consumer and industrial electronics; a profile with
 * measured return rates overrides them.
 */
export const DEFAULT_BATHTUB: BathtubHazard = {
  infant: infantRisk(0.5, 0.01),
  randomPerYear: 0.005,
  wearout: { shape: 3, scaleYears: 15 },
};
