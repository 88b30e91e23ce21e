/**
 * Where every telemetry message went. Each generated message ends in exactly one outcome, so
 *
 *   generated = acked + sentNoAck + failed + dropped + lostOnLink + inTransitAtDrop + inTransitAtEnd + buffered.
 *
 * One type from a shard's pipeline (fleet/telemetry-pipeline.ts, which books the outcomes)
 * through the shard's final message to summary.json, where the sum over all shards is checked;
 * the summary builder, `merge` and the reports close and print the identity with the functions
 * here, so there is one formula.
 */
export interface TelemetryAccounting {
  generated: number;
  /** QoS 1: PUBACK received. */
  acked: number;
  /** QoS 0: written to a live session (past the modelled link); no ack exists. */
  sentNoAck: number;
  /** QoS 1: on the wire, no PUBACK when the session ended (the backend may have it). */
  failed: number;
  /** Dropped on the device: buffer full, or larger than its radio can send. */
  dropped: number;
  /** Lost by the modelled link: TCP gave the connection up while retransmitting it. */
  lostOnLink: number;
  /** Still on the modelled link when the session ended: it never reached the backend. */
  inTransitAtDrop: number;
  /** Still on the modelled link when the run ended. */
  inTransitAtEnd: number;
  /** Still in a device buffer, or on the wire awaiting its PUBACK, when the run ended. */
  buffered: number;
  /** Of acked + sentNoAck: delivered from a device's buffer after it reconnected from a lost session. Not an outcome. */
  deliveredAfterReconnect: number;
}

/** The outcomes, in summary.json's key order, with the name people read. */
export const OUTCOMES = [
  ['acked', 'acked'],
  ['sentNoAck', 'sent_noack'],
  ['failed', 'failed'],
  ['dropped', 'dropped'],
  ['lostOnLink', 'lost on link'],
  ['inTransitAtDrop', 'in transit at drop'],
  ['inTransitAtEnd', 'in transit at end'],
  ['buffered', 'buffered'],
] as const satisfies ReadonlyArray<readonly [keyof TelemetryAccounting, string]>;

type OutcomeKey = (typeof OUTCOMES)[number][0];

/** Sum of the outcomes; equals `generated` when the identity holds. Missing ones (older summaries) count 0. */
export function accountedFor(a: Partial<Record<OutcomeKey, number>>): number {
  let sum = 0;
  for (const [k] of OUTCOMES) sum += a[k] ?? 0;
  return sum;
}

/** Outcomes fleetsim knows never reached the backend: dropped on the device, lost on the link, on the link when the session ended. */
export function lostOnOurSide(a: Partial<TelemetryAccounting>): number {
  return (a.dropped ?? 0) + (a.lostOnLink ?? 0) + (a.inTransitAtDrop ?? 0);
}

/** What the backend counted, where it can (the embedded backend can). */
export interface BackendCounts {
  received: number;
  duplicates: number;
  gaps: number;
  /** MQTT publishes and subscriptions the broker refused as outside the client's own topics (embedded broker only). */
  refusedPublishes?: number;
  refusedSubscribes?: number;
  /**
   * Counted from brokers' subscriptions (local Mosquitto, a broker by URL): messages the brokers
   * said they dropped on their way to subscribers, the backend's counter among them. They reached
   * the broker, so they are not lost between; `received` and `gaps` miss them.
   */
  uncounted?: number;
  /** Counted from brokers' subscriptions: one sentence per broker whose count could not be confirmed complete, with why (backend/count-confirmation.ts). */
  unconfirmed?: string[];
}

/** summary.json's `accounting`: the counts, whether the identity holds, and the backend's view. */
export type AccountingSummary = TelemetryAccounting & {
  holds: boolean;
  backend?: BackendCounts & {
    /**
     * max(0, acked + sentNoAck - received - uncounted): delivered as far as the simulator knows,
     * never seen by the backend nor dropped on the way to its counter. Net, like the next one: both
     * come from totals, not from matching messages. With a count not confirmed complete
     * (`unconfirmed`) it is an upper bound.
     */
    lostBetween: number;
    /**
     * max(0, received - acked - sentNoAck): messages the backend received whose acknowledgement
     * never reached the device (the session ended first: a broker restart, a dropped link), so
     * fleetsim booked them failed or in transit at the drop. Never a negative "lost".
     */
    arrivedUnacknowledged: number;
  };
};

/**
 * Sums the shards' (or merged runs') accounting and checks the identity (key order is
 * summary.json's). Fields missing from summaries older than them count 0.
 */
export function accountingSummary(parts: ReadonlyArray<Partial<TelemetryAccounting>>, backendCounts?: BackendCounts): AccountingSummary {
  const sum = (k: keyof TelemetryAccounting) => parts.reduce((a, p) => a + (p[k] ?? 0), 0);
  const acc = { generated: sum('generated') } as AccountingSummary;
  for (const [k] of OUTCOMES) acc[k] = sum(k);
  acc.deliveredAfterReconnect = sum('deliveredAfterReconnect');
  acc.holds = acc.generated === accountedFor(acc);
  if (backendCounts) {
    const delivered = acc.acked + acc.sentNoAck;
    const received = backendCounts.received;
    acc.backend = { ...backendCounts, lostBetween: Math.max(0, delivered - received - (backendCounts.uncounted ?? 0)), arrivedUnacknowledged: Math.max(0, received - delivered) };
  }
  return acc;
}

/**
 * `telemetry.lost`: what never reached the backend. fleetsim's own side (dropped, lost on the
 * link, in transit when the session ended), QoS 1 messages that failed without a PUBACK, and,
 * when the backend can count, what it says it never received of the rest.
 */
export function telemetryLost(a: AccountingSummary): number {
  return lostOnOurSide(a) + a.failed + Math.max(0, a.backend?.lostBetween ?? 0);
}

/**
 * `backend.uncounted` and `backend.count_unconfirmed` (metrics/catalog.ts, DERIVED) when the
 * backend counted from brokers' subscriptions; none otherwise, so a threshold on them has no data.
 */
export function backendCountCounters(a: AccountingSummary): Record<string, number> {
  const b = a.backend;
  if (b === undefined || (b.uncounted === undefined && b.unconfirmed === undefined)) return {};
  return { 'backend.uncounted': b.uncounted ?? 0, 'backend.count_unconfirmed': b.unconfirmed?.length ?? 0 };
}
