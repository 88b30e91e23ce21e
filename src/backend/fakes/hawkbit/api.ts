import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCappedBody } from '../../http-body.js';
import { serveBytes } from '../serve-range.js';
import { isActive, maintenanceAt, type Action, type HawkbitState, type Target } from './state.js';
import { safeDecode, sendJson as send, sendUnlessMatched } from '../http-answers.js';

/**
 * The Direct Device Integration (DDI) API of the hawkBit fake, from hawkBit's
 * DdiRootControllerRestApi and DdiRootController (eclipse-hawkbit/hawkbit), its DDI model classes
 * (hawkbit-ddi-api json/model) and the DDI REST docs (eclipse.dev/hawkbit/rest-api/ddi/).
 * Base: `/{tenant}/controller/v1/{controllerId}`; auth: `Authorization: TargetToken <token>` or
 * `GatewayToken <token>` (docs/authentication.md). Statuses as the controller answers them:
 * 200, 304 (ETag on the base resource), 400 malformed, 401 no or wrong token, 404 unknown
 * target/action/artifact, 410 feedback for an action that is no longer active, 416 bad range.
 *
 * Concurrency: the fake's event loop only.
 */

export interface HawkbitApiOptions {
  tenant: string;
  /** Tenant-wide gateway token; undefined disables gateway auth. */
  gatewayToken?: string;
  /** Treat every controller id as registered with its derived token (HawkbitState.tokenFor). */
  preregistered: boolean;
  /** `config.polling.sleep` in seconds (hawkBit's default pollingTime is 00:05:00). */
  pollingSec: number;
  /** hawkBit's minPollingTime (default 00:00:30). */
  minPollingSec: number;
  /** Polls the device should make before a maintenance window opens (maintenanceWindowPollCount, default 3). */
  maintenancePollCount: number;
}

const EXECUTIONS = new Set(['closed', 'proceeding', 'canceled', 'scheduled', 'rejected', 'resumed', 'downloaded', 'download']);
const FINISHED = new Set(['success', 'failure', 'none']);
const MAX_BODY = 256 * 1024;

export class HawkbitApi {
  private readonly prefix: string;

  constructor(
    private readonly state: HawkbitState,
    private readonly opts: HawkbitApiOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.prefix = `/${opts.tenant}/controller/v1/`;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (!path.startsWith(this.prefix)) return send(res, 404, { message: 'no such path' });
    const parts = path.slice(this.prefix.length).split('/').map(safeDecode);
    const controllerId = parts[0];
    if (!controllerId) return send(res, 404, { message: 'no such path' });
    const target = this.authenticate(req, controllerId, parts.length === 1);
    if (target === undefined) return send(res, 401, { message: 'unauthorized' });
    const method = req.method ?? 'GET';
    const [, a, b, c, d] = parts;
    if (parts.length === 1 && method === 'GET') return this.base(req, res, target);
    if (a === 'deploymentBase' && b !== undefined && c === undefined && method === 'GET') return this.deploymentBase(req, res, target, b);
    if (a === 'deploymentBase' && b !== undefined && c === 'feedback' && method === 'POST') return readJson(req, res, target, (doc) => this.feedback(res, target, b, doc, false));
    if (a === 'cancelAction' && b !== undefined && c === undefined && method === 'GET') return this.cancelAction(res, target, b);
    if (a === 'cancelAction' && b !== undefined && c === 'feedback' && method === 'POST') return readJson(req, res, target, (doc) => this.feedback(res, target, b, doc, true));
    if (a === 'configData' && b === undefined && method === 'PUT') return readJson(req, res, target, (doc) => this.configData(res, target, doc));
    if (a === 'installedBase' && b !== undefined && method === 'GET') return this.installedBase(req, res, target, b);
    if (a === 'softwaremodules' && b !== undefined && c === 'artifacts' && d !== undefined && method === 'GET') return this.download(req, res, target, Number(b), d);
    send(res, 404, { message: 'no such path' });
  };

  /** The target the request may act for: its own TargetToken, or the tenant's GatewayToken (which registers unknown targets on a poll). */
  private authenticate(req: IncomingMessage, controllerId: string, isPoll: boolean): Target | undefined {
    const h = req.headers.authorization ?? '';
    const sp = h.indexOf(' ');
    const scheme = sp < 0 ? h : h.slice(0, sp);
    const token = sp < 0 ? '' : h.slice(sp + 1).trim();
    let t = this.state.targets.get(controllerId);
    if (scheme === 'GatewayToken' && this.opts.gatewayToken !== undefined && token === this.opts.gatewayToken) {
      if (t === undefined && isPoll) t = this.state.register(controllerId);
      return t;
    }
    if (scheme === 'TargetToken' && t === undefined && this.opts.preregistered && token === this.state.tokenFor(controllerId)) {
      // Every controller whose token derives from the fleet secret counts as created beforehand (the operator's bulk import).
      t = this.state.register(controllerId);
    }
    if (scheme === 'TargetToken' && t !== undefined && token === t.token) return t;
    if (t !== undefined) t.counts.unauthorized++;
    return undefined;
  }

  private base(req: IncomingMessage, res: ServerResponse, t: Target): void {
    t.counts.polls++;
    const origin = `http://${req.headers.host ?? 'localhost'}${this.prefix}${encodeURIComponent(t.controllerId)}`;
    const action = this.state.activeActionOf(t.controllerId);
    const links: Record<string, { href: string }> = {};
    if (action !== undefined) {
      if (action.status === 'canceling') links.cancelAction = { href: `${origin}/cancelAction/${action.id}` };
      else links.deploymentBase = { href: `${origin}/deploymentBase/${action.id}?c=${this.resourceHash(action)}` };
    }
    if (t.installed !== undefined) links.installedBase = { href: `${origin}/installedBase/${t.installed.id}` };
    if (t.requestAttributes) links.configData = { href: `${origin}/configData` };
    const body = JSON.stringify({ config: { polling: { sleep: hhmmss(this.sleepSec(action)) } }, _links: links });
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    if (sendUnlessMatched(req, res, body, etag, 'application/hal+json')) t.counts.notModified++;
  }

  /** The polling time, shortened before a maintenance window opens so the device is there when it does. */
  private sleepSec(action: Action | undefined): number {
    const polling = Math.max(this.opts.minPollingSec, this.opts.pollingSec);
    if (action?.maintenance === undefined) return polling;
    const w = maintenanceAt(action.maintenance, this.now());
    if (w.open) return polling;
    return Math.min(polling, Math.max(this.opts.minPollingSec, Math.floor(w.untilOpenMs / 1000 / this.opts.maintenancePollCount)));
  }

  private resourceHash(a: Action): number {
    const open = a.maintenance === undefined ? 1 : maintenanceAt(a.maintenance, this.now()).open ? 1 : 0;
    return (a.id * 31 + a.revision) * 2 + open;
  }

  private actionOf(t: Target, idText: string): Action | undefined {
    const a = /^\d+$/.test(idText) ? this.state.actions.get(Number(idText)) : undefined;
    return a !== undefined && a.controllerId === t.controllerId ? a : undefined;
  }

  private deploymentBase(req: IncomingMessage, res: ServerResponse, t: Target, idText: string): void {
    const a = this.actionOf(t, idText);
    if (a === undefined || a.status === 'canceling' || a.status === 'canceled') return send(res, 404, { message: 'action not found' });
    t.counts.deploymentBaseReads++;
    res.writeHead(200, { 'content-type': 'application/hal+json' });
    res.end(JSON.stringify(this.deploymentOf(req, t, a)));
  }

  private installedBase(req: IncomingMessage, res: ServerResponse, t: Target, idText: string): void {
    const a = this.actionOf(t, idText);
    if (a === undefined || isActive(a) || a.status === 'canceled') return send(res, 404, { message: 'action not found' });
    res.writeHead(200, { 'content-type': 'application/hal+json' });
    res.end(JSON.stringify(this.deploymentOf(req, t, a)));
  }

  private deploymentOf(req: IncomingMessage, t: Target, a: Action): unknown {
    const origin = `http://${req.headers.host ?? 'localhost'}${this.prefix}${encodeURIComponent(t.controllerId)}`;
    const download = a.type === 'soft' ? 'attempt' : 'forced';
    let update: string = a.type === 'downloadonly' ? 'skip' : download;
    let maintenanceWindow: string | undefined;
    if (a.maintenance !== undefined) {
      const open = maintenanceAt(a.maintenance, this.now()).open;
      maintenanceWindow = open ? 'available' : 'unavailable';
      if (!open) update = 'skip';
    }
    const chunks = a.ds.modules.map((m) => ({
      part: m.part,
      version: m.version,
      name: m.name,
      artifacts: m.artifacts.map((f) => {
        const href = `${origin}/softwaremodules/${m.id}/artifacts/${encodeURIComponent(f.filename)}`;
        return {
          filename: f.filename,
          hashes: { sha1: f.sha1, md5: f.md5, sha256: f.sha256 },
          size: f.bytes.length,
          _links: { download: { href }, 'download-http': { href }, md5sum: { href: `${href}.MD5SUM` }, 'md5sum-http': { href: `${href}.MD5SUM` } },
        };
      }),
    }));
    return { id: String(a.id), deployment: { download, update, ...(maintenanceWindow ? { maintenanceWindow } : {}), chunks } };
  }

  private feedback(res: ServerResponse, t: Target, idText: string, doc: Record<string, unknown>, forCancel: boolean): void {
    const status = doc.status as { execution?: unknown; result?: { finished?: unknown }; details?: unknown; code?: unknown } | undefined;
    if (typeof status !== 'object' || status === null || typeof status.execution !== 'string' || !EXECUTIONS.has(status.execution)) return bad(res, t, 'status.execution must be one of ' + [...EXECUTIONS].join(', '));
    if (typeof status.result !== 'object' || status.result === null || typeof status.result.finished !== 'string' || !FINISHED.has(status.result.finished)) return bad(res, t, 'status.result.finished must be success, failure or none');
    if (status.details !== undefined && !(Array.isArray(status.details) && status.details.every((x) => typeof x === 'string'))) return bad(res, t, 'status.details must be an array of strings');
    if (doc.timestamp !== undefined && typeof doc.timestamp !== 'number') return bad(res, t, 'timestamp must be epoch milliseconds');
    const a = this.actionOf(t, idText);
    if (a === undefined) return send(res, 404, { message: 'action not found' });
    const exec = status.execution;
    const finished = status.result.finished;
    if (forCancel) {
      t.counts.cancelFeedback++;
      if (!this.state.addStatus(a)) return send(res, 403, { message: 'quota exceeded: status entries per action' });
      if ((exec === 'closed' && finished !== 'failure') || exec === 'canceled') this.state.close(a, 'canceled');
      else if (exec === 'rejected' || (exec === 'closed' && finished === 'failure')) a.status = 'running';
      res.writeHead(200);
      res.end();
      return;
    }
    if (!isActive(a)) {
      // hawkBit: "Updating action … not possible since action not active anymore" → 410.
      t.counts.gone++;
      return send(res, 410, { message: 'action not active anymore' });
    }
    if (!this.state.addStatus(a)) return send(res, 403, { message: 'quota exceeded: status entries per action' });
    t.counts.feedback[exec] = (t.counts.feedback[exec] ?? 0) + 1;
    if (exec === 'closed') this.state.close(a, finished === 'failure' ? 'error' : 'finished');
    else if (exec === 'downloaded') a.status = 'downloaded';
    res.writeHead(200);
    res.end();
  }

  private cancelAction(res: ServerResponse, t: Target, idText: string): void {
    const a = this.actionOf(t, idText);
    if (a === undefined || (a.status !== 'canceling' && a.status !== 'canceled')) return send(res, 404, { message: 'action not found' });
    send(res, 200, { id: String(a.id), cancelAction: { stopId: String(a.id) } });
  }

  private configData(res: ServerResponse, t: Target, doc: Record<string, unknown>): void {
    const data = doc.data;
    const mode = doc.mode ?? 'merge';
    if (typeof data !== 'object' || data === null || Array.isArray(data) || !Object.values(data).every((v) => typeof v === 'string')) return bad(res, t, 'data must be an object of string values');
    if (mode !== 'merge' && mode !== 'replace' && mode !== 'remove') return bad(res, t, 'mode must be merge, replace or remove');
    const values = data as Record<string, string>;
    if (mode === 'replace') t.attributes = { ...values };
    else if (mode === 'remove') for (const k of Object.keys(values)) delete t.attributes[k];
    else Object.assign(t.attributes, values);
    t.requestAttributes = false;
    t.counts.configData++;
    res.writeHead(200);
    res.end();
  }

  private download(req: IncomingMessage, res: ServerResponse, t: Target, moduleId: number, filename: string): void {
    const md5 = filename.endsWith('.MD5SUM');
    const name = md5 ? filename.slice(0, -'.MD5SUM'.length) : filename;
    let artifact;
    for (const ds of this.state.sets.values()) for (const m of ds.modules) if (m.id === moduleId) artifact = m.artifacts.find((f) => f.filename === name);
    if (artifact === undefined) return send(res, 404, { message: 'artifact not found' });
    if (md5) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${artifact.md5}  ${artifact.filename}\n`);
      return;
    }
    const { served, ranged } = serveBytes(req, res, artifact.bytes, { 'content-type': 'application/octet-stream', etag: `"${artifact.sha1}"` });
    t.counts.artifactBytes += served;
    if (ranged) t.counts.rangeRequests++;
  }
}

/** Seconds as hawkBit's `HH:mm:ss`. */
export function hhmmss(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

function bad(res: ServerResponse, t: Target, message: string): void {
  t.counts.badRequests++;
  send(res, 400, { errorCode: 'hawkbit.server.error.rest.body.notReadable', message });
}

function readJson(req: IncomingMessage, res: ServerResponse, t: Target, done: (doc: Record<string, unknown>) => void): void {
  readCappedBody(
    req,
    res,
    MAX_BODY,
    (raw) => {
      let doc: unknown;
      try {
        doc = JSON.parse(raw);
      } catch {
        return bad(res, t, 'body is not JSON');
      }
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return bad(res, t, 'body must be a JSON object');
      done(doc as Record<string, unknown>);
    },
    (r) => send(r, 413, { message: 'body too large' }),
  );
}
