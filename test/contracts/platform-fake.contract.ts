/**
 * The PlatformFake contract (src/backend/fakes/platform-fake.ts), run over every registered fake:
 * what target setup, `fleetsim backend --preset NAME` and reconciliation rely on.
 *
 * - It starts on port 0 (the OS picks) and says which transports it serves, with a URL for each.
 * - It answers a documented device request (its probe, test/helpers/platform-fake-probes.ts) and
 *   counts that device in its per-device stats, totals summed from the rows.
 * - It prints what a device needs: at least one credential line, no empty value.
 * - close() closes its listeners and every connection to it, a client's idle keep-alive and an
 *   open MQTT connection included, and can be called twice.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlatformFake, RunningFake } from '../../src/backend/fakes/platform-fake.js';
import { FAKE_PROBES } from '../helpers/platform-fake-probes.js';
import { listeningPorts } from '../helpers/process-tree.js';
import { waitFor } from '../helpers/wait-for.js';

const portOf = (url: string): number => Number(new URL(url).port);

/** This process's sockets and servers on one of `ports` (either end), by the undocumented but stable _getActiveHandles. */
function handlesOn(ports: ReadonlySet<number>): unknown[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => {
    if (h instanceof net.Socket) return ports.has(h.localPort ?? -1) || ports.has(h.remotePort ?? -1);
    if (h instanceof net.Server) {
      const a = h.address();
      return a !== null && typeof a === 'object' && ports.has(a.port);
    }
    return false;
  });
}

export function platformFakeContract(fake: PlatformFake): void {
  describe(`PlatformFake contract: ${fake.name}`, () => {
    let running: RunningFake | undefined;
    afterEach(async () => {
      await running?.close();
      running = undefined;
    });

    it('starts on port 0 with a URL for each transport it serves', async () => {
      running = await fake.start({ fleetKey: fake.exampleFleetKey, httpPort: 0, mqttPort: 0 });
      expect(running.httpUrl !== undefined).toBe(fake.serves.http);
      expect(running.mqttUrl !== undefined).toBe(fake.serves.mqtt);
      for (const url of [running.httpUrl, running.mqttUrl]) {
        if (url === undefined) continue;
        expect(portOf(url)).toBeGreaterThan(0);
        expect(listeningPorts().has(portOf(url))).toBe(true);
      }
      expect(running.credentials.length).toBeGreaterThan(0);
      for (const [label, value] of [...running.credentials, ...running.endpoints]) expect(label.length * value.length, `${label}: ${value}`).toBeGreaterThan(0);
    });

    it('answers a documented device request and counts that device', async () => {
      running = await fake.start({ fleetKey: fake.exampleFleetKey });
      expect(running.stats().totals.devices).toBe(0);
      const a = await FAKE_PROBES[fake.name](running, fake.exampleFleetKey, 'contract-dev-1');
      const b = await FAKE_PROBES[fake.name](running, fake.exampleFleetKey, 'contract-dev-2');
      expect([a.status, b.status].every((s) => s >= 200 && s < 300), `${a.status} ${b.status}`).toBe(true);
      await running.settle();
      const stats = running.stats();
      expect(stats.devices.map((d) => d.deviceId).sort()).toEqual([a.deviceId, b.deviceId].sort());
      for (const d of stats.devices) expect(d.provisions + d.polls + d.received, JSON.stringify(d)).toBeGreaterThan(0);
      expect(stats.totals.devices).toBe(2);
      expect(stats.totals.provisions).toBe(stats.devices.reduce((n, d) => n + d.provisions, 0));
      expect(stats.totals.polls).toBe(stats.devices.reduce((n, d) => n + d.polls, 0));
    });

    it('refuses a device with the wrong fleet key (never silent success)', async () => {
      running = await fake.start({ fleetKey: fake.exampleFleetKey });
      const a = await FAKE_PROBES[fake.name](running, `${fake.exampleFleetKey}-wrong:nope`, 'contract-dev-x').catch(() => ({ status: 0, deviceId: '' }));
      // Mender has no fleet secret on the device side (each device's own key is its credential):
      // a wrong tenant token on a single-tenant fake is admitted, as on an open-source server.
      if (fake.name === 'mender') expect(a.status).toBe(200);
      else expect(a.status < 200 || a.status >= 300, String(a.status)).toBe(true);
    });

    it('closes its listeners and every connection to it, and can be closed twice', async () => {
      running = await fake.start({ fleetKey: fake.exampleFleetKey });
      const ports = new Set([running.httpUrl, running.mqttUrl].flatMap((u) => (u ? [portOf(u)] : [])));
      // An idle keep-alive connection (fetch keeps it) and, where there is a broker, an open TCP connection.
      await FAKE_PROBES[fake.name](running, fake.exampleFleetKey, 'contract-dev-3');
      let mqttClosed: Promise<unknown> | undefined;
      if (running.mqttUrl) {
        const s = net.connect(portOf(running.mqttUrl), '127.0.0.1');
        await once(s, 'connect');
        s.on('error', () => {});
        mqttClosed = once(s, 'close');
      }
      expect(handlesOn(ports).length).toBeGreaterThan(0);
      const closing = running;
      running = undefined;
      await closing.close();
      await closing.close();
      await mqttClosed;
      for (const p of ports) expect(listeningPorts().has(p), `port ${p} still listening`).toBe(false);
      await waitFor(() => handlesOn(ports).length === 0, `no socket left on ${[...ports].join(', ')}`, 5000);
    });
  });
}
