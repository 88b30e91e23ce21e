/**
 * The aws-iot preset's requests over MQTT (drivers/mqtt-exchanges.ts) against the AWS IoT fake,
 * in the two situations a fleet meets that one request at a time does not: a poll asked for
 * before the device's own session is up (right after provisioning), and progress reports sent
 * back to back, each before the answer to the one before is back. Every request gets its own
 * answer; the version the last one carries guards the terminal update (expectedVersion), which
 * the fake accepts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAwsIotFake, type AwsIotFake } from '../../src/backend/fakes/aws-iot/index.js';
import { awsIotPreset } from '../../src/drivers/presets/aws-iot.js';
import { POLL_UNCHANGED, type DriverEvents, type FleetOpsEvents, type UpdateOffer } from '../../src/drivers/types.js';
import { WireDriver } from '../../src/drivers/wire-driver.js';
import { waitFor } from '../helpers/wait-for.js';

const DEV = 0;
const STEPS = ['downloading', 'downloaded', 'verifying', 'installing', 'rebooting'];

describe('aws-iot preset: requests over MQTT against the AWS IoT fake', () => {
  let fake: AwsIotFake | undefined;
  let driver: WireDriver | undefined;
  afterEach(async () => {
    await driver?.close();
    await fake?.close();
    driver = fake = undefined;
  });

  /** The fake, and one device's driver on it, recording what the device hears. */
  async function start() {
    const f = (fake = await startAwsIotFake());
    const seen = { provisioned: [] as number[], connected: 0, polled: [] as number[], reported: [] as number[], offers: [] as UpdateOffer[], retried: 0, refused: 0 };
    const events: DriverEvents & FleetOpsEvents = {
      onProvisioned: (_d, status) => seen.provisioned.push(status),
      onConnected: (_d, ok) => void (ok ? seen.connected++ : seen.refused++),
      onTelemetryAcked: () => {},
      onConnectionLost: () => {},
      onPolled: (_d, status) => seen.polled.push(status),
      onUpdateOffered: (_d, offer) => seen.offers.push(offer),
      onDownloadChunk: () => {},
      onStateReported: (_d, status) => seen.reported.push(status),
      onFleetPublishAcked: () => {},
    };
    const d = (driver = new WireDriver(
      {
        httpUrl: f.httpUrl, mqttUrl: f.mqttUrl, preset: awsIotPreset({ fleetKey: f.template.name }), devices: 1, mqttClient: 'lean',
        http: { connections: 'pooled', poolSize: 1 }, keepaliveSec: 30, connectTimeoutMs: 5000, httpTimeoutMs: 5000,
        tls: { ca: f.caCert }, identities: { identityOf: () => f.claim },
        onReportRetried: () => seen.retried++,
      },
      events,
    ));
    d.attachFleetOps(events);
    return { f, d, seen };
  }

  it('a poll before the session waits for it; back-to-back reports each get their answer; the terminal update carries the current version', async () => {
    const { f, d, seen } = await start();
    d.provision(DEV, 'exchanges-1');
    await waitFor(() => seen.provisioned.length === 1, 'provisioned');
    expect(seen.provisioned).toEqual([200]);
    const thing = f.state.things.get(d.deviceIdOf(DEV)!)!;

    // Asked for before the session is up: it waits for the session instead of failing as a reset.
    d.pollTarget(DEV);
    d.connect(DEV);
    await waitFor(() => seen.polled.length === 1, 'the poll answered');
    expect(seen.polled).toEqual([POLL_UNCHANGED]);
    expect(thing.counts.startNext).toBe(1);

    f.control.addRelease({ name: 'r2', target: 'app', size: 1000, archs: [] });
    const jobId = f.control.startCampaign({ release: 'r2', rollout: { strategy: 'all' }, notify: 'mqtt' } as Parameters<typeof f.control.startCampaign>[0]);
    await waitFor(() => seen.offers.length === 1, 'the job from notify-next');
    const report = (status: string) => d.reportState(DEV, { release: 'r2', status, campaign: jobId, bytes: 1000 });

    // All five in one tick: none waits for the answer to the one before.
    for (const step of STEPS) report(step);
    await waitFor(() => seen.reported.length === STEPS.length, 'an answer to each progress report');
    expect(seen.reported).toEqual(STEPS.map(() => 200));
    const execution = thing.executions.get(jobId)!;
    expect(execution.statusDetails.step).toBe('rebooting');

    // The terminal update names the version the last answer carried: accepted, the job SUCCEEDED.
    report('success');
    await waitFor(() => seen.reported.length === STEPS.length + 1, 'the terminal update answered');
    expect(seen.reported.at(-1)).toBe(200);
    expect(execution.status).toBe('SUCCEEDED');
    expect(thing.counts.rejected).toEqual({});
    expect(seen.retried).toBe(0);
  }, 30_000);

  it("an OS update's reboot: the `rebooting` answer is cut off with the session, so the terminal update's version is stale; its VersionMismatch carries the current one and the update goes once more, accepted", async () => {
    const { f, d, seen } = await start();
    d.provision(DEV, 'exchanges-2');
    await waitFor(() => seen.provisioned.length === 1, 'provisioned');
    const thing = f.state.things.get(d.deviceIdOf(DEV)!)!;
    d.connect(DEV);
    await waitFor(() => seen.connected === 1, 'connected');
    // Its poll answered: the session's subscriptions are in place (notify-next reaches it).
    d.pollTarget(DEV);
    await waitFor(() => seen.polled.length === 1, 'the poll answered');
    f.control.addRelease({ name: 'os2', target: 'os', size: 1000, archs: [] });
    const jobId = f.control.startCampaign({ release: 'os2', rollout: { strategy: 'all' }, notify: 'mqtt' } as Parameters<typeof f.control.startCampaign>[0]);
    await waitFor(() => seen.offers.length === 1, 'the job from notify-next');
    const report = (status: string) => d.reportState(DEV, { release: 'os2', status, campaign: jobId, bytes: 1000 });
    report('installing');
    await waitFor(() => seen.reported.length === 1, 'the installing report answered');
    const execution = thing.executions.get(jobId)!;
    const known = execution.versionNumber;

    // `rebooting`, and the session closed at once (the device reboots): the fake takes the update,
    // its answer is cut off (CANCELLED); the device still knows the version before it.
    report('rebooting');
    d.disconnect(DEV);
    await waitFor(() => execution.statusDetails.step === 'rebooting', 'the fake took the rebooting update');
    expect(execution.versionNumber).toBe(known + 1);
    await waitFor(() => seen.reported.length === 2, 'the rebooting report cut off');

    // Back up: the terminal update names the stale version, is rejected with the current state,
    // and goes once more with it: the device hears one answer, the accepted one.
    // (AWS takes one CONNECT per second per client ID: one refused that soon is tried again.)
    d.connect(DEV);
    let refused = 0;
    await waitFor(() => {
      if (seen.refused > refused) {
        refused = seen.refused;
        d.connect(DEV);
      }
      return seen.connected === 2;
    }, 'connected again', 10_000, 200);
    report('success');
    await waitFor(() => seen.reported.length === 3, 'the terminal update answered');
    expect(seen.reported[2]).toBe(200);
    expect(execution.status).toBe('SUCCEEDED');
    expect(thing.counts.rejected).toEqual({ VersionMismatch: 1 });
    expect(seen.retried).toBe(1);
  }, 30_000);
});
