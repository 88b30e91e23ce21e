import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AUTH_SCHEME,
  HTTP_PATHS,
  type ProvisionResponse,
  type StateReport,
} from '../wire/reference-protocol.js';
import { DeviceStore } from './store.js';
import type { FaultRoute, Faults } from './faults.js';
import { FleetOpsApi } from './fleet-ops-api.js';
import { readCappedBody } from './http-body.js';
import { answerJson, methodNotAllowed } from './json-answer.js';
import { epochNow, type FleetOps } from './fleet-ops.js';
import { parseJsonObject } from '../wire/answer-shapes.js';

/**
 * The embedded backend's HTTP fleet API (see wire/reference-protocol.ts for the contract):
 * provisioning, target-state polling with ETags, state reports, device stats and health.
 *
 * Concurrency: one instance per backend, called from the event loop only. Request bodies are
 * small JSON documents collected in memory (capped at MAX_BODY_BYTES: larger ones get 413 and the
 * connection closes, see http-body.ts).
 */

const MAX_BODY_BYTES = 64 * 1024;
const DEVICES_PREFIX = '/v1/devices/';
const AUTH_PREFIX = AUTH_SCHEME + ' ';

type Route =
  | { kind: 'provision' | 'health' | 'stats' }
  | { kind: 'target' | 'state'; deviceId: string }
  | { kind: 'bad-id' }
  | undefined;

export class HttpApi {
  /** Timers of delayed (faulted) answers, cleared on close so they cannot hold the process open. */
  private readonly delayed = new Set<NodeJS.Timeout>();

  private readonly fleetApi: FleetOpsApi;

  constructor(
    private readonly store: DeviceStore,
    private readonly faults: Faults,
    private readonly ops: FleetOps,
  ) {
    this.fleetApi = new FleetOpsApi(ops, store, faults);
  }

  /** The `request` listener of the backend's http.Server. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const route = parseRoute(path);
    if (route === undefined) {
      if (this.fleetApi.handle(req, res, path, query)) return;
      return send(res, 404, '{"error":"no such path"}');
    }
    if (route.kind === 'bad-id') return send(res, 400, '{"error":"malformed device id"}');
    const method = req.method ?? 'GET';

    switch (route.kind) {
      case 'health':
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return send(res, 200, '{"ok":true}');
      case 'stats':
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return this.stats(res, new URLSearchParams(query));
      case 'provision':
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        return this.withFault('provision', res, () => readCappedBody(req, res, MAX_BODY_BYTES, (body) => this.provision(res, body)));
      case 'target':
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return this.withFault('target', res, () => this.target(req, res, route.deviceId));
      case 'state':
        if (method !== 'PUT') return methodNotAllowed(res, 'PUT');
        return this.withFault('state', res, () => readCappedBody(req, res, MAX_BODY_BYTES, (body) => this.state(req, res, route.deviceId, body)));
    }
  };

  close(): void {
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
  }

  private withFault(route: FaultRoute, res: ServerResponse, serve: () => void): void {
    const rule = this.faults.take(route);
    if (rule === undefined) return serve();
    const answer = (): void => {
      if (rule.status === undefined) return serve();
      answerJson(res, rule.status, `{"error":"injected fault ${rule.status}"}`, rule.retryAfter === undefined ? undefined : ['retry-after', String(rule.retryAfter)]);
    };
    if (!rule.delayMs) return answer();
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      if (!res.destroyed) answer();
    }, rule.delayMs);
    this.delayed.add(timer);
  }

  private provision(res: ServerResponse, body: string): void {
    const doc = parseJsonObject(body);
    if (doc === undefined) return send(res, 400, '{"error":"body must be a JSON object {serial, fleetKey}"}');
    if (typeof doc.fleetKey !== 'string' || doc.fleetKey !== this.store.fleetKey) {
      return send(res, 401, '{"error":"wrong fleet key"}');
    }
    if (!DeviceStore.isValidSerial(doc.serial)) {
      return send(res, 400, '{"error":"serial must be 1-128 characters of A-Z a-z 0-9 . _ -"}');
    }
    if (!this.ops.admitProvision(doc.serial)) {
      // Manual provisioning: the device waits for an operator's approval and asks again.
      return answerJson(res, 202, '{"pending":true}', ['retry-after', '1']);
    }
    const rec = this.store.provision(doc.serial);
    this.ops.campaigns.onProvisioned(rec);
    const answer: ProvisionResponse = { deviceId: rec.id, deviceKey: rec.key };
    send(res, 201, JSON.stringify(answer));
  }

  private target(req: IncomingMessage, res: ServerResponse, deviceId: string): void {
    if (this.store.get(deviceId) === undefined) return send(res, 404, '{"error":"unknown device"}');
    const rec = this.store.authenticate(deviceId, deviceKeyOf(req));
    if (rec === undefined) return send(res, 401, '{"error":"wrong device key"}');
    rec.polls++;
    const base = this.store.targetFor(rec);
    // The ETag covers the configuration version and the update offer too, so either change answers 200.
    const cfg = this.ops.configState();
    const campaign = this.ops.campaigns.offerFor(rec, epochNow());
    const etag = `${base.etag.slice(0, -1)}-c${cfg.version}-${campaign?.id ?? 'none'}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    const target = {
      ...base,
      config: { ...base.config, ...cfg.config },
      etag,
      configVersion: cfg.version,
      configIssuedAt: cfg.issuedAt,
      ...(campaign ? { update: campaign.offer } : {}),
    };
    answerJson(res, 200, JSON.stringify(target), ['etag', etag]);
  }

  private state(req: IncomingMessage, res: ServerResponse, deviceId: string, body: string): void {
    if (this.store.get(deviceId) === undefined) return send(res, 404, '{"error":"unknown device"}');
    const rec = this.store.authenticate(deviceId, deviceKeyOf(req));
    if (rec === undefined) return send(res, 401, '{"error":"wrong device key"}');
    const doc = parseJsonObject(body) as Partial<StateReport> | undefined;
    if (doc === undefined || typeof doc.release !== 'string' || typeof doc.status !== 'string') {
      return send(res, 400, '{"error":"body must be a JSON object {release, status}"}');
    }
    const d = doc as Partial<StateReport> & { campaign?: unknown; cause?: unknown };
    this.ops.onStateReport(rec, doc.release, doc.status, typeof d.campaign === 'string' ? d.campaign : undefined, typeof d.cause === 'string' ? d.cause : undefined);
    rec.release = doc.release;
    rec.status = doc.status;
    rec.stateReports++;
    res.writeHead(204);
    res.end();
  }

  private stats(res: ServerResponse, query: URLSearchParams): void {
    const device = query.get('device');
    if (device !== null) {
      const counts = this.store.countsFor(device);
      if (counts === undefined) return send(res, 404, '{"error":"unknown device"}');
      const { provisions, polls, received, duplicates, gaps } = counts;
      return send(res, 200, JSON.stringify({ devices: [counts], totals: { received, duplicates, gaps, provisions, polls, devices: 1 } }));
    }
    const summaryOnly = query.get('summary') === '1';
    send(res, 200, JSON.stringify(this.store.stats(!summaryOnly)));
  }
}

function parseRoute(path: string): Route {
  switch (path) {
    case HTTP_PATHS.provision:
      return { kind: 'provision' };
    case HTTP_PATHS.health:
      return { kind: 'health' };
    case HTTP_PATHS.deviceStats:
      return { kind: 'stats' };
  }
  if (!path.startsWith(DEVICES_PREFIX)) return undefined;
  const slash = path.indexOf('/', DEVICES_PREFIX.length);
  if (slash < 0) return undefined;
  const tail = path.slice(slash + 1);
  if (tail !== 'target' && tail !== 'state') return undefined;
  let deviceId: string;
  try {
    deviceId = decodeURIComponent(path.slice(DEVICES_PREFIX.length, slash));
  } catch {
    return { kind: 'bad-id' };
  }
  return { kind: tail, deviceId };
}

function deviceKeyOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h !== undefined && h.startsWith(AUTH_PREFIX) ? h.slice(AUTH_PREFIX.length).trim() : undefined;
}


const send = answerJson;
