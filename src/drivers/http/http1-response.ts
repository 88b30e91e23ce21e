import { parseRetryAfterMs } from './retry-after.js';
import { NO_RETRY_AFTER } from '../types.js';

/**
 * An incremental HTTP/1.1 response parser (RFC 9112) for the lean transport: it reads exactly what
 * a device needs from an answer (status, Content-Length or chunked framing, ETag, Retry-After,
 * Connection: close, the Keep-Alive timeout) and collects the body as Buffer slices. One parser per connection, reused
 * for every response on it.
 *
 * Not supported, on purpose (a fleet API does not send them to devices): trailers are skipped,
 * not read; `Transfer-Encoding` other than chunked is treated as a malformed answer; responses to
 * HEAD are not expected.
 */

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

/** Upper bound of a response head (status line + headers); more is a malformed answer. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const CR = 13;
const LF = 10;

export class Http1ResponseParser {
  status = 0;
  etag: string | undefined = undefined;
  retryAfterMs = NO_RETRY_AFTER;
  /** The server said Connection: close (or spoke HTTP/1.0 without keep-alive). */
  closeAfter = false;
  /** How long the server keeps this connection open idle (`Keep-Alive: timeout=N`), ms; -1: not said. */
  keepAliveMs = -1;
  /** Body slices (views into received chunks: valid until the caller copies or decodes them). */
  readonly chunks: Buffer[] = [];
  /** Set when the answer cannot be read: the connection must be dropped. */
  malformed = false;
  /** Bytes of this response seen so far (tells "nothing came back" from "cut mid-answer"). */
  received = 0;

  private state = State.Head;
  private head: Buffer | null = null;
  private remaining = 0;

  /** Readies the parser for the response to a new request. */
  reset(): void {
    this.status = 0;
    this.etag = undefined;
    this.retryAfterMs = NO_RETRY_AFTER;
    this.closeAfter = false;
    this.keepAliveMs = -1;
    this.chunks.length = 0;
    this.malformed = false;
    this.received = 0;
    this.state = State.Head;
    this.head = null;
    this.remaining = 0;
  }

  get complete(): boolean {
    return this.state === State.Done;
  }

  /** True while the body runs until the connection closes (no length, not chunked). */
  get endsAtClose(): boolean {
    return this.state === State.UntilClose;
  }

  /**
   * Feeds received bytes. Returns the number of bytes consumed: less than `data.length` only once
   * the response is complete (the rest belongs to no request and the caller drops the connection)
   * or malformed.
   */
  feed(data: Buffer): number {
    this.received += data.length;
    let at = 0;
    while (at < data.length && !this.malformed) {
      switch (this.state) {
        case State.Head:
          at = this.readHead(data, at);
          break;
        case State.Body: {
          const n = Math.min(this.remaining, data.length - at);
          this.chunks.push(data.subarray(at, at + n));
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.Done;
          break;
        }
        case State.ChunkSize:
          at = this.readChunkSize(data, at);
          break;
        case State.ChunkData: {
          const n = Math.min(this.remaining, data.length - at);
          this.chunks.push(data.subarray(at, at + n));
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2; // the CRLF after the chunk's data
          }
          break;
        }
        case State.ChunkDataEnd:
          while (this.remaining > 0 && at < data.length) {
            at++;
            this.remaining--;
          }
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        case State.Trailers:
          at = this.readTrailers(data, at);
          break;
        case State.UntilClose:
          this.chunks.push(data.subarray(at));
          at = data.length;
          break;
        case State.Done:
          return at;
      }
    }
    return at;
  }

  /** The connection closed: a body that runs until close is complete now. */
  closed(): void {
    if (this.state === State.UntilClose) this.state = State.Done;
  }

  body(): string {
    const c = this.chunks;
    if (c.length === 0) return '';
    return c.length === 1 ? c[0].toString('utf8') : Buffer.concat(c).toString('utf8');
  }

  private readHead(data: Buffer, at: number): number {
    let buf: Buffer;
    let base: number;
    if (this.head === null) {
      buf = data;
      base = at;
    } else {
      buf = Buffer.concat([this.head, data.subarray(at)]);
      base = 0;
    }
    const end = buf.indexOf(CRLF_CRLF, base);
    if (end < 0) {
      if (buf.length - base > MAX_HEAD_BYTES) this.malformed = true;
      else this.head = Buffer.from(buf.subarray(base)); // a copy: `data` may be reused by the socket
      return data.length;
    }
    // With a pending head, `buf` is that head followed by data[at..]: map the end back into `data`.
    const consumedFromData = this.head === null ? end + 4 : at + (end + 4 - this.head.length);
    this.head = null;
    this.parseHead(buf.toString('latin1', base, end));
    return consumedFromData;
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    const statusLine = lines[0];
    // "HTTP/1.1 200 OK": the version is 8 characters, the status 3 digits after one space.
    if (statusLine.length < 12 || !statusLine.startsWith('HTTP/1.') || statusLine.charCodeAt(8) !== 32) {
      this.malformed = true;
      return;
    }
    const status = Number(statusLine.slice(9, 12));
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      this.malformed = true;
      return;
    }
    const http10 = statusLine.charCodeAt(7) === 48; // '0'
    let length = -1;
    let chunked = false;
    let keepAlive = !http10;
    let retryAfter: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) {
        this.malformed = true;
        return;
      }
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      switch (name) {
        case 'content-length': {
          const n = Number(value);
          if (!Number.isSafeInteger(n) || n < 0 || (length >= 0 && length !== n)) {
            this.malformed = true;
            return;
          }
          length = n;
          break;
        }
        case 'transfer-encoding':
          if (value.toLowerCase() !== 'chunked') {
            this.malformed = true;
            return;
          }
          chunked = true;
          break;
        case 'connection': {
          const v = value.toLowerCase();
          if (v === 'close') keepAlive = false;
          else if (v === 'keep-alive') keepAlive = true;
          break;
        }
        case 'keep-alive':
          this.keepAliveMs = keepAliveTimeoutMs(value);
          break;
        case 'etag':
          this.etag = value;
          break;
        case 'retry-after':
          retryAfter = value;
          break;
      }
    }
    if (status < 200) {
      // 1xx informational: the real answer follows on the same connection.
      this.etag = undefined;
      this.state = State.Head;
      return;
    }
    this.status = status;
    this.retryAfterMs = parseRetryAfterMs(retryAfter);
    this.closeAfter = !keepAlive;
    if (status === 204 || status === 304) this.state = State.Done;
    else if (chunked) this.state = State.ChunkSize;
    else if (length >= 0) {
      this.remaining = length;
      this.state = length === 0 ? State.Done : State.Body;
    } else {
      this.state = State.UntilClose;
      this.closeAfter = true;
    }
  }

  private readChunkSize(data: Buffer, at: number): number {
    const lf = data.indexOf(LF, at);
    const lineEnd = lf < 0 ? data.length : lf;
    const piece = data.toString('latin1', at, lineEnd);
    if (lf < 0) {
      // A chunk-size line split across reads: keep it in `head` and finish it with the next read.
      this.head = this.head === null ? Buffer.from(piece, 'latin1') : Buffer.concat([this.head, Buffer.from(piece, 'latin1')]);
      if (this.head.length > 1024) this.malformed = true;
      return data.length;
    }
    const line = (this.head === null ? piece : this.head.toString('latin1') + piece).replace(/\r$/, '');
    this.head = null;
    const semi = line.indexOf(';'); // chunk extensions are ignored
    const size = Number.parseInt(semi < 0 ? line : line.slice(0, semi), 16);
    if (!Number.isSafeInteger(size) || size < 0) {
      this.malformed = true;
      return lf + 1;
    }
    if (size === 0) {
      this.state = State.Trailers;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return lf + 1;
  }

  /** Skips trailer fields up to the empty line that ends a chunked body. */
  private readTrailers(data: Buffer, at: number): number {
    // `remaining` counts the bytes of the current trailer line seen so far.
    while (at < data.length) {
      const b = data[at++];
      if (b === LF) {
        if (this.remaining === 0) {
          this.state = State.Done;
          return at;
        }
        this.remaining = 0;
      } else if (b !== CR) {
        this.remaining++;
      }
    }
    return at;
  }
}

/**
 * The `timeout` parameter of a Keep-Alive header (`timeout=5, max=1000`; RFC 2068 §19.7.1.1, kept
 * by servers such as Node's and Apache's), ms; -1 when absent or not a whole number of seconds.
 */
export function keepAliveTimeoutMs(value: string): number {
  // A server sends the same header on every answer: parse it once, not per response.
  if (value === lastKeepAlive.value) return lastKeepAlive.ms;
  const ms = parseKeepAliveTimeoutMs(value);
  lastKeepAlive.value = value;
  lastKeepAlive.ms = ms;
  return ms;
}

const lastKeepAlive = { value: '', ms: -1 };

function parseKeepAliveTimeoutMs(value: string): number {
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim().toLowerCase() !== 'timeout') continue;
    const text = part.slice(eq + 1).trim();
    return /^\d{1,9}$/.test(text) ? Number(text) * 1000 : -1;
  }
  return -1;
}
