import { batteryLifeYears, type DutyCycle } from './battery-life.js';
import { energyProfileOf, type HardwareProfile } from './hardware-profile.js';
import { solarAverageHarvestW } from './solar.js';

/**
 * "How many years does this battery last?" for a profile that reports at a fixed interval, in closed
 * form (battery-life.ts). A report costs the profile's `events.uplink`, which is the whole cycle
 * from sleep back to sleep (wake, reconnect if the radio was off, send, ack); between reports the
 * device sleeps at `states.sleep` plus board overhead. No TAU is charged: a device that reports
 * more often than its periodic TAU timer never needs one. Polls, attaches and updates are left out,
 * so this is the lifetime of the reporting duty cycle alone (what `fleetsim profiles` lists).
 */
export function reportDutyCycle(p: HardwareProfile, reportEveryS: number): DutyCycle {
  if (!(reportEveryS > 0)) throw new RangeError('reportDutyCycle: the report interval must be more than zero');
  return {
    sleepPowerW: p.states.sleep + p.power.boardOverheadW,
    events: [{ name: 'report', energyJ: p.events.uplink, perDay: 86_400 / reportEveryS }],
  };
}

/**
 * Projected battery life in years (Infinity when the solar harvest covers the drain), or undefined
 * for a mains-powered profile, which never depletes.
 */
export function projectedBatteryLifeYears(p: HardwareProfile, reportEveryS: number): number | undefined {
  const e = energyProfileOf(p);
  if (e.mains) return undefined;
  const harvestW = p.power.source === 'battery+solar' && p.power.solar ? solarAverageHarvestW(p.power.solar) : 0;
  return batteryLifeYears({ usableCapacityJ: e.usableCapacityJ, eta: e.eta, selfDischargeW: e.selfDischargeW, harvestW }, reportDutyCycle(p, reportEveryS));
}
