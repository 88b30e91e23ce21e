/**
 * Device state of one shard as a struct of arrays: one typed array per field, indexed by the
 * shard-local device index. An idle device costs a few dozen bytes here; sockets and buffers
 * live in the drivers and exist only while a device is online.
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

export class DeviceTable {
  readonly state: Uint8Array;
  /** Next telemetry sequence number to generate (= messages generated so far). */
  readonly nextSeq: Uint32Array;
  /** Next sequence number to send; [sendSeq, nextSeq) is buffered on the device. */
  readonly sendSeq: Uint32Array;
  /** When the newest buffered message was generated (ms), to estimate intended times on flush. */
  readonly lastGeneratedAt: Float64Array;
  /** Start of the device's in-flight HTTP request (a device runs one at a time), ms; -1 when none. */
  readonly httpStartedAt: Float64Array;
  readonly connectStartedAt: Float64Array;
  /** Consecutive failed attempts (provision or connect), for backoff. */
  readonly attempts: Uint16Array;
  /** Draw counters per random stream, so every draw of a device is reproducible. */
  readonly backoffDraws: Uint32Array;
  readonly pollDraws: Uint32Array;
  /** The device's next poll is due; at most one poll event is queued per device. */
  readonly pollQueued: Uint8Array;
  readonly telemetryQueued: Uint8Array;
  /** 1 while the device is registered with its network (attach energy paid). */
  readonly registered: Uint8Array;
  /** 1 once the device holds credentials from provisioning. */
  readonly hasCreds: Uint8Array;
  /** Fleet group (scenario `fleet:` entry) of each device. */
  readonly groupOf: Uint16Array;
  /** QoS 1 messages acknowledged, per device (reconciled against the backend's per-device counts). */
  readonly acked: Uint32Array;
  /** Global device index of local index 0. */
  readonly firstDevice: number;

  constructor(readonly count: number, firstDevice: number) {
    this.firstDevice = firstDevice;
    this.state = new Uint8Array(count);
    this.nextSeq = new Uint32Array(count);
    this.sendSeq = new Uint32Array(count);
    this.lastGeneratedAt = new Float64Array(count);
    this.httpStartedAt = new Float64Array(count).fill(-1);
    this.connectStartedAt = new Float64Array(count);
    this.attempts = new Uint16Array(count);
    this.backoffDraws = new Uint32Array(count);
    this.pollDraws = new Uint32Array(count);
    this.pollQueued = new Uint8Array(count);
    this.telemetryQueued = new Uint8Array(count);
    this.acked = new Uint32Array(count);
    this.hasCreds = new Uint8Array(count);
    this.registered = new Uint8Array(count);
    this.groupOf = new Uint16Array(count);
  }

  /** Messages waiting on device `dev`. */
  buffered(dev: number): number {
    return this.nextSeq[dev] - this.sendSeq[dev];
  }

  /** Bytes of device state per device, for the plan's memory estimate. */
  static bytesPerDevice(): number {
    return 1 + 4 + 4 + 8 + 8 + 8 + 2 + 4 + 4 + 1 + 1 + 4 + 1 + 1 + 2;
  }
}
