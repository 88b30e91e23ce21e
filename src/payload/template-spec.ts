/**
 * A telemetry template after validation (scenario/telemetry-template-schema.ts makes it from
 * YAML): a JSON body or a binary layout whose placeholders name device fields (device-fields.ts)
 * or generators declared in `fields`. plan.ts compiles it once per run into a fill plan.
 */

/** How a generator's value changes from message to message. Numbers are in the user's own units. */
export type GeneratorSpec =
  | { kind: 'constant'; value: number | string; decimals: number }
  | { kind: 'uniform'; min: number; max: number; decimals: number }
  | { kind: 'normal'; mean: number; sd: number; min: number; max: number; decimals: number }
  /** Each message moves by U(-step, step) from the last one, reflected at the bounds; starts at `start` or a per-device draw. */
  | { kind: 'walk'; start?: number; step: number; min: number; max: number; decimals: number }
  /** min..max over `periodMs` (a daily temperature), shifted by `phaseMs`. */
  | { kind: 'sine'; min: number; max: number; periodMs: number; phaseMs: number; decimals: number }
  /** start + step × sequence number (an odometer, an energy register). */
  | { kind: 'counter'; start: number; step: number; decimals: number }
  | { kind: 'choice'; values: Array<number | string>; weights?: number[]; decimals: number }
  /**
   * A position moving along a polyline of [lat, lon] points at `speedMps`: back and forth, or
   * round when `loop`; each device starts at its own point of the route when `spread`.
   * Referenced as `<name>.lat` and `<name>.lon`.
   */
  | { kind: 'route'; points: Array<[number, number]>; speedMps: number; loop: boolean; spread: boolean; decimals: number };

export const BINARY_TYPES = ['u8', 'u16', 'u32', 'i8', 'i16', 'i32', 'f32', 'f64'] as const;
export type BinaryType = (typeof BINARY_TYPES)[number];

/** One entry of a binary layout: fixed bytes, or a value written as a number type (× scale, rounded for integers). */
export type BinaryEntry = { hex: string } | { type: BinaryType; endian: 'be' | 'le'; value: string | number; scale: number };

export interface TemplateSpec {
  /** A JSON document (object) whose string values may hold `{{name}}` placeholders. */
  json?: unknown;
  /** A binary layout, entry by entry. */
  binary?: BinaryEntry[];
  fields: Record<string, GeneratorSpec>;
  /** Epoch ms that `{{ts}}` counts from (run time 0); absent: the wall time the run started. */
  epochMs?: number;
}

/** Placeholder syntax: `{{name}}` with a dotted name. */
export const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}/g;
