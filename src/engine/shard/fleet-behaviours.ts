import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { FleetBehavioursConfig } from '../../fleet/behaviours/index.js';
import { LINK_TYPES, isLinkTypeName } from '../../models/link-types.js';
import { INITIAL_RELEASE_NAME } from '../../wire/reference-protocol.js';
import { groupArch } from '../operator/plan.js';

/** Defaults where a group has no hardware profile numbers (engineering defaults, assumed). */
const DEFAULT_WRITE_BPS = 10e6;
const DEFAULT_REBOOT_MS = 30_000;
const DEFAULT_LINK_BPS = 10e6;

/**
 * The fleet-operation behaviours a shard runs, from the scenario: OTA when an update phase exists,
 * configuration when a config phase does, diagnostics when a command phase does (or the scenario
 * sets behaviour.diagnostics), logs when behaviour.logs is set, and the end-of-line test when
 * provisioning asks for it. Undefined when the scenario has none of them.
 */
export function fleetBehavioursConfig(s: ResolvedScenario, firstDevice: number, count: number, groupOf: Uint16Array): FleetBehavioursConfig | undefined {
  const has = (k: string) => s.phases.some((p) => p.kind === k);
  const b = s.behaviour.fleetOps;
  const wantOta = has('update');
  const wantConfig = has('config');
  const wantDiag = has('command') || b.diagnostics !== undefined;
  const eol = s.provisioning?.endOfLineTest === true;
  if (!wantOta && !wantConfig && !wantDiag && !b.logs && !eol) return undefined;

  const groups = s.fleet.map((g) => {
    const hw = g.hardware;
    const link = isLinkTypeName(g.link) ? LINK_TYPES[g.link].downBps : DEFAULT_LINK_BPS;
    return {
      profile: g.profile,
      arch: groupArch(g),
      downBytesPerSec: link / 8,
      writeBytesPerSec: hw?.storage.writeBytesPerSec ?? DEFAULT_WRITE_BPS,
      rebootMs: hw?.rebootMs ?? DEFAULT_REBOOT_MS,
      otaJPerMiB: hw?.events.otaPerMiB ?? 0,
    };
  });
  const releases = s.phases.flatMap((p) =>
    p.kind === 'update'
      ? [{ release: p.spec.release, failureRate: p.spec.failureRate, byGroup: s.fleet.map((g) => p.spec.failureByProfile[g.profile]), ...(p.spec.maintenanceWindow ? { window: p.spec.maintenanceWindow } : {}) }]
      : [],
  );
  const d = b.download;
  return {
    count,
    firstDevice,
    groupOf,
    groupProfiles: s.fleet.map((g) => g.profile),
    initialRelease: INITIAL_RELEASE_NAME,
    binMs: s.options.snapshotEveryMs,
    durationMs: s.durationMs,
    ...(wantOta
      ? { ota: { seed: s.seed, groups, releases, chunkMs: d.chunkMs, lowSpeedBytesPerSec: d.lowSpeedBytesPerSec, lowSpeedTimeMs: d.lowSpeedTimeMs, healthCheckMs: d.healthCheckMs, appRestartMs: d.appRestartMs } }
      : {}),
    ...(wantConfig ? { config: { applyMs: b.config.applyMs } } : {}),
    ...(wantDiag ? { diagnostics: { processingMs: s.fleet.map((g) => b.diagnostics?.byProfile[g.profile] ?? b.diagnostics?.processingMs ?? 200) } } : {}),
    ...(b.logs ? { logs: { seed: s.seed, ...b.logs } } : {}),
    endOfLine: eol,
  };
}
