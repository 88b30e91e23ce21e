/**
 * fleet/behaviours/ota-update.ts: devices share one parsed offer per campaign, but each fetches
 * the artifact from the link its own offer names. AWS IoT presigns the job document's URL per
 * thing (the fake names the thing in it and counts bytes per thing); with the first device's link
 * for everyone, the backend credited every byte to that one device.
 */
import { describe, expect, it } from 'vitest';
import type { OfferedArtifact, UpdateOffer } from '../../src/drivers/types.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { DeviceTable } from '../../src/fleet/device-table.js';
import { RetryAfterHold } from '../../src/fleet/retry-after-hold.js';
import { KindAllocator, KIND_REGIONS } from '../../src/fleet/event-kinds.js';
import { FleetOpsRecorder } from '../../src/fleet/behaviours/fleet-ops-results.js';
import { OtaUpdate, type OtaConfig } from '../../src/fleet/behaviours/ota-update.js';
import { FakeDriver } from '../helpers/fake-driver.js';
import { FakeSchedule } from '../helpers/fake-schedule.js';

/** Records which link each device's range requests went to. */
class UrlDriver extends FakeDriver {
  readonly fetched: Array<{ dev: number; url: string | undefined }> = [];
  override downloadChunk(dev: number, artifact: OfferedArtifact): void {
    this.fetched.push({ dev, url: artifact.url });
  }
}

const CFG: OtaConfig = {
  seed: 1,
  groups: [{ profile: 'p', arch: 'arm64', downBytesPerSec: 1e6, writeBytesPerSec: 1e7, rebootMs: 1000, otaJPerMiB: 0 }],
  releases: [{ release: 'r2', failureRate: 0, byGroup: [] }],
  chunkMs: 1000,
  lowSpeedBytesPerSec: 1,
  lowSpeedTimeMs: 60_000,
  healthCheckMs: 1000,
  appRestartMs: 0,
};

/** The offer a thing reads: the same job, its own presigned link. */
const offerFor = (thing: string, url = `https://bucket.example/releases/r2.bin?X-Fleetsim-Thing=${thing}`): UpdateOffer => ({
  campaign: 'job-1',
  release: 'r2',
  target: 'app',
  artifacts: [{ name: 'r2.bin', url, kind: 'full', size: 100_000, sha256: '' }],
});

function setup(devices: number) {
  const table = new DeviceTable(devices, 0);
  const schedule = new FakeSchedule();
  const metrics = new ShardMetrics(0);
  const driver = new UrlDriver();
  const ota = new OtaUpdate(CFG, devices, 0, new Uint16Array(devices), driver, metrics, new FleetOpsRecorder('r1', 1000, 60_000, ['p']), new KindAllocator(KIND_REGIONS.behaviours));
  ota.plan({
    devices: table,
    schedule,
    reachable: () => true,
    online: () => true,
    spend: () => true,
    reboot: () => {},
    rebooting: () => false,
    hold: new RetryAfterHold(table, schedule, metrics, { seed: 1, jitter: 0, simMsPerAnswerMs: 1 }),
    sentOnSession: () => {},
  });
  return { ota, driver };
}

describe('OTA: each device downloads from its own offer', () => {
  it('devices offered one campaign with links of their own fetch from their own link', () => {
    const { ota, driver } = setup(3);
    for (let dev = 0; dev < 3; dev++) ota.onUpdateOffered(dev, offerFor(`thing-${dev}`));
    expect(driver.fetched).toEqual([0, 1, 2].map((dev) => ({ dev, url: `https://bucket.example/releases/r2.bin?X-Fleetsim-Thing=thing-${dev}` })));
  });

  it('a link shared by every device is the shared offer', () => {
    const { ota, driver } = setup(2);
    const url = 'https://bucket.example/releases/r2.bin';
    ota.onUpdateOffered(0, offerFor('a', url));
    ota.onUpdateOffered(1, offerFor('b', url));
    expect(driver.fetched.map((f) => f.url)).toEqual([url, url]);
  });
});
