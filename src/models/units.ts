/**
 * Parsers for the unit strings scenarios and profiles use: durations (`500ms`, `10s`, `2m`, `1h`,
 * `1d`), sizes (`200B`, `4KB`, `20MB`, `1KiB`), rates (`20/s`, `100/m`, `5/h`) and percentages
 * (`10%`). Pure functions; they return a result instead of throwing so that validation can collect
 * every problem of a file at once.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; hint: string };

/**
 * A number of 309 digits or more is Infinity in JavaScript: `9999…9s` must be refused, not turned
 * into an endless run (a duration shown as "InfinityhNaNm").
 */
export function finite(value: number, text: string, hint: string): Parsed<number> {
  if (Number.isFinite(value)) return { ok: true, value };
  return { ok: false, message: `"${text.length > 40 ? text.slice(0, 40) + '…' : text}" is too large to be a number fleetsim can use`, hint };
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  y: 365 * 86_400_000,
};
export const DURATION_HINT = 'use a number and a unit with no space: 500ms, 10s, 2m, 1.5h, 1d, 5y (or combined: 1m30s)';

/** Parses a duration string into milliseconds. */
export function parseDuration(text: string): Parsed<number> {
  const s = text.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|y)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    return { ok: false, message: `"${text}" is not a duration`, hint: DURATION_HINT };
  }
  return finite(total, text, DURATION_HINT);
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 * 1024,
  gib: 1024 * 1024 * 1024,
};
export const SIZE_HINT = 'use a number and a unit with no space: 200B, 4KB, 20MB, 1GB, 64KiB, 1MiB';

/** Parses a size string into bytes (rounded to a whole byte). */
export function parseSize(text: string): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)(b|kb|mb|gb|kib|mib|gib)$/i.exec(text.trim());
  if (!m) return { ok: false, message: `"${text}" is not a size`, hint: SIZE_HINT };
  return finite(Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]), text, SIZE_HINT);
}

const RATE_PER: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
export const RATE_HINT = 'use a count per unit of time: 20/s, 300/m, 50/h, 1000/d';

/** Parses a rate string into events per second. */
export function parseRate(text: string): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)\/(s|m|h|d)$/.exec(text.trim());
  if (!m) return { ok: false, message: `"${text}" is not a rate`, hint: RATE_HINT };
  return finite(Number(m[1]) / RATE_PER[m[2]], text, RATE_HINT);
}

export const PERCENT_HINT = 'use a percentage between 0% and 100%, such as 10% or 0.5%';

/** Parses a percentage string into a fraction in [0, 1]. */
export function parsePercent(text: string): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (!m) return { ok: false, message: `"${text}" is not a percentage`, hint: PERCENT_HINT };
  const v = Number(m[1]) / 100;
  if (v > 1) return { ok: false, message: `"${text}" is more than 100%`, hint: PERCENT_HINT };
  return { ok: true, value: v };
}

const SPAN_UNITS: ReadonlyArray<[unit: string, ms: number]> = [
  ['y', 365.25 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * Formats a span in one unit, for sentences and axes: 850ms, 20s, 2.5m, 2h, 7d, 1.4y (days from
 * 2 days on, years from 2 years on, so "36h" and "18 months" read as such).
 */
export function formatSpan(ms: number): string {
  for (const [unit, size] of SPAN_UNITS) {
    if (Math.abs(ms) >= (unit === 'd' || unit === 'y' ? 2 * size : size)) return `${trimNumber(ms / size)}${unit}`;
  }
  return `${trimNumber(ms)}ms`;
}

/** Up to one decimal below 10, none from 10 on; no trailing ".0". */
function trimNumber(v: number): string {
  const a = Math.abs(v);
  return String(a < 10 ? Math.round(v * 10) / 10 : Math.round(v));
}

const BIT_RATE_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 };
export const BIT_RATE_HINT = 'use tc/netem rate units: 264bit, 26kbit, 1mbit, 100mbit (or bytes per second: 10kbps)';

/** Parses a netem-style rate (`1mbit`, `26kbit`, `10kbps`) into bits per second. */
export function parseBitRate(text: string): Parsed<number> {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/i.exec(text.trim());
  if (!m) return { ok: false, message: `"${text}" is not a bit rate`, hint: BIT_RATE_HINT };
  return finite(Number(m[1]) * BIT_RATE_UNITS[m[2].toLowerCase()], text, BIT_RATE_HINT);
}
