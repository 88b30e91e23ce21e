import { PREFIX_SEQ, readTelemetrySeq, type SeqLocator } from '../wire/telemetry-seq.js';
import { randomBytes } from 'node:crypto';
import { INITIAL_RELEASE_NAME, type DeviceStatsResponse, DeviceTelemetryCounts, TargetStateResponse } from '../wire/reference-protocol.js';
import { rolloutRank } from '../wire/rollout.js';
import { SeqTracker } from './telemetry-counts.js';

/**
 * The embedded backend's in-memory device registry: credentials, target state, reported state and
 * what each device was counted doing. One Map entry per provisioned device, each a small record;
 * the telemetry bitmap grows only with what the device actually sent.
 *
 * Concurrency: the HTTP API and the MQTT broker run on the same event loop and share one store;
 * every method runs to completion, so no locking is needed.
 */

/** The release every device is told to run until `setTarget` says otherwise. */
export const INITIAL_RELEASE = INITIAL_RELEASE_NAME;

/** Device keys are 128 random bits. */
const KEY_BYTES = 16;

/** Serials are stable device names chosen by the simulator: short, URL- and topic-safe. */
const SERIAL_RE = /^[A-Za-z0-9._-]{1,128}$/;

export class DeviceRecord {
  provisions = 0;
  polls = 0;
  stateReports = 0;
  /** What the device last reported with PUT state, or '' before its first report. */
  release = '';
  status = '';
  /** Per-device target, or null to follow the fleet-wide one. */
  target: TargetStateResponse | null = null;
  readonly telemetry = new SeqTracker();
  /** Rollout rank of the device (wire/rollout.ts), fixed by its serial. */
  readonly rank: number;
  /** True while the device has an MQTT session. */
  online = false;
  /** Configuration version the device acknowledged (0 = none). */
  configAcked = 0;
  /** Artifact bytes served to this device. */
  artifactBytes = 0;
  constructor(
    readonly id: string,
    readonly key: string,
    readonly serial = id,
  ) {
    this.rank = rolloutRank(serial);
  }
}

export interface TargetSpec {
  release: string;
  config?: Record<string, string>;
}

export class DeviceStore {
  private readonly devices = new Map<string, DeviceRecord>();
  private fleetTarget: TargetStateResponse;
  private targetVersion = 0;
  /** Telemetry payloads that carried no readable sequence number. */
  malformedTelemetry = 0;
  /** MQTT publishes and subscriptions the broker refused: outside the device's own topics, or a wildcard. */
  readonly refused = { publishes: 0, subscribes: 0 };
  /** Where telemetry payloads carry their sequence number (the reference prefix, or a template's place). */
  telemetrySeq: SeqLocator = PREFIX_SEQ;

  /** Records one telemetry payload of `rec` (undefined: an unknown device); false counts it as malformed. */
  countTelemetry(rec: DeviceRecord | undefined, payload: Uint8Array): void {
    if (rec === undefined || !rec.telemetry.record(readTelemetrySeq(this.telemetrySeq, payload))) this.malformedTelemetry++;
  }

  /**
   * Random bytes for device keys, drawn 256 keys at a time: one call into the CSPRNG per 256
   * provisionings instead of one each (a factory line provisions thousands per second).
   */
  private keyBytes: Buffer = Buffer.alloc(0);
  private keyOffset = 0;

  constructor(readonly fleetKey: string) {
    this.fleetTarget = this.makeTarget({ release: INITIAL_RELEASE });
  }

  /** A fresh 128-bit device key, base64url. */
  private newKey(): string {
    if (this.keyOffset + KEY_BYTES > this.keyBytes.length) {
      this.keyBytes = randomBytes(KEY_BYTES * 256);
      this.keyOffset = 0;
    }
    const key = this.keyBytes.toString('base64url', this.keyOffset, this.keyOffset + KEY_BYTES);
    this.keyOffset += KEY_BYTES;
    return key;
  }

  static isValidSerial(serial: unknown): serial is string {
    return typeof serial === 'string' && SERIAL_RE.test(serial);
  }

  /** The device id a serial maps to: deterministic, so re-provisioning keeps the id. */
  static deviceIdFor(serial: string): string {
    return `d-${serial}`;
  }

  /**
   * Provisions (or re-provisions) the device with this serial. The device key is created on the
   * first provisioning and returned again afterwards, so a device that retried a provisioning
   * whose answer it lost still ends up with a key that works.
   */
  provision(serial: string): DeviceRecord {
    const id = DeviceStore.deviceIdFor(serial);
    let rec = this.devices.get(id);
    if (rec === undefined) {
      rec = new DeviceRecord(id, this.newKey(), serial);
      this.devices.set(id, rec);
    }
    rec.provisions++;
    return rec;
  }

  get(deviceId: string): DeviceRecord | undefined {
    return this.devices.get(deviceId);
  }

  /** The record when `key` is this device's key, else undefined. */
  authenticate(deviceId: string, key: string | undefined): DeviceRecord | undefined {
    const rec = this.devices.get(deviceId);
    return rec !== undefined && key !== undefined && rec.key === key ? rec : undefined;
  }

  get size(): number {
    return this.devices.size;
  }

  /** Every device record, in provisioning order. */
  records(): IterableIterator<DeviceRecord> {
    return this.devices.values();
  }

  /** True when the serial has provisioned before (manual approval applies to new devices only). */
  has(serial: string): boolean {
    return this.devices.has(DeviceStore.deviceIdFor(serial));
  }

  targetFor(rec: DeviceRecord): TargetStateResponse {
    return rec.target ?? this.fleetTarget;
  }

  /**
   * Sets the target state: fleet-wide when `deviceIds` is omitted (and clears per-device targets),
   * otherwise for those devices only. Unknown ids are ignored. Each call makes a new ETag.
   */
  setTarget(spec: TargetSpec, deviceIds?: Iterable<string>): TargetStateResponse {
    const target = this.makeTarget(spec);
    if (deviceIds === undefined) {
      this.fleetTarget = target;
      for (const rec of this.devices.values()) rec.target = null;
    } else {
      for (const id of deviceIds) {
        const rec = this.devices.get(id);
        if (rec !== undefined) rec.target = target;
      }
    }
    return target;
  }

  countsFor(deviceId: string): DeviceTelemetryCounts | undefined {
    const rec = this.devices.get(deviceId);
    return rec === undefined ? undefined : countsOf(rec);
  }

  /** Totals over every device, with the per-device list unless `withDevices` is false. */
  stats(withDevices = true): DeviceStatsResponse {
    const totals = {
      received: 0,
      duplicates: 0,
      gaps: 0,
      provisions: 0,
      polls: 0,
      devices: this.devices.size,
      refusedPublishes: this.refused.publishes,
      refusedSubscribes: this.refused.subscribes,
    };
    const devices: DeviceTelemetryCounts[] = [];
    for (const rec of this.devices.values()) {
      const c = countsOf(rec);
      totals.received += c.received;
      totals.duplicates += c.duplicates;
      totals.gaps += c.gaps;
      totals.provisions += c.provisions;
      totals.polls += c.polls;
      if (withDevices) devices.push(c);
    }
    return { devices, totals };
  }

  private makeTarget(spec: TargetSpec): TargetStateResponse {
    this.targetVersion++;
    return { release: spec.release, config: { ...(spec.config ?? {}) }, etag: `"t${this.targetVersion}"` };
  }
}

function countsOf(rec: DeviceRecord): DeviceTelemetryCounts {
  const t = rec.telemetry;
  return {
    deviceId: rec.id,
    received: t.received,
    duplicates: t.duplicates,
    gaps: t.gaps,
    maxSeq: t.maxSeq,
    provisions: rec.provisions,
    polls: rec.polls,
  };
}
