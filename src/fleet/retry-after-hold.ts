import { C } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { Stream, uniform32 } from '../models/rng.js';
import type { DeviceTable } from './device-table.js';
import type { Schedule } from './schedule.js';

export interface RetryAfterConfig {
  seed: number;
  /** Share of the Retry-After added at random (scenario `behaviour.retryAfterJitter`). */
  jitter: number;
  /** Schedule ms per ms of the backend's clock: the wall clock's timeScale, 1 on the virtual clock. */
  simMsPerAnswerMs: number;
}

/**
 * Retry-After (RFC 9110 §10.2.3) for every HTTP route of a device: an answer that carries one, on
 * any route and with any status, holds all the device's HTTP requests (provisioning, polls, state
 * reports, artifact downloads) until the wait is over. One hold per device, because the header
 * speaks for the server, not for one URL. The wait is Retry-After × (1 + jitter × u), u uniform
 * in [0, 1) from the device's own stream, so devices told to wait together come back spread out
 * (scenario `behaviour.retryAfterJitter`; RETRY_AFTER_JITTER_DEFAULT says why 100%).
 *
 * State: one time per device, allocated at the first Retry-After of the shard, so a run whose
 * backend never sends one pays no memory for it; draws use the backoff draw counter.
 */
export class RetryAfterHold {
  /** Schedule time before which each device sends no HTTP request; null until a Retry-After arrives. */
  private until: Float64Array | null = null;

  constructor(
    private readonly devices: DeviceTable,
    private readonly schedule: Schedule,
    private readonly metrics: ShardMetrics,
    private readonly cfg: RetryAfterConfig,
  ) {}

  /**
   * An answer for `dev` arrived with `retryAfterMs` (NO_RETRY_AFTER, i.e. negative, when it carried
   * none). Counts it (`http.retry_after`) and returns the wait (schedule ms) the device now keeps, or -1.
   */
  answered(dev: number, retryAfterMs: number): number {
    if (retryAfterMs < 0) return -1;
    this.metrics.inc(C['http.retry_after']);
    const d = this.devices;
    const u = uniform32(this.cfg.seed, d.firstDevice + dev, Stream.retryAfter, d.nextBackoffDraw(dev));
    // The server's clock is real time; the schedule's may run faster (wall clock with timeScale).
    const wait = retryAfterMs * (1 + this.cfg.jitter * u) * this.cfg.simMsPerAnswerMs;
    const until = (this.until ??= new Float64Array(d.count));
    const t = this.schedule.now() + wait;
    if (t > until[dev]) until[dev] = t;
    return wait;
  }

  /** The time before which `dev` must not send an HTTP request, when that is still ahead; else -1. */
  heldUntil(dev: number): number {
    const t = this.until === null ? 0 : this.until[dev];
    return t > this.schedule.now() ? t : -1;
  }
}
