import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { LISTEN_BACKLOG, urlHost } from '../broker.js';
import type { DeviceStatsResponse, DeviceTelemetryCounts } from '../../wire/reference-protocol.js';
import { FLEET_PATHS, type CampaignSpec, type CampaignStatus, type CommandRequest, type CommandStatus, type FleetOpsStats, type ProvisioningPolicy, type ReleaseSpec } from '../../wire/fleet-ops.js';
import { sendEmpty, sendJson } from './http-answers.js';

/**
 * The operator's side of a platform fake: fleetsim's wall-clock operator (engine/operator) speaks
 * the reference operator API (wire/fleet-ops.ts: releases, campaigns, provisioning policy,
 * fleet-ops stats), and each fake translates it into its platform's own objects (a Mender
 * artifact and deployment, a hawkBit distribution set and assignments). This is not a platform
 * API: on a real Mender or hawkBit the operator uses its management API, which the fakes do not
 * model (docs/presets/).
 *
 * Concurrency: the fake's event loop only.
 */
export interface PlatformControl {
  setProvisioning(policy: ProvisioningPolicy): void;
  addRelease(spec: ReleaseSpec): void;
  /** Starts a campaign for the whole fleet (devices that arrive later included); returns its id. */
  startCampaign(spec: CampaignSpec): string;
  campaign(id: string): CampaignStatus | undefined;
  stats(): FleetOpsStats;
  /**
   * Sends a command to online devices through the platform's own mechanism (ThingsBoard's
   * server-side RPC); absent where the platform has none, and `POST /v1/commands` answers 404.
   */
  sendCommand?(req: CommandRequest): { id: string; issuedAt: number; sent: number };
  command?(id: string): CommandStatus | undefined;
}

/** Serves the operator API on a fake's server; false when `path` is not one of its routes. */
export function serveControlPlane(control: PlatformControl, req: IncomingMessage, res: ServerResponse, path: string): boolean {
  const method = req.method ?? 'GET';
  if (method === 'GET' && path === FLEET_PATHS.fleetOpsStats) {
    json(res, 200, control.stats());
    return true;
  }
  if (method === 'GET' && path.startsWith(FLEET_PATHS.campaigns + '/')) {
    const c = control.campaign(decodeURIComponent(path.slice(FLEET_PATHS.campaigns.length + 1)));
    json(res, c ? 200 : 404, c ?? { error: 'unknown campaign' });
    return true;
  }
  if (method === 'GET' && control.command && path.startsWith(FLEET_PATHS.commands + '/')) {
    const c = control.command(decodeURIComponent(path.slice(FLEET_PATHS.commands.length + 1)));
    json(res, c ? 200 : 404, c ?? { error: 'unknown command' });
    return true;
  }
  const routes: string[] = [FLEET_PATHS.provisioning, FLEET_PATHS.releases, FLEET_PATHS.campaigns];
  if (control.sendCommand) routes.push(FLEET_PATHS.commands);
  const route = method === 'POST' ? routes.indexOf(path) : -1;
  if (route < 0) return false;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return json(res, 400, { error: 'body is not JSON' });
    }
    try {
      if (route === 0) {
        control.setProvisioning(body as ProvisioningPolicy);
        return json(res, 204, undefined);
      }
      if (route === 1) {
        control.addRelease(body as ReleaseSpec);
        return json(res, 201, {});
      }
      if (route === 3) return json(res, 202, control.sendCommand!(body as CommandRequest));
      const id = control.startCampaign(body as CampaignSpec);
      json(res, 201, control.campaign(id));
    } catch (err) {
      json(res, 400, { error: (err as Error).message });
    }
  });
  req.on('error', () => {});
  return true;
}

/** A fake's device API: every request that is not the operator API's. */
export interface FakeDeviceApi {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** The one HTTP server of a platform fake, listening. */
export interface FakeHttpServer {
  /** `host:port` as it goes into a URL (IPv6 literals in brackets). */
  readonly authority: string;
  /** `http://host:port`. */
  readonly url: string;
  /** Closes the server and its connections; every call returns the same promise. */
  close(): Promise<void>;
}

/**
 * Starts a platform fake's HTTP server: the operator API (fleetsim's, not the platform's) shares
 * the port with the device API, since its /v1/ paths never collide with a platform's device paths.
 * Keep-alive as devices use it; port 0 (the default) lets the OS choose. A port that cannot be
 * listened on is FLEETSIM_E_BACKEND_START, naming `platform`.
 */
export async function startFakeHttpServer(platform: string, opts: { host: string; port?: number }, control: PlatformControl, api: FakeDeviceApi): Promise<FakeHttpServer> {
  const { host } = opts;
  const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if (!serveControlPlane(control, req, res, q < 0 ? url : url.slice(0, q))) api.handle(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  try {
    server.listen({ port: opts.port ?? 0, host, backlog: LISTEN_BACKLOG });
    await once(server, 'listening');
  } catch (err) {
    server.close();
    throw new FleetsimError('FLEETSIM_E_BACKEND_START', `the ${platform} fake could not listen on ${host}: ${(err as Error).message}`, { hint: 'pick another port, or 0 to let the OS choose one', cause: err });
  }
  const authority = `${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    authority,
    url: `http://${authority}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) sendEmpty(res, status);
  else sendJson(res, status, body);
}

/** Release payload bytes of `size` (a repeating pattern named after the release, so digests differ by release). */
export function releaseBytes(name: string, size: number): Buffer {
  const seed = Buffer.from(`${name}\n`);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(b, i, 0, Math.min(seed.length, size - i));
  return b;
}

/** A campaign's status from device counts by fleetsim status name. */
export function campaignStatus(id: string, release: string, statuses: Record<string, number>, devices: number): CampaignStatus {
  const finished = (statuses.success ?? 0) + (statuses.failed ?? 0);
  return {
    id,
    release,
    state: devices > 0 && finished >= devices ? 'done' : 'running',
    step: 0,
    admittedFraction: 1,
    statuses,
    cohorts: [{ upTo: 1, finished, failed: statuses.failed ?? 0 }],
  };
}

/** FleetOpsStats with the counters a platform fake has; the reference-only ones stay 0. */
export function platformStats(p: { artifactRequests: number; bytesByDevice: Record<string, number>; stateReports: number; versions: Record<string, number>; pending: number; approved: number }): FleetOpsStats {
  let served = 0;
  for (const v of Object.values(p.bytesByDevice)) served += v;
  return {
    artifactRequests: p.artifactRequests,
    artifactBytesServed: served,
    bytesByDevice: p.bytesByDevice,
    stateReports: p.stateReports,
    versions: p.versions,
    versionHistory: [[Date.now(), p.versions]],
    configAcks: 0,
    commandAnswers: 0,
    logLines: 0,
    logSuppressedNotices: 0,
    logLinesSuppressed: 0,
    eolReports: 0,
    pendingProvisions: p.pending,
    approved: p.approved,
  };
}

/** The reference backend's reconciliation answer (GET /v1/stats/devices) from a fake's per-device counts. */
export function deviceStatsResponse(devices: DeviceTelemetryCounts[]): DeviceStatsResponse {
  const totals = { received: 0, duplicates: 0, gaps: 0, provisions: 0, polls: 0, devices: devices.length };
  for (const d of devices) {
    totals.received += d.received;
    totals.duplicates += d.duplicates;
    totals.gaps += d.gaps;
    totals.provisions += d.provisions;
    totals.polls += d.polls;
  }
  return { devices, totals };
}
