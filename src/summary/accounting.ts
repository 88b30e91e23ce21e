/**
 * Where every telemetry message went: generated = acked + sentNoAck + failed + dropped + buffered.
 * One type from a shard's pipeline (fleet/telemetry-pipeline.ts) through the shard's final
 * message to summary.json, where the sum over all shards is checked.
 */
export interface TelemetryAccounting {
  generated: number;
  acked: number;
  sentNoAck: number;
  failed: number;
  dropped: number;
  /** Still in a device buffer or in flight when the run ended. */
  buffered: number;
}

/** What the backend counted, where it can (the embedded backend can). */
export interface BackendCounts {
  received: number;
  duplicates: number;
  gaps: number;
}

/** summary.json's `accounting`: the counts, whether the identity holds, and the backend's view. */
export type AccountingSummary = TelemetryAccounting & {
  holds: boolean;
  backend?: BackendCounts & {
    /** acked + sentNoAck - received (delivered per the simulator, never seen by the backend). */
    lostBetween: number;
  };
};

/** Sums the shards' accounting and checks the identity (key order is summary.json's). */
export function accountingSummary(parts: readonly TelemetryAccounting[], backendCounts?: BackendCounts): AccountingSummary {
  const sum = (k: keyof TelemetryAccounting) => parts.reduce((a, p) => a + p[k], 0);
  const acc: AccountingSummary = {
    generated: sum('generated'),
    acked: sum('acked'),
    sentNoAck: sum('sentNoAck'),
    failed: sum('failed'),
    dropped: sum('dropped'),
    buffered: sum('buffered'),
    holds: false,
  };
  acc.holds = acc.generated === acc.acked + acc.sentNoAck + acc.failed + acc.dropped + acc.buffered;
  if (backendCounts) acc.backend = { ...backendCounts, lostBetween: acc.acked + acc.sentNoAck - backendCounts.received };
  return acc;
}
