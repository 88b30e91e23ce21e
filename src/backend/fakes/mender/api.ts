import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveBytes } from '../serve-range.js';
import { checkAuthRequest, type TokenIssuer } from './auth.js';
import { DEVICE_STATUSES, INVENTORY_SEQ, type MenderDevice, type MenderState } from './state.js';
import { parseJson } from '../../../wire/answer-shapes.js';

/**
 * The device-facing HTTP API of the Mender fake. Routes, bodies and answers follow the device
 * APIs of deviceauth, inventory and deployments (their docs/devices_api.yml, published at
 * docs.mender.io/api) and what Mender client 3.4 sends (mendersoftware/mender tag 3.4.0, client/).
 * Every malformed request is answered 400 with the platform's `{"error", "request_id"}` shape.
 *
 * Concurrency: the fake's event loop only; bodies are small JSON collected in memory.
 */

const DEV = '/api/devices/';
const MAX_BODY = 1024 * 1024;
const DEPLOY_PREFIX = '/api/devices/v1/deployments/device/deployments/';
export const ARTIFACT_PREFIX = '/api/devices/v1/deployments/download/artifacts/';

export interface MenderApiOptions {
  tokenTtlSec: number;
  /** How long an artifact link stays valid (the platform's default is 24 h). */
  linkTtlSec: number;
}

let requestSeq = 0;

export class MenderApi {
  constructor(
    private readonly state: MenderState,
    private readonly tokens: TokenIssuer,
    private readonly linkSecret: Buffer,
    private readonly opts: MenderApiOptions,
    private readonly now: () => number = Date.now,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const method = req.method ?? 'GET';
    if (!path.startsWith(DEV)) return error(res, 404, 'no such path');
    if (path.startsWith(ARTIFACT_PREFIX)) {
      if (method !== 'GET') return error(res, 405, 'method not allowed');
      return this.download(req, res, path.slice(ARTIFACT_PREFIX.length), query);
    }
    readBody(req, res, (body) => this.route(req, res, method, path, query, body));
  };

  private route(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: URLSearchParams, body: Buffer): void {
    if (path === '/api/devices/v1/authentication/auth_requests') {
      if (method !== 'POST') return error(res, 405, 'method not allowed');
      return this.authenticate(req, res, body);
    }
    const device = this.deviceOf(req);
    if (device === undefined) return error(res, 401, 'Unauthorized');
    if (path === '/api/devices/v1/inventory/device/attributes') {
      if (method !== 'PUT' && method !== 'PATCH') return error(res, 405, 'method not allowed');
      return this.inventory(res, device, method, body);
    }
    if (path === '/api/devices/v1/deployments/device/deployments/next' || path === '/api/devices/v2/deployments/device/deployments/next') {
      return this.next(res, device, method, path.includes('/v2/'), query, body);
    }
    if (path.startsWith(DEPLOY_PREFIX)) {
      const rest = path.slice(DEPLOY_PREFIX.length);
      const slash = rest.indexOf('/');
      const id = slash < 0 ? rest : rest.slice(0, slash);
      const tail = slash < 0 ? '' : rest.slice(slash + 1);
      if (method === 'PUT' && tail === 'status') return this.status(res, device, id, body);
      if (method === 'PUT' && tail === 'log') return this.log(res, device, id, body);
    }
    error(res, 404, 'no such path');
  }

  private authenticate(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const check = checkAuthRequest(body, header(req, 'x-men-signature'));
    if (!check.ok) return error(res, check.status, check.error);
    const now = this.now();
    const d = this.state.deviceFor(check.idData, check.pubkeyPem, now);
    d.counts.authRequests++;
    if (d.status !== 'accepted') {
      d.counts.pendingAnswers++;
      return error(res, 401, 'dev auth: unauthorized');
    }
    d.counts.tokens++;
    res.writeHead(200, { 'content-type': 'application/jwt' });
    res.end(this.tokens.issue(d.id, now, this.opts.tokenTtlSec));
  }

  private deviceOf(req: IncomingMessage): MenderDevice | undefined {
    const h = header(req, 'authorization');
    if (h === undefined || !h.startsWith('Bearer ')) return undefined;
    const id = this.tokens.subject(h.slice(7).trim(), this.now());
    const d = id === undefined ? undefined : this.state.devices.get(id);
    if (d === undefined || d.status !== 'accepted') return undefined;
    return d;
  }

  private inventory(res: ServerResponse, d: MenderDevice, method: string, body: Buffer): void {
    const doc = parseJson(body.toString('utf8'));
    const attrs = Array.isArray(doc) ? doc : undefined;
    if (attrs === undefined || attrs.length === 0) return bad(res, d, 'failed to decode request body: expected a non-empty array of attributes');
    for (const a of attrs) {
      if (typeof a !== 'object' || a === null || typeof (a as { name?: unknown }).name !== 'string' || (a as { name: string }).name === '') return bad(res, d, 'attribute name must be a non-empty string');
      if (!validValue((a as { value?: unknown }).value)) return bad(res, d, `attribute ${(a as { name: string }).name}: value must be a string, a number or an array of them`);
    }
    if (method === 'PUT') d.inventory.clear();
    for (const a of attrs as Array<{ name: string; value: unknown }>) {
      d.inventory.set(a.name, a.value);
      if (a.name === INVENTORY_SEQ && typeof a.value === 'number') d.seq.record(a.value);
    }
    d.counts.inventoryUpdates++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end();
  }

  private next(res: ServerResponse, d: MenderDevice, method: string, v2: boolean, query: URLSearchParams, body: Buffer): void {
    let artifactName: unknown;
    let deviceType: unknown;
    if (method === 'GET' && !v2) {
      artifactName = query.get('artifact_name') ?? undefined;
      deviceType = query.get('device_type') ?? undefined;
    } else if (method === 'POST') {
      const doc = parseJson(body.toString('utf8')) as Record<string, unknown> | undefined;
      const provides = (v2 ? doc?.device_provides : doc) as Record<string, unknown> | undefined;
      artifactName = provides?.artifact_name;
      deviceType = provides?.device_type;
    } else return error(res, 405, 'method not allowed');
    if (typeof artifactName !== 'string' || artifactName === '') return bad(res, d, 'missing required parameter: artifact_name');
    if (typeof deviceType !== 'string' || deviceType === '') return bad(res, d, 'missing required parameter: device_type');
    d.counts.polls++;
    const found = this.state.nextFor(d, artifactName, deviceType);
    if (found === undefined) {
      res.writeHead(204);
      res.end();
      return;
    }
    const expireMs = this.now() + this.opts.linkTtlSec * 1000;
    const expire = new Date(expireMs).toISOString();
    const sig = this.linkSignature(found.artifact.id, d.id, expire);
    const uri = `${ARTIFACT_PREFIX}${found.artifact.id}?x-men-expire=${encodeURIComponent(expire)}&device_id=${d.id}&x-men-signature=${sig}`;
    const answer = {
      id: found.dep.id,
      artifact: { id: found.artifact.id, artifact_name: found.artifact.name, source: { uri: `${this.origin(res)}${uri}`, expire }, device_types_compatible: found.artifact.deviceTypes },
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  }

  private status(res: ServerResponse, d: MenderDevice, id: string, body: Buffer): void {
    const doc = parseJson(body.toString('utf8')) as { status?: unknown; substate?: unknown } | undefined;
    if (doc === undefined || typeof doc !== 'object' || typeof doc.status !== 'string' || !DEVICE_STATUSES.has(doc.status)) return bad(res, d, 'status: must be a valid deployment status');
    if (doc.substate !== undefined && typeof doc.substate !== 'string') return bad(res, d, 'substate: must be a string');
    const r = this.state.report(d, id, doc.status);
    if (r === 'unknown') return error(res, 404, 'Deployment not found');
    if (r === 'aborted') return error(res, 409, 'Deployment aborted');
    res.writeHead(204);
    res.end();
  }

  private log(res: ServerResponse, d: MenderDevice, id: string, body: Buffer): void {
    const doc = parseJson(body.toString('utf8')) as { messages?: unknown } | undefined;
    const msgs = doc?.messages;
    if (!Array.isArray(msgs) || msgs.length === 0) return bad(res, d, 'Invalid deployment log: messages must be a non-empty array');
    for (const m of msgs as Array<Record<string, unknown>>) {
      if (typeof m !== 'object' || m === null || typeof m.timestamp !== 'string' || Number.isNaN(Date.parse(m.timestamp)) || typeof m.level !== 'string' || typeof m.message !== 'string') {
        return bad(res, d, 'Invalid deployment log: each message needs timestamp (date-time), level and message');
      }
    }
    const dd = d.deployments.get(id);
    if (dd === undefined) return error(res, 404, 'Deployment not found');
    dd.log = msgs as Array<{ timestamp: string; level: string; message: string }>;
    d.counts.logUploads++;
    res.writeHead(204);
    res.end();
  }

  private download(req: IncomingMessage, res: ServerResponse, artifactId: string, query: URLSearchParams): void {
    const a = this.state.artifacts.get(decodeURIComponent(artifactId));
    const expire = query.get('x-men-expire');
    const deviceId = query.get('device_id');
    const sig = query.get('x-men-signature');
    if (a === undefined || expire === null || deviceId === null || sig === null) return error(res, 400, 'invalid download link');
    const want = Buffer.from(this.linkSignature(a.id, deviceId, expire));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got) || Date.parse(expire) < this.now()) return error(res, 403, 'The download link has expired or the signature is invalid');
    this.state.artifactRequests++;
    const { served } = serveBytes(req, res, a.bytes, { 'content-type': 'application/vnd.mender-artifact' });
    const dev = this.state.devices.get(deviceId);
    if (dev !== undefined) dev.counts.artifactBytes += served;
  }

  private linkSignature(artifactId: string, deviceId: string, expire: string): string {
    return createHmac('sha256', this.linkSecret).update(`${artifactId}\n${deviceId}\n${expire}`).digest('base64url');
  }

  /** The origin the device reached us on, for the absolute artifact URI the platform hands out. */
  private origin(res: ServerResponse): string {
    const req = res.req;
    const host = req?.headers.host ?? 'localhost';
    return `http://${host}`;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function validValue(v: unknown): boolean {
  const scalar = (x: unknown): boolean => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));
  return scalar(v) || (Array.isArray(v) && v.length > 0 && v.every(scalar));
}


function bad(res: ServerResponse, d: MenderDevice, message: string): void {
  d.counts.badRequests++;
  error(res, 400, message);
}

function error(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-men-requestid': String(++requestSeq) });
  res.end(JSON.stringify({ error: message, request_id: String(requestSeq) }));
}

function readBody(req: IncomingMessage, res: ServerResponse, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (c: Buffer) => {
    if (tooLarge) return;
    size += c.length;
    if (size > MAX_BODY) {
      tooLarge = true;
      error(res, 413, 'request body too large');
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (!tooLarge) done(Buffer.concat(chunks, size));
  });
  req.on('error', () => {});
}
