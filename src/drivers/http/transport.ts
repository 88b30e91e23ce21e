import type { Dispatcher } from 'undici';
import { type Client, type Pool, undiciClient, undiciPool } from './undici-dispatchers.js';
import { CANCELLED, NET_TIMEOUT, NO_RETRY_AFTER, type HttpTransport, type HttpTransportEvents, type HttpTransportOptions, type TlsSettings } from '../types.js';
import { RequestSlot, TIMED_OUT, TRANSPORT_CLOSED, type SlotOwner } from './request-slot.js';
import { DeadlineList } from './deadline-list.js';

/**
 * The undici-based HTTP transport. Each request is one `Dispatcher.dispatch` with a recycled
 * RequestSlot as its handler: no promise, closure or timer of ours per request.
 *
 * Timeouts: unanswered slots sit in a DeadlineList (deadline-list.ts); an expired request is
 * answered with NET_TIMEOUT and aborted in undici (a queued one is aborted as soon as undici
 * starts it). The deadline therefore covers pool queueing, connecting and the response.
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
  private readonly deadlines: DeadlineList<RequestSlot>;
  private unanswered = 0;
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
    this.deadlines = new DeadlineList(opts.timeoutMs, (slot) => this.expired(slot));
    if (opts.connections === 'pooled') {
      this.pool = new (undiciPool())(opts.baseUrl, { connections: Math.max(1, opts.poolSize), pipelining: 1, connectTimeout: opts.timeoutMs, ...undiciTls(opts.tls) });
      this.clients = [];
    } else {
      this.pool = null;
      this.clients = new Array(opts.devices);
    }
  }

  request(
    dev: number,
    op: number,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
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
    this.deadlines.add(slot);
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
    this.deadlines.stop();
    // destroy() fails everything queued or running with onResponseError: each is answered as
    // CANCELLED, since fleetsim, not the backend, cut it off.
    const done: Promise<void>[] = [];
    if (this.pool !== null) done.push(this.pool.destroy(TRANSPORT_CLOSED));
    for (const c of this.clients) if (c !== undefined) done.push(c.destroy(TRANSPORT_CLOSED));
    await Promise.all(done);
    // Anything undici did not fail (none expected) is answered now, so accounting can close.
    for (let slot = this.deadlines.shift(); slot !== null; slot = this.deadlines.shift()) this.answer(slot, CANCELLED);
    this.flushDeferred();
  }

  // --- SlotOwner ---

  settle(slot: RequestSlot, _err: Error | null): void {
    if (slot.answered) {
      this.recycle(slot);
      return;
    }
    this.deadlines.remove(slot);
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
      c = new (undiciClient())(this.opts.baseUrl, { pipelining: 1, connectTimeout: this.opts.timeoutMs, ...undiciTls(this.opts.tls) });
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

  /** `slot`'s deadline passed (it is off the deadline list). */
  private expired(slot: RequestSlot): void {
    this.answer(slot, NET_TIMEOUT);
    // May settle synchronously (then the slot is recycled); a queued slot aborts when it starts.
    slot.controller?.abort(TIMED_OUT);
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
