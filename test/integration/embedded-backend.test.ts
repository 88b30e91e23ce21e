import { once } from 'node:events';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import {
  HTTP_PATHS,
  commandsTopic,
  encodeTelemetry,
  telemetryTopic,
  type DeviceStatsResponse,
  type ProvisionResponse,
  type TargetStateResponse,
} from '../../src/wire/reference-protocol.js';

const FLEET_KEY = 'test-fleet-key';

let backend: EmbeddedBackend;
const clients: MqttClient[] = [];

beforeAll(async () => {
  backend = await startEmbeddedBackend({ fleetKey: FLEET_KEY });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  backend.setFaults({});
});
afterAll(async () => {
  await backend.close();
});

async function http(method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(backend.httpUrl + path, { method, body: opts.body, headers: opts.headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

async function provision(serial: string, fleetKey = FLEET_KEY) {
  const r = await http('POST', HTTP_PATHS.provision, { body: JSON.stringify({ serial, fleetKey }) });
  return { status: r.status, creds: r.status === 201 ? (JSON.parse(r.text) as ProvisionResponse) : undefined, headers: r.headers };
}

const auth = (key: string) => ({ authorization: `Device ${key}` });

async function connectDevice(creds: ProvisionResponse, password = creds.deviceKey): Promise<MqttClient> {
  const c = await mqtt.connectAsync(backend.mqttUrl, {
    clientId: creds.deviceId,
    username: creds.deviceId,
    password,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  clients.push(c);
  return c;
}

describe('HTTP fleet API', () => {
  it('provisions with the fleet key and keeps the id stable on re-provisioning', async () => {
    const a = await provision('prov-1');
    expect(a.status).toBe(201);
    expect(a.creds?.deviceId).toBe('d-prov-1');
    expect(a.creds?.deviceKey.length).toBeGreaterThanOrEqual(16);
    // Sent with its length in one piece, not in chunked transfer coding (json-answer.ts).
    expect(a.headers.get('transfer-encoding')).toBeNull();
    expect(Number(a.headers.get('content-length'))).toBe(Buffer.byteLength(JSON.stringify(a.creds)));
    const again = await provision('prov-1');
    expect(again.status).toBe(201);
    expect(again.creds).toEqual(a.creds);
    expect(backend.countsFor('d-prov-1')?.provisions).toBe(2);
  });

  it('refuses a wrong fleet key, malformed JSON and bad serials', async () => {
    expect((await provision('prov-2', 'nope')).status).toBe(401);
    expect((await http('POST', HTTP_PATHS.provision, { body: '{"serial":' })).status).toBe(400);
    expect((await http('POST', HTTP_PATHS.provision, { body: '[1]' })).status).toBe(400);
    expect((await provision('has space')).status).toBe(400);
    expect(backend.countsFor('d-prov-2')).toBeUndefined();
  });

  it('answers health, 404 on unknown paths and 405 on wrong methods', async () => {
    const h = await http('GET', HTTP_PATHS.health);
    expect(h.status).toBe(200);
    expect(JSON.parse(h.text)).toEqual({ ok: true });
    expect((await http('GET', '/v1/nothing')).status).toBe(404);
    expect((await http('GET', HTTP_PATHS.provision)).status).toBe(405);
  });

  it('serves the target state with device auth and ETags', async () => {
    const { creds } = await provision('poll-1');
    const path = HTTP_PATHS.target(creds!.deviceId);
    expect((await http('GET', path)).status).toBe(401);
    expect((await http('GET', path, { headers: auth('wrong') })).status).toBe(401);
    expect((await http('GET', HTTP_PATHS.target('d-nobody'), { headers: auth('x') })).status).toBe(404);

    const first = await http('GET', path, { headers: auth(creds!.deviceKey) });
    expect(first.status).toBe(200);
    const target = JSON.parse(first.text) as TargetStateResponse;
    expect(target.release).toBe('app-1.0');
    expect(first.headers.get('etag')).toBe(target.etag);
    expect(first.headers.get('transfer-encoding')).toBeNull();
    expect(Number(first.headers.get('content-length'))).toBe(Buffer.byteLength(first.text));

    const unchanged = await http('GET', path, { headers: { ...auth(creds!.deviceKey), 'if-none-match': target.etag } });
    expect(unchanged.status).toBe(304);

    backend.setTarget({ release: 'app-2.0', config: { mode: 'fast' } }, [creds!.deviceId]);
    const changed = await http('GET', path, { headers: { ...auth(creds!.deviceKey), 'if-none-match': target.etag } });
    expect(changed.status).toBe(200);
    expect(JSON.parse(changed.text)).toMatchObject({ release: 'app-2.0', config: { mode: 'fast' } });
    expect(backend.countsFor(creds!.deviceId)?.polls).toBe(3);
  });

  it('accepts state reports from the device only', async () => {
    const { creds } = await provision('state-1');
    const path = HTTP_PATHS.state(creds!.deviceId);
    const body = JSON.stringify({ release: 'app-1.0', status: 'running' });
    expect((await http('PUT', path, { body, headers: auth('wrong') })).status).toBe(401);
    expect((await http('PUT', path, { body: '{}', headers: auth(creds!.deviceKey) })).status).toBe(400);
    expect((await http('PUT', path, { body, headers: auth(creds!.deviceKey) })).status).toBe(204);
    expect(backend.reportedState(creds!.deviceId)).toEqual({ release: 'app-1.0', status: 'running', stateReports: 1, configAcked: 0 });
  });

  it('reports device stats, for all devices or one', async () => {
    await provision('stats-1');
    const all = JSON.parse((await http('GET', HTTP_PATHS.deviceStats)).text) as DeviceStatsResponse;
    expect(all.totals.devices).toBe(all.devices.length);
    expect(all.devices.some((d) => d.deviceId === 'd-stats-1')).toBe(true);
    const one = await http('GET', `${HTTP_PATHS.deviceStats}?device=d-stats-1`);
    const parsed = JSON.parse(one.text) as DeviceStatsResponse;
    expect(parsed.devices).toHaveLength(1);
    expect(parsed.devices[0]).toMatchObject({ deviceId: 'd-stats-1', provisions: 1, received: 0, maxSeq: -1 });
    expect((await http('GET', `${HTTP_PATHS.deviceStats}?device=d-none`)).status).toBe(404);
    const summary = JSON.parse((await http('GET', `${HTTP_PATHS.deviceStats}?summary=1`)).text) as DeviceStatsResponse;
    expect(summary.devices).toEqual([]);
    expect(summary.totals.devices).toBe(all.totals.devices);
  });

  it('injects 503 + Retry-After for the first N provisionings', async () => {
    backend.setFaults({ provision: { status: 503, retryAfter: 7, first: 2 } });
    const a = await provision('fault-1');
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('7');
    expect((await provision('fault-1')).status).toBe(503);
    expect((await provision('fault-1')).status).toBe(201);
    expect(backend.countsFor('d-fault-1')?.provisions).toBe(1);
  });
});

// Both brokers of the embedded backend run the same MQTT cases: the lean one (the default) and aedes.
describe.each(['lean', 'aedes'] as const)('MQTT broker: %s', (kind) => {
  let httpBackend: EmbeddedBackend;
  beforeAll(async () => {
    httpBackend = backend;
    backend = await startEmbeddedBackend({ fleetKey: FLEET_KEY, broker: kind });
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await backend.close();
    backend = httpBackend;
  });

  describe('sessions', () => {
    it('refuses wrong credentials with CONNACK 4 and accepts the right ones', async () => {
      const { creds } = await provision('mqtt-auth');
      await expect(connectDevice(creds!, 'wrong')).rejects.toMatchObject({ code: 4 });
      await expect(connectDevice({ deviceId: 'd-unknown', deviceKey: 'k' })).rejects.toMatchObject({ code: 4 });
      const ok = await connectDevice(creds!);
      expect(ok.connected).toBe(true);
    });

    it('lets a device subscribe only to its own topics, never with wildcards', async () => {
      const { creds } = await provision('acl-sub');
      const c = await connectDevice(creds!);
      const own = await c.subscribeAsync(commandsTopic(creds!.deviceId), { qos: 1 });
      expect(own.map((g) => g.qos)).toEqual([1]);
      const refusedBefore = backend.stats().totals.refusedSubscribes!;
      for (const forbidden of ['fleet/#', commandsTopic('d-other'), `fleet/${creds!.deviceId}/#`, 'fleet/+/commands']) {
        // mqtt.js rejects a SUBACK of 0x80 and hands over the packet.
        await expect(c.subscribeAsync(forbidden, { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } });
      }
      expect(c.connected).toBe(true);
      // Every refusal is counted, and the allowed subscription was not.
      expect(backend.stats().totals.refusedSubscribes).toBe(refusedBefore + 4);
    });

    it('disconnects a device that publishes to another device and does not count it', async () => {
      const { creds: victim } = await provision('acl-victim');
      const { creds: intruder } = await provision('acl-intruder');
      const c = await connectDevice(intruder!);
      const refusedBefore = backend.stats().totals.refusedPublishes!;
      const closed = once(c, 'close');
      c.publish(telemetryTopic(victim!.deviceId), encodeTelemetry(7, Date.now(), 64), { qos: 0 });
      await closed;
      expect(backend.stats().totals.refusedPublishes).toBe(refusedBefore + 1);
      expect(backend.countsFor(victim!.deviceId)).toMatchObject({ received: 0, maxSeq: -1 });
      expect(backend.countsFor(intruder!.deviceId)).toMatchObject({ received: 0, maxSeq: -1 });
    });

    it('counts telemetry exactly: received, duplicates and gaps', async () => {
      const { creds } = await provision('telemetry-1');
      const c = await connectDevice(creds!);
      const topic = telemetryTopic(creds!.deviceId);
      const seqs: number[] = [];
      for (let s = 0; s < 100; s++) if (s < 50 || s > 54) seqs.push(s); // gap: 50..54
      seqs.push(10, 20, 30, 99); // duplicates
      for (const s of seqs) await c.publishAsync(topic, encodeTelemetry(s, Date.now(), 128), { qos: 1 });
      await c.publishAsync(topic, Buffer.from('not telemetry'), { qos: 1 });
      expect(backend.countsFor(creds!.deviceId)).toMatchObject({ received: 95, duplicates: 4, gaps: 5, maxSeq: 99 });
      expect(backend.malformedTelemetry()).toBe(1);
      const totals = backend.stats().totals;
      expect(totals.received).toBeGreaterThanOrEqual(95);
    });

    it('delivers a command from the backend to the subscribed device', async () => {
      const { creds } = await provision('cmd-1');
      const c = await connectDevice(creds!);
      await c.subscribeAsync(commandsTopic(creds!.deviceId), { qos: 1 });
      const got = once(c, 'message');
      await backend.sendCommand(creds!.deviceId, '{"cmd":"reboot"}');
      const [topic, payload] = (await got) as [string, Buffer];
      expect(topic).toBe(commandsTopic(creds!.deviceId));
      expect(payload.toString()).toBe('{"cmd":"reboot"}');
    });
  });

  describe('under load', () => {
    it('keeps counting exactly when a busy subscriber drops while others publish', async () => {
      const subscriber = await connectDevice((await provision('busy-sub')).creds!);
      await subscriber.subscribeAsync(commandsTopic('d-busy-sub'), { qos: 1 });
      const publishers: Array<{ c: MqttClient; id: string }> = [];
      for (let i = 0; i < 4; i++) {
        const { creds } = await provision(`busy-pub-${i}`);
        publishers.push({ c: await connectDevice(creds!), id: creds!.deviceId });
      }
      const PER_DEVICE = 300;
      const commands: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) commands.push(backend.sendCommand('d-busy-sub', `{"n":${i}}`).catch(() => {}));
      const sending = publishers.map(async ({ c, id }) => {
        const acks: Promise<unknown>[] = [];
        for (let s = 0; s < PER_DEVICE; s++) acks.push(c.publishAsync(telemetryTopic(id), encodeTelemetry(s, Date.now(), 200), { qos: 1 }));
        await Promise.all(acks);
      });
      // Once deliveries are flowing, drop the subscriber's socket without DISCONNECT.
      await once(subscriber, 'message');
      subscriber.stream.destroy();
      await Promise.all(sending);
      await Promise.all(commands);
      for (const { id } of publishers) expect(backend.countsFor(id)).toMatchObject({ received: PER_DEVICE, duplicates: 0, gaps: 0 });
    });
  });

  describe('protocol', () => {
    it('hands a client id over to its newest connection', async () => {
      const { creds } = await provision('takeover');
      const first = await connectDevice(creds!);
      const firstClosed = once(first, 'close');
      const second = await connectDevice(creds!);
      await firstClosed;
      expect(second.connected).toBe(true);
      await second.publishAsync(telemetryTopic(creds!.deviceId), encodeTelemetry(1, Date.now(), 32), { qos: 1 });
      expect(backend.countsFor(creds!.deviceId)).toMatchObject({ received: 1 });
      expect(backend.mqttClients()).toBeGreaterThanOrEqual(1);
    });

    it('acknowledges QoS 2 publishes once (PUBREC, PUBREL, PUBCOMP) and counts them once', async () => {
      const { creds } = await provision('qos2');
      const c = await connectDevice(creds!);
      for (let s = 0; s < 5; s++) await c.publishAsync(telemetryTopic(creds!.deviceId), encodeTelemetry(s, Date.now(), 32), { qos: 2 });
      expect(backend.countsFor(creds!.deviceId)).toMatchObject({ received: 5, duplicates: 0, gaps: 0 });
    });

    it('closes a connection whose first packet is not CONNECT', async () => {
      const { port } = new URL(backend.mqttUrl);
      const socket = net.connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      const closed = once(socket, 'close');
      socket.write(Buffer.from([0xc0, 0x00])); // PINGREQ
      socket.resume();
      await closed;
      expect(socket.destroyed).toBe(true);
    });
  });
});

describe('close', () => {
  it('closes with devices still connected and frees both ports', async () => {
    const b = await startEmbeddedBackend({ fleetKey: 'k2' });
    const res = await fetch(`${b.httpUrl}${HTTP_PATHS.provision}`, { method: 'POST', body: JSON.stringify({ serial: 's1', fleetKey: 'k2' }) });
    const creds = (await res.json()) as ProvisionResponse;
    const c = await mqtt.connectAsync(b.mqttUrl, { clientId: creds.deviceId, username: creds.deviceId, password: creds.deviceKey, reconnectPeriod: 0 });
    const closed = once(c, 'close');
    await b.close();
    await closed;
    await c.endAsync(true);
    await expect(fetch(`${b.httpUrl}${HTTP_PATHS.health}`)).rejects.toThrow();
    await b.close(); // idempotent
  });

  it('runs without the broker when asked', async () => {
    const b = await startEmbeddedBackend({ fleetKey: 'k3', mqtt: false });
    expect(b.mqttUrl).toBe('');
    await expect(b.sendCommand('d-x', 'x')).rejects.toThrow(/without its MQTT broker/);
    await b.close();
  });
});
