import type { PlatformFake } from '../platform-fake.js';
import { deviceStatsResponse } from '../control-plane.js';
import { FLEET_PATHS } from '../../../wire/fleet-ops.js';
import type { MenderDevice } from './index.js';

/**
 * The Mender fake behind the PlatformFake interface. Devices are named by the `sn` (else `mac`)
 * of their identity data, as fleetsim's mender preset sends it, so per-device counts line up with
 * the run's device serials; provisions are admissions, polls are `deployments/next` requests, and
 * telemetry is the sequence number devices carry in inventory (INVENTORY_SEQ).
 */
export const menderPlatformFake: PlatformFake = {
  name: 'mender',
  description: "Mender's device API: deviceauth (signed auth requests, auto-accepted), inventory, deployments",
  serves: { http: true, mqtt: false },
  preset: 'mender',
  exampleFleetKey: 'tenant-token-demo',
  async start(o) {
    const { DEFAULT_TOKEN_TTL_SEC, startMenderFake } = await import('./index.js');
    const tokenTtlSec = o.tokenTtlSec ?? DEFAULT_TOKEN_TTL_SEC;
    const fake = await startMenderFake({ host: o.host, port: o.httpPort, tokenTtlSec });
    return {
      httpUrl: fake.url,
      credentials: [
        ['server url', fake.url],
        ['tenant token', `${o.fleetKey} (any: the fake serves one tenant)`],
        ['device key', "each device's own RSA/EC/Ed25519 key pair, accepted on first auth request"],
        ['token lifetime', `${tokenTtlSec} s`],
      ],
      endpoints: [
        ['auth', `${fake.url}/api/devices/v1/authentication/auth_requests`],
        ['next deployment', `${fake.url}/api/devices/v1/deployments/device/deployments/next`],
        ['fleet-ops stats', `${fake.url}${FLEET_PATHS.fleetOpsStats}`],
      ],
      stats: () => deviceStatsResponse(fake.devices().map(countsOf)),
      settle: async () => {},
      close: () => fake.close(),
    };
  },
};

function countsOf(d: MenderDevice) {
  return { deviceId: nameOf(d), received: d.seq.received, duplicates: d.seq.duplicates, gaps: d.seq.gaps, maxSeq: d.seq.maxSeq, provisions: d.admissions, polls: d.counts.polls };
}

/** The device's serial from its identity data (`sn`, else `mac`), else the fake's own id. */
function nameOf(d: MenderDevice): string {
  try {
    const j = JSON.parse(d.idData) as Record<string, unknown>;
    if (typeof j.sn === 'string') return j.sn;
    if (typeof j.mac === 'string') return j.mac;
  } catch {
    // identity data was validated as JSON on the way in; fall through anyway
  }
  return d.id;
}
