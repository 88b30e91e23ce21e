import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { OperatorResults } from '../operator/wall-operator.js';
import type { ShardFinal } from '../shard/protocol.js';

/** The file a `--shard` run writes next to summary.json for `fleetsim merge`. */
export const MERGE_PARTS_FILE = 'merge-parts.json';

/**
 * What `merge` needs beyond counters and histograms to rebuild a shard set's fleet results
 * exactly as the whole run builds them: the resolved scenario, and each shard's fleet-operation
 * and energy finals (release transitions per time bin, outcomes by cause, OTA bytes per group,
 * per-device battery lifetimes, energy in whole nJ). Percentiles and shares cannot be added;
 * these raw parts can.
 */
export interface MergeParts {
  version: 1;
  scenario: ResolvedScenario;
  /** In device order (shard index order). */
  finals: Array<Pick<ShardFinal, 'shard' | 'fleetOps' | 'energy'>>;
  /** Wall clock: what the operator saw (shard 0 plays the operator plan). */
  operator?: OperatorResults;
}

export function mergePartsOf(scenario: ResolvedScenario, finals: readonly ShardFinal[], operator?: OperatorResults): MergeParts {
  return {
    version: 1,
    scenario,
    finals: [...finals].sort((a, b) => a.shard - b.shard).map((f) => ({ shard: f.shard, ...(f.fleetOps ? { fleetOps: f.fleetOps } : {}), ...(f.energy ? { energy: f.energy } : {}) })),
    ...(operator ? { operator } : {}),
  };
}

// JSON has neither BigInt (exact energy sums) nor Infinity (unbounded rates and capacities): tagged objects carry them.
const BIGINT = '$bigint';
const NUMBER = '$number';

export function mergePartsJson(p: MergeParts): string {
  return JSON.stringify(p, (_k, v: unknown) => {
    if (typeof v === 'bigint') return { [BIGINT]: v.toString() };
    // Per-device numbers travel as Float64Arrays (fleet/energy-meter.ts PerDevice): plain arrays in JSON.
    if (v instanceof Float64Array) return Array.from(v);
    if (typeof v === 'number' && !Number.isFinite(v)) return { [NUMBER]: String(v) };
    return v;
  });
}

export function parseMergeParts(text: string): MergeParts {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === BIGINT) return BigInt(String(o[BIGINT]));
      if (keys.length === 1 && keys[0] === NUMBER) return Number(o[NUMBER]);
    }
    return v;
  }) as MergeParts;
}
