import { grown, doubledCapacity } from '../../collections/grown.js';

/** The requests of one lockstep step, as sent to the fleet-wide backend (engine/shard/protocol.ts BackendArrivals). */
export interface StepArrivals {
  t: Float64Array;
  dev: Int32Array;
  op: Uint8Array;
  svc: Float64Array;
}

/** Outcomes of a queued request (engine/shard/protocol.ts ANSWER_*): served, or turned away at capacity (else dropped). */
export const SERVED = 0;
export const REJECTED = 1;

/** The fleet-wide backend's answers to one step (engine/shard/protocol.ts BackendAnswers). */
export interface StepAnswers {
  offsets: number[];
  doneAt: Float64Array;
  outcome: Uint8Array;
}

/**
 * A shard's requests to queueing operations, kept until the fleet-wide backend answers them at
 * the end of the lockstep step (engine/shard/virtual.ts). Per request: when, which device, which
 * operation, its service time, whether it fails once served, and a tag (the token of a QoS 1
 * publish). Typed arrays that grow, reused from step to step: no object per request.
 *
 * Concurrency: the shard's thread only. The answer callbacks only schedule events (a driver never
 * calls back synchronously), so no request is pushed while answers are handed out.
 */
export class QueuedRequests {
  private n = 0;
  private t = new Float64Array(256);
  private dev = new Int32Array(256);
  private op = new Uint8Array(256);
  private svc = new Float64Array(256);
  private failed = new Uint8Array(256);
  private tag = new Float64Array(256);

  constructor(private readonly firstDevice: number) {}

  get size(): number {
    return this.n;
  }

  push(t: number, dev: number, op: number, svc: number, failed: boolean, tag: number): void {
    if (this.n === this.t.length) {
      const cap = doubledCapacity(this.n, this.n + 1);
      this.t = grown(this.t, cap);
      this.dev = grown(this.dev, cap);
      this.op = grown(this.op, cap);
      this.svc = grown(this.svc, cap);
      this.failed = grown(this.failed, cap);
      this.tag = grown(this.tag, cap);
    }
    const i = this.n++;
    this.t[i] = t;
    this.dev[i] = dev;
    this.op[i] = op;
    this.svc[i] = svc;
    this.failed[i] = failed ? 1 : 0;
    this.tag[i] = tag;
  }

  /** This step's requests for the backend (copies; devices as global indices). */
  arrivals(): StepArrivals {
    const n = this.n;
    const dev = new Int32Array(n);
    for (let i = 0; i < n; i++) dev[i] = this.dev[i] + this.firstDevice;
    return { t: this.t.slice(0, n), dev, op: this.op.slice(0, n), svc: this.svc.slice(0, n) };
  }

  /**
   * Hands each request of this step its answer, in the order the devices made them, and empties
   * the list. `shard` is this shard's index in the answers.
   */
  answer(a: StepAnswers, shard: number, each: (dev: number, op: number, failed: boolean, tag: number, outcome: number, doneAt: number) => void): void {
    const first = a.offsets[shard];
    const count = a.offsets[shard + 1] - first;
    if (count !== this.n) throw new Error(`QueuedRequests: ${count} answers for ${this.n} requests`);
    for (let i = 0; i < count; i++) each(this.dev[i], this.op[i], this.failed[i] === 1, this.tag[i], a.outcome[first + i], a.doneAt[first + i]);
    this.n = 0;
  }

  /**
   * Answers every request without the fleet-wide backend (the run was stopped and the lockstep
   * ended): each is served at once, as if the backend had a free server.
   */
  answerAlone(each: (dev: number, op: number, failed: boolean, tag: number, outcome: number, doneAt: number) => void): void {
    for (let i = 0; i < this.n; i++) each(this.dev[i], this.op[i], this.failed[i] === 1, this.tag[i], 0, this.t[i] + this.svc[i]);
    this.n = 0;
  }
}
