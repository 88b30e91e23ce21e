import type { DurationDistribution } from '../../models/distributions.js';
import { sampleDuration } from '../../models/distributions.js';
import { Stream, uniform } from '../../models/rng.js';
import { faultLatencyDistribution } from '../../faults/active-faults.js';
import type { FleetMap } from '../../faults/fleet-map.js';
import { INJECTED_KINDS, type InjectedCount, type InjectedKind, type InjectedRoute } from '../../faults/injected.js';
import { FAULT_HTTP_ROUTES, type FaultPhase } from '../../faults/spec.js';
import { BAD_RESPONSE, MQTT_NET_CODE_BASE, NET_REFUSED, NET_RESET, NET_TIMEOUT } from '../types.js';

/** What `http` decided: not faulted, answered by the fault (status after `afterMs`), or forwarded `afterMs` later. */
export const NOT_FAULTED = 0;
export const FAULT_ANSWERED = 1;
export const FAULT_DELAYED = 2;

/** Route indices of `http` (faults/spec.ts FAULT_HTTP_ROUTES order). */
export const FaultRoute = { provision: 0, poll: 1, state: 2, artifact: 3 } as const;

/** How a phase's session faults act on a device's MQTT session (what `cut` is told). */
export const SessionCut = { disconnect: 0, brokerRestart: 1 } as const;

/** The driver's side of session faults: whether a device's session is open, and ending it (`cutReason` says why, when the device hears of it). */
export interface ModelSessions {
  open(dev: number): boolean;
  cut(dev: number): void;
}

const CUT_REASONS = ['modelled: session closed by a fault phase', 'modelled: broker restarted'] as const;

export interface ModelFaultOptions {
  seed: number;
  firstDevice: number;
  devices: number;
  /** The devices' HTTP timeout (a stall ends in it), and an artifact request's. */
  httpTimeoutMs: number;
  artifactTimeoutMs: number;
  /** The devices' CONNACK timeout (a blackholed CONNECT ends in it). */
  connectTimeoutMs: number;
  /** Brokers a broker phase restarts (counted once per phase, by the shard of device 0). */
  brokers: number;
}

/** A message whose PUBACK a fault dropped: its ack time in the ledger (model-driver.ts skips it). */
export const NEVER_ACKED = Number.MAX_VALUE;

/** Per-request draws of a device on the fault stream, above the counters FleetMap and ActiveFaults use. */
const REQUEST_COUNTER_BASE = 1 << 25;

const Edge = { start: 0 } as const;
const HTTP = 0;
const MQTT = 1;
const BROKER = 2;
const M_DISCONNECT = 0;
const M_REFUSE = 1;
const M_DROP = 2;
const M_BLACKHOLE = 3;
const H_STATUS = 0;
const H_LATENCY = 1;
const H_RESET = 2;
const H_STALL = 3;
const H_GARBAGE = 4;
const H_WRONG_SHAPE = 5;

const ROUTES: readonly InjectedRoute[] = ['provision', 'poll', 'state', 'artifact', 'other', 'mqtt_connect', 'mqtt_session', 'mqtt_publish', 'broker'];
const R = Object.fromEntries(ROUTES.map((r, i) => [r, i])) as Record<InjectedRoute, number>;
const KIND = Object.fromEntries(INJECTED_KINDS.map((k, i) => [k, i])) as Record<InjectedKind, number>;

/**
 * Fault phases (scenario `phases[].backend`) against the modelled backend of the virtual clock,
 * with the semantics of the fault proxy (faults/http-proxy.ts, faults/mqtt-proxy.ts) and the
 * broker restarter (engine/fault-injection.ts), and counted the same way, by phase, kind and route:
 * - HTTP: the picked request is answered by the fault at once (a status with its Retry-After, a
 *   reset, a 200 whose body is garbage or of the wrong shape: BAD_RESPONSE), runs into the
 *   client's timeout (a stall), or is served and answered later (added latency);
 * - MQTT: picked sessions are closed at the phase start and their CONNECTs closed while it lasts;
 *   CONNECTs refused with a CONNACK code; PUBACKs dropped (the message stays unacknowledged);
 *   a blackhole swallows PUBLISHes, PINGREQs and CONNECTs (which time out), and the broker,
 *   hearing nothing, drops each session 1.5 keepalives after the last packet it got;
 * - a broker restart closes every session and refuses connections while the broker is down.
 * Which devices a phase applies to and which sessions it picks are FleetMap's draws (keyed by the
 * global device index, as the proxy's); a share of requests is drawn per request from the
 * device's own counter on the fault stream, so a run is the same for any number of shards.
 *
 * Hot path: a request checks the active phases of its kind by time (no event per phase end); no
 * object per request. Concurrency: the shard's thread only.
 */
export class ModelFaults {
  private readonly phases: readonly FaultPhase[];
  private readonly target: Uint8Array;
  /** Per phase: the HTTP or MQTT action as a small integer (H_* / M_*), its share, its route mask. */
  private readonly action: Uint8Array;
  private readonly share: Float64Array;
  private readonly routes: Uint8Array;
  private readonly from: Float64Array;
  private readonly to: Float64Array;
  private readonly latency: Array<DurationDistribution | undefined>;
  private readonly http: Int32Array;
  private readonly mqtt: Int32Array;
  private readonly broker: Int32Array;
  private readonly draws: Uint32Array;
  private readonly counts: Float64Array;
  /** Per device: why its session was last cut (SessionCut). */
  private readonly cutWhy: Uint8Array;
  /** Latency a phase added to a queued request, by device and operation, until its answer (rare: a map). */
  private readonly added = new Map<number, number>();
  /** Phase edges in time order: when, which phase, what happens. */
  readonly edgeAt: Float64Array;
  private readonly edgePhase: Int32Array;
  private readonly edgeWhat: Uint8Array;
  private nextEdge = 0;

  /** The decision `http` and `connect` made: the status or CONNACK code, after how long, the Retry-After. */
  status = 0;
  afterMs = 0;
  retryAfterMs = 0;

  constructor(
    phases: readonly FaultPhase[],
    private readonly map: FleetMap,
    private readonly o: ModelFaultOptions,
  ) {
    this.phases = phases;
    const n = phases.length;
    this.target = new Uint8Array(n);
    this.action = new Uint8Array(n);
    this.share = new Float64Array(n);
    this.routes = new Uint8Array(n);
    this.from = new Float64Array(n);
    this.to = new Float64Array(n);
    this.latency = [];
    const edges: Array<[number, number, number]> = [];
    phases.forEach((p, i) => {
      const f = p.fault;
      this.from[i] = p.atMs;
      this.to[i] = p.atMs + p.forMs;
      edges.push([p.atMs, i, Edge.start]);
      if (f.target === 'http') {
        this.target[i] = HTTP;
        this.share[i] = f.share;
        for (const r of f.routes) this.routes[i] |= 1 << FAULT_HTTP_ROUTES.indexOf(r);
        const a = f.action;
        this.action[i] = a.kind === 'status' ? H_STATUS : a.kind === 'latency' ? H_LATENCY : a.kind === 'reset' ? H_RESET : a.kind === 'stall' ? H_STALL : a.body === 'garbage' ? H_GARBAGE : H_WRONG_SHAPE;
        this.latency[i] = a.kind === 'latency' && a.latency.kind !== 'fixed' ? faultLatencyDistribution(a.latency) : undefined;
      } else if (f.target === 'mqtt') {
        this.target[i] = MQTT;
        this.share[i] = f.share;
        const k = f.action.kind;
        this.action[i] = k === 'disconnect' ? M_DISCONNECT : k === 'refuse' ? M_REFUSE : k === 'drop-pubacks' ? M_DROP : M_BLACKHOLE;
      } else {
        this.target[i] = BROKER;
      }
    });
    const of = (t: number) => Int32Array.from(phases.flatMap((_, i) => (this.target[i] === t ? [i] : [])));
    this.http = of(HTTP);
    this.mqtt = of(MQTT);
    this.broker = of(BROKER);
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.edgeAt = Float64Array.from(edges, (e) => e[0]);
    this.edgePhase = Int32Array.from(edges, (e) => e[1]);
    this.edgeWhat = Uint8Array.from(edges, (e) => e[2]);
    this.draws = new Uint32Array(this.http.length > 0 ? o.devices : 0);
    this.counts = new Float64Array(n * INJECTED_KINDS.length * ROUTES.length);
    this.cutWhy = new Uint8Array(o.devices);
  }

  /** Keeps the latency `httpAt` just added (FAULT_DELAYED) for a queued request of `op`, until `takeAdded`. */
  holdAdded(dev: number, op: number): void {
    this.added.set(dev * 16 + op, this.afterMs);
  }

  /** The latency held for the answer of `dev`'s queued `op` (0 when none), forgotten once read. */
  takeAdded(dev: number, op: number): number {
    if (this.added.size === 0) return 0;
    const v = this.added.get(dev * 16 + op);
    if (v === undefined) return 0;
    this.added.delete(dev * 16 + op);
    return v;
  }

  /** Why `dev`'s session was cut, for onConnectionLost. */
  cutReason(dev: number): string {
    return CUT_REASONS[this.cutWhy[dev]];
  }

  private cut(sessions: ModelSessions, dev: number, why: number): void {
    this.cutWhy[dev] = why;
    sessions.cut(dev);
  }

  private count(phase: number, kind: number, route: number): void {
    this.counts[(phase * INJECTED_KINDS.length + kind) * ROUTES.length + route]++;
  }

  private active(i: number, t: number): boolean {
    return t >= this.from[i] && t < this.to[i];
  }

  private u(dev: number): number {
    return uniform(this.o.seed, this.o.firstDevice + dev, Stream.fault, REQUEST_COUNTER_BASE + this.draws[dev]++);
  }

  private inScope(i: number, dev: number): boolean {
    return this.map.inScope(this.phases[i], this.o.firstDevice + dev);
  }

  /** Whether MQTT phase `i` picks device `dev`'s sessions (its scope, then its share of sessions). */
  private picks(i: number, dev: number): boolean {
    const g = this.o.firstDevice + dev;
    return this.map.inScope(this.phases[i], g) && this.map.pickSession(this.phases[i], g, this.share[i]);
  }

  /**
   * An HTTP request of `route` (FaultRoute) by `dev` reaching the backend at `t`: NOT_FAULTED,
   * FAULT_ANSWERED (answer `status` after `afterMs`, Retry-After `retryAfterMs` or 0) or
   * FAULT_DELAYED (serve it, answer `afterMs` later). The first active phase that picks it acts.
   */
  httpAt(dev: number, route: number, t: number): number {
    for (let k = 0; k < this.http.length; k++) {
      const i = this.http[k];
      if (!this.active(i, t) || (this.routes[i] & (1 << route)) === 0 || !this.inScope(i, dev)) continue;
      if (this.share[i] < 1 && !(this.u(dev) < this.share[i])) continue;
      const r = route; // FaultRoute and the injected routes share their first four indices
      this.afterMs = 0;
      this.retryAfterMs = 0;
      const f = this.phases[i].fault;
      switch (this.action[i]) {
        case H_STATUS:
          this.count(i, KIND.http_status, r);
          this.status = f.target === 'http' && f.action.kind === 'status' ? f.action.status : 503;
          // Whole seconds on the wire (RFC 9110 §10.2.3), as the proxy sends it.
          if (f.target === 'http' && f.action.kind === 'status' && f.action.retryAfterMs !== undefined) this.retryAfterMs = Math.ceil(f.action.retryAfterMs / 1000) * 1000;
          return FAULT_ANSWERED;
        case H_LATENCY: {
          this.count(i, KIND.latency, r);
          const d = this.latency[i];
          this.afterMs = f.target === 'http' && f.action.kind === 'latency' && f.action.latency.kind === 'fixed' ? f.action.latency.ms : sampleDuration(d!, this.u(dev), this.u(dev));
          return FAULT_DELAYED;
        }
        case H_RESET:
          this.count(i, KIND.reset, r);
          this.status = NET_RESET;
          return FAULT_ANSWERED;
        case H_STALL:
          this.count(i, KIND.stall, r);
          this.status = NET_TIMEOUT;
          this.afterMs = route === FaultRoute.artifact ? this.o.artifactTimeoutMs : this.o.httpTimeoutMs;
          return FAULT_ANSWERED;
        default:
          this.count(i, this.action[i] === H_GARBAGE ? KIND.garbage_body : KIND.wrong_shape_body, r);
          this.status = BAD_RESPONSE;
          return FAULT_ANSWERED;
      }
    }
    return NOT_FAULTED;
  }

  /**
   * A CONNECT of `dev` reaching the broker at `t`: NOT_FAULTED, or FAULT_ANSWERED with the
   * onConnected code in `status` after `afterMs` (refused by a broker that is down; closed, refused
   * with a CONNACK code, or swallowed by a blackhole and timed out).
   */
  connectAt(dev: number, t: number): number {
    this.afterMs = 0;
    this.retryAfterMs = 0;
    for (let k = 0; k < this.broker.length; k++) {
      const i = this.broker[k];
      // Down from the kill for `for`: connecting meanwhile is refused (nothing listens on the port).
      if (t >= this.from[i] && t < this.to[i]) {
        this.status = MQTT_NET_CODE_BASE - NET_REFUSED;
        return FAULT_ANSWERED;
      }
    }
    // The proxy's order: a refusal first, then a disconnect phase, then a blackhole.
    for (const want of CONNECT_ORDER) {
      for (let k = 0; k < this.mqtt.length; k++) {
        const i = this.mqtt[k];
        if (this.action[i] !== want || !this.active(i, t) || !this.picks(i, dev)) continue;
        const f = this.phases[i].fault;
        if (want === M_REFUSE) {
          this.count(i, KIND.connack_refused, R.mqtt_connect);
          this.status = f.target === 'mqtt' && f.action.kind === 'refuse' ? f.action.code : 3;
        } else if (want === M_DISCONNECT) {
          this.count(i, KIND.connect_closed, R.mqtt_connect);
          this.status = MQTT_NET_CODE_BASE - NET_RESET;
        } else {
          this.count(i, KIND.session_blackholed, R.mqtt_session);
          this.status = MQTT_NET_CODE_BASE - NET_TIMEOUT;
          this.afterMs = this.o.connectTimeoutMs;
        }
        return FAULT_ANSWERED;
      }
    }
    return NOT_FAULTED;
  }

  /**
   * A CONNACK about to open `dev`'s session at `t`, for a CONNECT that got through before a
   * phase began: true when the session is closed instead (a broker killed, a disconnect phase
   * that picks the device, which counts it as the proxy counts the sessions it cuts).
   */
  closesNewSession(dev: number, t: number): boolean {
    for (let k = 0; k < this.broker.length; k++) if (t >= this.from[this.broker[k]] && t < this.to[this.broker[k]]) return true;
    for (let k = 0; k < this.mqtt.length; k++) {
      const i = this.mqtt[k];
      if (this.action[i] !== M_DISCONNECT || !this.active(i, t) || !this.picks(i, dev)) continue;
      this.count(i, KIND.session_disconnected, R.mqtt_session);
      return true;
    }
    return false;
  }

  /**
   * Whether the PUBACK of `dev`'s QoS 1 message sent at `sentAt`, answered by the broker at
   * `ackAt`, never reaches the device: a blackhole swallowed the PUBLISH (counted with the
   * session), or a drop phase dropped the PUBACK (counted here).
   */
  pubackLost(dev: number, sentAt: number, ackAt: number): boolean {
    for (let k = 0; k < this.mqtt.length; k++) {
      const i = this.mqtt[k];
      const a = this.action[i];
      if (a === M_BLACKHOLE && this.active(i, sentAt) && this.picks(i, dev)) return true;
      if (a === M_DROP && this.active(i, ackAt) && this.picks(i, dev)) {
        this.count(i, KIND.puback_dropped, R.mqtt_publish);
        return true;
      }
    }
    return false;
  }

  /** Whether a blackhole holds `dev`'s session at `t`: what the device sends is swallowed (a PINGREQ gets no PINGRESP; counted with the session). */
  holed(dev: number, t: number): boolean {
    for (let k = 0; k < this.mqtt.length; k++) {
      const i = this.mqtt[k];
      if (this.action[i] === M_BLACKHOLE && this.active(i, t) && this.picks(i, dev)) return true;
    }
    return false;
  }

  /** Acts on every phase edge due at `t` (the driver schedules one event per distinct edge time). */
  edgesDue(t: number, sessions: ModelSessions): void {
    while (this.nextEdge < this.edgeAt.length && this.edgeAt[this.nextEdge] <= t) {
      const e = this.nextEdge++;
      const i = this.edgePhase[e];
      const what = this.edgeWhat[e];
      if (this.target[i] === BROKER) {
        if (this.o.firstDevice === 0) for (let b = 0; b < this.o.brokers; b++) this.count(i, KIND.broker_restarted, R.broker);
        for (let dev = 0; dev < this.o.devices; dev++) if (sessions.open(dev)) this.cut(sessions, dev, SessionCut.brokerRestart);
        continue;
      }
      if (this.target[i] !== MQTT) continue;
      const a = this.action[i];
      if (what !== Edge.start) continue;
      if (a === M_DISCONNECT) {
        for (let dev = 0; dev < this.o.devices; dev++) {
          if (!sessions.open(dev) || !this.picks(i, dev)) continue;
          this.count(i, KIND.session_disconnected, R.mqtt_session);
          this.cut(sessions, dev, SessionCut.disconnect);
        }
      } else if (a === M_BLACKHOLE) {
        // The broker's keepalive check (broker-keepalive.ts) closes each 1.5 keepalives after its last packet got through.
        for (let dev = 0; dev < this.o.devices; dev++) if (sessions.open(dev) && this.picks(i, dev)) this.count(i, KIND.session_blackholed, R.mqtt_session);
      }
    }
  }

  /** Every count, as the proxy lists them (faults/injected.ts InjectedCounts.list). */
  injected(): InjectedCount[] {
    const out: InjectedCount[] = [];
    this.phases.forEach((p, i) =>
      INJECTED_KINDS.forEach((kind, k) =>
        ROUTES.forEach((route, r) => {
          const count = this.counts[(i * INJECTED_KINDS.length + k) * ROUTES.length + r];
          if (count > 0) out.push({ phase: p.index, kind, route, count });
        }),
      ),
    );
    return out.sort((a, b) => a.phase - b.phase || a.kind.localeCompare(b.kind) || a.route.localeCompare(b.route));
  }
}

const CONNECT_ORDER = [M_REFUSE, M_DISCONNECT, M_BLACKHOLE] as const;
