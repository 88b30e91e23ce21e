/**
 * Request/response over MQTT (protocols/example-mqtt.yaml, drivers/mqtt-requests.ts) against the
 * acme test backend on loopback:
 * - scenarios/custom-protocol-mqtt.yaml end to end: provisioning, update checks and state reports
 *   over MQTT, logs over HTTP; the backend's per-thing counts reconcile with fleetsim's;
 * - a backend that stays silent, refuses, or answers after the timeout: each request reports its
 *   true cause (NET_TIMEOUT, the refusal's status) as an HTTP route would, and a late answer is
 *   counted, never acted on.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAcmeFake, type AcmeFake, type ThingCounts } from '../../src/backend/fakes/acme/index.js';
import { declarativePreset } from '../../src/drivers/presets/declarative.js';
import { NET_TIMEOUT, POLL_CHANGED, type DriverEvents } from '../../src/drivers/types.js';
import { WireDriver } from '../../src/drivers/wire-driver.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { loadScenario } from '../../src/scenario/load.js';
import { parseProtocolText } from '../../src/scenario/protocol-load.js';
import { waitFor } from '../helpers/wait-for.js';

describe('scenarios/custom-protocol-mqtt.yaml', () => {
  it('runs, passes its thresholds and reconciles per device with the backend', async () => {
    const s = loadScenario('scenarios/custom-protocol-mqtt.yaml', { duration: '15s' });
    const result = await runScenario(s, { workers: 2, runId: 'it-custom-protocol-mqtt', collectDeviceCounts: true, drainMs: 5000 });
    const { summary } = result;
    expect(summary.run.status).toBe('completed');
    expect(summary.accounting.holds).toBe(true);
    // Nothing failed on the way; how far devices got in 15 s depends on the machine's load.
    for (const m of ['provision.failed', 'poll.failed', 'mqtt.connect.failed', 'telemetry.failed', 'mqtt.request.late']) expect(summary.counters[m] ?? 0, m).toBe(0);
    const things = result.backendDevices as unknown as ThingCounts[];
    expect(things.length).toBeGreaterThan(0);
    expect(summary.counters['provision.ok']).toBe(things.length);
    for (const t of things) {
      const g = Number(t.serial.slice(t.serial.lastIndexOf('-') + 1));
      expect(t.received, t.serial).toBe(result.deviceAcked!.get(g) ?? 0);
      expect([t.duplicates, t.gaps, t.malformedTelemetry], t.serial).toEqual([0, 0, 0]);
      expect(t.provisions, t.serial).toBe(1);
    }
    // Every update check the devices counted answered went over MQTT to the backend (one per device may be in flight at the stop).
    const polls = things.reduce((n, t) => n + t.polls, 0);
    expect(summary.counters['poll.ok'] ?? 0).toBeLessThanOrEqual(polls);
    expect(polls - (summary.counters['poll.ok'] ?? 0)).toBeLessThanOrEqual(things.length);
  }, 60_000);
});

const KEY = 'acme-mqtt-key';
/** protocols/example-mqtt.yaml with 700 ms timeouts, so silence becomes a timeout quickly. */
const protocol = parseProtocolText(readFileSync('protocols/example-mqtt.yaml', 'utf8').replaceAll('timeout: 10s', 'timeout: 700ms'), 'example-mqtt.yaml', path.resolve('protocols/example-mqtt.yaml'));

type Ev = [string, number];
function open(be: AcmeFake): { d: WireDriver; log: Ev[]; late: number[] } {
  const log: Ev[] = [];
  const late: number[] = [];
  const events: DriverEvents = {
    onProvisioned: (_dev, status) => log.push(['provisioned', status]),
    onConnected: (_dev, ok) => log.push(['connected', ok ? 1 : 0]),
    onTelemetryAcked: () => {},
    onConnectionLost: () => log.push(['lost', 0]),
    onPolled: (_dev, status) => log.push(['polled', status]),
  };
  const d = new WireDriver(
    { httpUrl: be.httpUrl, mqttUrl: be.mqttUrl, preset: declarativePreset(protocol.data, protocol.secrets)({ fleetKey: KEY }), devices: 1, mqttClient: 'lean', http: { connections: 'pooled', poolSize: 1 }, keepaliveSec: 30, connectTimeoutMs: 5000, httpTimeoutMs: 5000, onLateAnswer: (dev) => late.push(dev) },
    events,
  );
  return { d, log, late };
}

describe('MQTT requests a backend does not answer well', () => {
  let be: AcmeFake | undefined;
  let driver: WireDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    await be?.close();
    be = driver = undefined;
  });

  it('provisioning: silence is a timeout, a refusal its status, a late answer is counted and ignored; then it works', async () => {
    be = await startAcmeFake({ provisioningKey: KEY, commandOnSubscribe: false });
    const { d, log, late } = open(be);
    driver = d;
    const answered = (n: number) => waitFor(() => log.filter((e) => e[0] === 'provisioned').length === n, `provisioning answer ${n}`);
    be.mqttApi.mode.provision = 'silent';
    d.provision(0, 'mqtt-dev-1');
    await answered(1);
    be.mqttApi.mode.provision = 'refuse';
    d.provision(0, 'mqtt-dev-1');
    await answered(2);
    be.mqttApi.lateMs = 1200;
    be.mqttApi.mode.provision = 'late';
    d.provision(0, 'mqtt-dev-1');
    await answered(3);
    // The late answer reaches no one: the provisioning session was closed at the timeout.
    be.mqttApi.mode.provision = 'answer';
    d.provision(0, 'mqtt-dev-1');
    await answered(4);
    expect(log.filter((e) => e[0] === 'provisioned').map((e) => e[1])).toEqual([NET_TIMEOUT, 503, NET_TIMEOUT, 201]);
    expect(log.filter((e) => e[0] === 'lost')).toEqual([]);
    expect(late).toEqual([]);
    expect(be.mqttApi.requests.provision).toBe(4);
    expect(d.deviceIdOf(0)).toBe('th-mqtt-dev-1');
  });

  it('update check: silence is a timeout, a refusal its status, an answer after the timeout is counted late, not acted on', async () => {
    be = await startAcmeFake({ provisioningKey: KEY, commandOnSubscribe: false });
    const { d, log, late } = open(be);
    driver = d;
    d.provision(0, 'mqtt-dev-2');
    await waitFor(() => log.some((e) => e[0] === 'provisioned'), 'provisioned');
    d.connect(0);
    await waitFor(() => log.some((e) => e[0] === 'connected'), 'connected');
    const polled = (n: number) => waitFor(() => log.filter((e) => e[0] === 'polled').length === n, `poll answer ${n}`);
    be.mqttApi.mode.poll = 'silent';
    d.pollTarget(0);
    await polled(1);
    be.mqttApi.mode.poll = 'refuse';
    d.pollTarget(0);
    await polled(2);
    be.mqttApi.lateMs = 1200;
    be.mqttApi.mode.poll = 'late';
    d.pollTarget(0);
    await polled(3);
    await waitFor(() => late.length === 1, 'the late answer counted');
    be.mqttApi.mode.poll = 'answer';
    d.pollTarget(0);
    await polled(4);
    expect(log.filter((e) => e[0] === 'polled').map((e) => e[1])).toEqual([NET_TIMEOUT, 503, NET_TIMEOUT, POLL_CHANGED]);
    expect(late).toEqual([0]);
    expect(log.filter((e) => e[0] === 'lost')).toEqual([]);
  });
});
