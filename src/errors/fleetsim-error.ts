import { type ErrorCode, exitCodeFor } from './catalog.js';

/** A position in a source file, 1-based, as editors show it. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** One problem found in user input. Validation collects many of these before failing. */
export interface Problem {
  /** Where it is, when the input came from a file. */
  location?: SourceLocation;
  /** The YAML path, for example `fleet[1].profile` or `behaviour.telemetry.every`. */
  path?: string;
  message: string;
  /** What to do about it: accepted forms, known names, the likely fix. */
  hint?: string;
}

/**
 * The one error type fleetsim throws on purpose. The CLI prints `message`, every problem and the
 * hint, and exits with the catalog's exit code; it never prints a stack trace for these.
 */
export class FleetsimError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, message: string, options: { hint?: string; problems?: Problem[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FleetsimError';
    this.code = code;
    this.hint = options.hint;
    this.problems = options.problems ?? [];
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }
}

/**
 * A file with thousands of problems (20,000 unknown keys, say) prints this many and a count of the
 * rest: they are all counted, but nobody reads the 20,000th, and writing them all took seconds.
 */
export const MAX_PRINTED_PROBLEMS = 20;
/**
 * Longest message or YAML path printed, in characters. Messages quote what the user wrote, and a
 * 2 MB key or name would otherwise be printed whole; the cut says how long the text was.
 */
export const MAX_PRINTED_TEXT = 400;

function clip(text: string): string {
  if (text.length <= MAX_PRINTED_TEXT) return text;
  return `${text.slice(0, MAX_PRINTED_TEXT)}… (cut: ${text.length.toLocaleString('en-US')} characters)`;
}

export function formatProblem(p: Problem): string {
  const where = p.location ? `${p.location.file}:${p.location.line}:${p.location.col}: ` : '';
  const path = p.path ? `${clip(p.path)}: ` : '';
  const hint = p.hint ? `\n    hint: ${p.hint}` : '';
  return `${where}${path}${clip(p.message)}${hint}`;
}

/** The text the CLI prints for an error: code, message, the first problems (and how many more), then the hint. */
export function formatError(err: FleetsimError): string {
  const lines = [`error ${err.code}: ${clip(err.message)}`];
  for (const p of err.problems.slice(0, MAX_PRINTED_PROBLEMS)) lines.push(`  ${formatProblem(p)}`);
  const more = err.problems.length - MAX_PRINTED_PROBLEMS;
  if (more > 0) lines.push(`  … and ${more.toLocaleString('en-US')} more problem${more === 1 ? '' : 's'} (all counted; fix these and run again)`);
  if (err.hint) lines.push(`  hint: ${err.hint}`);
  return lines.join('\n');
}
