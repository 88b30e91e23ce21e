import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeviceStore } from '../../src/backend/store.js';
import { Faults } from '../../src/backend/faults.js';
import { FleetOps } from '../../src/backend/fleet-ops.js';
import { HttpApi } from '../../src/backend/http-api.js';
import { HttpFront, type HttpTimeouts } from '../../src/backend/http-front.js';
import { HTTP_PATHS, type ProvisionResponse } from '../../src/wire/reference-protocol.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The embedded backend's lean HTTP front (backend/http-front.ts) on a real loopback server, wired
 * as backend/index.ts wires it, against raw sockets: what it answers itself must be what Node's
 * http.Server answers through the same API, and whatever it does not serve must reach Node intact
 * and in order.
 */

const FLEET_KEY = 'front-fleet-key';
const TIMEOUTS: HttpTimeouts = { keepAliveMs: 600, headersMs: 800, requestMs: 1_000, checkEveryMs: 100 };

let store: DeviceStore;
let faults: Faults;
let ops: FleetOps;
let api: HttpApi;
let server: http.Server;
let front: HttpFront;
let port: number;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  store = new DeviceStore(FLEET_KEY);
  faults = new Faults();
  ops = new FleetOps(store, () => {});
  api = new HttpApi(store, faults, ops);
  server = http.createServer({ keepAlive: true, noDelay: true, connectionsCheckingInterval: TIMEOUTS.checkEveryMs }, api.handle);
  server.keepAliveTimeout = TIMEOUTS.keepAliveMs;
  server.headersTimeout = TIMEOUTS.headersMs;
  server.requestTimeout = TIMEOUTS.requestMs;
  server.on('clientError', (_err, socket) => socket.destroy());
  front = new HttpFront(api, server, TIMEOUTS);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  faults.set({});
});
afterAll(async () => {
  front.close();
  api.close();
  ops.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Answer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** A raw client connection that reads HTTP/1.1 responses off the wire, in order. */
class RawClient {
  readonly socket: net.Socket;
  private buf = Buffer.alloc(0);
  readonly answers: Answer[] = [];
  readonly answeredAt: number[] = [];
  ended = false;
  closed = false;
  readonly openedAt = Date.now();
  closedAt = 0;
  private readonly connected: Promise<unknown>;

  constructor() {
    this.socket = net.connect({ host: '127.0.0.1', port });
    sockets.push(this.socket);
    this.connected = once(this.socket, 'connect');
    this.socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
    });
  }

  async send(text: string | Buffer): Promise<void> {
    await this.connected;
    this.socket.write(text);
  }

  /** The first `n` answers, failing when the connection closes before they came. */
  async next(n: number): Promise<Answer[]> {
    await waitFor(() => this.answers.length >= n || this.closed, `${n} answers`);
    expect(this.answers.length).toBeGreaterThanOrEqual(n);
    return this.answers.slice(0, n);
  }

  private parse(): void {
    for (;;) {
      const headEnd = this.buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const lines = this.buf.toString('latin1', 0, headEnd).split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
      }
      const length = Number(headers.get('content-length') ?? 0);
      if (this.buf.length < headEnd + 4 + length) return;
      const body = this.buf.toString('utf8', headEnd + 4, headEnd + 4 + length);
      this.buf = this.buf.subarray(headEnd + 4 + length);
      this.answers.push({ status, headers, body });
      this.answeredAt.push(Date.now());
    }
  }
}

function request(method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}): string {
  const headers = { host: 'x', ...opts.headers };
  const body = opts.body ?? '';
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (opts.body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  return head + '\r\n' + body;
}

const provisionRequest = (serial: string, fleetKey = FLEET_KEY) => request('POST', HTTP_PATHS.provision, { body: JSON.stringify({ serial, fleetKey }) });
/** A request the front never serves: it hands the connection to Node, which serves everything after it. */
const TO_NODE = request('GET', `${HTTP_PATHS.deviceStats}?summary=1`);

/** The headers a client reads, without the clock's. */
function comparable(a: Answer): { status: number; body: string; headers: Record<string, string> } {
  const headers = Object.fromEntries([...a.headers].filter(([k]) => k !== 'date').sort());
  return { status: a.status, body: a.body, headers };
}

describe('the lean HTTP front of the embedded backend', () => {
  it('answers every device route exactly as Node http.Server does through the same API', async () => {
    const first = JSON.parse((await send1(provisionRequest('same-1'))).body) as ProvisionResponse;
    const auth = { authorization: `Device ${first.deviceKey}` };
    const target = await send1(request('GET', HTTP_PATHS.target(first.deviceId), { headers: auth }));
    const etag = target.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const cases = [
      provisionRequest('same-1'),
      provisionRequest('same-1', 'wrong-key'),
      request('POST', HTTP_PATHS.provision, { body: '{"serial":' }),
      request('POST', HTTP_PATHS.provision, { body: JSON.stringify({ serial: 'bad serial!', fleetKey: FLEET_KEY }) }),
      request('GET', HTTP_PATHS.target(first.deviceId), { headers: auth }),
      request('GET', HTTP_PATHS.target(first.deviceId) + '?x=1', { headers: { ...auth, 'if-none-match': etag } }),
      request('GET', HTTP_PATHS.target(first.deviceId), { headers: { authorization: 'Device nope' } }),
      request('GET', HTTP_PATHS.target('no-such-device'), { headers: auth }),
      request('PUT', HTTP_PATHS.state(first.deviceId), { headers: auth, body: JSON.stringify({ release: 'app-2', status: 'running' }) }),
      request('PUT', HTTP_PATHS.state(first.deviceId), { headers: auth, body: '{"release":1}' }),
      request('GET', HTTP_PATHS.health, { headers: { Connection: 'keep-alive' } }),
    ];
    for (const c of cases) {
      const servedBefore = front.served;
      const lean = await send1(c);
      expect(front.served, c.split('\r\n')[0]).toBe(servedBefore + 1);
      const viaNode = new RawClient();
      await viaNode.send(TO_NODE + c);
      const [, node] = await viaNode.next(2);
      expect(front.served, 'served by Node').toBe(servedBefore + 1);
      expect(comparable(lean), c.split('\r\n')[0]).toEqual(comparable(node!));
    }
    // The statuses themselves, so that "equal" is not "equally wrong".
    expect((await send1(cases[5]!)).status).toBe(304);
    expect((await send1(cases[8]!)).status).toBe(204);
    expect(store.get(first.deviceId)!.stateReports).toBe(3); // the good report: lean, through Node, and once more here
  });

  it('keeps pipelined answers in request order across a held answer and a hand-over to Node', async () => {
    faults.set({ provision: { delayMs: 300, first: 1 } });
    const handed = front.handedOver;
    const c = new RawClient();
    await c.send(provisionRequest('piped-1') + request('GET', HTTP_PATHS.health) + TO_NODE + provisionRequest('piped-2'));
    const answers = await c.next(4);
    expect(answers.map((a) => a.status)).toEqual([201, 200, 200, 201]);
    expect(answers[1]!.body).toBe('{"ok":true}');
    expect(JSON.parse(answers[2]!.body)).toHaveProperty('totals');
    expect((JSON.parse(answers[3]!.body) as ProvisionResponse).deviceId).toBe(store.get((JSON.parse(answers[3]!.body) as ProvisionResponse).deviceId)!.id);
    // Health waited behind the held provisioning answer; it did not overtake it.
    expect(c.answeredAt[1]! - c.openedAt).toBeGreaterThanOrEqual(290);
    expect(front.handedOver).toBe(handed + 1);

    // The same behind a half-close: the client sends its requests and its FIN at once; every
    // complete request is answered, in order, then the connection ends.
    faults.set({ provision: { delayMs: 200, first: 1 } });
    const half = new RawClient();
    await half.send(provisionRequest('half-1') + request('GET', HTTP_PATHS.health) + request('GET', HTTP_PATHS.health));
    half.socket.end();
    await waitFor(() => half.closed, 'the half-closed connection ended');
    expect(half.answers.map((a) => a.status)).toEqual([201, 200, 200]);
  });

  it('gives Node what it does not serve: chunked bodies, HTTP/1.0, other methods, oversized heads and garbage', async () => {
    const handed = front.handedOver;
    const chunkedBody = JSON.stringify({ serial: 'chunked-1', fleetKey: FLEET_KEY });
    const chunked = `POST ${HTTP_PATHS.provision} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${chunkedBody.length.toString(16)}\r\n${chunkedBody}\r\n0\r\n\r\n`;
    expect((await send1(chunked)).status).toBe(201);
    expect(store.get((JSON.parse((await send1(chunked)).body) as ProvisionResponse).deviceId)).toBeDefined();
    expect((await send1(`GET ${HTTP_PATHS.health} HTTP/1.0\r\n\r\n`)).status).toBe(200);
    const wrongMethod = await send1(request('GET', HTTP_PATHS.provision));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    // Node's parser errors reach the backend's clientError handler, which closes the connection
    // without an answer (backend/index.ts); a head too large is one of them.
    const twoLengths = `PUT ${HTTP_PATHS.state('d')} HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n{}`;
    const folded = `GET ${HTTP_PATHS.health} HTTP/1.1\r\nhost: x\r\nx-a: b\r\n c\r\n\r\n`;
    for (const bad of [request('GET', HTTP_PATHS.health, { headers: { 'x-big': 'y'.repeat(20_000) } }), 'HELLO THERE\r\n\r\n', twoLengths, folded]) {
      const c = new RawClient();
      await c.send(bad);
      await waitFor(() => c.closed, 'closed by Node');
      expect(c.answers).toEqual([]);
    }
    expect((await send1(`GET ${HTTP_PATHS.health} HTTP/1.1\r\n\r\n`)).status).toBe(400); // no Host: Node refuses it
    expect(front.handedOver).toBe(handed + 9);
  });

  it('refuses an announced body over the limit with 413 and closes, without reading it', async () => {
    const c = new RawClient();
    await c.send(`POST ${HTTP_PATHS.provision} HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n{"serial":`);
    const [a] = await c.next(1);
    expect(a!.status).toBe(413);
    expect(a!.headers.get('connection')).toBe('close');
    await waitFor(() => c.closed, 'the connection closed');
  });

  it('times out a body that stops arriving (408) and closes idle keep-alive connections, and closes on Connection: close', async () => {
    const slow = new RawClient();
    await slow.send(`PUT ${HTTP_PATHS.state('d')} HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n{"a"`);
    const idle = new RawClient();
    await idle.send(request('GET', HTTP_PATHS.health));
    await idle.next(1);
    const closing = new RawClient();
    await closing.send(request('GET', HTTP_PATHS.health, { headers: { connection: 'close' } }));
    const [bye] = await closing.next(1);
    expect(bye!.headers.get('connection')).toBe('close');
    await waitFor(() => closing.closed, 'closed after its answer');

    await waitFor(() => slow.closed && idle.closed, 'slow and idle clients cut', 10_000);
    const slack = 3_000;
    expect(slow.answers.map((a) => a.status)).toEqual([408]);
    expect(slow.closedAt - slow.openedAt).toBeGreaterThanOrEqual(TIMEOUTS.requestMs - 50);
    expect(slow.closedAt - slow.openedAt).toBeLessThan(TIMEOUTS.requestMs + TIMEOUTS.checkEveryMs + slack);
    expect(idle.closedAt - idle.answeredAt[0]!).toBeGreaterThanOrEqual(TIMEOUTS.keepAliveMs - 50);
    expect(idle.closedAt - idle.answeredAt[0]!).toBeLessThan(TIMEOUTS.keepAliveMs + TIMEOUTS.checkEveryMs + slack);
  });
});

/** One request on a new connection; its one answer. */
async function send1(text: string): Promise<Answer> {
  const c = new RawClient();
  await c.send(text);
  const [a] = await c.next(1);
  return a!;
}
