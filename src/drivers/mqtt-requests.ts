import { performance } from 'node:perf_hooks';
import type { DeviceCredentialTable } from './device-credentials.js';
import type { DeviceCredentials, MqttAnswer, MqttIdentity, MqttUplink, Preset, TargetAnswer } from './preset.js';
import { BAD_RESPONSE, MQTT_NET_CODE_BASE, NET_RESET, NET_TIMEOUT, NO_HINT, NO_RETRY_AFTER, POLL_UNCHANGED, type ClientIdentity, type DriverEvents, type FleetOpsEvents } from './types.js';

/** Tokens of the driver's own publishes (requests, state reports) start here, above every fleet token. */
export const DRIVER_TOKEN_BASE = 0x70000000;
const TOKEN_REQUEST = DRIVER_TOKEN_BASE;
const TOKEN_STATE = DRIVER_TOKEN_BASE + 1;

/** Provisioning phases of a device (`phase[dev]`). */
const IDLE = 0;
const CONNECTING = 1;
const WAITING = 2;

/** What the exchanges need of the driver's MQTT side (drivers/wire-driver.ts): one session slot per device. */
export interface RequestSessions {
  connectSession(dev: number, id: MqttIdentity & { readonly tls?: ClientIdentity }): void;
  subscribe(dev: number, topic: string, qos: 0 | 1): void;
  publish(dev: number, m: MqttUplink, token: number): boolean;
  endSession(dev: number): void;
  isConnected(dev: number): boolean;
}

/** How the exchanges hand a decoded answer on (drivers/wire-answers.ts). */
export interface RequestOutcomes {
  /** A provisioning status, as an HTTP one would be reported (pending statuses mapped). */
  provisioned(dev: number, status: number): void;
  /** A poll's decoded target state (2xx). */
  pollDecoded(dev: number, t: TargetAnswer): void;
  fleetEvents(): FleetOpsEvents | undefined;
}

/**
 * Request/response over MQTT (drivers/preset.ts `mqttProvision`, `mqttPoll`) and state reports
 * published over MQTT (`stateUplink`), for the wire driver. It owns the per-device exchange
 * state: the correlation id a device waits for, the provisioning session's phase, the deadlines.
 *
 * - Provisioning runs on a session of its own (the preset's provisioning identity), in the
 *   device's transport slot: connect, subscribe, publish, wait, close. The lifecycle never hears
 *   of that session; it hears `onProvisioned`, then connects the device with its credentials.
 * - A poll runs on the device's session; the response topics are subscribed when it comes up.
 * - A timeout is NET_TIMEOUT, a session lost while waiting NET_RESET (a poll asked while the
 *   device has no session waits for one, within its timeout), as an HTTP route reports them: the fleet counts
 *   them by route and cause (errors.provision.timeout …), never fatal. An answer after its
 *   timeout, or with an id no request of the device is waiting for, goes to `onLate`.
 *
 * Deadlines: one list per exchange, in deadline order because every request of an exchange has
 * the same timeout; links are typed arrays over device indices (a device waits for at most one
 * answer per exchange), so a request allocates no entry, closure or timer of its own.
 *
 * Concurrency: the shard's one thread; expiry runs from one timer per list.
 */
export class MqttRequests {
  private readonly phase: Uint8Array;
  private readonly provisionId: Array<string | undefined>;
  private readonly pollId: Array<string | undefined>;
  /** 1 while a poll waits for the device's session to come up before it leaves. */
  private readonly pollParked: Uint8Array;
  /** 1 while a state report published at QoS 1 waits for its PUBACK. */
  private readonly stateInFlight: Uint8Array;
  private readonly provisionDeadlines: DeviceDeadlines | undefined;
  private readonly pollDeadlines: DeviceDeadlines | undefined;
  private seq = 0;

  constructor(
    private readonly preset: Preset,
    devices: number,
    /** Global index of local device 0: correlation ids are unique across shards. */
    private readonly firstDevice: number,
    private readonly creds: DeviceCredentialTable,
    private readonly etags: Array<string | undefined>,
    private readonly sessions: RequestSessions,
    private readonly events: DriverEvents,
    private readonly outcomes: RequestOutcomes,
    private readonly onLate: (dev: number) => void,
  ) {
    this.phase = new Uint8Array(devices);
    this.provisionId = new Array(devices);
    this.pollId = new Array(devices);
    this.pollParked = new Uint8Array(devices);
    this.stateInFlight = new Uint8Array(devices);
    const p = preset.mqttProvision;
    const q = preset.mqttPoll;
    this.provisionDeadlines = p ? new DeviceDeadlines(devices, p.timeoutMs, (dev) => this.provisionFailed(dev, NET_TIMEOUT)) : undefined;
    this.pollDeadlines = q ? new DeviceDeadlines(devices, q.timeoutMs, (dev) => this.pollFailed(dev, NET_TIMEOUT)) : undefined;
  }

  // --- provisioning ---

  provision(dev: number, serial: string): void {
    if (this.phase[dev] !== IDLE) return; // one provisioning at a time; the lifecycle never asks twice
    this.phase[dev] = CONNECTING;
    this.sessions.connectSession(dev, this.preset.mqttProvision!.session(serial));
  }

  /** True while `dev`'s transport slot holds its provisioning session (its events are not the lifecycle's). */
  provisioning(dev: number): boolean {
    return this.phase[dev] !== IDLE;
  }

  /** The provisioning session is up (or refused): subscribe and ask, or report why not. */
  sessionUp(dev: number, ok: boolean, code: number): void {
    const p = this.preset.mqttProvision!;
    if (!ok) {
      this.phase[dev] = IDLE;
      this.outcomes.provisioned(dev, connackStatus(code));
      return;
    }
    const serial = this.creds.serial(dev) ?? '';
    for (const topic of p.subscriptions(serial)) this.sessions.subscribe(dev, topic, 1);
    this.phase[dev] = WAITING;
    const id = this.newId(dev);
    this.provisionId[dev] = id;
    this.provisionDeadlines!.add(dev);
    if (!this.sessions.publish(dev, p.request(serial, id), TOKEN_REQUEST)) this.provisionFailed(dev, NET_RESET);
  }

  /** The provisioning session ended under the device while it waited. */
  private provisionFailed(dev: number, status: number): void {
    if (this.phase[dev] === IDLE) return;
    this.provisionDeadlines!.remove(dev);
    this.provisionId[dev] = undefined;
    this.phase[dev] = IDLE;
    this.sessions.endSession(dev);
    this.outcomes.provisioned(dev, status);
  }

  private provisionAnswered(dev: number, a: MqttAnswer<DeviceCredentials>): void {
    if (this.phase[dev] !== WAITING || !matches(a, this.provisionId[dev])) return this.onLate(dev);
    if (a.next !== undefined && a.value === undefined && is2xx(a.status)) {
      // A second step of the same exchange: same id, the wait starts again.
      this.provisionDeadlines!.remove(dev);
      this.provisionDeadlines!.add(dev);
      if (!this.sessions.publish(dev, a.next, TOKEN_REQUEST)) this.provisionFailed(dev, NET_RESET);
      return;
    }
    this.provisionDeadlines!.remove(dev);
    this.provisionId[dev] = undefined;
    this.phase[dev] = IDLE;
    this.sessions.endSession(dev);
    let status = a.status;
    if (is2xx(status) && status !== 202) {
      if (a.value === undefined) status = BAD_RESPONSE;
      else this.creds.issue(dev, a.value);
    }
    this.outcomes.provisioned(dev, status);
  }

  // --- the poll ---

  /** The device's session came up: subscribe to poll answers, then send the poll that waited for it. */
  sessionSubscriptions(dev: number): void {
    const q = this.preset.mqttPoll;
    const c = this.creds.of(dev);
    if (q === undefined || c === undefined) return;
    for (const topic of q.subscriptions(c)) this.sessions.subscribe(dev, topic, 1);
    if (this.pollParked[dev] === 0) return;
    this.pollParked[dev] = 0;
    if (!this.sessions.publish(dev, q.request(c, this.pollId[dev]!, this.etags[dev]), TOKEN_REQUEST)) this.pollFailed(dev, NET_RESET);
  }

  /**
   * A poll. Without a session (not yet up, or down) it waits for one, as an MQTT client queues a
   * publish while offline: its deadline runs from now, so a session that does not come up in
   * time makes it a timeout.
   */
  poll(dev: number, creds: DeviceCredentials): void {
    if (this.pollId[dev] !== undefined) return; // one poll at a time; the poller never asks twice
    const id = this.newId(dev);
    this.pollId[dev] = id;
    this.pollDeadlines!.add(dev);
    if (!this.sessions.isConnected(dev)) {
      this.pollParked[dev] = 1;
      return;
    }
    if (!this.sessions.publish(dev, this.preset.mqttPoll!.request(creds, id, this.etags[dev]), TOKEN_REQUEST)) this.pollFailed(dev, NET_RESET);
  }

  private pollFailed(dev: number, status: number): void {
    if (this.pollId[dev] === undefined) return;
    this.pollDeadlines!.remove(dev);
    this.pollId[dev] = undefined;
    this.pollParked[dev] = 0;
    this.events.onPolled(dev, status, NO_RETRY_AFTER, NO_HINT);
  }

  private pollAnswered(dev: number, a: MqttAnswer<TargetAnswer>): void {
    if (!matches(a, this.pollId[dev])) return this.onLate(dev);
    if (a.next !== undefined && a.value === undefined && is2xx(a.status)) {
      this.pollDeadlines!.remove(dev);
      this.pollDeadlines!.add(dev);
      if (!this.sessions.publish(dev, a.next, TOKEN_REQUEST)) this.pollFailed(dev, NET_RESET);
      return;
    }
    this.pollDeadlines!.remove(dev);
    this.pollId[dev] = undefined;
    const t = a.value;
    if (a.status === POLL_UNCHANGED || (is2xx(a.status) && t !== undefined && !t.changed)) {
      if (t?.etag !== undefined) this.etags[dev] = t.etag;
      this.events.onPolled(dev, POLL_UNCHANGED, NO_RETRY_AFTER, t?.nextPollMs ?? NO_HINT);
      return;
    }
    if (!is2xx(a.status)) return this.events.onPolled(dev, a.status, NO_RETRY_AFTER, NO_HINT);
    if (t === undefined) return this.events.onPolled(dev, BAD_RESPONSE, NO_RETRY_AFTER, NO_HINT);
    if (t.etag !== undefined) this.etags[dev] = t.etag;
    this.outcomes.pollDecoded(dev, t);
  }

  // --- state reports over MQTT ---

  /** Publishes a state report; false when the device has no session (the caller answers NET_REFUSED). */
  reportState(dev: number, m: MqttUplink): boolean {
    if (this.stateInFlight[dev] === 1 || !this.sessions.publish(dev, m, TOKEN_STATE)) return false;
    if ((m.qos ?? 1) === 1) this.stateInFlight[dev] = 1;
    else setImmediate(() => this.outcomes.fleetEvents()?.onStateReported(dev, 204, NO_RETRY_AFTER));
    return true;
  }

  // --- transport events (drivers/wire-answers.ts hands them here first) ---

  /** A PUBACK of the driver's own publishes; false for any other token. */
  acked(dev: number, token: number): boolean {
    if (token < DRIVER_TOKEN_BASE) return false;
    if (token === TOKEN_STATE && this.stateInFlight[dev] === 1) {
      this.stateInFlight[dev] = 0;
      this.outcomes.fleetEvents()?.onStateReported(dev, 204, NO_RETRY_AFTER);
    }
    return true;
  }

  /** A message on the device's slot; true when it was an answer of an exchange (late ones included). */
  message(dev: number, topic: string, payload: Buffer): boolean {
    const p = this.preset;
    if (this.phase[dev] === WAITING) {
      const a = p.mqttProvision!.decode(topic, payload, this.creds.serial(dev) ?? '');
      if (a !== undefined) this.provisionAnswered(dev, a);
      // The provisioning session hears nothing else the device would act on.
      return true;
    }
    if (p.mqttPoll === undefined) return false;
    const a = p.mqttPoll.decode(topic, payload, this.etags[dev]);
    if (a === undefined) return false;
    this.pollAnswered(dev, a);
    return true;
  }

  /**
   * The session of `dev` ended by itself. True when it was the provisioning session (reported as
   * provisioning's failure, not to the lifecycle); a poll or a state report waiting on the
   * device's session fails with it, and the loss goes on to the lifecycle.
   */
  lost(dev: number): boolean {
    if (this.phase[dev] !== IDLE) {
      this.provisionFailed(dev, NET_RESET);
      return true;
    }
    // A poll sent on the lost session gets no answer; one still waiting for a session keeps waiting.
    if (this.pollParked[dev] === 0) this.pollFailed(dev, NET_RESET);
    if (this.stateInFlight[dev] === 1) {
      this.stateInFlight[dev] = 0;
      this.outcomes.fleetEvents()?.onStateReported(dev, NET_RESET, NO_RETRY_AFTER);
    }
    return false;
  }

  /** The lifecycle ended the device's session: what waited on it is answered as a reset. */
  disconnected(dev: number): void {
    this.lost(dev);
  }

  close(): void {
    this.provisionDeadlines?.stop();
    this.pollDeadlines?.stop();
  }

  private newId(dev: number): string {
    return `${this.firstDevice + dev}-${++this.seq}`;
  }
}

function matches(a: MqttAnswer<unknown>, waiting: string | undefined): boolean {
  return waiting !== undefined && (a.correlationId === undefined || a.correlationId === waiting);
}

const is2xx = (s: number): boolean => s >= 200 && s < 300;

/** The status a refused provisioning session reports, as an HTTP route would have answered. */
function connackStatus(code: number): number {
  if (code <= 0) return MQTT_NET_CODE_BASE - code; // no CONNACK: the network pseudo-status
  if (code === 3) return 503; // server unavailable
  if (code === 4) return 401; // bad user name or password
  if (code === 5) return 403; // not authorized
  return 400; // protocol version or client id refused
}

/**
 * The devices waiting for an answer, earliest deadline first, and the one timer that expires
 * them. A device is on the list at most once; appending keeps deadline order because every entry
 * has the same timeout.
 */
export class DeviceDeadlines {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly at: Float64Array;
  private readonly linked: Uint8Array;
  private head = -1;
  private tail = -1;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly onTimer = (): void => this.expire();

  constructor(
    devices: number,
    private readonly timeoutMs: number,
    /** Called for each expired device, after it left the list. */
    private readonly onExpired: (dev: number) => void,
  ) {
    this.prev = new Int32Array(devices).fill(-1);
    this.next = new Int32Array(devices).fill(-1);
    this.at = new Float64Array(devices);
    this.linked = new Uint8Array(devices);
  }

  add(dev: number): void {
    this.remove(dev);
    this.at[dev] = performance.now() + this.timeoutMs;
    this.prev[dev] = this.tail;
    this.next[dev] = -1;
    if (this.tail >= 0) this.next[this.tail] = dev;
    else this.head = dev;
    this.tail = dev;
    this.linked[dev] = 1;
    this.arm();
  }

  remove(dev: number): void {
    if (this.linked[dev] === 0) return;
    const p = this.prev[dev];
    const n = this.next[dev];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.prev[dev] = this.next[dev] = -1;
    this.linked[dev] = 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer !== null || this.head < 0 || this.stopped) return;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(this.at[this.head] - performance.now())));
    // The sessions keep the process alive while requests wait; the deadline timer alone must not.
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head >= 0 && this.at[this.head] <= now) {
      const dev = this.head;
      this.remove(dev);
      this.onExpired(dev);
    }
    this.arm();
  }
}
