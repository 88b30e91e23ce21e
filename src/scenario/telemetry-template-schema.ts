import * as z from 'zod';
import { parseDuration, type Parsed } from '../models/units.js';
import { BUILTIN_FIELDS } from '../payload/device-fields.js';
import { MAX_DECIMALS } from '../payload/number-writer.js';
import { compileTemplate } from '../payload/template-compile.js';
import { BINARY_TYPES, type BinaryEntry, type GeneratorSpec, type TemplateSpec } from '../payload/template-spec.js';
import type { SchemaHelpers } from './fleet-ops-schema.js';

/**
 * `behaviour.telemetry.template`: payloads that look like a device's. Part of the one scenario
 * schema; payload/template-compile.ts checks placeholders and the sequence number, and its
 * problems are reported here at their own line and column.
 */

export const SPEED_HINT = 'use metres per second as a number, or a speed such as 50km/h, 12m/s or 30mph';
const SPEED_UNITS: Record<string, number> = { 'm/s': 1, 'km/h': 1000 / 3600, mph: 1609.344 / 3600, kn: 1852 / 3600 };

/** A speed in m/s from a number (m/s) or text like `50km/h`. */
export function parseSpeed(v: number | string): Parsed<number> {
  if (typeof v === 'number') return v >= 0 ? { ok: true, value: v } : { ok: false, message: `speed ${v} is negative`, hint: SPEED_HINT };
  const m = /^(\d+(?:\.\d+)?)\s*(m\/s|km\/h|mph|kn)$/.exec(v.trim());
  if (!m) return { ok: false, message: `"${v}" is not a speed`, hint: SPEED_HINT };
  return { ok: true, value: Number(m[1]) * SPEED_UNITS[m[2]] };
}

const decimals = z.int().min(0).max(MAX_DECIMALS).optional().meta({ description: 'Digits after the decimal point (JSON).' });
const num = z.number();
const scalar = z.union([z.number(), z.string()]);

export function telemetryTemplateSchema(h: SchemaHelpers) {
  const { unit, withHint } = h;
  const generator = z
    .strictObject({
      constant: scalar.optional().meta({ description: 'The same value in every message.' }),
      uniform: z.strictObject({ min: num, max: num }).optional().meta({ description: 'Uniform between min and max.' }),
      normal: z.strictObject({ mean: num, sd: num.nonnegative(), min: num.optional(), max: num.optional() }).optional().meta({ description: 'Normal with mean and standard deviation, clamped to [min, max] when given.' }),
      walk: z.strictObject({ start: num.optional(), step: num.positive(), min: num, max: num }).optional().meta({ description: 'Random walk: each message moves by up to ±step, reflected at min and max; starts at `start` or a random point per device.' }),
      sine: z.strictObject({ min: num, max: num, period: unit('duration', 'Period (24h for a daily temperature).', { positive: true }), phase: unit('duration', 'Shift of the curve.').optional() }).optional().meta({ description: 'Sine between min and max over a period, from run time 0.' }),
      counter: z.strictObject({ start: num.default(0), step: num.default(1) }).optional().meta({ description: 'start + step × sequence number.' }),
      choice: z.strictObject({ values: z.array(scalar).min(1), weights: z.array(num.positive()).optional() }).optional().meta({ description: 'One of the values per message, by weight.' }),
      route: z
        .strictObject({
          points: z.array(z.tuple([num.min(-90).max(90), num.min(-180).max(180)])).min(1).meta({ description: '[lat, lon] points of the route.' }),
          speed: withHint(z.union([num, z.string()]).meta({ description: 'Speed: m/s, or e.g. 50km/h.', examples: ['50km/h', 12] }), SPEED_HINT),
          loop: z.boolean().default(false).meta({ description: 'Round trip: from the last point back to the first (default: back and forth).' }),
          spread: z.boolean().default(true).meta({ description: 'Each device starts at its own point along the route.' }),
        })
        .optional()
        .meta({ description: 'A GPS position moving along a route; read as {{name.lat}} and {{name.lon}}.' }),
      decimals,
    })
    .meta({ description: 'A generator: exactly one of constant, uniform, normal, walk, sine, counter, choice, route.' });

  const binaryEntry = z.union([
    z.strictObject({ hex: z.string().regex(/^([0-9a-fA-F]{2})+$/).meta({ description: 'Fixed bytes in hex.' }) }),
    z.strictObject({
      type: z.enum(BINARY_TYPES).meta({ description: 'Number type.' }),
      endian: z.enum(['be', 'le']).default('be').meta({ description: 'Byte order: big-endian (network order) or little-endian.' }),
      value: scalar.meta({ description: 'A number, or one {{placeholder}}.' }),
      scale: num.default(1).meta({ description: 'Multiplier before writing (e.g. 100 for centidegrees).' }),
    }),
  ]);

  return z
    .strictObject({
      json: z.unknown().optional().meta({ description: 'The payload as JSON; string values may hold {{placeholders}}; "{{seq}}" must appear once as a whole value.' }),
      binary: z.array(binaryEntry).min(1).optional().meta({ description: 'The payload as bytes, entry by entry; must carry {{seq}} as u16 or u32.' }),
      fields: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), generator).default({}).meta({ description: 'Generators by name, used as {{name}}.' }),
      epoch: z.iso.datetime({ offset: true }).optional().meta({ description: 'What {{ts}} counts from at run time 0 (ISO 8601); default: when the run starts. Set it to make {{ts}} reproducible.' }),
    })
    .check((ctx) => {
      const spec = templateSpecOf(ctx.value);
      if (!spec.ok) {
        for (const p of spec.problems) ctx.issues.push({ code: 'custom', path: p.path, message: p.message, input: ctx.value, params: { hint: p.hint } });
        return;
      }
      const r = compileTemplate(spec.value);
      if (!r.ok) for (const p of r.problems) ctx.issues.push({ code: 'custom', path: p.path, message: p.message, input: ctx.value, params: { hint: p.hint } });
    })
    .meta({ description: `A telemetry payload template. Built-in fields: ${Object.keys(BUILTIN_FIELDS).join(', ')}.` });
}

export type TemplateInput = z.output<ReturnType<typeof telemetryTemplateSchema>>;

type Problem = { path: Array<string | number>; message: string; hint: string };

const GENERATOR_KINDS = ['constant', 'uniform', 'normal', 'walk', 'sine', 'counter', 'choice', 'route'] as const;

/** The validated YAML as a TemplateSpec (durations and speeds parsed), or the problems found doing so. */
export function templateSpecOf(t: TemplateInput): { ok: true; value: TemplateSpec } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const fields: Record<string, GeneratorSpec> = {};
  for (const [name, g] of Object.entries(t.fields)) {
    const kinds = GENERATOR_KINDS.filter((k) => g[k] !== undefined);
    if (kinds.length !== 1) {
      problems.push({ path: ['fields', name], message: kinds.length === 0 ? `field "${name}" needs a generator` : `field "${name}" has ${kinds.join(' and ')}; one generator per field`, hint: `write one of ${GENERATOR_KINDS.join(', ')}, e.g. ${name}: { uniform: { min: 0, max: 10 } }` });
      continue;
    }
    const d = g.decimals ?? 2;
    const path = ['fields', name, kinds[0]];
    const range = (min: number, max: number) => {
      if (min > max) problems.push({ path, message: `min ${min} is above max ${max}`, hint: 'swap min and max' });
    };
    if (g.constant !== undefined) fields[name] = { kind: 'constant', value: g.constant, decimals: g.decimals ?? 0 };
    else if (g.uniform) {
      range(g.uniform.min, g.uniform.max);
      fields[name] = { kind: 'uniform', ...g.uniform, decimals: d };
    } else if (g.normal) {
      const { mean, sd, min = -Infinity, max = Infinity } = g.normal;
      range(min, max);
      fields[name] = { kind: 'normal', mean, sd, min, max, decimals: d };
    } else if (g.walk) {
      const w = g.walk;
      range(w.min, w.max);
      if (w.step > w.max - w.min && w.max > w.min) problems.push({ path: [...path, 'step'], message: `step ${w.step} is larger than the range ${w.max - w.min}`, hint: 'a step smaller than max - min' });
      if (w.start !== undefined && (w.start < w.min || w.start > w.max)) problems.push({ path: [...path, 'start'], message: `start ${w.start} is outside [${w.min}, ${w.max}]`, hint: 'start between min and max' });
      fields[name] = { kind: 'walk', ...w, decimals: d };
    } else if (g.sine) {
      range(g.sine.min, g.sine.max);
      const period = parseDuration(g.sine.period);
      const phase = g.sine.phase === undefined ? { ok: true as const, value: 0 } : parseDuration(g.sine.phase);
      if (period.ok && phase.ok) fields[name] = { kind: 'sine', min: g.sine.min, max: g.sine.max, periodMs: period.value, phaseMs: phase.value, decimals: d };
    } else if (g.counter) fields[name] = { kind: 'counter', start: g.counter.start, step: g.counter.step, decimals: g.decimals ?? 0 };
    else if (g.choice) {
      const c = g.choice;
      if (c.weights && c.weights.length !== c.values.length) problems.push({ path: [...path, 'weights'], message: `${c.weights.length} weights for ${c.values.length} values`, hint: 'one weight per value' });
      fields[name] = { kind: 'choice', values: c.values, ...(c.weights ? { weights: c.weights } : {}), decimals: g.decimals ?? 0 };
    } else if (g.route) {
      const speed = parseSpeed(g.route.speed);
      if (!speed.ok) problems.push({ path: [...path, 'speed'], message: speed.message, hint: speed.hint });
      else fields[name] = { kind: 'route', points: g.route.points, speedMps: speed.value, loop: g.route.loop, spread: g.route.spread, decimals: g.decimals ?? 6 };
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const binary: BinaryEntry[] | undefined = t.binary?.map((e) => ('hex' in e ? { hex: e.hex } : { type: e.type, endian: e.endian, value: e.value, scale: e.scale }));
  return {
    ok: true,
    value: {
      ...(t.json === undefined ? {} : { json: t.json }),
      ...(binary === undefined ? {} : { binary }),
      fields,
      ...(t.epoch === undefined ? {} : { epochMs: Date.parse(t.epoch) }),
    },
  };
}
