import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMenderFake, type MenderFake } from '../../src/backend/fakes/mender/index.js';
import { buildMenderArtifact } from '../../src/wire/mender-artifact.js';

/** The Mender fake answers malformed or unauthorised requests the way the platform's device API documents. */
describe('Mender fake: answers to what devices get wrong', () => {
  let fake: MenderFake;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const authBody = JSON.stringify({ id_data: JSON.stringify({ mac: '02:00:00:00:00:07' }), pubkey: pem, tenant_token: '' });
  const signature = sign('sha256', Buffer.from(authBody), privateKey).toString('base64');
  const api = (p: string): string => `${fake.url}/api/devices${p}`;
  const auth = (body: string, sig?: string): Promise<Response> =>
    fetch(api('/v1/authentication/auth_requests'), { method: 'POST', body, headers: { 'content-type': 'application/json', ...(sig === undefined ? {} : { 'x-men-signature': sig }) } });

  beforeAll(async () => {
    // 2 s: JWT exp is in whole seconds, so a token lives between 1 and 2 s.
    fake = await startMenderFake({ autoAccept: false, tokenTtlSec: 2 });
  });
  afterAll(() => fake?.close());

  it('auth: 400 without a signature or id_data, 401 for a bad signature and while pending, then 200 with a token', async () => {
    expect((await auth(authBody)).status).toBe(400);
    expect((await auth(JSON.stringify({ pubkey: pem }), signature)).status).toBe(400);
    expect((await auth(authBody, Buffer.alloc(64, 1).toString('base64'))).status).toBe(401);
    const pending = await auth(authBody, signature);
    expect(pending.status).toBe(401);
    expect(await pending.json()).toMatchObject({ error: expect.any(String), request_id: expect.any(String) });
    const [d] = fake.devices();
    expect(d.status).toBe('pending');
    fake.accept(d.id);
    const ok = await auth(authBody, signature);
    expect(ok.status).toBe(200);
    expect((await ok.text()).split('.')).toHaveLength(3);
  });

  it('a token expires: 401 on the device API until the device authenticates again', async () => {
    const token = await (await auth(authBody, signature)).text();
    const inv = (t: string, body: string, method = 'PATCH'): Promise<Response> => fetch(api('/v1/inventory/device/attributes'), { method, body, headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' } });
    expect((await inv(token, '[{"name":"device_type","value":"box"}]')).status).toBe(200);
    expect((await inv(token, '{"name":"x"}')).status).toBe(400);
    expect((await inv(token, '[{"name":"","value":"x"}]')).status).toBe(400);
    expect((await inv('garbage', '[{"name":"a","value":"b"}]')).status).toBe(401);
    // Wait (by polling the API, not sleeping) for the token to lapse.
    const deadline = Date.now() + 6000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) status = (await inv(token, '[{"name":"a","value":"b"}]')).status;
    expect(status).toBe(401);
    const fresh = await (await auth(authBody, signature)).text();
    expect((await inv(fresh, '[{"name":"a","value":"b"}]')).status).toBe(200);
  });

  it('deployments: next needs artifact_name and device_type, an aborted deployment answers 409 to status, logs are validated', async () => {
    const token = await (await auth(authBody, signature)).text();
    const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    fake.upload(buildMenderArtifact({ name: 'app-3', deviceTypes: ['box'], files: [{ name: 'run.sh', data: Buffer.from('#!/bin/sh\n') }] }));
    const dep = fake.deploy('d1', 'app-3');
    expect((await fetch(api('/v1/deployments/device/deployments/next?device_type=box'), { headers: h })).status).toBe(400);
    const next = await fetch(api('/v1/deployments/device/deployments/next?artifact_name=app-2&device_type=box'), { headers: h });
    expect(next.status).toBe(200);
    const doc = (await next.json()) as { id: string; artifact: { artifact_name: string; source: { uri: string; expire: string }; device_types_compatible: string[] } };
    expect(doc).toMatchObject({ id: dep.id, artifact: { artifact_name: 'app-3', device_types_compatible: ['box'] } });
    const part = await fetch(doc.artifact.source.uri, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    expect((await fetch(doc.artifact.source.uri.replace(/x-men-signature=[^&]+/, 'x-men-signature=AAAA'))).status).toBe(403);
    const status = (s: string): Promise<Response> => fetch(api(`/v1/deployments/device/deployments/${dep.id}/status`), { method: 'PUT', headers: h, body: JSON.stringify({ status: s }) });
    expect((await status('downloading')).status).toBe(204);
    expect((await status('frobnicating')).status).toBe(400);
    const log = (body: unknown): Promise<Response> => fetch(api(`/v1/deployments/device/deployments/${dep.id}/log`), { method: 'PUT', headers: h, body: JSON.stringify(body) });
    expect((await log({ messages: [{ level: 'error', message: 'x' }] })).status).toBe(400);
    expect((await log({ messages: [{ timestamp: new Date().toISOString(), level: 'error', message: 'install failed' }] })).status).toBe(204);
    fake.abort(dep.id);
    expect((await status('installing')).status).toBe(409);
    expect((await fetch(api('/v1/deployments/device/deployments/next?artifact_name=app-2&device_type=box'), { headers: h })).status).toBe(204);
  });
});
