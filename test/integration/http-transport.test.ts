import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { createHttpTransport } from '../../src/drivers/http/index.js';
import { CANCELLED, NET_REFUSED, NET_TIMEOUT, NO_RETRY_AFTER, type HttpClientKind, type HttpTransport, type HttpTransportEvents, type HttpTransportOptions } from '../../src/drivers/types.js';
import { AUTH_SCHEME, HTTP_PATHS, type ProvisionResponse } from '../../src/wire/reference-protocol.js';
import { eventLoopTurns, waitFor } from '../helpers/wait-for.js';

const FLEET_KEY = 'transport-fleet-key';

interface Answer {
  dev: number;
  op: number;
  status: number;
  body: string;
  retryAfterMs: number;
  etag: string | undefined;
}

/** Records every answer; `next(n)` waits until n answers have arrived in total. */
class Recorder implements HttpTransportEvents {
  readonly answers: Answer[] = [];
  private waiter: { n: number; resolve: () => void } | undefined;
  onHttpResponse(dev: number, op: number, status: number, body: string, retryAfterMs: number, etag: string | undefined): void {
    this.answers.push({ dev, op, status, body, retryAfterMs, etag });
    if (this.waiter && this.answers.length >= this.waiter.n) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve();
    }
  }
  until(n: number): Promise<Answer[]> {
    if (this.answers.length >= n) return Promise.resolve(this.answers);
    return new Promise((resolve) => {
      this.waiter = { n, resolve: () => resolve(this.answers) };
    });
  }
}

let backend: EmbeddedBackend;
const transports: HttpTransport[] = [];

beforeAll(async () => {
  backend = await startEmbeddedBackend({ fleetKey: FLEET_KEY, mqtt: false });
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  backend.setFaults({});
});
afterAll(async () => {
  await backend.close();
});

function open(rec: Recorder, client: HttpClientKind, over: Partial<HttpTransportOptions> = {}): HttpTransport {
  const t = createHttpTransport({ client, baseUrl: backend.httpUrl, connections: 'pooled', poolSize: 8, devices: 256, timeoutMs: 5_000, ...over }, rec);
  transports.push(t);
  return t;
}

const provisionBody = (serial: string, fleetKey = FLEET_KEY) => JSON.stringify({ serial, fleetKey });

/**
 * A server that holds the requests `hold` picks (the test answers them, or not, when it wants)
 * and answers the others 201 at once: lets a test wait for "the request is at the server"
 * instead of sleeping until it probably is.
 */
async function startHoldingServer(hold: (n: number) => boolean): Promise<{ url: string; held: ServerResponse[]; close(): Promise<void> }> {
  const held: ServerResponse[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    if (hold(n++)) held.push(res);
    else res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe.each(['undici', 'lean'] as const)('%s client', (client) => {
  describe.each(['pooled', 'per-device'] as const)('HTTP transport, %s connections', (connections) => {
    it('provisions 200 devices, each exactly once', async () => {
      const rec = new Recorder();
      // 200 provisionings at once cost the in-process backend seconds of CPU when other test files
      // share the cores: the 5 s request timeout (tested on its own below) would cut the last ones.
      const t = open(rec, client, { connections, timeoutMs: 30_000 });
      for (let dev = 0; dev < 200; dev++) t.request(dev, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody(`${client}-${connections}-${dev}`));
      expect(t.inFlight()).toBe(200);
      const answers = await rec.until(200);
      expect(answers.filter((a) => a.status !== 201 || a.op !== 1).map((a) => `${a.dev}: ${a.status}`)).toEqual([]);
      expect(new Set(answers.map((a) => a.dev)).size).toBe(200);
      const ids = answers.map((a) => (JSON.parse(a.body) as ProvisionResponse).deviceId);
      expect(new Set(ids).size).toBe(200);
      for (const a of answers) expect((JSON.parse(a.body) as ProvisionResponse).deviceId).toBe(`d-${client}-${connections}-${a.dev}`);
      for (const id of ids) expect(backend.countsFor(id)?.provisions).toBe(1);
      expect(t.inFlight()).toBe(0);
    });
  });

  describe('HTTP transport answers', () => {
    it('passes 401 through for a wrong fleet key', async () => {
      const rec = new Recorder();
      open(rec, client).request(3, 9, 'POST', HTTP_PATHS.provision, undefined, provisionBody('bad-key', 'wrong'));
      const [a] = await rec.until(1);
      expect(a).toMatchObject({ dev: 3, op: 9, status: 401, retryAfterMs: NO_RETRY_AFTER });
    });

    it('sends If-None-Match and returns the ETag, so an unchanged target answers 304', async () => {
      const rec = new Recorder();
      const t = open(rec, client);
      t.request(0, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody('etag-1'));
      const creds = JSON.parse((await rec.until(1))[0].body) as ProvisionResponse;
      const authz = `${AUTH_SCHEME} ${creds.deviceKey}`;
      t.request(0, 2, 'GET', HTTP_PATHS.target(creds.deviceId), authz, undefined);
      const first = (await rec.until(2))[1];
      expect(first.status).toBe(200);
      expect(first.etag).toMatch(/^".+"$/);
      t.request(0, 2, 'GET', HTTP_PATHS.target(creds.deviceId), authz, undefined, first.etag);
      const second = (await rec.until(3))[2];
      expect(second).toMatchObject({ status: 304, body: '', etag: first.etag });
      t.request(0, 3, 'PUT', HTTP_PATHS.state(creds.deviceId), authz, JSON.stringify({ release: 'app-1.0', status: 'ok' }));
      expect((await rec.until(4))[3].status).toBe(204);
    });

    it('parses Retry-After in seconds and as an HTTP date', async () => {
      const rec = new Recorder();
      const t = open(rec, client);
      backend.setFaults({ provision: { status: 503, retryAfter: 3, first: 1 } });
      t.request(0, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody('retry-1'));
      expect((await rec.until(1))[0]).toMatchObject({ status: 503, retryAfterMs: 3000 });
      backend.setFaults({ provision: { status: 429, retryAfter: new Date(Date.now() + 20_000).toUTCString(), first: 1 } });
      t.request(0, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody('retry-1'));
      const dated = (await rec.until(2))[1];
      expect(dated.status).toBe(429);
      // HTTP dates have one-second resolution.
      expect(dated.retryAfterMs).toBeGreaterThan(15_000);
      expect(dated.retryAfterMs).toBeLessThanOrEqual(20_000);
    });

    it('answers a request that outlives its timeout once, with NET_TIMEOUT', async () => {
      const server = await startHoldingServer((n) => n === 0);
      try {
        const rec = new Recorder();
        const t = open(rec, client, { baseUrl: server.url, timeoutMs: 100 });
        t.request(5, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody('slow-1'));
        expect((await rec.until(1))[0]).toMatchObject({ dev: 5, status: NET_TIMEOUT, body: '' });
        expect(t.inFlight()).toBe(0);
        // Now the server answers, late: whatever reaches the transport must not be a second answer.
        await waitFor(() => server.held.length === 1, 'the slow request at the server');
        const late = server.held[0];
        if (!late.destroyed) late.writeHead(201, { 'content-type': 'application/json' }).end('{}');
        await waitFor(() => late.closed, 'the late answer to be done with');
        // The pool still works after the aborted request; its answer is a barrier for a late one.
        t.request(6, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody('slow-2'));
        expect((await rec.until(2))[1]).toMatchObject({ dev: 6, status: 201 });
        await eventLoopTurns();
        expect(rec.answers).toHaveLength(2);
      } finally {
        await server.close();
      }
    });
  });

  describe('HTTP transport failures and close', () => {
    it('answers a request undici refuses at once on a later tick, with a pseudo-status', async () => {
      const rec = new Recorder();
      const t = open(rec, client);
      t.request(4, 2, 'GET', 'no-leading-slash', undefined, undefined);
      expect(rec.answers).toHaveLength(0);
      expect(t.inFlight()).toBe(1);
      const refused = (await rec.until(1))[0];
      expect(refused).toMatchObject({ dev: 4, op: 2 });
      expect(refused.status).toBeLessThan(100);
      expect(refused.status).not.toBe(CANCELLED);
      expect(t.inFlight()).toBe(0);
    });

    it('answers NET_REFUSED when the server is gone', async () => {
      const gone = await startEmbeddedBackend({ fleetKey: FLEET_KEY, mqtt: false });
      await gone.close();
      for (const connections of ['pooled', 'per-device'] as const) {
        const rec = new Recorder();
        const t = open(rec, client, { baseUrl: gone.httpUrl, connections });
        t.request(1, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody('nobody'));
        expect((await rec.until(1))[0]).toMatchObject({ status: NET_REFUSED, body: '', retryAfterMs: NO_RETRY_AFTER, etag: undefined });
      }
    });

    it('answers in-flight requests as CANCELLED on close (fleetsim cut them off), never synchronously, and leaves no sockets', async () => {
      const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
      const before = sockets();
      const rec = new Recorder();
      // The fifth request is held at the server: in flight when the transport closes.
      const server = await startHoldingServer((n) => n === 4);
      try {
        const t = createHttpTransport({ client, baseUrl: server.url, connections: 'per-device', poolSize: 1, devices: 8, timeoutMs: 5_000 }, rec);
        for (let dev = 0; dev < 4; dev++) t.request(dev, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody(`close-${dev}`));
        await rec.until(4);
        t.request(7, 1, 'POST', HTTP_PATHS.provision, undefined, provisionBody('close-slow'));
        await waitFor(() => server.held.length === 1, 'the slow request at the server');
        expect(t.inFlight()).toBe(1);
        await t.close();
        expect(rec.answers[4]).toMatchObject({ dev: 7, status: CANCELLED });
        expect(t.inFlight()).toBe(0);

        t.request(2, 1, 'GET', HTTP_PATHS.health, undefined, undefined);
        expect(rec.answers).toHaveLength(5); // not answered inside request()
        expect((await rec.until(6))[5]).toMatchObject({ dev: 2, status: CANCELLED });

        // Client and server ends of the sockets close asynchronously; wait for them (bounded).
        // (the server stays up: the transport must close its sockets itself).
        await waitFor(() => sockets() <= before, 'every socket of the transport to close', 1000);
      } finally {
        await server.close();
      }
    });
  });
});
