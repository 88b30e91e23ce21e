import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCappedBody } from '../../http-body.js';
import { serveBytes } from '../serve-range.js';
import { LogRateLimiter } from './log-rate.js';
import { checkLogBatch, checkRegistration, checkStatePatch } from './shapes.js';
import { Conflict, RELEASE_LABEL, type BalenaDevice, type BalenaState } from './state.js';
import { safeDecode, sendEmpty as end, sendJson, sendText, sendUnlessMatched } from '../http-answers.js';

/**
 * The device-facing routes of the balena fake, written from open-balena-api (v49,
 * src/features/device-provisioning, device-state, device-logs) and what balena-supervisor (v19)
 * sends. Routes, and the statuses the API answers on each:
 *
 * - `POST /device/register` (provisioning key as Bearer): 201 `{id, uuid, api_key}`; 400 missing
 *   or bad fields; 401 no or wrong key; 403 another fleet; 404 unknown device type; 409 uuid or
 *   key taken.
 * - `GET /device/v3/:uuid/state` (device key): 200 target state with a weak ETag, 304 when
 *   If-None-Match matches; an unknown uuid is answered 304 (the API's graceful deny); 401 bad key.
 * - `PATCH /device/v3/state` (device key): 200; 400 a body off the v3 shape; 401 no uuid in the
 *   body, unknown uuid or a key that is not that device's.
 * - `POST /device/v2/:uuid/logs` (device key): 201; 401 unknown uuid or bad key; 429 with
 *   Retry-After past 14 batches in 10 s per device (rate limit before authentication, as the
 *   API's middleware order has it); 400 more than 10 lines or a line off the shape.
 * - `GET /v2/<repository>/blobs/sha256:<hex>`: the release image as one blob with Range (the
 *   fake's stand-in for the registry and delta server; docs/presets/balena.md).
 *
 * Concurrency: the fake's event loop only.
 */

const MAX_BODY = 1024 * 1024;

export class BalenaApi {
  private readonly logRate: LogRateLimiter;

  constructor(
    private readonly state: BalenaState,
    now: () => number = Date.now,
  ) {
    this.logRate = new LogRateLimiter(now);
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const parts = path.split('/').map(safeDecode);
    // ['', 'device', ...]
    if (parts[1] === 'device') {
      if (method === 'POST' && path === '/device/register') return readJson(req, res, undefined, (body) => this.register(req, res, body));
      if (method === 'GET' && parts[2] === 'v3' && parts[4] === 'state' && parts.length === 5) return this.targetState(req, res, parts[3]);
      if (method === 'PATCH' && path === '/device/v3/state') return readJson(req, res, undefined, (body) => this.patchState(req, res, body));
      if (method === 'POST' && parts[2] === 'v2' && parts[4] === 'logs' && parts.length === 5) return this.logs(req, res, parts[3]);
    }
    if (method === 'GET' && parts[1] === 'v2' && parts[parts.length - 2] === 'blobs') return this.blob(req, res, parts[parts.length - 1]);
    text(res, 404, 'Not Found');
  };

  /** The key of a `Bearer` header, or undefined. */
  private bearer(req: IncomingMessage): string | undefined {
    const h = req.headers.authorization ?? '';
    return h.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
  }

  /** The device a key belongs to, when it is `uuid`'s. */
  private deviceWithKey(req: IncomingMessage, uuid: string): BalenaDevice | undefined {
    const d = this.state.devices.get(uuid);
    const key = this.bearer(req);
    if (d === undefined || key === undefined || d.apiKey === '' || key !== d.apiKey) {
      if (d !== undefined) d.counts.unauthorized++;
      return undefined;
    }
    return d;
  }

  private register(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const fleet = this.state.fleet;
    if (this.bearer(req) !== fleet.provisioningKey) return text(res, 401, 'Unauthorized');
    const checked = checkRegistration(body);
    if (typeof checked === 'string') return text(res, 400, checked);
    if (checked.application !== fleet.id) return text(res, 403, 'Forbidden');
    if (!fleet.deviceTypes.has(checked.deviceType)) return text(res, 404, `Unknown device type: ${checked.deviceType}`);
    try {
      const apiKey = checked.apiKey ?? createHash('sha256').update(`key:${checked.uuid}:${Math.random()}`).digest('hex').slice(0, 32);
      const d = this.state.register(checked.uuid, apiKey, checked.deviceType);
      for (const k of ['supervisor_version', 'os_version', 'os_variant', 'mac_address'] as const) if (checked.fields[k] != null) d.fields[k] = checked.fields[k];
      json(res, 201, { id: d.id, uuid: d.uuid, api_key: apiKey });
    } catch (err) {
      if (err instanceof Conflict) return text(res, 409, err.message);
      throw err;
    }
  }

  private targetState(req: IncomingMessage, res: ServerResponse, uuid: string): void {
    const d0 = this.state.devices.get(uuid);
    // The API gracefully denies a device it does not know with the "nothing new" answer.
    if (d0 === undefined) return end(res, 304);
    const d = this.deviceWithKey(req, uuid);
    if (d === undefined) return text(res, 401, 'Unauthorized');
    d.counts.polls++;
    const body = JSON.stringify(this.stateOf(d));
    if (sendUnlessMatched(req, res, body, weakEtag(body), 'application/json; charset=utf-8')) d.counts.notModified++;
  }

  /** Target state v3 of one device (open-balena-api state-get-v3.ts; balena-supervisor src/types/state.ts TargetState). */
  private stateOf(d: BalenaDevice): unknown {
    const fleet = this.state.fleet;
    const r = this.state.pinned;
    const releases: Record<string, unknown> = {};
    if (r !== undefined) {
      const services: Record<string, unknown> = {};
      for (const s of r.services) services[s.name] = { id: s.id, image_id: s.imageId, image: s.image.location, running: true, environment: {}, labels: { ...s.labels } };
      releases[r.commit] = { id: r.id, services, volumes: {}, networks: {} };
    }
    const config: Record<string, string> = {};
    if (this.state.pollIntervalMs !== undefined) config.BALENA_SUPERVISOR_POLL_INTERVAL = String(this.state.pollIntervalMs);
    return { [d.uuid]: { name: d.name, config, apps: { [fleet.uuid]: { id: fleet.id, name: fleet.name, class: 'fleet', releases } } } };
  }

  private patchState(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    // The API resolves the devices from the body's keys first: none, or an unknown one, is 401.
    const uuids = typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body).filter((k) => typeof (body as Record<string, unknown>)[k] === 'object' && (body as Record<string, unknown>)[k] !== null) : [];
    if (uuids.length === 0) return text(res, 401, 'Unauthorized');
    const devices: BalenaDevice[] = [];
    for (const uuid of uuids) {
      if (!this.state.devices.has(uuid)) return text(res, 401, 'Unauthorized');
      const d = this.deviceWithKey(req, uuid);
      if (d === undefined) return text(res, 401, 'Unauthorized');
      devices.push(d);
    }
    const problem = checkStatePatch(body);
    if (problem !== undefined) {
      for (const d of devices) d.counts.badRequests++;
      return text(res, 400, problem);
    }
    for (const d of devices) this.applyReport(d, (body as Record<string, Record<string, unknown>>)[d.uuid]);
    res.writeHead(200);
    res.end();
  }

  /** A checked report: device fields, the running release and each release's update_status. */
  private applyReport(d: BalenaDevice, report: Record<string, unknown>): void {
    d.counts.stateReports++;
    for (const [k, v] of Object.entries(report)) if (k !== 'apps') d.fields[k] = v;
    const app = (report.apps as Record<string, { release_uuid?: string; releases?: Record<string, { update_status?: string }> }> | undefined)?.[this.state.fleet.uuid];
    if (app === undefined) return;
    if (app.release_uuid !== undefined && this.state.releases.has(app.release_uuid)) d.runningCommit = app.release_uuid;
    for (const [commit, r] of Object.entries(app.releases ?? {})) {
      if (r.update_status === undefined) continue;
      d.releaseStatus.set(commit, r.update_status as never);
      d.counts.updateStatuses[r.update_status] = (d.counts.updateStatuses[r.update_status] ?? 0) + 1;
    }
  }

  private logs(req: IncomingMessage, res: ServerResponse, uuid: string): void {
    const known = this.state.devices.get(uuid);
    if (known === undefined) return drain(req, () => text(res, 401, 'Unauthorized'));
    const wait = this.logRate.consume(uuid);
    if (wait > 0) {
      known.counts.rateLimited++;
      return drain(req, () => {
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(Math.ceil(wait / 1000)) });
        res.end('Too Many Requests');
      });
    }
    const d = this.deviceWithKey(req, uuid);
    if (d === undefined) return drain(req, () => text(res, 401, 'Unauthorized'));
    readJson(req, res, d, (body) => {
      const checked = checkLogBatch(body);
      if (typeof checked === 'string') {
        d.counts.badRequests++;
        return text(res, 400, checked);
      }
      d.counts.logBatches++;
      d.counts.logLines += checked.lines;
      d.counts.suppressedNotices += checked.suppressedNotices;
      end(res, 201);
    });
  }

  private blob(req: IncomingMessage, res: ServerResponse, digest: string): void {
    const image = this.state.blobs.get(digest);
    if (image === undefined) return json(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
    const key = this.bearer(req);
    let device: BalenaDevice | undefined;
    for (const d of this.state.devices.values()) if (key !== undefined && d.apiKey === key) device = d;
    if (device === undefined) return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
    const { served, ranged } = serveBytes(req, res, image.bytes, { 'content-type': 'application/octet-stream', 'docker-content-digest': image.digest, etag: `"${image.digest}"` });
    device.counts.blobBytes += served;
    if (ranged) device.counts.rangeRequests++;
  }
}

/** Express's default ETag (the `etag` package): weak, body length in hex and the SHA-1 in base64. */
export function weakEtag(body: string): string {
  const len = Buffer.byteLength(body);
  return `W/"${len.toString(16)}-${createHash('sha1').update(body, 'utf8').digest('base64').slice(0, 27)}"`;
}

export { RELEASE_LABEL };

/** balena's API names the charset of its answers. */
const text = (res: ServerResponse, status: number, body: string): void => sendText(res, status, body, 'text/plain; charset=utf-8');
const json = (res: ServerResponse, status: number, body: unknown): void => sendJson(res, status, body, 'application/json; charset=utf-8');

/** Answers after the request body is read (a keep-alive connection stays usable). */
function drain(req: IncomingMessage, answer: () => void): void {
  req.resume();
  req.on('end', answer);
  req.on('error', () => {});
}

function readJson(req: IncomingMessage, res: ServerResponse, d: BalenaDevice | undefined, done: (body: unknown) => void): void {
  readCappedBody(
    req,
    res,
    MAX_BODY,
    (raw) => {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        if (d !== undefined) d.counts.badRequests++;
        return text(res, 400, 'Bad Request: body is not JSON');
      }
      done(body);
    },
    (r) => text(r, 413, 'Payload Too Large'),
  );
}
