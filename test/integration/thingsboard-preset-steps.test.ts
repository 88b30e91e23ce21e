import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startThingsboardFake, type ThingsboardFake } from '../../src/backend/fakes/thingsboard/index.js';
import { thingsboardPreset } from '../../src/drivers/presets/thingsboard.js';
import type { DeviceCredentials, HttpRequestSpec, Preset } from '../../src/drivers/preset.js';
import { waitFor } from '../helpers/wait-for.js';
import { WireDriver } from '../../src/drivers/wire-driver.js';
import { REJECTED, type DriverEvents } from '../../src/drivers/types.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { C, errorCounter } from '../../src/metrics/catalog.js';
import { Cause, Route } from '../../src/metrics/request-errors.js';
import { countHttpFailure } from '../../src/fleet/request-outcome.js';

/**
 * One device of the `thingsboard` preset, step by step against the ThingsBoard fake: each request
 * and topic the preset makes is checked against the shape the ThingsBoard pages document
 * (docs/presets/thingsboard.md), then sent, and the fake's record of it checked.
 */
describe('thingsboard preset: one device, step by step', () => {
  let fake: ThingsboardFake;
  let preset: Preset;
  let client: MqttClient | undefined;
  beforeAll(async () => {
    fake = await startThingsboardFake({ provisionKey: 'pk', provisionSecret: 'ps' });
    preset = thingsboardPreset({ fleetKey: 'pk:ps' });
  });
  afterAll(async () => {
    client?.end(true);
    await fake?.close();
  });

  const send = async (spec: HttpRequestSpec, extra: Record<string, string> = {}) => {
    const r = await fetch(fake.httpUrl + spec.path, { method: spec.method, body: spec.body, headers: { ...(spec.body ? { 'content-type': 'application/json' } : {}), ...extra } });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()), headers: r.headers };
  };

  it('provision → connect → telemetry → firmware offer → ranged download → fw_state reports → RPC → logs', async () => {
    // Provisioning: POST /api/v1/provision {deviceName, provisionDeviceKey, provisionDeviceSecret} (HTTP API, device provisioning).
    const prov = preset.provisionRequest('tb-dev-7');
    expect(prov).toMatchObject({ method: 'POST', path: '/api/v1/provision' });
    expect(JSON.parse(prov.body!)).toEqual({ deviceName: 'tb-dev-7', provisionDeviceKey: 'pk', provisionDeviceSecret: 'ps' });
    const answer = await send(prov);
    expect(answer.status).toBe(200);
    const creds = preset.decodeProvision(answer.body.toString(), 'tb-dev-7') as DeviceCredentials;
    expect(creds).toEqual({ deviceId: 'tb-dev-7', secret: fake.state.devices.get('tb-dev-7')!.token });
    // A second provisioning of the same name is FAILURE (HTTP 200): no credentials, and the
    // platform's refusal (counted as rejected), which garbage is not.
    const again = (await send(prov)).body.toString();
    expect(preset.decodeProvision(again, 'tb-dev-7')).toBeUndefined();
    expect(preset.provisionRefused!(again)).toBe(true);
    expect(preset.provisionRefused!('<html>proxy error</html>')).toBe(false);

    // Connect: username = access token, no password (getting connected).
    const id = preset.connectIdentity(creds);
    expect(id).toEqual({ clientId: 'tb-dev-7', username: creds.secret });
    const c = mqtt.connect(fake.mqttUrl, { ...id, protocolVersion: 4, reconnectPeriod: 0 });
    client = c;
    await new Promise<void>((resolve, reject) => (c.once('connect', () => resolve()), c.once('error', reject)));
    const got: Array<{ topic: string; payload: Buffer }> = [];
    c.on('message', (topic, payload) => got.push({ topic, payload }));
    const subs = preset.subscriptions(creds);
    expect(subs).toEqual(['v1/devices/me/attributes', 'v1/devices/me/rpc/request/+']);
    expect((await c.subscribeAsync([...subs], { qos: 1 })).map((g) => g.qos)).toEqual([1, 1]);

    // Telemetry: {ts, values:{…}} on v1/devices/me/telemetry (telemetry page), seq recoverable.
    expect(preset.telemetryTopic(creds)).toBe('v1/devices/me/telemetry');
    const payload = preset.telemetryPayload(41, 1_700_000_000_000, 120);
    expect(payload.length).toBe(120);
    expect(JSON.parse(payload.toString())).toMatchObject({ ts: 1_700_000_000_000, values: { seq: 41 } });
    await c.publishAsync(preset.telemetryTopic(creds), payload, { qos: 1 });
    const dev = fake.state.devices.get('tb-dev-7')!;
    expect(dev.telemetry.has(41)).toBe(true);

    // Firmware: the tenant assigns a package; fw_* shared attributes are pushed and decode into one offer.
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
    fake.assignFirmware(fake.addPackage('gw-fw', '2.1', bytes), ['tb-dev-7']);
    await waitFor(() => got.length === 1, 'the fw_* attributes');
    const m = preset.decodeMessage(got[0].topic, got[0].payload);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(m).toEqual({ kind: 'update', offer: { campaign: 'gw-fw@2.1', release: '2.1', target: 'os', artifacts: [{ name: 'gw-fw@2.1', kind: 'full', size: 5000, sha256 }] } });
    // The poll (an attribute read of the fw_* keys) finds the same offer.
    const poll = preset.pollRequest(creds);
    expect(poll.path).toBe(`/api/v1/${creds.secret}/attributes?sharedKeys=fw_title,fw_version,fw_checksum,fw_checksum_algorithm,fw_size,configVersion`);
    expect(preset.decodePoll((await send(poll)).body.toString())?.update).toEqual(m?.kind === 'update' ? m.offer : undefined);

    // fw_state reports as telemetry, download over /api/v1/{token}/firmware?title&version, resumed with Range.
    const offer = m!.kind === 'update' ? m!.offer : undefined;
    const report = (status: string, extra = {}) => preset.stateReport(creds, { release: '2.1', status, campaign: offer!.campaign, ...extra });
    expect(JSON.parse(report('downloading').body!)).toEqual({ fw_state: 'DOWNLOADING' });
    expect((await send(report('downloading'))).status).toBe(200);
    const fw = preset.artifactRequest(creds, offer!.artifacts[0]);
    expect(fw).toEqual({ method: 'GET', path: `/api/v1/${creds.secret}/firmware?title=gw-fw&version=2.1` });
    const head = await send(fw, { range: 'bytes=0-2999' });
    const tail = await send(fw, { range: 'bytes=3000-' });
    expect([head.status, tail.status]).toEqual([206, 206]);
    expect(createHash('sha256').update(Buffer.concat([head.body, tail.body])).digest('hex')).toBe(sha256);
    for (const s of ['downloaded', 'verifying', 'installing']) expect((await send(report(s))).status).toBe(200);
    expect(JSON.parse(report('success').body!)).toEqual({ fw_state: 'UPDATED', current_fw_title: 'gw-fw', current_fw_version: '2.1' });
    expect((await send(report('success'))).status).toBe(200);
    expect(dev.counts.fwStates).toEqual({ DOWNLOADING: 1, DOWNLOADED: 1, VERIFIED: 1, UPDATING: 1, UPDATED: 1 });
    expect(dev.counts.fwStateOutOfOrder).toBe(0);
    expect(dev.currentFw).toEqual({ title: 'gw-fw', version: '2.1' });

    // Server-side RPC: {method, params} on rpc/request/$id → a command; the reply goes to rpc/response/$id.
    const rpc = fake.sendRpc('tb-dev-7', 'diagnose', { depth: 1 });
    await waitFor(() => got.length === 2, 'the RPC request');
    const cmd = preset.decodeMessage(got[1].topic, got[1].payload);
    expect(cmd).toEqual({ kind: 'command', command: { id: String(rpc.id), name: 'diagnose', args: { depth: 1 } } });
    const reply = preset.commandReply(creds, cmd!.kind === 'command' ? cmd!.command : (undefined as never), true);
    expect(reply.topic).toBe(`v1/devices/me/rpc/response/${rpc.id}`);
    await c.publishAsync(reply.topic, reply.payload, { qos: 1 });
    expect(dev.counts).toMatchObject({ rpcReplies: 1, rpcUnknownReplies: 0 });

    // Logs: ThingsBoard has no log API; the preset ships them as a telemetry value the platform accepts.
    const logs = preset.logs(creds, 2, 'disk 91% full', 3);
    expect(logs.topic).toBe('v1/devices/me/telemetry');
    await c.publishAsync(logs.topic, logs.payload, { qos: 1 });
    expect(dev.counts).toMatchObject({ logLines: 3, malformed: 0 });
  });

  it('through the wire driver: a name provisioned already is answered FAILURE and counted rejected on the provisioning route, not as a bad response', async () => {
    // Seen at 5,000 devices: a provisioning request that timed out had still created the device, so
    // every retry got FAILURE; booked as bad_response, it read as a fake answering garbage.
    const metrics = new ShardMetrics(0);
    const statuses: number[] = [];
    const events = { onProvisioned: (_dev: number, status: number) => (statuses.push(status), (status < 200 || status >= 300) && countHttpFailure(metrics, Route.provision, status)) } as unknown as DriverEvents;
    const d = new WireDriver({ httpUrl: fake.httpUrl, mqttUrl: fake.mqttUrl, preset, devices: 2, mqttClient: 'lean', http: { connections: 'pooled', poolSize: 1 }, keepaliveSec: 30, connectTimeoutMs: 5000, httpTimeoutMs: 5000 }, events);
    try {
      d.provision(0, 'tb-twice');
      await waitFor(() => statuses.length === 1, 'the first provisioning answered');
      d.provision(1, 'tb-twice');
      await waitFor(() => statuses.length === 2, 'the second provisioning answered');
    } finally {
      await d.close();
    }
    expect(statuses).toEqual([200, REJECTED]);
    expect(fake.state.provisionRefusals.FAILURE).toBeGreaterThanOrEqual(1);
    expect(metrics.counters[errorCounter(Route.provision, Cause.rejected)]).toBe(1);
    expect(metrics.counters[errorCounter(Route.provision, Cause.badResponse)]).toBe(0);
    expect(metrics.counters[C['errors.network']]).toBe(0);
  });
});
