/**
 * The balena API's per-device rate limit on log batches (open-balena-api
 * src/features/device-logs/index.ts: `points: 14, duration: 10, blockDuration: 10`, keyed by the
 * device uuid), with rate-limiter-flexible's fixed-window semantics: the window opens at a key's
 * first batch; past `points` batches in it the key is blocked for `blockDuration` from that
 * moment; a refused batch learns the time left (the API's Retry-After, whole seconds rounded up).
 * The API's comment calls this "15 batches"; the limiter refuses the 15th (consumed > points).
 *
 * Concurrency: the fake's event loop only.
 */
export const LOG_BATCH_POINTS = 14;
export const LOG_BATCH_WINDOW_MS = 10_000;
export const LOG_BATCH_BLOCK_MS = 10_000;

interface Window {
  consumed: number;
  expiresAt: number;
}

export class LogRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly now: () => number) {}

  /** Consumes one batch for `key`: 0 when allowed, else the ms before the next is (> 0). */
  consume(key: string): number {
    const t = this.now();
    let w = this.windows.get(key);
    if (w === undefined || w.expiresAt <= t) {
      w = { consumed: 0, expiresAt: t + LOG_BATCH_WINDOW_MS };
      this.windows.set(key, w);
    }
    w.consumed++;
    if (w.consumed <= LOG_BATCH_POINTS) return 0;
    // Blocked once, when the limit is first passed; later refusals keep that block.
    if (w.consumed === LOG_BATCH_POINTS + 1) w.expiresAt = t + LOG_BATCH_BLOCK_MS;
    return Math.max(1, w.expiresAt - t);
  }
}
