import type { ResolvedScenario } from './resolved.js';

/**
 * How many MQTT sessions a stretch of the device index space holds at once, and how the index
 * space is split so that every shard holds about the same number — the quantity that decides how
 * many processes a run needs (each may hold only so many descriptors).
 *
 * A device with a standing session (`session: always`) holds one socket all the time. A sleepy
 * device (`session: per-report`) holds one only while it wakes to report: connect, publish, wait
 * for the ack, disconnect. SLEEPY_SESSION_HOLD_MS is a deliberately long bound on that (a slow
 * cellular attach, a backend under load and the link model's retransmissions included) and
 * SLEEPY_PEAK_FACTOR covers reports bunching up (jitter is uniform, so the peak over a run stays
 * well under twice the mean). If the estimate is still too low for some backend, the extra connects
 * fail with EMFILE and are counted as connect errors and retried: measured, never silent.
 */
export const SLEEPY_SESSION_HOLD_MS = 15_000;
export const SLEEPY_PEAK_FACTOR = 2;
/**
 * Weight of a device beyond its sockets when splitting (memory and CPU of its table rows and
 * events), so that a shard of sleepy devices does not grow without bound.
 */
const DEVICE_BASE_WEIGHT = 0.02;

/** Expected share of the time a device of this group holds an MQTT session (1 for standing ones). */
export function sessionShare(s: ResolvedScenario, group: number): number {
  if (s.fleet[group].session === 'always') return 1;
  const every = s.behaviour.telemetry?.everyMs;
  // A sleepy device without telemetry only connects when something else wakes it: count it as 1%.
  if (every === undefined) return 0.01;
  return Math.min(1, (SLEEPY_SESSION_HOLD_MS * SLEEPY_PEAK_FACTOR) / every);
}

/** Whether any group is sleepy on the wall clock (otherwise every device holds a session and plain count balancing is exact). */
function hasSleepyGroups(s: ResolvedScenario): boolean {
  return s.clock === 'wall' && s.fleet.some((g) => g.session === 'per-report');
}

/** Sum over the fleet groups of (devices of the group in [first, first + count)) x weight(group). */
function sumOverGroups(s: ResolvedScenario, first: number, count: number, weight: (group: number) => number): number {
  const end = first + count;
  let sum = 0;
  for (const g of s.fleet) {
    const overlap = Math.min(end, g.firstDevice + g.count) - Math.max(first, g.firstDevice);
    if (overlap > 0) sum += overlap * weight(g.index);
  }
  return sum;
}

/** Sessions held at once (expected peak) by devices [first, first + count); 0 on the virtual clock (no sockets). */
export function sessionsIn(s: ResolvedScenario, first: number, count: number): number {
  return s.clock === 'wall' ? Math.ceil(sumOverGroups(s, first, count, (g) => sessionShare(s, g))) : 0;
}

/** Sleepy devices (session: per-report) among devices [first, first + count). */
export function sleepyIn(s: ResolvedScenario, first: number, count: number): number {
  return sumOverGroups(s, first, count, (g) => (s.fleet[g].session === 'per-report' ? 1 : 0));
}

/** Contiguous ranges balanced to within one device; never more parts than devices (at least one). */
export function balancedRanges(first: number, total: number, parts: number): Array<{ firstDevice: number; count: number }> {
  const n = Math.max(1, Math.min(parts, Math.max(1, total)));
  const base = Math.floor(total / n);
  const extra = total % n;
  const out: Array<{ firstDevice: number; count: number }> = [];
  let next = first;
  for (let i = 0; i < n; i++) {
    const count = base + (i < extra ? 1 : 0);
    out.push({ firstDevice: next, count });
    next += count;
  }
  return out;
}

/** The slice of the fleet's index space that `--shard index/count` runs (balanced by device count). */
export function sliceOf(s: ResolvedScenario, slice: { index: number; count: number }): { firstDevice: number; count: number } {
  return balancedRanges(0, s.devices, slice.count)[slice.index] ?? { firstDevice: 0, count: 0 };
}

/**
 * The shard ranges of devices [first, first + total) in `parts` shards: balanced by device count,
 * or — on the wall clock with sleepy groups — balanced by sessions held at once (plus a small
 * weight per device), so that 450,000 sleepy trackers and 50,000 gateways need a handful of
 * processes instead of one per 19,000 devices. Deterministic: the coordinator, `plan` and every
 * shard process compute the same ranges.
 */
export function shardRanges(s: ResolvedScenario, first: number, total: number, parts: number): Array<{ firstDevice: number; count: number }> {
  const even = balancedRanges(first, total, parts);
  if (!hasSleepyGroups(s) || even.length <= 1) return even;
  // Piecewise-constant weight over the groups; cut where the running weight crosses k/parts.
  const end = first + total;
  const pieces: Array<{ from: number; to: number; w: number }> = [];
  for (const g of s.fleet) {
    const from = Math.max(first, g.firstDevice);
    const to = Math.min(end, g.firstDevice + g.count);
    if (to > from) pieces.push({ from, to, w: sessionShare(s, g.index) + DEVICE_BASE_WEIGHT });
  }
  const totalWeight = pieces.reduce((a, p) => a + (p.to - p.from) * p.w, 0);
  const n = even.length;
  const cuts: number[] = [first];
  let acc = 0;
  let k = 1;
  for (const p of pieces) {
    while (k < n) {
      const target = (totalWeight * k) / n;
      const at = p.from + Math.round((target - acc) / p.w);
      if (at > p.to) break;
      // Every shard keeps at least one device.
      cuts.push(Math.min(end - (n - k), Math.max(cuts[cuts.length - 1] + 1, at)));
      k++;
    }
    acc += (p.to - p.from) * p.w;
  }
  while (cuts.length < n) cuts.push(Math.min(end - (n - cuts.length), cuts[cuts.length - 1] + 1));
  cuts.push(end);
  return cuts.slice(0, n).map((c, i) => ({ firstDevice: c, count: cuts[i + 1] - c }));
}
