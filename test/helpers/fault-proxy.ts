import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy on loopback (port 0) in front of a real backend: the tests' own
 * view of what devices sent and when, independent of fleetsim's counters. Each request is
 * either forwarded upstream untouched or answered by the test's rule (a status with a
 * Retry-After, a garbage body, or no answer at all). Every request and every Retry-After handed
 * out is logged with the proxy's receive/send time, per device.
 */

export type ProxyRoute = 'provision' | 'poll' | 'state' | 'artifact' | 'other';

export interface ProxyRequest {
  route: ProxyRoute;
  /** Device id (polls, state) or serial (provisioning); '' when unknown. */
  device: string;
  /** ms since the proxy started, when the request arrived. */
  atMs: number;
}

export interface FaultAnswer {
  status: number;
  /** Retry-After header as sent (seconds or an HTTP date). */
  retryAfter?: string;
  body?: string;
  /** Never answer (the client's timeout or its own stop ends the request). */
  hang?: boolean;
}

export interface LoggedAnswer extends ProxyRequest {
  status: number;
  /** When the answer was sent, ms since the proxy started. */
  sentAtMs: number;
  /** The wait the Retry-After asked for, ms, or undefined. */
  retryAfterMs?: number;
  retryAfterUntilMs?: number;
}

export class FaultProxy {
  readonly requests: ProxyRequest[] = [];
  readonly answers: LoggedAnswer[] = [];
  private server!: http.Server;
  private readonly t0 = Date.now();
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  constructor(
    private readonly upstream: string,
    /** The rule: a fault answer, or undefined to forward the request. */
    private readonly rule: (r: ProxyRequest) => FaultAnswer | undefined,
  ) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  now(): number {
    return Date.now() - this.t0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const r = classify(req.method ?? 'GET', req.url ?? '/', body);
      r.atMs = this.now();
      this.requests.push(r);
      const fault = this.rule(r);
      if (fault === undefined) return this.forward(req, res, body, r);
      if (fault.hang) {
        this.hanging.add(res);
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      const sentAtMs = this.now();
      const wait = fault.retryAfter === undefined ? undefined : retryAfterMs(fault.retryAfter, Date.now());
      this.answers.push({ ...r, status: fault.status, sentAtMs, retryAfterMs: wait, retryAfterUntilMs: wait === undefined ? undefined : sentAtMs + wait });
      res.writeHead(fault.status, headers);
      res.end(fault.body ?? '{}');
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, r: ProxyRequest): void {
    const up = http.request(this.upstream + (req.url ?? '/'), { method: req.method, headers: { ...req.headers, host: new URL(this.upstream).host } }, (ur) => {
      this.answers.push({ ...r, status: ur.statusCode ?? 0, sentAtMs: this.now() });
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => {
      // Logged like every answer: a test's view of what devices were told must include these.
      this.answers.push({ ...r, status: 502, sentAtMs: this.now() });
      res.writeHead(502);
      res.end();
    });
    up.end(body);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function classify(method: string, url: string, body: Buffer): ProxyRequest {
  if (url.startsWith('/v1/provision')) {
    let serial = '';
    try {
      serial = String((JSON.parse(body.toString('utf8')) as { serial?: unknown }).serial ?? '');
    } catch {
      // not JSON: unknown device
    }
    return { route: 'provision', device: serial, atMs: 0 };
  }
  const m = /^\/v1\/devices\/([^/]+)\/(target|state)/.exec(url);
  if (m) return { route: m[2] === 'target' ? 'poll' : 'state', device: decodeURIComponent(m[1]), atMs: 0 };
  if (url.includes('/artifacts/') && method === 'GET') return { route: 'artifact', device: '', atMs: 0 };
  return { route: 'other', device: '', atMs: 0 };
}

/** The proxy's own reading of a Retry-After it sent (seconds or an HTTP date). */
function retryAfterMs(value: string, nowMs: number): number {
  return /^\d+$/.test(value) ? Number(value) * 1000 : Math.max(0, Date.parse(value) - nowMs);
}
