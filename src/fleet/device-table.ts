import { lineAlignedBuffer } from '../collections/line-aligned.js';

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
  /** Answered "pending approval" (manual provisioning) and not yet approved. */
  awaitingApproval: 32,
  /** Knocked out by the backend (failed provisioning or connect, session dropped) and not back yet. */
  knockedOut: 64,
  /** Its last target-state poll failed for the backend's reasons (a status, reset, timeout, bad body); out until a poll succeeds. */
  pollFailing: 128,
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
 * Other components keep their per-device state in these records too: EnergyMeter and
 * InflightTable in the slots below, a driver or a behaviour in slots it reserves
 * (`reserveSlots`) from the bytes nobody uses; each owns its slots and nobody else writes them.
 */
export const RECORD_BYTES = 128;
export const RecF64 = {
  energyLeftJ: 0,
  consumedJ: 1,
  /** Time up to which the battery is accounted, ms. */
  energyAtMs: 2,
  lastGeneratedAt: 3,
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
  // line 2
  acked: 22,
  backoffDraws: 23,
  pollDraws: 24,
} as const;
const REC16_GROUP = 28;
const REC16_ATTEMPTS = 54;
const REC8_STATE = 58;
const REC8_FLAGS = 59;

/** The first 64-byte line of a record (what a report and its ack touch) and the second. */
export type RecordLine = 'hot' | 'cold';

/** A per-device field a component asks for: its width in bytes and the line it belongs on. */
export interface SlotRequest<N extends string = string> {
  readonly name: N;
  readonly bytes: 1 | 2 | 4 | 8;
  readonly line: RecordLine;
}

/** Reserved slots: the records' buffer and size, and each field's byte offset within a record. */
export type RecordSlots<N extends string> = { buffer: ArrayBuffer; recordBytes: number } & Record<N, number>;

/** Bytes of a record the table's own fields use (1 = used). */
function ownBytes(): Uint8Array {
  const used = new Uint8Array(RECORD_BYTES);
  const mark = (offset: number, width: number) => used.fill(1, offset * width, offset * width + width);
  for (const o of Object.values(RecF64)) mark(o, 8);
  for (const o of Object.values(Rec32)) mark(o, 4);
  for (const o of [REC16_GROUP, REC16_ATTEMPTS]) mark(o, 2);
  for (const o of [REC8_STATE, REC8_FLAGS]) mark(o, 1);
  return used;
}

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
  /** Bytes of a record taken by the table's fields and by reservations so far. */
  private readonly usedBytes = ownBytes();

  constructor(
    readonly count: number,
    firstDevice: number,
  ) {
    this.firstDevice = firstDevice;
    // Line-aligned, so that the first half of a record (what a report and its ack touch) is one
    // cache line and the whole record two (collections/line-aligned.ts).
    const buffer = lineAlignedBuffer(count * RECORD_BYTES);
    this.f64 = new Float64Array(buffer, 0, count * F);
    this.i32 = new Int32Array(buffer, 0, count * W);
    this.u32 = new Uint32Array(buffer, 0, count * W);
    this.u16 = new Uint16Array(buffer, 0, count * H);
    this.u8 = new Uint8Array(buffer, 0, count * B);
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

  /**
   * Reserves a slot in every device's record for each requested field, first fit on its line,
   * aligned to its width, in the order asked; throws when a line is full. Call before the run.
   */
  reserveSlots<N extends string>(owner: string, request: readonly SlotRequest<N>[]): RecordSlots<N> {
    const slots = { buffer: this.u8.buffer as ArrayBuffer, recordBytes: RECORD_BYTES } as RecordSlots<N>;
    for (const field of request) {
      const [start, end] = field.line === 'hot' ? [0, RECORD_BYTES / 2] : [RECORD_BYTES / 2, RECORD_BYTES];
      let at = -1;
      for (let o = start; o + field.bytes <= end && at < 0; o += field.bytes) {
        if (this.usedBytes.subarray(o, o + field.bytes).every((b) => b === 0)) at = o;
      }
      if (at < 0) throw new Error(`${owner}: no free ${field.bytes}-byte slot on the ${field.line} line of the device record for ${field.name}`);
      this.usedBytes.fill(1, at, at + field.bytes);
      (slots as Record<string, number>)[field.name] = at;
    }
    return slots;
  }
}
