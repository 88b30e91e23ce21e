import type { TimelineRow } from '../metrics/aggregate.js';
import type { RunSummary } from '../summary/run-summary.js';

/**
 * One output format of a run. A writer renders only from the summary and the timeline, so any
 * saved run can be re-rendered later (`fleetsim report DIR`).
 *
 * Contract (checked by test/unit/report-writers.test.ts for every writer in DEFAULT_WRITERS,
 * writer.ts):
 * - `write` creates `dir` if needed and writes exactly `join(dir, file)`, replacing it atomically;
 * - the output depends only on its inputs (no clock, no randomness): writing twice gives the same bytes;
 * - every user- or device-supplied string is escaped for the format.
 * Writers hold no state, so `writeReport` runs them concurrently.
 */
export interface ReportWriter {
  readonly name: string;
  /** File name inside the report directory. */
  readonly file: string;
  write(dir: string, summary: RunSummary, timeline: readonly TimelineRow[]): Promise<void>;
}
