/**
 * `summary.json` → `backend`: the modelled backend's queues (virtual clock, `backend:` in the
 * scenario), one entry per operation that queues (a finite number of servers). Built by the
 * coordinator's fleet-wide backend (engine/fleet-backend.ts), the one queue every shard used.
 */
export interface BackendQueues {
  /** Simulated ms between the exchanges that make the queue fleet-wide (see `heldToStep`). */
  lockstepMs: number;
  operations: Record<string, BackendQueueStats>;
}

export interface BackendQueueStats {
  servers: number;
  /** Waiting room (operations that may wait for a server); null: no limit. */
  queueLimit: number | null;
  whenFull: 'reject' | 'drop';
  /** Operations that reached the backend. */
  arrivals: number;
  /** Admitted and served (a served operation may still fail with the failure probability). */
  served: number;
  /** Turned away with an error (429/503 with Retry-After, CONNACK 3) because every server was busy and the waiting room full. */
  rejected: number;
  /** Turned away by dropping the connection. */
  dropped: number;
  /** Busy server time / (servers × simulated time), 0..1. */
  utilisation: number;
  /** Time admitted operations waited for a server, ms. */
  waitMs: { mean: number; p50: number; p99: number; max: number };
  /** Share of admitted operations that waited at all (Erlang C's P(wait > 0) for M/M/c). */
  waitedShare: number;
  /**
   * Answers that were ready before the end of the lockstep step their request arrived in, and
   * reached their device only then: how many, and the mean extra ms. A cost of the fleet-wide
   * queue (engine/fleet-backend.ts): shorten `backend.lockstep` to make it smaller.
   */
  heldToStep: { count: number; meanMs: number };
}
