/**
 * A listening TCP socket straight over libuv's TCP handle, whose accepted connections are handed
 * over as bare handles for a RawTcpStream (raw-tcp-stream.ts): the embedded broker's listener,
 * without a net.Socket per accepted device.
 *
 * Concurrency: the thread that created it; `accept` runs on it, from libuv.
 */
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { getSystemErrorName } from 'node:util';
import { TCP, TCP_SERVER, type TcpHandle } from './raw-tcp-stream.js';

interface ServerHandle {
  onconnection: (this: ServerHandle, status: number, client: TcpHandle | undefined) => void;
  /** The listener's owner: set on the handle so that one shared onconnection serves every server. */
  accept: (handle: TcpHandle) => void;
  onError: (code: string) => void;
  bind(address: string, port: number): number;
  bind6(address: string, port: number, flags: number): number;
  listen(backlog: number): number;
  getsockname(out: { port?: number }): number;
  close(cb: () => void): void;
}

export interface RawTcpServer {
  readonly port: number;
  /** Stops accepting; resolves once the listening handle is closed (accepted connections are their owners'). */
  close(): Promise<void>;
}

/** An error of listen() as net reports it: `code` is the errno name (EADDRINUSE, EACCES). */
function listenError(err: number, host: string, port: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(err);
  return Object.assign(new Error(`listen ${code} ${host}:${port}`), { code });
}

/**
 * Listens on `host:port` (a host name is looked up once, as net does); every accepted connection
 * goes to `accept` as a connected handle, which must be given to a RawTcpStream (or closed).
 * Accept errors (EMFILE when out of descriptors) leave the connection in the kernel's queue, as
 * net's do, and go to `onError`.
 */
export async function listenRawTcp(host: string, port: number, backlog: number, accept: (handle: TcpHandle) => void, onError: (code: string) => void): Promise<RawTcpServer> {
  const address = isIP(host) === 0 ? (await lookup(host)).address : host;
  const handle = new TCP(TCP_SERVER) as unknown as ServerHandle;
  handle.accept = accept;
  handle.onError = onError;
  handle.onconnection = onConnection;
  let err = isIP(address) === 6 ? handle.bind6(address, port, 0) : handle.bind(address, port);
  if (err === 0) err = handle.listen(backlog);
  if (err !== 0) {
    await new Promise<void>((resolve) => handle.close(resolve));
    throw listenError(err, host, port);
  }
  const out: { port?: number } = {};
  handle.getsockname(out);
  let closing: Promise<void> | undefined;
  return {
    port: out.port ?? port,
    close: () => (closing ??= new Promise<void>((resolve) => handle.close(resolve))),
  };
}

function onConnection(this: ServerHandle, status: number, client: TcpHandle | undefined): void {
  if (status !== 0 || client === undefined) this.onError(getSystemErrorName(status));
  else this.accept(client);
}
