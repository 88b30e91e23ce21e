import { FleetsimError } from '../../errors/fleetsim-error.js';
import type { TimelineRow } from '../../metrics/aggregate.js';
import { mergeRuns, type FleetRebuild, type ShardRun } from '../../summary/merge-runs.js';
import type { RunSummary } from '../../summary/run-summary.js';
import { MERGE_PARTS_FILE, type MergeParts } from './merge-parts.js';
import { campaignTimeToShare, fleetSection, scenarioHash } from './summary-builder.js';

/** A shard's report with the merge-parts.json it wrote, when it wrote one. */
export interface ShardRunWithParts extends ShardRun {
  parts?: MergeParts;
}

/**
 * `fleetsim merge`: the counters, accounting, histograms and verdict of summary/merge-runs.ts,
 * with the fleet results rebuilt from the shards' raw parts by the function the whole run uses
 * (`fleetSection`): shares and percentiles of the shards could not be added, their parts can.
 */
export function mergeShardRuns(runs: ShardRunWithParts[], runId: string): { summary: RunSummary; timeline: TimelineRow[]; warnings: string[] } {
  for (const r of runs) {
    if (r.parts && scenarioHash(r.parts.scenario) !== r.summary.run.scenarioHash) {
      throw new FleetsimError('FLEETSIM_E_REPORT_INVALID', `${r.source}: ${MERGE_PARTS_FILE} does not belong to its summary.json (scenario hash differs)`, {
        hint: 'merge the report directories exactly as the shard runs wrote them; rerun the shard if its files were mixed up',
      });
    }
  }
  const warnings: string[] = [];
  const byIndex = [...runs].sort((a, b) => (a.summary.run.shard?.index ?? 0) - (b.summary.run.shard?.index ?? 0));
  const missing = byIndex.filter((r) => r.parts === undefined);
  if (missing.length > 0 && runs.some((r) => r.summary.fleet !== undefined)) {
    warnings.push(`the merged report has no fleet results: ${missing.map((r) => r.source).join(', ')} hold${missing.length === 1 ? 's' : ''} no ${MERGE_PARTS_FILE} (rerun those shards with this fleetsim)`);
  }
  const rebuild: FleetRebuild | undefined =
    missing.length > 0 || runs.length === 0
      ? undefined
      : (m) => {
          const scenario = byIndex[0].parts!.scenario;
          const operator = byIndex.find((r) => r.parts!.operator)?.parts!.operator;
          const fleet = fleetSection(scenario, m.timeline, byIndex.flatMap((r) => r.parts!.finals), m.durationMs, { counter: (n) => m.counters[n], histogram: (n) => m.histogram(n) }, operator);
          return { fleet, timeToShare: campaignTimeToShare(fleet, scenario.devices) };
        };
  return { ...mergeRuns(runs, runId, rebuild), warnings };
}
