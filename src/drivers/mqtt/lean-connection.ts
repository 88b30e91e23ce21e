/**
 * One lean MQTT connection: the only object the lean transport allocates per connected device.
 * It carries the socket, the unfinished-frame buffer and the packet-id table, and it is what the
 * shared socket listeners find on the socket (`socket[kConnection]`), so no closure is created per
 * connection or per event: every socket of a thread shares the same four listener functions.
 */
import type net from 'node:net';
import type { FrameCarry, FrameSink } from '../../wire/mqtt-frame-decoder.js';
import type { InflightIds } from './lean-inflight.js';

/** What a connection reports to its transport. Implemented by LeanMqttTransport. */
export interface LeanConnectionOwner {
  onBytes(conn: LeanConnection, buf: Buffer, start: number, end: number): void;
  onFrame(conn: LeanConnection, header: number, buf: Buffer, start: number, end: number): boolean;
  onSocketClosed(conn: LeanConnection): void;
}

/** A device's session states in the lean transport (its `state[dev]`, read by its sweep too). */
export const IDLE = 0;
/** CONNECT written (or queued behind the TCP handshake), waiting for CONNACK. */
export const CONNECTING = 1;
export const CONNECTED = 2;

export const kConnection = Symbol('fleetsim.leanConnection');

/**
 * What the lean transport does with a session's socket: a net.Socket (TLS, host names), or a
 * RawTcpSocket (raw-tcp-socket.ts: plain TCP to an IP literal, without net's stream objects).
 */
export interface SessionSocket {
  /** True once destroy() was called or the socket closed on its own. */
  readonly destroyed: boolean;
  write(frame: Buffer): void;
  end(frame: Buffer): void;
  destroy(): void;
  cork(): void;
  uncork(): void;
}

export type LeanSocket = SessionSocket & { [kConnection]?: LeanConnection };

export class LeanConnection implements FrameCarry, FrameSink, InflightIds {
  carry: Buffer | null = null;
  carryLength = 0;
  ids: Uint16Array | null = null;
  tokens: Float64Array | null = null;
  lastId = 0;
  inflight = 0;
  soloId = 0;
  soloToken = 0;
  /** True while this is the device's current connection; false once detached (closed, failed, disconnected). */
  live = true;
  /** True while the socket is corked for the current read's batch of writes. */
  corked = false;
  /** When a graceful disconnect started (ms, performance.now), for the lingering-socket sweep. */
  closingSinceMs = 0;
  /** The last socket error, reported as the reason when the session is lost. */
  error: string | null = null;

  constructor(
    readonly dev: number,
    readonly owner: LeanConnectionOwner,
    readonly socket: LeanSocket,
  ) {
    socket[kConnection] = this;
  }

  onFrame(header: number, buf: Buffer, start: number, end: number): boolean {
    return this.owner.onFrame(this, header, buf, start, end);
  }
}

/**
 * Every read of every plain-TCP lean socket of this thread, net's (`onread` option) and raw ones
 * alike, lands in this one buffer, so reading allocates nothing. Safe because reads are delivered
 * one at a time on this thread and the decoder copies any unfinished frame out before returning.
 */
export { sharedReadBuffer } from '../../sockets/raw-tcp-stream.js';

/** net `onread` callback; `this` is the socket. */
export function onSocketRead(this: net.Socket & LeanSocket, nread: number, buf: Buffer): boolean {
  const conn = this[kConnection];
  if (conn !== undefined) conn.owner.onBytes(conn, buf, 0, nread);
  return true; // keep reading
}

/** 'data' listener for TLS sockets, which do not support `onread`. */
export function onSocketData(this: LeanSocket, chunk: Buffer): void {
  const conn = this[kConnection];
  if (conn !== undefined) conn.owner.onBytes(conn, chunk, 0, chunk.length);
}

export function onSocketError(this: LeanSocket, err: NodeJS.ErrnoException): void {
  const conn = this[kConnection];
  if (conn !== undefined) conn.error = err.code ?? err.message;
}

export function onSocketClose(this: LeanSocket): void {
  const conn = this[kConnection];
  if (conn !== undefined) conn.owner.onSocketClosed(conn);
}
