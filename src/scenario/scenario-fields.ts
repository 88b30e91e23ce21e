import * as z from 'zod';
import { unitSchema, type UnitKind, type UnitRange } from './unit-schema.js';
import type { SchemaHelpers } from './fleet-ops-schema.js';
import {
  DURATION_HINT,
  PERCENT_HINT,
  RATE_HINT,
  SIZE_HINT,
  parseDuration,
  parsePercent,
  parseRate,
  parseSize,
  parseBitRate,
  BIT_RATE_HINT,
} from '../models/units.js';

/**
 * The scenario schema's leaf fields (schema.ts): unit strings checked by their models/units.ts
 * parser within their kind's range, URLs, and the hints shown for a value of the wrong type. The
 * section schemas (fleet operations, backend, faults, templates, cost, lifetime) get the same
 * builders as `schemaHelpers`, so every unit field has one definition of its checks and metadata.
 */

/**
 * Hints for leaf fields, shown when a value has the wrong type (`every: 10` instead of `10s`).
 * A private registry, so the hints never appear in the JSON Schema.
 */
export const fieldHints = z.registry<{ hint: string }>();

export function withHint<T extends z.ZodType>(schema: T, hint: string): T {
  fieldHints.add(schema, { hint });
  return schema;
}

const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h|d|y))+$';
const SIZE_PATTERN = '^\\d+(\\.\\d+)?([kKmMgG][iI]?)?[bB]$';
const RATE_PATTERN = '^\\d+(\\.\\d+)?/(s|m|h|d)$';
const PERCENT_PATTERN = '^\\d+(\\.\\d+)?%$';

export const BIT_RATE: UnitKind = { parse: parseBitRate, hint: BIT_RATE_HINT, pattern: '^\\d+(\\.\\d+)?([kmgKMG]?(bit|bps))$', examples: ['26kbit', '1mbit'] };
export const DURATION: UnitKind = { parse: parseDuration, hint: DURATION_HINT, pattern: DURATION_PATTERN, examples: ['500ms', '10s', '2m', '1h'] };
export const SIZE: UnitKind = { parse: parseSize, hint: SIZE_HINT, pattern: SIZE_PATTERN, examples: ['200B', '4KB', '20MB'] };
export const RATE: UnitKind = { parse: parseRate, hint: RATE_HINT, pattern: RATE_PATTERN, examples: ['20/s', '300/m'] };
export const PERCENT: UnitKind = { parse: parsePercent, hint: PERCENT_HINT, pattern: PERCENT_PATTERN, examples: ['10%', '0.5%'] };

/**
 * The largest value of each kind any scenario field takes unless it states its own: past these a
 * value is a typo or a test of the parser (a poll every 8,000 years), never a run. Durations up
 * to a century cover battery-life projections; 10^6 per second is far above any arrival or
 * rollout rate a backend sees; payloads stop at 1 MiB (AWS IoT Core takes 128 KB, Azure IoT
 * Hub 256 KB per message); links at 100 Gbit/s.
 */
const KIND_MAX = new Map<UnitKind, string>([
  [DURATION, '100y'],
  [SIZE, '1GiB'],
  [RATE, '1000000/s'],
  [BIT_RATE, '100gbit'],
]);
/** The shortest interval of anything that repeats per device (telemetry, polls, logs): the clocks count in milliseconds. */
export const MIN_INTERVAL = '1ms';

/** A unit string checked by its models/units.ts parser and its range, with its hint for a value of the wrong type. */
export function unitString(kind: UnitKind, description: string, opts: { positive?: boolean } & UnitRange = {}) {
  return withHint(unitSchema(kind, description, opts.positive ? 'positive' : 'any', { min: opts.min, max: opts.max ?? KIND_MAX.get(kind) }), kind.hint);
}

/** A URL of one of `schemes` with a host, with its hint. */
export function url(schemes: readonly string[], description: string) {
  const hint = `use a URL such as ${schemes.map((s) => `${s}://host:port`).join(' or ')}`;
  const s = z
    .string()
    .check((ctx) => {
      let parsed: URL | undefined;
      try {
        parsed = new URL(ctx.value);
      } catch {
        parsed = undefined;
      }
      const scheme = parsed?.protocol.replace(/:$/, '');
      if (!parsed || !scheme || !schemes.includes(scheme) || !parsed.hostname) {
        const why = parsed && scheme && !schemes.includes(scheme) ? `scheme "${scheme}" is not ${schemes.join(' or ')}` : 'not a URL with a host';
        ctx.issues.push({ code: 'custom', message: `"${ctx.value}": ${why}`, input: ctx.value, params: { hint } });
      }
    })
    .meta({ description, examples: schemes.map((s) => `${s}://localhost`) });
  return withHint(s, hint);
}

const UNITS = { duration: DURATION, size: SIZE, rate: RATE, percent: PERCENT } as const;

/** The builders the section schemas take (fleet-ops-schema.ts SchemaHelpers). */
export const schemaHelpers: SchemaHelpers = { unit: (kind, description, opts) => unitString(UNITS[kind], description, opts), withHint };
