import { PREFIX_SEQ, readTelemetrySeqAt, type SeqLocator } from '../wire/telemetry-seq.js';
import { randomBytes } from 'node:crypto';
import { INITIAL_RELEASE_NAME, type DeviceStatsResponse, DeviceTelemetryCounts, TargetStateResponse } from '../wire/reference-protocol.js';
import { rolloutRank } from '../wire/rollout.js';
import { AsciiKeyIndex } from '../collections/ascii-key-index.js';
import { SeqColumns } from './seq-columns.js';
import { DeviceColumns, GROWTH, INITIAL_DEVICES, KEY_BYTES, RANK_SCALE } from './device-columns.js';

/**
 * The embedded backend's in-memory device registry: credentials, target state, reported state and
 * what each device was counted doing. Devices are numbered in provisioning order and every field
 * is a column (a typed array indexed by that number), the ids in one byte arena with a hash index
 * (collections/ascii-key-index.ts; the columns: backend/device-columns.ts): ~0.1 KiB per device where a Map entry, a record object, its
 * id, key and serial strings and a SeqTracker cost ~0.5 KiB (bench/RESULTS.md, "Coordinator per
 * telemetry message and per device"). A DeviceRecord is a small handle over one device's columns,
 * made by each lookup; callers may keep it (a broker session does).
 *
 * Concurrency: the HTTP API, the MQTT broker and the broker counter run on the same event loop
 * and share one store; every method runs to completion, so no locking is needed.
 */

/** The release every device is told to run until `setTarget` says otherwise. */
export const INITIAL_RELEASE = INITIAL_RELEASE_NAME;


/** Serials are stable device names chosen by the simulator: short, URL- and topic-safe (and ASCII, as the id index needs). */
const SERIAL_RE = /^[A-Za-z0-9._-]{1,128}$/;
/** Device ids are `d-<serial>` (deviceIdFor). */
const ID_PREFIX = 'd-';

/** One device's telemetry counts, read from the store's columns when asked. */
export interface TelemetryCountsView {
  readonly received: number;
  readonly duplicates: number;
  readonly gaps: number;
  readonly maxSeq: number;
}

/**
 * A device of the store: a handle (its store and number) whose fields read and write the store's
 * columns. Two handles of one device see the same values.
 */
export class DeviceRecord {
  constructor(
    private readonly store: DeviceStore,
    readonly index: number,
    private cachedId?: string,
  ) {}

  get id(): string {
    return (this.cachedId ??= this.store.idOf(this.index));
  }
  get key(): string {
    return this.store.keyOf(this.index);
  }
  get serial(): string {
    return this.id.slice(ID_PREFIX.length);
  }
  /** Rollout rank of the device (wire/rollout.ts), fixed by its serial. */
  get rank(): number {
    return this.store.cols.rank[this.index] / RANK_SCALE;
  }
  get provisions(): number {
    return this.store.cols.provisions[this.index];
  }
  set provisions(n: number) {
    this.store.cols.provisions[this.index] = n;
  }
  get polls(): number {
    return this.store.cols.polls[this.index];
  }
  set polls(n: number) {
    this.store.cols.polls[this.index] = n;
  }
  get stateReports(): number {
    return this.store.cols.stateReports[this.index];
  }
  set stateReports(n: number) {
    this.store.cols.stateReports[this.index] = n;
  }
  /** What the device last reported with PUT state, or '' before its first report. */
  get release(): string {
    return this.store.text(this.store.cols.release[this.index]);
  }
  set release(v: string) {
    this.store.cols.release[this.index] = this.store.intern(v);
  }
  get status(): string {
    return this.store.text(this.store.cols.status[this.index]);
  }
  set status(v: string) {
    this.store.cols.status[this.index] = this.store.intern(v);
  }
  /** Per-device target, or null to follow the fleet-wide one. */
  get target(): TargetStateResponse | null {
    return this.store.ownTargets.get(this.index) ?? null;
  }
  set target(t: TargetStateResponse | null) {
    if (t === null) this.store.ownTargets.delete(this.index);
    else this.store.ownTargets.set(this.index, t);
  }
  /** True while the device has an MQTT session. */
  get online(): boolean {
    return this.store.cols.online[this.index] !== 0;
  }
  set online(v: boolean) {
    this.store.cols.online[this.index] = v ? 1 : 0;
  }
  /** Configuration version the device acknowledged (0 = none). */
  get configAcked(): number {
    return this.store.cols.configAcked[this.index];
  }
  set configAcked(n: number) {
    this.store.cols.configAcked[this.index] = n;
  }
  /** Artifact bytes served to this device. */
  get artifactBytes(): number {
    return this.store.cols.artifactBytes[this.index];
  }
  set artifactBytes(n: number) {
    this.store.cols.artifactBytes[this.index] = n;
  }
  get telemetry(): TelemetryCountsView {
    const t = this.store.telemetry;
    const k = this.index;
    return { received: t.received(k), duplicates: t.duplicates(k), gaps: t.gaps(k), maxSeq: t.maxSeq(k) };
  }
}

export interface TargetSpec {
  release: string;
  config?: Record<string, string>;
}

export class DeviceStore {
  private readonly ids = new AsciiKeyIndex();
  /** Per-device columns; read by DeviceRecord. */
  readonly cols = new DeviceColumns(INITIAL_DEVICES);
  /** Per-device telemetry counts; read by DeviceRecord. */
  readonly telemetry = new SeqColumns();
  /** Per-device targets (rare: most devices follow the fleet's), by device number; read by DeviceRecord. */
  readonly ownTargets = new Map<number, TargetStateResponse>();
  /** Reported releases and statuses, interned: a fleet reports few distinct ones. Index 0 is ''. */
  private readonly texts: string[] = [''];
  private readonly textCodes = new Map<string, number>([['', 0]]);
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
    if (rec === undefined) this.malformedTelemetry++;
    else this.countTelemetryAt(rec.index, payload, 0, payload.length);
  }

  /**
   * Records the telemetry payload `buf[start, end)` of device number `k` (-1: an unknown device,
   * counted as malformed like a payload without a sequence number). Reads bytes only: the broker
   * counter calls it per message straight from its read buffer.
   */
  countTelemetryAt(k: number, buf: Uint8Array, start: number, end: number): void {
    if (k < 0 || !this.telemetry.record(k, readTelemetrySeqAt(this.telemetrySeq, buf, start, end))) this.malformedTelemetry++;
  }

  /**
   * Random bytes for device keys, drawn 256 keys at a time: one call into the CSPRNG per 256
   * provisionings instead of one each (a factory line provisions thousands per second).
   */
  private keyBytes: Buffer = Buffer.alloc(0);
  private keyOffset = 0;

  constructor(readonly fleetKey: string) {
    this.fleetTarget = this.makeTarget({ release: INITIAL_RELEASE });
    this.telemetry.resize(INITIAL_DEVICES);
  }

  /** Writes a fresh 128-bit key for device `k`. */
  private newKey(k: number): void {
    if (this.keyOffset + KEY_BYTES > this.keyBytes.length) {
      this.keyBytes = randomBytes(KEY_BYTES * 256);
      this.keyOffset = 0;
    }
    this.cols.keys.set(this.keyBytes.subarray(this.keyOffset, this.keyOffset + KEY_BYTES), k * KEY_BYTES);
    this.keyOffset += KEY_BYTES;
  }

  static isValidSerial(serial: unknown): serial is string {
    return typeof serial === 'string' && SERIAL_RE.test(serial);
  }

  /** The device id a serial maps to: deterministic, so re-provisioning keeps the id. */
  static deviceIdFor(serial: string): string {
    return `${ID_PREFIX}${serial}`;
  }

  /**
   * Provisions (or re-provisions) the device with this serial (which must be `isValidSerial`).
   * The device key is created on the first provisioning and returned again afterwards, so a
   * device that retried a provisioning whose answer it lost still ends up with a key that works.
   */
  provision(serial: string): DeviceRecord {
    const id = DeviceStore.deviceIdFor(serial);
    let k = this.ids.find(id);
    if (k < 0) {
      if (!AsciiKeyIndex.fits(id)) throw new RangeError(`not a device serial: ${JSON.stringify(serial)}`);
      k = this.ids.add(id);
      if (k >= this.cols.capacity) {
        this.cols.grow(Math.ceil(this.cols.capacity * GROWTH));
        this.telemetry.resize(this.cols.capacity);
      }
      this.newKey(k);
      this.cols.rank[k] = rolloutRank(serial) * RANK_SCALE;
    }
    this.cols.provisions[k]++;
    return new DeviceRecord(this, k, id);
  }

  get(deviceId: string): DeviceRecord | undefined {
    const k = this.ids.find(deviceId);
    return k < 0 ? undefined : new DeviceRecord(this, k, deviceId);
  }

  /** The number of the device whose id is `buf[start, end)`, or -1: no string is made. */
  indexOfIdBytes(buf: Uint8Array, start: number, end: number): number {
    return this.ids.findBytes(buf, start, end);
  }

  /** The record when `key` is this device's key, else undefined. */
  authenticate(deviceId: string, key: string | undefined): DeviceRecord | undefined {
    const k = this.ids.find(deviceId);
    return k >= 0 && key !== undefined && this.keyOf(k) === key ? new DeviceRecord(this, k, deviceId) : undefined;
  }

  get size(): number {
    return this.ids.size;
  }

  /** Every device record, in provisioning order. */
  *records(): IterableIterator<DeviceRecord> {
    for (let k = 0; k < this.ids.size; k++) yield new DeviceRecord(this, k);
  }

  /** True when the serial has provisioned before (manual approval applies to new devices only). */
  has(serial: string): boolean {
    return this.ids.find(DeviceStore.deviceIdFor(serial)) >= 0;
  }

  /** Device `k`'s id (a new string). */
  idOf(k: number): string {
    return this.ids.keyOf(k);
  }

  /** Device `k`'s key, base64url (a new string). */
  keyOf(k: number): string {
    const keys = this.cols.keys;
    return Buffer.from(keys.buffer, keys.byteOffset + k * KEY_BYTES, KEY_BYTES).toString('base64url');
  }

  /** The code of `text` in the intern table (added when new). */
  intern(text: string): number {
    let code = this.textCodes.get(text);
    if (code === undefined) {
      code = this.texts.length;
      this.texts.push(text);
      this.textCodes.set(text, code);
    }
    return code;
  }

  text(code: number): string {
    return this.texts[code];
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
      this.ownTargets.clear();
    } else {
      for (const id of deviceIds) {
        const k = this.ids.find(id);
        if (k >= 0) this.ownTargets.set(k, target);
      }
    }
    return target;
  }

  countsFor(deviceId: string): DeviceTelemetryCounts | undefined {
    const k = this.ids.find(deviceId);
    return k < 0 ? undefined : this.countsOf(k);
  }

  /** Totals over every device, with the per-device list unless `withDevices` is false. */
  stats(withDevices = true): DeviceStatsResponse {
    const t = this.telemetry;
    const totals = {
      received: 0,
      duplicates: 0,
      gaps: 0,
      provisions: 0,
      polls: 0,
      devices: this.ids.size,
      refusedPublishes: this.refused.publishes,
      refusedSubscribes: this.refused.subscribes,
    };
    const devices: DeviceTelemetryCounts[] = [];
    for (let k = 0; k < this.ids.size; k++) {
      totals.received += t.received(k);
      totals.duplicates += t.duplicates(k);
      totals.gaps += t.gaps(k);
      totals.provisions += this.cols.provisions[k];
      totals.polls += this.cols.polls[k];
      if (withDevices) devices.push(this.countsOf(k));
    }
    return { devices, totals };
  }

  private countsOf(k: number): DeviceTelemetryCounts {
    const t = this.telemetry;
    return {
      deviceId: this.ids.keyOf(k),
      received: t.received(k),
      duplicates: t.duplicates(k),
      gaps: t.gaps(k),
      maxSeq: t.maxSeq(k),
      provisions: this.cols.provisions[k],
      polls: this.cols.polls[k],
    };
  }

  private makeTarget(spec: TargetSpec): TargetStateResponse {
    this.targetVersion++;
    return { release: spec.release, config: { ...(spec.config ?? {}) }, etag: `"t${this.targetVersion}"` };
  }
}
