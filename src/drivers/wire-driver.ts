import { createHttpTransport } from './http/index.js';
import { createMqttTransport } from './mqtt/index.js';
import type { WirePreset } from './presets/reference.js';
import { ArtifactFetcher } from './http/artifact-fetch.js';
import {
  BAD_RESPONSE,
  FLEET_TOKEN_BASE,
  NO_RETRY_AFTER,
  type DeviceDriver,
  type DeviceStateReport,
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
  fleetKey: string;
  preset: WirePreset;
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
}

const OP_PROVISION = 1;
const OP_POLL = 2;
const OP_STATE = 3;

/**
 * The real-socket DeviceDriver: HTTP (undici) for provisioning and polls, MQTT for the session
 * and telemetry, glued by a preset that knows the wire format. Per-device credentials live in
 * sparse arrays indexed by the shard-local device index and the poll ETag is remembered so that
 * an unchanged target answers 304, as a real agent would do.
 */
export class WireDriver implements DeviceDriver, HttpTransportEvents, MqttTransportEvents {
  readonly name = 'wire';
  private readonly http: HttpTransport;
  private readonly brokers: BrokerDevices[];
  private readonly ids: Array<string | undefined>;
  private readonly keys: Array<string | undefined>;
  private readonly etags: Array<string | undefined>;
  private fleet: FleetOpsEvents | undefined;
  private fetcher: ArtifactFetcher | undefined;

  constructor(private readonly opts: WireDriverOptions, private readonly events: DriverEvents) {
    this.ids = new Array(opts.devices);
    this.keys = new Array(opts.devices);
    this.etags = new Array(opts.devices);
    this.http = createHttpTransport(
      { client: opts.http.client, baseUrl: opts.httpUrl, connections: opts.http.connections, poolSize: opts.http.poolSize, devices: opts.devices, timeoutMs: opts.httpTimeoutMs, tls: opts.tls },
      this,
    );
    const urls = typeof opts.mqttUrl === 'string' ? [opts.mqttUrl] : opts.mqttUrl;
    const n = urls.length;
    const first = opts.firstDevice ?? 0;
    // Broker b serves the local devices dev = residue + k * n with (first + residue) mod n = b.
    this.brokers = urls.map((url, b) => new BrokerDevices(this, opts, url, n, (((b - first) % n) + n) % n));
  }

  provision(dev: number, serial: string): void {
    const { path, body } = this.opts.preset.provisionRequest(serial, this.opts.fleetKey);
    this.http.request(dev, OP_PROVISION, 'POST', path, undefined, body);
  }

  connect(dev: number): void {
    const id = this.ids[dev];
    const key = this.keys[dev];
    if (id === undefined || key === undefined) {
      // Not provisioned: report a refusal on a later tick, as the contract requires.
      setImmediate(() => this.events.onConnected(dev, false, 5));
      return;
    }
    const src = this.opts.sourceAddresses;
    this.mqttFor(dev).connect(this.slotOf(dev), {
      clientId: (this.opts.clientIdPrefix ?? '') + id,
      username: id,
      password: key,
      keepalive: this.opts.keepaliveSec,
      localAddress: src && src.length > 0 ? src[dev % src.length] : undefined,
      identity: this.opts.identities?.identityOf(dev),
    });
  }

  publishTelemetry(dev: number, seq: number, scheduledAtMs: number, spec: TelemetrySpec, token: number, templated?: Buffer): boolean {
    const id = this.ids[dev];
    const mqtt = this.mqttFor(dev);
    const slot = this.slotOf(dev);
    if (id === undefined || !mqtt.isConnected(slot)) return false;
    const payload = templated ?? this.opts.preset.telemetryPayload(seq, scheduledAtMs, spec.size);
    return mqtt.publish(slot, this.opts.preset.telemetryTopic(id), payload, spec.qos, token);
  }

  pollTarget(dev: number): void {
    const id = this.ids[dev];
    const key = this.keys[dev];
    if (id === undefined || key === undefined) {
      setImmediate(() => this.events.onPolled(dev, 401, NO_RETRY_AFTER));
      return;
    }
    this.http.request(dev, OP_POLL, 'GET', this.opts.preset.pollPath(id), this.opts.preset.authorization(key), undefined, this.etags[dev]);
  }

  disconnect(dev: number): void {
    this.mqttFor(dev).disconnect(this.slotOf(dev));
  }

  // --- fleet operations ---

  attachFleetOps(events: FleetOpsEvents): void {
    this.fleet = events;
  }

  private artifacts(): ArtifactFetcher {
    this.fetcher ??= new ArtifactFetcher(this.opts.httpUrl, this.opts.devices, this.opts.http.poolSize, this.opts.httpTimeoutMs * 6, {
      onChunk: (dev, status, bytes, retryAfterMs) => this.fleet?.onDownloadChunk(dev, status, bytes, retryAfterMs),
    }, this.opts.tls);
    return this.fetcher;
  }

  beginArtifact(dev: number): void {
    this.artifacts().begin(dev);
  }

  downloadChunk(dev: number, name: string, offset: number, length: number): void {
    const id = this.ids[dev];
    const key = this.keys[dev];
    if (id === undefined || key === undefined) {
      setImmediate(() => this.fleet?.onDownloadChunk(dev, 401, 0, NO_RETRY_AFTER));
      return;
    }
    const p = this.opts.preset;
    this.artifacts().fetch(dev, p.artifactPath(name), ['authorization', p.authorization(key), 'x-device-id', id], offset, length);
  }

  verifyArtifact(dev: number, sha256: string): boolean {
    return this.artifacts().verify(dev, sha256);
  }

  reportState(dev: number, report: DeviceStateReport): void {
    const id = this.ids[dev];
    const key = this.keys[dev];
    if (id === undefined || key === undefined) {
      setImmediate(() => this.fleet?.onStateReported(dev, 401, NO_RETRY_AFTER));
      return;
    }
    const p = this.opts.preset;
    this.http.request(dev, OP_STATE, 'PUT', p.statePath(id), p.authorization(key), JSON.stringify(report));
  }

  publishFleet(dev: number, channel: 'responses' | 'logs', payload: string, qos: 0 | 1, token: number): boolean {
    const id = this.ids[dev];
    const mqtt = this.mqttFor(dev);
    const slot = this.slotOf(dev);
    if (id === undefined || !mqtt.isConnected(slot)) return false;
    const p = this.opts.preset;
    const topic = channel === 'responses' ? p.responsesTopic(id) : p.logsTopic(id);
    return mqtt.publish(slot, topic, Buffer.from(payload), qos, FLEET_TOKEN_BASE + token);
  }

  async close(): Promise<void> {
    await Promise.all([...this.brokers.map((b) => b.transport.close()), this.http.close(), this.fetcher?.close()]);
  }

  connectedCount(): number {
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
    if (op === OP_PROVISION) {
      // 202: accepted but pending an operator's approval (manual provisioning); no credentials yet.
      if (status >= 200 && status < 300 && status !== 202) {
        const creds = this.opts.preset.parseProvision(body);
        if (!creds) {
          // 2xx with a body we cannot read: the backend answered garbage, neither success nor 5xx.
          this.events.onProvisioned(dev, BAD_RESPONSE, retryAfterMs);
          return;
        }
        this.ids[dev] = creds.deviceId;
        this.keys[dev] = creds.deviceKey;
      }
      this.events.onProvisioned(dev, status, retryAfterMs);
      return;
    }
    if (op === OP_STATE) {
      this.fleet?.onStateReported(dev, status, retryAfterMs);
      return;
    }
    if (op === OP_POLL) {
      if (status === 200 && !this.opts.preset.isTarget(body)) {
        // Not a target state: the device keeps its ETag and acts on nothing.
        this.events.onPolled(dev, BAD_RESPONSE, retryAfterMs);
        return;
      }
      if (status === 200 && etag !== undefined) this.etags[dev] = etag;
      this.events.onPolled(dev, status, retryAfterMs, status === 200 ? body : undefined);
    }
  }

  onConnect(dev: number, ok: boolean, code: number): void {
    // Fleet operations arrive as commands: subscribe before the device's behaviours hear it is online.
    const id = this.ids[dev];
    if (ok && this.fleet !== undefined && id !== undefined) this.mqttFor(dev).subscribe(this.slotOf(dev), this.opts.preset.commandsTopic(id), 1);
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
    this.events.onMessage?.(dev, topic, payload);
  }
}

/**
 * One broker's transport, sized for the shard's devices on that broker only. With N brokers,
 * device g (global) uses broker g mod N, so the shard's devices on broker b are the local indices
 * dev = residue + k * N, and the transport knows device dev as slot k = floor(dev / N): each
 * transport's per-device arrays hold ~devices / N entries, not `devices` (with 14 brokers that
 * was ~7.5 MB per shard process of arrays that were 13/14 unused). The transport's callbacks
 * come back with slots and are translated to shard-local indices here.
 */
class BrokerDevices implements MqttTransportEvents {
  readonly transport: MqttTransport;

  constructor(
    private readonly driver: MqttTransportEvents,
    opts: WireDriverOptions,
    url: string,
    private readonly stride: number,
    private readonly residue: number,
  ) {
    const devices = residue < opts.devices ? Math.ceil((opts.devices - residue) / stride) : 0;
    this.transport = createMqttTransport(opts.mqttClient, { url, devices, connectTimeoutMs: opts.connectTimeoutMs, tls: opts.tls }, this);
  }

  onConnect(slot: number, ok: boolean, code: number): void {
    this.driver.onConnect(slot * this.stride + this.residue, ok, code);
  }

  onPublishAck(slot: number, token: number): void {
    this.driver.onPublishAck(slot * this.stride + this.residue, token);
  }

  onConnectionLost(slot: number, reason: string): void {
    this.driver.onConnectionLost(slot * this.stride + this.residue, reason);
  }

  onMessage(slot: number, topic: string, payload: Buffer): void {
    this.driver.onMessage?.(slot * this.stride + this.residue, topic, payload);
  }
}
