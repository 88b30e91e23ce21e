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
