/**
 * The MqttTransport contract, run for every transport kind against every broker:
 * {mqttjs, lean} x {aedes, mosquitto}. Real brokers on loopback ports chosen by the OS.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../../src/drivers/mqtt/index.js';
import { freePort } from '../../src/drivers/mqtt/local-mosquitto.js';
import { LOST_CLOSED_BY_BROKER, LOST_RESET, MQTT_NET_CODE_BASE, NET_REFUSED, NET_RESET, NET_TIMEOUT, type MqttClientKind, type MqttTransport } from '../../src/drivers/types.js';

// A connect that fails without a CONNACK reports MQTT_NET_CODE_BASE minus its pseudo-status, so a
// report can count it under its true cause (refused, reset, timeout) instead of one "network" bucket.
const REFUSED = MQTT_NET_CODE_BASE - NET_REFUSED;
const RESET = MQTT_NET_CODE_BASE - NET_RESET;
const TIMED_OUT = MQTT_NET_CODE_BASE - NET_TIMEOUT;
import { startAedes } from '../helpers/aedes.js';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { EventLog, guardSynchronousCallbacks, localAddressesTo, socketsTo } from '../helpers/mqtt-events.js';
import { startMqttTap } from '../helpers/mqtt-tap.js';
import { eventLoopTurns, waitFor } from '../helpers/wait-for.js';

const mosquittoOk = requireMosquitto();

type BrokerKind = 'aedes' | 'mosquitto';

interface TestBroker {
  url: string;
  port: number;
  /** Stop answering: no more PUBACKs, sockets stay open. */
  freeze(): void;
  /** Take the broker away; its sockets close. */
  kill(): Promise<void>;
}

async function startBroker(kind: BrokerKind): Promise<TestBroker> {
  if (kind === 'aedes') {
    const aedes = await startAedes();
    return { url: aedes.url, port: aedes.port, freeze: () => aedes.stall(), kill: () => aedes.close() };
  }
  const mosquitto = await startMosquitto({ allowAnonymous: true });
  return { url: mosquitto.url, port: mosquitto.port, freeze: () => mosquitto.freeze(), kill: () => mosquitto.stop() };
}

let clientSeq = 0;

function transportContract(kind: MqttClientKind, brokerKind: BrokerKind): void {
  let broker: TestBroker;
  const opened: MqttTransport[] = [];

  function open(url = broker.url, connectTimeoutMs = 5000, devices = 64): { t: MqttTransport; log: EventLog } {
    const log = new EventLog();
    const t = guardSynchronousCallbacks(createMqttTransport(kind, { url, devices, connectTimeoutMs }, log), log);
    opened.push(t);
    return { t, log };
  }

  function connectAll(t: MqttTransport, devs: number, keepalive = 30): void {
    const run = clientSeq++;
    for (let dev = 0; dev < devs; dev++) t.connect(dev, { clientId: `ct-${kind}-${run}-${dev}`, keepalive });
  }

  async function openConnected(devs: number, keepalive = 30): Promise<{ t: MqttTransport; log: EventLog }> {
    const opened = open();
    connectAll(opened.t, devs, keepalive);
    await waitFor(() => opened.log.connects.length === devs, `${devs} connects`);
    expect(opened.log.connects.every((c) => c.ok)).toBe(true);
    return opened;
  }

  beforeAll(async () => {
    broker = await startBroker(brokerKind);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
  });
  afterAll(async () => {
    await broker?.kill();
  });

  it('connects 50 devices: one successful onConnect each, connectedCount 50', async () => {
    const { t, log } = await openConnected(50);
    expect(new Set(log.connects.map((c) => c.dev)).size).toBe(50);
    expect(log.connects.every((c) => c.ok && c.code === 0)).toBe(true);
    expect(t.connectedCount()).toBe(50);
    expect(t.isConnected(49)).toBe(true);
    expect(log.syncCallbacks).toBe(0);
  });

  it('acks every QoS 1 publish exactly once, with its device and token', async () => {
    const { t, log } = await openConnected(5);
    const devOf = new Map<number, number>();
    for (let token = 0; token < 200; token++) {
      const dev = token % 5;
      devOf.set(token, dev);
      expect(t.publish(dev, `ct/${dev}/telemetry`, Buffer.alloc(100 + token, token), 1, token)).toBe(true);
    }
    await waitFor(() => log.acks.length >= 200, '200 acks');
    // A barrier per session: acks of one connection come in order, so once each device's barrier
    // is acked, a duplicate of any earlier ack would have come before it.
    for (let dev = 0; dev < 5; dev++) {
      devOf.set(1000 + dev, dev);
      expect(t.publish(dev, `ct/${dev}/telemetry`, Buffer.from('barrier'), 1, 1000 + dev)).toBe(true);
    }
    await waitFor(() => log.acks.filter((a) => a.token >= 1000).length === 5, 'the five barrier acks');
    expect(log.acks.length).toBe(205);
    expect(new Set(log.acks.map((a) => a.token)).size).toBe(205);
    for (const ack of log.acks) expect(ack.dev).toBe(devOf.get(ack.token));
    expect(log.syncCallbacks).toBe(0);
  });

  it('sends QoS 0 without any ack', async () => {
    const { t, log } = await openConnected(1);
    expect(t.publish(0, 'ct/0/telemetry', Buffer.from('q0'), 0, 7)).toBe(true);
    // The broker handles one connection's packets in order: once this QoS 1 is acked, the QoS 0 was handled.
    expect(t.publish(0, 'ct/0/telemetry', Buffer.from('q1'), 1, 8)).toBe(true);
    await waitFor(() => log.acks.length === 1, 'the QoS 1 ack');
    expect(log.acks).toEqual([{ dev: 0, token: 8 }]);
  });

  it('refuses to publish without a session, calling nothing back', async () => {
    const { t, log } = await openConnected(2);
    expect(t.publish(5, 'ct/5/telemetry', Buffer.from('x'), 1, 1)).toBe(false);
    t.disconnect(1);
    expect(t.isConnected(1)).toBe(false);
    expect(t.publish(1, 'ct/1/telemetry', Buffer.from('x'), 1, 2)).toBe(false);
    expect(t.publish(1, 'ct/1/telemetry', Buffer.from('x'), 0, 3)).toBe(false);
    // Barriers: device 1's socket is gone (a stray onConnectionLost would come with its close),
    // and a round trip on device 0 took several turns of the event loop.
    await waitFor(() => socketsTo(broker.port) === 1, "device 1's socket to close");
    expect(t.publish(0, 'ct/0/telemetry', Buffer.from('barrier'), 1, 9)).toBe(true);
    await waitFor(() => log.acks.length === 1, 'the barrier ack');
    await eventLoopTurns();
    expect(log.acks).toEqual([{ dev: 0, token: 9 }]);
    expect(log.lost).toEqual([]);
  });

  it('reports a killed broker once per device and never acks what was in flight', async () => {
    const own = await startBroker(brokerKind);
    try {
      const { t, log } = open(own.url);
      connectAll(t, 10);
      await waitFor(() => log.connects.length === 10, '10 connects');
      own.freeze();
      for (let dev = 0; dev < 10; dev++) expect(t.publish(dev, `ct/${dev}/telemetry`, Buffer.from('x'), 1, 100 + dev)).toBe(true);
      await own.kill();
      await waitFor(() => log.lost.length >= 10, '10 onConnectionLost');
      // Every socket is closed: a second report for a device would have come with its close.
      await waitFor(() => socketsTo(own.port) === 0, 'every socket to close');
      await eventLoopTurns();
      expect(log.lost.map((l) => l.dev).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // A killed broker's kernel closes its sockets: FIN, or RST where unread bytes were left.
      for (const l of log.lost) expect([LOST_CLOSED_BY_BROKER, LOST_RESET]).toContain(l.cause);
      expect(log.acks).toEqual([]);
      expect(t.connectedCount()).toBe(0);
      expect(log.connects.length).toBe(10);
    } finally {
      await own.kill();
    }
  });

  it('fails a connect to a closed port as refused', async () => {
    const { t, log } = open(`mqtt://127.0.0.1:${await freePort()}`);
    t.connect(3, { clientId: 'closed-port', keepalive: 30 });
    await waitFor(() => log.connects.length === 1, 'the failed connect');
    expect(log.connects[0]).toMatchObject({ dev: 3, ok: false, code: REFUSED });
    expect(t.connectedCount()).toBe(0);
    expect(log.syncCallbacks).toBe(0);
  });

  it('times out a connect when the server accepts but never answers', async () => {
    const silent = new Set<net.Socket>();
    const server = net.createServer((s) => {
      silent.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const timeoutMs = 300;
      const { t, log } = open(`mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`, timeoutMs);
      const started = performance.now();
      t.connect(0, { clientId: 'silent', keepalive: 30 });
      await waitFor(() => log.connects.length === 1, 'the connect timeout');
      const elapsed = performance.now() - started;
      expect(log.connects[0]).toMatchObject({ dev: 0, ok: false, code: TIMED_OUT });
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMs * 0.9);
      expect(elapsed).toBeLessThan(timeoutMs + 1000);
    } finally {
      for (const s of silent) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('disconnects gracefully without onConnectionLost', async () => {
    const { t, log } = await openConnected(3);
    t.disconnect(0);
    expect(t.isConnected(0)).toBe(false);
    expect(t.connectedCount()).toBe(2);
    await waitFor(() => socketsTo(broker.port) === 2, 'the disconnected socket to close');
    await eventLoopTurns();
    expect(log.lost).toEqual([]);
    expect(log.connects.length).toBe(3);
  });

  it('delivers messages on subscribed topics to onMessage', async () => {
    const { t, log } = await openConnected(2);
    t.subscribe(0, 'ct/0/commands', 1);
    // Packets of one connection are handled in order: once this publish is acked, the subscription exists.
    t.publish(0, 'ct/0/barrier', Buffer.from('b'), 1, 1);
    await waitFor(() => log.acks.length === 1, 'the barrier ack');
    t.publish(1, 'ct/0/commands', Buffer.from('reboot'), 1, 2);
    t.publish(1, 'ct/0/commands', Buffer.from('reboot-q0'), 0, 3);
    await waitFor(() => log.messages.length === 2, 'two messages');
    expect(log.messages.map((m) => [m.dev, m.topic, m.payload.toString()]).sort()).toEqual([
      [0, 'ct/0/commands', 'reboot'],
      [0, 'ct/0/commands', 'reboot-q0'],
    ]);
    // The QoS 1 delivery was acked by the transport, or the broker would redeliver and keep it in flight.
    await waitFor(() => log.acks.length === 2, 'the sender ack');
  });

  it('close() ends every session, leaves no socket behind and calls nothing back', async () => {
    const { t, log } = await openConnected(5);
    expect(socketsTo(broker.port)).toBe(5);
    await t.close();
    expect(t.connectedCount()).toBe(0);
    expect(socketsTo(broker.port)).toBe(0);
    await eventLoopTurns();
    expect(log.lost).toEqual([]);
  });

  it('connects from the requested source address', async () => {
    const { t, log } = open();
    t.connect(0, { clientId: `src-${kind}-${clientSeq++}`, keepalive: 30, localAddress: '127.0.0.2' });
    await waitFor(() => log.connects.length === 1, 'the connect');
    expect(log.connects[0]).toMatchObject({ dev: 0, ok: true });
    expect(localAddressesTo(broker.port)).toEqual(['127.0.0.2']);
  });

  it('fails a connect from an unusable source address under its cause, never synchronously', async () => {
    const { t, log } = open();
    t.connect(0, { clientId: `bad-src-${clientSeq++}`, keepalive: 30, localAddress: 'not-an-address' });
    t.connect(1, { clientId: `bad-src-${clientSeq++}`, keepalive: 30, localAddress: '192.0.2.1' }); // TEST-NET-1: not ours
    await waitFor(() => log.connects.length === 2, 'both failed connects');
    expect(log.connects.map((c) => [c.dev, c.ok, c.code]).sort()).toEqual([
      [0, false, RESET], // not an IP address at all: the socket fails before any packet
      [1, false, REFUSED], // EADDRNOTAVAIL: the kernel cannot bind it, counted like an unreachable host
    ]);
    expect(log.syncCallbacks).toBe(0);
  });

  it('keeps an idle 1 s keepalive session up through three PINGREQ / PINGRESP exchanges', async () => {
    const tap = await startMqttTap(broker.port);
    try {
      const { t, log } = open(tap.url);
      t.connect(0, { clientId: `idle-${kind}-${clientSeq++}`, keepalive: 1 });
      await waitFor(() => log.connects.length === 1, 'the connect');
      expect(log.connects[0]).toMatchObject({ ok: true });
      // The session is idle: only keepalive traffic passes, and each ping is answered.
      await waitFor(() => (tap.fromBroker.get('pingresp') ?? 0) >= 3, 'three PINGRESPs');
      expect(tap.fromClient.get('publish') ?? 0).toBe(0);
      expect(log.lost).toEqual([]);
      expect(t.isConnected(0)).toBe(true);
      expect(t.publish(0, 'ct/0/telemetry', Buffer.from('alive'), 1, 1)).toBe(true);
      await waitFor(() => log.acks.length === 1, 'an ack after the idle period');
    } finally {
      await Promise.all(opened.splice(0).map((t) => t.close()));
      await tap.close();
    }
  });
}

for (const kind of ['mqttjs', 'lean'] as const) {
  describe(`MqttTransport contract: ${kind} x aedes`, () => transportContract(kind, 'aedes'));
  describe.runIf(mosquittoOk)(`MqttTransport contract: ${kind} x mosquitto`, () => transportContract(kind, 'mosquitto'));
}

// Mosquitto cannot be told to refuse one client without an auth plugin, so the CONNACK refusal
// case runs on aedes only.
describe.each(['mqttjs', 'lean'] as const)('MqttTransport contract: %s, CONNACK refusal (aedes)', (kind) => {
  it('reports the CONNACK return code of a refused connect', async () => {
    const aedes = await startAedes({ refuseUsername: 'intruder' });
    const log = new EventLog();
    const t = guardSynchronousCallbacks(createMqttTransport(kind, { url: aedes.url, devices: 4, connectTimeoutMs: 5000 }, log), log);
    try {
      t.connect(2, { clientId: 'refused', username: 'intruder', password: 'x', keepalive: 30 });
      t.connect(1, { clientId: 'welcome', username: 'friend', password: 'x', keepalive: 30 });
      await waitFor(() => log.connects.length === 2, 'both connect outcomes');
      expect(log.connects).toContainEqual({ dev: 2, ok: false, code: 4 });
      expect(log.connects).toContainEqual({ dev: 1, ok: true, code: 0 });
      expect(t.connectedCount()).toBe(1);
      await eventLoopTurns();
      expect(log.lost).toEqual([]);
      expect(log.syncCallbacks).toBe(0);
    } finally {
      await t.close();
      await aedes.close();
    }
  });
});

// Mosquitto checks keepalives only every few seconds; aedes within a second of the 1.5x deadline,
// so the case runs on aedes only (the broker's side is not what it tests).
describe.each(['mqttjs', 'lean'] as const)('MqttTransport contract: %s, keepalive driven by the caller (aedes)', (kind) => {
  const transports: MqttTransport[] = [];
  it('when the caller pings: ping() sends one PINGREQ answered by onPingResponse, and the transport sends none of its own', async () => {
    const aedes = await startAedes();
    const tap = await startMqttTap(aedes.port);
    try {
      const log = new EventLog();
      const t = guardSynchronousCallbacks(createMqttTransport(kind, { url: tap.url, devices: 4, connectTimeoutMs: 5000 }, log), log);
      transports.push(t);
      expect(t.ping(0)).toBe(false);
      t.connect(0, { clientId: `caller-${kind}-${clientSeq++}`, keepalive: 1, callerPings: true });
      await waitFor(() => log.connects.length === 1, 'the connect');
      expect(t.ping(0)).toBe(true);
      await waitFor(() => log.pingResponses.length === 1, 'the PINGRESP');
      // CONNECT still carried the keepalive, and nobody pings again: the broker closes the session
      // after 1.5 s of silence (MQTT 3.1.1 §3.1.2.10), having seen the caller's one PINGREQ only.
      await waitFor(() => log.lost.length === 1, 'the broker closing the silent session');
      expect(tap.fromClient.get('pingreq')).toBe(1);
      expect(log.lost[0].cause).toBe(LOST_CLOSED_BY_BROKER);
      expect(log.pingResponses).toEqual([0]);
      expect(log.syncCallbacks).toBe(0);
    } finally {
      await Promise.all(transports.splice(0).map((t) => t.close()));
      await tap.close();
      await aedes.close();
    }
  });
});

// The 500,000-session runs lost sessions that Mosquitto closed after 1.5 keepalives of silence
// while fleetsim's shards lagged: the report has to say so (mqtt.connection_lost.closed_by_broker).
// Mosquitto checks keepalives every few seconds, so this costs ~5 s: the lean transport only (the
// one those runs use; mqtt.js's close is covered on aedes above).
describe.runIf(mosquittoOk)('MqttTransport contract: lean, a session Mosquitto closes for its silence', () => {
  it('is reported once, as closed by the broker', async () => {
    const mosquitto = await startMosquitto({ allowAnonymous: true });
    const log = new EventLog();
    const t = guardSynchronousCallbacks(createMqttTransport('lean', { url: mosquitto.url, devices: 2, connectTimeoutMs: 5000 }, log), log);
    try {
      // A device whose event loop stalls past 1.5 keepalives, as the broker sees it: CONNECT with
      // keepalive 1 s, then nothing (the caller pings, and never does).
      t.connect(0, { clientId: `silent-${clientSeq++}`, keepalive: 1, callerPings: true });
      await waitFor(() => log.connects.length === 1, 'the connect');
      expect(log.connects[0]).toMatchObject({ ok: true });
      await waitFor(() => log.lost.length === 1, 'Mosquitto closing the silent session', 15_000);
      expect(log.lost[0]).toMatchObject({ dev: 0, cause: LOST_CLOSED_BY_BROKER });
      expect(log.syncCallbacks).toBe(0);
    } finally {
      await t.close();
      await mosquitto.stop();
    }
  });
});
