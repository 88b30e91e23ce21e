/**
 * What a run (or a sweep, a merge, a comparison) means for CI: a verdict and the process exit
 * code that goes with it. The codes are the one table here; run, sweep, merge and compare all
 * take theirs from it, so a verdict never exits with two different codes.
 */
export type RunStatus = 'completed' | 'interrupted' | 'failed';
export type Verdict = 'passed' | 'thresholds_failed' | 'invalid' | 'interrupted' | 'error';

/**
 * 0 pass; 1 runtime error (as an uncaught failure); 3 the measurement is invalid; 99 thresholds
 * failed (high enough not to collide with the small codes tools use for usage errors, 2 here);
 * 130 interrupted (128 + SIGINT, the shell's convention).
 */
export const EXIT_CODES = {
  passed: 0,
  error: 1,
  invalid: 3,
  thresholds_failed: 99,
  interrupted: 130,
} as const satisfies Record<Verdict, number>;

export interface VerdictResult {
  verdict: Verdict;
  exitCode: number;
  reasons: string[];
}

export function verdictResult(verdict: Verdict, reasons: string[]): VerdictResult {
  return { verdict, exitCode: EXIT_CODES[verdict], reasons };
}

export interface ThresholdResult {
  metric: string;
  /** The expression as written, e.g. `p(99) < 500ms`. */
  expression: string;
  /** The measured value the expression compared, in the metric's unit (µs for latencies), or null when there was no data. */
  value: number | null;
  /** Human-readable measured value with unit. */
  display: string;
  ok: boolean;
}

export interface ResultInput {
  status: RunStatus;
  thresholds: ThresholdResult[];
  shardsReported: number;
  expectedShards: number;
  saturated: boolean;
  maxLagMs: number;
  boundMs: number;
  accountingHolds: boolean;
  errors: string[];
}

/**
 * The verdict of a run: interrupted, then a runtime error, then failed thresholds; otherwise a
 * missing shard, a saturated generator or a broken accounting identity make the measurement
 * invalid. Failed thresholds win over invalidity: they are what CI acts on.
 */
export function decideResult(r: ResultInput): VerdictResult {
  const reasons = [...r.errors];
  if (r.status === 'interrupted') {
    reasons.push('the run was interrupted; this is a partial report');
    return verdictResult('interrupted', reasons);
  }
  if (r.status === 'failed') return verdictResult('error', reasons);
  const failed = r.thresholds.filter((t) => !t.ok);
  if (failed.length > 0) {
    for (const t of failed) reasons.push(`threshold ${t.metric}: ${t.expression} failed (measured ${t.display})`);
    return verdictResult('thresholds_failed', reasons);
  }
  if (r.shardsReported < r.expectedShards) {
    reasons.push(`only ${r.shardsReported} of ${r.expectedShards} shards reported`);
    return verdictResult('invalid', reasons);
  }
  if (r.saturated) {
    reasons.push(
      `the generator fell behind its schedule by up to ${r.maxLagMs.toFixed(0)} ms (bound ${r.boundMs} ms): the machine could not keep up, so the measurement is invalid; run fewer devices per worker, more --workers, or split the fleet with --shard`,
    );
    return verdictResult('invalid', reasons);
  }
  if (!r.accountingHolds) {
    reasons.push('the accounting identity does not hold (a fleetsim bug; please report it)');
    return verdictResult('invalid', reasons);
  }
  return verdictResult('passed', reasons);
}
