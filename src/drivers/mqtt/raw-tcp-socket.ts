/**
 * A plain-TCP session socket straight over libuv's TCP handle (Node's `tcp_wrap` and
 * `stream_wrap` bindings, the ones net.Socket itself is built on), for the lean MQTT transport.
 *
 * Why: a shard process holds ~19,000 sessions (one per descriptor, 20,000 a process), and a
 * net.Socket is a stream with its own state objects: `Socket`, `ReadableState`, `WritableState`,
 * their buffers' arrays, `_events`, a bound `onwrite`, property arrays: ~850 bytes of V8 heap per
 * session (bench/RESULTS.md, "Memory per device with telemetry"), more than everything else a
 * device holds in a shard. This keeps the handle (the same native TCPWrap net would make) and one
 * small object; the lean transport needs only write, cork/uncork, end and destroy.
 *
 * Semantics kept from net.Socket as the lean transport uses it: writes made before the handshake
 * completes are queued and sent once it does; `end` sends what is queued, then a FIN, and the
 * handle closes when the peer's FIN (or an error) arrives; any error (bind, connect, read, write)
 * is recorded on the connection as its errno name (`ECONNREFUSED`, `ECONNRESET`: what net puts in
 * `err.code`) and the handle closes; the owner learns of the close once, from libuv's close
 * callback, on a later turn of the loop, never from inside a call of its own.
 *
 * Only for IP literals (no DNS lookup) with a source address of the same family or none; any other
 * case, and TLS, stays on net (broker-address.ts decides). The bindings are internal to Node:
 * `process.binding` of these two modules is deprecated only in documentation (DEP0111), and
 * test/unit/raw-tcp-socket.test.ts pins what is used here against a real loopback server, so a
 * Node upgrade that changes them fails there first.
 *
 * Concurrency: the owning thread only; every callback (connect, read, write, close) comes from
 * libuv on that thread. Reads of every raw socket of a thread land in one shared buffer (like
 * net's `onread` option), valid only during the `onBytes` call.
 */
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { kConnection, sharedReadBuffer, type LeanConnection } from './lean-connection.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- Node's internal bindings have no types. */
const binding = (process as unknown as { binding(name: string): any }).binding;
const { TCP, TCPConnectWrap, constants: TCPConstants } = binding('tcp_wrap');
const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError } = binding('stream_wrap');
const UV_EOF: number = binding('uv').UV_EOF;

interface Handle {
  owner: RawTcpSocket;
  onread: (this: Handle) => void;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  connect(req: unknown, address: string, port: number): number;
  connect6(req: unknown, address: string, port: number): number;
  setNoDelay(on: boolean): number;
  useUserBuffer(buf: Buffer): void;
  readStart(): number;
  writeBuffer(req: unknown, buf: Buffer): number;
  shutdown(req: unknown): number;
  close(cb: (this: Handle) => void): void;
  getpeername(out: { port?: number }): number;
  getsockname(out: { address?: string }): number;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const CONNECTED = 1;
const CORKED = 2;
/** `end` was called: FIN after the queued writes. */
const ENDING = 4;
const CLOSED = 8;

/** True when `host` and `localAddress` let a session use a raw socket (IP literals of one family). */
export function rawTcpEligible(host: string, localAddress: string | undefined): boolean {
  const family = isIP(host);
  return family !== 0 && (localAddress === undefined || isIP(localAddress) === family);
}

export class RawTcpSocket {
  [kConnection]?: LeanConnection;
  private readonly handle: Handle;
  private flags = 0;
  /** Frames written before the handshake completed or while corked, in order; null when none. */
  private queued: Buffer | Buffer[] | null = null;
  /** An error before the connection was attached (a synchronous bind or connect failure). */
  private pendingError: string | null = null;

  constructor(host: string, port: number, localAddress: string | undefined) {
    const handle: Handle = new TCP(TCPConstants.SOCKET);
    this.handle = handle;
    handle.owner = this;
    handle.onread = onRead;
    handle.setNoDelay(true); // applied by libuv when the socket is created: MQTT frames are small
    const v6 = isIP(host) === 6;
    let err = 0;
    if (localAddress !== undefined) err = v6 ? handle.bind6(localAddress, 0, 0) : handle.bind(localAddress, 0);
    if (err === 0) {
      const req = new TCPConnectWrap();
      req.oncomplete = afterConnect;
      err = v6 ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    }
    if (err !== 0) this.fail(err);
  }

  get destroyed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }

  /** As net.Socket's (for tests and diagnostics: a system call each). */
  get remotePort(): number | undefined {
    const out: { port?: number } = {};
    return (this.flags & CLOSED) === 0 && this.handle.getpeername(out) === 0 ? out.port : undefined;
  }

  get localAddress(): string | undefined {
    const out: { address?: string } = {};
    return (this.flags & CLOSED) === 0 && this.handle.getsockname(out) === 0 ? out.address : undefined;
  }

  write(frame: Buffer): void {
    if ((this.flags & (CLOSED | ENDING)) !== 0) return;
    if ((this.flags & (CONNECTED | CORKED)) !== CONNECTED) this.enqueue(frame);
    else this.send(frame);
  }

  cork(): void {
    this.flags |= CORKED;
  }

  uncork(): void {
    this.flags &= ~CORKED;
    if ((this.flags & CONNECTED) !== 0) this.flush();
  }

  /** Sends `frame` after anything queued, then a FIN; the handle closes when the peer's FIN comes. */
  end(frame: Buffer): void {
    if ((this.flags & (CLOSED | ENDING)) !== 0) return;
    this.write(frame);
    this.flags |= ENDING;
    if ((this.flags & CONNECTED) !== 0 && this.queued === null) this.shutdown();
  }

  /** Closes the handle now (queued frames are dropped); the owner hears of it once, later. */
  destroy(): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.flags |= CLOSED;
    this.queued = null;
    this.handle.close(onClosed);
  }

  // ---- from libuv (through the module's shared callbacks) ----

  connected(status: number): void {
    if ((this.flags & CLOSED) !== 0) return;
    if (status < 0) return this.fail(status);
    this.flags |= CONNECTED;
    this.handle.useUserBuffer(sharedReadBuffer);
    const err = this.handle.readStart();
    if (err !== 0) return this.fail(err);
    if ((this.flags & CORKED) === 0) this.flush();
  }

  read(nread: number): void {
    if ((this.flags & CLOSED) !== 0) return;
    if (nread > 0) {
      const conn = this[kConnection];
      if (conn !== undefined) conn.owner.onBytes(conn, sharedReadBuffer, 0, nread);
    } else if (nread === UV_EOF) this.destroy(); // the peer's FIN: no half-open sessions (net's allowHalfOpen: false)
    else if (nread < 0) this.fail(nread);
  }

  /** Records errno `err` on the connection (as net's err.code) and closes. */
  fail(err: number): void {
    if ((this.flags & CLOSED) !== 0) return;
    const conn = this[kConnection];
    const code = getSystemErrorName(err);
    if (conn !== undefined) conn.error = code;
    else this.pendingError = code;
    this.destroy();
  }

  closed(): void {
    const conn = this[kConnection];
    if (conn === undefined) return;
    if (conn.error === null && this.pendingError !== null) conn.error = this.pendingError;
    conn.owner.onSocketClosed(conn);
  }

  // ---- internals ----

  private enqueue(frame: Buffer): void {
    const q = this.queued;
    if (q === null) this.queued = frame;
    else if (Array.isArray(q)) q.push(frame);
    else this.queued = [q, frame];
  }

  private flush(): void {
    const q = this.queued;
    if (q === null) return;
    this.queued = null;
    this.send(Array.isArray(q) ? Buffer.concat(q) : q);
    if ((this.flags & ENDING) !== 0) this.shutdown();
  }

  private send(frame: Buffer): void {
    const req = new WriteWrap();
    req.handle = this.handle;
    req.oncomplete = afterWrite;
    // Held by the request until libuv is done with it (a write the kernel could not take at once).
    req.buffer = frame;
    const err = this.handle.writeBuffer(req, frame);
    if (err !== 0) this.fail(err);
  }

  private shutdown(): void {
    if ((this.flags & CLOSED) !== 0) return;
    const req = new ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = afterShutdown;
    const err = this.handle.shutdown(req);
    if (err !== 0) this.fail(err);
  }
}

// Shared callbacks: libuv calls them with the request or the handle as `this`, so no closure per socket.

function afterConnect(this: unknown, status: number, handle: Handle): void {
  handle.owner.connected(status);
}

function onRead(this: Handle): void {
  this.owner.read(streamBaseState[kReadBytesOrError] as number);
}

function afterWrite(this: { handle: Handle }, status: number): void {
  if (status < 0) this.handle.owner.fail(status);
}

function afterShutdown(this: { handle: Handle }, status: number): void {
  if (status < 0) this.handle.owner.fail(status);
}

function onClosed(this: Handle): void {
  this.owner.closed();
}
