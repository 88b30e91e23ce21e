import net from 'node:net';
import tls from 'node:tls';
import { Connection, Group, Request, type Method } from './lean-connection-group.js';
import { DeadlineList } from './deadline-list.js';
import { netCause } from '../net-cause.js';
import { BAD_RESPONSE, CANCELLED, NET_RESET, NET_TIMEOUT, NO_RETRY_AFTER, type HttpTransport, type HttpTransportEvents, type HttpTransportOptions } from '../types.js';

/**
 * An idle connection is not reused within this long of the server's advertised idle timeout
 * (`Keep-Alive: timeout=N`), ms: the request and the server's close would cross on the wire.
 * undici's `keepAliveTimeoutThreshold` default, for the same purpose.
 */
export const KEEPALIVE_REUSE_MARGIN_MS = 2_000;

/**
 * fleetsim's lean HTTP/1.1 client: the HttpTransport a device fleet needs and nothing more. A
 * request is one socket write of a head built from a few strings; the answer is read by one
 * reusable parser per connection (http1-response.ts). Like the lean MQTT client it exists because
 * the general-purpose client spends most of its CPU on generality a device poll does not use
 * (bench/http-poll.mjs measures it against autocannon).
 *
 * Connections: 'pooled' keeps up to poolSize keep-alive connections shared by all devices, with
 * one request in flight per connection (no pipelining) and a FIFO of waiting requests;
 * 'per-device' gives each device its own keep-alive connection and FIFO.
 *
 * Deadlines: unanswered requests sit in a DeadlineList (deadline-list.ts); an expired one is
 * answered with NET_TIMEOUT. A request already written drops its connection, since its answer may
 * still come; one waiting for its connection to come up was never sent, so the connection stays
 * and takes the next waiting request. A request is written only once its connection is up: written
 * to a socket still connecting, Node queues it and, when the socket is destroyed before it
 * connects, fails the write with an Error whose stack it formats (ERR_SOCKET_CLOSED_BEFORE_CONNECTION,
 * writable.js reads `.stack`), which cost a shard most of its CPU when an overloaded backend's
 * accept queue was full and every request timed out while connecting (bench/RESULTS.md, "Issue
 * 17, round 4"). Keeping the connection also keeps a timed-out request from leaving one more
 * abandoned connection, with a request nobody waits for, in that queue.
 *
 * Retries: a GET written onto a reused keep-alive connection that the server closed before any
 * byte of the answer came back is sent once more on a new connection (the server may close an idle
 * connection at any time, RFC 9112 §9.3.1); anything else is answered with its failure. To make
 * that race rare, an idle connection is not reused once the server's advertised idle timeout
 * (`Keep-Alive: timeout=N`) is within KEEPALIVE_REUSE_MARGIN_MS of running out, as undici does: a
 * POST (a provisioning) written as the server closes would otherwise fail with a reset that the
 * report would count against the backend.
 *
 * Concurrency (drivers/types.ts): single-threaded; never calls back from inside `request` or
 * `close`: answers known at once are delivered on a later tick.
 */
export function createLeanHttpTransport(opts: HttpTransportOptions, events: HttpTransportEvents): HttpTransport {
  return new LeanHttpTransport(opts, events);
}

class LeanHttpTransport implements HttpTransport {
  private readonly free: Request[] = [];
  private readonly pool: Group | null;
  private readonly perDevice: Array<Group | undefined>;
  private readonly deadlines: DeadlineList<Request>;
  private unanswered = 0;
  private readonly deferred: Request[] = [];
  private flushScheduled = false;
  private readonly onFlush = (): void => this.flushDeferred();
  private closed = false;
  private readonly open = new Set<Connection>();
  private readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  private readonly hostHeader: string;
  private tlsSession: Buffer | undefined;

  constructor(
    private readonly opts: HttpTransportOptions,
    private readonly events: HttpTransportEvents,
  ) {
    const url = new URL(opts.baseUrl);
    this.secure = url.protocol === 'https:';
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port === '' ? (this.secure ? 443 : 80) : Number(url.port);
    this.hostHeader = url.host;
    this.deadlines = new DeadlineList(opts.timeoutMs, (r) => this.expired(r));
    if (opts.connections === 'pooled') {
      this.pool = new Group(Math.max(1, opts.poolSize));
      this.perDevice = [];
    } else {
      this.pool = null;
      this.perDevice = new Array(opts.devices);
    }
  }

  request(
    dev: number,
    op: number,
    method: Method,
    path: string,
    authorization: string | undefined,
    body: string | undefined,
    ifNoneMatch?: string,
    headers?: readonly string[],
  ): void {
    const r = this.free.pop() ?? new Request();
    r.dev = dev;
    r.op = op;
    r.method = method;
    r.answered = false;
    r.retried = false;
    this.unanswered++;
    if (this.closed) return this.deferAnswer(r, CANCELLED);
    if (path.charCodeAt(0) !== 47 /* '/' */ || /[\s\u0000-\u001f\u007f]/.test(path)) return this.deferAnswer(r, NET_RESET);
    // A header a preset built with a line break in it would split the request: never sent.
    if (headers !== undefined && headers.some((h) => /[\r\n]/.test(h))) return this.deferAnswer(r, NET_RESET);
    r.wire = this.encode(method, path, authorization, body, ifNoneMatch, headers);
    this.deadlines.add(r);
    this.dispatch(r, this.groupFor(dev), false);
  }

  inFlight(): number {
    return this.unanswered;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deadlines.stop();
    const gone: Promise<void>[] = [];
    for (const c of this.open) {
      c.dead = true;
      if (!c.socket.destroyed) gone.push(new Promise((resolve) => c.socket.once('close', () => resolve())));
      c.socket.destroy();
    }
    this.open.clear();
    await Promise.all(gone);
    // Everything not answered was cut off by fleetsim, not by the backend (answered after the
    // await, so never from inside the close() call itself).
    for (let r = this.deadlines.shift(); r !== null; r = this.deadlines.shift()) {
      r.conn = null;
      this.answer(r, CANCELLED);
      this.recycle(r);
    }
    this.flushDeferred();
  }

  // --- requests ---

  private encode(
    method: Method,
    path: string,
    authorization: string | undefined,
    body: string | undefined,
    ifNoneMatch: string | undefined,
    extra: readonly string[] | undefined,
  ): string {
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n`;
    if (authorization !== undefined) head += `Authorization: ${authorization}\r\n`;
    if (ifNoneMatch !== undefined) head += `If-None-Match: ${ifNoneMatch}\r\n`;
    let typed = false;
    if (extra !== undefined) {
      for (let i = 0; i + 1 < extra.length; i += 2) {
        head += `${extra[i]}: ${extra[i + 1]}\r\n`;
        if (extra[i].toLowerCase() === 'content-type') typed = true;
      }
    }
    if (body !== undefined) return `${head}${typed ? '' : 'Content-Type: application/json\r\n'}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return method === 'GET' ? `${head}\r\n` : `${head}Content-Length: 0\r\n\r\n`;
  }

  private groupFor(dev: number): Group {
    if (this.pool !== null) return this.pool;
    let g = this.perDevice[dev];
    if (g === undefined) {
      g = new Group(1);
      this.perDevice[dev] = g;
    }
    return g;
  }

  private dispatch(r: Request, g: Group, atFront: boolean): void {
    let idle = g.idle.pop();
    // The most recently used comes first; one past the server's idle timeout is closed, not used.
    while (idle !== undefined && idle.reuseBefore <= performance.now()) {
      this.drop(idle);
      idle = g.idle.pop();
    }
    if (idle !== undefined) return this.send(idle, r);
    if (g.conns.length < g.max) {
      const c = this.connect(g);
      if (c !== null) return this.send(c, r);
      // connect threw (bad address): the request fails like a refused connection, later.
      this.deadlines.remove(r);
      return this.deferAnswer(r, NET_RESET);
    }
    g.enqueue(r, atFront);
  }

  private send(c: Connection, r: Request): void {
    c.current = r;
    r.conn = c;
    c.parser.reset();
    // Heads and JSON bodies: UTF-8 (headers are ASCII; a body may not be). On a connection still
    // connecting the request waits for `onReady`.
    if (c.ready) c.socket.write(r.wire, 'utf8');
  }

  /** `c` is up: the request given to it meanwhile (if its deadline has not passed) goes out now. */
  private onReady(c: Connection): void {
    c.ready = true;
    if (c.dead || this.closed) return;
    if (c.current !== null) c.socket.write(c.current.wire, 'utf8');
    else this.release(c);
  }

  // --- connections ---

  private connect(g: Group): Connection | null {
    let socket: net.Socket;
    try {
      socket = this.secure
        ? tls.connect({
            host: this.host,
            port: this.port,
            servername: this.opts.tls?.servername ?? (net.isIP(this.host) === 0 ? this.host : undefined),
            ca: this.opts.tls?.ca,
            rejectUnauthorized: this.opts.tls?.insecure !== true,
            session: this.tlsSession,
          })
        : net.connect({ host: this.host, port: this.port });
    } catch {
      return null;
    }
    socket.setNoDelay(true);
    const c = new Connection(socket, g);
    g.conns.push(c);
    this.open.add(c);
    socket.once(this.secure ? 'secureConnect' : 'connect', () => this.onReady(c));
    socket.on('data', (data: Buffer) => this.onData(c, data));
    socket.on('error', (err) => this.onClosed(c, err));
    socket.on('close', () => this.onClosed(c, null));
    if (this.secure) socket.on('session', (s: Buffer) => (this.tlsSession = s));
    return c;
  }

  private onData(c: Connection, data: Buffer): void {
    const r = c.current;
    if (r === null || c.dead) {
      // Bytes that answer no request: the connection is out of step with us; drop it.
      this.drop(c);
      return;
    }
    const used = c.parser.feed(data);
    if (c.parser.malformed) {
      this.finish(c, r, BAD_RESPONSE);
      this.drop(c);
      return;
    }
    if (!c.parser.complete) return;
    const reusable = used === data.length && !c.parser.closeAfter;
    c.served++;
    if (c.parser.keepAliveMs >= 0) c.keepAliveMs = c.parser.keepAliveMs;
    this.finish(c, r, c.parser.status);
    if (!reusable) this.drop(c);
    else this.release(c);
  }

  /** Socket error or close. Called up to twice per connection (error, then close). */
  private onClosed(c: Connection, err: Error | null): void {
    if (c.current !== null && c.parser.endsAtClose && err === null) {
      c.parser.closed();
      const r = c.current;
      this.finish(c, r, c.parser.status);
    }
    const r = c.current;
    this.forget(c);
    if (r === null || r.answered || this.closed) return;
    c.current = null;
    r.conn = null;
    if (c.served > 0 && c.parser.received === 0 && r.method === 'GET' && !r.retried) {
      // A keep-alive connection the server had closed: send the (idempotent) poll once more, on a
      // new connection. Not on another idle one: a server closes the connections a burst opened
      // together when their idle time runs out together, and a loaded event loop reads their FINs
      // late, so the next idle connection is likely closed too and the one retry failed with it
      // (http-retry-after's outage: devices counted knocked out again by a poll reset the backend
      // never made). `forget(c)` above freed c's place in the group for it.
      r.retried = true;
      const g = c.group;
      if (g.conns.length < g.max) {
        const fresh = this.connect(g);
        if (fresh !== null) return this.send(fresh, r);
      }
      // The place was taken meanwhile (forget handed it to a waiting request): first in line.
      g.enqueue(r, true);
      return;
    }
    const status = err !== null ? netCause(err) : NET_RESET;
    this.deadlines.remove(r);
    this.answer(r, status);
    this.recycle(r);
  }

  /** Answers `r` from connection `c`'s parser (or with a pseudo-status). */
  private finish(c: Connection, r: Request, status: number): void {
    c.current = null;
    r.conn = null;
    if (r.answered) return this.recycle(r); // timed out already; this late answer is dropped
    this.deadlines.remove(r);
    r.answered = true;
    this.unanswered--;
    if (status < 100) this.events.onHttpResponse(r.dev, r.op, status, '', NO_RETRY_AFTER, undefined);
    else this.events.onHttpResponse(r.dev, r.op, status, c.parser.body(), c.parser.retryAfterMs, c.parser.etag);
    this.recycle(r);
  }

  /** An idle keep-alive connection: give it the next waiting request of its group. */
  private release(c: Connection): void {
    if (c.dead || this.closed) return;
    const next = c.group.dequeue();
    if (next !== null) return this.send(c, next);
    c.reuseBefore = c.keepAliveMs < 0 ? Infinity : performance.now() + c.keepAliveMs - KEEPALIVE_REUSE_MARGIN_MS;
    c.group.idle.push(c);
  }

  private drop(c: Connection): void {
    if (c.dead) return;
    this.forget(c);
    c.socket.destroy();
  }

  /** Takes `c` out of its group; a waiting request gets a new connection in its place. */
  private forget(c: Connection): void {
    if (c.dead && !this.open.has(c)) return;
    c.dead = true;
    this.open.delete(c);
    const g = c.group;
    const i = g.conns.indexOf(c);
    if (i >= 0) g.conns.splice(i, 1);
    const j = g.idle.indexOf(c);
    if (j >= 0) g.idle.splice(j, 1);
    if (!this.closed && g.waitHead !== null) {
      const next = g.dequeue()!;
      this.dispatch(next, g, true);
    }
  }

  // --- answers and deadlines ---

  private answer(r: Request, status: number): void {
    r.answered = true;
    this.unanswered--;
    this.events.onHttpResponse(r.dev, r.op, status, '', NO_RETRY_AFTER, undefined);
  }

  private recycle(r: Request): void {
    if (r.conn !== null || r.linked) return; // still owned by a connection or the deadline list
    r.wire = '';
    this.free.push(r);
  }

  private deferAnswer(r: Request, status: number): void {
    r.answered = true;
    r.deferredStatus = status;
    this.deferred.push(r);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onFlush);
    }
  }

  private flushDeferred(): void {
    this.flushScheduled = false;
    while (this.deferred.length > 0) {
      for (const r of this.deferred.splice(0)) {
        this.unanswered--;
        this.events.onHttpResponse(r.dev, r.op, r.deferredStatus, '', NO_RETRY_AFTER, undefined);
        this.recycle(r);
      }
    }
  }

  /** `r`'s deadline passed (it is off the deadline list). */
  private expired(r: Request): void {
    const c = r.conn;
    if (c !== null && !c.ready) {
      // Never sent (its connection is still connecting): the connection goes on to the next request.
      c.current = null;
      r.conn = null;
      this.answer(r, NET_TIMEOUT);
      this.recycle(r);
      const next = c.group.dequeue();
      if (next !== null) this.send(c, next);
      return;
    }
    if (c !== null) {
      // Its answer may still come on that connection: it cannot carry another request.
      c.current = null;
      r.conn = null;
      this.drop(c);
    } else {
      this.groupFor(r.dev).remove(r);
    }
    this.answer(r, NET_TIMEOUT);
    this.recycle(r);
  }
}
