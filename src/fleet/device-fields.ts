import type { DeviceFieldSource } from '../payload/device-fields.js';
import { terminalVoltage, type VOLTAGE_SPAN } from '../models/battery.js';
import { normalFromUniform, Stream, uniform32 } from '../models/rng.js';
import { powerOnTimeMs, arrivalStride, type ArrivalSpec } from '../models/arrival.js';
import type { DeviceTable } from './device-table.js';
import type { EnergyMeter } from './energy-meter.js';

/**
 * Received signal strength by link family, dBm: a per-device level (where the device sits) and a
 * per-message fade around it. Illustrative figures inside the ranges the standards report: LTE
 * RSRP −140…−44 dBm (3GPP TS 36.133 §9.1.4), NB-IoT and LTE-M devices deep indoors near the low
 * end, LoRa receivers down to about −137 dBm at SF12 (Semtech SX1276 datasheet), Wi-Fi clients
 * typically −50…−70 dBm. Wired links report 0.
 */
export const SIGNAL_DBM: Readonly<Record<string, { mean: number; deviceSd: number; fadeSd: number }>> = {
  wifi: { mean: -60, deviceSd: 8, fadeSd: 3 },
  'lte-m': { mean: -95, deviceSd: 10, fadeSd: 4 },
  'nb-iot': { mean: -105, deviceSd: 10, fadeSd: 4 },
  'lte-cat4': { mean: -90, deviceSd: 10, fadeSd: 4 },
  lorawan: { mean: -110, deviceSd: 12, fadeSd: 5 },
  // Satellite terminals report C/N rather than RSSI; a level near the receiver's floor stands in.
  'satellite-geo': { mean: -120, deviceSd: 3, fadeSd: 2 },
  'satellite-leo': { mean: -115, deviceSd: 4, fadeSd: 4 },
};

/** A signal draw's counter for a message (the device level uses counter 0 of the stream's upper half). */
const FADE_COUNTER_BASE = 1;
const DEVICE_LEVEL_COUNTER = 0x7e00_0000;

export interface DeviceFieldsConfig {
  seed: number;
  firstDevice: number;
  fleetDevices: number;
  arrival: ArrivalSpec;
  /** Per fleet group: link type name and battery (chemistry, nominal volts), if any. */
  groups: ReadonlyArray<{ link: string; battery?: { chemistry: keyof typeof VOLTAGE_SPAN; voltageV: number } }>;
  /** The release a device runs now (fleet behaviours), when known. */
  releaseOf?: (dev: number) => string;
  initialRelease: string;
}

/**
 * What a telemetry template reads of a device, from the shard's records and models. Pure reads:
 * nothing here changes a device. Signal strength is drawn from the seed like every other draw, so
 * it is the same on both clocks.
 */
export class FleetDeviceFields implements DeviceFieldSource {
  private readonly stride: number;

  constructor(
    private readonly cfg: DeviceFieldsConfig,
    private readonly devices: DeviceTable,
    private readonly energy: EnergyMeter | undefined,
  ) {
    this.stride = arrivalStride(cfg.fleetDevices);
  }

  stateOfCharge(dev: number): number {
    return this.energy === undefined ? 1 : this.energy.stateOfCharge(dev);
  }

  batteryVolts(dev: number): number {
    const b = this.cfg.groups[this.devices.group(dev)].battery;
    return b === undefined ? 0 : terminalVoltage(b.chemistry, b.voltageV, this.stateOfCharge(dev));
  }

  linkType(dev: number): string {
    return this.cfg.groups[this.devices.group(dev)].link;
  }

  signalDbm(dev: number, seq: number): number {
    const s = SIGNAL_DBM[this.linkType(dev)];
    if (s === undefined) return 0;
    const g = this.cfg.firstDevice + dev;
    const level = s.mean + s.deviceSd * normalFromUniform(uniform32(this.cfg.seed, g, Stream.payload, DEVICE_LEVEL_COUNTER));
    return level + s.fadeSd * normalFromUniform(uniform32(this.cfg.seed, g, Stream.payload, DEVICE_LEVEL_COUNTER + FADE_COUNTER_BASE + seq));
  }

  release(dev: number): string {
    return this.cfg.releaseOf?.(dev) ?? this.cfg.initialRelease;
  }

  uptimeMs(dev: number, tMs: number): number {
    return Math.max(0, tMs - powerOnTimeMs(this.cfg.firstDevice + dev, this.cfg.fleetDevices, this.cfg.arrival, this.stride));
  }
}
