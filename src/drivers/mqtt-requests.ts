import type { DeviceCredentialTable } from './device-credentials.js';
import { DeviceDeadlines } from './device-deadlines.js';
import { claimProvisioning } from './mqtt-topic-answers.js';
import { TopicRequests } from './mqtt-topic-requests.js';
import type { DeviceCredentials, HttpRequestSpec, MqttAnswer, MqttIdentity, MqttProvisioning, MqttUplink, Preset, TargetAnswer } from './preset.js';
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
  /** The answer of a request over reserved topics (`request`), as an HTTP answer to `op` would be reported. */
  answered(dev: number, op: number, status: number, body: string): void;
  fleetEvents(): FleetOpsEvents | undefined;
}

/**
 * A preset whose requests all go over MQTT (`requestsOver: 'mqtt'`, drivers/mqtt-topic-answers.ts):
 * how long a request waits, and the client certificate of a provisioning session (the claim certificate).
 */
export interface TopicRequestOptions {
  readonly timeoutMs: number;
  claimIdentity(dev: number): ClientIdentity | undefined;
}

/**
 * Request/response over MQTT, for the wire driver: protocol files' exchanges with correlation ids
 * (drivers/preset.ts `mqttProvision`, `mqttPoll`), state reports published over MQTT
 * (`stateUplink`), and a preset's requests over reserved topics (`requestsOver: 'mqtt'`, AWS IoT:
 * provisioning by claim is run as `mqttProvision`, any other request as `request`, answered as
 * its HTTP twin would be, through drivers/mqtt-topic-requests.ts). It owns the per-device exchange
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
  /** Provisioning over MQTT: the preset's `mqttProvision`, or its provisioning by claim over reserved topics. */
  readonly mqttProvision: MqttProvisioning | undefined;
  /** Requests over reserved topics (requestsOver 'mqtt'). */
  private readonly topicRequests: TopicRequests | undefined;
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
    private readonly topics?: TopicRequestOptions,
  ) {
    this.phase = new Uint8Array(devices);
    this.provisionId = new Array(devices);
    this.pollId = new Array(devices);
    this.pollParked = new Uint8Array(devices);
    this.stateInFlight = new Uint8Array(devices);
    const p = (this.mqttProvision = preset.mqttProvision ?? (topics && preset.provisionIdentity ? claimProvisioning(preset, topics.timeoutMs) : undefined));
    const q = preset.mqttPoll;
    if (topics !== undefined) {
      this.topicRequests = new TopicRequests(devices, topics.timeoutMs, preset, (dev, m) => sessions.publish(dev, m, TOKEN_REQUEST), (dev, op, status, body) => outcomes.answered(dev, op, status, body));
    }
    this.provisionDeadlines = p ? new DeviceDeadlines(devices, p.timeoutMs, (dev) => this.provisionFailed(dev, NET_TIMEOUT)) : undefined;
    this.pollDeadlines = q ? new DeviceDeadlines(devices, q.timeoutMs, (dev) => this.pollFailed(dev, NET_TIMEOUT)) : undefined;
  }

  // --- provisioning ---

  provision(dev: number, serial: string): void {
    if (this.phase[dev] !== IDLE) return; // one provisioning at a time; the lifecycle never asks twice
    this.phase[dev] = CONNECTING;
    const id = this.mqttProvision!.session(serial);
    this.sessions.connectSession(dev, id.tls === undefined && this.topics !== undefined ? { ...id, tls: this.topics.claimIdentity(dev) } : id);
  }

  /** True while `dev`'s transport slot holds its provisioning session (its events are not the lifecycle's). */
  provisioning(dev: number): boolean {
    return this.phase[dev] !== IDLE;
  }

  /** The provisioning session is up (or refused): subscribe and ask, or report why not. */
  sessionUp(dev: number, ok: boolean, code: number): void {
    const p = this.mqttProvision!;
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

  /** The poll answers' topics of `dev`'s session (subscribed at QoS 1); none without a poll over MQTT. */
  pollTopics(dev: number): readonly string[] {
    const q = this.preset.mqttPoll;
    const c = this.creds.of(dev);
    return q === undefined || c === undefined ? [] : q.subscriptions(c);
  }

  /**
   * The device's session came up: subscribe to poll answers (unless they went with the CONNECT,
   * WireAnswers.sessionTopics), then send the poll that waited for it.
   */
  sessionSubscriptions(dev: number, subscribedWithConnect: boolean): void {
    const q = this.preset.mqttPoll;
    const c = this.creds.of(dev);
    if (q === undefined || c === undefined) return;
    if (!subscribedWithConnect) for (const topic of q.subscriptions(c)) this.sessions.subscribe(dev, topic, 1);
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

  // --- requests over reserved topics (requestsOver 'mqtt') ---

  /** Sends one request of `dev` on its session as HTTP would send it (drivers/mqtt-topic-requests.ts); answered through `outcomes.answered`. */
  request(dev: number, op: number, r: HttpRequestSpec): void {
    this.topicRequests!.request(dev, op, r);
  }

  /** The device's own session is up and subscribed: requests over reserved topics that waited for it leave. */
  sessionReady(dev: number): void {
    this.topicRequests?.sessionReady(dev);
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
      const a = this.mqttProvision!.decode(topic, payload, this.creds.serial(dev) ?? '');
      if (a !== undefined) this.provisionAnswered(dev, a);
      // The provisioning session hears nothing else the device would act on.
      return true;
    }
    if (this.topicRequests?.answer(dev, topic, payload)) return true;
    if (p.mqttPoll === undefined) return false;
    const a = p.mqttPoll.decode(topic, payload, this.etags[dev]);
    if (a === undefined) return false;
    this.pollAnswered(dev, a);
    return true;
  }

  /**
   * The session of `dev` ended by itself. True when it was the provisioning session (reported as
   * provisioning's failure, not to the lifecycle); a poll, a state report or a request over
   * reserved topics waiting on the device's session fails with it, and the loss goes on to the
   * lifecycle.
   */
  lost(dev: number): boolean {
    if (this.sessionEnded(dev)) return true;
    this.topicRequests?.lost(dev);
    return false;
  }

  /**
   * The lifecycle ended the device's session: a provisioning, poll or state report that waited on
   * it is answered as a reset; answers due to requests over reserved topics are cut off (CANCELLED).
   */
  disconnected(dev: number): void {
    if (!this.sessionEnded(dev)) this.topicRequests?.disconnected(dev);
  }

  private sessionEnded(dev: number): boolean {
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

  close(): void {
    this.provisionDeadlines?.stop();
    this.pollDeadlines?.stop();
    this.topicRequests?.close();
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
