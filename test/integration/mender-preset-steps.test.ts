import { verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMenderFake, type MenderFake } from '../../src/backend/fakes/mender/index.js';
import { menderPreset } from '../../src/drivers/presets/mender.js';
import { buildMenderArtifact } from '../../src/wire/mender-artifact.js';
import { sendSpec, specs } from '../helpers/preset-steps.js';

/**
 * One Mender device, step by step: each request the preset makes is checked against the shape the
 * platform documents (deviceauth, inventory and deployments devices_api.yml), then sent to the
 * fake, whose answer the preset decodes.
 */
describe('mender preset, one device step by step against the Mender fake', () => {
  let fake: MenderFake;
  const preset = menderPreset({ fleetKey: 'tenant-token-1' }, { deviceType: 'box', artifactName: 'base-1' });
  const artifact = buildMenderArtifact({ name: 'app-2', deviceTypes: ['box'], files: [{ name: 'run.sh', data: Buffer.alloc(70_000, 1) }] });

  beforeAll(async () => {
    fake = await startMenderFake({ autoAccept: false, tokenTtlSec: 3600 });
    fake.upload(artifact);
  });
  afterAll(() => fake?.close());

  it('authenticates, inventories, polls, downloads, reports and logs a failure as documented', async () => {
    // auth_requests: {id_data (JSON string), pubkey (PEM), tenant_token}, X-MEN-Signature over the body.
    const auth = preset.provisionRequest('dev-000001');
    expect(auth).toMatchObject({ method: 'POST', path: '/api/devices/v1/authentication/auth_requests' });
    const body = JSON.parse(auth.body!) as { id_data: string; pubkey: string; tenant_token: string };
    expect(Object.keys(body).sort()).toEqual(['id_data', 'pubkey', 'tenant_token']);
    expect(JSON.parse(body.id_data)).toMatchObject({ mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
    expect(body.tenant_token).toBe('tenant-token-1');
    const sig = Buffer.from(auth.headers![auth.headers!.indexOf('x-men-signature') + 1], 'base64');
    expect(verify('sha256', Buffer.from(auth.body!), body.pubkey, sig)).toBe(true);
    // The same device signs the same request again (kept key), so re-authentication costs no key generation.
    expect(preset.provisionRequest('dev-000001')).toEqual(auth);
    expect(preset.provisionRequest('dev-000002').body).not.toEqual(auth.body);

    const pending = await sendSpec(fake.url, preset, auth);
    expect(pending.status).toBe(401);
    expect(preset.provisionPendingStatuses).toContain(401);
    fake.accept(fake.devices()[0].id);
    const ok = await sendSpec(fake.url, preset, auth);
    expect(ok.status).toBe(200);
    const creds = preset.decodeProvision(ok.body, 'dev-000001')!;
    expect(creds.deviceId).toBe(fake.devices()[0].id);
    expect(preset.decodeProvision('not a token', 'x')).toBeUndefined();

    // Inventory: an array of {name, value}.
    const inv = preset.telemetryRequest!(creds, 0, 1_700_000_000_000)!;
    expect(inv).toMatchObject({ method: 'PUT', path: '/api/devices/v1/inventory/device/attributes' });
    expect(JSON.parse(inv.body!)).toEqual(expect.arrayContaining([{ name: 'device_type', value: 'box' }, { name: 'artifact_name', value: 'base-1' }]));
    expect((await sendSpec(fake.url, preset, inv, creds)).status).toBe(200);
    expect(fake.devices()[0].seq.received).toBe(1);

    // Next deployment: nothing yet (204 is "unchanged" for this preset), then an offer with the artifact URI.
    const poll = preset.pollRequest(creds);
    expect(poll.path).toBe('/api/devices/v1/deployments/device/deployments/next?artifact_name=base-1&device_type=box');
    const none = await sendSpec(fake.url, preset, poll, creds);
    expect(none.status).toBe(204);
    expect(preset.unchangedStatuses).toContain(204);
    const dep = fake.deploy('rollout', 'app-2');
    const offerAnswer = await sendSpec(fake.url, preset, poll, creds);
    expect(offerAnswer.status).toBe(200);
    const offer = preset.decodePoll(offerAnswer.body)!.update!;
    expect(offer).toMatchObject({ campaign: dep.id, release: 'app-2', artifacts: [{ name: 'app-2', size: 0, sha256: '' }] });

    // Download in Range chunks from the returned URI, checked by the artifact's manifest as it streams.
    const check = preset.artifactCheck!();
    const get = preset.artifactRequest(creds, offer.artifacts[0]);
    expect(get.path).toBe(offer.artifacts[0].url);
    let total = Infinity;
    for (let at = 0; at < total; at += 32_768) {
      const r = await fetch(get.path, { headers: { range: `bytes=${at}-${at + 32_767}` } });
      expect(r.status).toBe(206);
      total = Number(r.headers.get('content-range')!.split('/')[1]);
      check.push(Buffer.from(await r.arrayBuffer()));
    }
    expect(total).toBe(artifact.length);
    expect(check.finish().ok).toBe(true);

    // Status steps map onto the documented statuses; steps Mender has not are not sent.
    const report = (status: string, cause?: string) => preset.stateReport(creds, { release: 'base-1', status, campaign: dep.id, cause });
    expect(report('verifying')).toBeUndefined();
    for (const [step, status] of [['downloading', 'downloading'], ['installing', 'installing']]) {
      const [put] = specs(report(step));
      expect(put).toMatchObject({ method: 'PUT', path: `/api/devices/v1/deployments/device/deployments/${dep.id}/status` });
      expect(JSON.parse(put.body!)).toEqual({ status });
      expect((await sendSpec(fake.url, preset, put, creds)).status).toBe(204);
    }
    // A failure: the status, then the deployment log.
    const [failure, log] = specs(report('failed', 'health-check'));
    expect(JSON.parse(failure.body!)).toEqual({ status: 'failure' });
    expect(log.path).toBe(`/api/devices/v1/deployments/device/deployments/${dep.id}/log`);
    expect(JSON.parse(log.body!).messages[0]).toMatchObject({ level: 'error', message: expect.stringContaining('health-check'), timestamp: expect.any(String) });
    expect((await sendSpec(fake.url, preset, failure, creds)).status).toBe(204);
    expect((await sendSpec(fake.url, preset, log, creds)).status).toBe(204);
    expect(fake.deploymentStats(dep.id)).toEqual({ failure: 1 });
    const d = fake.devices()[0];
    expect(d.counts.badRequests).toBe(0);
    expect(d.counts.logUploads).toBe(1);
  });

  it('an aborted deployment answers 409, which the preset calls a withdrawn update', async () => {
    const auth = preset.provisionRequest('dev-000001');
    const creds = preset.decodeProvision((await sendSpec(fake.url, preset, auth)).body, 'dev-000001')!;
    fake.upload(buildMenderArtifact({ name: 'app-3', deviceTypes: ['box'], files: [{ name: 'x', data: Buffer.from('x') }] }));
    const dep = fake.deploy('second', 'app-3');
    const offer = preset.decodePoll((await sendSpec(fake.url, preset, preset.pollRequest(creds, 'base-1'), creds)).body)!.update!;
    expect(offer.campaign).toBe(dep.id);
    fake.abort(dep.id);
    const [put] = specs(preset.stateReport(creds, { release: 'base-1', status: 'downloading', campaign: dep.id }));
    const r = await sendSpec(fake.url, preset, put, creds);
    expect(r.status).toBe(409);
    expect(preset.updateGoneStatuses).toContain(409);
  });
});
