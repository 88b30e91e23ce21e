import type { PlatformFake } from '../platform-fake.js';
import { deviceStatsResponse } from '../control-plane.js';
import { FLEET_PATHS } from '../../../wire/fleet-ops.js';
import type { Target } from './index.js';

/** hawkBit's default tenant polling time (00:05:00) and its floor (minPollingTime 00:00:30). */
const DEFAULT_POLLING_SEC = 300;
const DEFAULT_MIN_POLLING_SEC = 30;

/**
 * The hawkBit DDI fake behind the PlatformFake interface. Every controller id counts as
 * registered with the TargetToken derived from the fleet key (as if the operator had created the
 * fleet's targets beforehand). DDI has no telemetry: per target it counts polls, and a target
 * known to the fake counts as provisioned once.
 */
export const hawkbitPlatformFake: PlatformFake = {
  name: 'hawkbit',
  description: "hawkBit's Direct Device Integration API: TargetToken auth, base poll, deploymentBase, Range downloads, feedback",
  serves: { http: true, mqtt: false },
  preset: 'hawkbit',
  exampleFleetKey: 'hawkbit-fleet-secret',
  async start(o) {
    const { startHawkbitFake } = await import('./index.js');
    const fake = await startHawkbitFake({
      host: o.host,
      port: o.httpPort,
      tokenSecret: o.fleetKey,
      preregistered: true,
      pollingSec: o.pollingSec ?? DEFAULT_POLLING_SEC,
      minPollingSec: o.minPollingSec ?? Math.min(DEFAULT_MIN_POLLING_SEC, o.pollingSec ?? DEFAULT_POLLING_SEC),
      maintenance: o.maintenance,
    });
    const base = `${fake.url}/${fake.tenant}/controller/v1`;
    return {
      httpUrl: fake.url,
      credentials: [
        ['tenant', fake.tenant],
        ['auth', `Authorization: TargetToken <token>, token = first 32 chars of base64url(HMAC-SHA256(key "${o.fleetKey}", controllerId)) (src/wire/hawkbit-token.ts)`],
      ],
      endpoints: [
        ['controller base', `${base}/{controllerId}`],
        ['fleet-ops stats', `${fake.url}${FLEET_PATHS.fleetOpsStats}`],
      ],
      stats: () => deviceStatsResponse(fake.targets().map(countsOf)),
      settle: async () => {},
      close: () => fake.close(),
    };
  },
};

function countsOf(t: Target) {
  return { deviceId: t.controllerId, received: 0, duplicates: 0, gaps: 0, maxSeq: -1, provisions: 1, polls: t.counts.polls };
}
