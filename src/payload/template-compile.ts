import type { SeqLocator } from '../wire/telemetry-seq.js';
import { BUILTIN_FIELDS, isBuiltinField, type BuiltinField } from './device-fields.js';
import { FIELD_SLOTS } from './generators.js';
import { PLACEHOLDER, type BinaryType, type GeneratorSpec, type TemplateSpec } from './template-spec.js';

/**
 * Compiles a template, once per run, into flat op arrays the filler walks per message: literal
 * byte runs and value slots. Also where templates are checked (the scenario schema reports these
 * problems at their YAML line and column).
 */

export const Op = { literal: 0, jsonValue: 1, inString: 2, binary: 3 } as const;

/** Source ids: built-ins by their index in BUILTIN_NAMES; generator `field`, part p as GENERATOR_BASE + field * 2 + p. */
export const BUILTIN_NAMES = Object.keys(BUILTIN_FIELDS) as BuiltinField[];
export const GENERATOR_BASE = 256;

export interface CompiledTemplate {
  format: 'json' | 'binary';
  kind: Uint8Array;
  /** Literal index (Op.literal) or source id. */
  arg: Int32Array;
  decimals: Uint8Array;
  /** Binary slots: type index in BINARY_TYPE_ORDER, little-endian flag, scale. */
  binType: Uint8Array;
  binLittle: Uint8Array;
  binScale: Float64Array;
  literals: Buffer[];
  generators: GeneratorSpec[];
  /** Pre-encoded strings of each generator with string values (JSON-escaped, no quotes). */
  generatorStrings: Array<Buffer[] | undefined>;
  seq: SeqLocator;
  /** Size of a binary payload (fixed); for JSON the filler grows its buffer as needed. */
  binaryBytes: number;
  epochMs?: number;
}

export const BINARY_TYPE_ORDER: readonly BinaryType[] = ['u8', 'u16', 'u32', 'i8', 'i16', 'i32', 'f32', 'f64'];
export const BINARY_SIZES = [1, 2, 4, 1, 2, 4, 4, 8];

export interface TemplateProblem {
  /** Path under the template (e.g. ['json', 'battery', 'soc']). */
  path: Array<string | number>;
  message: string;
  hint: string;
}

export type CompileResult = { ok: true; template: CompiledTemplate } | { ok: false; problems: TemplateProblem[] };

const PLACEHOLDER_HINT = `use {{name}} with a built-in field (${BUILTIN_NAMES.join(', ')}) or a name declared under template.fields`;

/** JSON-escaped bytes of a string, without the quotes. */
export function jsonStringBytes(s: string): Buffer {
  const quoted = JSON.stringify(s);
  return Buffer.from(quoted.slice(1, -1), 'utf8');
}

function isStringGenerator(g: GeneratorSpec): boolean {
  return (g.kind === 'constant' && typeof g.value === 'string') || (g.kind === 'choice' && g.values.some((v) => typeof v === 'string'));
}

class Builder {
  readonly kind: number[] = [];
  readonly arg: number[] = [];
  readonly decimals: number[] = [];
  readonly binType: number[] = [];
  readonly binLittle: number[] = [];
  readonly binScale: number[] = [];
  readonly literals: Buffer[] = [];
  readonly problems: TemplateProblem[] = [];
  private text = '';
  seqPaths: Array<Array<string | number>> = [];
  seqBinary: Array<{ offset: number; type: BinaryType; endian: 'be' | 'le'; scale: number }> = [];

  constructor(
    private readonly fieldNames: string[],
    private readonly generators: GeneratorSpec[],
  ) {}

  lit(s: string): void {
    this.text += s;
  }

  private flushText(): void {
    if (this.text === '') return;
    this.pushOp(Op.literal, this.literals.push(Buffer.from(this.text, 'utf8')) - 1, 0);
    this.text = '';
  }

  private pushOp(kind: number, arg: number, decimals: number, type = 0, little = 0, scale = 1): void {
    this.kind.push(kind);
    this.arg.push(arg);
    this.decimals.push(decimals);
    this.binType.push(type);
    this.binLittle.push(little);
    this.binScale.push(scale);
  }

  /** The source id a placeholder name refers to, its type and default decimals, or a problem. */
  resolve(name: string, path: Array<string | number>): { id: number; type: 'number' | 'string'; decimals: number } | undefined {
    if (isBuiltinField(name)) {
      const b = BUILTIN_FIELDS[name];
      return { id: BUILTIN_NAMES.indexOf(name), type: b.type, decimals: b.decimals };
    }
    const dot = name.indexOf('.');
    const base = dot < 0 ? name : name.slice(0, dot);
    const part = dot < 0 ? '' : name.slice(dot + 1);
    const field = this.fieldNames.indexOf(base);
    if (field < 0) {
      this.problems.push({ path, message: `unknown field "{{${name}}}"`, hint: PLACEHOLDER_HINT });
      return undefined;
    }
    const g = this.generators[field];
    if (g.kind === 'route') {
      if (part !== 'lat' && part !== 'lon') {
        this.problems.push({ path, message: `"{{${name}}}": a route is read as {{${base}.lat}} and {{${base}.lon}}`, hint: `write {{${base}.lat}} and {{${base}.lon}}` });
        return undefined;
      }
      return { id: GENERATOR_BASE + field * 2 + (part === 'lat' ? 0 : 1), type: 'number', decimals: g.decimals };
    }
    if (part !== '') {
      this.problems.push({ path, message: `"{{${name}}}": field "${base}" has no part "${part}"`, hint: `write {{${base}}}` });
      return undefined;
    }
    return { id: GENERATOR_BASE + field * 2, type: isStringGenerator(g) ? 'string' : 'number', decimals: g.decimals };
  }

  /** A JSON value, recursively, with its path for problems. */
  json(value: unknown, path: Array<string | number>): void {
    if (typeof value === 'string') return this.jsonString(value, path);
    if (Array.isArray(value)) {
      this.lit('[');
      value.forEach((v, i) => {
        if (i > 0) this.lit(',');
        this.json(v, [...path, i]);
      });
      this.lit(']');
      return;
    }
    if (value !== null && typeof value === 'object') {
      this.lit('{');
      Object.entries(value).forEach(([k, v], i) => {
        if (i > 0) this.lit(',');
        this.lit(JSON.stringify(k) + ':');
        this.json(v, [...path, k]);
      });
      this.lit('}');
      return;
    }
    this.lit(JSON.stringify(value ?? null));
  }

  private jsonString(s: string, path: Array<string | number>): void {
    const whole = /^\{\{\s*([^}]*?)\s*\}\}$/.exec(s);
    if (whole && !whole[1].includes('{')) {
      // The whole value is one placeholder: a number stays a number, a string is quoted.
      const src = this.resolve(whole[1], path);
      if (!src) return;
      if (whole[1] === 'seq') this.seqPaths.push(path.slice(1));
      this.flushText();
      this.pushOp(Op.jsonValue, src.id, src.decimals);
      return;
    }
    this.lit('"');
    let last = 0;
    for (const m of s.matchAll(PLACEHOLDER)) {
      this.lit(JSON.stringify(s.slice(last, m.index)).slice(1, -1));
      last = m.index + m[0].length;
      const src = this.resolve(m[1], path);
      if (!src) continue;
      this.flushText();
      this.pushOp(Op.inString, src.id, src.decimals);
    }
    const rest = s.slice(last);
    if (/\{\{/.test(rest)) this.problems.push({ path, message: `malformed placeholder in "${s}"`, hint: PLACEHOLDER_HINT });
    this.lit(JSON.stringify(rest).slice(1, -1));
    this.lit('"');
  }

  binary(entries: NonNullable<TemplateSpec['binary']>): number {
    let offset = 0;
    entries.forEach((e, i) => {
      if ('hex' in e) {
        const bytes = Buffer.from(e.hex, 'hex');
        this.flushText();
        this.pushOp(Op.literal, this.literals.push(bytes) - 1, 0);
        offset += bytes.length;
        return;
      }
      const path = ['binary', i, 'value'];
      const typeIndex = BINARY_TYPE_ORDER.indexOf(e.type);
      if (typeof e.value === 'number') {
        // A constant: written through a literal of the right width.
        const b = Buffer.alloc(BINARY_SIZES[typeIndex]);
        writeBinaryNumber(b, 0, typeIndex, e.endian === 'le' ? 1 : 0, e.value * e.scale);
        this.pushOp(Op.literal, this.literals.push(b) - 1, 0);
      } else {
        const whole = /^\{\{\s*([^}]*?)\s*\}\}$/.exec(e.value);
        const src = whole ? this.resolve(whole[1], path) : undefined;
        if (!whole) this.problems.push({ path, message: `"${e.value}" is not one {{placeholder}}`, hint: 'a binary entry holds a number or exactly one {{name}}' });
        if (src && src.type === 'string') this.problems.push({ path, message: `{{${whole![1]}}} is text; a binary entry needs a number`, hint: 'use a numeric field, or a choice of numbers' });
        if (src) {
          if (whole![1] === 'seq') this.seqBinary.push({ offset, type: e.type, endian: e.endian, scale: e.scale });
          this.pushOp(Op.binary, src.id, 0, typeIndex, e.endian === 'le' ? 1 : 0, e.scale);
        }
      }
      offset += BINARY_SIZES[typeIndex];
    });
    return offset;
  }

  done(): void {
    this.flushText();
  }
}

/** Writes `v` as binary type `typeIndex` (integers rounded and clamped to the type's range). */
export function writeBinaryNumber(buf: Buffer, at: number, typeIndex: number, little: number, v: number): void {
  if (typeIndex >= 6) {
    if (typeIndex === 6) little ? buf.writeFloatLE(v, at) : buf.writeFloatBE(v, at);
    else little ? buf.writeDoubleLE(v, at) : buf.writeDoubleBE(v, at);
    return;
  }
  const size = BINARY_SIZES[typeIndex];
  const signed = typeIndex >= 3;
  const bits = size * 8;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  let n = Math.round(v);
  if (!(n >= min)) n = min; // NaN too
  if (n > max) n = max;
  if (signed) little ? buf.writeIntLE(n, at, size) : buf.writeIntBE(n, at, size);
  else little ? buf.writeUIntLE(n, at, size) : buf.writeUIntBE(n, at, size);
}

/** Compiles (and checks) a template. */
export function compileTemplate(spec: TemplateSpec): CompileResult {
  const fieldNames = Object.keys(spec.fields);
  const generators = Object.values(spec.fields);
  const problems: TemplateProblem[] = [];
  if (fieldNames.length > FIELD_SLOTS) problems.push({ path: ['fields'], message: `a template declares at most ${FIELD_SLOTS} fields, not ${fieldNames.length}`, hint: 'merge fields, or reuse one field in several places' });
  for (const name of fieldNames) {
    if (isBuiltinField(name) || name.split('.')[0] in BUILTIN_FIELDS) problems.push({ path: ['fields', name], message: `"${name}" is a built-in field`, hint: 'pick another name' });
  }
  if ((spec.json === undefined) === (spec.binary === undefined)) {
    problems.push({ path: [], message: 'a template has exactly one of "json" or "binary"', hint: 'write template: { json: { seq: "{{seq}}", … } } or template: { binary: [ … ] }' });
    return { ok: false, problems };
  }
  const b = new Builder(fieldNames, generators);
  let binaryBytes = 0;
  let seq: SeqLocator | undefined;
  if (spec.json !== undefined) {
    b.json(spec.json, ['json']);
    if (b.seqPaths.length === 1) seq = { kind: 'json', path: b.seqPaths[0] };
    else problems.push({ path: ['json'], message: b.seqPaths.length === 0 ? 'the template does not carry "{{seq}}"' : '"{{seq}}" appears more than once', hint: 'put "{{seq}}" as one whole value (seq: "{{seq}}") so the backend can count each message; reconciliation reads it back' });
  } else {
    binaryBytes = b.binary(spec.binary!);
    const s = b.seqBinary;
    if (s.length === 1 && (s[0].type === 'u16' || s[0].type === 'u32') && s[0].scale === 1) seq = { kind: 'binary', offset: s[0].offset, bytes: s[0].type === 'u16' ? 2 : 4, endian: s[0].endian };
    else problems.push({ path: ['binary'], message: s.length === 0 ? 'the layout does not carry {{seq}}' : 'the layout must carry {{seq}} once, as u16 or u32 with scale 1', hint: 'add { type: u32, value: "{{seq}}" } so the backend can count each message' });
  }
  b.done();
  problems.push(...b.problems);
  if (problems.length > 0 || seq === undefined) return { ok: false, problems };
  return {
    ok: true,
    template: {
      format: spec.json !== undefined ? 'json' : 'binary',
      kind: Uint8Array.from(b.kind),
      arg: Int32Array.from(b.arg),
      decimals: Uint8Array.from(b.decimals),
      binType: Uint8Array.from(b.binType),
      binLittle: Uint8Array.from(b.binLittle),
      binScale: Float64Array.from(b.binScale),
      literals: b.literals,
      generators,
      generatorStrings: generators.map((g) => {
        if (g.kind === 'constant' && typeof g.value === 'string') return [jsonStringBytes(g.value)];
        if (g.kind === 'choice' && isStringGenerator(g)) return g.values.map((v) => jsonStringBytes(String(v)));
        return undefined;
      }),
      seq,
      binaryBytes,
      ...(spec.epochMs === undefined ? {} : { epochMs: spec.epochMs }),
    },
  };
}

/** Typical bytes of a slot's value when estimating a JSON payload's size. */
const NUMBER_SLOT_BYTES = 8;
const STRING_SLOT_BYTES = 12;

/**
 * A payload's size before any is filled, for what needs one up front (LoRaWAN airtime, the
 * largest frame a region allows): exact for binary, an estimate for JSON.
 */
export function estimatedBytes(t: CompiledTemplate): number {
  if (t.format === 'binary') return t.binaryBytes;
  let n = 0;
  for (let i = 0; i < t.kind.length; i++) {
    if (t.kind[i] === Op.literal) n += t.literals[t.arg[i]].length;
    else n += t.arg[i] >= GENERATOR_BASE && t.generatorStrings[(t.arg[i] - GENERATOR_BASE) >> 1] ? STRING_SLOT_BYTES : NUMBER_SLOT_BYTES + t.decimals[i];
  }
  return n;
}
