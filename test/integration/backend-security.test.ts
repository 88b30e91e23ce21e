import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { HTTP_PATHS, encodeTelemetry, telemetryTopic, type ProvisionResponse } from '../../src/wire/reference-protocol.js';
import { FLEET_PATHS, OPERATOR_AUTH_SCHEME } from '../../src/wire/fleet-ops.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * What the embedded backend lets a client do that it should not: watch-only operator logins
 * (checked with the real mosquitto_sub), and HTTP clients that send too much or too slowly.
 */

const FLEET_KEY = 'security-fleet-key';
const OPERATOR = { username: 'operator', password: 'watch-it-all' };
// Short timeouts so a slow client is cut within the test's budget; the defaults are HTTP_TIMEOUTS.
const TIMEOUTS = { keepAliveMs: 1_000, headersMs: 1_500, requestMs: 2_500, checkEveryMs: 250 };

let backend: EmbeddedBackend;
const clients: MqttClient[] = [];
const sockets: net.Socket[] = [];

beforeAll(async () => {
  backend = await startEmbeddedBackend({ fleetKey: FLEET_KEY, operator: OPERATOR, httpTimeouts: TIMEOUTS });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  for (const s of sockets.splice(0)) s.destroy();
});
afterAll(async () => {
  await backend.close();
});

async function provision(serial: string): Promise<ProvisionResponse> {
  const res = await fetch(backend.httpUrl + HTTP_PATHS.provision, { method: 'POST', body: JSON.stringify({ serial, fleetKey: FLEET_KEY }) });
  expect(res.status).toBe(201);
  return (await res.json()) as ProvisionResponse;
}

async function connectDevice(creds: ProvisionResponse): Promise<MqttClient> {
  const c = await mqtt.connectAsync(backend.mqttUrl, { username: creds.deviceId, password: creds.deviceKey, reconnectPeriod: 0, protocolVersion: 4 });
  clients.push(c);
  return c;
}

/** Runs a Mosquitto command-line client against the embedded broker; resolves with its exit code and output. */
function mosquittoClient(bin: 'mosquitto_sub' | 'mosquitto_pub', args: string[], onStdout?: (text: string) => void) {
  const port = new URL(backend.mqttUrl).port;
  const child = spawn(bin, ['-h', '127.0.0.1', '-p', port, '-V', 'mqttv311', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    onStdout?.(stdout);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => stdout + stderr };
}

describe('operator login (FLEETSIM_OPERATOR_PASSWORD)', () => {
  it('lets mosquitto_sub watch every device with a wildcard, and only with the right password', async () => {
    const a = await connectDevice(await provision('watched-a'));
    const b = await connectDevice(await provision('watched-b'));
    // mosquitto_sub's output is block-buffered into a pipe, so the test cannot see when it has
    // subscribed: the devices publish until it has had its two messages (-C 2) and exits.
    const sub = mosquittoClient('mosquitto_sub', ['-u', OPERATOR.username, '-P', OPERATOR.password, '-t', 'fleet/#', '-v', '-C', '2']);
    let exited = false;
    void sub.done.then(() => (exited = true));
    try {
      let seq = 0;
      await waitFor(
        async () => {
          if (exited) return true;
          await a.publishAsync(telemetryTopic('d-watched-a'), encodeTelemetry(seq, Date.now(), 32), { qos: 1 });
          await b.publishAsync(telemetryTopic('d-watched-b'), encodeTelemetry(seq++, Date.now(), 32), { qos: 1 });
          return exited;
        },
        'mosquitto_sub to receive two messages',
        15_000,
        100,
      );
      const { code, stdout } = await sub.done;
      expect(code).toBe(0);
      expect(stdout).toMatch(/^fleet\/d-watched-a\/telemetry \{"seq":\d+/m);
      expect(stdout).toMatch(/^fleet\/d-watched-b\/telemetry \{"seq":\d+/m);
    } finally {
      sub.child.kill();
    }
    // Watching did not disturb counting.
    expect(backend.countsFor('d-watched-a')).toMatchObject({ duplicates: 0, gaps: 0 });
    expect(backend.countsFor('d-watched-a')!.received).toBeGreaterThan(0);

    const wrong = await mosquittoClient('mosquitto_sub', ['-u', OPERATOR.username, '-P', 'guess', '-t', 'fleet/#', '-C', '1']).done;
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/not authori[sz]ed|bad user name or password/i);
  });

  it('refuses a publish by the operator (watch-only) and counts it', async () => {
    const before = backend.stats().totals.refusedPublishes!;
    const pub = await mosquittoClient('mosquitto_pub', ['-u', OPERATOR.username, '-P', OPERATOR.password, '-t', telemetryTopic('d-watched-a'), '-m', 'forged', '-q', '1']).done;
    // The broker closes the session instead of acknowledging; the message is never counted.
    expect(pub.code).not.toBe(0);
    expect(backend.stats().totals.refusedPublishes).toBe(before + 1);
    expect(backend.malformedTelemetry()).toBe(0);
  });

  it('gives devices no wildcard, even with the operator login enabled', async () => {
    const c = await connectDevice(await provision('no-wildcard'));
    await expect(c.subscribeAsync('fleet/#', { qos: 0 })).rejects.toMatchObject({ packet: { granted: [128] } });
  });
});

/** A raw HTTP client that sends `head`, then one more byte of `drip` every `everyMs`, until the server closes. */
function slowClient(head: string, drip: string, everyMs: number): { closedAt: Promise<number>; answer: () => string } {
  const url = new URL(backend.httpUrl);
  const s = net.connect({ host: url.hostname, port: Number(url.port) });
  sockets.push(s);
  let answer = '';
  s.setEncoding('utf8');
  s.on('data', (d) => (answer += d));
  s.on('error', () => {});
  const started = Date.now();
  s.on('connect', () => {
    s.write(head);
    let i = 0;
    const timer = setInterval(() => {
      if (s.destroyed || s.writableEnded) return clearInterval(timer);
      s.write(drip[i++ % drip.length]);
    }, everyMs);
    s.once('close', () => clearInterval(timer));
  });
  const closedAt = new Promise<number>((resolve) => s.once('close', () => resolve(Date.now() - started)));
  return { closedAt, answer: () => answer };
}

/** A well-behaved device polling its target state back to back until `stop`, recording each request's time. */
async function steadyDevice(serial: string, stop: { done: boolean }) {
  const creds = await provision(serial);
  const latencies: number[] = [];
  const statuses = new Set<number>();
  while (!stop.done) {
    const t0 = performance.now();
    const res = await fetch(`${backend.httpUrl}/v1/devices/${creds.deviceId}/target`, { headers: { authorization: `Device ${creds.deviceKey}` } });
    await res.arrayBuffer();
    statuses.add(res.status);
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { latencies, statuses };
}

describe('HTTP API against clients that send too much or too slowly', () => {
  it('cuts slow-loris clients and refuses oversized bodies with 413, while devices keep being served', async () => {
    const stop = { done: false };
    const devices = Promise.all([0, 1, 2, 3].map((i) => steadyDevice(`steady-${i}`, stop)));

    // Headers that never end, a body that never ends: each holds a socket until a timeout cuts it.
    const loris = [0, 1, 2, 3, 4].map(() => slowClient('GET /v1/health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: y\r\n', 100));
    const slowBody = slowClient(`POST ${HTTP_PATHS.provision} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`, '{', 100);

    // Oversized bodies: announced (Content-Length), streamed (chunked), on the device and the operator routes.
    const big = 'x'.repeat(8 * 2 ** 20);
    const announced = await fetch(backend.httpUrl + HTTP_PATHS.provision, { method: 'POST', body: big });
    expect(announced.status).toBe(413);
    expect(announced.headers.get('connection')).toBe('close');
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 64; i++) c.enqueue(new TextEncoder().encode('y'.repeat(64 * 1024)));
        c.close();
      },
    });
    const chunked = await fetch(backend.httpUrl + HTTP_PATHS.provision, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    const operatorRoute = await fetch(backend.httpUrl + FLEET_PATHS.config, { method: 'POST', body: big, headers: { authorization: `${OPERATOR_AUTH_SCHEME} ${FLEET_KEY}` } });
    expect(operatorRoute.status).toBe(413);

    // Each slow client is cut at its timeout plus at most one check interval (and scheduling slack).
    const slack = 3_000;
    for (const l of loris) {
      const ms = await l.closedAt;
      expect(ms).toBeGreaterThanOrEqual(TIMEOUTS.headersMs - 100);
      expect(ms).toBeLessThan(TIMEOUTS.headersMs + TIMEOUTS.checkEveryMs + slack);
      expect(l.answer()).toMatch(/^HTTP\/1\.1 408|^$/);
    }
    const bodyMs = await slowBody.closedAt;
    expect(bodyMs).toBeLessThan(TIMEOUTS.requestMs + TIMEOUTS.checkEveryMs + slack);

    stop.done = true;
    const served = await devices;
    for (const d of served) {
      // Served all along: only 200s, many of them, none stuck behind the slow clients.
      expect([...d.statuses]).toEqual([200]);
      expect(d.latencies.length).toBeGreaterThan(3);
      expect(Math.max(...d.latencies)).toBeLessThan(1_500);
    }
    // The backend is still healthy afterwards.
    expect((await fetch(backend.httpUrl + HTTP_PATHS.health)).status).toBe(200);
  });
});
