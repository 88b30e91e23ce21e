import { normalQuantile, uniform32 } from '../../models/rng.js';
import type { DeviceDriver, DeviceStateReport, DriverEvents, FleetOpsEvents, TelemetrySpec } from '../types.js';
import type { OperatorPlan } from '../../wire/operator-plan.js';
import { FleetModel } from './fleet-model.js';
import { latencyAt, latencyTable, OP_INDEX, OPS, queueFactor, type BackendModelSpec, type OperationModel } from './backend-model.js';

/** The model driver's own event kinds, in a range the shard runtime routes back to it. */
export const MODEL_EVENT_BASE = 100;
const K_PROVISION = MODEL_EVENT_BASE;
const K_CONNECT = MODEL_EVENT_BASE + 1;
const K_ACK = MODEL_EVENT_BASE + 2;
const K_POLL = MODEL_EVENT_BASE + 3;
/** Without a fleet model, fleet operations still answer (404: no such thing on this backend). */
const K_NO_FLEET_CHUNK = MODEL_EVENT_BASE + 4;
const K_NO_FLEET_STATE = MODEL_EVENT_BASE + 5;

/** The part of the scheduler the model needs (drivers never import engine/). */
export interface ModelClock {
  now(): number;
  at(timeMs: number, dev: number, kind: number): void;
}

/** RNG streams of the model, apart from the device streams in models/rng.ts. */
const STREAM_BASE = 1000;

/**
 * A DeviceDriver with no sockets: every operation completes after a modelled latency, as an event
 * on the shard's own virtual scheduler. Per device it keeps only typed-array state: whether a
 * session is open, the outcome of its pending operation, and a FIFO of QoS 1 tokens awaiting
 * their ack (acks on one session arrive in order, as on a real MQTT connection).
 */
export class ModelDriver implements DeviceDriver {
  readonly name = 'model';
  private readonly session: Uint8Array;
  /** Outcome of the device's pending HTTP request and of its pending MQTT connect (they may overlap). */
  private readonly pendingHttp: Int32Array;
  private readonly pendingConnect: Int32Array;
  private readonly draws: Uint32Array;
  private readonly lastAckAt: Float64Array;
  /** Token FIFO per device as linked nodes in typed arrays. */
  private nodeToken = new Int32Array(1024);
  private nodeNext = new Int32Array(1024);
  private nodeAt = new Float64Array(1024);
  private freeNodes: number[] = [];
  private nodesUsed = 0;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  private readonly ops: OperationModel[];
  private readonly latency: Float64Array[];
  /** Operations started in the current window, per op (read by the runtime for the fleet-wide load). */
  readonly windowOps = new Float64Array(OPS.length);
  /** Queue inflation per op for the current window (set from the previous window's fleet-wide load). */
  private readonly factor = new Float64Array(OPS.length).fill(1);

  constructor(
    spec: BackendModelSpec,
    devices: number,
    private readonly firstDevice: number,
    private readonly seed: number,
    private readonly clock: ModelClock,
    private readonly events: DriverEvents,
  ) {
    this.ops = OPS.map((o) => spec[o]);
    this.latency = this.ops.map((o) => latencyTable(o, normalQuantile));
    this.session = new Uint8Array(devices);
    this.pendingHttp = new Int32Array(devices);
    this.pendingConnect = new Int32Array(devices);
    this.draws = new Uint32Array(devices);
    this.lastAckAt = new Float64Array(devices);
    this.head = new Int32Array(devices).fill(-1);
    this.tail = new Int32Array(devices).fill(-1);
  }

  /** True when some operation has a finite capacity: only then does load couple the shards. */
  get loadCoupled(): boolean {
    return this.ops.some((o) => Number.isFinite(o.capacityPerSec));
  }

  /** Sets queue inflation from last window's fleet-wide operation counts over `windowMs`. */
  setLoad(fleetOps: ArrayLike<number>, windowMs: number): void {
    for (let i = 0; i < this.ops.length; i++) {
      const cap = this.ops[i].capacityPerSec;
      this.factor[i] = Number.isFinite(cap) ? queueFactor(fleetOps[i] / ((cap * windowMs) / 1000)) : 1;
    }
    this.windowOps.fill(0);
  }

  private u(dev: number, k: number): number {
    return uniform32(this.seed, this.firstDevice + dev, STREAM_BASE + k, this.draws[dev]++);
  }

  /** Latency of one operation for `dev`, and whether it fails. Returns a negative latency on failure. */
  private draw(dev: number, op: number): number {
    this.windowOps[op]++;
    const m = this.ops[op];
    const latency = latencyAt(this.latency[op], this.u(dev, 1)) * this.factor[op];
    const failed = m.failure > 0 && this.u(dev, 3) < m.failure;
    return failed ? -latency : latency;
  }

  provision(dev: number, _serial: string): void {
    const l = this.draw(dev, OP_INDEX.provision);
    this.pendingHttp[dev] = l < 0 ? 503 : 201;
    this.clock.at(this.clock.now() + Math.abs(l), dev, K_PROVISION);
  }

  connect(dev: number): void {
    const l = this.draw(dev, OP_INDEX.connect);
    this.pendingConnect[dev] = l < 0 ? 3 : 0; // CONNACK 3: server unavailable
    this.clock.at(this.clock.now() + Math.abs(l), dev, K_CONNECT);
  }

  publishTelemetry(dev: number, _seq: number, _scheduledAtMs: number, spec: TelemetrySpec, token: number): boolean {
    if (!this.session[dev]) return false;
    if (spec.qos === 0) {
      this.windowOps[OP_INDEX.publish]++;
      return true;
    }
    const l = this.draw(dev, OP_INDEX.publish);
    if (l < 0) {
      // A lost PUBACK ends the session (the device's keepalive would notice): modelled at once.
      this.session[dev] = 0;
      this.clearTokens(dev);
      this.clock.at(this.clock.now() + Math.abs(l), dev, K_CONNECT + 0x10);
      return true;
    }
    const at = Math.max(this.lastAckAt[dev], this.clock.now() + l);
    this.lastAckAt[dev] = at;
    this.pushToken(dev, token, at);
    this.clock.at(at, dev, K_ACK);
    return true;
  }

  pollTarget(dev: number): void {
    const l = this.draw(dev, OP_INDEX.poll);
    this.pendingHttp[dev] = l < 0 ? 503 : 304;
    this.clock.at(this.clock.now() + Math.abs(l), dev, K_POLL);
  }

  disconnect(dev: number): void {
    this.session[dev] = 0;
    this.clearTokens(dev);
    this.fleet?.onSessionDown(dev);
  }

  // --- fleet operations (drivers/model/fleet-model.ts) ---

  /** The modelled backend's fleet operations, when the run has an operator plan. */
  fleet: FleetModel | undefined;
  private fleetEvents: FleetOpsEvents | undefined;

  /** Plays `plan` as the backend would; device ranks come from their serials `<prefix>-<global index>`. */
  enableFleetOps(plan: OperatorPlan, serialPrefix: string): FleetModel {
    this.fleet = new FleetModel(plan, this.session.length, this.firstDevice, serialPrefix, {
      now: () => this.clock.now(),
      at: (t, dev, kind) => this.clock.at(t, dev, kind),
      latency: (dev, kind) => Math.abs(this.draw(dev, kind === 0 ? OP_INDEX.poll : OP_INDEX.publish)),
      online: (dev) => this.session[dev] === 1,
    }, this.events);
    if (this.fleetEvents) this.fleet.attach(this.fleetEvents);
    return this.fleet;
  }

  attachFleetOps(events: FleetOpsEvents): void {
    this.fleetEvents = events;
    this.fleet?.attach(events);
  }

  beginArtifact(_dev: number): void {
    // No bytes flow in the model: the digest is decided by the fault draw in verifyArtifact.
  }

  downloadChunk(dev: number, _name: string, _offset: number, length: number): void {
    if (this.fleet) this.fleet.downloadChunk(dev, length);
    else this.clock.at(this.clock.now(), dev, K_NO_FLEET_CHUNK);
  }

  verifyArtifact(dev: number, _sha256: string): boolean {
    return this.fleet?.verify(dev) ?? true;
  }

  reportState(dev: number, report: DeviceStateReport): void {
    if (this.fleet) this.fleet.reportState(dev, report);
    else this.clock.at(this.clock.now(), dev, K_NO_FLEET_STATE);
  }

  publishFleet(dev: number, channel: 'responses' | 'logs', payload: string, qos: 0 | 1, token: number): boolean {
    if (!this.session[dev]) return false;
    return this.fleet ? this.fleet.publish(dev, channel, payload, qos, token) : qos === 0;
  }

  async close(): Promise<void> {
    this.session.fill(0);
  }

  /** True for the event kinds this driver scheduled. */
  owns(kind: number): boolean {
    return kind >= MODEL_EVENT_BASE;
  }

  /** Completes an operation: called by the runtime's dispatch for the kinds this driver owns. */
  handle(kind: number, dev: number): void {
    switch (kind) {
      case K_PROVISION:
        return this.events.onProvisioned(dev, this.pendingHttp[dev], 0);
      case K_CONNECT: {
        const ok = this.pendingConnect[dev] === 0;
        if (ok) this.session[dev] = 1;
        this.events.onConnected(dev, ok, this.pendingConnect[dev]);
        if (ok && this.session[dev]) this.fleet?.onSessionUp(dev);
        return;
      }
      case K_CONNECT + 0x10:
        return this.events.onConnectionLost(dev, 'modelled: publish not acknowledged');
      case K_ACK: {
        // Ack events of a closed session still fire; they find the head not yet due and do
        // nothing. Ack times never decrease per device (lastAckAt survives sessions), so a
        // stale event can never take a newer message's ack early.
        const n = this.head[dev];
        if (n < 0 || this.nodeAt[n] > this.clock.now()) return;
        const token = this.popToken(dev);
        if (this.session[dev]) this.events.onTelemetryAcked(dev, token);
        return;
      }
      case K_POLL: {
        const st = this.pendingHttp[dev];
        const body = st === 304 ? this.fleet?.pollBody(dev) : undefined;
        return this.events.onPolled(dev, body === undefined ? st : 200, 0, body);
      }
      case K_NO_FLEET_CHUNK:
        return this.fleetEvents?.onDownloadChunk(dev, 404, 0);
      case K_NO_FLEET_STATE:
        return this.fleetEvents?.onStateReported(dev, 404);
      default:
        if (this.fleet?.owns(kind)) this.fleet.handle(kind, dev);
    }
  }

  private pushToken(dev: number, token: number, at: number): void {
    let n: number;
    if (this.freeNodes.length > 0) n = this.freeNodes.pop()!;
    else {
      if (this.nodesUsed === this.nodeToken.length) {
        const t = new Int32Array(this.nodeToken.length * 2);
        t.set(this.nodeToken);
        this.nodeToken = t;
        const x = new Int32Array(this.nodeNext.length * 2);
        x.set(this.nodeNext);
        this.nodeNext = x;
        const a = new Float64Array(this.nodeAt.length * 2);
        a.set(this.nodeAt);
        this.nodeAt = a;
      }
      n = this.nodesUsed++;
    }
    this.nodeToken[n] = token;
    this.nodeAt[n] = at;
    this.nodeNext[n] = -1;
    if (this.tail[dev] >= 0) this.nodeNext[this.tail[dev]] = n;
    else this.head[dev] = n;
    this.tail[dev] = n;
  }

  private popToken(dev: number): number {
    const n = this.head[dev];
    if (n < 0) return -1;
    this.head[dev] = this.nodeNext[n];
    if (this.head[dev] < 0) this.tail[dev] = -1;
    this.freeNodes.push(n);
    return this.nodeToken[n];
  }

  private clearTokens(dev: number): void {
    while (this.popToken(dev) >= 0) {
      // Drop: the session that would have acked them is gone; the lifecycle fails them.
    }
  }
}
