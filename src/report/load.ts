import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FleetsimError, type Problem } from '../errors/fleetsim-error.js';
import type { TimelineRow } from '../metrics/aggregate.js';
import { SUMMARY_SCHEMA_VERSION, type RunSummary } from '../summary/run-summary.js';

/**
 * Reading saved runs back: `fleetsim report` re-renders them and `fleetsim compare` diffs them.
 * Everything here is user input (a path typed on a command line, a file from another machine or
 * another fleetsim version), so every failure is a FleetsimError with a hint.
 */

/** The top-level members every v1 summary has, with their JSON types. */
const REQUIRED_MEMBERS: ReadonlyArray<[key: keyof RunSummary, type: 'object' | 'array' | 'number']> = [
  ['schemaVersion', 'number'],
  ['tool', 'object'],
  ['run', 'object'],
  ['result', 'object'],
  ['accounting', 'object'],
  ['counters', 'object'],
  ['gauges', 'object'],
  ['histograms', 'object'],
  ['thresholds', 'array'],
  ['generator', 'object'],
];

/** Accepts a report directory or the path of a summary.json; returns the summary.json path. */
export async function resolveSummaryPath(pathOrDir: string): Promise<string> {
  const st = await stat(pathOrDir).catch(() => null);
  if (!st) {
    throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${pathOrDir} does not exist`, {
      hint: 'pass a report directory (reports/<run-id>) or the path of its summary.json',
    });
  }
  const file = st.isDirectory() ? join(pathOrDir, 'summary.json') : pathOrDir;
  if (st.isDirectory() && !(await stat(file).catch(() => null))) {
    throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${pathOrDir} holds no summary.json`, {
      hint: 'a report directory is the one a run printed at its end (reports/<run-id>); it holds summary.json',
    });
  }
  return file;
}

/** Reads and checks a summary.json (or the one in a report directory). */
export async function loadSummary(pathOrDir: string): Promise<RunSummary> {
  const file = await resolveSummaryPath(pathOrDir);
  const text = await readFile(file, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${file} is not valid JSON: ${(err as Error).message}`, {
      hint: 'the file was cut short or edited by hand; re-run the scenario or restore the file',
    });
  }
  return checkSummary(data, file);
}

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Checks the schema version and the top-level shape; returns the summary typed. */
export function checkSummary(data: unknown, file: string): RunSummary {
  if (jsonType(data) !== 'object' || !('schemaVersion' in (data as object))) {
    throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${file} is not a fleetsim summary (it has no schemaVersion)`, {
      hint: 'pass the summary.json a fleetsim run wrote, or its report directory',
    });
  }
  const s = data as Record<string, unknown>;
  if (s.schemaVersion !== SUMMARY_SCHEMA_VERSION) {
    throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${file} has summary schemaVersion ${JSON.stringify(s.schemaVersion)}; this fleetsim reads version ${SUMMARY_SCHEMA_VERSION}`, {
      hint: `use the fleetsim version that wrote it${jsonType(s.tool) === 'object' ? ` (${String((s.tool as { version?: unknown }).version)})` : ''}; docs/summary.md lists what each version holds`,
    });
  }
  const problems: Problem[] = [];
  for (const [key, type] of REQUIRED_MEMBERS) {
    if (jsonType(s[key]) !== type) problems.push({ path: key, message: `expected ${type}, found ${jsonType(s[key])}` });
  }
  if (problems.length > 0) {
    throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${file} is not a complete v${SUMMARY_SCHEMA_VERSION} summary`, {
      problems,
      hint: 'the file was edited or written by an unfinished run; docs/summary.md documents every field',
    });
  }
  return data as RunSummary;
}

/** Reads timeline.ndjson; a missing file is an empty timeline (merged runs may not have one). */
export async function loadTimeline(file: string): Promise<TimelineRow[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const rows: TimelineRow[] = [];
  const problems: Problem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const row = JSON.parse(line) as TimelineRow;
      if (jsonType(row) !== 'object' || typeof row.tMs !== 'number' || jsonType(row.counters) !== 'object') throw new Error('not a timeline row');
      rows.push(row);
    } catch (err) {
      problems.push({ location: { file, line: i + 1, col: 1 }, message: (err as Error).message });
    }
  });
  if (problems.length > 0) {
    throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${file} has ${problems.length} unreadable line(s)`, {
      problems: problems.slice(0, 10),
      hint: 'each line must be one JSON timeline row as fleetsim wrote it; remove or restore the damaged lines',
    });
  }
  return rows;
}

/**
 * Loads a saved run: `summary.json` (checked) and `timeline.ndjson` beside it. `dir` may also be
 * the path of the summary.json itself.
 */
export async function loadReport(dir: string): Promise<{ summary: RunSummary; timeline: TimelineRow[] }> {
  const summaryFile = await resolveSummaryPath(dir);
  const summary = await loadSummary(summaryFile);
  const timelineFile = join(dirname(summaryFile), 'timeline.ndjson');
  const timeline = await loadTimeline(timelineFile);
  return { summary, timeline };
}
