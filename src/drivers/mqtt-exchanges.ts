import type { DeviceCredentialTable } from './device-credentials.js';
import type { HttpRequestSpec, Preset } from './preset.js';
import { BAD_RESPONSE, NET_RESET, NET_TIMEOUT, NO_RETRY_AFTER, type DriverEvents, type HttpTransportEvents, type MqttConnectOptions, type MqttTransport, type MqttTransportEvents, type ClientIdentity } from './types.js';

/** Ops of a device that may wait for an answer at once (the wire driver's OP_* are below this). */
const OPS = 8;
/** How often pending exchanges are checked against their deadline, ms. */
const SWEEP_EVERY_MS = 500;
/** Acks of request publishes carry this token: nothing waits for them (the answer is the message). */
export const EXCHANGE_TOKEN = 0x7ffffff0;

/** What the exchanges need of the wire driver: the device's transport and slot, and its connect options. */
export interface ExchangeHost {
  transport(dev: number): MqttTransport;
  slot(dev: number): number;
  connectOptions(dev: number, clientId: string, username: string | undefined, password: string | undefined, identity: ClientIdentity | undefined): MqttConnectOptions;
  claimIdentity(dev: number): ClientIdentity | undefined;
}

/**
 * Request/response over MQTT for presets with `requestsOver: 'mqtt'` (AWS IoT's reserved topics,
 * drivers/preset.ts): a request is a QoS 1 publish to its topic, its answer the next message on
 * `<topic>/accepted` or `<topic>/rejected`, handed to the wire driver's answers as if an HTTP
 * response (200, or the preset's status of the rejection). Provisioning runs on a session of its
 * own (the claim identity) through the preset's `provisionStep`s, and is closed before the device
 * connects as itself.
 *
 * Sits between the MQTT transports and the driver's answers: messages that answer a pending
 * exchange, and every event of a provisioning session, stop here; the rest go on.
 *
 * Memory: per device, one topic slot per op and a deadline (typed array); no timer per request
 * (one sweep while anything is pending). Concurrency: the shard's one thread.
 */
export class MqttExchanges implements MqttTransportEvents {
  private readonly pending: Array<string | undefined>;
  private readonly deadline: Float64Array;
  private readonly provisioning: Uint8Array;
  private readonly carried: Array<Readonly<Record<string, string>> | undefined>;
  private readonly serials: Array<string | undefined>;
  private inFlight = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly preset: Preset,
    devices: number,
    private readonly timeoutMs: number,
    private readonly creds: DeviceCredentialTable,
    private readonly host: ExchangeHost,
    private readonly answers: HttpTransportEvents & MqttTransportEvents,
    private readonly events: DriverEvents,
  ) {
    this.pending = new Array(devices * OPS);
    this.deadline = new Float64Array(devices * OPS);
    this.provisioning = new Uint8Array(devices);
    this.carried = new Array(devices);
    this.serials = new Array(devices);
  }

  /** Sends one request of `dev` over its session; answered (later) through onHttpResponse. */
  request(dev: number, op: number, r: HttpRequestSpec): void {
    const t = this.host.transport(dev);
    const slot = this.host.slot(dev);
    const i = dev * OPS + op;
    if (!t.publish(slot, r.path, Buffer.from(r.body ?? '{}'), 1, EXCHANGE_TOKEN)) {
      // No session to send on: answered as a connection that is gone, on a later tick.
      setImmediate(() => this.answers.onHttpResponse(dev, op, NET_RESET, '', NO_RETRY_AFTER, undefined));
      return;
    }
    if (this.pending[i] === undefined) this.inFlight++;
    this.pending[i] = r.path;
    this.deadline[i] = Date.now() + this.timeoutMs;
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
  }

  /** Opens the provisioning session of `dev` (claim identity); the steps follow from its answers. */
  provision(dev: number, serial: string): void {
    const id = this.preset.provisionIdentity!(serial);
    this.provisioning[dev] = 1;
    this.serials[dev] = serial;
    this.carried[dev] = {};
    this.host.transport(dev).connect(this.host.slot(dev), this.host.connectOptions(dev, id.clientId, id.username, id.password, this.host.claimIdentity(dev)));
  }

  private endProvisioning(dev: number, status: number): void {
    this.provisioning[dev] = 0;
    this.carried[dev] = undefined;
    this.forget(dev);
    this.host.transport(dev).disconnect(this.host.slot(dev));
    this.events.onProvisioned(dev, status, NO_RETRY_AFTER);
  }

  private forget(dev: number): void {
    for (let op = 0; op < OPS; op++) {
      const i = dev * OPS + op;
      if (this.pending[i] !== undefined) this.inFlight--;
      this.pending[i] = undefined;
    }
  }

  /** An answer of a provisioning request: the next step, the credentials, or the end. */
  private provisioned(dev: number, status: number, body: string): void {
    if (status !== 200) return this.endProvisioning(dev, status);
    const step = this.preset.provisionStep!(body, this.serials[dev] ?? '', this.carried[dev] ?? {});
    if (step === undefined) return this.endProvisioning(dev, BAD_RESPONSE);
    if ('credentials' in step) {
      this.creds.issue(dev, step.credentials);
      return this.endProvisioning(dev, status);
    }
    this.carried[dev] = step.carry;
    this.request(dev, 0, step.next);
  }

  private answer(dev: number, op: number, status: number, body: string): void {
    if (this.provisioning[dev] === 1) return this.provisioned(dev, status, body);
    this.answers.onHttpResponse(dev, op, status, body, NO_RETRY_AFTER, undefined);
  }

  /** Ends exchanges past their deadline with NET_TIMEOUT. */
  private sweep(): void {
    const now = Date.now();
    for (let i = 0; i < this.pending.length && this.inFlight > 0; i++) {
      if (this.pending[i] === undefined || this.deadline[i] > now) continue;
      this.pending[i] = undefined;
      this.inFlight--;
      this.answer(Math.floor(i / OPS), i % OPS, NET_TIMEOUT, '');
    }
    if (this.inFlight === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  // --- transport events ---

  onConnect(dev: number, ok: boolean, code: number): void {
    if (this.provisioning[dev] === 0) return this.answers.onConnect(dev, ok, code);
    if (!ok) {
      // The claim session was refused: 401 for refused credentials (CONNACK 4/5), 503 for unavailable, else a reset.
      this.provisioning[dev] = 0;
      this.events.onProvisioned(dev, code === 4 || code === 5 ? 401 : code === 3 ? 503 : NET_RESET, NO_RETRY_AFTER);
      return;
    }
    const t = this.host.transport(dev);
    for (const topic of this.preset.provisionSubscriptions ?? []) t.subscribe(this.host.slot(dev), topic, 1);
    this.request(dev, 0, this.preset.provisionRequest(this.serials[dev] ?? ''));
  }

  onPublishAck(dev: number, token: number): void {
    if (token !== EXCHANGE_TOKEN) this.answers.onPublishAck(dev, token);
  }

  onConnectionLost(dev: number, reason: string): void {
    if (this.provisioning[dev] === 1) return this.endProvisioning(dev, NET_RESET);
    // Requests waiting on the lost session are answered as reset, then the session's loss.
    for (let op = 0; op < OPS; op++) {
      const i = dev * OPS + op;
      if (this.pending[i] === undefined) continue;
      this.pending[i] = undefined;
      this.inFlight--;
      this.answers.onHttpResponse(dev, op, NET_RESET, '', NO_RETRY_AFTER, undefined);
    }
    this.answers.onConnectionLost(dev, reason);
  }

  onMessage(dev: number, topic: string, payload: Buffer): void {
    const slash = topic.lastIndexOf('/');
    const kind = topic.slice(slash + 1);
    if (kind === 'accepted' || kind === 'rejected') {
      const request = topic.slice(0, slash);
      for (let op = 0; op < OPS; op++) {
        const i = dev * OPS + op;
        if (this.pending[i] !== request) continue;
        this.pending[i] = undefined;
        this.inFlight--;
        const body = payload.toString('utf8');
        return this.answer(dev, op, kind === 'accepted' ? 200 : (this.preset.rejectedStatus?.(body) ?? 400), body);
      }
    }
    if (this.provisioning[dev] === 0) this.answers.onMessage?.(dev, topic, payload);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}
