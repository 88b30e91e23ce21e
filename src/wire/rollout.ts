import type { CampaignSpec, RolloutChange, RolloutSpec } from './fleet-ops.js';

/**
 * Rollout policy of an update campaign, as pure functions shared by the embedded backend and the
 * virtual clock's backend model, so both admit the same devices in the same order.
 *
 * Every device has a rank in [0, 1), a hash of its serial: a campaign admits the devices whose
 * rank is below its admitted fraction, so a 1% step is a random 1% of the fleet and growing the
 * fraction only ever adds devices. Steps advance when their soak time is over and the step's own
 * cohort (ranks in [previous step, this step)) has not tripped the abort rule.
 */

/** FNV-1a over the serial, finished with a murmur mix: a stable rank in [0, 1). */
export function rolloutRank(serial: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < serial.length; i++) {
    h ^= serial.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A second uniform from a device's rank, independent of admission, for fault injection (corrupt artifacts). */
export function corruptDraw(rank: number): number {
  return (rank * 7919) % 1;
}

/**
 * True when a campaign's progress depends on outcome counts over the whole fleet: staged steps
 * (a step advances once its cohort has `minSample` outcomes) or an abort rule. Rate-based
 * admission depends only on time and each device's own rank.
 */
export function decidesOnFleetCounts(c: CampaignSpec): boolean {
  return c.rollout.strategy === 'steps' || c.abortIf !== undefined;
}

/** Devices admitted after `elapsedMs` under a rate-based strategy (constant or exponential). */
export function admittedCount(spec: RolloutSpec, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  switch (spec.strategy) {
    case 'all':
    case 'steps':
      return Infinity;
    case 'constant':
      return (spec.perMinute * elapsedMs) / 60_000;
    case 'exponential': {
      // Piecewise constant rate: perMinute * growth^k during period k.
      let total = 0;
      let rate = spec.perMinute;
      let left = elapsedMs;
      for (let k = 0; left > 0 && k < 10_000; k++) {
        const span = Math.min(left, spec.everyMs);
        total += (rate * span) / 60_000;
        left -= span;
        rate *= spec.growth;
        if (!Number.isFinite(total)) return Infinity;
      }
      return total;
    }
  }
}

/** Per-cohort outcome counts: finished (success, failed, rolled back) and failed among them. */
export interface CohortCounts {
  finished: number;
  failed: number;
}

export interface AbortRule {
  failureRate: number;
  minSample: number;
}

/** True when the counts trip the rule: enough finished and a failure rate above the threshold. */
export function trips(rule: AbortRule | undefined, c: CohortCounts): boolean {
  if (rule === undefined || c.finished < Math.max(1, rule.minSample)) return false;
  return c.failed / c.finished > rule.failureRate;
}

/**
 * The state of one campaign's rollout, advanced by `tick` with the campaign's clock (ms since it
 * started, in whatever time base the caller uses) and the outcome counts per cohort.
 */
export class RolloutState {
  step = 0;
  stepStartedMs = 0;
  aborted = false;
  reason = '';
  /** Each step taken and the abort, ms since the campaign started (the report marks them on its charts). */
  readonly changes: RolloutChange[] = [];

  constructor(
    readonly spec: RolloutSpec,
    readonly rule: AbortRule | undefined,
    /** Devices the rates are fractions of. */
    readonly fleetSize: number,
  ) {}

  /** Number of cohorts counted: one per step, or one for the whole campaign. */
  get cohorts(): number {
    return this.spec.strategy === 'steps' ? this.spec.steps.length : 1;
  }

  /** Upper rank bound of cohort `k`. */
  cohortUpTo(k: number): number {
    return this.spec.strategy === 'steps' ? this.spec.steps[k] : 1;
  }

  /** The cohort a device of rank `rank` belongs to. */
  cohortOf(rank: number): number {
    if (this.spec.strategy !== 'steps') return 0;
    const s = this.spec.steps;
    for (let k = 0; k < s.length; k++) if (rank < s[k]) return k;
    return s.length - 1;
  }

  /** Share of the fleet admitted at `elapsedMs` (0 once aborted for devices not yet admitted: see `admits`). */
  fraction(elapsedMs: number): number {
    const s = this.spec;
    if (s.strategy === 'all') return 1;
    if (s.strategy === 'steps') return s.steps[this.step];
    return Math.min(1, admittedCount(s, elapsedMs) / Math.max(1, this.fleetSize));
  }

  /**
   * Advances the rollout to `elapsedMs`: trips the abort rule on the whole campaign (or, for steps,
   * on the current step's cohort) and moves to the next step once the soak time is over.
   * `counts[k]` are cohort k's outcomes. Returns true when something changed.
   */
  tick(elapsedMs: number, counts: readonly CohortCounts[]): boolean {
    if (this.aborted) return false;
    const s = this.spec;
    if (s.strategy !== 'steps') {
      if (trips(this.rule, counts[0])) return this.abort(`failure rate ${rate(counts[0])} over ${counts[0].finished} finished`, elapsedMs);
      return false;
    }
    const c = counts[this.step];
    if (trips(this.rule, c)) return this.abort(`step ${this.step + 1} (${pctText(s.steps[this.step])}): failure rate ${rate(c)} over ${c.finished} finished`, elapsedMs);
    if (this.step < s.steps.length - 1 && elapsedMs - this.stepStartedMs >= s.stepWaitMs) {
      const min = this.rule?.minSample ?? 0;
      if (c.finished < min) return false; // not enough evidence yet: keep soaking
      this.step++;
      this.stepStartedMs = elapsedMs;
      this.changes.push({ afterMs: elapsedMs, step: this.step, aborted: false });
      return true;
    }
    return false;
  }

  private abort(reason: string, elapsedMs: number): boolean {
    this.aborted = true;
    this.reason = reason;
    this.changes.push({ afterMs: elapsedMs, step: this.step, aborted: true });
    return true;
  }
}

function rate(c: CohortCounts): string {
  return pctText(c.finished > 0 ? c.failed / c.finished : 0);
}

function pctText(f: number): string {
  return `${Math.round(f * 1000) / 10}%`;
}
