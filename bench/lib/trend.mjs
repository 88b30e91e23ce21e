// The soak bench's pass test: is there an upward trend in a series of (time, value) samples?
//
// Least-squares slope b of value against time (per minute) over the samples after the warm-up.
// The growth the slope implies over that window, b × window, must stay below
//   max(REL_BOUND × mean of the window, the series' absolute floor).
// The relative bound (10 %) is what "no upward trend" means for a quantity that should be flat;
// the floor keeps small, noisy quantities (a dozen descriptors, a few ms of event-loop delay) from
// failing on jitter that no leak could produce in so short a window. A series with fewer than 3
// samples after the warm-up cannot be judged and says so.

export const REL_BOUND = 0.1;

/** Absolute floors of growth over the window, by metric, in the metric's unit. */
export const FLOORS = {
  rss: 16 * 2 ** 20,
  heapUsed: 8 * 2 ** 20,
  fds: 32,
  sockets: 32,
  timeWait: 200,
  loopDelayP99: 20,
  // CPU seconds a process used per minute: a process whose work grows with time (a list that only
  // grows and is walked, a timer that multiplies) shows here whatever the neighbours do, because CPU
  // time counts only the process's own work. 3 s/min is 5 % of one core.
  cpuSecPerMin: 3,
};

/** Least-squares slope (value per minute) and intercept of points [{ t: ms, v }]. */
export function leastSquares(points) {
  const n = points.length;
  const xs = points.map((p) => p.t / 60_000);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = points.reduce((a, p) => a + p.v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (points[i].v - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, mean: my, windowMin: n > 1 ? xs[n - 1] - xs[0] : 0 };
}

/** Verdict of one series: points [{ t: ms since the run began, v }], warm-up in ms. */
export function trendVerdict(points, metric, warmupMs) {
  const after = points.filter((p) => p.t >= warmupMs && Number.isFinite(p.v));
  if (after.length < 3) return { samples: after.length, verdict: 'too few samples' };
  const { slope, mean, windowMin } = leastSquares(after);
  const growth = slope * windowMin;
  const bound = Math.max(REL_BOUND * Math.abs(mean), FLOORS[metric] ?? 0);
  return { samples: after.length, windowMin, mean, slopePerMin: slope, growth, bound, verdict: growth <= bound ? 'flat' : 'UPWARD' };
}

/**
 * Least-squares fit of v = a + b·t + c·load (t in minutes, load = the machine's 1-minute load
 * average when the point was taken). b is the trend that the machine's load does not explain.
 */
export function leastSquaresWithLoad(points) {
  const n = points.length;
  const xs = points.map((p) => p.t / 60_000);
  const ls = points.map((p) => p.load);
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const mx = mean(xs);
  const ml = mean(ls);
  const mv = mean(points.map((p) => p.v));
  let sxx = 0, sll = 0, sxl = 0, sxv = 0, slv = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx, dl = ls[i] - ml, dv = points[i].v - mv;
    sxx += dx * dx; sll += dl * dl; sxl += dx * dl; sxv += dx * dv; slv += dl * dv;
  }
  const det = sxx * sll - sxl * sxl;
  // Load constant (or collinear with time): nothing to separate, fall back to the plain slope.
  if (sll === 0 || Math.abs(det) < 1e-12 * sxx * sll) return { ...leastSquares(points), loadCoef: 0 };
  const slope = (sxv * sll - slv * sxl) / det;
  const loadCoef = (slv * sxx - sxv * sxl) / det;
  return { slope, loadCoef, mean: mv, windowMin: n > 1 ? xs[n - 1] - xs[0] : 0 };
}

/**
 * Verdict of a series that the machine's load drives as well as the process (event-loop delay on
 * a shared box: a neighbour's burst delays every timer). Points carry `load`. The raw slope is
 * reported beside the verdict, which is taken on the slope that load does not explain; the test
 * string says so, so a reader sees both.
 */
export function trendVerdictLoadAdjusted(points, metric, warmupMs) {
  const after = points.filter((p) => p.t >= warmupMs && Number.isFinite(p.v) && Number.isFinite(p.load));
  if (after.length < 4) return { samples: after.length, verdict: 'too few samples' };
  const raw = leastSquares(after);
  const { slope, loadCoef, mean, windowMin } = leastSquaresWithLoad(after);
  const growth = slope * windowMin;
  const bound = Math.max(REL_BOUND * Math.abs(mean), FLOORS[metric] ?? 0);
  return {
    samples: after.length,
    windowMin,
    mean,
    slopePerMin: slope,
    rawSlopePerMin: raw.slope,
    perLoad: loadCoef,
    growth,
    bound,
    verdict: growth <= bound ? 'flat' : 'UPWARD',
  };
}
