import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { HTTP_PATHS, encodeTelemetry, telemetryTopic, type ProvisionResponse } from '../../src/wire/reference-protocol.js';
import { FLEET_PATHS, OPERATOR_AUTH_SCHEME } from '../../src/wire/fleet-ops.js';
import { waitFor } from '../helpers/wait-for.js';
import { StarvedTime } from '../helpers/starved-time.js';
import { startCli } from '../helpers/cli.js';
import { OPERATOR_PASSWORD_ENV, OPERATOR_USERNAME } from '../../src/engine/target-setup.js';
import { DEFAULT_EMBEDDED_FLEET_KEY } from '../../src/scenario/resolve.js';

/**
 * What the embedded backend lets a client do that it should not: watch-only operator logins
 * (checked with the real mosquitto_sub), and HTTP clients that send too much or too slowly.
 */

/** mosquitto_sub and mosquitto_pub (Debian's mosquitto-clients); FLEETSIM_REQUIRE_MOSQUITTO=1 makes their absence fail. */
function mosquittoClients(): boolean {
  const ok = spawnSync('mosquitto_sub', ['--help']).error === undefined;
  if (!ok && process.env.FLEETSIM_REQUIRE_MOSQUITTO === '1') throw new Error('FLEETSIM_REQUIRE_MOSQUITTO=1 but mosquitto_sub is not installed');
  if (!ok) console.warn('[fleetsim tests] skipping operator-login tests: mosquitto_sub not found (apt-get install mosquitto-clients)');
  return ok;
}
const hasClients = mosquittoClients();

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

describe.runIf(hasClients)('operator login (FLEETSIM_OPERATOR_PASSWORD)', () => {
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

/**
 * A raw HTTP client that sends `head`, then one more byte of `drip` every `everyMs`, until the
 * server closes. `closedAt`: its life in ms, and the part of it the process was starved.
 */
function slowClient(head: string, drip: string, everyMs: number, starved: StarvedTime): { closedAt: Promise<{ ms: number; starvedMs: number }>; answer: () => string } {
  const url = new URL(backend.httpUrl);
  const s = net.connect({ host: url.hostname, port: Number(url.port) });
  sockets.push(s);
  let answer = '';
  s.setEncoding('utf8');
  s.on('data', (d) => (answer += d));
  s.on('error', () => {});
  const started = Date.now();
  const starvedFrom = starved.now();
  s.on('connect', () => {
    s.write(head);
    let i = 0;
    const timer = setInterval(() => {
      if (s.destroyed || s.writableEnded) return clearInterval(timer);
      s.write(drip[i++ % drip.length]);
    }, everyMs);
    s.once('close', () => clearInterval(timer));
  });
  const closedAt = new Promise<{ ms: number; starvedMs: number }>((resolve) => s.once('close', () => resolve({ ms: Date.now() - started, starvedMs: starved.during(starvedFrom) })));
  return { closedAt, answer: () => answer };
}

/**
 * A well-behaved device polling its target state back to back until `stop`, recording each
 * request's time less the part of it the process was starved (on a loaded box: waiting for a core).
 */
function steadyDevice(serial: string, stop: { done: boolean }, starved: StarvedTime) {
  const latencies: number[] = [];
  const statuses = new Set<number>();
  const done = (async () => {
    const creds = await provision(serial);
    while (!stop.done) {
      const t0 = performance.now();
      const s0 = starved.now();
      const res = await fetch(`${backend.httpUrl}/v1/devices/${creds.deviceId}/target`, { headers: { authorization: `Device ${creds.deviceKey}` } });
      await res.arrayBuffer();
      statuses.add(res.status);
      latencies.push(performance.now() - t0 - starved.during(s0));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { latencies, statuses, done };
}

describe('HTTP API against clients that send too much or too slowly', () => {
  it('cuts slow-loris clients and refuses oversized bodies with 413, while devices keep being served', async () => {
    // Wall-time bounds below hold for the time this process could run: what it was starved of
    // (a loaded box) is measured and added, never a larger slack.
    const starved = new StarvedTime();
    onTestFinished(() => starved.stop());
    const stop = { done: false };
    const devices = [0, 1, 2, 3].map((i) => steadyDevice(`steady-${i}`, stop, starved));
    const polling = Promise.all(devices.map((d) => d.done)); // rejects as soon as one device's request fails

    // Headers that never end, a body that never ends: each holds a socket until a timeout cuts it.
    const loris = [0, 1, 2, 3, 4].map(() => slowClient('GET /v1/health HTTP/1.1\r\nHost: x\r\n', 'X-Slow: y\r\n', 100, starved));
    const slowBody = slowClient(`POST ${HTTP_PATHS.provision} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`, '{', 100, starved);

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
      const { ms, starvedMs } = await l.closedAt;
      expect(ms).toBeGreaterThanOrEqual(TIMEOUTS.headersMs - 100);
      expect(ms - starvedMs).toBeLessThan(TIMEOUTS.headersMs + TIMEOUTS.checkEveryMs + slack);
      expect(l.answer()).toMatch(/^HTTP\/1\.1 408|^$/);
    }
    const body = await slowBody.closedAt;
    expect(body.ms - body.starvedMs).toBeLessThan(TIMEOUTS.requestMs + TIMEOUTS.checkEveryMs + slack);

    // Served all along: many times (how many fit in the slow clients' life depends on the CPU the
    // box left this process, so the devices poll on until each has had four answers), only 200s,
    // none stuck behind the slow clients (a request held until they were cut would take 1.5 s).
    await Promise.race([waitFor(() => devices.every((d) => d.latencies.length > 3), 'four answers to every steady device'), polling]);
    stop.done = true;
    await polling;
    for (const d of devices) {
      expect([...d.statuses]).toEqual([200]);
      expect(Math.max(...d.latencies)).toBeLessThan(1_500);
    }
    // The backend is still healthy afterwards.
    expect((await fetch(backend.httpUrl + HTTP_PATHS.health)).status).toBe(200);
  });
});

describe.runIf(hasClients)('fleetsim run against the embedded backend, with an intruder and an operator watching', () => {
  it('counts the intruder refused in summary.json, the console and report.html; mosquitto_sub sees the fleet', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-intruder-'));
    const scenario = path.join(dir, 'intruder.yaml');
    writeFileSync(
      scenario,
      `
name: intruder
seed: 2
duration: 6s
fleet:
  - { profile: rpi4-gateway, count: 10, link: ethernet }
arrival: { rate: 50/s }
behaviour:
  telemetry: { every: 500ms, size: 64B, qos: 1 }
`,
    );
    const run = startCli(['run', scenario, '-q', '-o', path.join(dir, 'out'), '--workers', '1'], { env: { [OPERATOR_PASSWORD_ENV]: 'op-secret' } });
    let stderr = '';
    run.child.stderr!.on('data', (d) => (stderr += d));
    try {
      await waitFor(() => /embedded backend: http (\S+)\s+mqtt (\S+)/.test(stderr), 'the embedded backend to start', 20_000);
      const [, httpUrl, mqttUrl] = /embedded backend: http (\S+)\s+mqtt (\S+)/.exec(stderr)!;
      expect(stderr).toContain(`operator login: user ${OPERATOR_USERNAME}`);

      // The operator watches with mosquitto_sub until it has seen 5 telemetry messages.
      const port = new URL(mqttUrl).port;
      const watch = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-u', OPERATOR_USERNAME, '-P', 'op-secret', '-t', 'fleet/+/telemetry', '-v', '-C', '5', '-W', '15'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let watched = '';
      watch.stdout.on('data', (d) => (watched += d));
      const watchCode = new Promise<number | null>((resolve) => watch.on('close', resolve));

      // An intruder with the fleet key provisions itself, then tries another device's topic and a wildcard.
      const res = await fetch(httpUrl + HTTP_PATHS.provision, { method: 'POST', body: JSON.stringify({ serial: 'intruder', fleetKey: DEFAULT_EMBEDDED_FLEET_KEY }) });
      const creds = (await res.json()) as ProvisionResponse;
      const intruder = await mqtt.connectAsync(mqttUrl, { username: creds.deviceId, password: creds.deviceKey, reconnectPeriod: 0, protocolVersion: 4 });
      clients.push(intruder);
      await expect(intruder.subscribeAsync('fleet/+/telemetry', { qos: 0 })).rejects.toMatchObject({ packet: { granted: [128] } });
      const closed = new Promise((resolve) => intruder.once('close', resolve));
      intruder.publish(telemetryTopic('d-not-mine'), encodeTelemetry(0, Date.now(), 16), { qos: 0 });
      await closed;

      expect(await watchCode).toBe(0);
      expect(watched.trim().split('\n')).toHaveLength(5);
      expect(watched).toMatch(/^fleet\/d-\S+\/telemetry \{"seq":/m);
      const result = await run.done;
      expect(result.code).toBe(0);
      const reportDir = path.join(dir, 'out', readdirSync(path.join(dir, 'out'))[0]);
      const summary = JSON.parse(readFileSync(path.join(reportDir, 'summary.json'), 'utf8'));
      expect(summary.accounting.backend).toMatchObject({ refusedPublishes: 1, refusedSubscribes: 1 });
      // The intruder's publish was refused, so the accounting still reconciles exactly.
      expect(summary.accounting.holds).toBe(true);
      expect(summary.accounting.backend.lostBetween).toBe(0);
      const refusal = /embedded broker refused 1 publishes and 1 subscriptions outside a device's own topics/;
      expect(result.stdout).toMatch(refusal);
      expect(readFileSync(path.join(reportDir, 'report.html'), 'utf8')).toMatch(/embedded broker refused 1 publishes and 1 subscriptions outside a device&#39;s own topics/);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
