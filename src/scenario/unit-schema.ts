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

/**
 * The zod builder for a unit string, shared by the scenario and the profile schemas: the value
 * must parse with its kind's parser (the parser's message and hint otherwise) and lie within
 * `bound`. Fresh per call, so that a field's description belongs to that field alone.
 */
export function unitSchema(kind: UnitKind, description: string, bound: UnitBound) {
  return z
    .string()
    .check((ctx) => {
      const r = kind.parse(ctx.value);
      if (!r.ok) {
        ctx.issues.push({ code: 'custom', message: r.message, input: ctx.value, params: { hint: r.hint } });
      } else if ((bound === 'positive' && !(r.value > 0)) || (bound === 'nonnegative' && r.value < 0)) {
        const must = bound === 'positive' ? 'more than zero' : 'zero or more';
        ctx.issues.push({ code: 'custom', message: `"${ctx.value}" must be ${must}`, input: ctx.value, params: { hint: kind.hint } });
      }
    })
    .meta({ description, pattern: kind.pattern, examples: [...kind.examples] });
}
