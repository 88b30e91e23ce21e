import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP_PATHS } from '../wire/reference-protocol.js';
import type { ActiveFaults } from './active-faults.js';
import type { InjectedRoute } from './injected.js';
import type { FaultHttpRoute } from './spec.js';

/** Bodies a `body:` fault answers with: bytes no JSON parser takes, and JSON no route expects. */
export const GARBAGE_BODY = '\u0000\u00ff<html>not json{{';
export const WRONG_SHAPE_BODY = '{"unexpected":[1,2,3]}';

/**
 * The fault proxy's HTTP side: a reverse proxy on loopback (port 0) in front of the fleet API.
 * Each request is classified by route and device (reference protocol paths; the provisioning
 * body's serial, whose answer teaches it the device id), then forwarded untouched or faulted by
 * the first active phase that picks it (active-faults.ts). Everything injected is counted.
 */
export class FaultHttpProxy {
  private server?: http.Server;
  private readonly upstream: URL;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly held = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  url = '';

  constructor(
    upstream: string,
    private readonly faults: ActiveFaults,
  ) {
    this.upstream = new URL(upstream);
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const { route, device } = classify(req.method ?? 'GET', req.url ?? '/', body);
      const dev = device === '' ? -1 : this.faults.map.indexOf(device);
      const hit = this.faults.httpFault(route, dev);
      if (hit === undefined) return this.forward(req, res, body, route, device, 0);
      const a = hit.action;
      const count = this.faults.counts;
      const r = route as InjectedRoute;
      switch (a.kind) {
        case 'status': {
          count.add(hit.phase, 'http_status', r);
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          // Retry-After is whole seconds (RFC 9110 §10.2.3 delay-seconds).
          if (a.retryAfterMs !== undefined) headers['retry-after'] = String(Math.ceil(a.retryAfterMs / 1000));
          res.writeHead(a.status, headers);
          res.end('{"error":"injected by fleetsim"}');
          return;
        }
        case 'latency':
          count.add(hit.phase, 'latency', r);
          return this.forward(req, res, body, route, device, this.faults.latencyMs(a.latency, hit.phase));
        case 'reset':
          count.add(hit.phase, 'reset', r);
          req.socket.resetAndDestroy();
          return;
        case 'stall':
          count.add(hit.phase, 'stall', r);
          this.held.add(res);
          res.on('close', () => this.held.delete(res));
          return;
        case 'body':
          count.add(hit.phase, a.body === 'garbage' ? 'garbage_body' : 'wrong_shape_body', r);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(a.body === 'garbage' ? GARBAGE_BODY : WRONG_SHAPE_BODY);
          return;
      }
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, route: FaultHttpRoute | 'other', serial: string, delayMs: number): void {
    const headers = { ...req.headers, host: this.upstream.host };
    const up = http.request({ host: this.upstream.hostname, port: this.upstream.port, path: req.url, method: req.method, headers, agent: this.agent }, (ur) => {
      const answer = (): void => {
        if (res.destroyed) {
          ur.resume();
          return;
        }
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (route !== 'provision') {
          ur.pipe(res);
          return;
        }
        // Provisioning answers carry the device id the backend chose: remember whose it is.
        const parts: Buffer[] = [];
        ur.on('data', (c: Buffer) => parts.push(c));
        ur.on('end', () => {
          const text = Buffer.concat(parts);
          learnDeviceId(text, serial, this.faults);
          res.end(text);
        });
      };
      if (delayMs <= 0) return answer();
      const t = setTimeout(() => {
        this.timers.delete(t);
        answer();
      }, delayMs);
      this.timers.add(t);
    });
    up.on('error', () => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"fault proxy: upstream unreachable"}');
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end(body);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.held) res.destroy();
    this.held.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.agent.destroy();
  }
}

function learnDeviceId(body: Buffer, serial: string, faults: ActiveFaults): void {
  if (serial === '') return;
  try {
    const id = (JSON.parse(body.toString('utf8')) as { deviceId?: unknown }).deviceId;
    if (typeof id === 'string') faults.map.learn(id, serial);
  } catch {
    // Not JSON (an error answer): nothing to learn.
  }
}

const DEVICE_PATH = /^\/v1\/devices\/([^/?]+)\/(target|state)/;

/** Route and device (serial for provisioning, device id otherwise; '' when unknown) of a request. */
export function classify(method: string, url: string, body: Buffer): { route: FaultHttpRoute | 'other'; device: string } {
  if (url.startsWith(HTTP_PATHS.provision) && method === 'POST') {
    let serial = '';
    try {
      serial = String((JSON.parse(body.toString('utf8')) as { serial?: unknown }).serial ?? '');
    } catch {
      // not JSON: unknown device
    }
    return { route: 'provision', device: serial };
  }
  const m = DEVICE_PATH.exec(url);
  if (m) return { route: m[2] === 'target' ? 'poll' : 'state', device: safeDecode(m[1]) };
  if (url.startsWith('/v1/artifacts/')) return { route: 'artifact', device: '' };
  return { route: 'other', device: '' };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
