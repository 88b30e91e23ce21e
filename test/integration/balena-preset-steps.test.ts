import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBalenaFake, type BalenaFake } from '../../src/backend/fakes/balena/index.js';
import { BALENA_REPORT_INTERVAL_MS, balenaPreset } from '../../src/drivers/presets/balena.js';
import { sendSpec, specs } from '../helpers/preset-steps.js';

/**
 * One balena device, step by step: each request the preset makes is checked against the shapes
 * of balena's device API (balena-register-device register(), open-balena-api register.ts,
 * state-get-v3.ts, state-patch-v3.ts, device-logs store.ts; balena-supervisor types/state.ts),
 * sent to the fake, and its answer decoded by the preset.
 */
describe('balena preset, one device step by step against the balena fake', () => {
  let fake: BalenaFake;
  let clock = 1_000_000;
  const preset = balenaPreset({ fleetKey: '7:prov-key-1' }, { now: () => clock });
  const bytes = Buffer.alloc(40_000, 7);

  beforeAll(async () => {
    fake = await startBalenaFake({ provisioningKey: 'prov-key-1', fleetId: 7, pollIntervalMs: 60_000 });
  });
  afterAll(() => fake?.close());

  it('registers with the provisioning key, polls v3 state with ETags, downloads the image with Range and reports update_status steps', async () => {
    const reg = preset.provisionRequest('dev-1');
    expect(reg).toMatchObject({ method: 'POST', path: '/device/register', authorization: 'Bearer prov-key-1' });
    const sent = JSON.parse(reg.body!);
    expect(sent).toMatchObject({ application: 7, device_type: 'generic-aarch64', uuid: expect.stringMatching(/^[0-9a-f]{32}$/), api_key: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const registered = await sendSpec(fake.url, preset, reg);
    expect(registered.status).toBe(201);
    expect(JSON.parse(registered.body)).toEqual({ id: expect.any(Number), uuid: sent.uuid, api_key: sent.api_key });
    const creds = preset.decodeProvision(registered.body, 'dev-1')!;
    expect(creds.deviceId).toBe(sent.uuid);
    expect(preset.authorization(creds)).toBe(`Bearer ${sent.api_key}`);
    // The same registration again: the uuid is taken (the supervisor would exchange keys then).
    expect((await sendSpec(fake.url, preset, reg)).status).toBe(409);

    // Nothing pinned: a target state without a release, then 304 for its ETag.
    const poll = preset.pollRequest(creds);
    expect(poll).toEqual({ method: 'GET', path: `/device/v3/${creds.deviceId}/state` });
    const first = await sendSpec(fake.url, preset, poll, creds);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$/);
    expect(preset.decodePoll(first.body)).toEqual({ changed: false, nextPollMs: 60_000 });
    expect((await sendSpec(fake.url, preset, poll, creds, { 'if-none-match': etag })).status).toBe(304);

    // A release pinned to the fleet: the ETag changes and the target names its commit and image.
    const release = fake.addRelease('app-2.0', bytes);
    fake.pin('app-2.0');
    const changed = await sendSpec(fake.url, preset, poll, creds, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    const target = JSON.parse(changed.body)[creds.deviceId];
    expect(target).toMatchObject({ name: expect.any(String), config: { BALENA_SUPERVISOR_POLL_INTERVAL: '60000' } });
    const [appUuid] = Object.keys(target.apps);
    expect(target.apps[appUuid]).toMatchObject({ id: 7, class: 'fleet', releases: { [release.commit]: { id: expect.any(Number), services: { main: { id: expect.any(Number), image_id: expect.any(Number), image: expect.stringMatching(/@sha256:[0-9a-f]{64}$/), environment: {}, labels: expect.any(Object) } } } } });
    const offer = preset.decodePoll(changed.body)!.update!;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(offer).toMatchObject({ campaign: release.commit, release: 'app-2.0', target: 'app', artifacts: [{ size: 0, sha256, url: expect.stringMatching(/^\/v2\/v2\/[0-9a-f]{32}\/blobs\/sha256:[0-9a-f]{64}$/) }] });

    // The image as a registry blob, in Range chunks, checked against the location's digest.
    const get = preset.artifactRequest(creds, offer.artifacts[0]);
    const hash = createHash('sha256');
    let total = Infinity;
    for (let at = 0; at < total; at += 16_384) {
      const r = await fetch(fake.url + get.path, { headers: { authorization: preset.authorization(creds)!, range: `bytes=${at}-${at + 16_383}` } });
      expect(r.status).toBe(206);
      total = Number(/\/(\d+)$/.exec(r.headers.get('content-range')!)![1]);
      hash.update(Buffer.from(await r.arrayBuffer()));
    }
    expect(hash.digest('hex')).toBe(sha256);
    expect(fake.state.devices.get(creds.deviceId)!.counts.rangeRequests).toBe(3);

    // Reports: PATCH /device/v3/state {uuid: {apps: {app: {release_uuid?, releases: {commit: {update_status, services}}}}}}.
    const report = (status: string) => specs(preset.stateReport(creds, { release: 'base', status, campaign: offer.campaign }));
    const statusOf = (spec: { body?: string }) => {
      const app = JSON.parse(spec.body!)[creds.deviceId].apps[appUuid];
      return { running: app.release_uuid, ...app.releases[release.commit] };
    };
    const [downloading] = report('downloading');
    expect(downloading).toMatchObject({ method: 'PATCH', path: '/device/v3/state' });
    expect(statusOf(downloading)).toEqual({ running: undefined, update_status: 'downloading', services: { main: { image: target.apps[appUuid].releases[release.commit].services.main.image, status: 'Downloading', download_progress: 0 } } });
    expect((await sendSpec(fake.url, preset, downloading, creds)).status).toBe(200);
    // Within 10 s of the last report the steps between are folded into the next one (maxReportFrequency).
    expect(report('downloaded')).toEqual([]);
    expect(report('verifying')).toEqual([]);
    clock += BALENA_REPORT_INTERVAL_MS;
    const [installing] = report('installing');
    expect(statusOf(installing).update_status).toBe('applying changes');
    expect((await sendSpec(fake.url, preset, installing, creds)).status).toBe(200);
    // The final state goes at once, naming the new release as running.
    const [done] = specs(preset.stateReport(creds, { release: 'app-2.0', status: 'success', campaign: release.commit }));
    expect(statusOf(done)).toMatchObject({ running: release.commit, update_status: 'done' });
    expect((await sendSpec(fake.url, preset, done, creds)).status).toBe(200);
    const dev = fake.state.devices.get(creds.deviceId)!;
    expect(dev.runningCommit).toBe(release.commit);
    expect(dev.counts.updateStatuses).toEqual({ downloading: 1, 'applying changes': 1, done: 1 });
    expect(fake.state.releaseStats(release.commit)).toEqual({ done: 1 });
    // A status balena does not have is refused as the API's zod schema refuses it.
    const bad = { ...done, body: done.body!.replace('"done"', '"failed"') };
    expect((await sendSpec(fake.url, preset, bad, creds)).status).toBe(400);
    expect(dev.counts.badRequests).toBe(1);

    // Logs: 25 lines after 3 dropped = the notice + 25 lines in batches of at most 10.
    const batches = preset.logsRequest!(creds, 3, 'app log line', 25);
    expect(batches.map((b) => JSON.parse(b.body!).length)).toEqual([10, 10, 6]);
    expect(JSON.parse(batches[0].body!)[0]).toEqual({ message: 'Warning: Suppressed 3 message(s) due to high load', timestamp: clock, isSystem: true, isStdErr: true });
    expect(JSON.parse(batches[0].body!)[1]).toEqual({ message: 'app log line', timestamp: clock, isSystem: false, isStdErr: false, serviceId: release.services[0].id });
    for (const b of batches) {
      expect(b).toMatchObject({ method: 'POST', path: `/device/v2/${creds.deviceId}/logs` });
      expect((await sendSpec(fake.url, preset, b, creds)).status).toBe(201);
    }
    expect(dev.counts).toMatchObject({ logBatches: 3, logLines: 26, suppressedNotices: 1 });
    // More than 10 lines in one batch is refused.
    const eleven = { ...batches[0], body: JSON.stringify(Array.from({ length: 11 }, () => ({ message: 'x', timestamp: 1 }))) };
    expect((await sendSpec(fake.url, preset, eleven, creds)).status).toBe(400);
  });

  it('answers unknown devices, foreign keys, revoked keys and log floods as the API does', async () => {
    const creds = preset.decodeProvision((await sendSpec(fake.url, preset, preset.provisionRequest('dev-2'))).body, 'dev-2')!;
    const other = preset.decodeProvision((await sendSpec(fake.url, preset, preset.provisionRequest('dev-3'))).body, 'dev-3')!;
    // Unknown uuid: the API's graceful deny answers the poll 304.
    expect((await sendSpec(fake.url, preset, { method: 'GET', path: '/device/v3/00000000000000000000000000000000/state' }, creds)).status).toBe(304);
    // Another device's key: 401 on its state and its reports.
    expect((await sendSpec(fake.url, preset, preset.pollRequest(creds), other)).status).toBe(401);
    expect((await sendSpec(fake.url, preset, { method: 'PATCH', path: '/device/v3/state', body: JSON.stringify({ [creds.deviceId]: { status: 'Idle' } }) }, other)).status).toBe(401);
    // A report naming no device is 401 too (nothing to resolve); a provisioning key from another fleet is 401.
    expect((await sendSpec(fake.url, preset, { method: 'PATCH', path: '/device/v3/state', body: '{}' }, creds)).status).toBe(401);
    expect((await sendSpec(fake.url, balenaPreset({ fleetKey: '7:wrong' }), balenaPreset({ fleetKey: '7:wrong' }).provisionRequest('dev-9'))).status).toBe(401);
    expect((await sendSpec(fake.url, preset, balenaPreset({ fleetKey: '8:prov-key-1' }).provisionRequest('dev-9'))).status).toBe(403);

    // Log batches: 14 per 10 s per device; the 15th is 429 with Retry-After (rate limit before auth).
    const [batch] = preset.logsRequest!(creds, 0, 'line', 1);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 15; i++) {
      const r = await sendSpec(fake.url, preset, batch, creds);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses).toEqual([...Array(14).fill(201), 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(9);
    expect(fake.state.devices.get(creds.deviceId)!.counts.rateLimited).toBe(1);

    // A revoked key: 401 from then on; balena has no re-authentication, the preset asks for none.
    fake.revokeKey(creds.deviceId);
    expect((await sendSpec(fake.url, preset, preset.pollRequest(creds), creds)).status).toBe(401);
    expect(preset.reauthStatuses).toBeUndefined();
    // Counted per device: the two requests with dev-3's key and the one with the revoked key.
    expect(fake.state.devices.get(creds.deviceId)!.counts.unauthorized).toBe(3);
  });
});
