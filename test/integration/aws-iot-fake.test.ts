import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startAwsIotFake, jobDocument, type AwsIotFake } from '../../src/backend/fakes/aws-iot/index.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, unknown>;
interface Got { topic: string; json: Json }

/**
 * The AWS IoT fake, driven by one mqtt.js device step by step over mutual TLS: fleet provisioning by
 * claim, the reconnect with the issued certificate, a Jobs OTA (notify-next, start-next, the
 * presigned Range download, updates with expectedVersion), the shadow, and the broker's limits.
 * Each topic and payload is checked against the shape AWS's pages document (docs/presets/aws-iot.md).
 */
describe('AWS IoT fake: device MQTT API over mutual TLS', () => {
  let fake: AwsIotFake;
  let clock = 1_800_000_000_000;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    // The rate limits read this clock: a test steps it instead of sleeping.
    fake = await startAwsIotFake({ now: () => clock, limits: { publishesPerSecondPerConnection: 20 } });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await fake?.close();
  });

  function open(clientId: string, identity: { cert: string; key: string }): MqttClient {
    const c = mqtt.connect(fake.mqttUrl, { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ca: fake.caCert, cert: identity.cert, key: identity.key, rejectUnauthorized: true });
    clients.push(c);
    return c;
  }
  /** Resolves on CONNACK 0; rejects with the error, or 'closed' when the broker closed the connection without a CONNACK. */
  function connect(clientId: string, identity: { cert: string; key: string }): Promise<MqttClient> {
    const c = open(clientId, identity);
    return new Promise((resolve, reject) => {
      c.once('connect', () => resolve(c));
      c.once('error', (err) => reject(err));
      c.once('close', () => reject(new Error('closed')));
    });
  }
  function inbox(c: MqttClient): Got[] {
    const got: Got[] = [];
    c.on('message', (topic, payload) => got.push({ topic, json: JSON.parse(payload.toString()) as Json }));
    return got;
  }
  async function answer(got: Got[], topicPrefix: string, what: string): Promise<Got> {
    await waitFor(() => got.some((g) => g.topic.startsWith(topicPrefix)), what);
    const i = got.findIndex((g) => g.topic.startsWith(topicPrefix));
    return got.splice(i, 1)[0];
  }

  let thingName = '';
  let device = { cert: '', key: '' };

  it('provisions by claim: CreateKeysAndCertificate, then RegisterThing with the ownership token and parameters; malformed requests are rejected with {statusCode, errorCode, errorMessage}', async () => {
    const c = await connect('serial-0001', fake.claim);
    const got = inbox(c);
    await c.subscribeAsync(['$aws/certificates/create/json/accepted', '$aws/certificates/create/json/rejected'], { qos: 1 });
    const register = `$aws/provisioning-templates/${fake.template.name}/provision/json`;
    await c.subscribeAsync([`${register}/accepted`, `${register}/rejected`], { qos: 1 });

    await c.publishAsync('$aws/certificates/create/json', 'not json', { qos: 1 });
    const bad = await answer(got, '$aws/certificates/create/json/rejected', 'the rejection of a malformed create');
    expect(bad.json).toEqual({ statusCode: 400, errorCode: expect.any(String), errorMessage: expect.any(String) });

    await c.publishAsync('$aws/certificates/create/json', '{}', { qos: 1 });
    const created = (await answer(got, '$aws/certificates/create/json/accepted', 'CreateKeysAndCertificate accepted')).json;
    expect(Object.keys(created).sort()).toEqual(['certificateId', 'certificateOwnershipToken', 'certificatePem', 'privateKey']);
    expect(created.certificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(created.certificatePem).toContain('BEGIN CERTIFICATE');
    expect(created.privateKey).toContain('PRIVATE KEY');

    await c.publishAsync(register, JSON.stringify({ certificateOwnershipToken: created.certificateOwnershipToken, parameters: {} }), { qos: 1 });
    const missing = await answer(got, `${register}/rejected`, 'the rejection of missing parameters');
    expect(missing.json).toMatchObject({ statusCode: 400, errorCode: expect.any(String) });
    await c.publishAsync(register, JSON.stringify({ certificateOwnershipToken: 'forged', parameters: { SerialNumber: '0001' } }), { qos: 1 });
    expect((await answer(got, `${register}/rejected`, 'the rejection of a forged token')).json).toMatchObject({ statusCode: 400 });

    await c.publishAsync(register, JSON.stringify({ certificateOwnershipToken: created.certificateOwnershipToken, parameters: { SerialNumber: '0001' } }), { qos: 1 });
    const registered = (await answer(got, `${register}/accepted`, 'RegisterThing accepted')).json;
    expect(registered).toEqual({ deviceConfiguration: fake.template.deviceConfiguration, thingName: 'fleetsim-0001' });
    thingName = registered.thingName as string;
    device = { cert: created.certificatePem as string, key: created.privateKey as string };
    await c.endAsync();
    expect(fake.state.account.provisioningRejected).toMatchObject({ InvalidPayload: 1 });
  });

  it('the claim certificate may not touch thing topics: the connection is closed', async () => {
    const c = await connect('serial-0002', fake.claim);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish(`$aws/things/${thingName}/jobs/start-next`, '{}', { qos: 1 });
    await closed;
  });

  it('the issued certificate connects only as its thing', async () => {
    clock += 2_000;
    await expect(connect('someone-else', device)).rejects.toThrow(/Not authorized|closed/);
    const c = await connect(thingName, device);
    await c.endAsync();
  });

  it('jobs: notify-next, start-next, a presigned Range download, updates with expectedVersion (VersionMismatch on a stale one), SUCCEEDED', async () => {
    clock += 2_000;
    const c = await connect(thingName, device);
    const got = inbox(c);
    const jobs = `$aws/things/${thingName}/jobs`;
    await c.subscribeAsync([`${jobs}/notify-next`, `${jobs}/start-next/+`, `${jobs}/+/update/+`], { qos: 1 });
    fake.control.addRelease({ name: 'app-2.0', target: 'app', size: 100_000, archs: [] });
    const file = fake.control.files.get('releases/app-2.0.bin')!;
    const jobId = fake.createJob('job-1', jobDocument('app-2.0', 'app', file.key, file.bytes.length, file.sha256));
    const next = (await answer(got, `${jobs}/notify-next`, 'the NextNotification')).json;
    expect(next).toMatchObject({ timestamp: expect.any(Number), execution: { jobId, status: 'QUEUED', versionNumber: 1, executionNumber: 1, queuedAt: expect.any(Number) } });
    expect(createHash('sha256').update(file.bytes).digest('hex')).toBe(file.sha256);

    await c.publishAsync(`${jobs}/start-next`, '{"statusDetails": 3}', { qos: 1 });
    expect((await answer(got, `${jobs}/start-next/rejected`, 'start-next rejected')).json).toMatchObject({ code: 'InvalidRequest', message: expect.any(String), timestamp: expect.any(Number) });
    await c.publishAsync(`${jobs}/start-next`, JSON.stringify({ clientToken: 't1', statusDetails: { step: 'downloading' } }), { qos: 1 });
    const started = (await answer(got, `${jobs}/start-next/accepted`, 'start-next accepted')).json;
    expect(started).toMatchObject({ clientToken: 't1', timestamp: expect.any(Number), execution: { jobId, thingName, status: 'IN_PROGRESS', versionNumber: 2, statusDetails: { step: 'downloading' }, jobDocument: { operation: 'fleetsim-update', release: 'app-2.0' } } });
    const f = ((started.execution as Json).jobDocument as { files: Array<{ url: string; size: number; sha256: string }> }).files[0];
    expect(f).toMatchObject({ size: file.bytes.length, sha256: file.sha256 });
    expect(f.url).toMatch(/X-Amz-Signature=/);

    const part = await fetch(f.url, { headers: { range: 'bytes=0-999' } });
    expect(part.status).toBe(206);
    expect((await part.arrayBuffer()).byteLength).toBe(1000);
    expect((await fetch(f.url.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=00'))).status).toBe(403);

    await c.publishAsync(`${jobs}/${jobId}/update`, JSON.stringify({ status: 'IN_PROGRESS', expectedVersion: 1, statusDetails: { step: 'installing' } }), { qos: 1 });
    const stale = (await answer(got, `${jobs}/${jobId}/update/rejected`, 'VersionMismatch')).json;
    expect(stale).toMatchObject({ code: 'VersionMismatch', executionState: { status: 'IN_PROGRESS', versionNumber: 2 } });
    await c.publishAsync(`${jobs}/${jobId}/update`, JSON.stringify({ status: 'DONE' }), { qos: 1 });
    expect((await answer(got, `${jobs}/${jobId}/update/rejected`, 'a bad status')).json).toMatchObject({ code: 'InvalidRequest' });
    await c.publishAsync(`${jobs}/${jobId}/update`, JSON.stringify({ status: 'IN_PROGRESS', expectedVersion: 2, statusDetails: { step: 'installing' }, includeJobExecutionState: true }), { qos: 1 });
    expect((await answer(got, `${jobs}/${jobId}/update/accepted`, 'update accepted')).json).toMatchObject({ executionState: { status: 'IN_PROGRESS', versionNumber: 3 }, timestamp: expect.any(Number) });
    await c.publishAsync(`${jobs}/${jobId}/update`, JSON.stringify({ status: 'SUCCEEDED', expectedVersion: 3 }), { qos: 1 });
    await answer(got, `${jobs}/${jobId}/update/accepted`, 'SUCCEEDED accepted');
    // The first pending execution changed (to none): a NextNotification without an execution.
    expect((await answer(got, `${jobs}/notify-next`, 'the empty NextNotification')).json).toEqual({ timestamp: expect.any(Number) });
    await c.publishAsync(`${jobs}/${jobId}/update`, JSON.stringify({ status: 'FAILED' }), { qos: 1 });
    expect((await answer(got, `${jobs}/${jobId}/update/rejected`, 'an update of a terminal execution')).json).toMatchObject({ code: 'InvalidStateTransition', executionState: { status: 'SUCCEEDED' } });
    await c.publishAsync(`${jobs}/nope/update`, JSON.stringify({ status: 'FAILED' }), { qos: 1 });
    expect((await answer(got, `${jobs}/nope/update/rejected`, 'an unknown job')).json).toMatchObject({ code: 'ResourceNotFound' });

    const thing = fake.state.things.get(thingName)!;
    expect(thing.counts.jobUpdates).toEqual({ IN_PROGRESS: 1, SUCCEEDED: 1 });
    expect(thing.counts.artifactBytes).toBe(1000);
    expect(fake.control.campaign(jobId)?.statuses).toEqual({ success: 1 });
    await c.endAsync();
  });

  it('telemetry is counted per thing by seq; the shadow answers updates and pushes deltas; malformed updates are rejected with the shadow error codes', async () => {
    clock += 2_000;
    const c = await connect(thingName, device);
    const got = inbox(c);
    const shadow = `$aws/things/${thingName}/shadow`;
    await c.subscribeAsync([`${shadow}/update/accepted`, `${shadow}/update/rejected`, `${shadow}/update/delta`], { qos: 1 });
    for (const seq of [0, 1, 1, 3]) await c.publishAsync(`dt/fleetsim/${thingName}/telemetry`, JSON.stringify({ seq, ts: 1 }), { qos: 1 });
    await waitFor(() => fake.deviceStats().totals.received === 3, 'telemetry counted');
    expect(fake.deviceStats().totals).toMatchObject({ received: 3, duplicates: 1, gaps: 1 });

    await c.publishAsync(`${shadow}/update`, JSON.stringify({ state: { reported: { release: 'app-2.0' } }, clientToken: 's1' }), { qos: 1 });
    expect((await answer(got, `${shadow}/update/accepted`, 'shadow accepted')).json).toMatchObject({ state: { reported: { release: 'app-2.0' } }, version: 1, clientToken: 's1' });
    await c.publishAsync(`${shadow}/update`, JSON.stringify({ state: 'x' }), { qos: 1 });
    expect((await answer(got, `${shadow}/update/rejected`, 'shadow rejected')).json).toMatchObject({ code: 400, message: 'State node must be an object' });
    await c.publishAsync(`${shadow}/update`, JSON.stringify({ state: { reported: {} }, version: 99 }), { qos: 1 });
    expect((await answer(got, `${shadow}/update/rejected`, 'version conflict')).json).toMatchObject({ code: 409 });
    expect(fake.setDesired([thingName], { configVersion: 2, sampleEvery: '30s' })).toBe(1);
    expect((await answer(got, `${shadow}/update/delta`, 'the delta')).json).toMatchObject({ state: { configVersion: 2, sampleEvery: '30s' }, version: 2 });
    await c.endAsync();
  });

  it('limits: a second CONNECT of a client ID within a second is closed without CONNACK; publishes over the per-connection rate are discarded unacknowledged', async () => {
    clock += 2_000;
    const c = await connect(thingName, device);
    await expect(connect(thingName, device)).rejects.toThrow('closed');
    expect(fake.state.account.throttledConnectsClientId).toBe(1);
    expect(fake.state.things.get(thingName)!.counts.throttledConnects).toBe(1);
    // The bucket holds 20 a second and the clock stands still: 25 QoS 1 publishes, 5 never acknowledged.
    const acks: Array<Promise<unknown>> = [];
    for (let seq = 100; seq < 125; seq++) acks.push(c.publishAsync(`dt/fleetsim/${thingName}/telemetry`, JSON.stringify({ seq }), { qos: 1 }));
    await waitFor(() => fake.state.account.throttledPublishes === 5 && fake.deviceStats().totals.received === 3 + 20, 'the throttled publishes counted');
    let acked = 0;
    // The 5 discarded ones stay unanswered until the session ends.
    for (const a of acks) a.then(() => acked++, () => {});
    await waitFor(() => acked === 20, '20 acknowledgements');
    expect(c.connected).toBe(true);
    c.end(true);
  });
});

describe('AWS IoT fake: connect requests per second per account', () => {
  it('CONNECTs over the account rate are closed without CONNACK and counted as such', async () => {
    const fake = await startAwsIotFake({ now: () => 1_800_000_000_000, limits: { connectsPerSecondPerAccount: 2 } });
    const clients: MqttClient[] = [];
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        const c = mqtt.connect(fake.mqttUrl, { clientId: `claim-${i}`, protocolVersion: 4, reconnectPeriod: 0, ca: fake.caCert, cert: fake.claim.cert, key: fake.claim.key });
        clients.push(c);
        outcomes.push(await new Promise<string>((resolve) => {
          c.once('connect', () => resolve('connack'));
          c.once('close', () => resolve('closed'));
        }));
      }
      expect(outcomes).toEqual(['connack', 'connack', 'closed']);
      expect(fake.state.account).toMatchObject({ connects: 2, throttledConnectsAccount: 1, throttledConnectsClientId: 0 });
    } finally {
      for (const c of clients) c.end(true);
      await fake.close();
    }
  });
});
