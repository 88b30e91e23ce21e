import { performance } from 'node:perf_hooks';

/**
 * The entries (devices, or a device's requests: `dev * n + op`) waiting for an answer, earliest
 * deadline first, and the one timer that expires them. An entry is on the list at most once;
 * appending keeps deadline order because every entry has the same timeout. Links are typed arrays
 * over entry indices, so waiting allocates no entry, closure or timer of its own.
 *
 * Concurrency: the shard's one thread; `onExpired` runs from the timer.
 */
export class DeviceDeadlines {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly at: Float64Array;
  private readonly linked: Uint8Array;
  private head = -1;
  private tail = -1;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly onTimer = (): void => this.expire();

  constructor(
    entries: number,
    private readonly timeoutMs: number,
    /** Called for each expired entry, after it left the list. */
    private readonly onExpired: (entry: number) => void,
  ) {
    this.prev = new Int32Array(entries).fill(-1);
    this.next = new Int32Array(entries).fill(-1);
    this.at = new Float64Array(entries);
    this.linked = new Uint8Array(entries);
  }

  add(entry: number): void {
    this.remove(entry);
    this.at[entry] = performance.now() + this.timeoutMs;
    this.prev[entry] = this.tail;
    this.next[entry] = -1;
    if (this.tail >= 0) this.next[this.tail] = entry;
    else this.head = entry;
    this.tail = entry;
    this.linked[entry] = 1;
    this.arm();
  }

  remove(entry: number): void {
    if (this.linked[entry] === 0) return;
    const p = this.prev[entry];
    const n = this.next[entry];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.prev[entry] = this.next[entry] = -1;
    this.linked[entry] = 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer !== null || this.head < 0 || this.stopped) return;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(this.at[this.head] - performance.now())));
    // The sessions keep the process alive while requests wait; the deadline timer alone must not.
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head >= 0 && this.at[this.head] <= now) {
      const entry = this.head;
      this.remove(entry);
      this.onExpired(entry);
    }
    this.arm();
  }
}
