import { nominalEnergyJ, selfDischargeW, usableCapacityJ } from './battery.js';
import { POWER_STATE_COUNT, PowerState, type EnergyProfile } from './energy.js';
import type { LinkTypeName } from './link-types.js';
import type { HardwareFaultsInput } from './hardware-faults.js';

/**
 * A hardware profile, resolved: what `profiles/<name>.yaml` (validated by the profile schema)
 * becomes after `extends:` and overrides are applied. Units are SI-ish and explicit in names:
 * W, J, bytes, ms. `sources` maps a dotted field path to where its number comes from (a
 * datasheet, a paper, or "assumed" / "engineering default"), for `fleetsim profiles show`.
 */
export interface HardwareProfile {
  name: string;
  description: string;
  cpu: { arch: string; cores: number; mhz: number; class: string };
  memory: { ramBytes: number; flashBytes?: number };
  storage: { bytes: number; writeBytesPerSec: number };
  power: {
    source: 'mains' | 'battery' | 'battery+solar';
    /** Mains draw, W (typical); mains devices never deplete. */
    mainsW?: number;
    battery?: {
      chemistry: 'li-socl2' | 'li-mno2' | 'li-ion' | 'alkaline' | 'nimh';
      capacityAh: number;
      voltageV: number;
      /** Fraction of nominal energy lost per year. */
      selfDischargePerYear: number;
      /** Usable capacity factors: temperature, rate, cut-off (each in (0, 1]). */
      derating: { temp: number; rate: number; cutoff: number };
    };
    solar?: { peakW: number; peakSunHours: number; k: number };
    /** Converter efficiency battery -> load, (0, 1]. */
    eta: number;
    /** Board overhead above the chip's own states, W. */
    boardOverheadW: number;
  };
  /** Constant draw per power state, W. */
  states: { sleep: number; idle: number; active: number; rx: number; tx: number };
  /** Energy of compound events, J. */
  events: { boot: number; attach: number; uplink: number; poll: number; otaPerMiB: number; tau?: number };
  /** Links this hardware has, the first being the default. */
  links: LinkTypeName[];
  bootMs: number;
  rebootMs: number;
  /** The `faults:` block as written (units parsed); models/hardware-faults.ts fills in defaults. */
  faults?: HardwareFaultsInput;
  sources: Record<string, string>;
}

/** The EnergyState view of a profile. */
export function energyProfileOf(p: HardwareProfile): EnergyProfile {
  const statePowerW = new Array<number>(POWER_STATE_COUNT).fill(0);
  statePowerW[PowerState.sleep] = p.states.sleep;
  statePowerW[PowerState.idle] = p.states.idle;
  statePowerW[PowerState.active] = p.states.active;
  statePowerW[PowerState.rx] = p.states.rx;
  statePowerW[PowerState.tx] = p.states.tx;
  const b = p.power.battery;
  const mains = p.power.source === 'mains' || !b;
  const nominal = b ? nominalEnergyJ(b.capacityAh, b.voltageV) : 0;
  return {
    statePowerW,
    boardOverheadW: p.power.boardOverheadW,
    eta: p.power.eta,
    mains,
    usableCapacityJ: b ? usableCapacityJ(nominal, { fTemp: b.derating.temp, fRate: b.derating.rate, fCutoff: b.derating.cutoff }) : 0,
    selfDischargeW: b ? selfDischargeW(nominal, b.selfDischargePerYear) : 0,
  };
}
