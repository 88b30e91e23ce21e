import * as z from 'zod';
import type { Parsed } from '../models/units.js';

/** A kind of unit string: its parser (models/units.ts, profile-units.ts), hint, and editor metadata. */
export interface UnitKind {
  readonly parse: (text: string) => Parsed<number>;
  readonly hint: string;
  /** JSON Schema pattern for editors. */
  readonly pattern: string;
  readonly examples: readonly string[];
}

/** Which parsed values a field accepts beyond what its parser does. */
export type UnitBound = 'any' | 'positive' | 'nonnegative';

/** The range a field states (in its kind's text, e.g. '1ms' and '100y'), checked and shown in the JSON Schema. */
export interface UnitRange {
  readonly min?: string;
  readonly max?: string;
}

/**
 * The zod builder for a unit string, shared by the scenario and the profile schemas: the value
 * must parse with its kind's parser (the parser's message and hint otherwise) and lie within
 * `bound`. Fresh per call, so that a field's description belongs to that field alone.
 */
export function unitSchema(kind: UnitKind, description: string, bound: UnitBound, range: UnitRange = {}) {
  const limit = (text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const r = kind.parse(text);
    if (!r.ok) throw new Error(`range ${text} does not parse: ${r.message}`);
    return r.value;
  };
  const min = limit(range.min);
  const max = limit(range.max);
  const from = range.min ?? (bound === 'positive' ? 'more than 0' : '0');
  const rangeText = range.min === undefined && range.max === undefined ? undefined : `${from} to ${range.max ?? 'any'}`;
  const stated = rangeText === undefined ? description : `${description} Range: ${rangeText}.`;
  return z
    .string()
    .check((ctx) => {
      const r = kind.parse(ctx.value);
      const fail = (message: string) => ctx.issues.push({ code: 'custom', message, input: ctx.value, params: { hint: rangeText === undefined ? kind.hint : `the range is ${rangeText}; ${kind.hint}` } });
      if (!r.ok) {
        ctx.issues.push({ code: 'custom', message: r.message, input: ctx.value, params: { hint: r.hint } });
      } else if ((bound === 'positive' && !(r.value > 0)) || (bound === 'nonnegative' && r.value < 0)) {
        fail(`"${ctx.value}" must be ${bound === 'positive' ? 'more than zero' : 'zero or more'}`);
      } else if (min !== undefined && r.value < min) {
        fail(`"${ctx.value}" is below the smallest value allowed here, ${range.min}`);
      } else if (max !== undefined && r.value > max) {
        fail(`"${ctx.value}" is above the largest value allowed here, ${range.max}`);
      }
    })
    .meta({ description: stated, pattern: kind.pattern, examples: [...kind.examples] });
}
