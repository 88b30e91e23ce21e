/**
 * Where the model driver keeps its per-device state inside the caller's packed device records (so
 * that a report touches one record, not one array per field): the records' buffer and size, and
 * byte offsets within a record (lastAckAt 8-byte aligned, draws and pending outcomes 4-byte aligned).
 */
export interface ModelDriverSlots {
  buffer: ArrayBuffer;
  recordBytes: number;
  lastAckAt: number;
  draws: number;
  session: number;
  pendingHttp: number;
  pendingConnect: number;
}

/**
 * The slots the driver asks its caller for, hot ones first (a report and its ack touch the ack
 * clock and the draw counter; the session flag is read on every publish).
 */
export const MODEL_DRIVER_SLOTS = [
  { name: 'lastAckAt', bytes: 8, line: 'hot' },
  { name: 'draws', bytes: 4, line: 'hot' },
  { name: 'session', bytes: 1, line: 'hot' },
  { name: 'pendingHttp', bytes: 4, line: 'cold' },
  { name: 'pendingConnect', bytes: 4, line: 'cold' },
] as const;

/** The driver's own records when the caller gives none. */
export function ownSlots(devices: number): ModelDriverSlots {
  return { buffer: new ArrayBuffer(devices * 24), recordBytes: 24, lastAckAt: 0, draws: 8, pendingHttp: 12, pendingConnect: 16, session: 20 };
}

/**
 * The model driver's fields of each device record, read and written through typed views of the
 * records' one buffer: whether a session is open, the outcome of its pending HTTP request and
 * connect, its draw counter and the time of its latest ack.
 */
export class ModelDeviceRecords {
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  /** Record size and field offsets in units of each view's element. */
  private readonly fStride: number;
  private readonly fLastAck: number;
  private readonly wStride: number;
  private readonly wDraws: number;
  private readonly wPendingHttp: number;
  private readonly wPendingConnect: number;
  private readonly bStride: number;
  private readonly bSession: number;

  constructor(devices: number, slots: ModelDriverSlots) {
    this.f64 = new Float64Array(slots.buffer, 0, (devices * slots.recordBytes) >> 3);
    this.i32 = new Int32Array(slots.buffer, 0, (devices * slots.recordBytes) >> 2);
    this.u32 = new Uint32Array(slots.buffer, 0, (devices * slots.recordBytes) >> 2);
    this.u8 = new Uint8Array(slots.buffer, 0, devices * slots.recordBytes);
    this.fStride = slots.recordBytes >> 3;
    this.fLastAck = slots.lastAckAt >> 3;
    this.wStride = slots.recordBytes >> 2;
    this.wDraws = slots.draws >> 2;
    this.wPendingHttp = slots.pendingHttp >> 2;
    this.wPendingConnect = slots.pendingConnect >> 2;
    this.bStride = slots.recordBytes;
    this.bSession = slots.session;
  }

  session(dev: number): boolean {
    return this.u8[dev * this.bStride + this.bSession] === 1;
  }

  setSession(dev: number, open: boolean): void {
    this.u8[dev * this.bStride + this.bSession] = open ? 1 : 0;
  }

  /** The device's draw counter, then counted up (each draw takes the next number of its stream). */
  nextDraw(dev: number): number {
    return this.u32[dev * this.wStride + this.wDraws]++;
  }

  /** The status the device's pending HTTP request (provision, poll) answers with. */
  pendingHttp(dev: number): number {
    return this.i32[dev * this.wStride + this.wPendingHttp];
  }

  setPendingHttp(dev: number, status: number): void {
    this.i32[dev * this.wStride + this.wPendingHttp] = status;
  }

  /** The CONNACK code the device's pending connect answers with. */
  pendingConnect(dev: number): number {
    return this.i32[dev * this.wStride + this.wPendingConnect];
  }

  setPendingConnect(dev: number, code: number): void {
    this.i32[dev * this.wStride + this.wPendingConnect] = code;
  }

  /**
   * The device's next ack time: no earlier than `at` nor than its latest ack (acks on one session
   * arrive in order, and the latest survives sessions); kept as its latest.
   */
  ackNoEarlierThan(dev: number, at: number): number {
    const k = dev * this.fStride + this.fLastAck;
    const ackAt = Math.max(this.f64[k], at);
    this.f64[k] = ackAt;
    return ackAt;
  }
}
