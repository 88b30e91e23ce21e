import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHttpTransport } from '../../src/drivers/http/index.js';
import { BAD_RESPONSE, NET_RESET, NET_TIMEOUT, NET_TLS, type HttpTransport, type HttpTransportEvents } from '../../src/drivers/types.js';
import { createFleetCa, issueCertificate } from '../../src/identity/x509.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * What the lean HTTP/1.1 client must get right beyond the transport contract that
 * http-transport.test.ts runs over both clients: framing it reads itself (chunked bodies, answers
 * cut or garbled), keep-alive connections the server closes between polls, and TLS.
 */

interface Answer {
  dev: number;
  status: number;
  body: string;
  etag: string | undefined;
}

class Recorder implements HttpTransportEvents {
  readonly answers: Answer[] = [];
  onHttpResponse(dev: number, _op: number, status: number, body: string, _retryAfterMs: number, etag: string | undefined): void {
    this.answers.push({ dev, status, body, etag });
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function lean(baseUrl: string, rec: Recorder, over: { poolSize?: number; tls?: { ca: string }; timeoutMs?: number } = {}): HttpTransport {
  const t = createHttpTransport({ client: 'lean', baseUrl, connections: 'pooled', poolSize: over.poolSize ?? 4, devices: 16, timeoutMs: over.timeoutMs ?? 5_000, tls: over.tls }, rec);
  cleanups.push(() => t.close());
  return t;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

describe('lean HTTP client', () => {
  it('reads chunked answers a node:http server streams', async () => {
    const port = await listen(
      http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', etag: '"c1"' });
        res.write('{"release":');
        setImmediate(() => res.end('"r-2"}'));
      }),
    );
    const rec = new Recorder();
    const t = lean(`http://127.0.0.1:${port}`, rec);
    for (let dev = 0; dev < 6; dev++) t.request(dev, 1, 'GET', '/target', undefined, undefined);
    await waitFor(() => rec.answers.length === 6, 'six chunked answers');
    expect(rec.answers.every((a) => a.status === 200 && a.body === '{"release":"r-2"}' && a.etag === '"c1"')).toBe(true);
  });

  it('sends a poll again, once, when the server closed the idle keep-alive connection it was written to', async () => {
    // The server answers and then closes each connection right after its first answer, without
    // saying "Connection: close": the client only learns it when the next request on it fails.
    let requests = 0;
    const port = await listen(
      net.createServer((s) => {
        s.once('data', () => {
          requests++;
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', () => setImmediate(() => s.destroy()));
        });
        s.on('error', () => {});
      }),
    );
    const rec = new Recorder();
    const t = lean(`http://127.0.0.1:${port}`, rec, { poolSize: 1 });
    t.request(0, 1, 'GET', '/a', undefined, undefined);
    await waitFor(() => rec.answers.length === 1, 'the first answer');
    // Either the close is seen first (a fresh connection) or the write races it (one resend):
    // the device sees one clean answer in both cases.
    t.request(0, 1, 'GET', '/b', undefined, undefined);
    await waitFor(() => rec.answers.length === 2, 'the second answer');
    expect(rec.answers.map((a) => [a.status, a.body])).toEqual([
      [200, 'ok'],
      [200, 'ok'],
    ]);
    expect(requests).toBe(2);
    expect(t.inFlight()).toBe(0);
  });

  /** A server that answers 201 with `Keep-Alive: timeout=<seconds>`, and resets a second request on a connection when `resetReuse`. */
  async function keepAliveServer(seconds: number, resetReuse: boolean): Promise<{ port: number; perConnection: number[] }> {
    const perConnection: number[] = [];
    const port = await listen(
      net.createServer((s) => {
        const i = perConnection.push(0) - 1;
        s.on('data', () => {
          perConnection[i]++;
          // The server's side of the race: it is closing this connection as the request arrives.
          if (resetReuse && perConnection[i] > 1) s.resetAndDestroy();
          else s.write(`HTTP/1.1 201 Created\r\nContent-Length: 2\r\nKeep-Alive: timeout=${seconds}\r\n\r\nok`);
        });
        s.on('error', () => {});
      }),
    );
    return { port, perConnection };
  }

  /** Two provisioning POSTs through a one-connection pool, the second once the first is answered: their statuses. */
  async function twoPostsInTurn(port: number): Promise<number[]> {
    const rec = new Recorder();
    const t = lean(`http://127.0.0.1:${port}`, rec, { poolSize: 1 });
    t.request(0, 1, 'POST', '/provision', undefined, '{"serial":"a"}');
    await waitFor(() => rec.answers.length === 1, 'the first answer');
    t.request(1, 1, 'POST', '/provision', undefined, '{"serial":"b"}');
    await waitFor(() => rec.answers.length === 2, 'the second answer');
    return rec.answers.map((a) => a.status);
  }

  it("does not reuse an idle connection whose advertised Keep-Alive timeout is running out: a POST goes out on a new one, not into the server's close", async () => {
    // timeout=2 is within the 2 s margin: the connection is never reused, so the server's reset of a reused one never happens.
    const server = await keepAliveServer(2, true);
    expect(await twoPostsInTurn(server.port)).toEqual([201, 201]);
    expect(server.perConnection).toEqual([1, 1]);
  });

  it('reuses an idle connection while its Keep-Alive timeout leaves room', async () => {
    const server = await keepAliveServer(30, false);
    expect(await twoPostsInTurn(server.port)).toEqual([201, 201]);
    expect(server.perConnection).toEqual([2]);
  });

  it('sends that poll again on a new connection, not on another idle one the server may have closed too', async () => {
    // Each connection is answered once; a second request on it finds it closed (the server's
    // keep-alive ran out and the client has not read the FIN yet). A burst left three idle
    // connections, all closed the same way: the one resend must not go to the next of them.
    let connections = 0;
    const port = await listen(
      net.createServer((s) => {
        connections++;
        let served = 0;
        s.on('data', () => {
          if (served++ === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          else s.destroy();
        });
        s.on('error', () => {});
      }),
    );
    const rec = new Recorder();
    const t = lean(`http://127.0.0.1:${port}`, rec, { poolSize: 4 });
    for (const dev of [0, 1, 2]) t.request(dev, 1, 'GET', '/a', undefined, undefined);
    await waitFor(() => rec.answers.length === 3, 'the burst answered');
    expect(connections).toBe(3);
    t.request(3, 1, 'GET', '/b', undefined, undefined);
    await waitFor(() => rec.answers.length === 4, 'the poll answered');
    expect(rec.answers[3]).toMatchObject({ dev: 3, status: 200, body: 'ok' });
    expect(connections).toBe(4);
    expect(t.inFlight()).toBe(0);
  });

  it('counts a garbled answer as BAD_RESPONSE and a cut one as a reset, and keeps serving on new connections', async () => {
    let n = 0;
    const port = await listen(
      net.createServer((s) => {
        s.on('error', () => {});
        s.once('data', () => {
          const k = n++;
          if (k === 0) s.end('SSH-2.0-not-http\r\n\r\n');
          else if (k === 1) s.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"cut":');
          else s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
        });
      }),
    );
    const rec = new Recorder();
    const t = lean(`http://127.0.0.1:${port}`, rec, { poolSize: 1 });
    for (let dev = 0; dev < 3; dev++) t.request(dev, 1, 'POST', '/p', undefined, '{}');
    await waitFor(() => rec.answers.length === 3, 'three answers');
    expect(rec.answers.map((a) => [a.dev, a.status])).toEqual([
      [0, BAD_RESPONSE],
      [1, NET_RESET],
      [2, 200],
    ]);
  });

  it('speaks TLS with the configured CA, refuses an untrusted server, and resumes sessions', async () => {
    const ca = await createFleetCa('lean-http-test-ca');
    const server = await issueCertificate(ca, 'localhost', { server: ['127.0.0.1', 'localhost'] });
    const resumed: boolean[] = [];
    const hs = https.createServer({ key: server.key, cert: server.cert }, (req, res) => {
      resumed.push((req.socket as TLSSocket).isSessionReused());
      res.writeHead(200, { 'content-length': 2, connection: 'close' }).end('{}');
    });
    const port = await listen(hs);
    const rec = new Recorder();
    const t = lean(`https://localhost:${port}`, rec, { poolSize: 1, tls: { ca: ca.pem.cert } });
    t.request(0, 1, 'GET', '/x', undefined, undefined);
    await waitFor(() => rec.answers.length === 1, 'the first TLS answer');
    t.request(0, 1, 'GET', '/y', undefined, undefined);
    await waitFor(() => rec.answers.length === 2, 'the second TLS answer');
    expect(rec.answers.map((a) => a.status)).toEqual([200, 200]);
    expect(resumed).toEqual([false, true]);

    const untrusting = new Recorder();
    lean(`https://localhost:${port}`, untrusting).request(5, 1, 'GET', '/z', undefined, undefined);
    await waitFor(() => untrusting.answers.length === 1, 'the refused handshake');
    expect(untrusting.answers[0]).toMatchObject({ dev: 5, status: NET_TLS });
  });

  it('keeps a connection still connecting when the request given to it times out: no new connection per timed-out request', async () => {
    // A server whose accept queue is full (it listens with backlog 0 and never accepts; one
    // connection fills the queue): a new connection stays in SYN_SENT, as against an overloaded
    // backend. A request that times out there was never sent; dropping the connection for it
    // opened one more connection per timeout (each an abandoned one in the server's queue) and
    // cost an Error with a formatted stack per failure (Node fails a write queued on a socket
    // destroyed before it connected).
    const py = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)\nprint(s.getsockname()[1], flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(async () => {
      py.kill();
      if (py.exitCode === null && py.signalCode === null) await new Promise((r) => py.once('exit', r));
    });
    const port = await new Promise<number>((resolve, reject) => {
      py.once('error', reject);
      py.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    });
    const filler = net.connect(port, '127.0.0.1');
    filler.on('error', () => {});
    cleanups.push(async () => void filler.destroy());
    await new Promise((r) => filler.once('connect', r));
    const connects = vi.spyOn(net, 'connect');
    cleanups.push(async () => connects.mockRestore());
    const rec = new Recorder();
    const t = lean(`http://127.0.0.1:${port}`, rec, { poolSize: 1, timeoutMs: 100 });
    for (let dev = 0; dev < 4; dev++) t.request(dev, 1, 'POST', '/v1/provision', undefined, '{}');
    await waitFor(() => rec.answers.length === 4, 'four timeouts');
    expect(rec.answers.map((a) => [a.dev, a.status])).toEqual([
      [0, NET_TIMEOUT],
      [1, NET_TIMEOUT],
      [2, NET_TIMEOUT],
      [3, NET_TIMEOUT],
    ]);
    expect(t.inFlight()).toBe(0);
    expect(connects).toHaveBeenCalledTimes(1);
  });
});
