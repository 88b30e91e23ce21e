import { describe, expect, it } from 'vitest';
import {
  distributionWith,
  gammaFn,
  meanOf,
  medianOf,
  sampleDuration,
  secondMomentOf,
} from '../../src/models/distributions.js';
import {
  availabilityOf,
  meanResidualDown,
  type RenewalModel,
  renewalFromAvailability,
  RenewalStates,
  withAvailability,
} from '../../src/models/outage.js';
import { uniform } from '../../src/models/rng.js';

const MIN = 60_000;

/** Fraction of [0, horizon) each device spends up, averaged over devices. */
function empiricalAvailability(states: RenewalStates, horizonMs: number): number {
  let upMs = 0;
  for (let d = 0; d < states.count; d++) {
    let t = 0;
    while (t < horizonMs) {
      const end = Math.min(states.nextTransitionMs[d], horizonMs);
      if (states.up[d]) upMs += end - t;
      t = end;
      if (t < horizonMs) states.transition(d);
    }
  }
  return upMs / (states.count * horizonMs);
}

describe('duration distributions', () => {
  it('match their moments and medians', () => {
    expect(gammaFn(5)).toBeCloseTo(24, 10);
    expect(gammaFn(0.5)).toBeCloseTo(Math.sqrt(Math.PI), 12);
    const ln = distributionWith('lognormal', { median: 5 * MIN }, 1);
    expect(medianOf(ln)).toBeCloseTo(5 * MIN, 6);
    expect(meanOf(ln)).toBeCloseTo(5 * MIN * Math.exp(0.5), 6);
    const par = distributionWith('pareto', { mean: 10 }, 3);
    expect(meanOf(par)).toBeCloseTo(10, 12);
    expect(secondMomentOf(par)).toBeCloseTo((3 * (20 / 3) ** 2) / 1, 9);
    const wb = distributionWith('weibull', { median: 7 }, 0.7);
    expect(medianOf(wb)).toBeCloseTo(7, 9);
    // sample means agree with meanOf
    for (const d of [ln, distributionWith('weibull', { mean: 3 }, 1.5), distributionWith('exponential', { median: 2 })]) {
      let s = 0;
      const n = 40_000;
      for (let i = 0; i < n; i++) s += sampleDuration(d, uniform(9, i, 5, 0), uniform(9, i, 5, 1));
      expect(Math.abs(s / n - meanOf(d)) / meanOf(d)).toBeLessThan(0.03);
    }
  });

  it('mean residual E[D²]/(2E[D]) is E[D] for exponential and far longer for heavy tails', () => {
    const exp = distributionWith('exponential', { mean: 10 });
    expect(meanResidualDown(exp)).toBeCloseTo(10, 12);
    const ln = distributionWith('lognormal', { mean: 10 }, 1.5);
    expect(meanResidualDown(ln)).toBeCloseTo(5 * Math.exp(2.25), 9); // E[D]·e^{σ²}/2
    expect(meanResidualDown(distributionWith('pareto', { mean: 10 }, 2))).toBe(Infinity);
  });
});

describe('renewal process', () => {
  it('derives the up-time mean from availability', () => {
    const m = renewalFromAvailability({ availability: 0.9, downtime: { distribution: 'lognormal', median: 5 * MIN } });
    expect(meanOf(m.up)).toBeCloseTo(9 * meanOf(m.down), 6);
    expect(availabilityOf(m)).toBeCloseTo(0.9, 12);
    expect(availabilityOf(withAvailability(m, 0.99))).toBeCloseTo(0.99, 12);
    const w = renewalFromAvailability({
      availability: 0.95,
      downtime: { distribution: 'pareto', mean: 10 * MIN, shape: 2.5 },
      upWeibullShape: 0.8,
    });
    expect(w.up.kind).toBe('weibull');
    expect(availabilityOf(w)).toBeCloseTo(0.95, 9);
  });

  const cases: [string, number, RenewalModel][] = [
    ['exponential', 0.9, renewalFromAvailability({ availability: 0.9, downtime: { distribution: 'exponential', median: 5 * MIN } })],
    ['lognormal', 0.9, renewalFromAvailability({ availability: 0.9, downtime: { distribution: 'lognormal', median: 5 * MIN } })],
    ['pareto', 0.8, renewalFromAvailability({ availability: 0.8, downtime: { distribution: 'pareto', median: 5 * MIN } })],
    [
      'pareto + weibull up',
      0.95,
      renewalFromAvailability({
        availability: 0.95,
        downtime: { distribution: 'pareto', mean: 5 * MIN, shape: 2.2 },
        upWeibullShape: 0.7,
      }),
    ],
  ];
  for (const [name, target, model] of cases) {
    it(`long-run availability within ±1% absolute: ${name} downtimes`, () => {
      const cycleMs = meanOf(model.up) + meanOf(model.down);
      const states = new RenewalStates(400, 42, [model]);
      const a = empiricalAvailability(states, 500 * cycleMs); // ~200k cycles in all
      expect(Math.abs(a - target)).toBeLessThan(0.01);
    });
  }

  it('starts stationary: P(down) = 1 − A and down devices wait the mean residual', () => {
    const model = renewalFromAvailability({ availability: 0.8, downtime: { distribution: 'lognormal', median: 5 * MIN, shape: 1 } });
    const n = 40_000;
    const s = new RenewalStates(n, 7, [model], { startMs: 1000 });
    let down = 0;
    let residual = 0;
    for (let d = 0; d < n; d++) {
      if (!s.up[d]) {
        down++;
        residual += s.nextTransitionMs[d] - 1000;
      }
    }
    expect(Math.abs(down / n - 0.2)).toBeLessThan(0.01);
    const expected = meanResidualDown(model.down); // E[D]·e^{σ²}/2 ≈ 1.36 E[D]
    expect(Math.abs(residual / down - expected) / expected).toBeLessThan(0.05);
    const up = new RenewalStates(10, 7, [model], { start: 'up' });
    for (let d = 0; d < 10; d++) expect(up.up[d]).toBe(1);
  });

  it('is deterministic per (seed, index) and isUpAt follows the transitions', () => {
    const model = cases[1][2];
    const a = new RenewalStates(5, 3, [model]);
    const b = new RenewalStates(5, 3, [model]);
    for (let i = 0; i < 50; i++) expect(a.transition(4)).toBe(b.transition(4));
    const c = new RenewalStates(1, 3, [model]);
    const first = c.nextTransitionMs[0];
    const wasUp = c.up[0] === 1;
    expect(c.isUpAt(0, first - 1)).toBe(wasUp);
    expect(c.isUpAt(0, first)).toBe(!wasUp);
    expect(c.periodStartMs[0]).toBe(first);
  });
});
