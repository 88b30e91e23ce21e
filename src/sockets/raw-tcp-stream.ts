/**
 * A TCP connection straight over libuv's TCP handle (Node's `tcp_wrap` and `stream_wrap` bindings,
 * the ones net.Socket itself is built on), without net.Socket's stream machinery: the lean MQTT
 * client's sessions (drivers/mqtt/raw-tcp-socket.ts) and the embedded broker's
 * (backend/broker-lean.ts) both run on it.
 *
 * Why: a net.Socket is a stream with its own state objects (`Socket`, `ReadableState`,
 * `WritableState`, their buffers' arrays, `_events`, a bound `onwrite`): ~850 bytes of V8 heap per
 * connection, and every read and write goes through the stream's bookkeeping. A shard holds up to
 * ~19,000 sessions and the embedded broker one per device, so both keep the handle (the same
 * native TCPWrap net would make) and one small object (bench/RESULTS.md, "Sessions without
 * net.Socket" and "The embedded broker without net.Socket").
 *
 * Semantics kept from net.Socket as fleetsim uses it: writes made before the connection is
 * established, or while corked, are queued and leave in one write once it is (or on uncork);
 * `end` sends what is queued, then a FIN, and the handle closes when the peer's FIN (or an error)
 * arrives (net's `allowHalfOpen: false`); any error (bind, connect, read, write) is reported once
 * as its errno name (`ECONNRESET`, what net puts in `err.code`) and the handle closes; the owner
 * hears of the close once, from libuv's close callback, on a later turn of the loop, never from
 * inside a call of its own.
 *
 * The bindings are internal to Node: `process.binding` of these modules is deprecated only in
 * documentation (DEP0111), and test/unit/raw-tcp-socket.test.ts and raw-tcp-server.test.ts pin what
 * is used here against real loopback peers, so a Node upgrade that changes them fails there first.
 *
 * Concurrency: the owning thread only; every callback (connect, accept, read, write, close) comes
 * from libuv on that thread. Reads of every raw stream of a thread land in one shared buffer (like
 * net's `onread` option), valid only during the `received` call.
 */
import { getSystemErrorName } from 'node:util';

/* eslint-disable @typescript-eslint/no-explicit-any -- Node's internal bindings have no types. */
const binding = (process as unknown as { binding(name: string): any }).binding;
const tcpWrap = binding('tcp_wrap');
const streamWrap = binding('stream_wrap');
/** libuv's TCP handle class and its request classes. */
export const TCP: new (type: number) => TcpHandle = tcpWrap.TCP;
export const TCPConnectWrap: new () => { oncomplete: (this: unknown, status: number, handle: TcpHandle) => void } = tcpWrap.TCPConnectWrap;
export const TCP_SOCKET: number = tcpWrap.constants.SOCKET;
export const TCP_SERVER: number = tcpWrap.constants.SERVER;
const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError } = streamWrap;
const UV_EOF: number = binding('uv').UV_EOF;

/** The methods of libuv's TCP handle that fleetsim calls. */
export interface TcpHandle {
  owner: RawTcpStream;
  onread: (this: TcpHandle) => void;
  /** Bytes libuv still holds for writing (the kernel's send buffer was full). */
  readonly writeQueueSize: number;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  connect(req: unknown, address: string, port: number): number;
  connect6(req: unknown, address: string, port: number): number;
  setNoDelay(on: boolean): number;
  useUserBuffer(buf: Buffer): void;
  readStart(): number;
  writeBuffer(req: unknown, buf: Buffer): number;
  shutdown(req: unknown): number;
  close(cb: (this: TcpHandle) => void): void;
  getpeername(out: { port?: number }): number;
  getsockname(out: { address?: string; port?: number }): number;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Where every raw stream of this thread reads into; valid only during a `received` call. */
export const sharedReadBuffer: Buffer = Buffer.allocUnsafe(64 * 1024);

const CONNECTED = 1;
const CORKED = 2;
/** `end` was called: FIN after the queued writes. */
const ENDING = 4;
const CLOSED = 8;

export abstract class RawTcpStream {
  protected readonly handle: TcpHandle;
  private flags = 0;
  /** Frames written before the connection was established or while corked, in order; null when none. */
  private queued: Buffer | Buffer[] | null = null;

  /** `handle` is connected already (an accepted one) or gets `connected` called once it is. */
  protected constructor(handle: TcpHandle, connected: boolean) {
    this.handle = handle;
    handle.owner = this;
    handle.onread = onRead;
    if (connected) this.connected(0);
  }

  /** Bytes the peer sent: `buf[0, nread)`, valid during this call only. */
  protected abstract received(buf: Buffer, nread: number): void;
  /** An error (errno name) before the handle closes; at most once. */
  protected abstract failed(code: string): void;
  /** The handle closed (after `destroy`, the peer's FIN or an error); exactly once. */
  protected abstract onClose(): void;
  /** A write libuv had to keep (the kernel's buffer was full) is done; most writes never get here. */
  protected written(): void {}

  get destroyed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }

  /** As net.Socket's (for tests and diagnostics: a system call each). */
  get remotePort(): number | undefined {
    const out: { port?: number } = {};
    return (this.flags & CLOSED) === 0 && this.handle.getpeername(out) === 0 ? out.port : undefined;
  }

  /** As net.Socket's (for tests and diagnostics: a system call each). */
  get localPort(): number | undefined {
    const out: { port?: number } = {};
    return (this.flags & CLOSED) === 0 && this.handle.getsockname(out) === 0 ? out.port : undefined;
  }

  get localAddress(): string | undefined {
    const out: { address?: string } = {};
    return (this.flags & CLOSED) === 0 && this.handle.getsockname(out) === 0 ? out.address : undefined;
  }

  /** Bytes written but still in libuv (net's `bufferSize` less what net itself would hold). */
  get pendingBytes(): number {
    return (this.flags & CLOSED) === 0 ? this.handle.writeQueueSize : 0;
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

  /** Sends `frame` (if any) after anything queued, then a FIN; the handle closes when the peer's FIN comes. */
  end(frame?: Buffer): void {
    if ((this.flags & (CLOSED | ENDING)) !== 0) return;
    if (frame !== undefined) this.write(frame);
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
    if (nread > 0) this.received(sharedReadBuffer, nread);
    else if (nread === UV_EOF) this.destroy(); // the peer's FIN: no half-open connections
    else if (nread < 0) this.fail(nread);
  }

  /** Reports errno `err` (as net's err.code) and closes. */
  fail(err: number): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.failed(getSystemErrorName(err));
    this.destroy();
  }

  handleClosed(): void {
    this.onClose();
  }

  writeDone(status: number): void {
    if (status < 0) this.fail(status);
    else this.written();
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

// Shared callbacks: libuv calls them with the request or the handle as `this`, so no closure per connection.

function onRead(this: TcpHandle): void {
  this.owner.read(streamBaseState[kReadBytesOrError] as number);
}

function afterWrite(this: { handle: TcpHandle }, status: number): void {
  this.handle.owner.writeDone(status);
}

function afterShutdown(this: { handle: TcpHandle }, status: number): void {
  if (status < 0) this.handle.owner.fail(status);
}

function onClosed(this: TcpHandle): void {
  this.owner.handleClosed();
}
