import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { Client, Pool } from './undici-dispatchers.js';
import { CANCELLED, NET_TIMEOUT, NO_RETRY_AFTER, type HttpTransport, type HttpTransportEvents, type HttpTransportOptions, type TlsSettings } from '../types.js';
import { RequestSlot, TIMED_OUT, TRANSPORT_CLOSED, type SlotOwner } from './request-slot.js';

/**
 * The undici-based HTTP transport. Each request is one `Dispatcher.dispatch` with a recycled
 * RequestSlot as its handler: no promise, closure or timer of ours per request.
 *
 * Timeouts: every request has the same timeout, so deadlines are in dispatch order. Unanswered
 * slots sit in an intrusive FIFO list and one timer, armed for the head's deadline, answers
 * expired requests with NET_TIMEOUT and aborts them in undici (a queued one is aborted as soon as
 * undici starts it). The deadline therefore covers pool queueing, connecting and the response.
 *
 * Concurrency (see drivers/types.ts): single-threaded; callbacks never run inside `request`. An
 * error undici reports synchronously from `dispatch` (closed dispatcher, bad argument) is queued
 * and answered on a later tick via setImmediate.
 */

export function createUndiciHttpTransport(opts: HttpTransportOptions, events: HttpTransportEvents): HttpTransport {
  return new UndiciHttpTransport(opts, events);
}

class UndiciHttpTransport implements HttpTransport, SlotOwner {
  private readonly free: RequestSlot[] = [];
  private head: RequestSlot | null = null;
  private tail: RequestSlot | null = null;
  private unanswered = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly onTimer = (): void => this.expire();
  /** True while inside undici's dispatch: answers then must wait for a later tick. */
  private dispatching = false;
  private readonly deferred: RequestSlot[] = [];
  private flushScheduled = false;
  private readonly onFlush = (): void => this.flushDeferred();
  private closed = false;

  private readonly pool: Pool | null;
  private readonly clients: Array<Client | undefined>;

  constructor(
    private readonly opts: HttpTransportOptions,
    private readonly events: HttpTransportEvents,
  ) {
    if (opts.connections === 'pooled') {
      this.pool = new Pool(opts.baseUrl, { connections: Math.max(1, opts.poolSize), pipelining: 1, connectTimeout: opts.timeoutMs, ...undiciTls(opts.tls) });
      this.clients = [];
    } else {
      this.pool = null;
      this.clients = new Array(opts.devices);
    }
  }

  request(
    dev: number,
    op: number,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    authorization: string | undefined,
    body: string | undefined,
    ifNoneMatch?: string,
    headers?: readonly string[],
  ): void {
    const slot = this.free.pop() ?? new RequestSlot(this, this.opts.timeoutMs);
    slot.prepare(dev, op, method, path, authorization, body, ifNoneMatch, headers);
    this.unanswered++;
    if (this.closed) {
      slot.answered = true;
      slot.status = CANCELLED;
      this.defer(slot);
      return;
    }
    slot.deadline = performance.now() + this.opts.timeoutMs;
    this.link(slot);
    this.dispatching = true;
    try {
      this.dispatcherFor(dev).dispatch(slot.opts, slot);
    } finally {
      this.dispatching = false;
    }
  }

  inFlight(): number {
    return this.unanswered;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    // destroy() fails everything queued or running with onResponseError: each is answered as
    // CANCELLED, since fleetsim, not the backend, cut it off.
    const done: Promise<void>[] = [];
    if (this.pool !== null) done.push(this.pool.destroy(TRANSPORT_CLOSED));
    for (const c of this.clients) if (c !== undefined) done.push(c.destroy(TRANSPORT_CLOSED));
    await Promise.all(done);
    // Anything undici did not fail (none expected) is answered now, so accounting can close.
    while (this.head !== null) {
      const slot = this.head;
      this.unlink(slot);
      this.answer(slot, CANCELLED);
    }
    this.flushDeferred();
  }

  // --- SlotOwner ---

  settle(slot: RequestSlot, _err: Error | null): void {
    if (slot.answered) {
      this.recycle(slot);
      return;
    }
    this.unlink(slot);
    if (this.dispatching) {
      slot.answered = true;
      this.defer(slot);
      return;
    }
    this.answer(slot, slot.status);
    this.recycle(slot);
  }

  // --- internals ---

  private dispatcherFor(dev: number): Dispatcher {
    if (this.pool !== null) return this.pool;
    let c = this.clients[dev];
    if (c === undefined) {
      c = new Client(this.opts.baseUrl, { pipelining: 1, connectTimeout: this.opts.timeoutMs, ...undiciTls(this.opts.tls) });
      this.clients[dev] = c;
    }
    return c;
  }

  /** Tells the caller `status` (the slot's own, or a pseudo-status); marks the slot answered. Does not recycle it. */
  private answer(slot: RequestSlot, status: number): void {
    slot.answered = true;
    this.unanswered--;
    this.report(slot, status);
  }

  private report(slot: RequestSlot, status: number): void {
    if (status < 100) this.events.onHttpResponse(slot.dev, slot.op, status, '', NO_RETRY_AFTER, undefined);
    else this.events.onHttpResponse(slot.dev, slot.op, status, slot.body(), slot.retryAfterMs, slot.etag);
  }

  private recycle(slot: RequestSlot): void {
    slot.reset();
    this.free.push(slot);
  }

  /** A slot settled (or refused) during `request`: answered on a later tick, then recycled. */
  private defer(slot: RequestSlot): void {
    this.deferred.push(slot);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onFlush);
    }
  }

  private flushDeferred(): void {
    this.flushScheduled = false;
    while (this.deferred.length > 0) {
      const batch = this.deferred.splice(0);
      for (const slot of batch) {
        this.unanswered--;
        this.report(slot, slot.status);
        this.recycle(slot);
      }
    }
  }

  private link(slot: RequestSlot): void {
    slot.prev = this.tail;
    slot.next = null;
    if (this.tail !== null) this.tail.next = slot;
    else this.head = slot;
    this.tail = slot;
    slot.linked = true;
    if (this.timer === null) this.arm();
  }

  private unlink(slot: RequestSlot): void {
    if (!slot.linked) return;
    if (slot.prev !== null) slot.prev.next = slot.next;
    else this.head = slot.next;
    if (slot.next !== null) slot.next.prev = slot.prev;
    else this.tail = slot.prev;
    slot.prev = slot.next = null;
    slot.linked = false;
  }

  private arm(): void {
    if (this.head === null || this.closed) return;
    const delay = Math.max(0, Math.ceil(this.head.deadline - performance.now()));
    this.timer = setTimeout(this.onTimer, delay);
    // Sockets keep the process alive while requests run; the deadline timer alone must not.
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head !== null && this.head.deadline <= now) {
      const slot = this.head;
      this.unlink(slot);
      this.answer(slot, NET_TIMEOUT);
      // May settle synchronously (then the slot is recycled); a queued slot aborts when it starts.
      slot.controller?.abort(TIMED_OUT);
    }
    this.arm();
  }
}

/**
 * undici's connect options for https:// targets. undici keeps a cache of TLS sessions per server
 * name (maxCachedSessions, 100 by default) and resumes them on new connections, so reconnects
 * skip the full handshake without more from us.
 */
export function undiciTls(t: TlsSettings | undefined): { connect?: { ca?: string; servername?: string; rejectUnauthorized: boolean } } {
  if (t === undefined) return {};
  return { connect: { ...(t.ca === undefined ? {} : { ca: t.ca }), ...(t.servername === undefined ? {} : { servername: t.servername }), rejectUnauthorized: t.insecure !== true } };
}
