/**
 * Subscriptions sent with the CONNECT (MqttConnectOptions.subscribe, options.mqttPipelining):
 * MQTT 3.1.1 §3.1 lets a client send further packets without waiting for CONNACK. The lean
 * transport writes CONNECT and SUBSCRIBE in one write; mqtt.js subscribes once CONNACK arrives.
 * Against aedes, Mosquitto and the embedded backend's lean broker, on loopback ports chosen by
 * the OS; and a refused CONNECT reports the refusal, nothing else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMqttTransport } from '../../src/drivers/mqtt/index.js';
import type { MqttClientKind, MqttTransport } from '../../src/drivers/types.js';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { HTTP_PATHS, commandsTopic, type ProvisionResponse } from '../../src/wire/reference-protocol.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { startAedes } from '../helpers/aedes.js';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { EventLog, guardSynchronousCallbacks } from '../helpers/mqtt-events.js';
import { startMqttTap, type MqttTap } from '../helpers/mqtt-tap.js';
import { eventLoopTurns, waitFor } from '../helpers/wait-for.js';

const mosquittoOk = requireMosquitto();
let seq = 0;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function open(kind: MqttClientKind, url: string): { t: MqttTransport; log: EventLog } {
  const log = new EventLog();
  const t = guardSynchronousCallbacks(createMqttTransport(kind, { url, devices: 4, connectTimeoutMs: 5000 }, log), log);
  cleanups.push(() => t.close());
  return { t, log };
}

async function tapTo(port: number): Promise<MqttTap> {
  const tap = await startMqttTap(port);
  cleanups.push(() => tap.close());
  return tap;
}

/** Device 0 connects with a subscription; device 1 publishes there; device 0 gets it without ever calling subscribe(). */
async function subscribedWithConnect(kind: MqttClientKind, tap: MqttTap, login: { username?: string; password?: string } = {}): Promise<void> {
  const { t, log } = open(kind, tap.url);
  const topic = `pl/${seq}/commands`;
  t.connect(0, { clientId: `pl-${kind}-${seq++}`, keepalive: 30, ...login, subscribe: [{ topic, qos: 1 }] });
  t.connect(1, { clientId: `pl-${kind}-${seq++}`, keepalive: 30, ...login });
  await waitFor(() => log.connects.length === 2, 'both connects');
  expect(log.connects.every((c) => c.ok)).toBe(true);
  // One connection's packets are handled in order: once this is acked, the SUBSCRIBE was handled.
  t.publish(0, `pl/${seq}/barrier`, Buffer.from('b'), 1, 1);
  await waitFor(() => log.acks.length === 1, 'the barrier ack');
  t.publish(1, topic, Buffer.from('reboot'), 1, 2);
  await waitFor(() => log.messages.length === 1, 'the message on the subscribed topic');
  expect(log.messages[0]).toMatchObject({ dev: 0, topic });
  expect(log.messages[0].payload.toString()).toBe('reboot');
  const firstReads = tap.clientReads.filter((r) => r[0] === 'connect');
  expect(firstReads.length).toBe(2);
  // Device 0's CONNECT is the one followed by a SUBSCRIBE, in the same read (lean) or a later one.
  const withSub = firstReads.filter((r) => r.includes('subscribe'));
  if (kind === 'lean') expect(withSub).toEqual([['connect', 'subscribe']]);
  else expect(withSub).toEqual([]); // mqtt.js waits for CONNACK: the SUBSCRIBE left in a write of its own
  expect(tap.fromClient.get('subscribe')).toBe(1);
  expect(log.lost).toEqual([]);
  expect(log.syncCallbacks).toBe(0);
}

for (const kind of ['lean', 'mqttjs'] as const) {
  describe(`subscriptions with the CONNECT: ${kind}`, () => {
    it('aedes: the subscription holds, and a refused CONNECT is reported as refused with nothing else', async () => {
      const aedes = await startAedes({ refuseUsername: 'intruder' });
      cleanups.push(() => aedes.close());
      await subscribedWithConnect(kind, await tapTo(aedes.port));

      const tap = await tapTo(aedes.port);
      const { t, log } = open(kind, tap.url);
      t.connect(2, { clientId: `pl-refused-${seq++}`, username: 'intruder', password: 'x', keepalive: 30, subscribe: [{ topic: 'pl/x/commands', qos: 1 }] });
      await waitFor(() => log.connects.length === 1, 'the refusal');
      expect(log.connects).toEqual([{ dev: 2, ok: false, code: 4 }]);
      expect(t.connectedCount()).toBe(0);
      expect(t.isConnected(2)).toBe(false);
      await eventLoopTurns();
      expect(log.lost).toEqual([]);
      expect(log.messages).toEqual([]);
      expect(log.syncCallbacks).toBe(0);
      // The lean client did send its SUBSCRIBE behind the CONNECT; the broker discarded it.
      expect(tap.clientReads[0]).toEqual(kind === 'lean' ? ['connect', 'subscribe'] : ['connect']);
    });

    it.runIf(mosquittoOk)('Mosquitto: the subscription holds', async () => {
      const mosquitto = await startMosquitto({ allowAnonymous: true });
      cleanups.push(() => mosquitto.stop());
      await subscribedWithConnect(kind, await tapTo(mosquitto.port));
    });
  });
}

describe('subscriptions with the CONNECT: the embedded backend', () => {
  let backend: EmbeddedBackend;
  async function provision(serial: string): Promise<ProvisionResponse> {
    const res = await fetch(backend.httpUrl + HTTP_PATHS.provision, { method: 'POST', body: JSON.stringify({ serial, fleetKey: 'pl-key' }) });
    expect(res.status).toBe(201);
    return (await res.json()) as ProvisionResponse;
  }

  it("the lean broker answers CONNECT + SUBSCRIBE in one read, delivers commands, and discards what follows a refused CONNECT", async () => {
    backend = await startEmbeddedBackend({ fleetKey: 'pl-key' });
    cleanups.push(() => backend.close());
    const d = await provision('pl-1');
    const { t, log } = open('lean', backend.mqttUrl);
    const topic = commandsTopic(d.deviceId);
    t.connect(0, { clientId: d.deviceId, username: d.deviceId, password: d.deviceKey, keepalive: 30, subscribe: [{ topic, qos: 1 }] });
    // A wrong key: refused with "bad user name or password" (4), and its SUBSCRIBE never registered.
    const other = await provision('pl-2');
    t.connect(1, { clientId: other.deviceId, username: other.deviceId, password: 'wrong', keepalive: 30, subscribe: [{ topic: commandsTopic(other.deviceId), qos: 1 }] });
    await waitFor(() => log.connects.length === 2, 'both connect outcomes');
    expect(log.connects).toContainEqual({ dev: 0, ok: true, code: 0 });
    expect(log.connects).toContainEqual({ dev: 1, ok: false, code: 4 });
    t.publish(0, `fleet/${d.deviceId}/responses`, Buffer.from('{}'), 1, 1);
    await waitFor(() => log.acks.length === 1, 'the barrier ack');
    await backend.sendCommand(d.deviceId, 'reboot');
    await backend.sendCommand(other.deviceId, 'reboot');
    await waitFor(() => log.messages.length === 1, 'the command');
    expect(log.messages[0]).toMatchObject({ dev: 0, topic });
    expect(backend.mqttClients()).toBe(1);
    await eventLoopTurns();
    expect(log.messages.length).toBe(1);
    expect(log.lost).toEqual([]);
  });

  it('a fleet run with options.mqttPipelining: commands reach every device, the end-of-line test passes, the accounting holds', async () => {
    const s = parseScenarioText(
      `
name: pipelined
seed: 4
duration: 5s
fleet:
  - { profile: rpi4-gateway, count: 30, link: ethernet }
arrival: { rate: 300/s }
provisioning: { endOfLineTest: true }
behaviour:
  telemetry: { every: 500ms, jitter: 10%, size: 100B, qos: 1 }
  diagnostics: { processing: 50ms }
phases:
  - at: 2s
    command: { name: diagnostics }
options: { mqttPipelining: true }
`,
      'pipelined.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'pipelined', drainMs: 3000 });
    expect(summary.counters['provision.ok']).toBe(30);
    expect(summary.counters['provision.eol_ok']).toBe(30);
    expect(summary.counters['mqtt.connect.failed'] ?? 0).toBe(0);
    expect(summary.fleet!.commands).toEqual({ sent: 30, received: 30, answered: 30 });
    expect(summary.accounting.holds).toBe(true);
    expect(summary.accounting.generated).toBeGreaterThan(0);
    expect(summary.accounting.failed).toBe(0);
    expect(summary.counters['mqtt.connect.ok']).toBe(30);
  });
});
