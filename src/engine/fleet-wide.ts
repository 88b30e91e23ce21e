import { BACKEND_OPS, queues } from '../models/backend-queue.js';
import { FleetsimError } from '../errors/fleetsim-error.js';
import type { ResolvedScenario } from '../scenario/resolved.js';
import { sliceOf } from '../scenario/session-load.js';
import type { OperatorPlan } from '../wire/operator-plan.js';
import { decidesOnFleetCounts } from '../wire/rollout.js';

/**
 * Decisions of a run that depend on counts over the whole fleet, not on one device's own draws:
 * a staged rollout advances when its step's cohort has `minSample` outcomes, `abortIf` trips on a
 * cohort's failure rate, a finite backend capacity queues every device behind the others, a
 * manual-provisioning approval rate is shared by all devices waiting. One sentence each.
 */
export function fleetWideDecisions(s: ResolvedScenario, plan: OperatorPlan): string[] {
  const out: string[] = [];
  for (const a of plan.actions) {
    if (a.kind === 'campaign' && decidesOnFleetCounts(a.campaign)) {
      const how = [a.campaign.rollout.strategy === 'steps' ? 'staged steps' : '', a.campaign.abortIf ? 'abortIf/minSample' : ''].filter(Boolean).join(' and ');
      out.push(`update ${a.campaign.release} decides on fleet-wide outcome counts (${how})`);
    }
  }
  const queued = BACKEND_OPS.filter((op) => queues(s.backend.ops[op]));
  if (s.clock === 'virtual' && queued.length > 0) out.push(`the backend model queues ${queued.join(', ')} at servers shared by the whole fleet`);
  if (plan.provisioning?.approvalRatePerSec) out.push('manual provisioning approves devices at one rate for the whole fleet');
  return out;
}

export interface DeviceRange {
  firstDevice: number;
  count: number;
}

/**
 * How a `--shard i/N` run makes its fleet-wide decisions exactly, or a refusal.
 *
 * Virtual clock: every device's outcome is a function of its own draws (seeded by its global
 * index) and of the fleet-wide counts at each lockstep window, so a process that simulates the
 * whole fleet takes exactly the whole run's decisions. The other slices run as shadow shards in
 * this process: they join the lockstep (their counts go into the fleet-wide sums) but report
 * nothing, so the shard's report holds its own slice only and the merge equals the whole run.
 * This costs the CPU of the whole fleet in every shard process; scenarios without fleet-wide
 * decisions run their slice alone.
 *
 * Wall clock: a process cannot see the other machines' devices. With the embedded backend each
 * process would decide on its own slice's counts, a different answer: refused (exit 2). An
 * external backend makes the decisions itself over every device it serves, so the run is fine
 * as long as the operator plan is played once (by shard 0: see `playsOperatorPlan`).
 */
export function shadowRanges(s: ResolvedScenario, plan: OperatorPlan, slice: { index: number; count: number }): DeviceRange[] {
  if (slice.count <= 1) return [];
  const decisions = fleetWideDecisions(s, plan);
  if (decisions.length === 0) return [];
  if (s.clock === 'wall') {
    if (s.target.kind !== 'embedded') return [];
    throw new FleetsimError('FLEETSIM_E_SHARD_DECISION', `--shard ${slice.index}/${slice.count} with the embedded backend cannot decide exactly: ${decisions.join('; ')}, and each shard process's embedded backend sees only its own slice`, {
      hint: 'run the whole fleet in one process (raise --workers or --processes instead of --shard), run it on the virtual clock (--clock virtual: every shard then decides on fleet-wide counts), or target an external backend that all shards share (it decides over every device)',
    });
  }
  const mine = sliceOf(s, slice);
  const end = mine.firstDevice + mine.count;
  return [
    { firstDevice: 0, count: mine.firstDevice },
    { firstDevice: end, count: s.devices - end },
  ].filter((r) => r.count > 0);
}

/** Wall clock: the operator plan is played once per run, by shard 0 when the run is split with --shard. */
export function playsOperatorPlan(slice: { index: number; count: number }): boolean {
  return slice.index === 0;
}
