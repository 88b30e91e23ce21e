import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AUTH_SCHEME,
  HTTP_PATHS,
  type ProvisionResponse,
  type StateReport,
} from '../wire/reference-protocol.js';
import { DeviceStore } from './store.js';
import type { Faults } from './faults.js';
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

/** Largest request body of a device route, bytes; a larger one is refused with 413 (both front ends). */
export const MAX_BODY_BYTES = 64 * 1024;
/** The health route's answer. */
export const HEALTHY = '{"ok":true}';
const DEVICES_PREFIX = '/v1/devices/';
const AUTH_PREFIX = AUTH_SCHEME + ' ';

/** The device routes: the ones a fleet calls per device, served by both front ends. */
export type DeviceRoute = 'provision' | 'target' | 'state';

/**
 * Where a device route's answer goes: Node's ServerResponse (`HttpApi.handle`) or a connection of
 * the lean front (http-front.ts). Exactly one of `json` or `empty` is called per request, once.
 */
export interface DeviceAnswer {
  /** A JSON body with its content type and length; `extra`: more header name/value pairs, flat. */
  json(status: number, body: string, extra?: readonly string[]): void;
  /** An answer without a body (204, 304); `extra` as for json. */
  empty(status: number, extra?: readonly string[]): void;
  /** The answer will come later (an injected delay): the connection must keep later answers behind it. */
  hold(): void;
  /** True once the connection is gone: a delayed answer then goes nowhere. */
  readonly gone: boolean;
}

/** The one method each route of this API answers (any other gets 405 naming it). */
export const ROUTE_METHOD = { provision: 'POST', target: 'GET', state: 'PUT', health: 'GET', stats: 'GET' } as const;

export type Route =
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
    const allowed = ROUTE_METHOD[route.kind];
    if ((req.method ?? 'GET') !== allowed) return methodNotAllowed(res, allowed);

    switch (route.kind) {
      case 'health':
        return send(res, 200, HEALTHY);
      case 'stats':
        return this.stats(res, new URLSearchParams(query));
      case 'provision':
        return readCappedBody(req, res, MAX_BODY_BYTES, (body) => this.serve('provision', new NodeAnswer(res), '', undefined, undefined, body));
      case 'target':
        return this.serve(route.kind, new NodeAnswer(res), route.deviceId, req.headers.authorization, req.headers['if-none-match'], '');
      case 'state':
        return readCappedBody(req, res, MAX_BODY_BYTES, (body) => this.serve(route.kind, new NodeAnswer(res), route.deviceId, req.headers.authorization, undefined, body));
    }
  };

  close(): void {
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
  }

  /**
   * Serves one request of a device route whose body (if any) was read whole: the injected fault
   * first (faults.ts), then the route. `authorization` and `ifNoneMatch` are the request's headers
   * of those names. Both front ends call it: Node's http.Server (`handle`) and the lean front
   * (http-front.ts), so a request gets the same answer whichever served it.
   */
  serve(route: DeviceRoute, answer: DeviceAnswer, deviceId: string, authorization: string | undefined, ifNoneMatch: string | undefined, body: string): void {
    const rule = this.faults.take(route);
    if (rule === undefined) return this.route(route, answer, deviceId, authorization, ifNoneMatch, body);
    const respond = (): void => {
      if (rule.status === undefined) return this.route(route, answer, deviceId, authorization, ifNoneMatch, body);
      answer.json(rule.status, `{"error":"injected fault ${rule.status}"}`, rule.retryAfter === undefined ? undefined : ['retry-after', String(rule.retryAfter)]);
    };
    if (!rule.delayMs) return respond();
    answer.hold();
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      if (!answer.gone) respond();
    }, rule.delayMs);
    this.delayed.add(timer);
  }

  private route(route: DeviceRoute, answer: DeviceAnswer, deviceId: string, authorization: string | undefined, ifNoneMatch: string | undefined, body: string): void {
    if (route === 'provision') return this.provision(answer, body);
    if (route === 'target') return this.target(answer, deviceId, authorization, ifNoneMatch);
    return this.state(answer, deviceId, authorization, body);
  }

  private provision(answer: DeviceAnswer, body: string): void {
    const doc = parseJsonObject(body);
    if (doc === undefined) return answer.json(400, '{"error":"body must be a JSON object {serial, fleetKey}"}');
    if (typeof doc.fleetKey !== 'string' || doc.fleetKey !== this.store.fleetKey) {
      return answer.json(401, '{"error":"wrong fleet key"}');
    }
    if (!DeviceStore.isValidSerial(doc.serial)) {
      return answer.json(400, '{"error":"serial must be 1-128 characters of A-Z a-z 0-9 . _ -"}');
    }
    if (!this.ops.admitProvision(doc.serial)) {
      // Manual provisioning: the device waits for an operator's approval and asks again.
      return answer.json(202, '{"pending":true}', ['retry-after', '1']);
    }
    const rec = this.store.provision(doc.serial);
    this.ops.campaigns.onProvisioned(rec);
    const provisioned: ProvisionResponse = { deviceId: rec.id, deviceKey: rec.key };
    answer.json(201, JSON.stringify(provisioned));
  }

  private target(answer: DeviceAnswer, deviceId: string, authorization: string | undefined, ifNoneMatch: string | undefined): void {
    if (this.store.get(deviceId) === undefined) return answer.json(404, '{"error":"unknown device"}');
    const rec = this.store.authenticate(deviceId, deviceKeyOf(authorization));
    if (rec === undefined) return answer.json(401, '{"error":"wrong device key"}');
    rec.polls++;
    const base = this.store.targetFor(rec);
    // The ETag covers the configuration version and the update offer too, so either change answers 200.
    const cfg = this.ops.configState();
    const campaign = this.ops.campaigns.offerFor(rec, epochNow());
    const etag = `${base.etag.slice(0, -1)}-c${cfg.version}-${campaign?.id ?? 'none'}"`;
    if (ifNoneMatch === etag) return answer.empty(304, ['etag', etag]);
    const target = {
      ...base,
      config: { ...base.config, ...cfg.config },
      etag,
      configVersion: cfg.version,
      configIssuedAt: cfg.issuedAt,
      ...(campaign ? { update: campaign.offer } : {}),
    };
    answer.json(200, JSON.stringify(target), ['etag', etag]);
  }

  private state(answer: DeviceAnswer, deviceId: string, authorization: string | undefined, body: string): void {
    if (this.store.get(deviceId) === undefined) return answer.json(404, '{"error":"unknown device"}');
    const rec = this.store.authenticate(deviceId, deviceKeyOf(authorization));
    if (rec === undefined) return answer.json(401, '{"error":"wrong device key"}');
    const doc = parseJsonObject(body) as Partial<StateReport> | undefined;
    if (doc === undefined || typeof doc.release !== 'string' || typeof doc.status !== 'string') {
      return answer.json(400, '{"error":"body must be a JSON object {release, status}"}');
    }
    const d = doc as Partial<StateReport> & { campaign?: unknown; cause?: unknown };
    this.ops.onStateReport(rec, doc.release, doc.status, typeof d.campaign === 'string' ? d.campaign : undefined, typeof d.cause === 'string' ? d.cause : undefined);
    rec.release = doc.release;
    rec.status = doc.status;
    rec.stateReports++;
    answer.empty(204);
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

/** A device answer through Node's ServerResponse. */
class NodeAnswer implements DeviceAnswer {
  constructor(private readonly res: ServerResponse) {}
  json(status: number, body: string, extra?: readonly string[]): void {
    answerJson(this.res, status, body, extra);
  }
  empty(status: number, extra?: readonly string[]): void {
    this.res.writeHead(status, extra === undefined ? undefined : [...extra]);
    this.res.end();
  }
  hold(): void {}
  get gone(): boolean {
    return this.res.destroyed;
  }
}

/** Which route a request path is (undefined: not a device route of this API). */
export function parseRoute(path: string): Route {
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

function deviceKeyOf(authorization: string | undefined): string | undefined {
  return authorization !== undefined && authorization.startsWith(AUTH_PREFIX) ? authorization.slice(AUTH_PREFIX.length).trim() : undefined;
}


const send = answerJson;
