import { createHttpTransport } from './http/index.js';
import { BrokerRoutes, type DeviceRange } from './mqtt/broker-devices.js';
import { ARTIFACT_TIMEOUT_FACTOR, ArtifactFetcher } from './http/artifact-fetch.js';
import { DeviceCredentialTable, Parked } from './device-credentials.js';
import { HttpPlatformSteps, onOrigin } from './http-platform-steps.js';
import type { DeviceCredentials, HttpRequestSpec, MqttIdentity, MqttUplink, Preset } from './preset.js';
import { CONNACK_NOT_AUTHORIZED, OP_ALSO, OP_POLL, OP_PROVISION, OP_REAUTH, OP_STATE, OP_TELEMETRY, WireAnswers, type WireRequests } from './wire-answers.js';
import { MqttRequests, type RequestSessions } from './mqtt-requests.js';
import {
  FLEET_TOKEN_BASE,
  NET_REFUSED,
  NO_HINT,
  NO_RETRY_AFTER,
  type DeviceCommand,
  type DeviceDriver,
  type DeviceStateReport,
  type OfferedArtifact,
  type DriverEvents,
  type FleetOpsEvents,
  type HttpClientKind,
  type HttpTransport,
  type MqttClientKind,
  type MqttTransport,
  type TelemetrySpec,
  type TlsSettings,
  type DeviceIdentitySource,
  type ClientIdentity,
  type MqttConnectOptions,
} from './types.js';

export interface WireDriverOptions {
  httpUrl: string;
  /** One broker URL, or several (local Mosquitto processes), each serving one of `brokerRanges`. */
  mqttUrl: string | readonly string[];
  /** With several broker URLs: the global device indices each serves, contiguous (drivers/mqtt/broker-devices.ts). */
  brokerRanges?: readonly DeviceRange[];
  /** Global index of local device 0. */
  firstDevice?: number;
  /** The backend's device API (built with the target's fleet key). */
  preset: Preset;
  devices: number;
  mqttClient: MqttClientKind;
  http: { client?: HttpClientKind; connections: 'pooled' | 'per-device'; poolSize: number };
  keepaliveSec: number;
  /**
   * The fleet drives each device session's keepalive (`ping`, fleet/keepalive.ts): the transports
   * run no keepalive timer of their own for device sessions. Default false: the transport pings.
   */
  callerPings?: boolean;
  /**
   * Device sessions send their subscriptions right after CONNECT, without waiting for CONNACK
   * (options.mqttPipelining; MQTT 3.1.1 §3.1). Default false: subscribe once CONNACK accepts.
   */
  mqttPipelining?: boolean;
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
  /** An answer over MQTT came after its timeout or carried an id nobody waits for (counted as mqtt.request.late). */
  onLateAnswer?: (dev: number) => void;
  /** A state report sent once more after its answer said so (Preset.retryReportStatuses). */
  onReportRetried?: (dev: number) => void;
}

/**
 * The real-socket DeviceDriver, generic over backends: HTTP (undici) and MQTT transports composed
 * with a Preset that knows the wire format (drivers/preset.ts). The driver keeps each device's
 * credentials (drivers/device-credentials.ts) and poll ETag, so an unchanged target answers 304
 * as a real agent would make it, and turns answers and messages into typed events through the
 * preset's decoders (drivers/wire-answers.ts): device behaviour never sees a body or a topic.
 */
export class WireDriver implements DeviceDriver, WireRequests, RequestSessions {
  readonly name = 'wire';
  readonly pollsOnConnect: boolean;
  readonly requestsOnSession: boolean;
  private readonly http: HttpTransport;
  private readonly brokers: BrokerRoutes | undefined;
  private readonly creds: DeviceCredentialTable;
  private readonly etags: Array<string | undefined>;
  private readonly preset: Preset;
  private readonly steps: HttpPlatformSteps;
  private readonly now: () => number;
  /** The incoming half: the transports' events go there. */
  private readonly answers: WireAnswers;
  /**
   * MQTT request/response: provisioning, polls and state reports with correlation ids (protocol
   * files), or every request over reserved topics (a preset with requestsOver 'mqtt').
   */
  private readonly mqttRequests: MqttRequests | undefined;
  private fetcher: ArtifactFetcher | undefined;

  constructor(private readonly opts: WireDriverOptions, private readonly events: DriverEvents) {
    this.preset = opts.preset;
    this.now = opts.now ?? Date.now;
    this.creds = new DeviceCredentialTable(opts.preset, opts.devices);
    this.steps = new HttpPlatformSteps(opts.preset, opts.devices);
    this.etags = new Array(opts.devices);
    this.pollsOnConnect = opts.preset.pollOnConnect === true;
    this.requestsOnSession = opts.preset.requestsOver === 'mqtt';
    this.answers = new WireAnswers(opts.preset, this.creds, this.steps, this.etags, events, this);
    if (opts.onReportRetried) this.answers.onReportRetried = opts.onReportRetried;
    this.answers.subscribeWithConnect = opts.mqttPipelining === true;
    this.http = createHttpTransport(
      { client: opts.http.client, baseUrl: opts.httpUrl, connections: opts.http.connections, poolSize: opts.http.poolSize, devices: opts.devices, timeoutMs: opts.httpTimeoutMs, tls: opts.tls },
      this.answers,
    );
    const urls = typeof opts.mqttUrl === 'string' ? [opts.mqttUrl] : opts.mqttUrl;
    const first = opts.firstDevice ?? 0;
    // A preset without MQTT (session 'none') opens no broker transport at all.
    this.brokers = this.steps.sessionless ? undefined : new BrokerRoutes(this.answers, opts, urls, { firstDevice: first, count: opts.devices }, opts.brokerRanges);
    const p = opts.preset;
    const topics = this.requestsOnSession ? { timeoutMs: opts.httpTimeoutMs, claimIdentity: (dev: number) => opts.identities?.identityOf(dev) } : undefined;
    if (!this.steps.sessionless && (p.mqttProvision || p.mqttPoll || p.stateUplink || topics)) {
      this.mqttRequests = new MqttRequests(p, opts.devices, first, this.creds, this.etags, this, events, this.answers, opts.onLateAnswer ?? (() => {}), topics);
      this.answers.mqttRequests = this.mqttRequests;
    }
  }

  provision(dev: number, serial: string): void {
    this.creds.rememberSerial(dev, serial);
    if (this.mqttRequests?.mqttProvision) return this.mqttRequests.provision(dev, serial);
    this.send(dev, OP_PROVISION, this.preset.provisionRequest(serial), undefined);
  }

  /** One request of `dev` as the preset specified it (its own authorization, else the device's), over HTTP or as an MQTT exchange. */
  send(dev: number, op: number, r: HttpRequestSpec, auth: string | undefined, ifNoneMatch?: string): void {
    if (this.preset.requestsOver === 'mqtt') return this.mqttRequests!.request(dev, op, r);
    this.http.request(dev, op, r.method, onOrigin(r.path), r.authorization ?? auth, r.body, ifNoneMatch, r.headers);
  }

  /**
   * True when `dev`'s credentials may be used now; false when they are being renewed (the request
   * waits, as `park` bit, for the renewal's end).
   */
  fresh(dev: number, park: number): boolean {
    const c = this.creds;
    // Credentials provisioned over MQTT are renewed only by a preset that says how (reauthRequest).
    if (!c.needsRenewal(dev, this.now()) || (this.preset.mqttProvision && !this.preset.reauthRequest)) return true;
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
    const identity = this.creds.identity(dev) ?? this.opts.identities?.identityOf(dev);
    const options = this.connectOptions(dev, this.preset.connectIdentity(creds), identity);
    // Only the device's own session: a provisioning session (MQTT requests) is short and pings nothing.
    options.callerPings = this.opts.callerPings === true;
    if (this.opts.mqttPipelining === true) options.subscribe = this.answers.sessionTopics(dev);
    this.mqttFor(dev).connect(this.slotOf(dev), options);
  }

  private connectOptions(dev: number, id: { clientId: string; username?: string; password?: string }, identity: ClientIdentity | undefined): MqttConnectOptions {
    const src = this.opts.sourceAddresses;
    return {
      clientId: (this.opts.clientIdPrefix ?? '') + id.clientId,
      username: id.username,
      password: id.password,
      keepalive: this.opts.keepaliveSec,
      localAddress: src && src.length > 0 ? src[dev % src.length] : undefined,
      identity,
    };
  }

  // --- RequestSessions: the device's transport slot, for drivers/mqtt-requests.ts ---

  connectSession(dev: number, id: MqttIdentity & { readonly tls?: ClientIdentity }): void {
    this.mqttFor(dev).connect(this.slotOf(dev), this.connectOptions(dev, id, id.tls));
  }

  publish(dev: number, m: MqttUplink, token: number): boolean {
    const payload = typeof m.payload === 'string' ? Buffer.from(m.payload) : m.payload;
    return this.mqttFor(dev).publish(this.slotOf(dev), m.topic, payload, m.qos ?? 1, token);
  }

  endSession(dev: number): void {
    this.mqttFor(dev).disconnect(this.slotOf(dev));
  }

  isConnected(dev: number): boolean {
    return this.mqttFor(dev).isConnected(this.slotOf(dev));
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
    if (this.preset.mqttPoll) return this.mqttRequests!.poll(dev, creds);
    const etag = this.etags[dev];
    this.send(dev, OP_POLL, this.preset.pollRequest(creds, etag, this.steps.release[dev]), this.creds.authorization(dev), this.preset.sendIfNoneMatch === false ? undefined : etag);
  }

  ping(dev: number): boolean {
    if (this.steps.sessionless) return false; // no MQTT session to keep alive
    return this.mqttFor(dev).ping(this.slotOf(dev));
  }

  disconnect(dev: number): void {
    if (this.steps.sessionless) return this.steps.setOnline(dev, false);
    this.mqttFor(dev).disconnect(this.slotOf(dev));
    this.mqttRequests?.disconnected(dev);
  }

  // --- fleet operations ---

  attachFleetOps(events: FleetOpsEvents): void {
    this.answers.fleet = events;
  }

  private get fleet(): FleetOpsEvents | undefined {
    return this.answers.fleet;
  }

  subscribe(dev: number, topic: string, qos: 0 | 1): void {
    this.mqttFor(dev).subscribe(this.slotOf(dev), topic, qos);
  }

  private artifacts(): ArtifactFetcher {
    this.fetcher ??= new ArtifactFetcher(this.opts.httpUrl, this.opts.devices, this.opts.http.poolSize, this.opts.httpTimeoutMs * ARTIFACT_TIMEOUT_FACTOR, {
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
      this.creds.parkedChunk.set(dev, { artifact, offset, length });
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

  artifactTarget(dev: number): 'app' | 'os' | undefined {
    return this.artifacts().targetOf(dev);
  }

  reportState(dev: number, report: DeviceStateReport): void {
    const creds = this.creds.of(dev);
    if (creds === undefined) {
      setImmediate(() => this.fleet?.onStateReported(dev, 401, NO_RETRY_AFTER));
      return;
    }
    if (!this.fresh(dev, Parked.state)) {
      this.creds.parkedReport.set(dev, report);
      return;
    }
    if (this.preset.stateUplink) {
      // Over MQTT: no session (or one report still unacknowledged) means the report cannot leave.
      if (!this.mqttRequests!.reportState(dev, this.preset.stateUplink(creds, report))) setImmediate(() => this.fleet?.onStateReported(dev, NET_REFUSED, NO_RETRY_AFTER));
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
    if (this.steps.sessionless || this.preset.logsRequest) return this.logsOverHttp(dev, suppressed, line, lines);
    const c = this.uplinkCreds(dev);
    return c !== undefined && this.publishUplink(dev, this.preset.logs(c, suppressed, line, lines), 0, 0);
  }

  /**
   * One log shipment as the preset's HTTP requests (balena's batches), all sent at once like QoS 0
   * logs: answers are counted, nothing follows on the device. False offline or without a log route.
   */
  private logsOverHttp(dev: number, suppressed: number, line: string, lines: number): boolean {
    const creds = this.creds.of(dev);
    if (creds === undefined || (this.steps.sessionless && !this.steps.isOnline(dev)) || this.preset.logsRequest === undefined) return false;
    const auth = this.creds.authorization(dev);
    for (const r of this.preset.logsRequest(creds, suppressed, line, lines)) this.send(dev, OP_ALSO, r, auth);
    return true;
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
    this.mqttRequests?.close();
    await Promise.all([...(this.brokers?.all ?? []).map((b) => b.transport.close()), this.http.close(), this.fetcher?.close()]);
  }

  /** The device's id on the backend once provisioned (tests and diagnostics). */
  deviceIdOf(dev: number): string | undefined {
    return this.creds.of(dev)?.deviceId;
  }

  connectedCount(): number {
    if (this.steps.sessionless) return this.steps.connectedCount();
    return (this.brokers?.all ?? []).reduce((n, b) => n + b.transport.connectedCount(), 0);
  }

  /** The transport of the broker device `dev` uses. */
  private mqttFor(dev: number): MqttTransport {
    return (this.brokers as BrokerRoutes).of(dev).transport;
  }

  /** Device `dev`'s index in its broker's transport (BrokerDevices). */
  private slotOf(dev: number): number {
    return dev - (this.brokers as BrokerRoutes).of(dev).offset;
  }
}
