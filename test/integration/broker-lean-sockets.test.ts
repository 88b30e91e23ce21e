import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startLeanBroker } from '../../src/backend/broker-lean.js';
import type { Broker } from '../../src/backend/broker.js';
import { DeviceStore } from '../../src/backend/store.js';
import { encodeConnect, encodePublish, encodeSubscribe } from '../../src/drivers/mqtt/lean-frames.js';
import { telemetryTopic } from '../../src/wire/reference-protocol.js';
import { waitFor } from '../helpers/wait-for.js';

// The embedded lean broker runs its sessions on libuv's TCP handles without net.Socket
// (sockets/raw-tcp-stream.ts, raw-tcp-server.ts). These are the socket duties net used to do for
// it, checked with real TCP clients: slow readers, listening errors, host names and closing.

const OPERATOR = { username: 'operator', password: 'watch-only' };
const started: Broker[] = [];
const clients: net.Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const b of started.splice(0)) await b.close();
});

async function broker(opts: { host?: string; port?: number; drainTimeoutMs?: number } = {}): Promise<{ broker: Broker; store: DeviceStore; log: string[] }> {
  const store = new DeviceStore('fleet-key');
  const log: string[] = [];
  const b = await startLeanBroker(store, { host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, log: (l) => log.push(l), operator: OPERATOR, drainTimeoutMs: opts.drainTimeoutMs });
  started.push(b);
  return { broker: b, store, log };
}

/** A raw MQTT client logged in (CONNACK read); `bytes` counts everything it read after that. */
async function login(port: number, username: string, password: string, clientId: string): Promise<{ socket: net.Socket; bytes: () => number }> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  clients.push(socket);
  await once(socket, 'connect');
  let read = 0;
  let connack: (() => void) | undefined;
  const gotConnack = new Promise<void>((r) => (connack = r));
  socket.on('data', (chunk: Buffer) => {
    if (read === 0 && chunk[0] === 0x20) connack?.();
    read += chunk.length;
  });
  socket.on('error', () => {});
  socket.write(encodeConnect({ clientId, username, password, keepalive: 0 }));
  await gotConnack;
  return { socket, bytes: () => read };
}

describe('the lean broker on raw TCP handles', () => {
  it('drops a subscriber that stops reading once its drain deadline passes, and keeps the one that reads', async () => {
    const { broker: b, store, log } = await broker({ drainTimeoutMs: 300 });
    const device = store.provision('flood-1');
    const pub = await login(b.port, device.id, device.key, 'device');
    const stalled = await login(b.port, OPERATOR.username, OPERATOR.password, 'stalled');
    const reader = await login(b.port, OPERATOR.username, OPERATOR.password, 'reader');
    for (const [i, op] of [stalled, reader].entries()) {
      const before = op.bytes();
      op.socket.write(encodeSubscribe(i + 1, 'fleet/#', 0));
      await waitFor(() => op.bytes() > before, 'the SUBACK');
    }
    stalled.socket.pause(); // reads nothing more: the kernel's buffers fill, then the broker's queue grows
    // Publishes of 64 KiB until the broker gives up on the stalled subscriber (loopback buffers hold a few MB).
    const payload = Buffer.alloc(64 * 1024, 0x61);
    const dropped = () => log.some((l) => l.includes('stalled') && l.includes('drain timeout'));
    const deadline = Date.now() + 20_000;
    while (!dropped() && Date.now() < deadline) {
      const frame = encodePublish(telemetryTopic(device.id), payload, 0, 0)!;
      if (!pub.socket.write(frame)) await once(pub.socket, 'drain');
      await new Promise((r) => setImmediate(r));
    }
    expect(dropped()).toBe(true);
    // The publisher and the subscriber that kept reading still have their sessions.
    expect(b.connectedClients()).toBe(2);
    expect(reader.socket.destroyed).toBe(false);
    expect(pub.socket.destroyed).toBe(false);
    // The stalled client, once it reads again, finds its connection closed.
    const stalledClosed = once(stalled.socket, 'close');
    stalled.socket.resume();
    await stalledClosed;
    expect(reader.bytes()).toBeGreaterThan(8 * payload.length);
  });

  it('reports a port in use as EADDRINUSE, as net does', async () => {
    const { broker: first } = await broker();
    await expect(broker({ port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('listens on a host name (looked up once) and answers on it', async () => {
    const { broker: b, store } = await broker({ host: 'localhost' });
    const device = store.provision('by-name');
    const c = await login(b.port, device.id, device.key, 'by-name');
    expect(c.bytes()).toBeGreaterThanOrEqual(4); // the CONNACK came
    expect(b.connectedClients()).toBe(1);
  });

  it('close resolves once every accepted connection is closed, and the clients see their connection end', async () => {
    const { broker: b, store } = await broker();
    const device = store.provision('closing');
    const logged = await login(b.port, device.id, device.key, 'closing');
    const bare = net.connect({ port: b.port, host: '127.0.0.1' }); // accepted, never sends CONNECT
    clients.push(bare);
    bare.on('error', () => {});
    await once(bare, 'connect');
    const closes = [once(logged.socket, 'close'), once(bare, 'close')];
    await b.close();
    started.length = 0;
    await Promise.all(closes);
    expect(b.connectedClients()).toBe(0);
    // Nothing listens any more.
    const refused = net.connect({ port: b.port, host: '127.0.0.1' });
    clients.push(refused);
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});
