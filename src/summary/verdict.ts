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
  /** The generator's CPU could not keep up (summary/generator-health.ts `generatorProblems`): one sentence each. */
  generator: readonly string[];
  /** The send side fell behind with a healthy CPU (`sendSideBacklog`): one sentence each. */
  sendSide: readonly string[];
  accountingHolds: boolean;
  /** Why the backend's count of received telemetry is not known complete (summary/accounting.ts `unconfirmed`): one sentence per broker. */
  backendCountUnconfirmed?: readonly string[];
  errors: string[];
}

/** Thresholds measured on what the backend counted: with a count not confirmed complete, a failure may be the counter's. */
const BACKEND_COUNTED = new Set(['telemetry.lost']);

/**
 * The verdict of a run: interrupted, then a runtime error; then a generator whose CPU could not
 * keep up makes the run invalid even when thresholds failed (they may have failed through
 * fleetsim's own delay: blaming the backend for them would be wrong); then, the same way, failed
 * thresholds that only measure the backend's count when it is not confirmed complete; then failed thresholds;
 * otherwise a missing shard, a send side that fell behind or a broken accounting identity make
 * the measurement invalid. Otherwise failed thresholds win over invalidity: they are what CI acts on.
 */
export function decideResult(r: ResultInput): VerdictResult {
  const reasons = [...r.errors];
  if (r.status === 'interrupted') {
    reasons.push('the run was interrupted; this is a partial report');
    return verdictResult('interrupted', reasons);
  }
  if (r.status === 'failed') return verdictResult('error', reasons);
  const failed = r.thresholds.filter((t) => !t.ok);
  if (r.generator.length > 0) {
    reasons.push(...r.generator);
    if (failed.length > 0) reasons.push(`not judged, because of the generator: ${failed.map((t) => `${t.metric} ${t.expression} (measured ${t.display})`).join('; ')}`);
    return verdictResult('invalid', reasons);
  }
  const unconfirmed = r.backendCountUnconfirmed ?? [];
  if (failed.length > 0 && unconfirmed.length > 0 && failed.every((t) => BACKEND_COUNTED.has(t.metric))) {
    // What the backend received is then a lower bound, so "lost between" (in telemetry.lost) an upper one.
    reasons.push(...unconfirmed.map((u) => `the backend's count is not confirmed complete: ${u}`));
    reasons.push(`not judged, because of the backend's count: ${failed.map((t) => `${t.metric} ${t.expression} (measured ${t.display})`).join('; ')}`);
    return verdictResult('invalid', reasons);
  }
  if (failed.length > 0) {
    for (const t of failed) reasons.push(`threshold ${t.metric}: ${t.expression} failed (measured ${t.display})`);
    return verdictResult('thresholds_failed', reasons);
  }
  if (r.shardsReported < r.expectedShards) {
    reasons.push(`only ${r.shardsReported} of ${r.expectedShards} shards reported`);
    return verdictResult('invalid', reasons);
  }
  if (r.sendSide.length > 0) {
    reasons.push(...r.sendSide);
    return verdictResult('invalid', reasons);
  }
  if (!r.accountingHolds) {
    reasons.push('the accounting identity does not hold (a fleetsim bug; please report it)');
    return verdictResult('invalid', reasons);
  }
  return verdictResult('passed', reasons);
}
