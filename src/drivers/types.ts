/**
 * Driver contracts. fleet/ talks to a backend only through `DeviceDriver`; whether that is real
 * sockets (MQTT + HTTP, drivers/mqtt and drivers/http composed by a preset) or the modelled
 * backend of the virtual clock (drivers/model) is invisible to device behaviour.
 *
 * Concurrency rules, for every interface in this file:
 * - All methods and all callbacks run on the one thread that owns the shard. Nothing here is
 *   shared between threads.
 * - A driver never calls back synchronously from inside one of its own methods: a failure that is
 *   known at once (no such device, socket refused synchronously) is reported on a later tick.
 *   Callers may therefore update their own state after a call without racing the callback.
 * - Devices are named by their shard-local index `dev` (0-based). A driver keeps its per-device
 *   state in typed arrays or sparse arrays indexed by `dev`, never in a closure per call.
 * - Every started operation ends in exactly one callback (success, failure or `onConnectionLost`
 *   for in-flight publishes, see below), so the simulator's accounting can close.
 */

import type { ConfigChange, DeviceCommand, DeviceStateReport, Heard, OfferedArtifact, UpdateOffer } from './events.js';

export type { ConfigChange, DeviceCommand, DeviceStateReport, Heard, OfferedArtifact, UpdateOffer } from './events.js';
export { NO_HINT, POLL_CHANGED, POLL_UNCHANGED } from './events.js';

/**
 * Outcomes of an HTTP request that carry no HTTP status, as pseudo-statuses below 100 (real
 * statuses are 100-599), so every callback keeps one `status` number. `NETWORK_ERROR` is a
 * network error of no more specific kind (the connection ended without an answer).
 */
export const NETWORK_ERROR = 0;
/** No connection could be opened: ECONNREFUSED, host or network unreachable, name not found. */
export const NET_REFUSED = 1;
/** The connection broke while the request was on it (ECONNRESET, EPIPE, closed by the peer). */
export const NET_RESET = 2;
/** No (complete) answer within the request's timeout, connecting included. */
export const NET_TIMEOUT = 3;
/** The TLS handshake or certificate check failed. */
export const NET_TLS = 4;
/** A 2xx whose body is unreadable or not the shape the route answers (the preset decides). */
export const BAD_RESPONSE = 5;
/** Cut off by fleetsim itself (the end of the run closed the transport): not a backend error. */
export const CANCELLED = 6;
/**
 * A 2xx whose body is the platform's own documented refusal (ThingsBoard answers provisioning
 * with HTTP 200 and `"status": "FAILURE"`): the backend said no, which is not garbage.
 */
export const REJECTED = 7;
/** The answer carried no (readable) Retry-After header. */
export const NO_RETRY_AFTER = -1;

/**
 * Why an established MQTT session ended, as far as the device can tell (`cause` of
 * onConnectionLost); each is counted as `mqtt.connection_lost.<name>` (fleet/session-loss.ts).
 * The broker closed it without an error (TCP FIN; MQTT 3.1.1 has no DISCONNECT from the
 * server): Mosquitto does so after 1.5 keepalives with nothing heard from the client, when
 * another client connects with the same id, and when it shuts down.
 */
export const LOST_CLOSED_BY_BROKER = 0;
/** The connection broke with a socket error: reset by the peer (ECONNRESET), broken pipe (EPIPE), or any other. */
export const LOST_RESET = 1;
/** TCP gave the connection up (ETIMEDOUT: retransmitting unanswered for its whole give-up time). */
export const LOST_TCP_TIMEOUT = 2;
/** The device gave the session up: no PINGRESP (no packet at all) within the keepalive after its PINGREQ, or a PUBACK that never came. */
export const LOST_KEEPALIVE_TIMEOUT = 3;
/** The broker sent what the client cannot accept (a malformed frame, an unexpected packet) or refused a publish. */
export const LOST_PROTOCOL = 4;

/**
 * An MQTT connect that failed without a CONNACK reports `code` = MQTT_NET_CODE_BASE - pseudo-status
 * (-2 refused, -3 reset, -4 timeout, -5 TLS, -6 a malformed answer); CONNACK refusals keep their
 * positive return code.
 */
export const MQTT_NET_CODE_BASE = -1;

/** `onConnected` code of a TLS handshake that failed (certificate refused, untrusted, wrong name). */
export const CONNECT_TLS_FAILED = MQTT_NET_CODE_BASE - NET_TLS;

/** TLS towards mqtts:// and https:// targets. */
export interface TlsSettings {
  /** PEM CA bundle to trust instead of the system roots. */
  ca?: string;
  /** Server name (SNI) to send and verify, when not the URL's host. */
  servername?: string;
  /** Skip verifying the server certificate (test servers only). */
  insecure?: boolean;
}

/** A device's client certificate and key (PEM), for mutual TLS. */
export interface ClientIdentity {
  key: string;
  cert: string;
}

/** Where a driver finds each device's client certificate. */
export interface DeviceIdentitySource {
  identityOf(dev: number): ClientIdentity | undefined;
}

/**
 * Callbacks a driver makes into the shard runtime: typed events, never wire data (fleet/ parses
 * nothing). Objects handed over (offers, changes, commands) are read-only and may be kept; the
 * events of the hot paths (acks, polls) carry numbers only.
 */
export interface DriverEvents {
  /**
   * Provisioning answered. `status` is the HTTP status or a pseudo-status below 100 (NETWORK_ERROR
   * and the NET_* constants, BAD_RESPONSE, CANCELLED). A 2xx other than 202 (pending approval)
   * means credentials were issued (the driver keeps them). `retryAfterMs` is the answer's
   * Retry-After in ms, NO_RETRY_AFTER when it carried none (the same for every callback below).
   */
  onProvisioned(dev: number, status: number, retryAfterMs: number): void;
  /** MQTT session up (`ok`) or refused / failed (`code` = CONNACK return code, or MQTT_NET_CODE_BASE - a pseudo-status: CONNECT_TLS_FAILED for a TLS handshake refused). */
  onConnected(dev: number, ok: boolean, code: number): void;
  /** A QoS 1 telemetry message was acknowledged (PUBACK). `token` is the one given to `publishTelemetry`. */
  onTelemetryAcked(dev: number, token: number): void;
  /**
   * An established MQTT session ended without `disconnect` being called. Every QoS 1 message
   * still in flight on it gets no ack: the caller owns those tokens and decides their fate.
   * `cause`: why, one of the LOST_* constants; `reason`: the same in words, with detail.
   */
  onConnectionLost(dev: number, reason: string, cause: number): void;
  /**
   * A target-state poll answered. `status`: POLL_CHANGED (200) or POLL_UNCHANGED (304) when the
   * target was read, else an HTTP status or a pseudo-status below 100. `nextPollMs`: when the
   * backend wants the next poll (ms from now), NO_HINT when it did not say. After POLL_CHANGED,
   * what changed follows at once, in this order: `onUpdateOffered(…, 'poll')`, then
   * `onConfigChanged(…, 'poll')` (each only when the answer carries it).
   */
  onPolled(dev: number, status: number, retryAfterMs: number, nextPollMs: number): void;
  /** The backend offers an update (pushed on the session, or in a poll answer). */
  onUpdateOffered?(dev: number, offer: UpdateOffer, heard: Heard): void;
  /** The backend changed the device's configuration. */
  onConfigChanged?(dev: number, change: ConfigChange, heard: Heard): void;
  /** The backend sent a command (always pushed). */
  onCommand?(dev: number, command: DeviceCommand): void;
  /**
   * The driver renewed the device's credentials after a re-authenticate status or their expiry
   * (drivers/preset.ts `reauthStatuses`): `status` as for onProvisioned. Not a new device.
   */
  onReauthenticated?(dev: number, status: number, retryAfterMs: number): void;
  /**
   * A PINGRESP arrived on the device's session (MQTT 3.1.1 §3.13), answering a `ping`. No other
   * callback says a ping went unanswered: the caller keeps the deadline (fleet/keepalive.ts).
   */
  onPingResponse?(dev: number): void;
}

export interface TelemetrySpec {
  /** Payload size in bytes. */
  size: number;
  qos: 0 | 1;
}

/**
 * Callbacks of fleet operations (OTA downloads, state reports, answers and logs): behaviours
 * receive them through `DeviceDriver.attachFleetOps`. Same rules as DriverEvents.
 */
export interface FleetOpsEvents {
  /**
   * One artifact range request ended. `status`: 206/200, an HTTP error, or a pseudo-status below
   * 100 (a connection cut mid-body is NET_RESET); `bytes` is the body bytes received either way (a
   * cut download keeps what arrived and resumes from there). `totalBytes`: the artifact's whole
   * size when the answer says it (Content-Range), -1 otherwise; a device offered an artifact of
   * unknown size (size 0) learns it here.
   */
  onDownloadChunk(dev: number, status: number, bytes: number, retryAfterMs: number, totalBytes?: number): void;
  /** A state report was answered (2xx, an HTTP error, or a pseudo-status below 100). */
  onStateReported(dev: number, status: number, retryAfterMs: number): void;
  /** A QoS 1 uplink (command reply, config ack, end-of-line report) was acknowledged; `token` as given. */
  onFleetPublishAcked(dev: number, token: number): void;
  /** The backend withdrew update `campaign` (aborted, cancelled, gone): the device stops it without reporting. */
  onUpdateWithdrawn?(dev: number, campaign: string): void;
}

/** Tokens of fleet uplinks start here, so their acks never reach the telemetry pipeline. */
export const FLEET_TOKEN_BASE = 0x40000000;

/** What device behaviour needs from a backend. One instance per shard. */
export interface DeviceDriver {
  readonly name: string;
  /**
   * True when the platform's devices poll their target state as soon as their session comes up
   * (Preset.pollOnConnect): the fleet then polls once on each successful connect. Absent: false.
   */
  readonly pollsOnConnect?: boolean;
  /**
   * True when polls and state reports travel on the device's MQTT session (AWS IoT's reserved
   * topics) rather than HTTP: a request still on its way up when the device closes its session
   * ends with it (fleet/linked-driver.ts). Absent: false.
   */
  readonly requestsOnSession?: boolean;
  /** Provision device `dev` (serial is stable across runs and shards). */
  provision(dev: number, serial: string): void;
  /** Open the device's MQTT session with the credentials provisioning returned. */
  connect(dev: number): void;
  /**
   * Publish one telemetry message with sequence number `seq`, scheduled for `scheduledAtMs`.
   * Returns false (and calls nothing back) when the device has no open session; the caller keeps
   * the message. For QoS 1 exactly one of `onTelemetryAcked(dev, token)` or the session's
   * `onConnectionLost(dev)` follows; for QoS 0 nothing follows. `payload`: the message's bytes
   * when the fleet fills them from a template (valid during this call only: a transport that
   * keeps them copies them); absent, the preset makes a payload of `spec.size` bytes.
   */
  publishTelemetry(dev: number, seq: number, scheduledAtMs: number, spec: TelemetrySpec, token: number, payload?: Buffer): boolean;
  /** Poll the device's target state. Exactly one `onPolled` follows. */
  pollTarget(dev: number): void;
  /** Close the device's MQTT session gracefully (DISCONNECT). No `onConnectionLost` follows. */
  disconnect(dev: number): void;
  /**
   * Sends one PINGREQ on the device's session (MQTT 3.1.1 §3.12): the device's keepalive, which
   * the caller drives. Returns false (and calls nothing back) when the device has no open session.
   * At most one `onPingResponse(dev)` follows, when the PINGRESP arrives; none when the session
   * is lost or the backend never answers (the caller's keepalive deadline decides then).
   */
  ping(dev: number): boolean;
  /** Where fleet-operation callbacks go (set once, before the run starts). */
  attachFleetOps(events: FleetOpsEvents): void;
  /** Starts a new artifact download for `dev`: forgets the bytes (and digest) of any earlier one. */
  beginArtifact(dev: number): void;
  /**
   * Fetches bytes [offset, offset + length) of `artifact` (one HTTP Range request, streamed
   * and hashed, never buffered whole). Exactly one `onDownloadChunk` follows.
   */
  downloadChunk(dev: number, artifact: OfferedArtifact, offset: number, length: number): void;
  /** True when the bytes received since `beginArtifact` hash to `sha256` (the modelled backend decides by its fault draw). */
  verifyArtifact(dev: number, sha256: string): boolean;
  /**
   * What the artifact `verifyArtifact` just passed says it replaces ('os': the device reboots to
   * apply it), for platforms whose offer does not say but whose artifact does (Mender: the payload
   * type in its header). Undefined, or absent: the offer's target holds.
   */
  artifactTarget?(dev: number): 'app' | 'os' | undefined;
  /** Reports the device's state (one HTTP request); exactly one `onStateReported` follows. */
  reportState(dev: number, report: DeviceStateReport): void;
  /**
   * Device -> backend messages on the MQTT session. Each returns false (nothing follows) without a
   * session. The first three are QoS 1: exactly one of `onFleetPublishAcked(dev, token)` or the
   * session's loss follows. Logs are QoS 0: nothing follows.
   */
  replyCommand(dev: number, command: DeviceCommand, ok: boolean, token: number): boolean;
  ackConfig(dev: number, version: number, token: number): boolean;
  reportEndOfLine(dev: number, ok: boolean, token: number): boolean;
  /** One shipment of `lines` copies of `line`, after `suppressed` lines were dropped (0: none). */
  shipLogs(dev: number, suppressed: number, line: string, lines: number): boolean;
  /** Close every session and connection pool; resolves when all sockets are closed. */
  close(): Promise<void>;
}

/** Callbacks an MQTT transport makes. Same rules as DriverEvents. */
export interface MqttTransportEvents {
  onConnect(dev: number, ok: boolean, code: number): void;
  onPublishAck(dev: number, token: number): void;
  /** `cause`: one of the LOST_* constants. */
  onConnectionLost(dev: number, reason: string, cause: number): void;
  onMessage?(dev: number, topic: string, payload: Buffer): void;
  /** A PINGRESP arrived on the device's session (whoever sent the PINGREQ it answers). */
  onPingResponse?(dev: number): void;
}

export interface MqttConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  /** Keepalive in seconds (0 = off), sent in CONNECT: the broker closes the session after 1.5 of it without a packet (MQTT 3.1.1 §3.1.2.10). */
  keepalive: number;
  /**
   * The caller sends the session's PINGREQs (`ping`) and keeps its own PINGRESP deadline: the
   * transport runs no keepalive timer of its own for this session (it would ping twice), while
   * CONNECT still carries `keepalive` so the broker enforces it.
   */
  callerPings?: boolean;
  /** Local address to bind the socket to (spreads connections over source addresses). */
  localAddress?: string;
  /** Client certificate for mutual TLS (mqtts:// only). */
  identity?: ClientIdentity;
  /**
   * Topics to subscribe to without waiting for CONNACK (MQTT 3.1.1 §3.1, 5.0 §3.1.4: a client may
   * send further packets right after CONNECT). The lean transport writes CONNECT and these
   * SUBSCRIBEs in one write; mqtt.js subscribes when CONNACK arrives. A refused CONNECT takes them
   * with it (the broker closes the connection and discards them): the connect's onConnect reports
   * the refusal and nothing reports the subscriptions, as with `subscribe` on a session that fell.
   */
  subscribe?: readonly MqttSubscription[];
}

/** One topic filter subscribed to with a session's CONNECT (MqttConnectOptions.subscribe). */
export interface MqttSubscription {
  readonly topic: string;
  readonly qos: 0 | 1;
}

/** A pool of MQTT client sessions, one per device, over one broker URL. */
export interface MqttTransport {
  readonly name: string;
  connect(dev: number, opts: MqttConnectOptions): void;
  /**
   * Returns false when `dev` has no open session. QoS 1: exactly one onPublishAck or onConnectionLost
   * follows. `payload` may be a buffer the caller reuses: a transport that keeps it past the call copies it.
   */
  publish(dev: number, topic: string, payload: Buffer, qos: 0 | 1, token: number): boolean;
  subscribe(dev: number, topic: string, qos: 0 | 1): void;
  disconnect(dev: number): void;
  /** Writes one PINGREQ on the device's session; false without an open session. A PINGRESP calls `onPingResponse`. */
  ping(dev: number): boolean;
  isConnected(dev: number): boolean;
  /** Open sessions right now. */
  connectedCount(): number;
  close(): Promise<void>;
}

export interface MqttTransportFactoryOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  /** Upper bound of device indices this transport will see (sizes its typed arrays). */
  devices: number;
  /** Milliseconds to wait for CONNACK before failing the connect with code -1. */
  connectTimeoutMs: number;
  /** TLS settings for mqtts:// (trust, SNI, verification). */
  tls?: TlsSettings;
}

/** Which MQTT client implementation to use: mqtt.js, or fleetsim's lean client (the scenario default). */
export type MqttClientKind = 'mqttjs' | 'lean';

/**
 * Callbacks an HTTP transport makes. Same rules as DriverEvents: never synchronous from inside
 * `request`, and exactly one per request (a timeout answers first and the late outcome is dropped).
 */
export interface HttpTransportEvents {
  /**
   * `status` below 100 = a pseudo-status (NET_*, CANCELLED; then `body` is ''). `retryAfterMs` comes
   * from a Retry-After header (seconds or HTTP date), NO_RETRY_AFTER when absent or unreadable.
   * `etag` is the response's ETag header.
   */
  onHttpResponse(dev: number, op: number, status: number, body: string, retryAfterMs: number, etag: string | undefined): void;
}

/** HTTP/1.1 requests on behalf of devices, over a shared pool or one connection per device. */
export interface HttpTransport {
  /**
   * Starts one request; `op` is the caller's tag, handed back in onHttpResponse. `path` is
   * relative to the transport's base URL. `body` is sent as application/json unless `headers`
   * (flat name, value pairs) sets a content-type.
   */
  request(
    dev: number,
    op: number,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    path: string,
    authorization: string | undefined,
    body: string | undefined,
    ifNoneMatch?: string,
    headers?: readonly string[],
  ): void;
  /** Requests started and not yet answered. */
  inFlight(): number;
  /** Aborts what is in flight (each answered with CANCELLED) and closes every connection. */
  close(): Promise<void>;
}

/** Which HTTP/1.1 client implementation to use: undici, or fleetsim's lean client. */
export type HttpClientKind = 'undici' | 'lean';

export interface HttpTransportOptions {
  /** http://host:port (no path). */
  baseUrl: string;
  /** The client implementation (default 'undici'). */
  client?: HttpClientKind;
  /** 'pooled': one shared pool of `poolSize` connections; 'per-device': one keep-alive connection per device. */
  connections: 'pooled' | 'per-device';
  poolSize: number;
  /** Upper bound of device indices this transport will see. */
  devices: number;
  /** Whole-request timeout in milliseconds, counted from `request` (queueing included). */
  timeoutMs: number;
  /** TLS settings for https:// (trust, SNI, verification); undici caches TLS sessions per origin for resumption. */
  tls?: TlsSettings;
}
