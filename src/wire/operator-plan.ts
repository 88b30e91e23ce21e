import type { CampaignSpec, CommandRequest, ConfigPush, ProvisioningPolicy, ReleaseSpec } from './fleet-ops.js';

/**
 * What an operator does to the fleet during a run, as calls of the operator API
 * (wire/fleet-ops.ts) at times from the start of the run. On the wall clock fleetsim's operator
 * makes these calls against the backend under test; on the virtual clock the backend model plays
 * them. Built from the scenario's phases by engine/operator-plan.ts.
 */
export type OperatorAction =
  | { atMs: number; kind: 'campaign'; campaign: CampaignSpec }
  | { atMs: number; kind: 'config'; push: ConfigPush }
  | { atMs: number; kind: 'command'; command: CommandRequest };

export interface OperatorPlan {
  provisioning?: ProvisioningPolicy;
  /** Created before the run starts. */
  releases: ReleaseSpec[];
  /** In time order. */
  actions: OperatorAction[];
}

export function hasOperatorWork(p: OperatorPlan | undefined): p is OperatorPlan {
  return p !== undefined && (p.actions.length > 0 || p.releases.length > 0 || p.provisioning !== undefined);
}
