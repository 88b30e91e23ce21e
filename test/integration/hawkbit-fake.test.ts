import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHawkbitFake, type HawkbitFake } from '../../src/backend/fakes/hawkbit/index.js';

/** The hawkBit fake answers DDI requests with the shapes and statuses of hawkBit's DdiRootController. */
describe('hawkBit fake: DDI answers', () => {
  let fake: HawkbitFake;
  const id = 'dev-0001';
  let token: string;
  const base = (): string => `${fake.url}/${fake.tenant}/controller/v1/${id}`;
  const get = (url: string, extra: Record<string, string> = {}): Promise<Response> => fetch(url, { headers: { authorization: `TargetToken ${token}`, ...extra } });
  const post = (url: string, body: unknown, method = 'POST'): Promise<Response> =>
    fetch(url, { method, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { authorization: `TargetToken ${token}`, 'content-type': 'application/json' } });

  beforeAll(async () => {
    fake = await startHawkbitFake({ tokenSecret: 's3cret', gatewayToken: 'gw', pollingSec: 60, minPollingSec: 1 });
    token = fake.register(id).token;
  });
  afterAll(() => fake?.close());

  it('auth: 401 without or with a wrong token; a gateway token registers a new target on its first poll', async () => {
    expect((await fetch(base())).status).toBe(401);
    expect((await fetch(base(), { headers: { authorization: 'TargetToken nope' } })).status).toBe(401);
    const other = `${fake.url}/${fake.tenant}/controller/v1/gw-dev`;
    expect((await fetch(other, { headers: { authorization: 'GatewayToken gw' } })).status).toBe(200);
    expect(fake.state.targets.has('gw-dev')).toBe(true);
  });

  it('poll: config.polling.sleep, configData link at first, ETag → 304; configData PUT validates mode and data', async () => {
    const r = await get(base());
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { config: { polling: { sleep: string } }; _links: Record<string, { href: string }> };
    expect(doc.config.polling.sleep).toBe('00:01:00');
    expect(Object.keys(doc._links)).toEqual(['configData']);
    expect((await get(base(), { 'if-none-match': r.headers.get('etag')! })).status).toBe(304);
    expect((await post(doc._links.configData.href, { mode: 'append', data: { a: '1' } }, 'PUT')).status).toBe(400);
    expect((await post(doc._links.configData.href, { data: { a: 1 } }, 'PUT')).status).toBe(400);
    expect((await post(doc._links.configData.href, { mode: 'merge', data: { hw: 'rev2' } }, 'PUT')).status).toBe(200);
    expect(fake.state.targets.get(id)!.attributes).toEqual({ hw: 'rev2' });
  });

  it('a body over 256 KB: 413 in hawkBit\'s words, refused on its Content-Length, the connection closed (backend/http-body.ts)', async () => {
    const r = await post(`${base()}/configData`, 'x'.repeat(300 * 1024), 'PUT');
    expect(r.status).toBe(413);
    expect(r.headers.get('connection')).toBe('close');
    expect(await r.json()).toEqual({ message: 'body too large' });
    expect(fake.state.targets.get(id)!.attributes).toEqual({ hw: 'rev2' });
  });

  it('deployment: _links → deploymentBase with hashes and Range downloads; feedback closes it; 410 afterwards', async () => {
    const bytes = Buffer.alloc(5000, 3);
    const ds = fake.createSet('fw', '2.0', [{ part: 'os', name: 'fw', files: [{ filename: 'fw.bin', bytes }] }]);
    const [action] = fake.assign(ds.id, [id], 'soft');
    const links = ((await (await get(base())).json()) as { _links: Record<string, { href: string }> })._links;
    expect(links.deploymentBase.href).toMatch(new RegExp(`/deploymentBase/${action.id}\\?c=`));
    const dep = (await (await get(links.deploymentBase.href)).json()) as { id: string; deployment: { download: string; update: string; chunks: Array<{ part: string; artifacts: Array<{ size: number; hashes: Record<string, string>; _links: { download: { href: string } } }> }> } };
    expect(dep).toMatchObject({ id: String(action.id), deployment: { download: 'attempt', update: 'attempt' } });
    const art = dep.deployment.chunks[0].artifacts[0];
    expect(art.size).toBe(5000);
    expect(Object.keys(art.hashes).sort()).toEqual(['md5', 'sha1', 'sha256']);
    const part = await get(art._links.download.href, { range: 'bytes=4000-' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 4000-4999/5000');
    const fb = `${base()}/deploymentBase/${action.id}/feedback`;
    expect((await post(fb, { status: { execution: 'flying', result: { finished: 'none' } } })).status).toBe(400);
    expect((await post(fb, { status: { execution: 'proceeding' } })).status).toBe(400);
    expect((await post(fb, '{not json')).status).toBe(400);
    expect((await post(fb, { status: { execution: 'proceeding', result: { finished: 'none' } } })).status).toBe(200);
    expect((await post(fb, { status: { execution: 'closed', result: { finished: 'success' } } })).status).toBe(200);
    expect(fake.actionStats(ds.id)).toEqual({ finished: 1 });
    expect((await post(fb, { status: { execution: 'closed', result: { finished: 'success' } } })).status).toBe(410);
    expect(fake.state.targets.get(id)!.counts.gone).toBe(1);
  });

  it('cancel: the poll links cancelAction, the device confirms, the action is canceled', async () => {
    const ds = fake.createSet('fw', '3.0', [{ part: 'os', name: 'fw', files: [{ filename: 'fw.bin', bytes: Buffer.alloc(10) }] }]);
    const [action] = fake.assign(ds.id, [id]);
    fake.cancel(action.id);
    const links = ((await (await get(base())).json()) as { _links: Record<string, { href: string }> })._links;
    expect(links.deploymentBase).toBeUndefined();
    const cancel = (await (await get(links.cancelAction.href)).json()) as { id: string; cancelAction: { stopId: string } };
    expect(cancel).toEqual({ id: String(action.id), cancelAction: { stopId: String(action.id) } });
    expect((await post(`${links.cancelAction.href}/feedback`, { status: { execution: 'closed', result: { finished: 'success' } } })).status).toBe(200);
    expect(fake.actionStats(ds.id)).toEqual({ canceled: 1 });
  });

  it('maintenance window: update is skip and the sleep shortens while the window is closed', async () => {
    const ds = fake.createSet('fw', '4.0', [{ part: 'os', name: 'fw', files: [{ filename: 'fw.bin', bytes: Buffer.alloc(10) }] }]);
    const [action] = fake.assign(ds.id, [id], 'forced', { firstStartMs: Date.now() + 30_000, durationMs: 10_000, periodMs: 3_600_000 });
    const doc = (await (await get(base())).json()) as { config: { polling: { sleep: string } }; _links: Record<string, { href: string }> };
    expect(doc.config.polling.sleep).toMatch(/^00:00:(09|10)$/);
    const dep = (await (await get(doc._links.deploymentBase.href)).json()) as { deployment: Record<string, unknown> };
    expect(dep.deployment).toMatchObject({ download: 'forced', update: 'skip', maintenanceWindow: 'unavailable' });
    expect(action.status).toBe('running');
  });
});
