import { outageOf, requestErrorsOf } from './outage.js';
import { onlineOverRun } from './online.js';
import { FleetsimError } from '../errors/fleetsim-error.js';
import type { TimelineRow } from '../metrics/aggregate.js';
import { combineCounter, combineGauge, COUNTERS, GAUGES, HISTOGRAMS } from '../metrics/catalog.js';
import { decodeHistogram, encodeHistogram, histogramStats, newHistogram, type Histogram } from '../metrics/histogram.js';
import { compileThreshold, evaluateThreshold } from '../metrics/thresholds.js';
import type { RunSummary } from './run-summary.js';
import { accountingSummary, backendCountCounters, telemetryLost } from './accounting.js';
import { decideResult } from './verdict.js';
import { generatorProblems } from './generator-health.js';
import { faultRecoveryTimeToShare, mergeFaultReports } from './fault-report.js';

/**
 * Rebuilds the merged run's fleet results from what the shards left (engine/results/merge-shards.ts
 * does, from merge-parts.json), given the merged counters, histograms and timeline; and, for
 * thresholds on them (`campaign.time_to_updated`), how long the fleet took to reach a share.
 */
export type FleetRebuild = (merged: {
  counters: Record<string, number>;
  histogram(name: string): Histogram | undefined;
  timeline: TimelineRow[];
  durationMs: number;
}) => {
  fleet?: RunSummary['fleet'];
  timeToShare?: (name: string, share: number) => number | null | undefined;
};

export interface ShardRun {
  /** Where it came from, for messages. */
  source: string;
  summary: RunSummary;
  timeline: TimelineRow[];
}


/**
 * Checks that `runs` are exactly the shards 0..N-1 of one run of one scenario and seed; throws
 * FLEETSIM_E_SHARD_MISSING (exit 3) naming what is missing, duplicated or foreign.
 */
export function checkShardSet(runs: ShardRun[]): number {
  if (runs.length === 0) throw new FleetsimError('FLEETSIM_E_USAGE', 'merge needs at least one report directory', { hint: 'fleetsim merge reports/run-shard0of3 reports/run-shard1of3 ...' });
  const first = runs[0].summary;
  const count = first.run.shard?.count ?? 1;
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const r of runs) {
    const s = r.summary;
    const shard = s.run.shard ?? { index: 0, count: 1 };
    if (s.run.scenarioHash !== first.run.scenarioHash || s.run.seed !== first.run.seed) {
      problems.push(`${r.source} is from another scenario or seed (${s.run.scenario}, seed ${s.run.seed}; expected ${first.run.scenario}, seed ${first.run.seed})`);
      continue;
    }
    if (shard.count !== count) problems.push(`${r.source} is shard ${shard.index}/${shard.count}, but ${runs[0].source} is one of ${count}`);
    const dup = seen.get(shard.index);
    if (dup !== undefined) problems.push(`shard ${shard.index} appears twice: ${dup} and ${r.source}`);
    else seen.set(shard.index, r.source);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!seen.has(i)) missing.push(i);
  if (missing.length > 0) problems.push(`missing shard${missing.length > 1 ? 's' : ''} ${missing.map((m) => `${m}/${count}`).join(', ')}`);
  if (problems.length > 0) {
    throw new FleetsimError('FLEETSIM_E_SHARD_MISSING', `cannot merge: ${problems.join('; ')}`, {
      hint: 'pass the report directory of every shard of one run exactly once (their summaries name run.shard); rerun a missing shard with the same --shard i/N, scenario and seed',
    });
  }
  return count;
}

/**
 * `cost` and `years` are answers about the whole fleet (cost per group priced from the group's own
 * counters, the fleet over years from its batches), not sums of the shards' answers: a merge
 * that kept one would show a slice as the fleet, and one that dropped them would hide them.
 */
function refuseWholeFleetResults(runs: ShardRun[], count: number): void {
  const carried = (['cost', 'years'] as const).filter((k) => runs.some((r) => r.summary[k] !== undefined));
  if (count < 2 || carried.length === 0) return;
  throw new FleetsimError('FLEETSIM_E_MERGE_WHOLE_FLEET', `cannot merge: the shard summaries carry ${carried.join(' and ')}, which each shard computed for its own slice of the fleet and which do not add up shard by shard`, {
    hint: 'run the scenario as one run (--workers and --processes split it on one machine; the virtual clock takes 500,000 devices), or read each shard report on its own',
  });
}

function mergeEncoded(parts: Array<string | undefined>): Histogram {
  const h = newHistogram();
  for (const enc of parts) {
    if (!enc) continue;
    const d = decodeHistogram(enc);
    h.add(d);
    d.destroy();
  }
  return h;
}

/** Merges timelines interval by interval: counters added, gauges summed or maxed, histograms added exactly. */
function mergeTimelines(timelines: TimelineRow[][]): TimelineRow[] {
  const byInterval = new Map<number, TimelineRow[]>();
  for (const t of timelines) for (const row of t) byInterval.set(row.interval, [...(byInterval.get(row.interval) ?? []), row]);
  return [...byInterval.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const rows = byInterval.get(k)!;
      const out: TimelineRow = { interval: k, tMs: Math.max(...rows.map((r) => r.tMs)), shards: rows.reduce((a, r) => a + r.shards, 0), counters: {}, gauges: {}, histograms: {}, hdr: {} };
      for (const [n] of COUNTERS) out.counters[n] = rows.reduce((a, r) => a + (r.counters[n] ?? 0), 0);
      for (const [n] of GAUGES) out.gauges[n] = rows.reduce((a, r) => combineGauge(n, a, r.gauges[n] ?? 0), 0);
      for (const [n] of HISTOGRAMS) {
        const parts = rows.map((r) => r.hdr?.[n]);
        if (parts.every((p) => !p)) continue;
        const h = mergeEncoded(parts);
        out.histograms[n] = histogramStats(h);
        out.hdr![n] = encodeHistogram(h);
        h.destroy();
      }
      return out;
    });
}

/**
 * `fleetsim merge`: adds the shards' counters and HDR histograms exactly (one fixed histogram shape
 * everywhere makes that possible), sums the accounting identities, re-evaluates the scenario's
 * thresholds on the merged data and decides one verdict.
 */
export function mergeRuns(runs: ShardRun[], runId: string, fleetOf?: FleetRebuild): { summary: RunSummary; timeline: TimelineRow[] } {
  const count = checkShardSet(runs);
  refuseWholeFleetResults(runs, count);
  const sums = runs.map((r) => r.summary);
  const first = sums[0];
  const add = (f: (s: RunSummary) => number) => sums.reduce((a, s) => a + f(s), 0);

  const counters: Record<string, number> = {};
  for (const name of Object.keys(first.counters)) counters[name] = sums.reduce((a, s) => combineCounter(name, a, s.counters[name] ?? 0), 0);
  const gauges: Record<string, number> = {};
  for (const name of Object.keys(first.gauges)) gauges[name] = sums.reduce((a, s) => combineGauge(name, a, s.gauges[name] ?? 0), 0);
  const histograms: RunSummary['histograms'] = {};
  const merged: Record<string, Histogram> = {};
  for (const name of Object.keys(first.histograms)) {
    const h = mergeEncoded(sums.map((s) => s.histograms[name]?.encoded));
    merged[name] = h;
    histograms[name] = { stats: histogramStats(h), encoded: encodeHistogram(h) };
  }

  const backends = sums.every((s) => s.accounting.backend)
    ? {
        received: add((s) => s.accounting.backend!.received),
        duplicates: add((s) => s.accounting.backend!.duplicates),
        gaps: add((s) => s.accounting.backend!.gaps),
        ...(sums.some((s) => s.accounting.backend!.refusedPublishes !== undefined)
          ? { refusedPublishes: add((s) => s.accounting.backend!.refusedPublishes ?? 0), refusedSubscribes: add((s) => s.accounting.backend!.refusedSubscribes ?? 0) }
          : {}),
        ...(sums.some((s) => s.accounting.backend!.unconfirmed !== undefined)
          ? { uncounted: add((s) => s.accounting.backend!.uncounted ?? 0), unconfirmed: sums.flatMap((s) => s.accounting.backend!.unconfirmed ?? []) }
          : {}),
      }
    : undefined;
  const accounting = accountingSummary(sums.map((s) => s.accounting), backends);
  counters['telemetry.lost'] = telemetryLost(accounting);
  Object.assign(counters, backendCountCounters(accounting));

  const durationMs = Math.max(...sums.map((s) => s.run.durationMs));
  const timeline = mergeTimelines(runs.map((r) => r.timeline));
  const rebuilt = fleetOf?.({ counters, histogram: (n) => merged[n], timeline, durationMs });
  // Injected counts add up; what devices saw and their recovery are read off the merged timeline.
  const faults = mergeFaultReports(sums.map((s) => s.faults), timeline, durationMs);
  const timeToShare = (name: string, share: number) => (name === 'recovery.time_to_back' ? faultRecoveryTimeToShare(faults, timeline, share) : rebuilt?.timeToShare?.(name, share));
  const thresholds = first.thresholds.map((t) => {
    const compiled = compileThreshold(t.metric, t.expression);
    if (!compiled.ok) return { ...t, value: null, display: compiled.message, ok: false };
    const r = evaluateThreshold(compiled.value, {
      durationSec: durationMs / 1000,
      counter: (n) => counters[n],
      histogram: (n) => merged[n],
      gauge: (n) => gauges[n],
      timeToShare,
    });
    return { metric: t.metric, expression: t.expression, value: r.value, display: r.display, ok: r.ok };
  });
  for (const h of Object.values(merged)) h.destroy();

  const maxLag = Math.max(...sums.map((s) => s.generator.maxScheduleLagMs));
  const maxLoop = Math.max(...sums.map((s) => s.generator.maxEventLoopDelayMs));
  // Every shard ran the same scenario, so the same bound; older reports did not say where it came from.
  const bound = { boundMs: first.generator.boundMs, boundSource: first.generator.boundSource ?? 'options.maxScheduleLag' };
  const cpu = generatorProblems({ maxScheduleLagMs: maxLag, maxEventLoopDelayMs: maxLoop, ...bound, closedByBroker: counters['mqtt.connection_lost.closed_by_broker'] });
  const sendSide = sums.flatMap((s) => (s.generator.sendSide ?? []).map((x) => `${s.run.id}: ${x}`));
  const saturated = cpu.length > 0 || sendSide.length > 0 || sums.some((s) => s.generator.saturated);
  const interrupted = sums.some((s) => s.run.status === 'interrupted');
  const failed = sums.some((s) => s.run.status === 'failed');
  const status = interrupted ? 'interrupted' : failed ? 'failed' : 'completed';
  const result = decideResult({
    status,
    thresholds,
    shardsReported: sums.length,
    expectedShards: count,
    generator: cpu,
    sendSide,
    accountingHolds: accounting.holds,
    backendCountUnconfirmed: accounting.backend?.unconfirmed,
    errors: sums.flatMap((s) => (s.result.verdict === 'error' ? s.result.reasons : [])),
  });

  const startedAt = sums.map((s) => s.run.startedAt).sort()[0];
  const endedAt = sums.map((s) => s.run.endedAt).sort().at(-1)!;
  const summary: RunSummary = {
    schemaVersion: first.schemaVersion,
    tool: first.tool,
    run: {
      ...first.run,
      id: runId,
      startedAt,
      endedAt,
      durationMs,
      wallMs: Date.parse(endedAt) - Date.parse(startedAt),
      events: sums.every((s) => s.run.events !== undefined) ? add((s) => s.run.events!) : undefined,
      // Each shard's summary counts its own slice.
      devices: add((s) => s.run.devices),
      workers: add((s) => s.run.workers),
      shard: undefined,
      status,
    },
    result,
    accounting,
    counters,
    gauges,
    histograms,
    thresholds,
    generator: {
      maxScheduleLagMs: maxLag,
      maxEventLoopDelayMs: maxLoop,
      ...bound,
      ...(sendSide.length > 0 ? { sendSide } : {}),
      saturated,
    },
    ...(rebuilt?.fleet ? { fleet: rebuilt.fleet } : {}),
    requestErrors: requestErrorsOf(counters),
    ...(faults ? { faults } : {}),
  };
  // Recovery is read off the merged timeline too: shards see only their own devices.
  const outage = outageOf(timeline);
  if (outage) summary.outage = outage;
  // The peak of the sum is not the sum of the peaks: read it off the merged timeline.
  const online = onlineOverRun(timeline);
  if (online) summary.online = online;
  // Phases are the scenario's, the same in every shard's report.
  if (first.events) summary.events = first.events;
  return { summary, timeline };
}
