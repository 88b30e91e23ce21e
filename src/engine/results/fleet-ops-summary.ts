import type { Histogram } from '../../metrics/histogram.js';
import type { FleetOpsFinal } from '../../fleet/behaviours/index.js';
import type { FleetResults, OtaResults } from '../../summary/run-summary.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { ShardFinal } from '../shard/protocol.js';
import type { OperatorResults } from '../operator/wall-operator.js';
import { buildOperatorPlan, groupArch } from '../operator/plan.js';
import type { CampaignRun } from './run-events.js';

/** Merged release transitions of every shard: per release name, devices in/out per time bin. */
function mergeTransitions(parts: FleetOpsFinal[]): { binMs: number; bins: number; series: Map<string, Float64Array>; initial: string } {
  const binMs = parts[0].binMs;
  const bins = Math.max(...parts.map((p) => p.into[0]?.length ?? 0));
  const series = new Map<string, Float64Array>();
  for (const p of parts) {
    p.releases.forEach((name, r) => {
      let net = series.get(name);
      if (!net) series.set(name, (net = new Float64Array(bins)));
      for (let b = 0; b < p.into[r].length; b++) net[b] += p.into[r][b] - p.outOf[r][b];
    });
  }
  return { binMs, bins, series, initial: parts[0].releases[0] };
}

const US = 1000;
const MIB = 2 ** 20;

/** A run's metric totals by name: the coordinator's aggregator, or the sums `merge` made of the shards'. */
export interface RunTotals {
  counter(name: string): number | undefined;
  histogram(name: string): Histogram | undefined;
}

type CampaignRef = Pick<OtaResults['releases'][number], 'release' | 'startMs' | 'compatible'>;

/**
 * ms from a campaign's start until `share` (0..1] of the devices it can update ran its release,
 * read off the rollout curve (shares of all `devices`); null when that share was never reached.
 */
export function campaignTimeToMs(rollout: FleetResults['rollout'], devices: number, r: CampaignRef, share: number): number | null {
  if (r.compatible <= 0) return null;
  const points = rollout?.find((x) => x.release === r.release)?.points ?? [];
  // Shares are counts / devices: allow for the rounding of that division.
  const need = share * r.compatible - 1e-6 * devices;
  for (let k = 1; k < points.length; k++) if (points[k][1] * devices >= need) return Math.max(0, points[k][0] - r.startMs);
  return null;
}

/**
 * The slowest campaign's time to `share`, in ms: what a `campaign.time_to_updated` threshold
 * measures. null when a campaign never reached it; undefined when the run had no campaign.
 */
export function slowestCampaignTimeToMs(fleet: FleetResults | undefined, devices: number, share: number): number | null | undefined {
  const releases = fleet?.ota?.releases;
  if (!releases || releases.length === 0) return undefined;
  let slowest = 0;
  for (const r of releases) {
    const t = campaignTimeToMs(fleet.rollout, devices, r, share);
    if (t === null) return null;
    slowest = Math.max(slowest, t);
  }
  return slowest;
}

/**
 * Adds the fleet-operation results of a run to its fleet results: the rollout curve (share of
 * the fleet on each release over time), time to 50/95/99% of compatible devices, outcomes by
 * cause, bytes downloaded and saved, OTA energy per update per profile, the config propagation
 * curve, commands and logs. The operator's view of the backend is added on the wall clock.
 */
export function addFleetOpsResults(fleet: FleetResults | undefined, s: ResolvedScenario, finals: readonly Pick<ShardFinal, 'fleetOps'>[], metrics: RunTotals, op?: OperatorResults): FleetResults | undefined {
  const parts = finals.map((f) => f.fleetOps).filter((f): f is FleetOpsFinal => f !== undefined);
  if (parts.length === 0) return fleet;
  const out: FleetResults = { ...(fleet ?? {}) };
  const total = (name: string) => metrics.counter(name) ?? 0;
  const pctMs = (name: string, p: number) => {
    const h = metrics.histogram(name);
    return h !== undefined && h.totalCount > 0 ? h.getValueAtPercentile(p) / US : null;
  };

  const updates = s.phases.flatMap((p) => (p.kind === 'update' ? [p] : []));
  if (updates.length > 0) {
    const { binMs, bins, series, initial } = mergeTransitions(parts);
    const N = s.devices;
    const counts = new Map<string, Float64Array>();
    for (const [name, net] of series) {
      const c = new Float64Array(bins);
      let run = name === initial ? N : 0;
      for (let b = 0; b < bins; b++) c[b] = run += net[b];
      counts.set(name, c);
    }
    out.rollout = [...counts].map(([release, c]) => ({ release, points: [[0, release === initial ? 1 : 0] as [number, number], ...Array.from(c, (v, b) => [Math.min(s.durationMs, (b + 1) * binMs), v / N] as [number, number])] }));
    const plan = buildOperatorPlan(s);
    const releases: OtaResults['releases'] = updates.map((u) => {
      const archs = plan.releases.find((r) => r.name === u.spec.release)?.archs ?? [];
      const compatible = s.fleet.filter((g) => archs.includes(groupArch(g))).reduce((a, g) => a + g.count, 0);
      const r = { release: u.spec.release, startMs: u.atMs, compatible };
      const c = counts.get(u.spec.release);
      const timeTo = (share: number) => campaignTimeToMs(out.rollout, N, r, share);
      return { ...r, updated: c && bins > 0 ? c[bins - 1] : 0, timeTo50Ms: timeTo(0.5), timeTo95Ms: timeTo(0.95), timeTo99Ms: timeTo(0.99) };
    });
    const causes: Record<string, number> = {};
    // Updates and bytes per fleet group, summed exactly over shards; joules once per group, then by profile in group order.
    const updatesOf = new Float64Array(s.fleet.length);
    const bytesOf = new Float64Array(s.fleet.length);
    for (const p of parts) {
      for (const [k, v] of Object.entries(p.causes)) causes[k] = (causes[k] ?? 0) + v;
      p.groups.forEach((g, k) => {
        updatesOf[k] += g.updates;
        bytesOf[k] += g.otaBytes;
      });
    }
    const groups = new Map<string, { updates: number; otaJ: number }>();
    s.fleet.forEach((g, k) => {
      const m = groups.get(g.profile) ?? { updates: 0, otaJ: 0 };
      m.updates += updatesOf[k];
      m.otaJ += (bytesOf[k] / MIB) * (g.hardware?.events.otaPerMiB ?? 0);
      groups.set(g.profile, m);
    });
    const modelCampaigns = parts.find((p) => p.campaigns)?.campaigns;
    out.ota = {
      releases,
      succeeded: total('update.success'),
      failed: total('update.failed'),
      rolledBack: total('update.rolled_back'),
      incompatible: total('update.incompatible'),
      failuresByCause: causes,
      bytesDownloaded: total('ota.bytes_downloaded'),
      bytesSavedByResume: total('ota.bytes_saved_resume'),
      bytesSavedByDelta: total('ota.bytes_saved_delta'),
      resumes: total('ota.resumes'),
      energyPerUpdate: [...groups].map(([profile, g]) => ({ profile, updates: g.updates, otaJ: g.otaJ, jPerUpdate: g.updates > 0 ? g.otaJ / g.updates : null })),
      campaigns: op
        ? op.campaigns.map((c) => ({ release: c.release, state: c.state, step: c.step, ...(c.reason ? { reason: c.reason } : {}) }))
        : (modelCampaigns ?? []).map((c) => ({ release: c.release, state: c.aborted ? 'aborted' : 'running', step: c.step, ...(c.reason ? { reason: c.reason } : {}) })),
      ...(op?.backend ? { backend: { artifactRequests: op.backend.artifactRequests, artifactBytesServed: op.backend.artifactBytesServed, stateReports: op.backend.stateReports } } : {}),
    };
  }

  if (s.phases.some((p) => p.kind === 'config')) {
    const h = metrics.histogram('config.propagation');
    if (h !== undefined && h.totalCount > 0) out.configPropagation = [0, 10, 25, 50, 75, 90, 95, 99, 100].map((q) => [h.getValueAtPercentile(q) / US, q / 100] as [number, number]);
    out.config = {
      applied: total('config.applied'),
      p50Ms: pctMs('config.propagation', 50),
      p95Ms: pctMs('config.propagation', 95),
      p99Ms: pctMs('config.propagation', 99),
      maxMs: pctMs('config.propagation', 100),
      catchupP50Ms: pctMs('config.catchup', 50),
    };
  }
  if (s.phases.some((p) => p.kind === 'command')) {
    const sent = op ? op.commands.reduce((a, c) => a + c.sent, 0) : parts.reduce((a, p) => a + (p.commandsSent ?? 0), 0);
    out.commands = { sent, received: total('command.received'), answered: total('command.answered') };
  }
  const logParts = parts.map((p) => p.logs).filter((l) => l !== undefined);
  if (logParts.length > 0) {
    const l = logParts.reduce((a, b) => ({ generated: a.generated + b.generated, sent: a.sent + b.sent, dropped: a.dropped + b.dropped, buffered: a.buffered + b.buffered }));
    out.logs = { ...l, holds: l.generated === l.sent + l.dropped + l.buffered };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Each campaign's start and its rollout's steps and abort, in run time: from the backend's
 * campaign status on the wall clock (its clock runs in wall ms, so scaled by timeScale), from the
 * fleet model on the virtual clock.
 */
export function campaignRuns(s: ResolvedScenario, finals: ShardFinal[], op?: OperatorResults): CampaignRun[] {
  const startOf = (release: string) => s.phases.find((p) => p.kind === 'update' && p.spec.release === release)?.atMs ?? 0;
  if (op) {
    return op.campaigns.map((c) => ({ release: c.release, startMs: startOf(c.release), changes: (c.changes ?? []).map((ch) => ({ ...ch, afterMs: ch.afterMs * s.timeScale })) }));
  }
  const model = finals.map((f) => f.fleetOps?.campaigns).find((c) => c !== undefined) ?? [];
  return model.map((c) => ({ release: c.release, startMs: c.startMs, changes: c.changes }));
}
