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
 * One backend outage as the fleet lived it: when devices were knocked out, when the backend was
 * back (the first of them returned), how long until 50/95/99% of them were provisioned, connected
 * and reporting again, who is still out, and whether their retries came back together (peak
 * request rate against the steady rate).
 */
/**
 * How a set of knocked-out devices came back: counts, and the time until 50/95/99% of them were
 * back, measured from an instant the containing type names (an outage: the first device back; a
 * fault phase: the fault's end). One shape for both, so reports print them alike.
 */
export interface RecoveryShares {
  /** Devices knocked out (each counted once until it is back). */
  affected: number;
  /** Of those, back by the end of the run (or window). */
  back: number;
  /** Knocked out and not back when the run (or window) ended. */
  stillOut: number;
  /** ms until 50% of the affected devices were back; null: not within the run (or window). */
  timeTo50Ms: number | null;
  timeTo95Ms: number | null;
  timeTo99Ms: number | null;
  /** The timeline interval the times are measured in, ms (their resolution). */
  resolutionMs: number;
}

/** The shares of RecoveryShares' times, in their order. */
export const RECOVERY_SHARES = [0.5, 0.95, 0.99] as const;

export interface OutageEpisode extends RecoveryShares {
  /** End of the interval in which the episode's first device was knocked out, ms since the run started. */
  startMs: number;
  /** End of the interval in which the first device of this episode was back (the times count from it); null: none came back. */
  recoveredAtMs: number | null;
  /** Highest requests per second from the outage's start until recovery ended, and when (interval end). */
  peakRequestsPerSec: number;
  peakAtMs: number;
  /** peak / steady; null without a steady rate. */
  peakRatio: number | null;
  /** peakRatio >= SYNCHRONIZED_RETRY_RATIO: the fleet's retries arrived together. */
  synchronizedRetries: boolean;
}

/**
 * The outages of a run (summary.json `outage`). A run can have several (a broker restarted every
 * ten minutes): each is timed on its own in `episodes`, and the top-level fields sum them (devices)
 * or take the worst of them (times, peak), so a single outage reads as before.
 */
export interface OutageRecovery extends OutageEpisode {
  /** Median requests per second (HTTP of every route + MQTT connects) outside every outage; null: no such interval. */
  steadyRequestsPerSec: number | null;
  /** Every outage, in time order. */
  episodes: OutageEpisode[];
}

/**
 * Peak over steady request rate past which retries count as synchronized. A fleet in steady
 * state sends at its own rate; retries spread by jitter over their wait add at most the requests
 * it missed, spread over that wait. Three times the steady rate inside one interval means many
 * devices retried in the same interval: lockstep (RFC 9110's Retry-After and capped backoff
 * without jitter both do that), not a spread.
 */
export const SYNCHRONIZED_RETRY_RATIO = 3;

/**
 * Share of an outage's devices that must be back, with no device knocked out for a whole
 * interval, before a new knock-out starts a new outage. Below it the fleet never recovered in
 * between, and the knock-outs are one outage; above it, the few stragglers of the earlier one
 * (a device waiting out a 128 s reconnect cap) must not merge two restarts ten minutes apart into
 * one outage whose 50% recovery would span both.
 */
export const NEW_OUTAGE_BACK_SHARE = 0.5;

const SHARES = RECOVERY_SHARES;

interface EpisodeWork {
  first: number;
  affected: number;
  back: number;
  /** Timeline index of the first interval with a device of this episode back; -1: none yet. */
  recovered: number;
  /** Timeline index at which each share was reached; -1: not yet. */
  reached: number[];
}

/**
 * The outage section from the run's timeline; undefined when no device was knocked out.
 *
 * The timeline has counts per interval, not device ids, so a device coming back is booked to the
 * oldest outage that still has devices out (first out, first back). That is exact when outages do
 * not overlap, and when they do the stragglers of the older one are few by NEW_OUTAGE_BACK_SHARE.
 */
export function outageOf(timeline: readonly TimelineRow[]): OutageRecovery | undefined {
  const out = timeline.map((r) => r.counters['recovery.devices_out'] ?? 0);
  const backs = timeline.map((r) => r.counters['recovery.devices_back'] ?? 0);
  if (!out.some((n) => n > 0)) return undefined;

  const episodes: EpisodeWork[] = [];
  for (let i = 0; i < timeline.length; i++) {
    if (out[i] > 0) {
      const cur = episodes[episodes.length - 1];
      const settled = cur === undefined || (out[i - 1] === 0 && cur.back >= Math.ceil(NEW_OUTAGE_BACK_SHARE * cur.affected));
      if (settled) episodes.push({ first: i, affected: 0, back: 0, recovered: -1, reached: SHARES.map(() => -1) });
      episodes[episodes.length - 1].affected += out[i];
    }
    // First out, first back: the oldest outage with devices still out takes the returns.
    let b = backs[i];
    for (const e of episodes) {
      if (b === 0) break;
      const take = Math.min(b, e.affected - e.back);
      if (take <= 0) continue;
      e.back += take;
      b -= take;
      if (e.recovered < 0) e.recovered = i;
      SHARES.forEach((share, k) => {
        if (e.reached[k] < 0 && e.back >= Math.ceil(share * e.affected)) e.reached[k] = i;
      });
    }
  }

  const rate = (i: number) => (timeline[i].counters['requests.started'] ?? 0) / (intervalMs(timeline, i) / 1000);
  // An outage lasts from its first knock-out until 99% of its devices are back (or the run ends).
  const lastOf = (e: EpisodeWork) => (e.reached[SHARES.length - 1] >= 0 ? e.reached[SHARES.length - 1] : timeline.length - 1);
  const during = (i: number) => episodes.some((e) => i >= e.first && i <= lastOf(e));
  const steady = median(timeline.map((_, i) => i).filter((i) => i > 0 && !during(i)).map(rate));

  const done: OutageEpisode[] = episodes.map((e) => {
    const recoveredAtMs = e.recovered < 0 ? null : timeline[e.recovered].tMs;
    const times = e.reached.map((i) => (i < 0 || recoveredAtMs === null ? null : timeline[i].tMs - recoveredAtMs));
    let peak = 0;
    let peakAt = timeline[e.first].tMs;
    for (let i = e.first; i <= lastOf(e); i++) {
      const r = rate(i);
      if (r > peak) {
        peak = r;
        peakAt = timeline[i].tMs;
      }
    }
    const ratio = steady === null || steady <= 0 ? null : peak / steady;
    return {
      startMs: timeline[e.first].tMs,
      recoveredAtMs,
      affected: e.affected,
      back: e.back,
      stillOut: e.affected - e.back,
      timeTo50Ms: times[0],
      timeTo95Ms: times[1],
      timeTo99Ms: times[2],
      resolutionMs: intervalMs(timeline, e.first),
      peakRequestsPerSec: peak,
      peakAtMs: peakAt,
      peakRatio: ratio,
      synchronizedRetries: ratio !== null && ratio >= SYNCHRONIZED_RETRY_RATIO,
    };
  });

  // The worst of the outages: a time not reached in any of them is not reached overall.
  const worst = (pick: (e: OutageEpisode) => number | null) => (done.some((e) => pick(e) === null) ? null : Math.max(...done.map((e) => pick(e) as number)));
  const peakOne = done.reduce((a, e) => (e.peakRequestsPerSec > a.peakRequestsPerSec ? e : a), done[0]);
  return {
    startMs: done[0].startMs,
    recoveredAtMs: done[0].recoveredAtMs,
    affected: done.reduce((a, e) => a + e.affected, 0),
    back: done.reduce((a, e) => a + e.back, 0),
    stillOut: done.reduce((a, e) => a + e.stillOut, 0),
    timeTo50Ms: worst((e) => e.timeTo50Ms),
    timeTo95Ms: worst((e) => e.timeTo95Ms),
    timeTo99Ms: worst((e) => e.timeTo99Ms),
    resolutionMs: done[0].resolutionMs,
    steadyRequestsPerSec: steady,
    peakRequestsPerSec: peakOne.peakRequestsPerSec,
    peakAtMs: peakOne.peakAtMs,
    peakRatio: peakOne.peakRatio,
    synchronizedRetries: done.some((e) => e.synchronizedRetries),
    episodes: done,
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
