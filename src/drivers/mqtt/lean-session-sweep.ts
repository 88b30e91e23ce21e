/**
 * The lean transport's one periodic pass over its sessions (lean-transport.ts): CONNACK timeouts,
 * PINGREQs on idle sessions, PINGRESP timeouts, and sockets lingering after a graceful
 * disconnect. One timer per transport, never one per connection; per device only typed arrays.
 * A session whose caller pings has keepalive 0 here: the sweep neither pings nor times it out,
 * so once such a session has its CONNACK the pass has nothing to do for it, and the timer runs only
 * while some session is connecting, keeps its own keepalive, or lingers: a shard holding its
 * sessions steady (the fleet pings, fleet/keepalive.ts) has no sweep timer at all. With 27 brokers
 * a shard process had 27 transports, so 27 wakes a second over every device for nothing.
 *
 * Concurrency: the owning thread only. The pass runs from its timer, never inside a socket read,
 * so its PINGREQs go straight to the socket. A timeout it reports may make the caller connect
 * again at once (`opened`), and the same pass goes on over the devices with that in place.
 */
import { performance } from 'node:perf_hooks';
import { NET_TIMEOUT } from '../types.js';
import { PINGREQ_FRAME } from './lean-frames.js';
import { CONNECTING, IDLE, type LeanConnection } from './lean-connection.js';

/**
 * How long the transport's close() waits for the broker to close sessions that sent DISCONNECT,
 * ms. The side that closes a TCP connection first keeps it in TIME_WAIT for 60 s (Linux), holding
 * its port: when the devices close first, a run's sockets stay on the simulator's ports after it,
 * and on a source address (bound sockets, scenario/port-budget.ts) every bind of the next run
 * within that minute scans past them in the kernel. A second 15,000-device provisioning run
 * against the embedded backend, started at once, took 1.78 instead of 0.35 ms of CPU per device in
 * the shard processes (bench/RESULTS.md, "TIME_WAIT on the broker's side"). Brokers close on
 * DISCONNECT at once (mosquitto, aedes, the embedded broker); a broker that has not by then finds
 * the simulator closing, as before.
 */
export const LINGER_AT_CLOSE_MS = 2_000;

const MIN_SWEEP_MS = 20;
const MAX_SWEEP_MS = 1000;

/** What the sweep reads of the transport's sessions, and acts on. */
export interface SweptSessions {
  /** Session state by device (IDLE, CONNECTING, CONNECTED). */
  readonly state: Uint8Array;
  /** The open or opening connection by device. */
  readonly conns: readonly (LeanConnection | undefined)[];
  /** Connections detached by `disconnect()` whose sockets have not closed yet. */
  readonly lingering: ReadonlySet<LeanConnection>;
  /** Tears down a live connection for a reason the sweep found, and reports it. */
  drop(conn: LeanConnection, reason: string, cause: number): void;
}

export class LeanSessionSweep {
  /** Set by every write, cleared by the sweep, which then stamps `lastSentMs` (cheaper than a clock read per write). */
  readonly wrote: Uint8Array;
  private readonly keepaliveS: Uint16Array;
  /** Last time something was sent; while CONNECTING, when the attempt started. */
  private readonly lastSentMs: Float64Array;
  /** When the outstanding PINGREQ was sent, 0 when none is outstanding (any packet from the broker clears it). */
  readonly pingSentMs: Float64Array;
  /** Devices below this have had a session: the pass (and the transport's close) go over them. */
  highWater = 0;
  /** Sessions the pass watches: connecting ones, and open ones with a keepalive of their own. */
  private watched = 0;
  private timer: NodeJS.Timeout | null = null;
  private everyMs = MAX_SWEEP_MS;
  private readonly passBound = (): void => this.pass();

  constructor(
    devices: number,
    private readonly connectTimeoutMs: number,
    private readonly sessions: SweptSessions,
  ) {
    this.wrote = new Uint8Array(devices);
    this.keepaliveS = new Uint16Array(devices);
    this.lastSentMs = new Float64Array(devices);
    this.pingSentMs = new Float64Array(devices);
  }

  /** `dev` starts connecting now, with `keepaliveS` kept here (0: none). */
  opened(dev: number, keepaliveS: number): void {
    this.keepaliveS[dev] = keepaliveS;
    this.lastSentMs[dev] = performance.now();
    this.pingSentMs[dev] = 0;
    if (dev >= this.highWater) this.highWater = dev + 1;
    this.watched++;
  }

  /** `dev`'s CONNACK came: a session its caller pings needs the pass no more. */
  established(dev: number): void {
    if (this.keepaliveS[dev] === 0) this.watched--;
  }

  /** `dev`'s session ended, open (`wasConnected`) or still connecting: call once per `opened`. */
  ended(dev: number, wasConnected: boolean): void {
    if (!wasConnected || this.keepaliveS[dev] !== 0) this.watched--;
  }

  /** True while the pass is scheduled (for tests and diagnostics). */
  get running(): boolean {
    return this.timer !== null;
  }

  /** Runs the pass often enough for a session with `keepaliveS` (0: none). */
  ensure(keepaliveS: number): void {
    // Sweep often enough to see a connect timeout or a keepalive deadline within 1/8 of it.
    const shortest = keepaliveS > 0 ? Math.min(this.connectTimeoutMs, keepaliveS * 1000) : this.connectTimeoutMs;
    const every = Math.max(MIN_SWEEP_MS, Math.min(MAX_SWEEP_MS, Math.floor(shortest / 8)));
    if (this.timer !== null && every >= this.everyMs) return;
    this.stop();
    this.everyMs = every;
    this.timer = setInterval(this.passBound, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The one periodic pass over all devices: timeouts and keepalive. */
  private pass(): void {
    const now = performance.now();
    const { wrote, keepaliveS, lastSentMs, pingSentMs, sessions } = this;
    const { state, conns } = sessions;
    // A PINGREQ goes out once the session has been quiet for keepalive - 2 sweeps: `lastSentMs`
    // is up to one sweep late and the next sweep up to one sweep away, so the broker never
    // sees more than one keepalive of silence (Mosquitto drops the client after 1.5).
    const slackMs = 2 * this.everyMs;
    for (let dev = 0; dev < this.highWater; dev++) {
      const st = state[dev];
      if (st === IDLE) continue;
      if (st === CONNECTING) {
        if (now - lastSentMs[dev] >= this.connectTimeoutMs) sessions.drop(conns[dev]!, 'CONNACK timeout', NET_TIMEOUT);
        continue;
      }
      if (wrote[dev] !== 0) {
        wrote[dev] = 0;
        lastSentMs[dev] = now;
      }
      const keepaliveMs = keepaliveS[dev] * 1000;
      if (keepaliveMs === 0) continue;
      if (pingSentMs[dev] !== 0) {
        if (now - pingSentMs[dev] >= keepaliveMs) sessions.drop(conns[dev]!, 'keepalive timeout: no PINGRESP', NET_TIMEOUT);
      } else if (now - lastSentMs[dev] >= keepaliveMs - slackMs) {
        conns[dev]!.socket.write(PINGREQ_FRAME);
        pingSentMs[dev] = now;
        lastSentMs[dev] = now;
      }
    }
    for (const conn of sessions.lingering) {
      if (now - conn.closingSinceMs >= this.connectTimeoutMs) conn.socket.destroy();
    }
    if (this.watched === 0 && sessions.lingering.size === 0) this.stop();
  }
}
