import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { parseRetryAfterMs } from './retry-after.js';
import { netCause } from '../net-cause.js';
import { CANCELLED, NET_TIMEOUT, NO_RETRY_AFTER } from '../types.js';
import type { Deadlined } from './deadline-list.js';

/**
 * One in-flight HTTP request, as an undici dispatch handler (the controller API of undici 7:
 * onRequestStart / onResponseStart / onResponseData / onResponseEnd / onResponseError).
 * Slots are recycled through a free list by the transport, so a request costs no closure or
 * promise of ours; the dispatch options and header array live in the slot and are reused too.
 *
 * Lifecycle: the transport fills a slot and dispatches it. Exactly one of onResponseEnd or
 * onResponseError ends undici's use of it ("settled"); only then may the slot be reused. The caller
 * is answered once: at settlement, or earlier by the transport's deadline ("answered" first), in
 * which case the late outcome is dropped.
 */

export interface SlotOwner {
  /** undici is done with `slot` (terminal callback); `err` is null on a complete response. */
  settle(slot: RequestSlot, err: Error | null): void;
}

export class RequestSlot implements Dispatcher.DispatchHandler, Deadlined<RequestSlot> {
  dev = 0;
  op = 0;
  /** The HTTP status, or a pseudo-status below 100 once the request failed (drivers/types.ts). */
  status = 0;
  retryAfterMs = NO_RETRY_AFTER;
  etag: string | undefined = undefined;
  readonly chunks: Buffer[] = [];
  controller: Dispatcher.DispatchController | null = null;
  /** performance.now() after which the caller is answered with status 0. */
  deadline = 0;
  /** The caller has been answered; the rest of undici's callbacks only lead to recycling. */
  answered = false;
  // Intrusive links of the transport's deadline list (deadline-list.ts).
  prev: RequestSlot | null = null;
  next: RequestSlot | null = null;
  linked = false;

  readonly headers: string[] = [];
  readonly opts: Dispatcher.DispatchOptions;

  constructor(
    private readonly owner: SlotOwner,
    timeoutMs: number,
  ) {
    // undici's own timers are a backstop only: the transport's deadline normally answers first.
    this.opts = { path: '/', method: 'GET', headers: this.headers, body: null, headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
  }

  /** Fills the slot for a new request; the slot must be fresh or reset. */
  prepare(
    dev: number,
    op: number,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    path: string,
    authorization: string | undefined,
    body: string | undefined,
    ifNoneMatch: string | undefined,
    extra: readonly string[] | undefined,
  ): void {
    this.dev = dev;
    this.op = op;
    const h = this.headers;
    h.length = 0;
    if (authorization !== undefined) h.push('authorization', authorization);
    if (ifNoneMatch !== undefined) h.push('if-none-match', ifNoneMatch);
    let typed = false;
    if (extra !== undefined) {
      for (let i = 0; i + 1 < extra.length; i += 2) {
        h.push(extra[i], extra[i + 1]);
        if (extra[i].toLowerCase() === 'content-type') typed = true;
      }
    }
    if (body !== undefined && !typed) h.push('content-type', 'application/json');
    this.opts.method = method;
    this.opts.path = path;
    this.opts.body = body ?? null;
  }

  /** Collected response body (small JSON documents). */
  body(): string {
    const c = this.chunks;
    if (c.length === 0) return '';
    return c.length === 1 ? c[0].toString('utf8') : Buffer.concat(c).toString('utf8');
  }

  reset(): void {
    this.status = 0;
    this.retryAfterMs = NO_RETRY_AFTER;
    this.etag = undefined;
    this.chunks.length = 0;
    this.controller = null;
    this.answered = false;
    this.opts.body = null;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Answered already (timed out while queued): do not send it at all.
    if (this.answered) controller.abort(TIMED_OUT);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational: the real answer follows.
    this.status = statusCode;
    const etag = headers.etag;
    this.etag = typeof etag === 'string' ? etag : undefined;
    const retryAfter = headers['retry-after'];
    this.retryAfterMs = parseRetryAfterMs(retryAfter);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.owner.settle(this, null);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.status = failureStatus(err);
    this.retryAfterMs = NO_RETRY_AFTER;
    this.owner.settle(this, err);
  }
}

/** The reason given to undici when a request is aborted because its deadline passed. */
export const TIMED_OUT = new Error('fleetsim: HTTP request timed out');
/** The reason given to undici when fleetsim closes the transport (the end of a run). */
export const TRANSPORT_CLOSED = new Error('fleetsim: HTTP transport closed');

/** The pseudo-status of a request undici failed with `err`. */
export function failureStatus(err: unknown): number {
  if (err === TIMED_OUT) return NET_TIMEOUT;
  if (err === TRANSPORT_CLOSED) return CANCELLED;
  return netCause(err);
}
