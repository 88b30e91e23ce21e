/**
 * A device that disconnects gracefully lets the broker close the TCP connection first, so the
 * connection's TIME_WAIT (60 s on Linux) is kept on the broker's port, not on the simulator's: a
 * run's sessions must not leave tens of thousands of the simulator's ports in TIME_WAIT for the
 * next run, where every bind to a source address would scan past them in the kernel (a second
 * 15,000-device provisioning run took twice the CPU per device; bench/RESULTS.md, "TIME_WAIT on
 * the broker's side"). Real brokers on loopback: Debian's Mosquitto and aedes.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../../src/drivers/mqtt/index.js';
import { LINGER_AT_CLOSE_MS } from '../../src/drivers/mqtt/lean-session-sweep.js';
import type { MqttTransport } from '../../src/drivers/types.js';
import { startAedes } from '../helpers/aedes.js';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { EventLog, localPortsTo } from '../helpers/mqtt-events.js';
import { timeWaitIPv4 } from '../helpers/time-wait.js';
import { waitFor } from '../helpers/wait-for.js';

requireMosquitto();

const DEVICES = 6;
let seq = 0;

async function connected(url: string, port: number): Promise<{ t: MqttTransport; devicePorts: number[] }> {
  const log = new EventLog();
  const t = createMqttTransport('lean', { url, devices: DEVICES, connectTimeoutMs: 5000 }, log);
  const run = seq++;
  for (let dev = 0; dev < DEVICES; dev++) t.connect(dev, { clientId: `tw-${run}-${dev}`, keepalive: 30 });
  await waitFor(() => log.connects.length === DEVICES, `${DEVICES} connects`);
  expect(log.connects.every((c) => c.ok)).toBe(true);
  const devicePorts = localPortsTo(port);
  expect(devicePorts).toHaveLength(DEVICES);
  return { t, devicePorts };
}

/** Whose ports hold the TIME_WAIT of the connections between `devicePorts` and `brokerPort`. */
function timeWaitSides(brokerPort: number, devicePorts: number[]): { broker: number; devices: number } {
  const mine = new Set(devicePorts);
  const tw = timeWaitIPv4();
  return {
    broker: tw.filter((c) => c.localPort === brokerPort && mine.has(c.remotePort)).length,
    devices: tw.filter((c) => mine.has(c.localPort) && c.remotePort === brokerPort).length,
  };
}

const brokers: Array<[string, () => Promise<{ url: string; port: number; stop(): Promise<void> }>]> = [
  ['mosquitto', async () => {
    const m = await startMosquitto({ allowAnonymous: true });
    return { url: m.url, port: m.port, stop: () => m.stop() };
  }],
  ['aedes', async () => {
    const a = await startAedes();
    return { url: a.url, port: a.port, stop: () => a.close() };
  }],
];

for (const [name, start] of brokers) {
  describe(`lean MQTT sessions ending against ${name}`, () => {
    let broker: { url: string; port: number; stop(): Promise<void> };
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it('a graceful disconnect leaves the TIME_WAIT on the broker\'s port, none on the device\'s', async () => {
      const { t, devicePorts } = await connected(broker.url, broker.port);
      try {
        for (let dev = 0; dev < DEVICES; dev++) t.disconnect(dev);
        await waitFor(() => localPortsTo(broker.port).length === 0, 'the disconnected sockets to close');
        await waitFor(() => timeWaitSides(broker.port, devicePorts).broker === DEVICES, 'the broker side of every connection in TIME_WAIT');
        expect(timeWaitSides(broker.port, devicePorts).devices).toBe(0);
      } finally {
        await t.close();
      }
    });

    it('at the end of a run (every device disconnects, then the transport closes), the same', async () => {
      const { t, devicePorts } = await connected(broker.url, broker.port);
      for (let dev = 0; dev < DEVICES; dev++) t.disconnect(dev);
      await t.close();
      expect(localPortsTo(broker.port)).toEqual([]);
      await waitFor(() => timeWaitSides(broker.port, devicePorts).broker === DEVICES, 'the broker side of every connection in TIME_WAIT');
      expect(timeWaitSides(broker.port, devicePorts).devices).toBe(0);
    });
  });
}

describe('lean MQTT sessions ending against a broker that never closes', () => {
  it('close() waits LINGER_AT_CLOSE_MS for the broker, then closes the connection itself', async () => {
    // Answers CONNECT with CONNACK (accepted) and otherwise only listens: never closes a connection.
    const heard: { disconnectAt?: number; endAt?: number } = {};
    const sockets: net.Socket[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.push(socket);
      socket.on('data', (d) => {
        if (d[0] === 0x10) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        if (d.includes(0xe0)) heard.disconnectAt ??= performance.now();
      });
      socket.on('end', () => (heard.endAt = performance.now()));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const log = new EventLog();
    const t = createMqttTransport('lean', { url: `mqtt://127.0.0.1:${port}`, devices: 1, connectTimeoutMs: 5000 }, log);
    try {
      t.connect(0, { clientId: 'never-closed', keepalive: 30 });
      await waitFor(() => log.connects.length === 1, 'the connect');
      expect(log.connects[0].ok).toBe(true);
      t.disconnect(0);
      await waitFor(() => heard.disconnectAt !== undefined, 'the DISCONNECT at the broker');
      await t.close();
      await waitFor(() => heard.endAt !== undefined, "the device's FIN");
      // Timers never fire early: the FIN cannot have come sooner than the linger, and close()
      // resolved once the socket had closed.
      expect(heard.endAt! - heard.disconnectAt!).toBeGreaterThanOrEqual(LINGER_AT_CLOSE_MS - 50);
      expect(localPortsTo(port)).toEqual([]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
