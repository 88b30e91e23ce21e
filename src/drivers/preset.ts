import type { ConfigChange, DeviceCommand, DeviceStateReport, OfferedArtifact, UpdateOffer } from './events.js';
import type { ClientIdentity } from './types.js';

/**
 * The preset interface: how one backend's device API maps each lifecycle step onto HTTP requests
 * and MQTT topics, and how its answers and messages decode back into typed events
 * (drivers/events.ts). The generic wire driver (drivers/wire-driver.ts) owns the sockets, the
 * per-device credentials, ETags and the one-callback-per-operation contract; a preset owns
 * every byte of the format. docs/presets.md is the guide for writing one as a module.
 *
 * Rules for implementations:
 * - Pure and synchronous: no I/O, no timers. Called on the shard's thread only.
 * - Decoders never throw: an answer or message they cannot read returns `undefined` (the driver
 *   counts an answer as a bad response, BAD_RESPONSE; a message is ignored).
 * - Called per device per event (telemetry, polls): keep them cheap. The driver caches what
 *   depends only on the credentials (topics, connect identity, authorization) until they change.
 */
export interface Preset extends PlatformHooks {
  readonly name: string;

  // --- provisioning and credentials ---
  /** The request that provisions device `serial` (fleet key, serial, ...). */
  provisionRequest(serial: string): HttpRequestSpec;
  /**
   * Credentials from a 2xx answer to provisioning (202 means pending approval and is not decoded),
   * or undefined when the body is not what the route answers.
   */
  decodeProvision(body: string, serial: string): DeviceCredentials | undefined;
  /**
   * True when a 2xx provisioning (or renewal) answer that `decodeProvision` could not read is the
   * platform's documented refusal (ThingsBoard: HTTP 200 with `"status": "FAILURE"`): counted as
   * `rejected`, not as a bad response. Absent: every unreadable 2xx is a bad response.
   */
  provisionRefused?(body: string): boolean;
  /** Authorization header of the device's HTTP requests (undefined: none). */
  authorization(creds: DeviceCredentials): string | undefined;
  /**
   * Statuses of any device HTTP route that mean "your credentials are no longer accepted" (401 for
   * an expired bearer token). The answer is counted as it is; the driver then re-authenticates
   * (`reauthRequest`, else provisioning again) before the device's next request.
   */
  readonly reauthStatuses?: readonly number[];
  /** How to renew credentials (token refresh); absent: the provisioning request again. */
  reauthRequest?(creds: DeviceCredentials, serial: string): HttpRequestSpec;
  /** New credentials from a 2xx answer to `reauthRequest` (or undefined: bad response). */
  decodeReauth?(body: string, creds: DeviceCredentials): DeviceCredentials | undefined;

  // --- MQTT session ---
  /** MQTT CONNECT identity. */
  connectIdentity(creds: DeviceCredentials): MqttIdentity;
  /** Topics the device subscribes to (at `subscriptionQos`, default 1) when its session is up and it runs fleet operations. */
  subscriptions(creds: DeviceCredentials): readonly string[];
  readonly subscriptionQos?: 0 | 1;
  telemetryTopic(creds: DeviceCredentials): string;
  /** A telemetry payload of `size` bytes when the scenario has no template (must keep `seq` recoverable). */
  telemetryPayload(seq: number, tsMs: number, size: number): Buffer;
  /** A message on one of `subscriptions`, decoded; undefined for anything the device ignores. */
  decodeMessage(topic: string, payload: Buffer): DeviceMessage | undefined;

  // --- target state ---
  /**
   * The poll. `etag`: the ETag or version the device last saw (undefined before the first), for a
   * backend that takes it in the path or a header of its own. The driver adds If-None-Match with
   * it unless `sendIfNoneMatch` is false. `release`: what the device last reported running (Mender sends it).
   */
  pollRequest(creds: DeviceCredentials, etag?: string, release?: string): HttpRequestSpec;
  /** False: the driver sends no If-None-Match (the preset puts the version where its backend reads it). */
  readonly sendIfNoneMatch?: boolean;
  /** Poll statuses that mean "nothing new" besides 304 (e.g. 204); answered as POLL_UNCHANGED. */
  readonly unchangedStatuses?: readonly number[];
  /**
   * A 200 answer to a poll, decoded; undefined when it is not a target state (bad response).
   * `etag`: what the device last saw, so a backend that answers 200 with the same version is "unchanged".
   */
  decodePoll(body: string, etag?: string): TargetAnswer | undefined;

  // --- fleet operations, device -> backend ---
  /**
   * The request(s) reporting a step of an update; several are sent in order (a status, then a
   * log) and answered as one, by the last; undefined when the platform has no such step (the
   * driver answers it 204 without a request).
   */
  stateReport(creds: DeviceCredentials, report: DeviceStateReport): HttpRequestSpec | readonly HttpRequestSpec[] | undefined;
  /** GET of an artifact; the driver adds Range. `path` may be an absolute URL on the HTTP target's origin. */
  artifactRequest(creds: DeviceCredentials, artifact: OfferedArtifact): HttpRequestSpec;
  commandReply(creds: DeviceCredentials, command: DeviceCommand, ok: boolean): MqttUplink;
  configAck(creds: DeviceCredentials, version: number): MqttUplink;
  endOfLineReport(creds: DeviceCredentials, ok: boolean): MqttUplink;
  /** One shipment of `lines` copies of `line`, after `suppressed` lines were dropped (0: none). */
  logs(creds: DeviceCredentials, suppressed: number, line: string, lines: number): MqttUplink;
}

/**
 * Optional members for platforms whose devices speak HTTP only, authenticate in steps, or answer
 * in several requests (Mender, hawkBit DDI). A preset without them behaves as before.
 */
export interface PlatformHooks {
  /** 'none': no MQTT session (connect succeeds at once, telemetry goes through telemetryRequest). Default 'mqtt'. */
  readonly session?: 'mqtt' | 'none';
  /**
   * Telemetry over HTTP (session 'none'): one request per message, a 2xx acknowledges it.
   * `release`: what the device last reported running. Undefined: the platform has no telemetry
   * and the message is dropped as unsendable (counted by the pipeline).
   */
  telemetryRequest?(creds: DeviceCredentials, seq: number, tsMs: number, release?: string): HttpRequestSpec | undefined;
  /** Provisioning answers that mean "not admitted yet, ask again" (Mender: 401 until accepted). */
  readonly provisionPendingStatuses?: readonly number[];
  /** State-report answers that mean the backend withdrew the update (Mender 409 aborted, hawkBit 410 gone). */
  readonly updateGoneStatuses?: readonly number[];
  /**
   * True: the platform's device asks for its target state as soon as its session comes up (its
   * first connect and every reconnect, a reboot's included), besides its schedule, because a
   * push sent while it was away is not sent again (AWS IoT's notify-next fires only when the next
   * pending job changes; ThingsBoard pushes a shared attribute when it changes). The fleet makes
   * that poll (fleet/lifecycle.ts); the driver only says so (DeviceDriver.pollsOnConnect).
   */
  readonly pollOnConnect?: boolean;
  /**
   * State-report answers after which the report is sent once more, built again by `stateReport`
   * from the credentials the answer updated (`rememberFromReport`): AWS IoT's VersionMismatch
   * carries the job execution's current version. The retry's answer is the report's answer;
   * a retry rejected again is not retried.
   */
  readonly retryReportStatuses?: readonly number[];
  /** A follow-up GET the poll's answer points to (hawkBit's deploymentBase, cancelAction); its 200 is decoded by decodeFollow. */
  decodeFollow?(body: string, creds: DeviceCredentials): TargetAnswer | undefined;
  /** A streaming check of a downloaded artifact instead of its SHA-256 (Mender checks the manifest inside). */
  artifactCheck?(): ArtifactCheck;
  /**
   * Logs over HTTP (session 'none'): one shipment (`lines` copies of `line` after `suppressed`
   * dropped ones) as the requests the platform takes, in order (balena: batches of at most 10).
   * Sent like QoS 0 logs: answers are counted, nothing follows on the device. Absent: the
   * platform has no log uplink and the driver refuses the shipment.
   */
  logsRequest?(creds: DeviceCredentials, suppressed: number, line: string, lines: number): readonly HttpRequestSpec[];

  // --- request/response over MQTT (AWS IoT's reserved topics); drivers/mqtt-requests.ts runs them (mqtt-topic-answers.ts reads the convention) ---
  /**
   * 'mqtt': provisioning, polls and state reports are MQTT request/response exchanges. A request's
   * `path` is the topic it is published to (QoS 1) and its `body` the payload; its answer is the
   * next message on `<path>/accepted` (answered as 200 with that payload) or `<path>/rejected`
   * (the status `rejectedStatus` reads from the payload). The device's `subscriptions` must cover
   * the answer topics. No answer within the HTTP timeout: NET_TIMEOUT. Default 'http'.
   */
  readonly requestsOver?: 'http' | 'mqtt';
  /** The HTTP-like status a rejected answer stands for (409 for a version conflict, 404 for a job that is gone, ...). */
  rejectedStatus?(payload: string): number;
  /**
   * With requestsOver 'mqtt', provisioning runs on a session of its own before the device's first
   * (AWS fleet provisioning by claim): opened with this identity and the run's client certificate
   * (the claim certificate), subscribed to `provisionSubscriptions`, closed once it ends.
   */
  provisionIdentity?(serial: string): MqttIdentity;
  readonly provisionSubscriptions?: readonly string[];
  /**
   * An accepted answer to a provisioning request (the first is `provisionRequest`): the next
   * request with what to carry to the next step, the credentials, or undefined (bad response).
   * `carried`: what the previous step carried ({} at first).
   */
  provisionStep?(body: string, serial: string, carried: Readonly<Record<string, string>>): ProvisionStep | undefined;
  /** The client certificate of the device's own session, when its credentials carry one (issued by provisioning); else the run's. */
  clientIdentity?(creds: DeviceCredentials): { cert: string; key: string } | undefined;
  /**
   * Values an answer to a state report (accepted or rejected) makes the driver keep in the
   * credentials' `extra` for later requests (AWS IoT's job execution version, sent back as expectedVersion).
   */
  rememberFromReport?(body: string, creds: DeviceCredentials): Readonly<Record<string, string>> | undefined;

  // --- request/response over MQTT with correlation ids (protocol files); drivers/mqtt-requests.ts runs them ---
  /** Provisioning as an MQTT request/response on a session of its own; `provisionRequest` is then never called. */
  readonly mqttProvision?: MqttProvisioning;
  /** The target-state poll (update check) as an MQTT request/response on the device's session; `pollRequest` is then never called. */
  readonly mqttPoll?: MqttPolling;
  /** A state report as one MQTT publish (QoS 1: the PUBACK answers it 204; QoS 0: answered once written) instead of `stateReport`. */
  stateUplink?(creds: DeviceCredentials, report: DeviceStateReport): MqttUplink;
}

/**
 * A request answered over MQTT. The driver subscribes to `subscriptions`, publishes `request`
 * with a correlation id of its making, and waits `timeoutMs` for a message that `decode` accepts
 * and whose id is that one. Timeouts count as NET_TIMEOUT, a session lost while waiting as
 * NET_RESET, answers that come too late or carry another id in mqtt.request.late: never fatal.
 */
export interface MqttExchange<Who> {
  readonly timeoutMs: number;
  /** Topics to subscribe to (at QoS 1) before the first request: answers, rejections. */
  subscriptions(who: Who): readonly string[];
  /** The request; `version`: what the device has (polls). */
  request(who: Who, correlationId: string, version?: string): MqttUplink;
}

/** Provisioning over MQTT: `who` is the device serial; the session is closed once answered. */
export interface MqttProvisioning extends MqttExchange<string> {
  /** The provisioning session's CONNECT identity, and its client certificate when it has one (a claim certificate). */
  session(serial: string): MqttIdentity & { readonly tls?: ClientIdentity };
  /** A message on the provisioning session, decoded; undefined when it is not an answer of this exchange (ignored). */
  decode(topic: string, payload: Buffer, serial: string): MqttAnswer<DeviceCredentials> | undefined;
}

/** The target-state poll over MQTT, on the device's own session. */
export interface MqttPolling extends MqttExchange<DeviceCredentials> {
  /**
   * A message on the device's session, decoded; undefined when it is not a poll answer (the
   * driver then reads it as a device message). `version`: what the device has, so an answer with
   * the same version is unchanged.
   */
  decode(topic: string, payload: Buffer, version?: string): MqttAnswer<TargetAnswer> | undefined;
}

/** An answer of an MQTT exchange. */
export interface MqttAnswer<T> {
  /** The id the answer carries; undefined when its topic alone says it answers the device's pending request. */
  readonly correlationId?: string;
  /**
   * HTTP-like: 2xx with `value` is done (a 2xx without it is BAD_RESPONSE); a poll's "nothing
   * new" is POLL_UNCHANGED; a refusal is its status (the answer's own, else 400), counted by cause.
   */
  readonly status: number;
  readonly value?: T;
  /** A further step of the same exchange (published with the same id; the wait starts again), when `status` is 2xx and `value` absent. */
  readonly next?: MqttUplink;
}

/** One step of a multi-step provisioning exchange. */
export type ProvisionStep =
  | { readonly next: HttpRequestSpec; readonly carry: Readonly<Record<string, string>> }
  | { readonly credentials: DeviceCredentials };

/** Checks an artifact as its bytes arrive. */
export interface ArtifactCheck {
  push(chunk: Buffer): void;
  /**
   * `ok`: what arrived is a valid artifact. `target`: what it replaces, when the artifact itself
   * says so and the offer could not (Mender: its payload type); absent, the offer's target holds.
   */
  finish(): { ok: boolean; target?: 'app' | 'os' };
}

/** What a module preset exports as default (or `createPreset`): a preset per run and target. */
export type PresetFactory = (settings: PresetSettings) => Preset;

/** What a preset is built with. */
export interface PresetSettings {
  /** target.fleetKey: the fleet's provisioning secret. */
  fleetKey: string;
}

/** Credentials of one device as its preset decoded them. The driver keeps them per device. */
export interface DeviceCredentials {
  /** The device's id on the backend (topics, paths). */
  readonly deviceId: string;
  /** Device key, token or password. */
  readonly secret: string;
  /** When the secret expires (epoch ms); the driver re-authenticates at or after it. */
  readonly expiresAtMs?: number;
  /** Anything else the preset needs later (a username, a tenant). */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface HttpRequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  /** Relative to target.httpUrl (or an absolute URL on its origin). */
  readonly path: string;
  /** Sent as application/json unless `headers` says otherwise. */
  readonly body?: string;
  /** Extra headers as name, value pairs flattened: ['x-tenant', 't1']. */
  readonly headers?: readonly string[];
  /** Overrides `authorization(creds)` for this request (provisioning with a fleet key). */
  readonly authorization?: string;
}

export interface MqttIdentity {
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
}

export interface MqttUplink {
  readonly topic: string;
  readonly payload: string | Buffer;
  /** QoS of this publish (default: 1 for replies, acks and reports, 0 for logs). */
  readonly qos?: 0 | 1;
}

/** A decoded message from the backend. */
export type DeviceMessage =
  | { readonly kind: 'update'; readonly offer: UpdateOffer }
  | { readonly kind: 'config'; readonly change: ConfigChange }
  | { readonly kind: 'command'; readonly command: DeviceCommand };

/** A decoded 200 answer to a poll. */
export interface TargetAnswer {
  /** False when the answer says nothing changed (a backend without ETags answering 200 with the same state). */
  readonly changed: boolean;
  /** When the backend wants the next poll (ms from now), if it says. */
  readonly nextPollMs?: number;
  /** ETag to send next time, when it is in the body rather than the ETag header. */
  readonly etag?: string;
  readonly update?: UpdateOffer;
  readonly config?: ConfigChange;
  /** A GET to make next (absolute URL or path), whose 200 the preset's decodeFollow turns into the answer. */
  readonly follow?: HttpRequestSpec;
  /** Requests to send besides (config data asked for, a cancel acknowledged); answers are counted, not decoded. */
  readonly also?: readonly HttpRequestSpec[];
  /** The backend withdrew this update (hawkBit cancelAction): the device stops it. */
  readonly withdrawn?: string;
  /** Values the driver keeps in the credentials' `extra` for later requests (a job execution's version). */
  readonly remember?: Readonly<Record<string, string>>;
}
