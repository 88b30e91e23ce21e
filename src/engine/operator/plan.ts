import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { CampaignSpec, ReleaseSpec, RolloutSpec } from '../../wire/fleet-ops.js';
import type { OperatorAction, OperatorPlan } from '../../wire/operator-plan.js';

/** A group's CPU architecture (profiles without hardware numbers count as arm64). */
export function groupArch(g: ResolvedScenario['fleet'][number]): string {
  return g.hardware?.cpu.arch ?? 'arm64';
}

/**
 * The operator's script for a run, from the scenario: the releases its update phases name, then
 * the campaigns, configuration pushes and commands at their times, and the provisioning policy.
 * Rates and times are in simulated time; the wall-clock operator scales them by `timeScale`.
 */
export function buildOperatorPlan(s: ResolvedScenario): OperatorPlan {
  const fleetArchs = [...new Set(s.fleet.map(groupArch))];
  const releases: ReleaseSpec[] = [];
  const actions: OperatorAction[] = [];
  for (const p of s.phases) {
    if (p.kind === 'update') {
      const u = p.spec;
      if (!releases.some((r) => r.name === u.release)) {
        releases.push({ name: u.release, target: u.target, size: u.sizeBytes, archs: u.archs ?? fleetArchs, ...(u.delta ? { delta: { from: u.delta.from, size: u.delta.sizeBytes } } : {}) });
      }
      const campaign: CampaignSpec = {
        release: u.release,
        rollout: u.rollout,
        notify: u.notify,
        fleetSize: s.devices,
        ...(u.abortIf ? { abortIf: u.abortIf } : {}),
        ...(u.corrupt === undefined ? {} : { corrupt: u.corrupt }),
      };
      actions.push({ atMs: p.atMs, kind: 'campaign', campaign });
    } else if (p.kind === 'config') {
      actions.push({ atMs: p.atMs, kind: 'config', push: { config: { ...p.spec.set } } });
    } else if (p.kind === 'command') {
      actions.push({ atMs: p.atMs, kind: 'command', command: { name: p.spec.name, fraction: p.spec.devices } });
    }
  }
  const prov = s.provisioning;
  return {
    releases,
    actions,
    ...(prov && prov.mode === 'manual' ? { provisioning: { mode: 'manual', approvalRatePerSec: prov.approvalRatePerSec } } : {}),
  };
}

/** The same plan on a wall clock running `timeScale` simulated seconds per second: rates up, waits down. */
export function scalePlan(plan: OperatorPlan, timeScale: number): OperatorPlan {
  if (timeScale === 1) return plan;
  const scale = (r: RolloutSpec): RolloutSpec => {
    switch (r.strategy) {
      case 'all':
        return r;
      case 'constant':
        return { ...r, perMinute: r.perMinute * timeScale };
      case 'exponential':
        return { ...r, perMinute: r.perMinute * timeScale, everyMs: r.everyMs / timeScale };
      case 'steps':
        return { ...r, stepWaitMs: r.stepWaitMs / timeScale };
    }
  };
  return {
    ...plan,
    ...(plan.provisioning?.approvalRatePerSec ? { provisioning: { ...plan.provisioning, approvalRatePerSec: plan.provisioning.approvalRatePerSec * timeScale } } : {}),
    actions: plan.actions.map((a) => (a.kind === 'campaign' ? { ...a, campaign: { ...a.campaign, rollout: scale(a.campaign.rollout) } } : a)),
  };
}
