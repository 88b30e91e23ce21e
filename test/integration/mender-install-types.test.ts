import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * Mender devices install as the artifact's payload type says (docs/presets/mender.md, "Install"):
 * against the Mender fake, an application release (a single-file module-image) whose health
 * check fails is rolled back without a reboot and reports downloading, installing, failure; an OS
 * release (a rootfs-image) whose health check fails reboots into the new image, reboots again to
 * roll back and reports downloading, installing, rebooting, failure. When the preset took every
 * deployment for an OS image, the application release rebooted each device twice as well. With
 * the link model on, so the artifact's word on the payload type crosses the LinkedDriver too.
 */
const DEVICES = 3;
const scenario = `
name: mender-install-types
seed: 5
duration: 7s
clock: wall
target: { backend: mender, preset: mender, fleetKey: tenant-token-types }
fleet:
  - { profile: { extends: rpi4-gateway, rebootTime: 500ms }, count: ${DEVICES}, link: ethernet }
arrival: { rate: 50/s }
provisioning: { mode: auto }
behaviour:
  telemetry: { every: 30s, size: 100B, qos: 1 }
  poll: { every: 500ms }
  download: { chunk: 1s, healthCheck: 200ms, appRestart: 100ms }
phases:
  - at: 1s
    update: { release: app-2.0, target: app, size: 32KB, rollout: { strategy: all }, notify: poll, failureRate: 100% }
  - at: 2s
    update: { release: os-2.0, target: os, size: 32KB, rollout: { strategy: all }, notify: poll, failureRate: 100% }
`;

describe('mender: the artifact payload type decides reboots and statuses (wall clock, against the fake)', () => {
  it('an application update fails without a reboot; an OS update reboots, then reboots again to roll back', async () => {
    const { summary } = await runScenario(parseScenarioText(scenario, 'mender-install-types.yaml'), { workers: 1, runId: 'it-mender-types', drainMs: 2000 });
    const c = summary.counters;
    expect(summary.run.status).toBe('completed');
    expect(c['update.rolled_back'], JSON.stringify(c)).toBe(2 * DEVICES);
    // Two reboots per OS update (boot the new image, roll back), none for the application.
    expect(c['update.reboots'], JSON.stringify(c)).toBe(2 * DEVICES);
    // Statuses the fake received: app downloading, installing, failure; OS the same plus one rebooting.
    expect(summary.fleet?.ota?.backend?.stateReports).toBe(3 * DEVICES + 4 * DEVICES);
    expect(summary.accounting.holds).toBe(true);
  }, 60_000);
});
