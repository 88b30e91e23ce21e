import { DEFAULT_BATHTUB, infantRisk, type BathtubHazard } from './hardware-failure.js';
import { DEFAULT_POWER_CUTS, type PowerCutModel } from './power-loss.js';
import { STORAGE_DEFAULTS, type StorageEndurance, type StorageType } from './storage-wear.js';

/** A profile's `faults:` block, resolved: every field set, defaults filled in. */
export interface HardwareFaults {
  storage: StorageEndurance & { backgroundBytesPerDay: number };
  power: PowerCutModel;
  hazard: BathtubHazard;
}

/** The `faults:` block with units parsed (bytes, fractions, years); absent fields take the defaults. */
export interface HardwareFaultsInput {
  storage?: { type: StorageType; peCycles?: number; writeAmplification?: number; tbwBytes?: number; writeUnitBytes?: number; backgroundBytesPerDay?: number; spread?: number };
  power?: { cutsPerYear?: number; slots?: 'a/b' | 'single'; brickOnCut?: number };
  failures?: { infantFirstYear?: number; infantShape?: number; randomPerYear?: number; wearoutShape?: number; wearoutLifeYears?: number };
}

/**
 * Defaults: storage by type (storage-wear.ts STORAGE_DEFAULTS), `defaultStorage` when the block
 * names none (NOR flash for a microcontroller's on-chip flash, eMMC for a Linux board), power cuts
 * (power-loss.ts), the bathtub (hardware-failure.ts); all stated in docs/models.md.
 */
export function resolveFaults(f: HardwareFaultsInput | undefined, defaultStorage: StorageType): HardwareFaults {
  const st = STORAGE_DEFAULTS[f?.storage?.type ?? defaultStorage];
  const s = f?.storage;
  const storage = {
    type: st.type,
    peCycles: s?.peCycles ?? st.peCycles,
    writeAmplification: s?.writeAmplification ?? st.writeAmplification,
    writeUnitBytes: s?.writeUnitBytes ?? st.writeUnitBytes,
    spread: s?.spread ?? st.spread,
    backgroundBytesPerDay: s?.backgroundBytesPerDay ?? 0,
    ...(s?.tbwBytes === undefined ? {} : { tbwBytes: s.tbwBytes }),
  };
  const p = f?.power;
  const power: PowerCutModel = { cutsPerYear: p?.cutsPerYear ?? DEFAULT_POWER_CUTS.cutsPerYear, slots: p?.slots ?? DEFAULT_POWER_CUTS.slots, brickProbability: p?.brickOnCut ?? DEFAULT_POWER_CUTS.brickProbability };
  const h = f?.failures;
  const infantShape = h?.infantShape ?? DEFAULT_BATHTUB.infant!.shape;
  const firstYear = h?.infantFirstYear;
  const hazard: BathtubHazard = {
    ...(firstYear === 0 ? {} : { infant: firstYear === undefined && h?.infantShape === undefined ? DEFAULT_BATHTUB.infant! : infantRisk(infantShape, firstYear ?? 0.01) }),
    randomPerYear: h?.randomPerYear ?? DEFAULT_BATHTUB.randomPerYear,
    wearout: { shape: h?.wearoutShape ?? DEFAULT_BATHTUB.wearout!.shape, scaleYears: h?.wearoutLifeYears ?? DEFAULT_BATHTUB.wearout!.scaleYears },
  };
  return { storage, power, hazard };
}
