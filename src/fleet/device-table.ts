import type { ModelDriverSlots } from '../drivers/model/model-driver.js';

/**
 * Device state of one shard, indexed by the shard-local device index. An idle device costs one
 * 128-byte record here; sockets and buffers live in the drivers and exist only while a device is
 * online.
 */
export const DeviceState = {
  off: 0,
  provisioning: 1,
  /** Has credentials, no MQTT session, waiting for its connect event. */
  provisioned: 2,
  connecting: 3,
  online: 4,
  /** Session lost or refused; a connect event is scheduled after a backoff. */
  backoff: 5,
  stopped: 6,
  /** The link is down (own outage or a cell outage): no traffic until it returns. */
  offline: 7,
  /** The battery ran dry: the device is dark for the rest of the run. */
  dead: 8,
} as const;

/** One-bit facts about a device (DeviceTable.has / set / unset). */
export const Flag = {
  /** Its group's session is per-report (PSM / eDRX): no standing session. */
  sleepy: 1,
  /** Holds credentials from provisioning. */
  hasCreds: 2,
  /** Registered with its network (attach energy paid). */
  registered: 4,
  /** The battery ran dry (EnergyMeter). */
  depleted: 8,
  /** Booted and not attached since: its next attach is part of the boot (one-off energy). */
  freshBoot: 16,
} as const;

/**
 * The record layout. Why one interleaved record instead of one typed array per field: at 250k
 * devices per thread a device's next report comes 15 minutes and ~250k other devices later, so
 * every field it touches is a cache miss; with ~18 separate arrays a report cost ~18 misses. The
 * first 64-byte line holds everything a report and its ack touch (sequence counters, battery,
 * the model driver's ack clock and draw counter, the in-flight list, state), the second line what
 * connects, provisioning, polls and the end of the run touch. Offsets are in units of the view's
 * element size (Float64 slots are 8 bytes, 32-bit slots 4, 16-bit slots 2, byte slots 1).
 *
 * Other components keep their per-device state in these records too (EnergyMeter, InflightTable,
 * and the model driver through `modelDriverSlots`); each owns its slots and nobody else writes them.
 */
export const RECORD_BYTES = 128;
export const RecF64 = {
  energyLeftJ: 0,
  consumedJ: 1,
  /** Time up to which the battery is accounted, ms. */
  energyAtMs: 2,
  lastGeneratedAt: 3,
  /** Model driver: the device's latest ack time (survives sessions). */
  driverLastAckAt: 4,
  // line 2
  httpStartedAt: 8,
  connectStartedAt: 9,
  /** Time the battery ran dry (valid while Flag.depleted is set). */
  depletedAtMs: 10,
  /** EnergyMeter: energy drawn by one-off steps (shelf time before power-on, boot, first attach, provisioning, OTA), J. */
  oneOffJ: 14,
  /** EnergyMeter: first power-on, ms; -1 before it (the start of the device's steady-state window). */
  poweredOnAtMs: 15,
} as const;
export const Rec32 = {
  nextSeq: 10,
  sendSeq: 11,
  /** InflightTable: the newest message in flight (a circular list), -1 none. */
  inflightTail: 12,
  /** Model driver: draw counter. */
  driverDraws: 13,
  // line 2
  acked: 22,
  backoffDraws: 23,
  pollDraws: 24,
  driverPendingHttp: 25,
  driverPendingConnect: 26,
} as const;
const REC16_GROUP = 28;
const REC16_ATTEMPTS = 54;
const REC8_STATE = 58;
const REC8_FLAGS = 59;
const REC8_DRIVER_SESSION = 60;

const F = RECORD_BYTES / 8;
const W = RECORD_BYTES / 4;
const H = RECORD_BYTES / 2;
const B = RECORD_BYTES;

export class DeviceTable {
  /** Views of the records (index: dev * record size / element size + slot). */
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  private readonly u16: Uint16Array;
  /** Byte view of the records: device `dev`'s record starts at `bytes[dev * RECORD_BYTES]`. */
  readonly bytes: Uint8Array;
  private readonly u8: Uint8Array;
  /** Global device index of local index 0. */
  readonly firstDevice: number;

  constructor(
    readonly count: number,
    firstDevice: number,
  ) {
    this.firstDevice = firstDevice;
    const buffer = new ArrayBuffer(count * RECORD_BYTES);
    this.f64 = new Float64Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.bytes = this.u8;
    for (let dev = 0; dev < count; dev++) {
      this.f64[dev * F + RecF64.httpStartedAt] = -1;
      this.i32[dev * W + Rec32.inflightTail] = -1;
    }
  }

  /** Sets every device's fleet group. */
  setGroups(groupOf: ArrayLike<number>): void {
    for (let dev = 0; dev < this.count; dev++) this.u16[dev * H + REC16_GROUP] = groupOf[dev];
  }

  /** Fleet group (scenario `fleet:` entry) of the device; also its energy profile. */
  group(dev: number): number {
    return this.u16[dev * H + REC16_GROUP];
  }

  state(dev: number): number {
    return this.u8[dev * B + REC8_STATE];
  }

  setState(dev: number, s: number): void {
    this.u8[dev * B + REC8_STATE] = s;
  }

  has(dev: number, flag: number): boolean {
    return (this.u8[dev * B + REC8_FLAGS] & flag) !== 0;
  }

  set(dev: number, flag: number): void {
    this.u8[dev * B + REC8_FLAGS] |= flag;
  }

  unset(dev: number, flag: number): void {
    this.u8[dev * B + REC8_FLAGS] &= ~flag;
  }

  /** Next telemetry sequence number to generate (= messages generated so far). */
  nextSeq(dev: number): number {
    return this.u32[dev * W + Rec32.nextSeq];
  }

  /** Next sequence number to send; [sendSeq, nextSeq) is buffered on the device. */
  sendSeq(dev: number): number {
    return this.u32[dev * W + Rec32.sendSeq];
  }

  /** Messages waiting on device `dev`. */
  buffered(dev: number): number {
    return this.u32[dev * W + Rec32.nextSeq] - this.u32[dev * W + Rec32.sendSeq];
  }

  /** One message generated at `t` (kept in the buffer until sent). */
  generated(dev: number, t: number): void {
    this.u32[dev * W + Rec32.nextSeq]++;
    this.f64[dev * F + RecF64.lastGeneratedAt] = t;
  }

  /** The oldest buffered message left the buffer (sent or dropped). */
  advanceSend(dev: number): void {
    this.u32[dev * W + Rec32.sendSeq]++;
  }

  /** When the newest buffered message was generated (ms), to estimate intended times on flush. */
  lastGeneratedAt(dev: number): number {
    return this.f64[dev * F + RecF64.lastGeneratedAt];
  }

  /** Start of the device's in-flight HTTP request (a device runs one at a time), ms; -1 when none. */
  httpStartedAt(dev: number): number {
    return this.f64[dev * F + RecF64.httpStartedAt];
  }

  setHttpStartedAt(dev: number, t: number): void {
    this.f64[dev * F + RecF64.httpStartedAt] = t;
  }

  connectStartedAt(dev: number): number {
    return this.f64[dev * F + RecF64.connectStartedAt];
  }

  setConnectStartedAt(dev: number, t: number): void {
    this.f64[dev * F + RecF64.connectStartedAt] = t;
  }

  /** Consecutive failed attempts (provision or connect), for backoff. */
  attempts(dev: number): number {
    return this.u16[dev * H + REC16_ATTEMPTS];
  }

  setAttempts(dev: number, n: number): void {
    this.u16[dev * H + REC16_ATTEMPTS] = n;
  }

  /** Draw counters per random stream (returned, then incremented), so every draw is reproducible. */
  nextBackoffDraw(dev: number): number {
    return this.u32[dev * W + Rec32.backoffDraws]++;
  }

  nextPollDraw(dev: number): number {
    return this.u32[dev * W + Rec32.pollDraws]++;
  }

  /** QoS 1 messages acknowledged, per device (reconciled against the backend's per-device counts). */
  acked(dev: number): number {
    return this.u32[dev * W + Rec32.acked];
  }

  countAck(dev: number): void {
    this.u32[dev * W + Rec32.acked]++;
  }

  /** Acks of every device, in device order. */
  ackedCounts(): number[] {
    const out = new Array<number>(this.count);
    for (let dev = 0; dev < this.count; dev++) out[dev] = this.u32[dev * W + Rec32.acked];
    return out;
  }

  /** The model driver's slots in these records. */
  modelDriverSlots(): ModelDriverSlots {
    return {
      buffer: this.u8.buffer as ArrayBuffer,
      recordBytes: RECORD_BYTES,
      lastAckAt: RecF64.driverLastAckAt * 8,
      draws: Rec32.driverDraws * 4,
      session: REC8_DRIVER_SESSION,
      pendingHttp: Rec32.driverPendingHttp * 4,
      pendingConnect: Rec32.driverPendingConnect * 4,
    };
  }
}
