/**
 * Credentials renewal in the generic wire driver (drivers/device-credentials.ts), with the
 * reference preset wrapped into one that declares 401 as "re-authenticate" and whose credentials
 * expire: a refused request is answered as it is, the device's next request waits for the
 * renewal (provisioning again, counted by the backend) and then goes out with the new
 * credentials; expired credentials are renewed before the request, which then succeeds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import type { Preset } from '../../src/drivers/preset.js';
import { referencePreset } from '../../src/drivers/presets/reference.js';
import type { DriverEvents } from '../../src/drivers/types.js';
import { WireDriver } from '../../src/drivers/wire-driver.js';
import { waitFor } from '../helpers/wait-for.js';

const KEY = 'reauth-key';

function recorder(): { events: DriverEvents; log: Array<[string, number]> } {
  const log: Array<[string, number]> = [];
  return {
    log,
    events: {
      onProvisioned: (_d, s) => log.push(['provisioned', s]),
      onConnected: (_d, ok) => log.push(['connected', ok ? 1 : 0]),
      onTelemetryAcked: () => {},
      onConnectionLost: () => {},
      onPolled: (_d, s) => log.push(['polled', s]),
      onReauthenticated: (_d, s) => log.push(['reauthenticated', s]),
    },
  };
}

describe('credentials renewal (Preset.reauthStatuses, DeviceCredentials.expiresAtMs)', () => {
  let be: EmbeddedBackend | undefined;
  let driver: WireDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    await be?.close();
    driver = be = undefined;
  });

  function open(preset: Preset, events: DriverEvents, now?: () => number): WireDriver {
    driver = new WireDriver(
      { httpUrl: be!.httpUrl, mqttUrl: be!.mqttUrl, preset, devices: 1, mqttClient: 'lean', http: { connections: 'pooled', poolSize: 1 }, keepaliveSec: 30, connectTimeoutMs: 5000, httpTimeoutMs: 5000, now },
      events,
    );
    return driver;
  }

  it('a 401 is counted as it is; the next request waits for the renewal and goes out with the new credentials', async () => {
    be = await startEmbeddedBackend({ fleetKey: KEY, mqtt: true });
    const { events, log } = recorder();
    const d = open({ ...referencePreset({ fleetKey: KEY }), reauthStatuses: [401] }, events);
    d.provision(0, 'reauth-1');
    await waitFor(() => log.length === 1, 'provisioned');
    const firstId = d.deviceIdOf(0);
    be.setFaults({ target: { status: 401, first: 1 } });
    d.pollTarget(0);
    await waitFor(() => log.length === 2, 'the refused poll');
    d.pollTarget(0);
    await waitFor(() => log.length === 4, 'the renewal and the poll after it');
    expect(log).toEqual([
      ['provisioned', 201],
      ['polled', 401],
      ['reauthenticated', 201],
      ['polled', 200],
    ]);
    expect(be.countsFor(d.deviceIdOf(0)!)?.provisions ?? 0).toBeGreaterThanOrEqual(1);
    expect(d.deviceIdOf(0)).toBe(firstId);
  });

  it('expired credentials are renewed before the request; a failed renewal answers the waiting request with its status', async () => {
    be = await startEmbeddedBackend({ fleetKey: KEY, mqtt: true });
    const { events, log } = recorder();
    let clock = 1_000;
    const base = referencePreset({ fleetKey: KEY });
    // Credentials valid for 10 s of the test's clock.
    const preset: Preset = { ...base, decodeProvision: (body, serial) => { const c = base.decodeProvision(body, serial); return c && { ...c, expiresAtMs: clock + 10_000 }; } };
    const d = open(preset, events, () => clock);
    d.provision(0, 'reauth-2');
    await waitFor(() => log.length === 1, 'provisioned');
    d.pollTarget(0);
    await waitFor(() => log.length === 2, 'a poll within the validity');
    clock += 20_000;
    d.pollTarget(0);
    await waitFor(() => log.length === 4, 'renewal, then the poll');
    expect(log.slice(1)).toEqual([
      ['polled', 200],
      ['reauthenticated', 201],
      ['polled', 304],
    ]);
    clock += 20_000;
    be.setFaults({ provision: { status: 503, first: 1 } });
    d.pollTarget(0);
    await waitFor(() => log.length === 6, 'the failed renewal and the poll it answered');
    expect(log.slice(4)).toEqual([
      ['reauthenticated', 503],
      ['polled', 503],
    ]);
  });
});
