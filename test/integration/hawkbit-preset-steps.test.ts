import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHawkbitFake, type HawkbitFake } from '../../src/backend/fakes/hawkbit/index.js';
import { hawkbitPreset } from '../../src/drivers/presets/hawkbit.js';
import { sendSpec, specs } from '../helpers/preset-steps.js';

/**
 * One hawkBit controller, step by step: each request the preset makes is checked against the DDI
 * shapes (DdiRootControllerRestApi, DdiActionFeedback/DdiStatus/DdiResult, DdiConfigData), sent to
 * the fake, and its answer decoded by the preset.
 */
describe('hawkbit preset, one controller step by step against the hawkBit fake', () => {
  let fake: HawkbitFake;
  const preset = hawkbitPreset({ fleetKey: 'fleet-secret' });
  const bytes = Buffer.alloc(40_000, 9);

  beforeAll(async () => {
    fake = await startHawkbitFake({ tokenSecret: 'fleet-secret', pollingSec: 120, minPollingSec: 1 });
    fake.register('ctrl-1');
  });
  afterAll(() => fake?.close());

  it('provisions by a TargetToken poll, answers configData, follows deploymentBase, downloads with Range, verifies and sends feedback', async () => {
    const first = preset.provisionRequest('ctrl-1');
    expect(first).toMatchObject({ method: 'GET', path: '/DEFAULT/controller/v1/ctrl-1', authorization: expect.stringMatching(/^TargetToken \S+$/) });
    const provisioned = await sendSpec(fake.url, preset, first);
    expect(provisioned.status).toBe(200);
    const creds = preset.decodeProvision(provisioned.body, 'ctrl-1')!;
    expect(preset.authorization(creds)).toBe(first.authorization);

    const poll = preset.pollRequest(creds);
    const answer = await sendSpec(fake.url, preset, poll, creds);
    const decoded = preset.decodePoll(answer.body)!;
    expect(decoded).toMatchObject({ changed: false, nextPollMs: 120_000 });
    // The server asks for config data: the device PUTs {mode, data} with string values.
    const [config] = decoded.also!;
    expect(config).toMatchObject({ method: 'PUT', path: expect.stringMatching(/\/DEFAULT\/controller\/v1\/ctrl-1\/configData$/) });
    expect(JSON.parse(config.body!)).toEqual({ mode: 'merge', data: expect.any(Object) });
    expect((await sendSpec(fake.url, preset, config, creds)).status).toBe(200);
    // Unchanged base: the driver's If-None-Match gets a 304.
    expect((await sendSpec(fake.url, preset, poll, creds, { 'if-none-match': (await sendSpec(fake.url, preset, poll, creds)).headers.get('etag')! })).status).toBe(304);

    const ds = fake.createSet('firmware', '2.1.0', [{ part: 'os', name: 'firmware', files: [{ filename: 'fw.bin', bytes }] }]);
    const [action] = fake.assign(ds.id, ['ctrl-1'], 'forced');
    const withLink = preset.decodePoll((await sendSpec(fake.url, preset, poll, creds)).body)!;
    expect(withLink.changed).toBe(true);
    expect(withLink.follow).toMatchObject({ method: 'GET', path: expect.stringContaining(`/deploymentBase/${action.id}?c=`) });
    const offer = preset.decodeFollow!((await sendSpec(fake.url, preset, withLink.follow!, creds)).body, creds)!.update!;
    expect(offer).toMatchObject({ campaign: String(action.id), release: '2.1.0', target: 'os', artifacts: [{ name: 'fw.bin', size: 40_000, sha256: createHash('sha256').update(bytes).digest('hex') }] });

    const get = preset.artifactRequest(creds, offer.artifacts[0]);
    const hash = createHash('sha256');
    for (let at = 0; at < offer.artifacts[0].size; at += 16_384) {
      const r = await fetch(get.path, { headers: { authorization: preset.authorization(creds)!, range: `bytes=${at}-${at + 16_383}` } });
      expect(r.status).toBe(206);
      hash.update(Buffer.from(await r.arrayBuffer()));
    }
    expect(hash.digest('hex')).toBe(offer.artifacts[0].sha256);
    expect(fake.state.targets.get('ctrl-1')!.counts.rangeRequests).toBe(3);

    // Feedback: {timestamp, status: {execution, result: {finished}, details}}.
    const fb = (status: string, cause?: string) => specs(preset.stateReport(creds, { release: '1.0', status, campaign: String(action.id), cause }));
    expect(fb('verifying')).toEqual([]);
    for (const [step, execution, finished] of [['downloading', 'proceeding', 'none'], ['downloaded', 'downloaded', 'none'], ['installing', 'proceeding', 'none'], ['success', 'closed', 'success']]) {
      const [post] = fb(step);
      expect(post).toMatchObject({ method: 'POST', path: `/DEFAULT/controller/v1/ctrl-1/deploymentBase/${action.id}/feedback` });
      expect(JSON.parse(post.body!)).toMatchObject({ timestamp: expect.any(Number), status: { execution, result: { finished }, details: expect.any(Array) } });
      expect((await sendSpec(fake.url, preset, post, creds)).status).toBe(200);
    }
    expect(fake.actionStats(ds.id)).toEqual({ finished: 1 });
    // The action is closed: more feedback is gone (410), which withdraws the update for the device.
    expect((await sendSpec(fake.url, preset, fb('failed', 'late')[0], creds)).status).toBe(410);
    expect(preset.updateGoneStatuses).toContain(410);
    expect(fake.state.targets.get('ctrl-1')!.counts.badRequests).toBe(0);
  });

  it('a closed maintenance window defers the update; a cancel is followed and acknowledged', async () => {
    const creds = preset.decodeProvision((await sendSpec(fake.url, preset, preset.provisionRequest('ctrl-1'))).body, 'ctrl-1')!;
    const ds = fake.createSet('firmware', '3.0.0', [{ part: 'os', name: 'firmware', files: [{ filename: 'fw3.bin', bytes: Buffer.alloc(10) }] }]);
    const [action] = fake.assign(ds.id, ['ctrl-1'], 'forced', { firstStartMs: Date.now() + 60_000, durationMs: 60_000, periodMs: 86_400_000 });
    const polled = preset.decodePoll((await sendSpec(fake.url, preset, preset.pollRequest(creds), creds)).body)!;
    // Sleep shortened to a third of the time until the window opens (maintenanceWindowPollCount 3).
    expect([19_000, 20_000]).toContain(polled.nextPollMs);
    const deferred = preset.decodeFollow!((await sendSpec(fake.url, preset, polled.follow!, creds)).body, creds)!;
    expect(deferred).toEqual({ changed: false });

    fake.cancel(action.id);
    const canceling = preset.decodePoll((await sendSpec(fake.url, preset, preset.pollRequest(creds), creds)).body)!;
    expect(canceling.follow!.path).toContain(`/cancelAction/${action.id}`);
    const withdrawn = preset.decodeFollow!((await sendSpec(fake.url, preset, canceling.follow!, creds)).body, creds)!;
    expect(withdrawn.withdrawn).toBe(String(action.id));
    const [ack] = withdrawn.also!;
    expect(JSON.parse(ack.body!)).toMatchObject({ status: { execution: 'closed', result: { finished: 'success' } } });
    expect((await sendSpec(fake.url, preset, ack, creds)).status).toBe(200);
    expect(fake.actionStats(ds.id)).toEqual({ canceled: 1 });
  });
  it('an application module (part "application") is an app update: no reboot into a new image', async () => {
    fake.register('ctrl-2');
    const creds = preset.decodeProvision((await sendSpec(fake.url, preset, preset.provisionRequest('ctrl-2'))).body, 'ctrl-2')!;
    const ds = fake.createSet('app', '4.0.0', [{ part: 'application', name: 'app', files: [{ filename: 'app.bin', bytes: Buffer.alloc(10) }] }]);
    fake.assign(ds.id, ['ctrl-2'], 'forced');
    const polled = preset.decodePoll((await sendSpec(fake.url, preset, preset.pollRequest(creds), creds)).body)!;
    const offer = preset.decodeFollow!((await sendSpec(fake.url, preset, polled.follow!, creds)).body, creds)!.update!;
    expect(offer).toMatchObject({ release: '4.0.0', target: 'app' });
  });
});
