/**
 * A plain-TCP session socket of the lean MQTT transport, straight over libuv's TCP handle
 * (sockets/raw-tcp-stream.ts has the how and the why): it connects, and hands what it reads and
 * its close to the session's LeanConnection.
 *
 * Only for IP literals (no DNS lookup) with a source address of the same family or none; any other
 * case, and TLS, stays on net (broker-address.ts decides).
 *
 * Concurrency: the owning thread only (see RawTcpStream).
 */
import { isIP } from 'node:net';
import { RawTcpStream, TCP, TCPConnectWrap, TCP_SOCKET, type TcpHandle } from '../../sockets/raw-tcp-stream.js';
import { kConnection, type LeanConnection } from './lean-connection.js';

/** True when `host` and `localAddress` let a session use a raw socket (IP literals of one family). */
export function rawTcpEligible(host: string, localAddress: string | undefined): boolean {
  const family = isIP(host);
  return family !== 0 && (localAddress === undefined || isIP(localAddress) === family);
}

export class RawTcpSocket extends RawTcpStream {
  [kConnection]?: LeanConnection;
  /** An error before the connection was attached (a synchronous bind or connect failure). */
  private pendingError: string | null = null;

  constructor(host: string, port: number, localAddress: string | undefined) {
    super(new TCP(TCP_SOCKET), false);
    const handle = this.handle;
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

  protected received(buf: Buffer, nread: number): void {
    const conn = this[kConnection];
    if (conn !== undefined) conn.owner.onBytes(conn, buf, 0, nread);
  }

  /** Recorded on the connection as its errno name, as net's err.code. */
  protected failed(code: string): void {
    const conn = this[kConnection];
    if (conn !== undefined) conn.error = code;
    else this.pendingError = code;
  }

  protected onClose(): void {
    const conn = this[kConnection];
    if (conn === undefined) return;
    if (conn.error === null && this.pendingError !== null) conn.error = this.pendingError;
    conn.owner.onSocketClosed(conn);
  }
}

function afterConnect(this: unknown, status: number, handle: TcpHandle): void {
  handle.owner.connected(status);
}
