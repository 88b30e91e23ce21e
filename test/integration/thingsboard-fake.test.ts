import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startThingsboardFake, type ThingsboardFake } from '../../src/backend/fakes/thingsboard/index.js';
import { waitFor } from '../helpers/wait-for.js';

/** The ThingsBoard fake answers the MQTT and HTTP device API with the shapes, codes and session rules of ThingsBoard's transports. */
describe('ThingsBoard fake: device API answers', () => {
  let fake: ThingsboardFake;
  const clients: MqttClient[] = [];
  const key = 'pk-1';
  const secret = 'ps-1';

  beforeAll(async () => {
    fake = await startThingsboardFake({ provisionKey: key, provisionSecret: secret });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await fake?.close();
  });

  /** An mqtt.js 3.1.1 client that never reconnects; resolves on CONNACK 0, rejects with the return code otherwise. */
  async function connect(username: string | undefined, clientId = `c-${clients.length}`): Promise<MqttClient> {
    const c = mqtt.connect(fake.mqttUrl, { clientId, username, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', (err) => reject(err));
    });
    return c;
  }

  /** Collects every message the client receives. */
  function inbox(c: MqttClient): Array<{ topic: string; payload: Buffer }> {
    const got: Array<{ topic: string; payload: Buffer }> = [];
    c.on('message', (topic, payload) => got.push({ topic, payload }));
    return got;
  }

  /** SUBACK return codes for one filter (mqtt.js rejects a 0x80 with the SUBACK packet attached). */
  async function subackOf(c: MqttClient, filter: string): Promise<number[]> {
    try {
      return (await c.subscribeAsync(filter, { qos: 1 })).map((g) => g.qos);
    } catch (err) {
      return ((err as { packet?: { granted?: number[] } }).packet?.granted ?? []).map(Number);
    }
  }

  async function provisionOverMqtt(body: unknown): Promise<Record<string, unknown>> {
    const c = await connect('provision');
    const got = inbox(c);
    await c.subscribeAsync('/provision/response', { qos: 1 });
    await c.publishAsync('/provision/request', JSON.stringify(body), { qos: 1 });
    await waitFor(() => got.length > 0, 'the provisioning answer');
    expect(got[0].topic).toBe('/provision/response');
    c.end(true);
    return JSON.parse(got[0].payload.toString()) as Record<string, unknown>;
  }

  it('provisioning over MQTT: SUCCESS with an access token, FAILURE for a known name, NOT_FOUND for a bad secret; provision sessions may subscribe to /provision/response only', async () => {
    const ok = await provisionOverMqtt({ deviceName: 'tb-0', provisionDeviceKey: key, provisionDeviceSecret: secret });
    expect(ok).toEqual({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: expect.any(String) });
    expect(fake.state.devices.get('tb-0')!.token).toBe(ok.credentialsValue);
    expect(await provisionOverMqtt({ deviceName: 'tb-0', provisionDeviceKey: key, provisionDeviceSecret: secret })).toEqual({ status: 'FAILURE', errorMsg: 'Failed to provision device!' });
    expect(await provisionOverMqtt({ deviceName: 'tb-x', provisionDeviceKey: key, provisionDeviceSecret: 'nope' })).toEqual({ status: 'NOT_FOUND', errorMsg: 'Provision data was not found!' });
    const c = await connect('provision');
    expect(await subackOf(c, 'v1/devices/me/attributes')).toEqual([128]);
    expect(await subackOf(c, '/provision/response')).toEqual([1]);
  });

  it('access-token auth: CONNACK 5 for an unknown token, 4 for an empty username; both counted as refused connects', async () => {
    const before = fake.state.refusedConnects;
    await expect(connect('no-such-token')).rejects.toMatchObject({ code: 5 });
    await expect(connect(undefined)).rejects.toMatchObject({ code: 4 });
    await expect(connect('')).rejects.toMatchObject({ code: 4 });
    expect(fake.state.refusedConnects).toBe(before + 3);
  });

  it('telemetry in its three JSON shapes is counted with its seq; a payload the platform cannot parse closes the session', async () => {
    const dev = fake.state.create('tb-1');
    const c = await connect(dev.token);
    await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ seq: 0, temperature: 21.5 }), { qos: 1 });
    await c.publishAsync('v1/devices/me/telemetry', JSON.stringify([{ seq: 1 }, { seq: 2, on: true }]), { qos: 1 });
    await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ ts: Date.now(), values: { seq: 3, pad: 'xx' } }), { qos: 1 });
    await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ humidity: 40 }), { qos: 1 });
    expect(dev.counts.telemetry).toBe(4);
    expect(dev.counts.telemetryWithoutSeq).toBe(1);
    expect(dev.telemetry.received).toBe(4);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('v1/devices/me/telemetry', JSON.stringify({ ts: 'today', values: { seq: 9 } }), { qos: 1 });
    await closed;
    expect(dev.counts.malformed).toBe(1);
    expect(dev.telemetry.has(9)).toBe(false);
  });

  it('attributes: client attributes stored, requests answered on response/$id, shared updates pushed to a subscribed session', async () => {
    const dev = fake.state.create('tb-2');
    const c = await connect(dev.token);
    const got = inbox(c);
    await c.subscribeAsync(['v1/devices/me/attributes', 'v1/devices/me/attributes/response/+'], { qos: 1 });
    await c.publishAsync('v1/devices/me/attributes', JSON.stringify({ serial: 'SN1', hw: 'B' }), { qos: 1 });
    expect(dev.client).toEqual({ serial: 'SN1', hw: 'B' });
    expect(fake.setShared(['tb-2'], { interval: 30 })).toBe(1);
    await c.publishAsync('v1/devices/me/attributes/request/7', JSON.stringify({ clientKeys: 'serial', sharedKeys: 'interval,missing' }), { qos: 1 });
    await waitFor(() => got.length >= 2, 'the push and the answer');
    expect(got.map((m) => [m.topic, JSON.parse(m.payload.toString())])).toEqual([
      ['v1/devices/me/attributes', { interval: 30 }],
      ['v1/devices/me/attributes/response/7', { client: { serial: 'SN1' }, shared: { interval: 30 } }],
    ]);
    expect(await subackOf(c, 'v1/devices/other/#')).toEqual([128]);
  });

  it('server-side RPC: request on rpc/request/$id, reply on rpc/response/$id; unknown ids and timeouts are counted', async () => {
    const dev = fake.state.create('tb-3');
    expect(fake.sendRpc('tb-3', 'reboot', {}).delivered).toBe(false);
    const c = await connect(dev.token);
    const got = inbox(c);
    await c.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
    const rpc = fake.sendRpc('tb-3', 'getDiagnostics', { depth: 2 });
    expect(rpc.delivered).toBe(true);
    await waitFor(() => got.length > 0, 'the RPC request');
    expect(got[0].topic).toBe(`v1/devices/me/rpc/request/${rpc.id}`);
    expect(JSON.parse(got[0].payload.toString())).toEqual({ method: 'getDiagnostics', params: { depth: 2 } });
    await c.publishAsync(`v1/devices/me/rpc/response/${rpc.id}`, JSON.stringify({ ok: true }), { qos: 1 });
    await c.publishAsync('v1/devices/me/rpc/response/999', JSON.stringify({ ok: true }), { qos: 1 });
    expect(dev.counts).toMatchObject({ rpcSent: 1, rpcReplies: 1, rpcUnknownReplies: 1 });
    fake.sendRpc('tb-3', 'slow', null, 20);
    await waitFor(() => dev.counts.rpcTimedOut === 1, 'the RPC timeout');
  });

  it('firmware OTA: fw_* shared attributes pushed, chunks over v2/fw/request/$id/chunk/$n rebuild the package, fw_state order checked', async () => {
    const dev = fake.state.create('tb-4');
    const bytes = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    const pkg = fake.addPackage('fw', '2.0', bytes);
    const c = await connect(dev.token);
    const got = inbox(c);
    await c.subscribeAsync(['v1/devices/me/attributes', 'v2/fw/response/+/chunk/+'], { qos: 1 });
    expect(fake.assignFirmware(pkg, ['tb-4'])).toBe(1);
    await waitFor(() => got.length === 1, 'the fw_* attributes');
    const attrs = JSON.parse(got[0].payload.toString()) as Record<string, unknown>;
    expect(attrs).toEqual({ fw_title: 'fw', fw_version: '2.0', fw_checksum: createHash('sha256').update(bytes).digest('hex'), fw_checksum_algorithm: 'SHA256', fw_size: 2500 });
    const state = (s: string) => c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ current_fw_title: 'fw', current_fw_version: '1.0', fw_state: s }), { qos: 1 });
    await state('DOWNLOADING');
    // The chunk size travels with the first request only; later ones reuse it (an empty payload).
    for (let i = 0; i < 3; i++) await c.publishAsync(`v2/fw/request/5/chunk/${i}`, i === 0 ? '1000' : '', { qos: 1 });
    await waitFor(() => got.length === 4, 'three chunks');
    expect(got.slice(1).map((m) => m.topic)).toEqual(['v2/fw/response/5/chunk/0', 'v2/fw/response/5/chunk/1', 'v2/fw/response/5/chunk/2']);
    expect(Buffer.concat(got.slice(1).map((m) => m.payload)).equals(bytes)).toBe(true);
    for (const s of ['DOWNLOADED', 'VERIFIED', 'UPDATING']) await state(s);
    await c.publishAsync('v1/devices/me/telemetry', JSON.stringify({ current_fw_title: 'fw', current_fw_version: '2.0', fw_state: 'UPDATED' }), { qos: 1 });
    expect(dev.counts.fwStates).toEqual({ DOWNLOADING: 1, DOWNLOADED: 1, VERIFIED: 1, UPDATING: 1, UPDATED: 1 });
    expect(dev.counts.fwStateOutOfOrder).toBe(0);
    expect(dev.counts.fwBytes).toBe(2500);
    expect(fake.state.versions()['2.0']).toBe(1);
    await state('VERIFIED');
    expect(dev.counts.fwStateOutOfOrder).toBe(1);
  });

  it('firmware errors: a chunk request without an assigned package is answered NOT_FOUND on v2/fw/error and the session closed; too large a chunk is PAYLOAD_TOO_LARGE', async () => {
    for (const [name, assign, size] of [['tb-5', false, '1000'], ['tb-6', true, '70000']] as const) {
      const dev = fake.state.create(name);
      if (assign) fake.assignFirmware(fake.addPackage('fw', '3.0', Buffer.alloc(10)), [name]);
      const c = await connect(dev.token);
      const got = inbox(c);
      await c.subscribeAsync('v2/fw/error', { qos: 1 });
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.publish('v2/fw/request/1/chunk/0', size, { qos: 1 });
      await closed;
      expect(got.map((m) => m.payload.toString())).toEqual([assign ? 'PAYLOAD_TOO_LARGE' : 'NOT_FOUND']);
      expect(dev.counts.fwErrors).toBe(1);
    }
  });

  it('HTTP device API: provision, telemetry, attributes, firmware chunks; 401 for an unknown token, 400 for a payload the platform refuses', async () => {
    const post = (path: string, body: string) => fetch(fake.httpUrl + path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const prov = (await (await post('/api/v1/provision', JSON.stringify({ deviceName: 'tb-h', provisionDeviceKey: key, provisionDeviceSecret: secret }))).json()) as { credentialsValue: string };
    const t = prov.credentialsValue;
    expect((await post(`/api/v1/${t}/telemetry`, JSON.stringify({ seq: 0 }))).status).toBe(200);
    expect((await post(`/api/v1/${t}/telemetry`, '"text"')).status).toBe(400);
    expect((await post('/api/v1/nope/telemetry', JSON.stringify({ seq: 0 }))).status).toBe(401);
    expect((await post(`/api/v1/${t}/attributes`, JSON.stringify({ serial: 'H1' }))).status).toBe(200);
    expect((await fetch(`${fake.httpUrl}/api/v1/${t}/firmware?title=fw&version=4.0`)).status).toBe(404);
    const pkg = fake.addPackage('fw', '4.0', Buffer.alloc(3000, 7));
    fake.assignFirmware(pkg, ['tb-h']);
    expect(await (await fetch(`${fake.httpUrl}/api/v1/${t}/attributes?sharedKeys=fw_version,fw_size`)).json()).toEqual({ shared: { fw_version: '4.0', fw_size: 3000 } });
    expect((await fetch(`${fake.httpUrl}/api/v1/${t}/firmware?title=fw&version=3.9`)).status).toBe(400);
    const last = await fetch(`${fake.httpUrl}/api/v1/${t}/firmware?title=fw&version=4.0&size=1024&chunk=2`);
    expect(last.status).toBe(200);
    expect((await last.arrayBuffer()).byteLength).toBe(3000 - 2048);
    const resumed = await fetch(`${fake.httpUrl}/api/v1/${t}/firmware?title=fw&version=4.0`, { headers: { range: 'bytes=2990-' } });
    expect(resumed.status).toBe(206);
    expect(resumed.headers.get('content-range')).toBe('bytes 2990-2999/3000');
    const dev = fake.state.devices.get('tb-h')!;
    expect(dev.counts).toMatchObject({ telemetry: 1, malformed: 1, attributes: 1, httpErrors: 3 });
    const stats = (await (await fetch(`${fake.httpUrl}/v1/stats/devices`)).json()) as { devices: Array<{ deviceId: string; received: number; provisions: number }> };
    expect(stats.devices.find((d) => d.deviceId === 'tb-h')).toMatchObject({ received: 1, provisions: 1 });
  });
});
