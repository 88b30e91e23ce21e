import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ActiveFaults } from '../../src/faults/active-faults.js';
import { FleetMap } from '../../src/faults/fleet-map.js';
import { FaultHttpProxy, GARBAGE_BODY } from '../../src/faults/http-proxy.js';
import { InjectedCounts } from '../../src/faults/injected.js';
import { FaultMqttProxy } from '../../src/faults/mqtt-proxy.js';
import { FaultTlsPassthrough } from '../../src/faults/tls-passthrough.js';
import { startLocalMosquitto } from '../../src/drivers/mqtt/local-mosquitto.js';
import { createFleetCa, issueCertificate } from '../../src/identity/x509.js';
import { requireMosquitto } from '../helpers/mosquitto.js';
import type { BackendFault, FaultPhase, FaultScope } from '../../src/faults/spec.js';
import { startAedes, type TestAedes } from '../helpers/aedes.js';
import { waitFor } from '../helpers/wait-for.js';
import { FaultInjection } from '../../src/engine/fault-injection.js';
import type { ShardTarget } from '../../src/engine/shard/task.js';
import { parseScenarioText } from '../../src/scenario/load.js';

/**
 * The fault proxy (src/faults/) on loopback between real clients and real servers: each fault
 * does what the scenario says, to the devices it picks and no others, and is counted.
 */
const map = () => new FleetMap({ seed: 3, serialPrefix: 'px', devices: 10, groups: [{ firstDevice: 0, count: 6, profile: 'a', link: 'wifi' }, { firstDevice: 6, count: 4, profile: 'b', link: 'ethernet' }] });
const phase = (index: number, fault: BackendFault, scope: FaultScope = {}): FaultPhase => ({ index, atMs: 0, forMs: 1000, scope, fault });

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function upstreamHttp(): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.url === '/v1/provision' ? 201 : 200, { 'content-type': 'application/json' });
      res.end(req.url === '/v1/provision' ? '{"deviceId":"backend-id-7","deviceKey":"k"}' : '{"release":"r","config":{},"etag":"e"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function httpProxy(): Promise<{ proxy: FaultHttpProxy; active: ActiveFaults }> {
  const active = new ActiveFaults(map(), new InjectedCounts(), 3);
  const proxy = await new FaultHttpProxy(await upstreamHttp(), active).start();
  cleanups.push(() => proxy.close());
  return { proxy, active };
}

const poll = (base: string, id: string, signal?: AbortSignal) => fetch(`${base}/v1/devices/${id}/target`, { signal });

describe('fault proxy, HTTP', () => {
  it('answers the picked route with the status and Retry-After, forwards the rest, and counts what it injected', async () => {
    const { proxy, active } = await httpProxy();
    active.start(phase(0, { target: 'http', routes: ['poll'], share: 1, action: { kind: 'status', status: 503, retryAfterMs: 5000 } }));
    const r = await poll(proxy.url, 'd-px-1');
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    await r.text();
    const p = await fetch(`${proxy.url}/v1/provision`, { method: 'POST', body: '{"serial":"px-7","fleetKey":"k"}' });
    expect(p.status).toBe(201);
    await p.text();
    expect(active.counts.list()).toEqual([{ phase: 0, kind: 'http_status', route: 'poll', count: 1 }]);
  });

  it('scopes by profile, learning device ids from provisioning answers', async () => {
    const { proxy, active } = await httpProxy();
    // Device 7 is in group b; the backend names it backend-id-7, which the proxy learns.
    await (await fetch(`${proxy.url}/v1/provision`, { method: 'POST', body: '{"serial":"px-7","fleetKey":"k"}' })).text();
    active.start(phase(1, { target: 'http', routes: ['poll'], share: 1, action: { kind: 'status', status: 429 } }, { profile: 'b' }));
    expect((await poll(proxy.url, 'backend-id-7')).status).toBe(429);
    expect((await poll(proxy.url, 'd-px-2')).status).toBe(200);
    expect(active.counts.total(1)).toBe(1);
  });

  it('resets, stalls, answers garbage and adds latency', async () => {
    const { proxy, active } = await httpProxy();
    const reset = phase(0, { target: 'http', routes: ['poll'], share: 1, action: { kind: 'reset' } });
    active.start(reset);
    await expect(poll(proxy.url, 'd-px-1')).rejects.toThrow();
    active.end(reset);
    const stall = phase(1, { target: 'http', routes: ['poll'], share: 1, action: { kind: 'stall' } });
    active.start(stall);
    await expect(poll(proxy.url, 'd-px-1', AbortSignal.timeout(300))).rejects.toThrow(/abort|timeout/i);
    active.end(stall);
    const garbage = phase(2, { target: 'http', routes: ['poll'], share: 1, action: { kind: 'body', body: 'garbage' } });
    active.start(garbage);
    expect(await (await poll(proxy.url, 'd-px-1')).text()).toBe(GARBAGE_BODY);
    active.end(garbage);
    active.start(phase(3, { target: 'http', routes: ['poll'], share: 1, action: { kind: 'latency', latency: { kind: 'fixed', ms: 250 } } }));
    const t0 = performance.now();
    expect((await poll(proxy.url, 'd-px-1')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(active.counts.list().map((c) => c.kind)).toEqual(['reset', 'stall', 'garbage_body', 'latency']);
  });
});

async function mqttProxy(): Promise<{ proxy: FaultMqttProxy; active: ActiveFaults; broker: TestAedes }> {
  const broker = await startAedes();
  cleanups.push(() => broker.close());
  const active = new ActiveFaults(map(), new InjectedCounts(), 3);
  const proxy = await new FaultMqttProxy({ host: '127.0.0.1', port: broker.port }, active).start();
  cleanups.push(() => proxy.close());
  return { proxy, active, broker };
}

function client(url: string, id: string): MqttClient {
  const c = mqtt.connect(url, { clientId: id, reconnectPeriod: 0, connectTimeout: 3000 });
  c.on('error', () => {});
  cleanups.push(() => { c.end(true); });
  return c;
}
const connected = (c: MqttClient) => new Promise<void>((resolve, reject) => { c.once('connect', () => resolve()); c.once('error', reject); });

describe('fault proxy, MQTT', () => {
  it('refuses a CONNECT with the CONNACK code asked for, and lets other devices through', async () => {
    const { proxy, active } = await mqttProxy();
    active.start(phase(0, { target: 'mqtt', share: 1, action: { kind: 'refuse', code: 3 } }, { profile: 'b' }));
    await expect(connected(client(proxy.url, 'd-px-8'))).rejects.toMatchObject({ code: 3 });
    await connected(client(proxy.url, 'd-px-1'));
    expect(active.counts.list()).toEqual([{ phase: 0, kind: 'connack_refused', route: 'mqtt_connect', count: 1 }]);
  });

  it('drops PUBACKs so a QoS 1 publish stays unacknowledged, then lets them through again', async () => {
    const { proxy, active } = await mqttProxy();
    const c = client(proxy.url, 'd-px-2');
    await connected(c);
    const drop = phase(0, { target: 'mqtt', share: 1, action: { kind: 'drop-pubacks' } });
    active.start(drop);
    let acked = false;
    c.publish('fleet/d-px-2/telemetry', 'x', { qos: 1 }, () => (acked = true));
    await waitFor(() => active.counts.total(0) === 1, 'a dropped PUBACK');
    expect(acked).toBe(false);
    active.end(drop);
    await c.publishAsync('fleet/d-px-2/telemetry', 'y', { qos: 1 });
  });

  it('disconnects the sessions of picked devices at the phase start, and blackholes without closing', async () => {
    const { proxy, active } = await mqttProxy();
    const a = client(proxy.url, 'd-px-1');
    const b = client(proxy.url, 'd-px-7');
    await Promise.all([connected(a), connected(b)]);
    let aClosed = false;
    a.on('close', () => (aClosed = true));
    active.start(phase(0, { target: 'mqtt', share: 1, action: { kind: 'disconnect' } }, { profile: 'a' }));
    await waitFor(() => aClosed, 'the picked session to close');
    expect(b.connected).toBe(true);
    const hole = phase(1, { target: 'mqtt', share: 1, action: { kind: 'blackhole' } });
    active.start(hole);
    let acked = false;
    b.publish('fleet/d-px-7/telemetry', 'x', { qos: 1 }, () => (acked = true));
    await waitFor(() => active.counts.total(1) === 1, 'the blackholed session counted');
    expect(acked).toBe(false);
    expect(proxy.open).toBe(1);
    expect(active.counts.list().map((c) => [c.kind, c.count])).toEqual([['session_disconnected', 1], ['session_blackholed', 1]]);
  });
});

describe('fault proxy and TLS', () => {
  const scenario = (backend: string) => parseScenarioText(`name: tls-faults
duration: 10s
fleet: [{ profile: rpi4-gateway, count: 2 }]
arrival: { rate: 10/s }
phases:
  - { at: 1s, for: 1s, backend: { http: { status: 503 } } }
  - { at: 4s, for: 3s, backend: ${backend} }
`, 'tls-faults.yaml');
  const target = (httpUrl: string, mqttUrl: string | string[]): ShardTarget => ({ httpUrl, mqttUrl, fleetKey: 'k', preset: { kind: 'builtin', name: 'reference' } });

  it('what the proxy cannot do through TLS is refused before anything starts, naming the phase, the fault and why', async () => {
    const mqtts = target('http://127.0.0.1:1', ['mqtt://127.0.0.1:2', 'mqtts://127.0.0.1:3']);
    await expect(FaultInjection.start(scenario('{ mqtt: { refuse: {} } }'), mqtts, [], () => {})).rejects.toMatchObject({
      code: 'FLEETSIM_E_FAULT_UNSUPPORTED',
      message: expect.stringMatching(/^phases\[1\]\.backend\.mqtt: the fault proxy cannot inject "mqtt refuse \(CONNACK 3\)" in front of mqtts:\/\/: CONNACK refusals/),
    });
    await expect(FaultInjection.start(scenario('{ mqtt: { blackhole: {} } }, scope: { devices: 50% }'), mqtts, [], () => {})).rejects.toMatchObject({ message: expect.stringContaining('a scope needs the client id') });
    await expect(FaultInjection.start(scenario('{ mqtt: { blackhole: {} } }'), target('https://127.0.0.1:1', 'mqtt://127.0.0.1:2'), [], () => {})).rejects.toMatchObject({
      code: 'FLEETSIM_E_FAULT_UNSUPPORTED',
      message: expect.stringContaining('phases[0].backend.http: the fault proxy cannot inject "http 503 provision,poll,state,artifact" in front of https://'),
    });
  });
});

describe.runIf(requireMosquitto())('fault proxy in front of an mqtts:// broker: bytes passed through, whole connections faulted', () => {
  it('a blackhole holds a connection\'s bytes both ways and delivers them when it heals; a disconnect closes it; both counted', async () => {
    const ca = await createFleetCa('fault proxy CA');
    const server = await issueCertificate(ca, 'localhost', { server: ['127.0.0.1', 'localhost'] });
    const broker = await startLocalMosquitto({ tls: { ca: ca.pem.cert, cert: server.cert, key: server.key, requireCertificate: false } });
    cleanups.push(() => broker.stop());
    const active = new ActiveFaults(map(), new InjectedCounts(), 3);
    const up = new URL(broker.url);
    const proxy = await new FaultTlsPassthrough({ host: up.hostname, port: Number(up.port) }, active).start();
    cleanups.push(() => proxy.close());
    expect(proxy.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const c = mqtt.connect(proxy.url, { clientId: 'd-px-1', reconnectPeriod: 0, connectTimeout: 5000, ca: ca.pem.cert, servername: 'localhost' });
    c.on('error', () => {});
    cleanups.push(() => { c.end(true); });
    await connected(c);

    const hole = phase(0, { target: 'mqtt', share: 1, action: { kind: 'blackhole' } });
    active.start(hole);
    let acked = false;
    c.publish('fleet/d-px-1/telemetry', 'x', { qos: 1 }, () => (acked = true));
    // A PUBACK over loopback takes well under a second: none within 1 s means the bytes are held.
    const deadline = Date.now() + 1000;
    await waitFor(() => acked || Date.now() >= deadline, 'a second to pass');
    expect(acked).toBe(false);
    expect(proxy.open).toBe(1);
    expect(c.connected).toBe(true);
    active.end(hole);
    await waitFor(() => acked, 'the held PUBLISH acknowledged once the partition healed');

    let closed = false;
    c.on('close', () => (closed = true));
    active.start(phase(1, { target: 'mqtt', share: 1, action: { kind: 'disconnect' } }));
    await waitFor(() => closed, 'the connection closed');
    expect(active.counts.list().map((x) => [x.kind, x.count])).toEqual([['session_blackholed', 1], ['session_disconnected', 1]]);
  }, 30_000);
});
