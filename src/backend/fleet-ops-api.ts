import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUTH_SCHEME } from '../wire/reference-protocol.js';
import {
  FLEET_PATHS,
  OPERATOR_AUTH_SCHEME,
  type CampaignSpec,
  type CommandRequest,
  type ConfigPush,
  type ProvisioningPolicy,
  type ReleaseSpec,
} from '../wire/fleet-ops.js';
import { corruptDraw } from '../wire/rollout.js';
import { epochNow, type FleetOps } from './fleet-ops.js';
import type { DeviceStore } from './store.js';
import type { Faults } from './faults.js';
import { readCappedBody } from './http-body.js';
import { answerJson, methodNotAllowed } from './json-answer.js';

/**
 * HTTP routes of fleet operations (wire/fleet-ops.ts): artifact downloads for devices and the
 * operator API (releases, campaigns, config, commands, provisioning policy, stats). Request
 * validation is strict but minimal: this API is driven by fleetsim's operator or by tests.
 *
 * Concurrency: the backend's event loop only.
 */

const MAX_BODY = 256 * 1024;

export class FleetOpsApi {
  constructor(
    private readonly ops: FleetOps,
    private readonly store: DeviceStore,
    private readonly faults: Faults,
  ) {}

  /** Serves the request when its path is a fleet-ops route; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): boolean {
    const method = req.method ?? 'GET';
    if (path.startsWith(FLEET_PATHS.artifactPrefix)) {
      if (method !== 'GET' && method !== 'HEAD') {
        methodNotAllowed(res, 'GET, HEAD');
        return true;
      }
      this.artifact(req, res, path);
      return true;
    }
    const operatorRoute = this.operatorRoute(path, method);
    if (operatorRoute === undefined) return false;
    const auth = req.headers.authorization;
    if (auth !== `${OPERATOR_AUTH_SCHEME} ${this.store.fleetKey}`) {
      send(res, 401, { error: 'operator routes need Authorization: Operator <fleetKey>' });
      return true;
    }
    if (method === 'GET') {
      operatorRoute(new Reply(res), undefined, query);
      return true;
    }
    readJson(req, res, (body) => operatorRoute(new Reply(res), body, query));
    return true;
  }

  private operatorRoute(path: string, method: string): ((r: Reply, body: Record<string, unknown> | undefined, query: string) => void) | undefined {
    const ops = this.ops;
    if (path === FLEET_PATHS.releases && method === 'POST') {
      return (r, b) => {
        const rel = b as unknown as ReleaseSpec;
        if (typeof rel?.name !== 'string' || !(rel.size > 0) || !Array.isArray(rel.archs)) return r.bad('release needs name, size > 0 and archs');
        r.send(201, ops.artifacts.addRelease({ name: rel.name, target: rel.target === 'os' ? 'os' : 'app', size: rel.size, archs: rel.archs, ...(rel.delta ? { delta: rel.delta } : {}) }));
      };
    }
    if (path === FLEET_PATHS.campaigns && method === 'POST') {
      return (r, b) => {
        const spec = b as unknown as CampaignSpec;
        const release = typeof spec?.release === 'string' ? ops.artifacts.release(spec.release) : undefined;
        if (release === undefined || typeof spec.rollout !== 'object') return r.bad('campaign needs a known release and a rollout');
        const c = ops.campaigns.create({ ...spec, notify: spec.notify === 'poll' ? 'poll' : 'mqtt' }, release, epochNow());
        r.send(201, c.view(epochNow()));
      };
    }
    if (path.startsWith(FLEET_PATHS.campaigns + '/') && method === 'GET') {
      return (r) => {
        const c = ops.campaigns.get(decodeURIComponent(path.slice(FLEET_PATHS.campaigns.length + 1)));
        if (c === undefined) return r.send(404, { error: 'unknown campaign' });
        r.send(200, c.view(epochNow()));
      };
    }
    if (path === FLEET_PATHS.config && method === 'POST') {
      return (r, b) => {
        const push = b as unknown as ConfigPush;
        if (typeof push?.config !== 'object' || push.config === null) return r.bad('config push needs {config: {...}}');
        r.send(202, ops.pushConfig(push.config));
      };
    }
    if (path === FLEET_PATHS.commands && method === 'POST') {
      return (r, b) => {
        const c = b as unknown as CommandRequest;
        if (typeof c?.name !== 'string') return r.bad('command needs a name');
        r.send(202, ops.sendCommand(c));
      };
    }
    if (path.startsWith(FLEET_PATHS.commands + '/') && method === 'GET') {
      return (r) => {
        const c = ops.command(decodeURIComponent(path.slice(FLEET_PATHS.commands.length + 1)));
        r.send(c ? 200 : 404, c ?? { error: 'unknown command' });
      };
    }
    if (path === FLEET_PATHS.provisioning && method === 'POST') {
      return (r, b) => {
        const p = b as unknown as ProvisioningPolicy;
        if (p?.mode !== 'auto' && p?.mode !== 'manual') return r.bad('mode must be auto or manual');
        ops.setPolicy({ mode: p.mode, ...(p.approvalRatePerSec ? { approvalRatePerSec: p.approvalRatePerSec } : {}) });
        r.send(204, undefined);
      };
    }
    if (path === FLEET_PATHS.fleetOpsStats && method === 'GET') {
      return (r, _b, query) => r.send(200, ops.stats(new URLSearchParams(query).get('summary') !== '1'));
    }
    return undefined;
  }

  private artifact(req: IncomingMessage, res: ServerResponse, path: string): void {
    let name: string;
    try {
      name = decodeURIComponent(path.slice(FLEET_PATHS.artifactPrefix.length));
    } catch {
      return send(res, 400, { error: 'malformed artifact name' });
    }
    const a = this.ops.artifacts.get(name);
    if (a === undefined) return send(res, 404, { error: 'unknown artifact' });
    const auth = req.headers.authorization;
    const key = auth?.startsWith(AUTH_SCHEME + ' ') ? auth.slice(AUTH_SCHEME.length + 1) : undefined;
    const deviceId = typeof req.headers['x-device-id'] === 'string' ? req.headers['x-device-id'] : '';
    const rec = this.store.authenticate(deviceId, key);
    if (rec === undefined) return send(res, 401, { error: 'artifact downloads need X-Device-Id and Authorization: Device <key>' });
    const rule = this.faults.take('artifact');
    if (rule?.status !== undefined) {
      answerJson(res, rule.status, `{"error":"injected fault ${rule.status}"}`, rule.retryAfter === undefined ? undefined : ['retry-after', String(rule.retryAfter)]);
      return;
    }
    const campaign = this.ops.campaigns.offerFor(rec, epochNow());
    const corrupt = campaign?.spec.corrupt !== undefined && corruptDraw(rec.rank) < campaign.spec.corrupt;
    this.ops.artifacts.serve(req, res, a, {
      cutAfter: rule?.cutAfterBytes ?? -1,
      corrupt,
      count: (bytes) => (rec.artifactBytes += bytes),
    });
  }
}

/** How an operator route answers. */
class Reply {
  constructor(private readonly res: ServerResponse) {}
  send(status: number, body: unknown): void {
    if (body === undefined) {
      this.res.writeHead(status);
      this.res.end();
      return;
    }
    send(this.res, status, body);
  }
  bad(message: string): void {
    this.send(400, { error: message });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  answerJson(res, status, JSON.stringify(body));
}

function readJson(req: IncomingMessage, res: ServerResponse, done: (body: Record<string, unknown> | undefined) => void): void {
  readCappedBody(req, res, MAX_BODY, (text) => {
    try {
      const v: unknown = JSON.parse(text || '{}');
      done(typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
    } catch {
      send(res, 400, { error: 'body must be JSON' });
    }
  });
}
