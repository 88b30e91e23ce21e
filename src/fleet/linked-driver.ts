import { C } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { EXCHANGE_BYTES as B, Leg, TRANSFER_GAVE_UP, TRANSFER_LOSSES, type LegKind, type LinkExchange } from '../models/link-exchange.js';
import {
  CANCELLED,
  MQTT_NET_CODE_BASE,
  NO_HINT,
  NET_RESET,
  NET_TIMEOUT,
  NO_RETRY_AFTER,
  type ConfigChange,
  type DeviceCommand,
  type DeviceDriver,
  type DeviceStateReport,
  type DriverEvents,
  type FleetOpsEvents,
  type Heard,
  type OfferedArtifact,
  type TelemetrySpec,
  type UpdateOffer,
} from '../drivers/types.js';
import { Ev } from './event-kinds.js';
import { HeldCalls } from './held-calls.js';
import { answerWhenGivenUp, CONNECT_TIMED_OUT, Op, SESSION_DOWN, SESSION_OPS } from './link-calls.js';
import type { Schedule } from './schedule.js';

/**
 * The modelled link between the fleet and its driver, for everything but telemetry (which
 * fleet/link-shaper.ts carries): each request is held for its way up (models/link-exchange.ts)
 * before the driver sees it, and each answer for its way down before the fleet hears it, with
 * Gilbert–Elliott loss and TCP retransmission; a request TCP gives up on is answered NET_TIMEOUT
 * (a connect: CONNECT_TIMED_OUT) when it does, without reaching the backend. The same code runs on
 * both clocks: on the virtual one the driver below is the backend model, which adds only its
 * service times.
 *
 * It is the driver the fleet sees (DeviceDriver), and the events sink of the driver below
 * (DriverEvents, FleetOpsEvents). Held calls (their codes: fleet/link-calls.ts) wait in typed arrays
 * (fleet/held-calls.ts) and come due as the lifecycle's Ev.linkExchange events. Concurrency: the shard's thread only.
 */
export class LinkedDriver implements DeviceDriver, DriverEvents, FleetOpsEvents {
  readonly name: string;
  readonly pollsOnConnect: boolean;
  readonly requestsOnSession: boolean;
  private readonly held: HeldCalls;
  private readonly out = new Float64Array(2);
  /** 1 while the driver below has the device's session open (uplinks are accepted then). */
  private readonly session: Uint8Array;
  /** When the device's latest message down its MQTT session arrives: later ones never overtake it. */
  private readonly sessionDownAt: Float64Array;
  private sink!: DriverEvents;
  private fleetSink: FleetOpsEvents | undefined;
  /** Set by close(): nothing more is held, since no event would ever bring it due. */
  private closing = false;

  private readonly count: number;

  constructor(
    private readonly inner: DeviceDriver,
    private readonly link: LinkExchange,
    private readonly schedule: Schedule,
    private readonly metrics: ShardMetrics,
    count: number,
  ) {
    this.name = inner.name;
    this.pollsOnConnect = inner.pollsOnConnect === true;
    this.requestsOnSession = inner.requestsOnSession === true;
    this.count = count;
    this.held = new HeldCalls(count);
    this.session = new Uint8Array(count);
    this.sessionDownAt = new Float64Array(count);
  }

  /** Where the driver's events go once they crossed the link (the lifecycle). */
  deliverTo(sink: DriverEvents): void {
    this.sink = sink;
  }

  /** Holds call `op` for the link's way up (or down) of `bytes`; true when TCP gives up on it instead (then nothing is held). */
  private cross(dev: number, op: number, up: boolean, bytes: number, leg: LegKind, status: number, a: number, b: number, ref: unknown): boolean {
    if (this.closing) {
      // The run has stopped: what the driver answers while it closes (CANCELLED for a request it
      // cut off) reaches the fleet at once; a request made now is cut off before it leaves.
      if (op === Op.logsOut) this.logsLost(a, b);
      if (up) this.cutOff(dev, op);
      else this.due(dev, op, status, a, b, ref);
      return false;
    }
    const o = this.out;
    const ms = up ? this.link.up(dev, bytes, leg, o) : this.link.down(dev, bytes, leg, o);
    if (o[TRANSFER_LOSSES] > 0) this.metrics.inc(C['link.packets_lost'], o[TRANSFER_LOSSES]);
    let at = this.schedule.now() + ms;
    if (o[TRANSFER_GAVE_UP] === 1) {
      if (op === Op.logsOut) this.logsLost(a, b);
      return this.gaveUp(dev, op, at);
    }
    if ((SESSION_DOWN & (1 << op)) !== 0) {
      at = Math.max(at, this.sessionDownAt[dev]);
      this.sessionDownAt[dev] = at;
    }
    this.held.hold(dev, at, op, status, a, b, ref);
    this.schedule.at(at, dev, Ev.linkExchange);
    return false;
  }

  /** TCP gave up at `at`: a request is answered with a timeout then, an answer becomes one. */
  private gaveUp(dev: number, op: number, at: number): boolean {
    const answer = answerWhenGivenUp(op);
    if (answer < 0) return true; // an uplink or a push: lost with the session (the backend sees its end)
    this.held.hold(dev, at, answer, answer === Op.connectIn ? CONNECT_TIMED_OUT : NET_TIMEOUT, NO_RETRY_AFTER, 0, undefined);
    this.schedule.at(at, dev, Ev.linkExchange);
    return true;
  }

  /** The lifecycle's Ev.linkExchange: every held call of `dev` that is due now goes on. */
  handle(dev: number): void {
    const now = this.schedule.now();
    const h = this.held;
    for (let n = h.takeDue(dev, now); n >= 0; n = h.takeDue(dev, now)) {
      const op = h.opOf(n);
      const st = h.statusOf(n);
      const a = h.aOf(n);
      const b = h.bOf(n);
      const ref = h.refOf(n);
      h.release(n);
      this.due(dev, op, st, a, b, ref);
    }
  }

  private due(dev: number, op: number, st: number, a: number, b: number, ref: unknown): void {
    const inner = this.inner;
    switch (op) {
      case Op.provisionOut:
        return inner.provision(dev, ref as string);
      case Op.provisionIn:
        return this.sink.onProvisioned(dev, st, a);
      case Op.connectOut:
        return inner.connect(dev);
      case Op.connectIn:
        if (st === 0 && this.session[dev] === 0) return this.sink.onConnected(dev, false, MQTT_NET_CODE_BASE - NET_RESET); // lost while the CONNACK travelled
        return this.sink.onConnected(dev, st === 0, st);
      case Op.pollOut:
        return inner.pollTarget(dev);
      case Op.pollIn:
        return this.sink.onPolled(dev, st, a, b);
      case Op.chunkOut:
        return inner.downloadChunk(dev, ref as OfferedArtifact, a, b);
      case Op.chunkIn:
        // ref: the artifact's whole size from the answer (Content-Range), -1 when it did not say;
        // a platform whose offer names no size (balena, Mender) learns it only from there.
        return this.fleetSink?.onDownloadChunk(dev, st, st === NET_TIMEOUT ? 0 : b, a, typeof ref === 'number' ? ref : -1);
      case Op.stateOut:
        return inner.reportState(dev, ref as DeviceStateReport);
      case Op.stateIn:
        return this.fleetSink?.onStateReported(dev, st, a);
      case Op.replyOut:
        inner.replyCommand(dev, ref as DeviceCommand, a === 1, st);
        return;
      case Op.configAckOut:
        inner.ackConfig(dev, a, st);
        return;
      case Op.eolOut:
        inner.reportEndOfLine(dev, a === 1, st);
        return;
      case Op.logsOut:
        if (!inner.shipLogs(dev, a, ref as string, b)) this.logsLost(a, b);
        return;
      case Op.fleetAckIn:
        return this.fleetSink?.onFleetPublishAcked(dev, st);
      case Op.offerIn:
        return this.sink.onUpdateOffered?.(dev, ref as UpdateOffer, a === 1 ? 'poll' : 'push');
      case Op.configIn:
        return this.sink.onConfigChanged?.(dev, ref as ConfigChange, a === 1 ? 'poll' : 'push');
      case Op.commandIn:
        return this.sink.onCommand?.(dev, ref as DeviceCommand);
      case Op.pingOut:
        inner.ping(dev); // false: the session ended under it, and its loss is on its way
        return;
      case Op.pingIn:
        return this.sink.onPingResponse?.(dev);
    }
  }

  // --- DeviceDriver: requests go up the link first ---

  provision(dev: number, serial: string): void {
    this.cross(dev, Op.provisionOut, true, B.provisionRequest, Leg.newConnection, 0, 0, 0, serial);
  }
  connect(dev: number): void {
    this.cross(dev, Op.connectOut, true, B.mqttConnect, Leg.newConnection, 0, 0, 0, undefined);
  }
  publishTelemetry(dev: number, seq: number, scheduledAtMs: number, spec: TelemetrySpec, token: number, payload?: Buffer): boolean {
    return this.inner.publishTelemetry(dev, seq, scheduledAtMs, spec, token, payload); // telemetry has its own link (LinkShaper)
  }
  pollTarget(dev: number): void {
    this.cross(dev, Op.pollOut, true, B.pollRequest, Leg.open, 0, 0, 0, undefined);
  }
  /**
   * A PINGREQ leaves on the session and crosses the link up; its PINGRESP crosses it down. One TCP
   * gives up on is lost with the session (no answer is made up): the keepalive's deadline decides.
   */
  ping(dev: number): boolean {
    if (this.session[dev] === 0) return false;
    this.cross(dev, Op.pingOut, true, B.pingreq, Leg.open, 0, 0, 0, undefined);
    return true;
  }
  disconnect(dev: number): void {
    this.session[dev] = 0;
    this.dropLogs(dev);
    this.held.dropOps(dev, SESSION_OPS);
    // Polls and reports that ride the session (AWS IoT's reserved topics) end with it like the
    // uplinks, each with its one answer: CANCELLED, the device's own doing (a reboot closes the
    // session right after `rebooting`; left held, the report reached the driver with no session
    // and waited out its timeout while the device rebooted).
    if (this.requestsOnSession) this.cutOffRequests(dev);
    this.inner.disconnect(dev);
  }

  private cutOffRequests(dev: number): void {
    for (let n = this.held.dropOps(dev, 1 << Op.stateOut); n > 0; n--) this.cutOff(dev, Op.stateOut);
    for (let n = this.held.dropOps(dev, 1 << Op.pollOut); n > 0; n--) this.cutOff(dev, Op.pollOut);
  }
  attachFleetOps(events: FleetOpsEvents): void {
    this.fleetSink = events;
    this.inner.attachFleetOps(this);
  }
  beginArtifact(dev: number): void {
    this.inner.beginArtifact(dev);
  }
  downloadChunk(dev: number, artifact: OfferedArtifact, offset: number, length: number): void {
    this.cross(dev, Op.chunkOut, true, B.chunkRequest, Leg.open, 0, offset, length, artifact);
  }
  verifyArtifact(dev: number, sha256: string): boolean {
    return this.inner.verifyArtifact(dev, sha256);
  }
  artifactTarget(dev: number): 'app' | 'os' | undefined {
    return this.inner.artifactTarget?.(dev);
  }
  reportState(dev: number, report: DeviceStateReport): void {
    this.cross(dev, Op.stateOut, true, B.stateRequest, Leg.open, 0, 0, 0, report);
  }
  replyCommand(dev: number, command: DeviceCommand, ok: boolean, token: number): boolean {
    return this.uplink(dev, Op.replyOut, token, ok ? 1 : 0, 0, command);
  }
  ackConfig(dev: number, version: number, token: number): boolean {
    return this.uplink(dev, Op.configAckOut, token, version, 0, undefined);
  }
  reportEndOfLine(dev: number, ok: boolean, token: number): boolean {
    return this.uplink(dev, Op.eolOut, token, ok ? 1 : 0, 0, undefined);
  }
  shipLogs(dev: number, suppressed: number, line: string, lines: number): boolean {
    return this.uplink(dev, Op.logsOut, 0, suppressed, lines, line, B.uplink + line.length * lines);
  }
  /**
   * Closes the driver below; then every call still on the link is cut off by fleetsim's stop, not
   * by the backend: a request on its way up never reached it, an answer on its way down never
   * reached the device. Each request still gets its one answer (CANCELLED), so the accounting of
   * requests closes (counted `cancelled.<route>`, as the driver counts what it cut off).
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.inner.close();
    const h = this.held;
    for (let dev = 0; dev < this.count; dev++) {
      for (let n = h.takeDue(dev, Infinity); n >= 0; n = h.takeDue(dev, Infinity)) {
        const op = h.opOf(n);
        if (op === Op.logsOut) this.logsLost(h.aOf(n), h.bOf(n));
        h.release(n);
        this.cutOff(dev, op);
      }
    }
  }

  /** The device's log shipments still on the link end with its session: counted as lost. */
  private dropLogs(dev: number): void {
    const h = this.held;
    for (let n = h.takeOp(dev, Op.logsOut); n >= 0; n = h.takeOp(dev, Op.logsOut)) {
      this.logsLost(h.aOf(n), h.bOf(n));
      h.release(n);
    }
  }

  /**
   * A log shipment (`suppressed`, `lines`: its "suppressed N" notice and lines) that left the
   * device, counted in logs.sent when it did, and never reached the backend. QoS 0 tells the
   * device nothing, so only the link knows; without this count the report claimed lines the
   * backend never received (fleet-ops-wall: 4,500 received of 4,525 "sent" when the run stopped
   * with a shipment on a wifi link).
   */
  private logsLost(suppressed: number, lines: number): void {
    this.metrics.inc(C['logs.lost_on_link'], lines);
    if (suppressed > 0) this.metrics.inc(C['logs.suppressed_notices_lost_on_link']);
  }

  /** Answers a request (or the answer to one) that fleetsim's stop cut off on the link with CANCELLED; other calls are dropped. */
  private cutOff(dev: number, op: number): void {
    switch (op) {
      case Op.provisionOut:
      case Op.provisionIn:
        return this.sink.onProvisioned(dev, CANCELLED, NO_RETRY_AFTER);
      case Op.pollOut:
      case Op.pollIn:
        return this.sink.onPolled(dev, CANCELLED, NO_RETRY_AFTER, NO_HINT);
      case Op.chunkOut:
      case Op.chunkIn:
        return this.fleetSink?.onDownloadChunk(dev, CANCELLED, 0, NO_RETRY_AFTER);
      case Op.stateOut:
      case Op.stateIn:
        return this.fleetSink?.onStateReported(dev, CANCELLED, NO_RETRY_AFTER);
    }
  }

  /**
   * An MQTT uplink leaves on the session now and reaches the driver after its way up; false (as
   * the driver would answer) without a session. One the session ends under is lost with it.
   */
  private uplink(dev: number, op: number, token: number, a: number, b: number, ref: unknown, bytes: number = B.uplink): boolean {
    if (this.session[dev] === 0) return false;
    this.cross(dev, op, true, bytes, Leg.open, token, a, b, ref);
    return true;
  }

  // --- DriverEvents and FleetOpsEvents: answers come down the link ---

  onProvisioned(dev: number, status: number, retryAfterMs: number): void {
    this.cross(dev, Op.provisionIn, false, B.provisionAnswer, Leg.open, status, retryAfterMs, 0, undefined);
  }
  onConnected(dev: number, ok: boolean, code: number): void {
    if (ok) this.session[dev] = 1;
    this.cross(dev, Op.connectIn, false, B.mqttConnack, Leg.open, ok ? 0 : code, 0, 0, undefined);
  }
  onTelemetryAcked(dev: number, token: number): void {
    this.sink.onTelemetryAcked(dev, token); // the PUBACK's way down is in the telemetry's transit
  }
  onConnectionLost(dev: number, reason: string, cause: number): void {
    this.session[dev] = 0;
    this.dropLogs(dev);
    this.held.dropOps(dev, SESSION_OPS & ~(1 << Op.connectIn)); // a CONNACK on its way finds the session gone (connectIn)
    this.sink.onConnectionLost(dev, reason, cause);
  }
  onPolled(dev: number, status: number, retryAfterMs: number, nextPollMs: number): void {
    this.cross(dev, Op.pollIn, false, B.pollAnswer, Leg.open, status, retryAfterMs, nextPollMs, undefined);
  }
  onUpdateOffered(dev: number, offer: UpdateOffer, heard: Heard): void {
    this.pushed(dev, Op.offerIn, offer, heard);
  }
  onConfigChanged(dev: number, change: ConfigChange, heard: Heard): void {
    this.pushed(dev, Op.configIn, change, heard);
  }
  onCommand(dev: number, command: DeviceCommand): void {
    this.pushed(dev, Op.commandIn, command, 'push');
  }
  onReauthenticated(dev: number, status: number, retryAfterMs: number): void {
    this.sink.onReauthenticated?.(dev, status, retryAfterMs);
  }
  onPingResponse(dev: number): void {
    this.cross(dev, Op.pingIn, false, B.pingresp, Leg.open, 0, 0, 0, undefined);
  }
  onDownloadChunk(dev: number, status: number, bytes: number, retryAfterMs: number, totalBytes = -1): void {
    this.cross(dev, Op.chunkIn, false, B.chunkAnswerHeaders + bytes, Leg.bulk, status, retryAfterMs, bytes, totalBytes);
  }
  onStateReported(dev: number, status: number, retryAfterMs: number): void {
    this.cross(dev, Op.stateIn, false, B.stateAnswer, Leg.open, status, retryAfterMs, 0, undefined);
  }
  onFleetPublishAcked(dev: number, token: number): void {
    this.cross(dev, Op.fleetAckIn, false, B.puback, Leg.open, token, 0, 0, undefined);
  }

  /**
   * What the backend tells the device: found by a poll, it arrives with the poll's answer, after
   * it (the order onPolled promises); pushed on the session, it crosses the link down on its own.
   */
  private pushed(dev: number, op: number, ref: unknown, heard: Heard): void {
    if (heard === 'poll') {
      const n = this.held.find(dev, Op.pollIn);
      if (n >= 0) {
        this.held.hold(dev, this.held.atOf(n), op, 0, 1, 0, ref);
        return;
      }
    }
    this.cross(dev, op, false, B.push, Leg.open, 0, heard === 'poll' ? 1 : 0, 0, ref);
  }
}
