import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TimelineRow } from '../metrics/aggregate.js';
import type { RunSummary } from '../summary/run-summary.js';
import { summaryJsonWriter } from './summary-json.js';
import { timelineNdjsonWriter } from './timeline-ndjson.js';
import { junitWriter } from './junit.js';
import { htmlWriter } from './html.js';
import type { ReportWriter } from './report-writer.js';

export { loadReport, loadSummary } from './load.js';

export const DEFAULT_WRITERS: readonly ReportWriter[] = [summaryJsonWriter, timelineNdjsonWriter, junitWriter, htmlWriter];

/** The writers `fleetsim report DIR` re-runs: the renderings, never the saved data itself. */
export const RENDER_WRITERS: readonly ReportWriter[] = [junitWriter, htmlWriter];

/**
 * Writes every report file of a run into `dir` and returns their paths (in writer order). Every
 * writer runs even when one fails; the first failure is then rethrown, naming its writer.
 */
export async function writeReport(
  dir: string,
  summary: RunSummary,
  timeline: readonly TimelineRow[],
  writers: readonly ReportWriter[] = DEFAULT_WRITERS,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const results = await Promise.allSettled(writers.map((w) => w.write(dir, summary, timeline)));
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    const reason = (results[failed] as PromiseRejectedResult).reason as Error;
    throw new Error(`report writer "${writers[failed].name}" failed to write ${join(dir, writers[failed].file)}: ${reason?.message ?? reason}`, { cause: reason });
  }
  return writers.map((w) => join(dir, w.file));
}
