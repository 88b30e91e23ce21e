/**
 * Injected misbehaviour of the embedded HTTP API, so that tests (and demos) can see how devices
 * cope with an overloaded or slow backend: answer the first N requests of a route with 503 and a
 * Retry-After, delay them, or both.
 */

export type FaultRoute = 'provision' | 'target' | 'state' | 'artifact';

export interface FaultRule {
  /** Answer with this status (and an empty JSON error body) instead of serving the request. */
  status?: number;
  /** Retry-After header value: seconds as a number, or a raw header string (e.g. an HTTP date). */
  retryAfter?: number | string;
  /** Hold the answer this long (milliseconds) before sending it, faulted or not. */
  delayMs?: number;
  /** Artifact route only: end the connection after this many body bytes (an interrupted download). */
  cutAfterBytes?: number;
  /** Apply to the first N requests of the route only (default: every request). */
  first?: number;
}

export type FaultPlan = Partial<Record<FaultRoute, FaultRule>>;

export class Faults {
  private plan: FaultPlan = {};
  private readonly applied: Record<FaultRoute, number> = { provision: 0, target: 0, state: 0, artifact: 0 };

  constructor(plan?: FaultPlan) {
    if (plan) this.set(plan);
  }

  /** Replaces the plan and restarts the "first N" counts. */
  set(plan: FaultPlan): void {
    this.plan = { ...plan };
    this.applied.provision = 0;
    this.applied.target = 0;
    this.applied.state = 0;
    this.applied.artifact = 0;
  }

  /** The rule that applies to this request of `route`, counting it, or undefined. */
  take(route: FaultRoute): FaultRule | undefined {
    const rule = this.plan[route];
    if (rule === undefined) return undefined;
    if (rule.first !== undefined && this.applied[route] >= rule.first) return undefined;
    this.applied[route]++;
    return rule;
  }

  /** How many requests of `route` the current plan has affected. */
  appliedCount(route: FaultRoute): number {
    return this.applied[route];
  }
}
