import { createHttpTransport } from './http/index.js';
import { BrokerDevices } from './mqtt/broker-devices.js';
import { ArtifactFetcher } from './http/artifact-fetch.js';
import { DeviceCredentialTable, Parked } from './device-credentials.js';
import { HttpPlatformSteps, mergeAnswers } from './http-platform-steps.js';
import type { DeviceCredentials, HttpRequestSpec, MqttUplink, Preset, TargetAnswer } from './preset.js';
import {
  BAD_RESPONSE,
  FLEET_TOKEN_BASE,
  NO_HINT,
  NO_RETRY_AFTER,
  POLL_CHANGED,
  POLL_UNCHANGED,
  type DeviceCommand,
  type DeviceDriver,
  type DeviceStateReport,
  type OfferedArtifact,
  type DriverEvents,
  type FleetOpsEvents,
  type HttpClientKind,
  type HttpTransport,
  type HttpTransportEvents,
  type MqttClientKind,
  type MqttTransport,
  type MqttTransportEvents,
  type TelemetrySpec,
  type TlsSettings,
  type DeviceIdentitySource,
} from './types.js';

export interface WireDriverOptions {
  httpUrl: string;
  /** One broker URL, or several: device g uses broker g mod N (local Mosquitto processes). */
  mqttUrl: string | readonly string[];
  /** Global index of local device 0 (spreads devices over brokers the same way on every shard). */
  firstDevice?: number;
  /** The backend's device API (built with the target's fleet key). */
  preset: Preset;
  devices: number;
  mqttClient: MqttClientKind;
  http: { client?: HttpClientKind; connections: 'pooled' | 'per-device'; poolSize: number };
  keepaliveSec: number;
  connectTimeoutMs: number;
  httpTimeoutMs: number;
  /** Source addresses to spread MQTT sockets over (round-robin by device). */
  sourceAddresses?: readonly string[];
  /** Prefix of MQTT client ids when the target needs them unique across runs. */
  clientIdPrefix?: string;
  /** TLS for mqtts:// and https:// (trust, SNI, verification). */
  tls?: TlsSettings;
  /** Each device's client certificate for mutual TLS over MQTT. */
  identities?: DeviceIdentitySource;
  /** Epoch ms, for credential expiry (tests replace it). */
  now?: () => number;
}

const OP_PROVISION = 1;
const OP_POLL = 2;
const OP_STATE = 3;
const OP_REAUTH = 4;
/** A poll's follow-up GET (PlatformHooks.decodeFollow). */
const OP_FOLLOW = 5;
/** Requests a poll's answer asks for besides (config data, a cancel acknowledged): counted, not decoded. */
const OP_ALSO = 6;
/** Telemetry over HTTP (a sessionless preset); the token is kept per device (one in flight). */
const OP_TELEMETRY = 7;
/** CONNACK return codes that refuse the credentials: bad user name or password, not authorized. */
const CONNACK_BAD_CREDENTIALS = 4;
const CONNACK_NOT_AUTHORIZED = 5;

/**
 * The real-socket DeviceDriver, generic over backends: HTTP (undici) and MQTT transports composed
 * with a Preset that knows the wire format (drivers/preset.ts). The driver keeps each device's
 * credentials (drivers/device-credentials.ts) and poll ETag, so an unchanged target answers 304
 * as a real agent would make it, and turns answers and messages into typed events through the
 * preset's decoders: device behaviour never sees a body or a topic.
 */
export class WireDriver implements DeviceDriver, HttpTransportEvents, MqttTransportEvents {
  readonly name = 'wire';
  private readonly http: HttpTransport;
  private readonly brokers: BrokerDevices[];
  private readonly creds: DeviceCredentialTable;
  private readonly etags: Array<string | undefined>;
  private readonly preset: Preset;
  private readonly steps: HttpPlatformSteps;
  private readonly now: () => number;
  private fleet: FleetOpsEvents | undefined;
  private fetcher: ArtifactFetcher | undefined;

  constructor(private readonly opts: WireDriverOptions, private readonly events: DriverEvents) {
    this.preset = opts.preset;
    this.now = opts.now ?? Date.now;
    this.creds = new DeviceCredentialTable(opts.preset, opts.devices);
    this.steps = new HttpPlatformSteps(opts.preset, opts.devices);
    this.etags = new Array(opts.devices);
    this.http = createHttpTransport(
      { client: opts.http.client, baseUrl: opts.httpUrl, connections: opts.http.connections, poolSize: opts.http.poolSize, devices: opts.devices, timeoutMs: opts.httpTimeoutMs, tls: opts.tls },
      this,
    );
    const urls = typeof opts.mqttUrl === 'string' ? [opts.mqttUrl] : opts.mqttUrl;
    const n = urls.length;
    const first = opts.firstDevice ?? 0;
    // Broker b serves the local devices dev = residue + k * n with (first + residue) mod n = b.
    // A preset without MQTT (session 'none') opens no broker transport at all.
    this.brokers = this.steps.sessionless ? [] : urls.map((url, b) => new BrokerDevices(this, { ...opts, url }, n, (((b - first) % n) + n) % n));
  }

  provision(dev: number, serial: string): void {
    this.creds.rememberSerial(dev, serial);
    this.send(dev, OP_PROVISION, this.preset.provisionRequest(serial), undefined);
  }

  /** One request of `dev` as the preset specified it (its own authorization, else the device's). */
  private send(dev: number, op: number, r: HttpRequestSpec, auth: string | undefined, ifNoneMatch?: string): void {
    this.http.request(dev, op, r.method, onOrigin(r.path), r.authorization ?? auth, r.body, ifNoneMatch, r.headers);
  }

  /**
   * True when `dev`'s credentials may be used now; false when they are being renewed (the request
   * waits, as `park` bit, for the renewal's end).
   */
  private fresh(dev: number, park: number): boolean {
    const c = this.creds;
    if (!c.needsRenewal(dev, this.now())) return true;
    c.parked[dev] |= park;
    if (c.startRenewal(dev)) {
      const current = c.of(dev)!;
      const serial = c.serial(dev) ?? current.deviceId;
      const p = this.preset;
      this.send(dev, OP_REAUTH, p.reauthRequest ? p.reauthRequest(current, serial) : p.provisionRequest(serial), c.authorization(dev));
    }
    return false;
  }

  connect(dev: number): void {
    const creds = this.creds.of(dev);
    if (creds === undefined) {
      // Not provisioned: report a refusal on a later tick, as the contract requires.
      setImmediate(() => this.events.onConnected(dev, false, CONNACK_NOT_AUTHORIZED));
      return;
    }
    if (!this.fresh(dev, Parked.connect)) return;
    if (this.steps.sessionless) {
      // No MQTT on this platform: the device is "online" for its HTTP requests at once.
      this.steps.setOnline(dev, true);
      setImmediate(() => this.events.onConnected(dev, true, 0));
      return;
    }
    const src = this.opts.sourceAddresses;
    const id = this.preset.connectIdentity(creds);
    this.mqttFor(dev).connect(this.slotOf(dev), {
      clientId: (this.opts.clientIdPrefix ?? '') + id.clientId,
      username: id.username,
      password: id.password,
      keepalive: this.opts.keepaliveSec,
      localAddress: src && src.length > 0 ? src[dev % src.length] : undefined,
      identity: this.opts.identities?.identityOf(dev),
    });
  }

  publishTelemetry(dev: number, seq: number, scheduledAtMs: number, spec: TelemetrySpec, token: number, templated?: Buffer): boolean {
    if (this.steps.sessionless) return this.telemetryOverHttp(dev, seq, scheduledAtMs, spec, token);
    const topic = this.creds.telemetryTopic(dev);
    const mqtt = this.mqttFor(dev);
    const slot = this.slotOf(dev);
    if (topic === undefined || !mqtt.isConnected(slot)) return false;
    const payload = templated ?? this.preset.telemetryPayload(seq, scheduledAtMs, spec.size);
    return mqtt.publish(slot, topic, payload, spec.qos, token);
  }

  pollTarget(dev: number): void {
    const creds = this.creds.of(dev);
    if (creds === undefined) {
      setImmediate(() => this.events.onPolled(dev, 401, NO_RETRY_AFTER, NO_HINT));
      return;
    }
    if (!this.fresh(dev, Parked.poll)) return;
    const etag = this.etags[dev];
    this.send(dev, OP_POLL, this.preset.pollRequest(creds, etag, this.steps.release[dev]), this.creds.authorization(dev), this.preset.sendIfNoneMatch === false ? undefined : etag);
  }

  disconnect(dev: number): void {
    if (this.steps.sessionless) return this.steps.setOnline(dev, false);
    this.mqttFor(dev).disconnect(this.slotOf(dev));
  }

  // --- fleet operations ---

  attachFleetOps(events: FleetOpsEvents): void {
    this.fleet = events;
  }

  private artifacts(): ArtifactFetcher {
    this.fetcher ??= new ArtifactFetcher(this.opts.httpUrl, this.opts.devices, this.opts.http.poolSize, this.opts.httpTimeoutMs * 6, {
      onChunk: (dev, status, bytes, retryAfterMs, totalBytes) => {
        this.creds.answered(dev, status);
        this.fleet?.onDownloadChunk(dev, status, bytes, retryAfterMs, totalBytes);
      },
    }, this.opts.tls);
    return this.fetcher;
  }

  beginArtifact(dev: number): void {
    this.artifacts().begin(dev, this.preset.artifactCheck?.());
  }

  downloadChunk(dev: number, artifact: OfferedArtifact, offset: number, length: number): void {
    const creds = this.creds.of(dev);
    if (creds === undefined) {
      setImmediate(() => this.fleet?.onDownloadChunk(dev, 401, 0, NO_RETRY_AFTER));
      return;
    }
    if (!this.fresh(dev, Parked.chunk)) {
      this.creds.parkedChunk[dev] = { artifact, offset, length };
      return;
    }
    const r = this.preset.artifactRequest(creds, artifact);
    const auth = r.authorization ?? this.creds.authorization(dev);
    const headers = auth === undefined ? [...(r.headers ?? [])] : ['authorization', auth, ...(r.headers ?? [])];
    this.artifacts().fetch(dev, r.path, headers, offset, length);
  }

  verifyArtifact(dev: number, sha256: string): boolean {
    return this.artifacts().verify(dev, sha256);
  }

  reportState(dev: number, report: DeviceStateReport): void {
    const creds = this.creds.of(dev);
    if (creds === undefined) {
      setImmediate(() => this.fleet?.onStateReported(dev, 401, NO_RETRY_AFTER));
      return;
    }
    if (!this.fresh(dev, Parked.state)) {
      this.creds.parkedReport[dev] = report;
      return;
    }
    const first = this.steps.startReport(dev, report, this.preset.stateReport(creds, report));
    // A step the platform has no request for is answered as done, on a later tick.
    if (first === undefined) setImmediate(() => this.fleet?.onStateReported(dev, 204, NO_RETRY_AFTER));
    else this.send(dev, OP_STATE, first, this.creds.authorization(dev));
  }

  /** One telemetry message as the preset's HTTP request; false (the device keeps it) offline or while one is in flight. */
  private telemetryOverHttp(dev: number, seq: number, scheduledAtMs: number, spec: TelemetrySpec, token: number): boolean {
    const s = this.steps;
    const creds = this.creds.of(dev);
    if (creds === undefined || !s.isOnline(dev) || s.telemetryToken[dev] >= 0) return false;
    const r = this.preset.telemetryRequest?.(creds, seq, scheduledAtMs, s.release[dev]);
    if (r === undefined) return false;
    s.telemetryToken[dev] = token;
    s.telemetryQos[dev] = spec.qos;
    s.parkedTelemetry[dev] = r;
    this.send(dev, OP_TELEMETRY, r, this.creds.authorization(dev));
    return true;
  }

  replyCommand(dev: number, command: DeviceCommand, ok: boolean, token: number): boolean {
    const c = this.uplinkCreds(dev);
    return c !== undefined && this.publishUplink(dev, this.preset.commandReply(c, command, ok), 1, token);
  }

  ackConfig(dev: number, version: number, token: number): boolean {
    const c = this.uplinkCreds(dev);
    return c !== undefined && this.publishUplink(dev, this.preset.configAck(c, version), 1, token);
  }

  reportEndOfLine(dev: number, ok: boolean, token: number): boolean {
    const c = this.uplinkCreds(dev);
    return c !== undefined && this.publishUplink(dev, this.preset.endOfLineReport(c, ok), 1, token);
  }

  shipLogs(dev: number, suppressed: number, line: string, lines: number): boolean {
    const c = this.uplinkCreds(dev);
    return c !== undefined && this.publishUplink(dev, this.preset.logs(c, suppressed, line, lines), 0, 0);
  }

  /** The device's credentials when it has a session to publish on. */
  private uplinkCreds(dev: number): DeviceCredentials | undefined {
    const c = this.creds.of(dev);
    return c !== undefined && !this.steps.sessionless && this.mqttFor(dev).isConnected(this.slotOf(dev)) ? c : undefined;
  }

  private publishUplink(dev: number, m: MqttUplink, qos: 0 | 1, token: number): boolean {
    const payload = typeof m.payload === 'string' ? Buffer.from(m.payload) : m.payload;
    return this.mqttFor(dev).publish(this.slotOf(dev), m.topic, payload, m.qos ?? qos, FLEET_TOKEN_BASE + token);
  }

  async close(): Promise<void> {
    await Promise.all([...this.brokers.map((b) => b.transport.close()), this.http.close(), this.fetcher?.close()]);
  }

  /** The device's id on the backend once provisioned (tests and diagnostics). */
  deviceIdOf(dev: number): string | undefined {
    return this.creds.of(dev)?.deviceId;
  }

  connectedCount(): number {
    if (this.steps.sessionless) return this.steps.connectedCount();
    return this.brokers.reduce((n, b) => n + b.transport.connectedCount(), 0);
  }

  /** The transport of the broker device `dev` uses. */
  private mqttFor(dev: number): MqttTransport {
    const b = this.brokers;
    return b.length === 1 ? b[0].transport : b[((this.opts.firstDevice ?? 0) + dev) % b.length].transport;
  }

  /** Device `dev`'s index in its broker's transport (BrokerDevices). */
  private slotOf(dev: number): number {
    const n = this.brokers.length;
    return n === 1 ? dev : Math.floor(dev / n);
  }

  // --- transport events ---

  onHttpResponse(dev: number, op: number, status: number, body: string, retryAfterMs: number, etag: string | undefined): void {
    switch (op) {
      case OP_PROVISION:
        return this.events.onProvisioned(dev, this.steps.provisionStatus(this.credentialAnswer(dev, status, body, false)), retryAfterMs);
      case OP_REAUTH:
        return this.reauthenticated(dev, this.credentialAnswer(dev, status, body, true), retryAfterMs);
      case OP_STATE:
        return this.reportAnswered(dev, status, retryAfterMs);
      case OP_POLL:
        this.creds.answered(dev, status);
        return this.polled(dev, status, body, retryAfterMs, etag);
      case OP_FOLLOW:
        this.creds.answered(dev, status);
        return this.followed(dev, status, body, retryAfterMs);
      case OP_ALSO:
        this.creds.answered(dev, status);
        return;
      case OP_TELEMETRY:
        return this.telemetryAnswered(dev, status);
    }
  }

  /** One request of a state report answered: the next one leaves, or the report is answered by this one. */
  private reportAnswered(dev: number, status: number, retryAfterMs: number): void {
    this.creds.answered(dev, status);
    const ok = status >= 200 && status < 300;
    const next = ok ? this.steps.nextOfReport(dev) : undefined;
    if (next !== undefined) return this.send(dev, OP_STATE, next, this.creds.authorization(dev));
    this.steps.dropReport(dev);
    this.fleet?.onStateReported(dev, status, retryAfterMs);
    const campaign = this.steps.reportCampaign[dev];
    if (this.steps.isGone(status) && campaign !== undefined) this.fleet?.onUpdateWithdrawn?.(dev, campaign);
  }

  /** Telemetry over HTTP answered: a 2xx acknowledges it; anything else ends the device's "session" (it keeps the message). */
  private telemetryAnswered(dev: number, status: number): void {
    const s = this.steps;
    this.creds.answered(dev, status);
    if (status >= 200 && status < 300) s.parkedTelemetry[dev] = undefined;
    else if (s.parkedTelemetry[dev] !== undefined && !this.fresh(dev, Parked.telemetry)) {
      // Refused for its credentials (an expired token): the same message goes again once renewed.
      return;
    }
    const token = s.telemetryToken[dev];
    s.telemetryToken[dev] = -1;
    s.parkedTelemetry[dev] = undefined;
    if (status >= 200 && status < 300) {
      if (s.telemetryQos[dev] === 1) this.events.onTelemetryAcked(dev, token);
      return;
    }
    if (!s.isOnline(dev)) return;
    s.setOnline(dev, false);
    this.events.onConnectionLost(dev, `telemetry answered ${status}`);
  }

  /**
   * Takes the credentials of a provisioning or renewal answer; returns the status to report
   * (BAD_RESPONSE for a 2xx whose body the preset cannot read: garbage, neither success nor 5xx).
   * 202 is "accepted, pending an operator's approval" (manual provisioning): no credentials yet.
   */
  private credentialAnswer(dev: number, status: number, body: string, renewal: boolean): number {
    if (status < 200 || status >= 300 || status === 202) return status;
    const p = this.preset;
    const serial = this.creds.serial(dev) ?? '';
    const current = this.creds.of(dev);
    const c = renewal && p.decodeReauth && current ? p.decodeReauth(body, current) : p.decodeProvision(body, serial);
    if (!c) return BAD_RESPONSE;
    this.creds.issue(dev, c);
    return status;
  }

  /** A renewal ended: the requests that waited for it leave now, or share its failure. */
  private reauthenticated(dev: number, status: number, retryAfterMs: number): void {
    const c = this.creds;
    c.endRenewal(dev);
    this.events.onReauthenticated?.(dev, status, retryAfterMs);
    const parked = c.parked[dev];
    c.parked[dev] = 0;
    const report = c.parkedReport[dev];
    const chunk = c.parkedChunk[dev];
    c.parkedReport[dev] = undefined;
    c.parkedChunk[dev] = undefined;
    const ok = status >= 200 && status < 300 && status !== 202;
    if (ok) {
      if (parked & Parked.connect) this.connect(dev);
      if (parked & Parked.poll) this.pollTarget(dev);
      if (report) this.reportState(dev, report);
      if (chunk) this.downloadChunk(dev, chunk.artifact, chunk.offset, chunk.length);
      const telemetry = this.steps.parkedTelemetry[dev];
      if (parked & Parked.telemetry && telemetry !== undefined) this.send(dev, OP_TELEMETRY, telemetry, this.creds.authorization(dev));
      return;
    }
    if (parked & Parked.telemetry) {
      // The renewal failed: the message is not retried here (that would renew again at once); the session ends with it.
      this.steps.parkedTelemetry[dev] = undefined;
      this.telemetryAnswered(dev, status);
    }
    if (parked & Parked.connect) this.events.onConnected(dev, false, CONNACK_NOT_AUTHORIZED);
    if (parked & Parked.poll) this.events.onPolled(dev, status, retryAfterMs, NO_HINT);
    if (report) this.fleet?.onStateReported(dev, status, retryAfterMs);
    if (chunk) this.fleet?.onDownloadChunk(dev, status, 0, retryAfterMs);
  }

  private polled(dev: number, status: number, body: string, retryAfterMs: number, etag: string | undefined): void {
    if (this.steps.isUnchanged(status)) {
      this.events.onPolled(dev, POLL_UNCHANGED, retryAfterMs, NO_HINT);
      return;
    }
    if (status !== 200) {
      this.events.onPolled(dev, this.preset.unchangedStatuses?.includes(status) ? POLL_UNCHANGED : status, retryAfterMs, NO_HINT);
      return;
    }
    const t = this.preset.decodePoll(body, this.etags[dev]);
    if (t === undefined) {
      // Not a target state: the device keeps its ETag and acts on nothing.
      this.events.onPolled(dev, BAD_RESPONSE, retryAfterMs, NO_HINT);
      return;
    }
    const tag = t.etag ?? etag;
    if (tag !== undefined) this.etags[dev] = tag;
    if (t.follow !== undefined && this.preset.decodeFollow !== undefined) {
      // The answer points further (hawkBit's deploymentBase): the poll is answered after that GET.
      this.steps.pendingAnswer[dev] = t;
      this.send(dev, OP_FOLLOW, t.follow, this.creds.authorization(dev));
      return;
    }
    this.deliver(dev, t, retryAfterMs);
  }

  private followed(dev: number, status: number, body: string, retryAfterMs: number): void {
    const first = this.steps.pendingAnswer[dev];
    this.steps.pendingAnswer[dev] = undefined;
    if (first === undefined) return;
    if (status !== 200) {
      // The follow-up failed: forget the ETag so the next poll reads the base again.
      this.etags[dev] = undefined;
      this.events.onPolled(dev, status, retryAfterMs, first.nextPollMs ?? NO_HINT);
      return;
    }
    const creds = this.creds.of(dev);
    const t = creds === undefined ? undefined : this.preset.decodeFollow!(body, creds);
    if (t === undefined) {
      this.etags[dev] = undefined;
      this.events.onPolled(dev, BAD_RESPONSE, retryAfterMs, NO_HINT);
      return;
    }
    this.deliver(dev, mergeAnswers(first, t), retryAfterMs);
  }

  /** A decoded answer to the device: the poll's outcome, then what it carries. */
  private deliver(dev: number, t: TargetAnswer, retryAfterMs: number): void {
    const auth = this.creds.authorization(dev);
    if (t.also !== undefined) for (const r of t.also) this.send(dev, OP_ALSO, r, auth);
    this.events.onPolled(dev, t.changed ? POLL_CHANGED : POLL_UNCHANGED, retryAfterMs, t.nextPollMs ?? NO_HINT);
    if (t.withdrawn !== undefined) this.fleet?.onUpdateWithdrawn?.(dev, t.withdrawn);
    if (!t.changed) return;
    if (t.update) this.events.onUpdateOffered?.(dev, t.update, 'poll');
    if (t.config) this.events.onConfigChanged?.(dev, t.config, 'poll');
  }

  onConnect(dev: number, ok: boolean, code: number): void {
    // Fleet operations arrive as commands: subscribe before the device's behaviours hear it is online.
    const creds = this.creds.of(dev);
    if (ok && this.fleet !== undefined && creds !== undefined) {
      for (const topic of this.preset.subscriptions(creds)) this.mqttFor(dev).subscribe(this.slotOf(dev), topic, this.preset.subscriptionQos ?? 1);
    }
    if (!ok && (code === CONNACK_BAD_CREDENTIALS || code === CONNACK_NOT_AUTHORIZED)) this.creds.refusedByBroker(dev);
    this.events.onConnected(dev, ok, code);
  }

  onPublishAck(dev: number, token: number): void {
    if (token >= FLEET_TOKEN_BASE) {
      this.fleet?.onFleetPublishAcked(dev, token - FLEET_TOKEN_BASE);
      return;
    }
    this.events.onTelemetryAcked(dev, token);
  }

  onConnectionLost(dev: number, reason: string): void {
    this.events.onConnectionLost(dev, reason);
  }

  onMessage(dev: number, topic: string, payload: Buffer): void {
    const m = this.preset.decodeMessage(topic, payload);
    if (m === undefined) return;
    if (m.kind === 'update') this.events.onUpdateOffered?.(dev, m.offer, 'push');
    else if (m.kind === 'config') this.events.onConfigChanged?.(dev, m.change, 'push');
    else this.events.onCommand?.(dev, m.command);
  }
}


/**
 * A path for the HTTP transport: links a backend hands out (hawkBit's `_links`) are absolute URLs
 * on the target's own origin; the transport takes the path and query.
 */
function onOrigin(pathOrUrl: string): string {
  if (!/^https?:\/\//i.test(pathOrUrl)) return pathOrUrl;
  const u = new URL(pathOrUrl);
  return u.pathname + u.search;
}
