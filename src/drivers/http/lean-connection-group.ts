import type net from 'node:net';
import { Http1ResponseParser } from './http1-response.js';
import type { Deadlined } from './deadline-list.js';

/**
 * The lean HTTP/1.1 client's pieces (lean-transport.ts): a request (recycled, with its intrusive
 * links), a connection with its reusable response parser, and a group of connections that serve
 * the same requests with its FIFO of waiting requests (intrusive too: no array per wait).
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

export class Request implements Deadlined<Request> {
  dev = 0;
  op = 0;
  method: Method = 'GET';
  wire = '';
  deadline = 0;
  answered = false;
  retried = false;
  /** The pseudo-status of an answer deferred to a later tick. */
  deferredStatus = 0;
  conn: Connection | null = null;
  // Links of the transport's deadline list (deadline-list.ts).
  prev: Request | null = null;
  next: Request | null = null;
  linked = false;
  // Wait queue of its group.
  queued: Request | null = null;
}

/** Connections that serve the same requests: the pool, or one device's own connection. */
export class Group {
  readonly conns: Connection[] = [];
  readonly idle: Connection[] = [];
  waitHead: Request | null = null;
  waitTail: Request | null = null;
  constructor(readonly max: number) {}

  enqueue(r: Request, atFront: boolean): void {
    if (this.waitHead === null) {
      this.waitHead = this.waitTail = r;
      r.queued = null;
    } else if (atFront) {
      r.queued = this.waitHead;
      this.waitHead = r;
    } else {
      this.waitTail!.queued = r;
      this.waitTail = r;
      r.queued = null;
    }
  }

  dequeue(): Request | null {
    const r = this.waitHead;
    if (r === null) return null;
    this.waitHead = r.queued;
    if (this.waitHead === null) this.waitTail = null;
    r.queued = null;
    return r;
  }

  remove(r: Request): void {
    let prev: Request | null = null;
    for (let x = this.waitHead; x !== null; prev = x, x = x.queued) {
      if (x !== r) continue;
      if (prev === null) this.waitHead = x.queued;
      else prev.queued = x.queued;
      if (this.waitTail === x) this.waitTail = prev;
      x.queued = null;
      return;
    }
  }
}

export class Connection {
  readonly parser = new Http1ResponseParser();
  current: Request | null = null;
  /** Responses completed on this connection: a failure on a reused one may be a stale keep-alive. */
  served = 0;
  dead = false;
  /**
   * The connection is up (TCP connected, TLS handshake done): requests are written only then. One
   * given to a connection still connecting waits in `current` with no byte sent, so its deadline
   * can pass without costing the connection (lean-transport.ts `expired`).
   */
  ready = false;
  /** The server's idle timeout for this connection, from its latest answer (`Keep-Alive: timeout`), ms; -1: not said. */
  keepAliveMs = -1;
  /** While idle: reused only before this time (performance.now(), ms); Infinity when the server gave no timeout. */
  reuseBefore = Infinity;

  constructor(
    readonly socket: net.Socket,
    readonly group: Group,
  ) {}
}
