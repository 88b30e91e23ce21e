import { BACKEND_OP_INDEX as OP, type BackendOp, type BackendOperation, type BackendSpec } from '../../models/backend-queue.js';
import {
  MQTT_NET_CODE_BASE,
  NET_RESET,
  LOST_CLOSED_BY_BROKER,
  LOST_KEEPALIVE_TIMEOUT,
  NO_HINT,
  NO_RETRY_AFTER,
  POLL_CHANGED,
  POLL_UNCHANGED,
  type DeviceCommand,
  type DeviceDriver,
  type DeviceStateReport,
  type DriverEvents,
  type FleetOpsEvents,
  type OfferedArtifact,
  type TelemetrySpec,
} from '../types.js';
import type { OperatorPlan } from '../../wire/operator-plan.js';
import { FLEET_MODEL_KIND_COUNT, FleetModel } from './fleet-model.js';
import { BackendDraws } from './backend-model.js';
import { REJECTED, SERVED, type StepAnswers, type StepArrivals } from './queued-requests.js';
import { FAULT_ANSWERED, FaultRoute, NOT_FAULTED, type ModelFaults, type ModelSessions } from './fault-model.js';
import { ModelBrokerKeepalive } from './broker-keepalive.js';
import { ModelDeviceRecords, ownSlots, type ModelDriverSlots } from './device-records.js';
import { RequestFaults } from './request-faults.js';
import type { AckLedger } from './ack-ledger.js';
import { ModelAcks } from './model-acks.js';
import type { ModelClock } from './model-clock.js';
import { FLEET_MODEL_OFFSET, K_ACK, K_BROKER_KEEPALIVE, K_CONNECT, K_FAULT_CUT, K_FAULT_EDGE, K_NO_FLEET_CHUNK, K_NO_FLEET_STATE, K_PINGRESP, K_POLL, K_PROVISION, K_PUBACK_LOST, MODEL_DRIVER_KIND_COUNT } from './model-event-kinds.js';

/**
 * A DeviceDriver with no sockets: every operation completes after a modelled latency, as an event
 * on the shard's own virtual scheduler. Per device it keeps only a few fields in the device
 * records: whether a session is open, the outcome of its pending operations, its draw counter and
 * the time of its latest ack (acks on one session arrive in order, as on a real MQTT connection).
 */
export class ModelDriver implements DeviceDriver {
  readonly name = 'model';
  /** The driver's fields of the device records (drivers/model/device-records.ts). */
  private readonly rec: ModelDeviceRecords;
  /** PUBACK times and the events that deliver them (model-acks.ts). */
  private readonly acks: ModelAcks;
  private readonly devices: number;
  /** First of the driver's event kinds (the K_* offsets are added to it). */
  private readonly kindBase: number;
  /** The modelled backend's operations and this shard's draws of them (drivers/model/backend-model.ts). */
  private readonly backend: BackendDraws;
  /** Fault phases against this backend on the session side (absent: none); the request side is in `requestFaults`. */
  private faults: ModelFaults | undefined;
  /** Requests a fault phase answered or delayed, or the backend turned away, and what their callbacks must hear. */
  private readonly requestFaults: RequestFaults;
  /** The broker's keepalive checks of the sessions, and PINGRESPs (drivers/model/broker-keepalive.ts). */
  private readonly keepalive: ModelBrokerKeepalive;

  constructor(
    spec: BackendSpec,
    devices: number,
    private readonly firstDevice: number,
    seed: number,
    private readonly clock: ModelClock,
    private readonly events: DriverEvents,
    slots: ModelDriverSlots = ownSlots(devices),
    /** The event kinds the driver may use: at least MODEL_DRIVER_KIND_COUNT of them (alone on a clock: from 0). */
    kinds: { readonly first: number; readonly count: number } = { first: 0, count: MODEL_DRIVER_KIND_COUNT },
  ) {
    if (kinds.count < MODEL_DRIVER_KIND_COUNT) throw new Error(`ModelDriver needs ${MODEL_DRIVER_KIND_COUNT} event kinds, was given ${kinds.count}`);
    this.kindBase = kinds.first;
    this.devices = devices;
    this.rec = new ModelDeviceRecords(devices, slots);
    this.backend = new BackendDraws(spec, firstDevice, seed, this.rec);
    this.requestFaults = new RequestFaults(this.rec, clock, this.kindBase, FLEET_MODEL_KIND_COUNT);
    this.keepalive = new ModelBrokerKeepalive(devices, clock, this.kindBase);
    this.acks = new ModelAcks(clock, this.rec, this.kindBase + K_ACK);
  }

  /**
   * Every ack a deferred event (model-acks.ts deferAll): for a caller whose acks reach only their
   * device. Fault phases and fleet operations act on sessions from outside their devices.
   */
  deferAcks(): void {
    if (this.faults !== undefined || this.fleet !== undefined) throw new Error('ModelDriver.deferAcks with fault phases or fleet operations');
    this.acks.deferAll();
  }

  /** Where acks are timed: the sender's in-flight bookkeeping (needed before any QoS 1 publish). */
  useAckLedger(ledger: AckLedger): void {
    this.acks.useLedger(ledger);
  }

  /** Plays fault phases against this backend: their edges become events of the driver's own. */
  useFaults(faults: ModelFaults): void {
    this.faults = faults;
    this.requestFaults.use(faults);
    this.keepalive.useFaults(faults);
    for (let e = 0; e < faults.edgeAt.length; e++) if (e === 0 || faults.edgeAt[e] !== faults.edgeAt[e - 1]) this.clock.at(faults.edgeAt[e], 0, this.kindBase + K_FAULT_EDGE);
  }

  /** Sessions as fault phases act on them. */
  private readonly sessions: ModelSessions = {
    open: (dev) => this.rec.session(dev),
    cut: (dev) => {
      this.rec.setSession(dev, false);
      this.fleet?.onSessionDown(dev);
      this.clock.at(this.clock.now(), dev, this.kindBase + K_FAULT_CUT);
    },
  };

  /** True when some operation queues at the fleet-wide backend: the shard then runs in lockstep steps (engine/shard/virtual.ts). */
  get queues(): boolean {
    return this.backend.requests !== undefined;
  }

  /** This step's requests to queueing operations, for the fleet-wide backend. */
  takeArrivals(): StepArrivals {
    return this.backend.requests!.arrivals();
  }

  /** The fleet-wide backend's answers to this step's requests (`shard`: this shard's index among all). */
  applyAnswers(a: StepAnswers, shard: number): void {
    this.backend.requests!.answer(a, shard, this.onAnswer);
  }

  /** The lockstep ended early (the run was stopped): what still waits is served at once, as by a free server. */
  answerAlone(): void {
    this.backend.requests?.answerAlone(this.onAnswer);
  }

  /**
   * A request to a queueing operation (backend-model.ts BackendDraws.enqueue), plus the latency a
   * fault phase added when `fault` says it delayed the request.
   */
  private enqueue(dev: number, op: number, tag: number, fault = NOT_FAULTED): void {
    this.requestFaults.holdDelayed(dev, op, fault);
    this.backend.enqueue(this.clock.now(), dev, op, tag);
  }

  /** The answer to a queued request (or to a fleet operation that does not queue): the device learns it at `doneAt`, or now if that has passed. */
  private readonly onAnswer = (dev: number, op: number, failed: boolean, tag: number, outcome: number, doneAt: number): void => {
    const at = Math.max(doneAt, this.clock.now()) + this.requestFaults.takeAdded(dev, op);
    const m = this.backend.ops[op];
    const served = outcome === SERVED;
    // A fleet uplink (command reply, config ack, end-of-line report) turned away gets no PUBACK, like telemetry below.
    if (tag < 0 && op === OP.publish && !served) return this.pubackLost(dev, at);
    if (tag < 0) return this.fleetAnswer(dev, m, -tag - 1, served && !failed, outcome, at);
    switch (op) {
      case OP.provision:
        this.rec.setPendingHttp(dev, !served ? this.requestFaults.turnedAway(dev, m, outcome) : failed ? 503 : 201);
        return this.clock.at(at, dev, this.kindBase + K_PROVISION);
      case OP.poll:
        this.rec.setPendingHttp(dev, !served ? this.requestFaults.turnedAway(dev, m, outcome) : failed ? 503 : 304);
        return this.clock.at(at, dev, this.kindBase + K_POLL);
      case OP.connect:
        // CONNACK 3, server unavailable, for a failure or a rejection (MQTT 3.1.1 has no Retry-After); a drop resets the connection.
        this.rec.setPendingConnect(dev, served && !failed ? 0 : served || outcome === REJECTED ? 3 : MQTT_NET_CODE_BASE - NET_RESET);
        return this.clock.at(at, dev, this.kindBase + K_CONNECT);
      case OP.publish: {
        if (!this.rec.session(dev)) return; // the session ended meanwhile: its messages were failed with it
        if (!served || failed) return this.pubackLost(dev, at); // failed, or turned away
        if (this.faults?.pubackLost(dev, doneAt, at) === true) return this.acks.never(tag);
        return this.acks.arrives(dev, tag, at);
      }
    }
  };

  /**
   * No PUBACK: the session ends (the device's keepalive would notice), as in publishTelemetry. Its
   * fleet uplinks still waiting for an ack get none, so the backend that turned one away never
   * books it as acknowledged (it counts it as rejected or dropped, engine/fleet-backend.ts).
   */
  private pubackLost(dev: number, at: number): void {
    if (!this.rec.session(dev)) return;
    this.rec.setSession(dev, false);
    this.fleet?.onSessionDown(dev);
    this.clock.at(at, dev, this.kindBase + K_PUBACK_LOST);
  }

  provision(dev: number, _serial: string): void {
    const fault = this.requestFaults.http(dev, FaultRoute.provision);
    if (fault === FAULT_ANSWERED) return this.requestFaults.answerHttp(dev, K_PROVISION);
    if (this.backend.queued[OP.provision]) return this.enqueue(dev, OP.provision, 0, fault);
    const l = this.backend.draw(dev, OP.provision);
    this.rec.setPendingHttp(dev, l < 0 ? 503 : 201);
    this.clock.at(this.clock.now() + Math.abs(l) + this.requestFaults.addedMs(fault), dev, this.kindBase + K_PROVISION);
  }

  connect(dev: number): void {
    if (this.requestFaults.answeredConnect(dev, K_CONNECT)) return;
    if (this.backend.queued[OP.connect]) return this.enqueue(dev, OP.connect, 0);
    const l = this.backend.draw(dev, OP.connect);
    this.rec.setPendingConnect(dev, l < 0 ? 3 : 0); // CONNACK 3: server unavailable
    this.clock.at(this.clock.now() + Math.abs(l), dev, this.kindBase + K_CONNECT);
  }

  publishTelemetry(dev: number, _seq: number, _scheduledAtMs: number, spec: TelemetrySpec, token: number): boolean {
    if (!this.rec.session(dev)) return false;
    this.keepalive.heard(dev);
    if (spec.qos === 0) return true;
    if (!this.acks.ready) throw new Error('ModelDriver: QoS 1 publish before useAckLedger');
    if (this.backend.queued[OP.publish]) {
      this.enqueue(dev, OP.publish, token);
      return true;
    }
    // drawInto, not draw: the latency stays a raw double (backend-model.ts); l is what draw returns.
    const failed = this.backend.drawInto(dev, OP.publish);
    const l = failed ? -this.backend.drawn[0] : this.backend.drawn[0];
    if (l < 0) {
      // A lost PUBACK ends the session: modelled at once. Its messages in flight get no ack; the
      // lifecycle fails them when it learns of the loss.
      this.pubackLost(dev, this.clock.now() + Math.abs(l));
      return true;
    }
    // A fault phase that drops the PUBACK (or swallows the PUBLISH) leaves the message unacknowledged; the session goes on.
    if (this.faults?.pubackLost(dev, this.clock.now(), this.clock.now() + l) === true) {
      this.acks.never(token);
      return true;
    }
    this.acks.arrives(dev, token, this.clock.now() + l);
    return true;
  }

  pollTarget(dev: number): void {
    const fault = this.requestFaults.http(dev, FaultRoute.poll);
    if (fault === FAULT_ANSWERED) return this.requestFaults.answerHttp(dev, K_POLL);
    if (this.backend.queued[OP.poll]) return this.enqueue(dev, OP.poll, 0, fault);
    const l = this.backend.draw(dev, OP.poll);
    this.rec.setPendingHttp(dev, l < 0 ? 503 : POLL_UNCHANGED);
    this.clock.at(this.clock.now() + Math.abs(l) + this.requestFaults.addedMs(fault), dev, this.kindBase + K_POLL);
  }

  /** The broker's keepalive check (1.5 × `keepaliveMs`; not called or 0: none, and 0 switches it off), as the wall clock's broker does it. */
  useBrokerKeepalive(keepaliveMs: number): void {
    this.keepalive.use(keepaliveMs);
  }

  /** A PINGREQ: answered at once, unless a blackhole swallows it (broker-keepalive.ts). */
  ping(dev: number): boolean {
    if (!this.rec.session(dev)) return false;
    this.keepalive.ping(dev);
    return true;
  }

  disconnect(dev: number): void {
    // Messages still in flight get no ack (the lifecycle fails them, or counts them as buffered at the end).
    this.rec.setSession(dev, false);
    this.fleet?.onSessionDown(dev);
  }

  // --- fleet operations (drivers/model/fleet-model.ts) ---

  /** The modelled backend's fleet operations, when the run has an operator plan. */
  fleet: FleetModel | undefined;
  private fleetEvents: FleetOpsEvents | undefined;

  /** Plays `plan` as the backend would; device ranks come from their serials `<prefix>-<global index>`. */
  enableFleetOps(plan: OperatorPlan, serialPrefix: string): FleetModel {
    this.fleet = new FleetModel(plan, this.devices, this.firstDevice, serialPrefix, {
      now: () => this.clock.now(),
      at: (t, dev, kind) => this.clock.at(t, dev, this.kindBase + FLEET_MODEL_OFFSET + kind),
      answer: (dev, op, kind) => this.fleetRequest(dev, op, kind),
      status: (dev, kind, ok) => this.requestFaults.fleetStatusOf(dev, kind, ok),
      retryAfter: (dev) => this.requestFaults.takeRetryAfter(dev),
      online: (dev) => this.rec.session(dev),
    }, this.events);
    if (this.fleetEvents) this.fleet.attach(this.fleetEvents);
    return this.fleet;
  }

  /** A fleet operation's request: the fleet model's `kind` fires when the backend answers (queued or not). */
  private fleetRequest(dev: number, op: BackendOp, kind: number): void {
    const i = OP[op];
    const fault = op === 'state' ? this.requestFaults.http(dev, FaultRoute.state) : op === 'artifact' ? this.requestFaults.http(dev, FaultRoute.artifact) : NOT_FAULTED;
    if (fault === FAULT_ANSWERED) return this.requestFaults.answerFleet(dev, kind, FLEET_MODEL_OFFSET + kind);
    if (this.backend.queued[i]) return this.enqueue(dev, i, -kind - 1, fault);
    const l = this.backend.draw(dev, i);
    this.onAnswer(dev, i, l < 0, -kind - 1, SERVED, this.clock.now() + Math.abs(l) + this.requestFaults.addedMs(fault));
  }

  private fleetAnswer(dev: number, m: BackendOperation, kind: number, ok: boolean, outcome: number, at: number): void {
    if (!ok) this.requestFaults.failFleet(dev, kind, outcome === SERVED ? 503 : this.requestFaults.turnedAway(dev, m, outcome));
    this.clock.at(at, dev, this.kindBase + FLEET_MODEL_OFFSET + kind);
  }

  attachFleetOps(events: FleetOpsEvents): void {
    this.fleetEvents = events;
    this.fleet?.attach(events);
  }

  beginArtifact(_dev: number): void {
    // No bytes flow in the model: the digest is decided by the fault draw in verifyArtifact.
  }

  downloadChunk(dev: number, _artifact: OfferedArtifact, _offset: number, length: number): void {
    if (this.fleet) this.fleet.downloadChunk(dev, length);
    else this.clock.at(this.clock.now(), dev, this.kindBase + K_NO_FLEET_CHUNK);
  }

  verifyArtifact(dev: number, _sha256: string): boolean {
    return this.fleet?.verify(dev) ?? true;
  }

  reportState(dev: number, report: DeviceStateReport): void {
    if (this.fleet) this.fleet.reportState(dev, report);
    else this.clock.at(this.clock.now(), dev, this.kindBase + K_NO_FLEET_STATE);
  }

  replyCommand(dev: number, _command: DeviceCommand, _ok: boolean, token: number): boolean {
    return this.uplink(dev, 1, token);
  }

  ackConfig(dev: number, version: number, token: number): boolean {
    if (!this.rec.session(dev)) return false;
    this.keepalive.heard(dev);
    return this.fleet ? this.fleet.ackConfig(dev, version, token) : false;
  }

  reportEndOfLine(dev: number, _ok: boolean, token: number): boolean {
    return this.uplink(dev, 1, token);
  }

  shipLogs(dev: number, _suppressed: number, _line: string, _lines: number): boolean {
    return this.uplink(dev, 0, 0);
  }

  /** A device uplink: the fleet model acks QoS 1; without one only QoS 0 leaves (nothing would ack it). */
  private uplink(dev: number, qos: 0 | 1, token: number): boolean {
    if (!this.rec.session(dev)) return false;
    this.keepalive.heard(dev);
    return this.fleet ? this.fleet.publish(dev, qos, token) : qos === 0;
  }

  async close(): Promise<void> {
    for (let dev = 0; dev < this.devices; dev++) this.rec.setSession(dev, false);
  }

  /** True for the event kinds this driver scheduled. */
  owns(kind: number): boolean {
    return kind >= this.kindBase && kind < this.kindBase + MODEL_DRIVER_KIND_COUNT;
  }

  /** Completes an operation: called by the runtime's dispatch for the kinds this driver owns. */
  handle(kind: number, dev: number): void {
    const k = kind - this.kindBase;
    switch (k) {
      case K_PROVISION:
        return this.events.onProvisioned(dev, this.rec.pendingHttp(dev), this.requestFaults.takeRetryAfter(dev));
      case K_CONNECT: {
        let code = this.rec.pendingConnect(dev);
        // A CONNECT that got through just before a broker died or a disconnect phase began: closed instead of answered.
        if (code === 0 && this.faults?.closesNewSession(dev, this.clock.now()) === true) code = MQTT_NET_CODE_BASE - NET_RESET;
        if (code === 0) {
          this.rec.setSession(dev, true);
          this.keepalive.heard(dev);
        }
        this.events.onConnected(dev, code === 0, code);
        if (code === 0 && this.rec.session(dev)) this.fleet?.onSessionUp(dev);
        return;
      }
      case K_PUBACK_LOST:
        return this.events.onConnectionLost(dev, 'modelled: publish not acknowledged', LOST_KEEPALIVE_TIMEOUT);
      case K_FAULT_CUT:
        return this.events.onConnectionLost(dev, this.faults!.cutReason(dev), LOST_CLOSED_BY_BROKER);
      case K_FAULT_EDGE:
        return this.faults?.edgesDue(this.clock.now(), this.sessions);
      case K_BROKER_KEEPALIVE:
        if (!this.keepalive.closesNow(dev, this.rec.session(dev))) return;
        this.rec.setSession(dev, false);
        this.fleet?.onSessionDown(dev);
        return this.events.onConnectionLost(dev, 'modelled: closed by the broker, nothing heard for 1.5 keepalives', LOST_CLOSED_BY_BROKER);
      case K_PINGRESP:
        if (this.rec.session(dev)) this.events.onPingResponse?.(dev);
        return;
      case K_ACK: {
        // Ack events of a closed session still fire and do nothing; messages of a session that
        // lost its PUBACK wait, unacked, until the lifecycle fails them.
        const token = this.acks.due(dev);
        if (token >= 0 && this.rec.session(dev)) this.events.onTelemetryAcked(dev, token);
        return;
      }
      case K_POLL: {
        const st = this.rec.pendingHttp(dev);
        const changed = st === POLL_UNCHANGED && this.fleet !== undefined && this.fleet.pollChanged(dev);
        this.events.onPolled(dev, changed ? POLL_CHANGED : st, this.requestFaults.takeRetryAfter(dev), NO_HINT);
        if (changed) this.fleet!.deliverPollChanges(dev);
        return;
      }
      case K_NO_FLEET_CHUNK:
        return this.fleetEvents?.onDownloadChunk(dev, 404, 0, NO_RETRY_AFTER);
      case K_NO_FLEET_STATE:
        return this.fleetEvents?.onStateReported(dev, 404, NO_RETRY_AFTER);
      default:
        if (this.fleet && k >= FLEET_MODEL_OFFSET && k < FLEET_MODEL_OFFSET + FLEET_MODEL_KIND_COUNT) this.fleet.handle(k - FLEET_MODEL_OFFSET, dev);
    }
  }
}
