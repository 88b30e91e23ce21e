/**
 * The Preset contract (src/drivers/preset.ts), written once and run over every preset against a
 * backend that speaks it: one device goes through provision -> connect -> telemetry -> poll ->
 * update (download, verify, report) -> config (ack) -> command (reply) -> logs through the generic
 * wire driver, real sockets on loopback. At each step the suite checks two views:
 *
 * - the typed events the driver made of the preset's decoding (what fleet/ would act on), and
 * - the backend's own record of the step (a `BackendView` the harness reads from its store), so
 *   a preset that encodes a request wrongly fails even when its decoder is lenient.
 *
 * A harness (`PresetHarness`) brings the preset factory, a backend starter with the operator
 * actions the backend offers (an update campaign, a configuration push, a command) and the
 * adapter that reads the backend's view. Protocol-file and platform presets run the same suite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Preset, PresetSettings } from '../../src/drivers/preset.js';
import { NO_HINT, POLL_CHANGED, POLL_UNCHANGED, type ConfigChange, type DeviceCommand, type DriverEvents, type FleetOpsEvents, type Heard, type UpdateOffer } from '../../src/drivers/types.js';
import { WireDriver, type WireDriverOptions } from '../../src/drivers/wire-driver.js';
import { waitFor } from '../helpers/wait-for.js';

/** What the backend recorded of one device (per device where the backend can tell, else its totals with one device). */
export interface BackendView {
  provisioned: boolean;
  /** Telemetry messages received from the device. */
  telemetry: number;
  /** Target polls answered. */
  polls: number;
  /** The device's last state report. */
  state?: { release: string; status: string };
  /** Artifact bytes served to the device. */
  artifactBytes: number;
  /** Highest configuration version the device acknowledged (0: none). */
  configAcked: number;
  /** Command answers received. */
  commandsAnswered: number;
  /** Log lines received. */
  logLines: number;
}

/** A running backend for the suite, with the operator's actions and the backend's view. */
export interface ContractBackend {
  httpUrl: string;
  mqttUrl: string;
  /** Offers an update to every device (pushed, or found on the next poll); resolves once it is offered. */
  offerUpdate(release: string): Promise<void>;
  /** Pushes a configuration change; resolves to its version. */
  pushConfig(values: Record<string, string>): Promise<number>;
  /** Sends a command to the device; resolves once sent. */
  sendCommand(deviceId: string, name: string): Promise<void>;
  view(deviceId: string): Promise<BackendView>;
  /** TLS the device needs (trust, its client certificate): a backend on mutual TLS (AWS IoT). */
  driver?: Pick<WireDriverOptions, 'tls' | 'identities'>;
  close(): Promise<void>;
}

export interface PresetHarness {
  preset(settings: PresetSettings): Preset;
  fleetKey: string;
  startBackend(): Promise<ContractBackend>;
  /** The device's CPU architecture (which artifact of an offer it takes). */
  arch: string;
  /**
   * Lifecycle steps the platform does not have (hawkBit has no telemetry; HTTP-only platforms
   * have no config ack, command or log uplink): the suite checks the driver refuses them
   * (returns false, nothing follows) instead of faking them.
   */
  lacks?: ReadonlyArray<'telemetry' | 'config' | 'command' | 'logs'>;
  /**
   * Whether the platform's devices ask for their target state as soon as their session comes up
   * (Preset.pollOnConnect), as the preset's doc says with its source. When true, the suite offers
   * the update while the device has no session yet and checks that the one poll the fleet makes
   * on connect finds it (a push made before the session is not made again).
   */
  pollsOnConnect: boolean;
}

type Ev = { name: string; args: unknown[] };

/** Records the typed events of device 0. */
class EventLog implements DriverEvents, FleetOpsEvents {
  readonly events: Ev[] = [];
  private add(name: string, args: unknown[]): void {
    this.events.push({ name, args });
  }
  of(name: string): Ev[] {
    return this.events.filter((e) => e.name === name);
  }
  onProvisioned(_dev: number, status: number, retryAfterMs: number): void {
    this.add('provisioned', [status, retryAfterMs]);
  }
  onConnected(_dev: number, ok: boolean, code: number): void {
    this.add('connected', [ok, code]);
  }
  onTelemetryAcked(_dev: number, token: number): void {
    this.add('acked', [token]);
  }
  onConnectionLost(_dev: number, reason: string): void {
    this.add('lost', [reason]);
  }
  onPolled(_dev: number, status: number, retryAfterMs: number, nextPollMs: number): void {
    this.add('polled', [status, retryAfterMs, nextPollMs]);
  }
  onUpdateOffered(_dev: number, offer: UpdateOffer, heard: Heard): void {
    this.add('update', [offer, heard]);
  }
  onConfigChanged(_dev: number, change: ConfigChange, heard: Heard): void {
    this.add('config', [change, heard]);
  }
  onCommand(_dev: number, command: DeviceCommand): void {
    this.add('command', [command]);
  }
  onReauthenticated(_dev: number, status: number): void {
    this.add('reauthenticated', [status]);
  }
  onDownloadChunk(_dev: number, status: number, bytes: number, _retryAfterMs: number, totalBytes = -1): void {
    this.add('chunk', [status, bytes, totalBytes]);
  }
  onStateReported(_dev: number, status: number): void {
    this.add('stateReported', [status]);
  }
  onFleetPublishAcked(_dev: number, token: number): void {
    this.add('uplinkAcked', [token]);
  }
}

const DEV = 0;
const SERIAL = 'contract-device-1';
const CHUNK = 64 * 1024;
const is2xx = (s: unknown) => typeof s === 'number' && s >= 200 && s < 300;

async function commandStep(d: WireDriver, be: ContractBackend, log: EventLog, deviceId: string): Promise<void> {
  await be.sendCommand(deviceId, 'diagnose');
  await waitFor(() => log.of('command').length === 1, 'the command');
  const [command] = log.of('command')[0].args as [DeviceCommand];
  expect(command.name).toBe('diagnose');
  expect(typeof command.id).toBe('string');
  expect(d.replyCommand(DEV, command, true, 12)).toBe(true);
  await waitFor(() => log.of('uplinkAcked').some((e) => e.args[0] === 12), 'the command reply acknowledged');
  await waitFor(async () => (await be.view(deviceId)).commandsAnswered >= 1, 'the backend saw the answer');
}

export function presetContract(name: string, harness: PresetHarness): void {
  describe(`Preset contract: ${name}`, () => {
    let backend: ContractBackend | undefined;
    let driver: WireDriver | undefined;
    afterEach(async () => {
      await driver?.close();
      await backend?.close();
      driver = backend = undefined;
    });

    it('drives one device through provision, connect, telemetry, poll, update, config, command and logs; typed events and the backend agree', async () => {
      backend = await harness.startBackend();
      const be = backend;
      const log = new EventLog();
      const d = new WireDriver(
        {
          httpUrl: be.httpUrl,
          mqttUrl: be.mqttUrl,
          preset: harness.preset({ fleetKey: harness.fleetKey }),
          devices: 1,
          mqttClient: 'lean',
          http: { connections: 'pooled', poolSize: 2 },
          keepaliveSec: 30,
          connectTimeoutMs: 5000,
          httpTimeoutMs: 5000,
          ...be.driver,
        },
        log,
      );
      driver = d;
      d.attachFleetOps(log);
      let pollsSent = 0;
      /** Polls again when the last poll has answered (for backends that offer on the next poll). */
      const pollIfIdle = () => {
        if (log.of('polled').length < pollsSent) return;
        pollsSent++;
        d.pollTarget(DEV);
      };

      // Provision: credentials issued, and the backend knows the device.
      d.provision(DEV, SERIAL);
      await waitFor(() => log.of('provisioned').length === 1, 'provisioning answered');
      expect(is2xx(log.of('provisioned')[0].args[0]), `provision status ${log.of('provisioned')[0].args[0]}`).toBe(true);
      const deviceId = d.deviceIdOf(DEV)!;
      expect(typeof deviceId).toBe('string');
      expect((await be.view(deviceId)).provisioned).toBe(true);

      // A platform whose devices poll on connect: the update is offered before the session is up.
      const early = harness.pollsOnConnect;
      if (early) await be.offerUpdate('contract-r2');

      // Connect with the preset's identity.
      d.connect(DEV);
      await waitFor(() => log.of('connected').length === 1, 'connected');
      expect(log.of('connected')[0].args).toEqual([true, 0]);
      expect(d.pollsOnConnect, 'the driver says whether devices poll on connect').toBe(harness.pollsOnConnect);
      if (early) {
        // The fleet's poll on connect (fleet/lifecycle.ts): that one poll finds the update.
        pollIfIdle();
        await waitFor(() => log.of('polled').length === 1, 'the poll on connect answered');
        expect(log.of('polled')[0].args[0]).toBe(POLL_CHANGED);
        expect(log.of('update').map((e) => e.args[1])).toEqual(['poll']);
      }

      const lacks = new Set(harness.lacks ?? []);
      // Telemetry: each QoS 1 message acked, and received by the backend.
      if (lacks.has('telemetry')) {
        expect(d.publishTelemetry(DEV, 0, Date.now(), { size: 96, qos: 1 }, 0)).toBe(false);
      } else {
        for (let seq = 0; seq < 3; seq++) {
          // A device may carry one message at a time (HTTP telemetry): the next goes when the last is acked.
          await waitFor(() => d.publishTelemetry(DEV, seq, Date.now(), { size: 96, qos: 1 }, seq), `telemetry ${seq} sent`);
        }
        await waitFor(() => log.of('acked').length === 3, 'three acks');
        expect(log.of('acked').map((e) => e.args[0])).toEqual([0, 1, 2]);
        await waitFor(async () => (await be.view(deviceId)).telemetry >= 3, 'the backend received the telemetry');
      }

      // Poll: the target was read (changed or not) with a numeric hint; the backend answered it.
      pollIfIdle();
      await waitFor(() => log.of('polled').length === pollsSent, 'the poll answered');
      const [pollStatus, , hint] = log.of('polled')[0].args as number[];
      expect([POLL_CHANGED, POLL_UNCHANGED]).toContain(pollStatus);
      expect(hint === NO_HINT || hint >= 0).toBe(true);
      expect((await be.view(deviceId)).polls).toBeGreaterThanOrEqual(1);

      // Update: offered (pushed, or found by polling), downloaded in ranges, verified, reported.
      if (!early) await be.offerUpdate('contract-r2');
      await waitFor(
        () => {
          if (log.of('update').length > 0) return true;
          pollIfIdle();
          return false;
        },
        'an update offer',
        15_000,
        250,
      );
      const [offer] = log.of('update')[0].args as [UpdateOffer, Heard];
      expect(offer.release).toBe('contract-r2');
      expect(typeof offer.campaign).toBe('string');
      const art = offer.artifacts.find((a) => a.arch === undefined || a.arch === harness.arch);
      expect(art, 'an artifact for the device').toBeDefined();
      d.beginArtifact(DEV);
      let offset = 0;
      // Size 0: the offer does not say (Mender); the first answer's Content-Range does.
      let size = art!.size > 0 ? art!.size : Infinity;
      while (offset < size) {
        const before = log.of('chunk').length;
        d.downloadChunk(DEV, art!, offset, Math.min(CHUNK, size - offset));
        await waitFor(() => log.of('chunk').length === before + 1, `the chunk at ${offset}`);
        const [status, bytes, total] = log.of('chunk')[before].args as number[];
        expect([200, 206]).toContain(status);
        expect(bytes).toBeGreaterThan(0);
        if (size === Infinity) {
          expect(total, 'the artifact size from the answer').toBeGreaterThan(0);
          size = total;
        }
        offset += bytes;
      }
      expect(offset).toBe(size);
      if (art!.sha256 !== '' || harness.preset({ fleetKey: harness.fleetKey }).artifactCheck) expect(d.verifyArtifact(DEV, art!.sha256)).toBe(true);
      d.reportState(DEV, { release: offer.release, status: 'success', campaign: offer.campaign, bytes: offset });
      await waitFor(() => log.of('stateReported').length === 1, 'the state report answered');
      expect(is2xx(log.of('stateReported')[0].args[0])).toBe(true);
      const afterUpdate = await be.view(deviceId);
      expect(afterUpdate.state).toEqual({ release: 'contract-r2', status: 'success' });
      expect(afterUpdate.artifactBytes).toBeGreaterThanOrEqual(size);

      // Config and logs the platform lacks are refused by the driver (nothing follows); each step it has runs.
      if (lacks.has('config')) {
        expect(d.ackConfig(DEV, 1, 11)).toBe(false);
      } else {
        // Config: the change arrives typed, the ack reaches the backend.
        const version = await be.pushConfig({ sampleEveryS: '30' });
        await waitFor(
          () => {
            if (log.of('config').some((e) => (e.args[0] as ConfigChange).version === version)) return true;
            pollIfIdle();
            return false;
          },
          'the configuration change',
          15_000,
          250,
        );
        const change = log.of('config').find((e) => (e.args[0] as ConfigChange).version === version)!.args[0] as ConfigChange;
        if (change.values !== undefined) expect(change.values.sampleEveryS).toBe('30');
        expect(d.ackConfig(DEV, version, 11)).toBe(true);
        await waitFor(() => log.of('uplinkAcked').some((e) => e.args[0] === 11), 'the config ack acknowledged');
        await waitFor(async () => (await be.view(deviceId)).configAcked >= version, 'the backend saw the config ack');
      }

      // Command: received typed, answered, and the backend has the answer (unless the platform has no commands).
      if (!lacks.has('command')) await commandStep(d, be, log, deviceId);

      if (lacks.has('logs')) {
        expect(d.shipLogs(DEV, 0, 'contract log line', 3)).toBe(false);
      } else {
        // Logs: shipped like QoS 0 (nothing follows on the device), counted by the backend.
        expect(d.shipLogs(DEV, 0, 'contract log line', 3)).toBe(true);
        await waitFor(async () => (await be.view(deviceId)).logLines >= 3, 'the backend received the log lines');
      }

      // Nothing went wrong on the way: no session lost, no renewal needed.
      expect(log.of('lost')).toEqual([]);
      expect(log.of('reauthenticated')).toEqual([]);
    }, 60_000);
  });
}
