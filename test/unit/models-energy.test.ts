import { describe, expect, it } from 'vitest';
import { type EnergyProfile, EnergyState, PowerState } from '../../src/models/energy.js';

const sensor: EnergyProfile = {
  // sleep, idle, active, rx, tx (W)
  statePowerW: [10e-6, 100e-6, 10e-3, 40e-3, 400e-3],
  boardOverheadW: 5e-6,
  eta: 0.8,
  mains: false,
  usableCapacityJ: 1000,
  selfDischargeW: 1e-6,
};
const gateway: EnergyProfile = {
  statePowerW: [2.7, 3, 4, 4, 6.4],
  boardOverheadW: 0,
  eta: 1,
  mains: true,
  usableCapacityJ: 0,
  selfDischargeW: 0,
};

describe('EnergyState', () => {
  it('drains (P_state + P_board) / eta + P_self in closed form between events', () => {
    const e = new EnergyState(2, [sensor]);
    e.advance(0, 3_600_000); // one hour asleep
    const sleepJ = ((10e-6 + 5e-6) / 0.8 + 1e-6) * 3600;
    expect(e.energyLeftJ[0]).toBeCloseTo(1000 - sleepJ, 10);
    expect(e.consumedJ[0]).toBeCloseTo(((10e-6 + 5e-6) / 0.8) * 3600, 12);
    e.setPowerState(0, PowerState.tx, 3_600_000);
    e.advance(0, 3_602_000); // 2 s of TX
    const txJ = ((400e-3 + 5e-6) / 0.8 + 1e-6) * 2;
    expect(e.energyLeftJ[0]).toBeCloseTo(1000 - sleepJ - txJ, 10);
    expect(e.spend(0, 0.5)).toBe(true); // an uplink event of 0.5 J at the load
    expect(e.energyLeftJ[0]).toBeCloseTo(1000 - sleepJ - txJ - 0.5 / 0.8, 10);
    // device 1 untouched
    expect(e.energyLeftJ[1]).toBe(1000);
    expect(e.stateOfCharge(1)).toBe(1);
  });

  it('finds the exact depletion time inside an interval and latches it', () => {
    const e = new EnergyState(1, [sensor]);
    e.setPowerState(0, PowerState.tx, 0);
    const drain = (400e-3 + 5e-6) / 0.8 + 1e-6;
    expect(e.projectedDepletionMs(0)).toBeCloseTo((1000 / drain) * 1000, 6);
    e.advance(0, 10_000_000);
    expect(e.isDepleted(0)).toBe(true);
    expect(e.depletedAtMs[0]).toBeCloseTo((1000 / drain) * 1000, 6);
    expect(e.energyLeftJ[0]).toBe(0);
    expect(e.spend(0, 1)).toBe(false);
    const consumed = e.consumedJ[0];
    e.advance(0, 20_000_000);
    expect(e.consumedJ[0]).toBe(consumed); // a dead device draws nothing more
  });

  it('depletes on an event that exceeds the energy left', () => {
    const e = new EnergyState(1, [sensor], { initialCharge: 0.001 }); // 1 J
    e.advance(0, 1000);
    expect(e.spend(0, 0.5)).toBe(true);
    expect(e.spend(0, 0.5)).toBe(false);
    expect(e.depletedAtMs[0]).toBe(1000);
  });

  it('never depletes a mains device but counts its energy', () => {
    const e = new EnergyState(3, [sensor, gateway], { profileOf: [1, 0, 1] });
    e.setPowerState(0, PowerState.tx, 0);
    e.advance(0, 3_600_000);
    e.spend(0, 100);
    expect(e.isDepleted(0)).toBe(false);
    expect(e.isMains(0)).toBe(true);
    expect(e.consumedJ[0]).toBeCloseTo(6.4 * 3600 + 100, 9);
    expect(e.stateOfCharge(0)).toBe(1);
    expect(e.projectedDepletionMs(0)).toBe(Infinity);
  });

  it('caps harvest at capacity and slows the drain when harvest < load', () => {
    const e = new EnergyState(2, [sensor], { initialCharge: 0.5 });
    e.harvestW[0] = 1e-3; // far above the sleep load: refills to capacity and stays there
    e.advance(0, 10 * 86_400_000);
    expect(e.energyLeftJ[0]).toBe(1000);
    e.harvestW[1] = 5e-6;
    const net = (10e-6 + 5e-6) / 0.8 + 1e-6 - 5e-6;
    expect(e.drainW(1)).toBeCloseTo(net, 15);
    e.advance(1, 86_400_000);
    expect(e.energyLeftJ[1]).toBeCloseTo(500 - net * 86_400, 9);
  });

  it('ignores time going backwards', () => {
    const e = new EnergyState(1, [sensor]);
    e.advance(0, 5000);
    const left = e.energyLeftJ[0];
    e.advance(0, 1000);
    expect(e.energyLeftJ[0]).toBe(left);
    expect(e.lastUpdateMs[0]).toBe(5000);
  });
});
