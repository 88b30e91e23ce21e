import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LeanConnection, type LeanConnectionOwner } from '../../src/drivers/mqtt/lean-connection.js';
import { RawTcpSocket, rawTcpEligible } from '../../src/drivers/mqtt/raw-tcp-socket.js';
import { waitFor } from '../helpers/wait-for.js';

/** What a raw socket reported to its connection's owner. */
class Recorder implements LeanConnectionOwner {
  bytes: Buffer[] = [];
  closes = 0;
  onBytes(_conn: LeanConnection, buf: Buffer, start: number, end: number): void {
    this.bytes.push(Buffer.from(buf.subarray(start, end))); // the shared read buffer: copy
  }
  onFrame(): boolean {
    return true;
  }
  onSocketClosed(): void {
    this.closes++;
  }
  received(): string {
    return Buffer.concat(this.bytes).toString();
  }
}

interface Peer {
  server: net.Server;
  port: number;
  sockets: net.Socket[];
  data: Map<net.Socket, string>;
  ended: Set<net.Socket>;
}

const servers: net.Server[] = [];
const peerSockets: net.Socket[] = [];

async function listen(): Promise<Peer> {
  // Half-open allowed: the peer closes only when a test says so.
  const peer: Peer = { server: net.createServer({ allowHalfOpen: true }), port: 0, sockets: [], data: new Map(), ended: new Set() };
  peer.server.on('connection', (s) => {
    peer.sockets.push(s);
    peerSockets.push(s);
    peer.data.set(s, '');
    s.on('data', (d) => peer.data.set(s, peer.data.get(s) + d.toString()));
    s.on('end', () => peer.ended.add(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => peer.server.listen(0, '127.0.0.1', r));
  peer.port = (peer.server.address() as net.AddressInfo).port;
  servers.push(peer.server);
  return peer;
}

function open(port: number, localAddress?: string): { socket: RawTcpSocket; conn: LeanConnection; owner: Recorder } {
  const owner = new Recorder();
  const socket = new RawTcpSocket('127.0.0.1', port, localAddress);
  const conn = new LeanConnection(0, owner, socket);
  return { socket, conn, owner };
}

afterEach(async () => {
  for (const s of peerSockets.splice(0)) s.destroy(); // half-open ones would keep their server open
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('RawTcpSocket (libuv TCP handle without net.Socket)', () => {
  it('sends frames written before the handshake, in order, and delivers what the peer sends', async () => {
    const peer = await listen();
    const { socket, owner } = open(peer.port);
    socket.write(Buffer.from('one,'));
    socket.write(Buffer.from('two,'));
    await waitFor(() => peer.sockets.length === 1 && peer.data.get(peer.sockets[0]) === 'one,two,', 'queued frames at the peer');
    socket.write(Buffer.from('three'));
    await waitFor(() => peer.data.get(peer.sockets[0]) === 'one,two,three', 'a direct write at the peer');
    peer.sockets[0].write('hello back');
    await waitFor(() => owner.received() === 'hello back', 'bytes from the peer');
    socket.destroy();
    await waitFor(() => owner.closes === 1, 'the close');
    expect(socket.destroyed).toBe(true);
  });

  it('holds corked writes until uncork and sends them then', async () => {
    const peer = await listen();
    const { socket } = open(peer.port);
    socket.write(Buffer.from('a'));
    await waitFor(() => peer.data.get(peer.sockets[0]) === 'a', 'the first write');
    socket.cork();
    socket.write(Buffer.from('b'));
    socket.write(Buffer.from('c'));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(peer.data.get(peer.sockets[0])).toBe('a');
    socket.uncork();
    await waitFor(() => peer.data.get(peer.sockets[0]) === 'abc', 'the corked writes');
    socket.destroy();
  });

  it('end: sends the last frame and a FIN, and closes (no error) when the peer closes too', async () => {
    const peer = await listen();
    const { socket, conn, owner } = open(peer.port);
    socket.end(Buffer.from('bye'));
    socket.write(Buffer.from('after end: dropped'));
    await waitFor(() => peer.ended.size === 1, 'the FIN at the peer');
    expect(peer.data.get(peer.sockets[0])).toBe('bye');
    expect(owner.closes).toBe(0); // half-closed: waits for the peer
    peer.sockets[0].end();
    await waitFor(() => owner.closes === 1, 'the close after the peer FIN');
    expect(conn.error).toBeNull();
  });

  it('closes on the peer FIN alone (no half-open session)', async () => {
    const peer = await listen();
    const { conn, owner } = open(peer.port);
    await waitFor(() => peer.sockets.length === 1, 'the connection');
    peer.sockets[0].end();
    await waitFor(() => owner.closes === 1, 'the close');
    expect(conn.error).toBeNull();
  });

  it('reports a refused connect as ECONNREFUSED, then closes once', async () => {
    const peer = await listen();
    const port = peer.port;
    await new Promise((r) => peer.server.close(r));
    servers.length = 0;
    const { socket, conn, owner } = open(port);
    socket.write(Buffer.from('never sent'));
    await waitFor(() => owner.closes === 1, 'the close');
    expect(conn.error).toBe('ECONNREFUSED');
    await new Promise((r) => setTimeout(r, 20));
    expect(owner.closes).toBe(1);
  });

  it('reports a reset by the peer as ECONNRESET', async () => {
    const peer = await listen();
    const { conn, owner } = open(peer.port);
    await waitFor(() => peer.sockets.length === 1, 'the connection');
    peer.sockets[0].resetAndDestroy();
    await waitFor(() => owner.closes === 1, 'the close');
    expect(conn.error).toBe('ECONNRESET');
  });

  it('binds the source address it is given, and reports a bind failure as its errno name', async () => {
    const peer = await listen();
    const { socket } = open(peer.port, '127.0.0.2');
    await waitFor(() => peer.sockets.length === 1, 'the connection');
    expect(peer.sockets[0].remoteAddress).toBe('127.0.0.2');
    socket.destroy();
    const bad = open(peer.port, '192.0.2.1'); // TEST-NET-1: not an address of this machine
    await waitFor(() => bad.owner.closes === 1, 'the close after a failed bind');
    expect(bad.conn.error).toBe('EADDRNOTAVAIL');
  });

  it('is used for IP literals with a source address of the same family only', () => {
    expect(rawTcpEligible('127.0.0.1', undefined)).toBe(true);
    expect(rawTcpEligible('127.0.0.1', '127.0.0.3')).toBe(true);
    expect(rawTcpEligible('::1', '::1')).toBe(true);
    expect(rawTcpEligible('::1', '127.0.0.1')).toBe(false);
    expect(rawTcpEligible('localhost', undefined)).toBe(false);
  });
});
