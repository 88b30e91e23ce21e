import type { IncomingMessage, ServerResponse } from 'node:http';
import { readCappedBody } from '../../http-body.js';
import { serveBytes } from '../serve-range.js';
import { deviceStatsResponse } from '../control-plane.js';
import { HTTP_PATHS, type DeviceStatsResponse } from '../../../wire/reference-protocol.js';
import { acceptAttributes, acceptTelemetry, attributesAnswer, packageChunk } from './device-api.js';
import type { TbDevice, ThingsboardState } from './state.js';
import { sendEmpty as empty, sendJson as json, sendText as text } from '../http-answers.js';

/**
 * The ThingsBoard fake's HTTP device API (DeviceApiController.java, `/api/v1`): provisioning,
 * telemetry, client attributes, attribute reads, firmware download in chunks and RPC replies. An
 * unknown access token is 401 (DeviceAuthCallback). Also serves the reference operator's
 * `GET /v1/stats/devices` so fleetsim can reconcile what each device sent.
 *
 * Concurrency: the fake's event loop only.
 */

/** transport.http.max_payload_size for `/api/v1/**` (thingsboard.yml: 52428800); RPC replies are capped lower (65536). */
export const TB_HTTP_MAX_PAYLOAD = 52_428_800;
export const TB_HTTP_MAX_RPC_PAYLOAD = 65_536;

export interface TbHttpHooks {
  /** An RPC reply arrived for `id`; false when no such request is pending. */
  rpcReply(dev: TbDevice, id: number): boolean;
}

export class TbHttpApi {
  constructor(
    private readonly state: ThingsboardState,
    private readonly hooks: TbHttpHooks,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === HTTP_PATHS.deviceStats) return json(res, 200, this.deviceStats());
    if (method === 'POST' && path === '/api/v1/provision') {
      return readCappedBody(req, res, TB_HTTP_MAX_PAYLOAD, (body) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return text(res, 400, 'provisioning request is not JSON');
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return text(res, 400, 'provisioning request is not an object');
        json(res, 200, this.state.provision(parsed as Record<string, unknown>));
      });
    }
    const m = /^\/api\/v1\/([^/]+)\/(telemetry|attributes|firmware|rpc\/(\d+))$/.exec(path);
    if (m === null) return text(res, 404, 'not found');
    const dev = this.state.byToken.get(decodeURIComponent(m[1]));
    if (dev === undefined) return empty(res, 401);
    const route = m[2];
    if (method === 'GET' && route === 'attributes') return json(res, 200, attributesAnswer(dev, url.searchParams.get('clientKeys'), url.searchParams.get('sharedKeys')));
    if (method === 'GET' && route === 'firmware') return this.firmware(dev, url, req, res);
    if (method !== 'POST') return this.fail(dev, res, 405);
    const limit = route.startsWith('rpc/') ? TB_HTTP_MAX_RPC_PAYLOAD : TB_HTTP_MAX_PAYLOAD;
    readCappedBody(req, res, limit, (body) => {
      if (route === 'telemetry') return acceptTelemetry(this.state, dev, body) ? empty(res, 200) : this.fail(dev, res, 400);
      if (route === 'attributes') return acceptAttributes(this.state, dev, body) ? empty(res, 200) : this.fail(dev, res, 400);
      // rpc/{id}: the reply body is any JSON.
      try {
        JSON.parse(body);
      } catch {
        return this.fail(dev, res, 400);
      }
      if (!this.hooks.rpcReply(dev, Number(m[3]))) dev.counts.rpcUnknownReplies++;
      empty(res, 200);
    });
  };

  /**
   * GetOtaPackageCallback: 404 without an assigned package, 400 when title/version are not the
   * assigned ones, else the chunk (`size`/`chunk`) or the whole file. The answer is a Spring
   * `ResponseEntity<ByteArrayResource>`, which Spring MVC serves with `Accept-Ranges: bytes` and
   * answers a `Range` request with 206, so resumed downloads work as on the platform.
   */
  private firmware(dev: TbDevice, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const pkg = this.state.assignedPackage(dev);
    if (pkg === undefined) return this.fail(dev, res, 404);
    if (url.searchParams.get('title') !== pkg.title || url.searchParams.get('version') !== pkg.version) return this.fail(dev, res, 400);
    const size = Number(url.searchParams.get('size') ?? 0);
    const chunk = Number(url.searchParams.get('chunk') ?? 0);
    if (!Number.isInteger(size) || !Number.isInteger(chunk) || size < 0 || chunk < 0) return this.fail(dev, res, 400);
    const filename = `${pkg.title}-${pkg.version}.bin`;
    const { served } = serveBytes(req, res, packageChunk(pkg, size, chunk), {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment;filename=${filename}`,
      'x-filename': filename,
    });
    dev.counts.fwChunkRequests++;
    dev.counts.fwBytes += served;
  }

  private fail(dev: TbDevice, res: ServerResponse, status: number): void {
    dev.counts.httpErrors++;
    empty(res, status);
  }

  deviceStats(): DeviceStatsResponse {
    const devices = [...this.state.devices.values()].map((d) => ({
      deviceId: d.name,
      received: d.telemetry.received,
      duplicates: d.telemetry.duplicates,
      gaps: d.telemetry.gaps,
      maxSeq: d.telemetry.maxSeq,
      provisions: d.provisions,
      polls: d.counts.attributeRequests,
    }));
    return deviceStatsResponse(devices);
  }
}
