import type { ModelFaults } from './fault-model.js';
import { K_BROKER_KEEPALIVE, K_PINGRESP } from './model-event-kinds.js';

/**
 * The modelled broker's keepalive check (MQTT 3.1.1 §3.1.2.10): a broker closes a session it has
 * heard nothing from for 1.5 keepalives, and the device hears the close (a blackhole's fault proxy
 * passes the broker's close on as well). What it hears: every packet of the session that reaches
 * the broker (CONNECT, PUBLISH, PINGREQ), after its way up the modelled link; a blackhole swallows
 * them, so a blackholed session is closed 1.5 keepalives after its last packet got through; a link
 * whose delay varies by more than half a keepalive gets a session closed now and then, as a real
 * broker would close it.
 *
 * Lazy, as fleet/keepalive.ts: at most one pending check per device; a packet only moves
 * `heardAt`, and a check that finds the session heard from since plans the next one. No event per
 * packet. Concurrency: the shard's thread only.
 */
export class BrokerKeepalive {
  private readonly heardAt: Float64Array;
  /** When the device's pending check comes due; NaN when none is pending. */
  private readonly checkAt: Float64Array;

  constructor(
    devices: number,
    /** 1.5 keepalives, ms; 0: the broker checks nothing (keepalive 0). */
    private readonly graceMs: number,
  ) {
    this.heardAt = new Float64Array(devices);
    this.checkAt = new Float64Array(devices).fill(NaN);
  }

  /** The broker heard from `dev` at `t`. Returns when to check it (schedule that), or -1 when a check is pending already. */
  heard(dev: number, t: number): number {
    this.heardAt[dev] = t;
    if (this.graceMs <= 0 || this.checkAt[dev] === this.checkAt[dev]) return -1;
    return (this.checkAt[dev] = t + this.graceMs);
  }

  /**
   * The check due at `t` for a session that is `open`: 0 when the broker closes it now, else when
   * to check again (schedule that), or -1 when nothing is left to check (the session ended).
   */
  check(dev: number, t: number, open: boolean): number {
    this.checkAt[dev] = NaN;
    if (!open) return -1;
    const due = this.heardAt[dev] + this.graceMs;
    if (t >= due) return 0;
    return (this.checkAt[dev] = due);
  }
}

/**
 * The model driver's plumbing for the broker's keepalive: the packets of a session the broker
 * hears (unless a blackhole swallowed them on the way), PINGRESPs, and the checks, as the
 * driver's own event kinds on the shard's clock (answered through the driver's `handle`).
 * Concurrency: the shard's thread only.
 */
export class ModelBrokerKeepalive {
  /** The broker's checks; absent: none (keepalive 0, or switched off at the run's end). */
  private checks: BrokerKeepalive | undefined;
  /** Fault phases against this backend (absent: none): a blackhole swallows packets. */
  private faults: Pick<ModelFaults, 'holed'> | undefined;

  constructor(
    private readonly devices: number,
    private readonly clock: { now(): number; at(timeMs: number, dev: number, kind: number): void },
    /** First of the driver's event kinds (the K_* offsets are added to it). */
    private readonly kindBase: number,
  ) {}

  /** The broker's keepalive check (1.5 × `keepaliveMs`; not called or 0: none, and 0 switches it off), as the wall clock's broker does it. */
  use(keepaliveMs: number): void {
    this.checks = keepaliveMs > 0 ? new BrokerKeepalive(this.devices, 1.5 * keepaliveMs) : undefined;
  }

  useFaults(faults: Pick<ModelFaults, 'holed'>): void {
    this.faults = faults;
  }

  /** A packet of `dev`'s session reached the broker now, unless a blackhole swallowed it. */
  heard(dev: number): void {
    const t = this.clock.now();
    if (this.faults?.holed(dev, t) === true) return;
    const at = this.checks?.heard(dev, t) ?? -1;
    if (at >= 0) this.clock.at(at, dev, this.kindBase + K_BROKER_KEEPALIVE);
  }

  /** A PINGREQ of an open session: answered at once (a broker writes the PINGRESP from its network loop), unless a blackhole swallows it. */
  ping(dev: number): void {
    if (this.faults?.holed(dev, this.clock.now()) === true) return;
    this.heard(dev);
    this.clock.at(this.clock.now(), dev, this.kindBase + K_PINGRESP);
  }

  /** The check of `dev`'s session (`open` or not) due now: true when the broker closes it now; else the next check, if any, is scheduled. */
  closesNow(dev: number, open: boolean): boolean {
    if (this.checks === undefined) return false; // switched off at the run's end
    const next = this.checks.check(dev, this.clock.now(), open);
    if (next > 0) this.clock.at(next, dev, this.kindBase + K_BROKER_KEEPALIVE);
    return next === 0;
  }
}
