import * as z from 'zod';
import { LINK_TYPE_NAMES, isLinkTypeName } from '../models/link-types.js';
import { QUANTITIES, type QuantityKind } from './profile-units.js';
import { suggestionHint } from './suggest.js';
import type { DocPath } from './yaml-source.js';
import { unitSchema } from './unit-schema.js';
import { quoted } from './yaml-limits.js';
import { STORAGE_TYPES } from '../models/storage-wear.js';

/**
 * The one source of a hardware profile's shape (`profiles/*.yaml`): TypeScript types, validation
 * (zod, strict objects: unknown keys are errors) and the JSON Schema editors read
 * (`schema/profile.schema.json`). Three variants share one field list:
 *
 * - a full profile file (`profileFileSchema`): every required field present;
 * - an overlay file (`profileOverlaySchema`): `extends: NAME|PATH` plus any subset of the fields;
 * - an inline reference in a scenario's `fleet[].profile` (`inlineProfileRefSchema`): like an overlay,
 *   with no `name` needed.
 *
 * Every quantity is a unit string (profile-units.ts) and, in a file, must carry its source in a
 * comment on the same line (`# nRF9160 PS`, `# assumed`); `quantityFields` marks which fields those
 * are so the loader can check. Relations between fields (a battery for battery power, a solar panel
 * for battery+solar) are checked on the merged profile by profile-convert.ts.
 *
 * YAML key names say what a value is, the unit is in the value: `capacity: 2.6Ah`, `clock: 64MHz`.
 * The resolved `HardwareProfile` (models/hardware-profile.ts) carries the unit in its field names
 * instead (`capacityAh`, `mhz`); profile-convert.ts maps one onto the other.
 */

/** Fields that hold a number and so need a source comment; `kind` says how to parse and show it. */
export const quantityFields = z.registry<{ kind: QuantityKind | 'count' | 'number' }>();

export const CPU_ARCHES = ['arm64', 'armv7', 'armv8-m', 'armv7-m', 'armv6-m', 'xtensa', 'riscv32', 'riscv64', 'x86_64'] as const;
export const POWER_SOURCES = ['mains', 'battery', 'battery+solar'] as const;
export const CHEMISTRIES = ['li-socl2', 'li-mno2', 'li-ion', 'alkaline', 'nimh'] as const;
/** Chemistries that cannot be recharged (so cannot take a solar panel). */
export const PRIMARY_CHEMISTRIES: readonly string[] = ['li-socl2', 'li-mno2', 'alkaline'];

/** A unit string of `kind`, checked by its parser; `min` says whether zero is allowed. Fresh per call. */
function quantity(kind: QuantityKind, description: string, min: 'positive' | 'nonnegative') {
  const q = QUANTITIES[kind];
  // The description doubles as the hint for a value of the wrong type (zod-problems.ts).
  const s = unitSchema(q, `${description} ${capitalize(q.hint)}.`, min);
  quantityFields.add(s, { kind });
  return s;
}

function count(description: string) {
  const s = z.int().min(1).meta({ description: `${description} A whole number, at least 1.` });
  quantityFields.add(s, { kind: 'count' });
  return s;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const NAME_RE = /^[a-z0-9][a-z0-9._+-]*$/;
const name = z
  .string()
  .check((ctx) => {
    if (!NAME_RE.test(ctx.value)) {
      ctx.issues.push({ code: 'custom', message: `"${ctx.value}" is not a profile name`, input: ctx.value, params: { hint: 'use lower-case letters, digits and dashes, such as my-tracker; a profile file is named after it (my-tracker.yaml)' } });
    }
  })
  .meta({ description: 'Profile name: lower-case letters, digits and dashes; the file is NAME.yaml.', examples: ['nrf9160-tracker'] });

const linkName = z
  .string()
  .check((ctx) => {
    if (!isLinkTypeName(ctx.value)) {
      ctx.issues.push({ code: 'custom', message: `unknown link ${quoted(ctx.value)}`, input: ctx.value, params: { hint: suggestionHint(ctx.value, LINK_TYPE_NAMES, 'known links') } });
    }
  })
  .meta({ description: 'A link type (models/link-types.ts).', enum: [...LINK_TYPE_NAMES] });

const links = z
  .array(linkName)
  .min(1)
  .check((ctx) => {
    ctx.value.forEach((l, i) => {
      if (ctx.value.indexOf(l) !== i) {
        ctx.issues.push({ code: 'custom', path: [i], message: `link "${l}" is listed twice`, input: l, params: { hint: 'list each link once; the first one is the default' } });
      }
    });
  })
  .meta({ description: 'Links this hardware has a radio or port for; the first is the default a fleet group gets. Write a list such as [nb-iot, lte-m].' });

const ref = z.string().min(1).meta({ description: 'The profile this one starts from: a name from profiles/ or a path to a profile file (relative to this file).', examples: ['nrf9160-tracker', './base-board.yaml'] });

type Req<P extends boolean, T extends z.ZodType> = P extends true ? z.ZodOptional<T> : T;

/** The field list; `partial` makes every field optional (overlays and inline overrides). */
function fields<P extends boolean>(partial: P) {
  const req = <T extends z.ZodType>(s: T): Req<P, T> => (partial ? s.optional() : s) as Req<P, T>;
  const power = (what: string) => req(quantity('power', what, 'nonnegative'));
  const energy = (what: string) => req(quantity('energy', what, 'nonnegative'));
  const percent = (what: string, min: 'positive' | 'nonnegative' = 'positive') => req(quantity('percent', what, min));
  const num = (description: string, min: number, max: number) => {
    const n = z.number().min(min).max(max).meta({ description: `${description} A number from ${min} to ${max}.` });
    quantityFields.add(n, { kind: 'number' });
    return n.optional();
  };
  const opt = <K extends QuantityKind>(kind: K, what: string, min: 'positive' | 'nonnegative' = 'positive') => quantity(kind, what, min).optional();
  const peakSunHours = z.number().gt(0).max(24).meta({ description: 'Peak sun hours per day at the site (PSH), hours: a number above 0, at most 24.' });
  quantityFields.add(peakSunHours, { kind: 'number' });
  return {
    name: req(name),
    description: req(z.string().min(1).meta({ description: 'One line for `fleetsim profiles`: the board, its chips and its power.' })),
    cpu: req(
      z.strictObject({
        class: req(z.string().min(1).meta({ description: 'CPU or MCU family.', examples: ['Cortex-M33', 'Cortex-A72'] })),
        arch: req(z.enum(CPU_ARCHES).meta({ description: 'Instruction-set family, as an artifact build names it.' })),
        cores: req(count('CPU cores.')),
        clock: req(quantity('frequency', 'Maximum CPU clock.', 'positive')),
      }),
    ),
    memory: req(
      z.strictObject({
        ram: req(quantity('size', 'RAM.', 'positive')),
        flash: quantity('size', 'On-chip flash, when the part has it.', 'positive').optional(),
      }),
    ),
    storage: req(
      z.strictObject({
        size: req(quantity('size', 'Storage that holds firmware and OTA images.', 'positive')),
        writeSpeed: req(quantity('byteRate', 'Sustained write speed of that storage (sets OTA install time).', 'positive')),
      }),
    ),
    power: req(
      z.strictObject({
        source: req(z.enum(POWER_SOURCES).meta({ description: 'mains (never depletes), battery, or battery+solar.' })),
        mains: quantity('power', 'Typical draw from the mains (mains-powered devices).', 'positive').optional(),
        battery: z
          .strictObject({
            chemistry: req(z.enum(CHEMISTRIES).meta({ description: 'Cell chemistry.' })),
            capacity: req(quantity('charge', 'Nominal capacity rating of the pack.', 'positive')),
            voltage: req(quantity('voltage', 'Nominal pack voltage.', 'positive')),
            selfDischarge: percent('Share of nominal capacity lost per year.', 'nonnegative'),
            derating: req(
              z
                .strictObject({
                  temp: percent('Usable share at the operating temperature.'),
                  rate: percent('Usable share at the drain rate (bobbin Li-SOCl2 at mA drain loses much).'),
                  cutoff: percent('Usable share above the cut-off voltage.'),
                })
                .meta({ description: 'Usable capacity = nominal * temp * rate * cutoff.' }),
            ),
          })
          .optional()
          .meta({ description: 'The battery (battery and battery+solar).' }),
        solar: z
          .strictObject({
            peak: req(quantity('power', 'Panel peak power at standard test conditions.', 'positive')),
            peakSunHours: req(peakSunHours),
            k: percent('System derating k, typically 50% to 75% (SolarStat; Byamukama et al. 2019).'),
          })
          .optional()
          .meta({ description: 'The solar panel (battery+solar).' }),
        converterEfficiency: percent('Efficiency of the converter from the source to the load (100% when the cell feeds the chips directly).'),
        boardOverhead: power('Board draw on top of every power state: regulators, sensors, LEDs, leakage.'),
      }),
    ),
    states: req(
      z
        .strictObject({
          sleep: power('Deep sleep / PSM draw.'),
          idle: power('Idle draw: eDRX, light sleep, or an idle OS.'),
          active: power('CPU active, radio off.'),
          rx: power('Radio receiving.'),
          tx: power('Radio transmitting.'),
        })
        .meta({ description: 'Constant draw of each power state, at the load.' }),
    ),
    events: req(
      z
        .strictObject({
          boot: energy('Energy of one boot.'),
          attach: energy('Energy of the first network attach or join after a boot.'),
          uplink: energy('Energy of one report, from sleep back to sleep: wake, reconnect if the radio was off, send, ack.'),
          poll: energy('Energy of one target-state poll, from sleep back to sleep.'),
          otaPerMiB: energy('Energy to download and store one MiB of an update.'),
          tau: quantity('energy', 'Energy of one periodic tracking-area update (cellular PSM), when the link has one.', 'nonnegative').optional(),
        })
        .meta({ description: 'Energy of compound events, at the load.' }),
    ),
    faults: z
      .strictObject({
        storage: z
          .strictObject({
            type: z.enum(STORAGE_TYPES as [string, ...string[]]).meta({ description: 'Kind of flash: sets the defaults of the fields below (docs/models.md, "Storage wear").' }),
            peCycles: num('Program/erase cycles per block.', 1, 1e7),
            writeAmplification: num('Bytes the flash programs per byte written (>= 1).', 1, 1000),
            tbw: opt('size', 'Total bytes written rating (JESD218), when the part states one; replaces size x P/E cycles / WAF.'),
            writeUnit: opt('size', 'Smallest unit one write programs (a page).'),
            background: opt('size', 'Bytes written each day by everything else (OS journal, databases, swap).', 'nonnegative'),
            spread: num('Weibull shape of wear-out ages around the rating.', 0.5, 50),
          })
          .optional()
          .meta({ description: 'Storage wear: the flash type and its endurance.' }),
        power: z
          .strictObject({
            cutsPerYear: num('Power cuts per device per year.', 0, 1e6),
            slots: z.enum(['a/b', 'single']).optional().meta({ description: 'Image slots: a/b writes the spare slot and rolls back an interrupted install; single overwrites the only image.' }),
            brickOnCut: opt('percent', 'Probability that a cut during a single-slot install bricks the device.', 'nonnegative'),
          })
          .optional()
          .meta({ description: 'Power cuts and how an update install survives them.' }),
        failures: z
          .strictObject({
            infantFirstYear: opt('percent', 'Share of units failing from manufacturing defects in their first year.', 'nonnegative'),
            infantShape: num('Weibull shape of infant mortality (below 1).', 0.05, 1),
            randomPerYear: opt('percent', 'Constant random failure rate per year.', 'nonnegative'),
            wearoutShape: num('Weibull shape of board wear-out (above 1).', 1, 20),
            wearoutLife: opt('duration', 'Characteristic life (Weibull scale) of board wear-out.'),
          })
          .optional()
          .meta({ description: 'Random hardware failures: the bathtub curve (infant mortality, random, wear-out).' }),
      })
      .optional()
      .meta({ description: 'Hardware faults over the years: storage wear, power cuts during installs, random failures. Unset fields take the defaults of docs/models.md.' }),
    links: req(links),
    bootTime: req(quantity('duration', 'Time from power-on to the first network attempt.', 'positive')),
    rebootTime: req(quantity('duration', 'Time a reboot takes (after an update, until the first network attempt).', 'positive')),
  };
}

const schemaKey = z.string().optional().meta({ description: 'JSON Schema for editors.' });

export const profileFileSchema = z
  .strictObject({ $schema: schemaKey, ...fields(false) })
  .meta({ title: 'fleetsim hardware profile', description: 'A hardware profile: CPU, memory, storage, power, energy per state and event, links. Every number carries its source in a comment.' });

export const profileOverlaySchema = z
  .strictObject({ $schema: schemaKey, extends: ref, ...fields(true), name })
  .meta({ title: 'fleetsim hardware profile (extends another)', description: 'A profile that starts from another (`extends`) and changes some of its fields.' });

export const inlineProfileRefSchema = z
  .strictObject({ extends: ref, ...fields(true) })
  .meta({ description: 'A profile made in place: `extends` a profile and overrides some of its fields, e.g. { extends: nrf9160-tracker, power: { battery: { capacity: 3.6Ah } } }.' });

/** A complete profile as written (after `extends` is merged), unit strings unparsed. */
export type ProfileData = z.output<typeof profileFileSchema>;
export type ProfileOverlayData = z.output<typeof profileOverlaySchema>;
export type InlineProfileRef = z.output<typeof inlineProfileRefSchema>;

/** The JSON Schema (draft-07) of a profile file: a full profile, or one that `extends` another. */
export function profileJsonSchema(): Record<string, unknown> {
  const union = z.union([profileFileSchema, profileOverlaySchema]).meta({ title: 'fleetsim hardware profile', description: 'A fleetsim hardware profile (profiles/*.yaml).' });
  return z.toJSONSchema(union, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
}

/** The committed file's exact text (schema/profile.schema.json): `fleetsim schema --profile --out` writes it, a test checks it. */
export function renderProfileJsonSchema(): string {
  return JSON.stringify(profileJsonSchema(), null, 2) + '\n';
}

/** One leaf of a profile as written, found by walking the data along the schema. */
export interface ProfileLeaf {
  path: DocPath;
  value: unknown;
  /** Set for fields that hold a number (and so need a source). */
  kind?: QuantityKind | 'count' | 'number';
}

type Def = { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> };
const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

/**
 * Every leaf of `data` that the schema knows (unknown keys are skipped: validation reports them),
 * in the order written. Lists (links) are leaves.
 */
export function profileLeaves(schema: z.ZodType, data: unknown, path: DocPath = []): ProfileLeaf[] {
  let s = schema;
  let kind = quantityFields.get(s)?.kind;
  while (defOf(s).type === 'optional' && defOf(s).innerType) {
    s = defOf(s).innerType!;
    kind ??= quantityFields.get(s)?.kind;
  }
  const d = defOf(s);
  if (d.type === 'object' && d.shape) {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return [];
    const out: ProfileLeaf[] = [];
    for (const [key, value] of Object.entries(data)) {
      const child = d.shape[key];
      if (child) out.push(...profileLeaves(child, value, [...path, key]));
    }
    return out;
  }
  return [{ path, value: data, ...(kind ? { kind } : {}) }];
}

/** `power.battery.capacity`: the key of `HardwareProfile.sources`. */
export function dottedPath(path: DocPath): string {
  return path.map(String).join('.');
}
