import { performance } from 'node:perf_hooks';

/**
 * An entry of a DeadlineList. The links live in the entry itself (an intrusive list), so putting
 * a request on the list or taking it off allocates nothing.
 */
export interface Deadlined<T> {
  /** performance.now() after which the entry expires. */
  deadline: number;
  prev: T | null;
  next: T | null;
  /** True while on the list (a transport recycles a request only once it is off). */
  linked: boolean;
}

/**
 * The unanswered requests of an HTTP transport, earliest deadline first, and the one timer that
 * expires them. Every request of a transport has the same timeout, so appending keeps the list in
 * deadline order: the timer is armed for the head only, and there is no timer, closure or promise
 * per request.
 *
 * Concurrency: single-threaded. `onExpired` may add and remove entries (an answer can lead to a new
 * request at once); the walk reads the head again after each call.
 */
export class DeadlineList<T extends Deadlined<T>> {
  private head: T | null = null;
  private tail: T | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly onTimer = (): void => this.expire();

  constructor(
    private readonly timeoutMs: number,
    /** Called for each expired entry, after it left the list. */
    private readonly onExpired: (entry: T) => void,
  ) {}

  /** Appends `e` with its deadline `timeoutMs` from now. */
  add(e: T): void {
    e.deadline = performance.now() + this.timeoutMs;
    e.prev = this.tail;
    e.next = null;
    if (this.tail !== null) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    e.linked = true;
    this.arm();
  }

  /** Takes `e` off the list; nothing when it is not on it. */
  remove(e: T): void {
    if (!e.linked) return;
    if (e.prev !== null) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = null;
    e.linked = false;
  }

  /** The entry with the earliest deadline, taken off the list; null when the list is empty. */
  shift(): T | null {
    const e = this.head;
    if (e !== null) this.remove(e);
    return e;
  }

  /** No more expiry (the transport closes): the timer is cleared and never armed again. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    // An armed timer is never later than the head's deadline (the head only moves to later ones).
    if (this.timer !== null || this.head === null || this.stopped) return;
    const delay = Math.max(0, Math.ceil(this.head.deadline - performance.now()));
    this.timer = setTimeout(this.onTimer, delay);
    // Sockets keep the process alive while requests run; the deadline timer alone must not.
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head !== null && this.head.deadline <= now) this.onExpired(this.shift()!);
    this.arm();
  }
}
