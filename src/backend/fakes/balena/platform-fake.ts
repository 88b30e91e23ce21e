import type { PlatformFake } from '../platform-fake.js';
import { deviceStatsResponse } from '../control-plane.js';
import { FLEET_PATHS } from '../../../wire/fleet-ops.js';
import { serialOfBalenaUuid } from '../../../wire/balena-uuid.js';
import type { BalenaDevice } from './index.js';

/**
 * The balena fake behind the PlatformFake interface. The fleet key is `<fleet id>:<provisioning
 * key>` (config.json's applicationId and apiKey). The scenario's poll interval becomes the
 * fleet's `BALENA_SUPERVISOR_POLL_INTERVAL` config variable, as an operator sets it. balena has no
 * telemetry route: per device it counts registrations and target-state polls, under the serial
 * the device's uuid encodes (wire/balena-uuid.ts).
 */
export const balenaPlatformFake: PlatformFake = {
  name: 'balena',
  description: "balena's device API: registration with a provisioning key, target state v3 (ETags), state reports v3, log batches; images as Range registry blobs",
  serves: { http: true, mqtt: false },
  preset: 'balena',
  exampleFleetKey: '1:balena-provisioning-key',
  async start(o) {
    const m = /^(\d+):(.+)$/.exec(o.fleetKey);
    const fleetId = m ? Number(m[1]) : 1;
    const provisioningKey = m ? m[2] : o.fleetKey;
    const { startBalenaFake } = await import('./index.js');
    const fake = await startBalenaFake({ host: o.host, port: o.httpPort, fleetId, provisioningKey, ...(o.pollingSec === undefined ? {} : { pollIntervalMs: o.pollingSec * 1000 }) });
    return {
      httpUrl: fake.url,
      credentials: [
        ['api endpoint', fake.url],
        ['fleet id', String(fleetId)],
        ['provisioning key', `${provisioningKey} (Authorization: Bearer, registration only; then each device's own api_key)`],
      ],
      endpoints: [
        ['register', `${fake.url}/device/register`],
        ['target state', `${fake.url}/device/v3/{uuid}/state`],
        ['state report', `${fake.url}/device/v3/state`],
        ['log batches', `${fake.url}/device/v2/{uuid}/logs`],
        ['fleet-ops stats', `${fake.url}${FLEET_PATHS.fleetOpsStats}`],
      ],
      stats: () => deviceStatsResponse(fake.devices().map(countsOf)),
      settle: async () => {},
      close: () => fake.close(),
    };
  },
};

function countsOf(d: BalenaDevice) {
  return { deviceId: serialOfBalenaUuid(d.uuid) ?? d.uuid, received: 0, duplicates: 0, gaps: 0, maxSeq: -1, provisions: d.counts.registrations, polls: d.counts.polls };
}
