/**
 * The lean transport's session sweep runs only while it has something to watch: connects waiting
 * for CONNACK, sessions with a keepalive of their own, sockets lingering after a graceful
 * disconnect. A shard's sessions are pinged by the fleet (callerPings), so once they are open the
 * shard process has no sweep timer at all (it had one per transport, 27 with 27 brokers).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LeanMqttTransport } from '../../src/drivers/mqtt/lean-transport.js';
import { startAedes, type TestAedes } from '../helpers/aedes.js';
import { EventLog, socketsTo } from '../helpers/mqtt-events.js';
import { waitFor } from '../helpers/wait-for.js';

const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

let seq = 0;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function aedes(): Promise<TestAedes> {
  const broker = await startAedes();
  cleanups.push(() => broker.close());
  return broker;
}

function transport(url: string, connectTimeoutMs = 5000): { t: LeanMqttTransport; log: EventLog } {
  const log = new EventLog();
  const t = new LeanMqttTransport({ url, devices: 8, connectTimeoutMs }, log);
  cleanups.push(() => t.close());
  return { t, log };
}

describe('lean transport: the session sweep', () => {
  it('stops once every open session is pinged by its caller, and starts again for a connect', async () => {
    const broker = await aedes();
    const { t, log } = transport(broker.url);
    for (let dev = 0; dev < 4; dev++) t.connect(dev, { clientId: `sweep-${seq++}`, keepalive: 60, callerPings: true });
    expect(t.sweeping).toBe(true); // the connects have a CONNACK deadline
    await waitFor(() => log.connects.length === 4, 'four connects');
    expect(log.connects.every((c) => c.ok)).toBe(true);
    // The next pass finds nothing to watch (passes run every connectTimeoutMs / 8, at most 1 s).
    await waitFor(() => !t.sweeping, 'the sweep to stop', 3000);
    t.connect(4, { clientId: `sweep-${seq++}`, keepalive: 60, callerPings: true });
    expect(t.sweeping).toBe(true);
    await waitFor(() => log.connects.length === 5, 'the fifth connect');
    await waitFor(() => !t.sweeping, 'the sweep to stop again', 3000);
    expect(t.connectedCount()).toBe(5);
    expect(log.lost).toEqual([]);
  });

  it('keeps running while a session keeps its own keepalive, and stops when it ends', async () => {
    const broker = await aedes();
    const { t, log } = transport(broker.url);
    t.connect(0, { clientId: `sweep-${seq++}`, keepalive: 60, callerPings: true });
    t.connect(1, { clientId: `sweep-${seq++}`, keepalive: 1 });
    await waitFor(() => log.connects.length === 2, 'two connects');
    // The sweep pings the session with its own keepalive (1 s) after ~0.75 s of silence, again
    // and again: passes made after both sessions were open, so it has not stopped.
    await waitFor(() => log.pingResponses.filter((dev) => dev === 1).length >= 2, 'two PINGRESPs to the sweep', 5000);
    expect(t.sweeping).toBe(true);
    t.disconnect(1);
    await waitFor(() => socketsTo(broker.port) === 1, 'the disconnected socket to close');
    await waitFor(() => !t.sweeping, 'the sweep to stop', 3000);
    expect(t.isConnected(0)).toBe(true);
  });

  it('ends a socket lingering after a graceful disconnect when the broker never closes it, though the sweep was idle', async () => {
    // A broker that accepts, answers CONNACK, and ignores the client's FIN (half-open forever).
    const held: net.Socket[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      held.push(socket);
      socket.once('data', () => socket.write(CONNACK_OK));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as net.AddressInfo).port;
    const { t, log } = transport(`mqtt://127.0.0.1:${port}`, 400);
    t.connect(0, { clientId: `sweep-${seq++}`, keepalive: 60, callerPings: true });
    await waitFor(() => log.connects.length === 1, 'the connect');
    expect(log.connects[0].ok).toBe(true);
    await waitFor(() => !t.sweeping, 'the sweep to go idle', 3000);
    t.disconnect(0);
    expect(t.sweeping).toBe(true);
    // The broker never closes it: the sweep destroys it connectTimeoutMs (400 ms) after the DISCONNECT.
    await waitFor(() => socketsTo(port) === 0, 'the lingering socket to be destroyed', 3000);
    await waitFor(() => !t.sweeping, 'the sweep to stop', 3000);
    expect(log.lost).toEqual([]);
  });
});
