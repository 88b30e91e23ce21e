import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { HEALTHY, MAX_BODY_BYTES, ROUTE_METHOD, parseRoute, type DeviceAnswer, type DeviceRoute, type HttpApi } from './http-api.js';

/**
 * The embedded backend's lean HTTP/1.1 front: it serves the requests a fleet makes per device
 * (provisioning, target-state polls, state reports, health) straight from the socket's bytes, and
 * gives every other connection to Node's http.Server, unchanged.
 *
 * Why: per provisioning request Node's HTTP server (parser callbacks, IncomingMessage,
 * ServerResponse, their streams and timers) cost more CPU than the route itself
 * (bench/RESULTS.md, "A lean front for the embedded HTTP API"). A device request is small and
 * regular, so a front that reads just what these routes need answers it for a fraction of that.
 *
 * What it serves itself, and only that: a well-formed HTTP/1.1 request (`GET|PUT|POST`, an
 * origin-form target, a Host header, header names that are tokens and values without control
 * characters) of a device route with its own method, whose body (if any) has a Content-Length.
 * Anything else (another route or method, HTTP/1.0, chunked or `Expect:` or `Upgrade:` requests,
 * repeated length or host headers, a head over MAX_HEAD_BYTES, bytes that are not HTTP at all) makes it
 * hand the connection, with every byte it has not answered yet, to Node's http.Server, which
 * answers as it always did (routes, 400, 404, 405, 431, artifacts, operator API). A connection
 * handed over stays Node's; answers already written go first, so pipelined requests are answered
 * in order.
 *
 * Timeouts (HttpTimeouts) are checked every `checkEveryMs`, for all lean connections at once: a
 * request whose head is not complete after `headersMs`, or whose body after `requestMs`, gets 408
 * and its connection closes; an idle keep-alive connection closes after `keepAliveMs`. Each fires
 * at most `checkEveryMs` late, as Node's own header and request checks do (Node times keep-alive
 * exactly; this front within one check).
 *
 * Concurrency: the backend's event loop only. One request of a connection is served at a time:
 * while an answer is held (an injected delay), the connection stops reading, so later requests
 * wait behind it and answers leave in request order.
 */

/** How long the HTTP API waits for a client before closing its connection, ms. */
export interface HttpTimeouts {
  /** Idle keep-alive connection between requests. */
  keepAliveMs: number;
  /** From a request's first byte to its last header line: a slow-loris client dribbling headers is cut here (408). */
  headersMs: number;
  /** From a request's first byte to the end of its body: a client dribbling a body is cut here (408). */
  requestMs: number;
  /** How often Node checks connections against headersMs and requestMs: a slow client lives at most this much longer. */
  checkEveryMs: number;
}

/**
 * Devices keep their connection between polls; the header timeout must exceed the keep-alive one
 * so an idle socket is never cut while a request is arriving on it. A device's headers arrive in
 * one segment, so 35 s is room for any modelled link; slow-loris clients holding sockets open are
 * cut after at most headersMs + checkEveryMs.
 */
export const HTTP_TIMEOUTS: HttpTimeouts = { keepAliveMs: 30_000, headersMs: 35_000, requestMs: 60_000, checkEveryMs: 5_000 };

/**
 * Largest request head (request line and headers) served here, bytes. A larger one goes to Node,
 * which applies its own limit (16 KiB by default: 431 above it); half of that keeps every head near
 * Node's limit Node's to judge. A device's head is a few hundred bytes.
 */
export const MAX_HEAD_BYTES = 8 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^(GET|PUT|POST) (\/[^\x00-\x20\x7f]*) HTTP\/1\.1$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^[0-9]{1,15}$/;
const TIMEOUT_ANSWER = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

/** A request head read by `readHead`: what the device routes need. */
interface Head {
  route: DeviceRoute | 'health';
  deviceId: string;
  authorization: string | undefined;
  ifNoneMatch: string | undefined;
  contentLength: number;
  close: boolean;
}

/** The lean front of one http.Server (see above). `close` stops its checks and closes its connections. */
export class HttpFront {
  private readonly connections = new Set<LeanConnection>();
  private readonly checker: NodeJS.Timeout;
  /** Node's own `connection` listener of the server, which lean connections are handed to. */
  private readonly nodeConnection: (socket: Socket) => void;
  private dateAt = 0;
  private date = '';
  readonly keepAliveHeader: string;
  /** Answers this front wrote itself (refusals and 408s included). */
  served = 0;
  /** Connections it gave to Node's http.Server. */
  handedOver = 0;

  constructor(
    readonly api: HttpApi,
    readonly server: Server,
    readonly timeouts: HttpTimeouts,
  ) {
    const [listener, ...others] = server.listeners('connection') as ((socket: Socket) => void)[];
    if (listener === undefined || others.length > 0) throw new Error('HttpFront: expected one connection listener, Node http.Server\'s own');
    server.removeListener('connection', listener);
    this.nodeConnection = (socket) => listener.call(server, socket);
    server.on('connection', (socket: Socket) => this.accept(socket));
    this.keepAliveHeader = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(timeouts.keepAliveMs / 1000)}\r\n`;
    this.checker = setInterval(() => this.check(), timeouts.checkEveryMs).unref();
  }

  /** Lean connections open right now. */
  get open(): number {
    return this.connections.size;
  }

  close(): void {
    clearInterval(this.checker);
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
  }

  /** The Date header's value, made at most once a second (as Node's server does). */
  dateHeader(now: number): string {
    if (now - this.dateAt >= 1000) {
      this.dateAt = now - (now % 1000);
      this.date = new Date(now).toUTCString();
    }
    return this.date;
  }

  handOver(c: LeanConnection, rest: Buffer | undefined): void {
    this.connections.delete(c);
    this.handedOver++;
    if (rest !== undefined && rest.length > 0) c.socket.unshift(rest);
    this.nodeConnection(c.socket);
  }

  forget(c: LeanConnection): void {
    this.connections.delete(c);
  }

  private accept(socket: Socket): void {
    this.connections.add(new LeanConnection(this, socket));
  }

  private check(): void {
    const now = Date.now();
    const { keepAliveMs, headersMs, requestMs } = this.timeouts;
    for (const c of this.connections) {
      if (c.held || c.gone) continue; // held: its answer is due; gone: closing, out of the set on 'close'
      if (c.requestAt === 0) {
        if (now - c.idleAt >= keepAliveMs) c.socket.destroy();
      } else if (now - c.requestAt >= (c.headRead ? requestMs : headersMs)) {
        c.timeOut();
      }
    }
  }
}

/**
 * One client connection served by the lean front. Its bytes not yet answered wait in `pending`
 * (a request split over reads, or pipelined requests behind a held answer).
 */
class LeanConnection implements DeviceAnswer {
  private pending: Buffer | undefined;
  /** When the first byte of the request being read arrived (0: between requests). */
  requestAt = 0;
  /** The request being read has its whole head (its body is still arriving). */
  headRead = false;
  /** When the connection last became idle (its last answer written, or accepted). */
  idleAt: number;
  /** An answer is held (an injected delay): nothing more is read or answered until it is written. */
  held = false;
  private closeAfter = false;
  private peerEnded = false;
  private done = false;
  private readonly onData = (chunk: Buffer): void => this.received(chunk);

  constructor(
    private readonly front: HttpFront,
    readonly socket: Socket,
  ) {
    this.idleAt = Date.now();
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', onSocketError);
    socket.on('close', this.onClose);
  }

  get gone(): boolean {
    return this.done || this.socket.destroyed;
  }

  private readonly onEnd = (): void => {
    // The client sent everything it will (the server allows half-open connections, as Node's
    // does): answer what is complete, then end (serve ends it once nothing is held).
    this.peerEnded = true;
    if (!this.held) this.serve();
  };

  private readonly onClose = (): void => {
    this.done = true;
    this.front.forget(this);
  };

  private received(chunk: Buffer): void {
    if (this.done) return; // closing after its last answer: what follows is not read
    if (this.requestAt === 0) this.requestAt = Date.now();
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (!this.held) this.serve();
  }

  /** Answers every complete request in `pending`, in order, until one is held or the connection goes to Node. */
  private serve(): void {
    // Not corked: a device has one request in flight per connection, so a serve answers one
    // request, and a cork would only add Writable's buffering to its one write.
    while (this.pending !== undefined && !this.held && !this.done) {
      const buf = this.pending;
      const headEnd = buf.indexOf(HEAD_END);
      if (headEnd < 0 ? buf.length > MAX_HEAD_BYTES : headEnd > MAX_HEAD_BYTES) return this.handOver();
      if (headEnd < 0) break; // the head's end has not arrived yet
      const head = readHead(buf.toString('latin1', 0, headEnd));
      if (head === undefined) return this.handOver();
      this.headRead = true;
      if (head.contentLength > MAX_BODY_BYTES) return this.refuseTooLarge();
      const bodyAt = headEnd + 4;
      const end = bodyAt + head.contentLength;
      if (buf.length < end) break; // the body's end has not arrived yet
      const body = head.contentLength === 0 ? '' : buf.toString('utf8', bodyAt, end);
      this.pending = end === buf.length ? undefined : buf.subarray(end);
      this.headRead = false;
      this.requestAt = this.pending === undefined ? 0 : Date.now();
      this.closeAfter = head.close;
      if (head.route === 'health') this.json(200, HEALTHY);
      else this.front.api.serve(head.route, this, head.deviceId, head.authorization, head.ifNoneMatch, body);
    }
    if (this.peerEnded && !this.held && !this.done) {
      // Nothing more will come: what is left is an incomplete request, never to be answered.
      this.done = true;
      this.socket.end();
    }
  }

  private handOver(): void {
    const rest = this.pending;
    this.pending = undefined;
    this.done = true;
    const socket = this.socket;
    socket.removeListener('data', this.onData);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('error', onSocketError);
    socket.removeListener('close', this.onClose);
    this.front.handOver(this, rest);
  }

  /** 413 for an announced body over the limit, as HttpApi's readCappedBody answers; the connection closes without reading it. */
  private refuseTooLarge(): void {
    this.pending = undefined;
    this.closeAfter = true;
    this.socket.pause();
    this.json(413, `{"error":"body larger than ${MAX_BODY_BYTES} bytes"}`);
  }

  timeOut(): void {
    this.front.served++;
    this.done = true;
    this.socket.end(TIMEOUT_ANSWER, () => this.socket.destroy());
  }

  // --- DeviceAnswer ---

  json(status: number, body: string, extra?: readonly string[]): void {
    this.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headerLines(extra)}`, body);
  }

  empty(status: number, extra?: readonly string[]): void {
    this.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${headerLines(extra)}`, '');
  }

  hold(): void {
    this.held = true;
    this.socket.pause();
  }

  private write(head: string, body: string): void {
    if (this.gone) return;
    this.front.served++;
    const now = Date.now();
    const close = this.closeAfter;
    const text = `${head}Date: ${this.front.dateHeader(now)}\r\n${close ? 'Connection: close\r\n' : this.front.keepAliveHeader}\r\n${body}`;
    if (close) {
      this.done = true;
      this.socket.end(text, () => this.socket.destroy());
      return;
    }
    this.socket.write(text);
    if (this.requestAt === 0) this.idleAt = now;
    if (this.held) {
      // The held answer is out: read and answer what waited behind it.
      this.held = false;
      this.socket.resume();
      this.serve();
    }
  }
}

function onSocketError(): void {
  // A client that resets its connection: 'close' follows and cleans up; nothing to answer.
}

function headerLines(extra: readonly string[] | undefined): string {
  if (extra === undefined) return '';
  let out = '';
  for (let i = 0; i + 1 < extra.length; i += 2) out += `${extra[i]}: ${extra[i + 1]}\r\n`;
  return out;
}

/** The head (request line and header lines, no final CRLF CRLF) of a device-route request, or undefined when the lean front does not serve it. */
function readHead(text: string): Head | undefined {
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (m === null) return undefined;
  const method = m[1]!;
  const target = m[2]!;
  const q = target.indexOf('?');
  const route = parseRoute(q < 0 ? target : target.slice(0, q));
  if (route === undefined) return undefined;
  const kind = route.kind;
  if (kind === 'stats' || kind === 'bad-id') return undefined;
  if (method !== ROUTE_METHOD[kind]) return undefined; // Node answers 405
  let host = 0;
  let contentLength = -1;
  let authorization: string | undefined;
  let ifNoneMatch: string | undefined;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const h = HEADER_LINE.exec(lines[i]!);
    if (h === null) return undefined;
    const value = h[2]!;
    if (BAD_VALUE.test(value)) return undefined;
    switch (h[1]!.toLowerCase()) {
      case 'host':
        host++;
        break;
      case 'content-length':
        if (contentLength >= 0 || !DIGITS.test(value)) return undefined;
        contentLength = Number(value);
        break;
      case 'authorization':
        if (authorization !== undefined) return undefined;
        authorization = value;
        break;
      case 'if-none-match':
        if (ifNoneMatch !== undefined) return undefined;
        ifNoneMatch = value;
        break;
      case 'connection':
        if (/(^|,)\s*close\s*(,|$)/i.test(value)) close = true;
        else if (/upgrade/i.test(value)) return undefined;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return undefined;
    }
  }
  if (host !== 1) return undefined;
  return {
    route: kind,
    deviceId: 'deviceId' in route ? route.deviceId : '',
    authorization,
    ifNoneMatch,
    contentLength: contentLength < 0 ? 0 : contentLength,
    close,
  };
}
