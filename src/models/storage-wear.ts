/**
 * Flash storage wear: how long until a device has written its storage's endurance.
 *
 * Endurance in host bytes (what the device's software may write before the flash wears out):
 *
 *   E_host = TBW                                   when the part states TBW (JESD218 rates it for
 *                                                  the JESD219 workload, write amplification included)
 *   E_host = capacity * P/E cycles / WAF           otherwise (P/E cycles per block, write amplification)
 *
 * A write smaller than the storage's write unit still programs a whole unit, so each record costs
 * ceil(bytes / unit) * unit. With w host bytes a day the rated wear-out age is E_host / w.
 *
 * JESD218 rates endurance as the amount written after which no more than 3% of parts have failed
 * (its functional failure requirement for client parts). Parts do not all fail at the same point,
 * so the age at wear-out is a Weibull (shape `spread`) with 3% of parts failed at the rated age:
 *
 *   eta = t_rated / (-ln(1 - 0.03))^(1/beta)
 */

export type StorageType = 'sd-card' | 'emmc' | 'nor-flash' | 'nand-flash';
export const STORAGE_TYPES: readonly StorageType[] = ['sd-card', 'emmc', 'nor-flash', 'nand-flash'];

export interface StorageEndurance {
  readonly type: StorageType;
  /** Program/erase cycles per block (ignored when tbwBytes is set). */
  readonly peCycles: number;
  /** Write amplification factor: bytes programmed per host byte written (>= 1). */
  readonly writeAmplification: number;
  /** Smallest unit a write programs, bytes. */
  readonly writeUnitBytes: number;
  /** Total bytes written rating, when the part states one. */
  readonly tbwBytes?: number;
  /** Weibull shape of the spread of wear-out ages around the rating. */
  readonly spread: number;
}

/** JESD218: share of parts allowed to fail by the rated endurance (client class). */
export const JESD218_FAILED_AT_RATING = 0.03;

/**
 * Defaults per storage type, with where each number comes from (docs/models.md, "Storage wear").
 * P/E cycles are datasheet-typical; write amplification is assumed for small, frequent writes.
 */
export const STORAGE_DEFAULTS: Readonly<Record<StorageType, StorageEndurance & { source: string }>> = {
  'nor-flash': { type: 'nor-flash', peCycles: 10_000, writeAmplification: 2, writeUnitBytes: 4, spread: 4, source: 'nRF9160 PS: on-chip flash endurance 10,000 write/erase cycles, 4-byte word writes; WAF 2 assumed (log-structured file system metadata)' },
  'nand-flash': { type: 'nand-flash', peCycles: 3_000, writeAmplification: 4, writeUnitBytes: 2_048, spread: 4, source: 'assumed: MLC raw NAND 3,000 P/E cycles, 2 KiB pages; WAF 4 for a flash file system with small writes' },
  emmc: { type: 'emmc', peCycles: 3_000, writeAmplification: 4, writeUnitBytes: 4_096, spread: 4, source: 'assumed: MLC eMMC 3,000 P/E cycles (JESD84-B51 devices report wear in 10% steps of this life), 4 KiB pages; WAF 4 assumed for small random writes' },
  'sd-card': { type: 'sd-card', peCycles: 1_000, writeAmplification: 10, writeUnitBytes: 16_384, spread: 3, source: 'assumed: consumer TLC SD card 1,000 P/E cycles, 16 KiB pages, WAF 10 (weak wear levelling under small random writes)' },
};

/** Host bytes the storage can take before its rated wear-out. */
export function enduranceHostBytes(e: StorageEndurance, capacityBytes: number): number {
  if (e.tbwBytes !== undefined) return e.tbwBytes;
  return (capacityBytes * e.peCycles) / Math.max(1, e.writeAmplification);
}

/** Bytes one write of `bytes` programs: whole write units. */
export function programmedBytes(e: Pick<StorageEndurance, 'writeUnitBytes'>, bytes: number): number {
  if (!(bytes > 0)) return 0;
  const unit = Math.max(1, e.writeUnitBytes);
  return Math.ceil(bytes / unit) * unit;
}

/** What a device writes to storage on average per day. */
export interface DailyWrites {
  /** Telemetry records written to storage (buffered before sending), per day, and their size. */
  readonly records: number;
  readonly recordBytes: number;
  /** Log lines persisted per day and their size. */
  readonly logLines: number;
  readonly logLineBytes: number;
  /** Update images installed per day (campaigns / days) and their size. */
  readonly installsPerDay: number;
  readonly imageBytes: number;
  /** Everything else the system writes (OS journal, swap, databases), bytes per day. */
  readonly backgroundBytes: number;
}

/** Host bytes written per day, each write rounded up to whole write units. */
export function hostBytesPerDay(e: StorageEndurance, w: DailyWrites): number {
  return (
    w.records * programmedBytes(e, w.recordBytes) +
    w.logLines * programmedBytes(e, w.logLineBytes) +
    w.installsPerDay * programmedBytes(e, w.imageBytes) +
    w.backgroundBytes
  );
}

/** Rated wear-out age in years (Infinity when nothing is written). */
export function ratedWearoutYears(e: StorageEndurance, capacityBytes: number, bytesPerDay: number): number {
  if (!(bytesPerDay > 0)) return Infinity;
  return enduranceHostBytes(e, capacityBytes) / bytesPerDay / 365.25;
}

/** Weibull scale (years) of wear-out ages with JESD218's 3% failed at the rated age. */
export function wearoutScaleYears(ratedYears: number, spread: number): number {
  return ratedYears / Math.pow(-Math.log1p(-JESD218_FAILED_AT_RATING), 1 / spread);
}
