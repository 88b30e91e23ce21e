import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveBytes } from '../serve-range.js';
import type { AcmeState, Thing } from './state.js';
import { isJsonObject as isObj, parseJson } from '../../../wire/answer-shapes.js';
import { sendJson as json } from '../http-answers.js';

/**
 * The HTTP API of the acme-things test backend (protocols/example.yaml):
 *
 *   POST /api/v2/enrollments            x-provisioning-key, {hardwareSerial, model, requestedAt}
 *                                       -> 201 {thing: {id}, auth: {accessToken, expiresInSec}}; wrong key 403
 *   GET  /api/v2/things/:id/desired?have=<revision>   Bearer
 *                                       -> 204 when `have` is the current revision, else 200
 *                                          {revision, firmware|null, settings, settingsRevision, pollAfterSec}
 *   POST /api/v2/things/:id/reports     Bearer, {fw, phase, deployment, error, downloaded} -> 202
 *   POST /api/v2/things/:id/logs        Bearer, {lines: newline-separated} -> 204 (protocols/example-mqtt.yaml)
 *   GET  /api/v2/blobs/:name            Bearer, Range -> 206/200
 *   GET  /api/v2/stats                  -> 200 {devices: per-thing counts, totals, malformedRequests}
 *
 * Every device request carries `x-acme-client`. An expired or unknown token is 401; a token of
 * another thing 403; anything the backend cannot read (missing header, bad JSON, a field of the
 * wrong type, a `have` that is not a revision) is 400 and counted.
 */
export class AcmeApi {
  constructor(
    private readonly state: AcmeState,
    private readonly now: () => number = Date.now,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => this.route(req, res, Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => res.destroy());
  };

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://acme');
    const parts = url.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && url.pathname === '/api/v2/stats') return json(res, 200, this.stats());
    if (parts[0] !== 'api' || parts[1] !== 'v2') return json(res, 404, { error: 'no such route' });
    if (req.headers['x-acme-client'] === undefined) return this.bad(res, 'x-acme-client header missing');
    if (req.method === 'POST' && parts.length === 3 && parts[2] === 'enrollments') return this.enroll(req, res, body);
    if (parts[2] === 'things' && parts.length === 5) {
      const thing = this.authorized(req, res, decodeURIComponent(parts[3]));
      if (thing === undefined) return;
      if (req.method === 'GET' && parts[4] === 'desired') return this.desired(res, thing, url.searchParams.get('have'));
      if (req.method === 'POST' && parts[4] === 'reports') return this.report(res, thing, body);
      if (req.method === 'POST' && parts[4] === 'logs') return this.logs(res, thing, body);
    }
    if (req.method === 'GET' && parts[2] === 'blobs' && parts.length === 4) {
      const thing = this.authorized(req, res, undefined);
      if (thing === undefined) return;
      const fw = this.state.firmware;
      if (fw === undefined || decodeURIComponent(parts[3]) !== fw.version) return json(res, 404, { error: 'no such blob' });
      thing.artifactBytes += serveBytes(req, res, fw.bytes, { 'content-type': 'application/octet-stream' }).served;
      return;
    }
    json(res, 404, { error: 'no such route' });
  }

  private bad(res: ServerResponse, why: string): void {
    this.state.malformedRequests++;
    json(res, 400, { error: why });
  }

  /** The thing whose valid bearer token the request carries (and, with `id`, that it is that thing), else the answer is sent. */
  private authorized(req: IncomingMessage, res: ServerResponse, id: string | undefined): Thing | undefined {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const thing = m ? this.state.bearer(m[1], this.now()) : undefined;
    if (thing === undefined) {
      // Count who was refused, when the token was once theirs.
      const owner = id === undefined ? undefined : this.state.thing(id);
      if (owner) owner.rejectedTokens++;
      json(res, 401, { error: 'token expired or unknown' });
      return undefined;
    }
    if (id !== undefined && thing.id !== id) {
      json(res, 403, { error: 'not your thing' });
      return undefined;
    }
    return thing;
  }

  private enroll(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (req.headers['x-provisioning-key'] !== this.state.provisioningKey) return json(res, 403, { error: 'wrong provisioning key' });
    const b = parseJson(body);
    if (!isObj(b) || typeof b.hardwareSerial !== 'string' || b.hardwareSerial === '' || typeof b.model !== 'string' || typeof b.requestedAt !== 'number') {
      return this.bad(res, 'expected {hardwareSerial: string, model: string, requestedAt: number}');
    }
    const t = this.state.enroll(b.hardwareSerial, this.now());
    json(res, 201, { thing: { id: t.id }, auth: { accessToken: t.token, expiresInSec: this.state.tokenLifetimeSec } });
  }

  private desired(res: ServerResponse, thing: Thing, have: string | null): void {
    if (have === null || (have !== '' && !/^\d+$/.test(have))) return this.bad(res, '`have` must be a revision number or empty');
    const doc = this.state.desired(thing, have);
    if (doc === null) res.writeHead(204).end();
    else json(res, 200, doc);
  }

  private report(res: ServerResponse, thing: Thing, body: string): void {
    if (!this.state.report(thing, parseJson(body))) return json(res, 400, { error: 'expected {fw, phase, deployment, error: string, downloaded: number}' });
    res.writeHead(202).end();
  }

  /** Log upload over HTTP (protocols/example-mqtt.yaml): {lines: newline-separated text}. */
  private logs(res: ServerResponse, thing: Thing, body: string): void {
    const b = parseJson(body);
    if (!isObj(b) || typeof b.lines !== 'string') return this.bad(res, 'expected {lines: string}');
    thing.logLines += b.lines === '' ? 0 : b.lines.split('\n').length;
    res.writeHead(204).end();
  }

  stats() {
    const devices = this.state.things().map((t) => this.state.counts(t));
    const sum = (k: 'received' | 'duplicates' | 'gaps' | 'provisions' | 'polls' | 'reauths') => devices.reduce((n, d) => n + d[k], 0);
    return {
      devices,
      totals: {
        received: sum('received'),
        duplicates: sum('duplicates'),
        gaps: sum('gaps'),
        provisions: sum('provisions'),
        polls: sum('polls'),
        reauths: sum('reauths'),
        devices: devices.length,
        refusedPublishes: this.state.refusedPublishes,
        refusedSubscribes: this.state.refusedSubscribes,
      },
      malformedRequests: this.state.malformedRequests,
    };
  }
}

