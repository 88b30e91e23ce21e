import type { TimelineRow } from '../metrics/aggregate.js';
import { CAUSES, cancelledCounterName, errorCounterName, ROUTES, type CauseName, type RouteName } from '../metrics/request-errors.js';

/** Failed requests by route and by cause, and those fleetsim cut off itself (summary.json `requestErrors`). */
export interface RequestErrors {
  byRoute: Record<RouteName, Record<CauseName, number>>;
  cancelled: Record<RouteName, number>;
}

/** The `requestErrors` section from the run's counter totals (every route and cause, zeros included). */
export function requestErrorsOf(counters: Readonly<Record<string, number>>): RequestErrors {
  const byRoute = {} as RequestErrors['byRoute'];
  const cancelled = {} as RequestErrors['cancelled'];
  for (const r of ROUTES) {
    byRoute[r] = {} as Record<CauseName, number>;
    for (const c of CAUSES) byRoute[r][c] = counters[errorCounterName(r, c)] ?? 0;
    cancelled[r] = counters[cancelledCounterName(r)] ?? 0;
  }
  return { byRoute, cancelled };
}

/**
 * A backend outage as the fleet lived it (summary.json `outage`): when devices were knocked out,
 * when the backend was back (the first of them returned), how long until 50/95/99% of them were
 * provisioned, connected and reporting again, who is still out, and whether their retries came
 * back together (peak request rate against the steady rate).
 */
export interface OutageRecovery {
  /** End of the interval in which the first device was knocked out, ms since the run started. */
  startMs: number;
  /** End of the interval in which the first knocked-out device was back; null: none came back. */
  recoveredAtMs: number | null;
  /** Devices knocked out (each counted once until it is back). */
  affected: number;
  /** Of those, back by the end of the run. */
  back: number;
  /** Knocked out and not back when the run ended. */
  stillOut: number;
  /** ms from `recoveredAtMs` until 50% of the affected devices were back; null: not within the run. */
  timeTo50Ms: number | null;
  timeTo95Ms: number | null;
  timeTo99Ms: number | null;
  /** The timeline interval the times are measured in, ms (their resolution). */
  resolutionMs: number;
  /** Median requests per second (HTTP of every route + MQTT connects) outside the outage; null: no such interval. */
  steadyRequestsPerSec: number | null;
  /** Highest requests per second from the outage's start until recovery ended, and when (interval end). */
  peakRequestsPerSec: number;
  peakAtMs: number;
  /** peak / steady; null without a steady rate. */
  peakRatio: number | null;
  /** peakRatio >= SYNCHRONIZED_RETRY_RATIO: the fleet's retries arrived together. */
  synchronizedRetries: boolean;
}

/**
 * Peak over steady request rate past which retries count as synchronized. A fleet in steady
 * state sends at its own rate; retries spread by jitter over their wait add at most the requests
 * it missed, spread over that wait. Three times the steady rate inside one interval means many
 * devices retried in the same interval: lockstep (RFC 9110's Retry-After and capped backoff
 * without jitter both do that), not a spread.
 */
export const SYNCHRONIZED_RETRY_RATIO = 3;

const SHARES = [0.5, 0.95, 0.99] as const;

/** The outage section from the run's timeline; undefined when no device was knocked out. */
export function outageOf(timeline: readonly TimelineRow[]): OutageRecovery | undefined {
  const out = timeline.map((r) => r.counters['recovery.devices_out'] ?? 0);
  const back = timeline.map((r) => r.counters['recovery.devices_back'] ?? 0);
  const first = out.findIndex((n) => n > 0);
  if (first < 0) return undefined;
  const affected = out.reduce((a, n) => a + n, 0);
  const backTotal = back.reduce((a, n) => a + n, 0);
  const recovered = back.findIndex((n, i) => i >= first && n > 0);
  const recoveredAtMs = recovered < 0 ? null : timeline[recovered].tMs;
  const times = SHARES.map(() => null as number | null);
  let cum = 0;
  let lastNeeded = timeline.length - 1;
  for (let i = first; i < timeline.length; i++) {
    cum += back[i];
    SHARES.forEach((share, k) => {
      if (times[k] === null && recoveredAtMs !== null && cum >= Math.ceil(share * affected)) {
        times[k] = timeline[i].tMs - recoveredAtMs;
        if (k === SHARES.length - 1) lastNeeded = i;
      }
    });
  }

  const rate = (i: number) => (timeline[i].counters['requests.started'] ?? 0) / (intervalMs(timeline, i) / 1000);
  const during = (i: number) => i >= first && i <= lastNeeded;
  const steadyRates = timeline.map((_, i) => i).filter((i) => !during(i) && i > 0).map(rate);
  const steady = median(steadyRates);
  let peak = 0;
  let peakAt = timeline[first].tMs;
  for (let i = first; i <= lastNeeded; i++) {
    const r = rate(i);
    if (r > peak) {
      peak = r;
      peakAt = timeline[i].tMs;
    }
  }
  const ratio = steady === null || steady <= 0 ? null : peak / steady;
  return {
    startMs: timeline[first].tMs,
    recoveredAtMs,
    affected,
    back: backTotal,
    stillOut: affected - backTotal,
    timeTo50Ms: times[0],
    timeTo95Ms: times[1],
    timeTo99Ms: times[2],
    resolutionMs: intervalMs(timeline, first),
    steadyRequestsPerSec: steady,
    peakRequestsPerSec: peak,
    peakAtMs: peakAt,
    peakRatio: ratio,
    synchronizedRetries: ratio !== null && ratio >= SYNCHRONIZED_RETRY_RATIO,
  };
}

function intervalMs(timeline: readonly TimelineRow[], i: number): number {
  const d = timeline[i].tMs - (i > 0 ? timeline[i - 1].tMs : 0);
  return d > 0 ? d : 1;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
