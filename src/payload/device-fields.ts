/**
 * The device's own state, as a template sees it. fleet/ implements `DeviceFieldSource` over its
 * device records and models (energy, link, firmware); the template plan only reads it, so a
 * payload never needs to know how a device is simulated.
 */
export interface DeviceFieldSource {
  /** Battery state of charge, 0..1 (1 on mains power). */
  stateOfCharge(dev: number, tMs: number): number;
  /** Battery terminal voltage in volts (the chemistry's curve at the current charge). */
  batteryVolts(dev: number, tMs: number): number;
  /** Name of the device's link type (ethernet, wifi, lte-m, nb-iot, lorawan …). */
  linkType(dev: number): string;
  /** Received signal strength in dBm for this message. */
  signalDbm(dev: number, seq: number): number;
  /** Firmware release the device runs now. */
  release(dev: number): string;
  /** Milliseconds since the device powered on. */
  uptimeMs(dev: number, tMs: number): number;
}

/** Built-in placeholder names, what they produce, and their default decimals. */
export const BUILTIN_FIELDS = {
  seq: { type: 'number', decimals: 0, help: 'the message sequence number (reconciliation reads it back)' },
  ts: { type: 'number', decimals: 0, help: 'epoch milliseconds of the intended send time' },
  time: { type: 'number', decimals: 0, help: 'milliseconds since the run started' },
  uptime: { type: 'number', decimals: 0, help: 'seconds since the device powered on' },
  'battery.soc': { type: 'number', decimals: 1, help: 'battery state of charge, percent' },
  'battery.voltage': { type: 'number', decimals: 3, help: 'battery voltage, volts' },
  'link.type': { type: 'string', decimals: 0, help: "the device's link type" },
  'link.rssi': { type: 'number', decimals: 0, help: 'signal strength, dBm' },
  firmware: { type: 'string', decimals: 0, help: 'the firmware release the device runs' },
  'device.index': { type: 'number', decimals: 0, help: "the device's global index" },
  'device.serial': { type: 'string', decimals: 0, help: "the device's serial number" },
} as const;
export type BuiltinField = keyof typeof BUILTIN_FIELDS;

export function isBuiltinField(name: string): name is BuiltinField {
  return Object.hasOwn(BUILTIN_FIELDS, name);
}
