/**
 * Faults a scenario injects into the backend path (scenario phases with a `backend:` block), as
 * the engine and the fault proxy consume them: times in ms of scenario time, shares as fractions.
 * scenario/resolve.ts builds these from the YAML; nothing here parses text.
 */

/** HTTP routes of the reference protocol a fault can pick (metrics/request-errors.ts names them the same). */
export const FAULT_HTTP_ROUTES = ['provision', 'poll', 'state', 'artifact'] as const;
export type FaultHttpRoute = (typeof FAULT_HTTP_ROUTES)[number];

/** Added latency: a fixed delay, or a draw per request from a distribution with this median. */
export type FaultLatency = { kind: 'fixed'; ms: number } | { kind: 'lognormal' | 'exponential' | 'pareto' | 'weibull'; medianMs: number; shape?: number };

/** What an HTTP fault does to a request it picks. */
export type HttpFaultAction =
  /** Answer this status (with an empty JSON error body) and, when set, Retry-After (whole seconds). */
  | { kind: 'status'; status: number; retryAfterMs?: number }
  /** Forward the request, and hold the answer this much longer. */
  | { kind: 'latency'; latency: FaultLatency }
  /** Close the connection without an answer (TCP RST). */
  | { kind: 'reset' }
  /** Never answer: the client's own timeout (or its stop) ends the request. */
  | { kind: 'stall' }
  /** Answer 200 with a body that is not JSON (garbage) or JSON of the wrong shape. */
  | { kind: 'body'; body: 'garbage' | 'wrong-shape' };

/** What an MQTT fault does. */
export type MqttFaultAction =
  /** Close picked sessions at the phase start; while the phase lasts, their new sessions are closed after CONNECT. */
  | { kind: 'disconnect' }
  /** Answer picked CONNECTs with a CONNACK refusal of this return code (1..5) and close. */
  | { kind: 'refuse'; code: number }
  /** Drop the broker's PUBACKs to picked sessions, so QoS 1 publishes go unacknowledged (and are retried). */
  | { kind: 'drop-pubacks' }
  /** Partition: bytes stop both ways for picked sessions; sockets stay open. */
  | { kind: 'blackhole' };

/** Which devices a fault applies to; every given condition must hold (absent: all devices). */
export interface FaultScope {
  /** Share of devices (picked per device, the same for the whole phase). */
  devices?: number;
  /** Hardware profile name (fleet[].profile). */
  profile?: string;
  /** Link type name (fleet[].link). */
  link?: string;
  /** Share of cells (fleet[].cells), picked like a cell outage. */
  cells?: number;
}

export type BackendFault =
  | { target: 'http'; routes: readonly FaultHttpRoute[]; share: number; action: HttpFaultAction }
  | { target: 'mqtt'; share: number; action: MqttFaultAction }
  /** Kill the local Mosquitto processes and start them again on the same ports after `forMs`. */
  | { target: 'broker'; action: { kind: 'restart' } };

/** One fault phase: from `atMs` for `forMs` (scenario time), on the devices of `scope`. */
export interface FaultPhase {
  /** Index among the scenario's phases (keys the phase's draws and names it in reports). */
  index: number;
  atMs: number;
  forMs: number;
  scope: FaultScope;
  fault: BackendFault;
}

/** A short label of a fault for reports: `http 503 provision,poll 30% Retry-After 5s`. */
export function faultLabel(f: BackendFault): string {
  const pct = (x: number) => (x === 1 ? '' : ` ${+(x * 100).toFixed(2)}%`);
  if (f.target === 'broker') return 'broker restart';
  if (f.target === 'mqtt') return `mqtt ${f.action.kind}${f.action.kind === 'refuse' ? ` (CONNACK ${f.action.code})` : ''}${pct(f.share)}`;
  const a = f.action;
  const what =
    a.kind === 'status' ? `${a.status}${a.retryAfterMs === undefined ? '' : ` Retry-After ${a.retryAfterMs / 1000}s`}`
    : a.kind === 'latency' ? `latency ${a.latency.kind === 'fixed' ? `${a.latency.ms}ms` : `${a.latency.kind} median ${a.latency.medianMs}ms`}`
    : a.kind === 'body' ? `${a.body} body`
    : a.kind;
  return `http ${what} ${f.routes.join(',')}${pct(f.share)}`;
}
