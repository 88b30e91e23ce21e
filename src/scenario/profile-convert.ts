import type { HardwareProfile } from '../models/hardware-profile.js';
import type { LinkTypeName } from '../models/link-types.js';
import type { HardwareFaultsInput } from '../models/hardware-faults.js';
import type { StorageType } from '../models/storage-wear.js';
import { PRIMARY_CHEMISTRIES, type ProfileData } from './profile-schema.js';
import { quantityValue } from './profile-units.js';
import type { DocPath } from './yaml-source.js';

/**
 * From a profile as written to the resolved `HardwareProfile`: merging `extends` overrides, the
 * checks that relate fields to each other, and unit strings to numbers.
 */

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `base` with `overrides` laid over it: mappings merge key by key, anything else (a value, a list
 * such as `links`) replaces. Neither input is changed. `extends` and `$schema` are the overlay's
 * own business and are not carried into the result.
 */
export function mergeProfileData(base: unknown, overrides: unknown): Json {
  const out: Json = isRecord(base) ? { ...base } : {};
  if (!isRecord(overrides)) return out;
  for (const [k, v] of Object.entries(overrides)) {
    if (k === 'extends' || k === '$schema' || v === undefined) continue;
    out[k] = isRecord(v) && isRecord(out[k]) ? mergeProfileData(out[k], v) : v;
  }
  return out;
}

/** A problem found in the data, before it is placed in a file. */
export interface DataProblem {
  path: DocPath;
  message: string;
  hint: string;
}

/** Checks between fields of a complete (merged) profile whose shape is valid. */
export function crossFieldProblems(d: ProfileData): DataProblem[] {
  const out: DataProblem[] = [];
  const p = d.power;
  if (p.source === 'mains' && p.mains === undefined) {
    out.push({ path: ['power'], message: 'a mains-powered profile needs "mains" (its typical draw)', hint: 'add e.g. mains: 3.4W  # source' });
  }
  if (p.source !== 'mains' && p.battery === undefined) {
    out.push({ path: ['power'], message: `power source "${p.source}" needs a "battery"`, hint: 'add battery: { chemistry, capacity, voltage, selfDischarge, derating }, or use source: mains' });
  }
  if (p.source === 'battery+solar' && p.solar === undefined) {
    out.push({ path: ['power'], message: 'power source "battery+solar" needs "solar"', hint: 'add solar: { peak: 0.5W, peakSunHours: 3.5, k: 60% } with their sources' });
  }
  if (p.solar !== undefined && p.source !== 'battery+solar') {
    out.push({ path: ['power', 'solar'], message: `a solar panel is set but the power source is "${p.source}"`, hint: 'use source: battery+solar, or remove solar' });
  }
  if (p.source === 'battery+solar' && p.battery && PRIMARY_CHEMISTRIES.includes(p.battery.chemistry)) {
    out.push({ path: ['power', 'battery', 'chemistry'], message: `a ${p.battery.chemistry} cell cannot be recharged by a solar panel`, hint: 'use a rechargeable chemistry (li-ion, nimh), or source: battery' });
  }
  return out;
}

/**
 * The resolved profile of complete, valid data. `sources` maps the YAML path of each field (as
 * written in the file: `power.battery.capacity`) to its source comment.
 */
export function toHardwareProfile(d: ProfileData, sources: Record<string, string>): HardwareProfile {
  const p = d.power;
  const b = p.battery;
  const s = p.solar;
  return {
    name: d.name,
    description: d.description,
    cpu: { arch: d.cpu.arch, cores: d.cpu.cores, mhz: quantityValue('frequency', d.cpu.clock), class: d.cpu.class },
    memory: {
      ramBytes: quantityValue('size', d.memory.ram),
      ...(d.memory.flash === undefined ? {} : { flashBytes: quantityValue('size', d.memory.flash) }),
    },
    storage: { bytes: quantityValue('size', d.storage.size), writeBytesPerSec: quantityValue('byteRate', d.storage.writeSpeed) },
    power: {
      source: p.source,
      ...(p.mains === undefined ? {} : { mainsW: quantityValue('power', p.mains) }),
      ...(b === undefined
        ? {}
        : {
            battery: {
              chemistry: b.chemistry,
              capacityAh: quantityValue('charge', b.capacity),
              voltageV: quantityValue('voltage', b.voltage),
              selfDischargePerYear: quantityValue('percent', b.selfDischarge),
              derating: {
                temp: quantityValue('percent', b.derating.temp),
                rate: quantityValue('percent', b.derating.rate),
                cutoff: quantityValue('percent', b.derating.cutoff),
              },
            },
          }),
      ...(s === undefined ? {} : { solar: { peakW: quantityValue('power', s.peak), peakSunHours: s.peakSunHours, k: quantityValue('percent', s.k) } }),
      eta: quantityValue('percent', p.converterEfficiency),
      boardOverheadW: quantityValue('power', p.boardOverhead),
    },
    states: {
      sleep: quantityValue('power', d.states.sleep),
      idle: quantityValue('power', d.states.idle),
      active: quantityValue('power', d.states.active),
      rx: quantityValue('power', d.states.rx),
      tx: quantityValue('power', d.states.tx),
    },
    events: {
      boot: quantityValue('energy', d.events.boot),
      attach: quantityValue('energy', d.events.attach),
      uplink: quantityValue('energy', d.events.uplink),
      poll: quantityValue('energy', d.events.poll),
      otaPerMiB: quantityValue('energy', d.events.otaPerMiB),
      ...(d.events.tau === undefined ? {} : { tau: quantityValue('energy', d.events.tau) }),
    },
    links: [...d.links] as LinkTypeName[],
    bootMs: quantityValue('duration', d.bootTime),
    rebootMs: quantityValue('duration', d.rebootTime),
    ...(d.faults === undefined ? {} : { faults: faultsOf(d.faults) }),
    sources: { ...sources },
  };
}

/** The `faults:` block with its unit strings parsed (models/hardware-faults.ts fills in the rest). */
function faultsOf(f: NonNullable<ProfileData['faults']>): HardwareFaultsInput {
  const q = (kind: 'size' | 'percent' | 'duration', t: string | undefined) => (t === undefined ? undefined : quantityValue(kind, t));
  const drop = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const life = q('duration', f.failures?.wearoutLife);
  return drop({
    storage: f.storage && drop({ type: f.storage.type as StorageType, peCycles: f.storage.peCycles, writeAmplification: f.storage.writeAmplification, tbwBytes: q('size', f.storage.tbw), writeUnitBytes: q('size', f.storage.writeUnit), backgroundBytesPerDay: q('size', f.storage.background), spread: f.storage.spread }),
    power: f.power && drop({ cutsPerYear: f.power.cutsPerYear, slots: f.power.slots, brickOnCut: q('percent', f.power.brickOnCut) }),
    failures: f.failures && drop({ infantFirstYear: q('percent', f.failures.infantFirstYear), infantShape: f.failures.infantShape, randomPerYear: q('percent', f.failures.randomPerYear), wearoutShape: f.failures.wearoutShape, wearoutLifeYears: life === undefined ? undefined : life / (365 * 86_400_000) }),
  });
}
