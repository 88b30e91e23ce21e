import {
  DURATION_HINT,
  PERCENT_HINT,
  SIZE_HINT,
  parseDuration,
  parsePercent,
  parseSize,
  type Parsed,
} from '../models/units.js';
import { formatDuration } from '../metrics/format.js';
import type { UnitKind } from './unit-schema.js';

/**
 * The quantities a hardware profile is written in, one syntax each, always a number glued to its
 * unit (no space), as scenario durations and sizes are:
 *
 *   power     4.5uW  0.36W  2.7W  or a current at a voltage: 240mA@3.3V, 8.2uA@3.6V        -> W
 *   energy    105mJ  1.2J  0.5Wh  or a charge at a voltage: 28.76mC@3.6V, 1.5mAh@3.6V     -> J
 *   charge    2.6Ah  3350mAh  (a battery's capacity rating)                                  -> Ah
 *   voltage   3.6V  3300mV                                                                   -> V
 *   frequency 64MHz  1.5GHz  32768Hz                                                         -> MHz
 *   byteRate  10MB/s  40KiB/s                                                                -> bytes/s
 *   size, percent, duration: as in scenarios (models/units.ts)                               -> bytes, fraction, ms
 *
 * Currents and charges are written with the voltage they were measured at because that is how
 * datasheets and papers state them; fleetsim counts energy in joules (docs/models.md), so `I@V` becomes
 * I * V watts and `Q@V` becomes Q * V joules. `u` and `µ` both mean micro.
 *
 * The parsers accept a leading minus sign so that `-2.6Ah` is reported as "must be more than zero"
 * rather than as an unreadable value; the editor patterns accept only what is valid.
 */
export type QuantityKind = 'power' | 'energy' | 'charge' | 'voltage' | 'frequency' | 'size' | 'byteRate' | 'percent' | 'duration';

/** A profile's unit kind (unit-schema.ts builds its zod schema) and how to show its values. */
export interface Quantity extends UnitKind {
  readonly kind: QuantityKind;
  /** The parsed value for people: `29.52 µW`, `103.5 mJ`, `256 KiB`. */
  readonly format: (value: number) => string;
}

const NUM = '(-?\\d+(?:\\.\\d+)?)';
const PNUM = '\\d+(\\.\\d+)?';

const PREFIX: Record<string, number> = { n: 1e-9, u: 1e-6, µ: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9 };

function fail(text: string, what: string, hint: string): Parsed<number> {
  return { ok: false, message: `"${text}" is not ${what}`, hint };
}

/**
 * `<number><prefix><unit>`, or `<number><prefix><perVoltUnit>@<number>[m]V` multiplied out.
 * `prefixes` are the SI prefixes allowed for each form ('' = none), so parser and editor pattern agree.
 */
function prefixed(plainForm: Form, atVoltForm: Form | undefined, what: string, hint: string): (text: string) => Parsed<number> {
  const plain = new RegExp(`^${NUM}(${alt(plainForm.prefixes)})(${plainForm.units})$`);
  const atVolt = atVoltForm ? new RegExp(`^${NUM}(${alt(atVoltForm.prefixes)})(${atVoltForm.units})@${NUM}(m?)V$`) : undefined;
  return (text) => {
    const s = text.trim();
    const p = plain.exec(s);
    if (p) return { ok: true, value: Number(p[1]) * PREFIX[p[2]] * unitScale(p[3]) };
    const v = atVolt?.exec(s);
    if (v) return { ok: true, value: Number(v[1]) * PREFIX[v[2]] * unitScale(v[3]) * Number(v[4]) * (v[5] ? 1e-3 : 1) };
    return fail(text, what, hint);
  };
}

interface Form {
  /** Unit alternatives as a regex fragment: `W`, `J|Wh`. */
  units: string;
  prefixes: readonly string[];
}

const alt = (prefixes: readonly string[]): string => prefixes.join('|');
/** The editor pattern of a form: the same alternatives as the parser, non-negative numbers only. */
const formPattern = (f: Form): string => `(${alt(f.prefixes)})(${f.units})`;

/** Units that are not a plain SI unit: watt-hours in joules, amp-hours in coulombs. */
function unitScale(unit: string): number {
  if (unit === 'Wh') return 3600;
  if (unit === 'Ah') return 3600;
  return 1;
}

/** A number with an SI prefix and 4 significant digits: 29.52 µW, 103.5 mJ, 2.7 W. */
export function formatSI(value: number, unit: string): string {
  if (value === 0) return `0 ${unit}`;
  const steps: Array<[number, string]> = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n']];
  const abs = Math.abs(value);
  const [scale, prefix] = steps.find(([f]) => abs >= f) ?? steps[steps.length - 1];
  return `${trim(value / scale)} ${prefix}${unit}`;
}

function trim(v: number): string {
  return String(Number(v.toPrecision(4)));
}

function formatBytes(bytes: number): string {
  for (const [f, u] of [[1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB']] as const) {
    if (bytes >= f && bytes % f === 0) return `${bytes / f} ${u}`;
  }
  return bytes >= 1000 ? formatSI(bytes, 'B') : `${bytes} B`;
}

const POWER_HINT = 'write a power such as 4.5uW, 0.36W or 2.7W, or a current at a voltage such as 240mA@3.3V or 8.2uA@3.6V';
const ENERGY_HINT = 'write an energy such as 105mJ or 1.2J, or a charge at a voltage such as 28.76mC@3.6V or 1.5mAh@3.6V';
const CHARGE_HINT = 'write a capacity rating such as 2.6Ah or 3350mAh';
const VOLTAGE_HINT = 'write a voltage such as 3.6V or 3300mV';
const FREQUENCY_HINT = 'write a clock such as 64MHz, 1.5GHz or 32768Hz';
const BYTE_RATE_HINT = 'write a size per second such as 10MB/s or 40KiB/s';

const SMALL = ['n', 'u', 'µ', 'm', ''];
const POWER_W: Form = { units: 'W', prefixes: [...SMALL, 'k'] };
const CURRENT: Form = { units: 'A', prefixes: SMALL };
const ENERGY_J: Form = { units: 'J|Wh', prefixes: [...SMALL, 'k'] };
const CHARGE_AT: Form = { units: 'C|Ah', prefixes: SMALL };
const CHARGE: Form = { units: 'Ah', prefixes: ['m', ''] };
const VOLTS: Form = { units: 'V', prefixes: ['m', ''] };
const HERTZ: Form = { units: 'Hz', prefixes: ['', 'k', 'M', 'G'] };

const parseCharge = prefixed(CHARGE, undefined, 'a charge', CHARGE_HINT);
const parseVoltage = prefixed(VOLTS, undefined, 'a voltage', VOLTAGE_HINT);
const parseFrequencyHz = prefixed(HERTZ, undefined, 'a frequency', FREQUENCY_HINT);
const AT_VOLTS = `@${PNUM}m?V`;

export const QUANTITIES: Readonly<Record<QuantityKind, Quantity>> = {
  power: {
    kind: 'power',
    parse: prefixed(POWER_W, CURRENT, 'a power', POWER_HINT),
    hint: POWER_HINT,
    pattern: `^${PNUM}(${formPattern(POWER_W)}|${formPattern(CURRENT)}${AT_VOLTS})$`,
    examples: ['4.5uW', '0.36W', '240mA@3.3V'],
    format: (w) => formatSI(w, 'W'),
  },
  energy: {
    kind: 'energy',
    parse: prefixed(ENERGY_J, CHARGE_AT, 'an energy', ENERGY_HINT),
    hint: ENERGY_HINT,
    pattern: `^${PNUM}(${formPattern(ENERGY_J)}|${formPattern(CHARGE_AT)}${AT_VOLTS})$`,
    examples: ['105mJ', '1.2J', '28.76mC@3.6V'],
    format: (j) => formatSI(j, 'J'),
  },
  charge: {
    kind: 'charge',
    // Stored in Ah, the unit battery ratings use (HardwareProfile.power.battery.capacityAh).
    parse: (t) => mapOk(parseCharge(t), (c) => c / 3600),
    hint: CHARGE_HINT,
    pattern: `^${PNUM}${formPattern(CHARGE)}$`,
    examples: ['2.6Ah', '3350mAh'],
    format: (ah) => formatSI(ah, 'Ah'),
  },
  voltage: {
    kind: 'voltage',
    parse: parseVoltage,
    hint: VOLTAGE_HINT,
    pattern: `^${PNUM}${formPattern(VOLTS)}$`,
    examples: ['3.6V', '3300mV'],
    format: (v) => formatSI(v, 'V'),
  },
  frequency: {
    kind: 'frequency',
    parse: (t) => mapOk(parseFrequencyHz(t), (hz) => hz / 1e6),
    hint: FREQUENCY_HINT,
    pattern: `^${PNUM}${formPattern(HERTZ)}$`,
    examples: ['64MHz', '1.5GHz'],
    format: (mhz) => formatSI(mhz * 1e6, 'Hz'),
  },
  size: {
    kind: 'size',
    parse: parseSize,
    hint: SIZE_HINT,
    pattern: `^${PNUM}([kKmMgG][iI]?)?[bB]$`,
    examples: ['256KiB', '4MiB', '32GB'],
    format: formatBytes,
  },
  byteRate: {
    kind: 'byteRate',
    parse: (t) => {
      const m = /^(.+)\/s$/.exec(t.trim());
      const size = m ? parseSize(m[1]) : undefined;
      return size?.ok ? size : fail(t, 'a size per second', BYTE_RATE_HINT);
    },
    hint: BYTE_RATE_HINT,
    pattern: `^${PNUM}([kKmMgG][iI]?)?[bB]/s$`,
    examples: ['10MB/s', '40KiB/s'],
    format: (bps) => `${formatBytes(bps)}/s`,
  },
  percent: {
    kind: 'percent',
    parse: parsePercent,
    hint: PERCENT_HINT,
    pattern: `^${PNUM}%$`,
    examples: ['80%', '100%'],
    format: (f) => `${trim(f * 100)}%`,
  },
  duration: {
    kind: 'duration',
    parse: parseDuration,
    hint: DURATION_HINT,
    pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h|d|y))+$',
    examples: ['500ms', '1.5s', '30s'],
    format: formatDuration,
  },
};

function mapOk(p: Parsed<number>, f: (v: number) => number): Parsed<number> {
  return p.ok ? { ok: true, value: f(p.value) } : p;
}

/** The value of a quantity string known to be valid (validation ran); a failure here is a fleetsim bug. */
export function quantityValue(kind: QuantityKind, text: string): number {
  const r = QUANTITIES[kind].parse(text);
  if (!r.ok) throw new Error(`profile: ${r.message} passed validation`);
  return r.value;
}
