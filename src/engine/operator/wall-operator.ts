import { FLEET_PATHS, OPERATOR_AUTH_SCHEME, type CampaignStatus, type CommandStatus, type FleetOpsStats } from '../../wire/fleet-ops.js';
import type { OperatorPlan } from '../../wire/operator-plan.js';
import { untrustedText } from '../../wire/untrusted-text.js';
import { scalePlan } from './plan.js';
import { epochNow } from '../clock/epoch-clock.js';

/** What the operator saw of the backend at the end of a wall-clock run. */
export interface OperatorResults {
  campaigns: CampaignStatus[];
  commands: CommandStatus[];
  /** The backend's fleet-operation counters (artifact bytes served, reports, versions over time...). */
  backend?: FleetOpsStats;
  errors: string[];
}

/** How much of a backend's error answer an operator error quotes, characters. */
const ERROR_BODY_MAX = 200;

/** A campaign status with the backend's texts (release, state, abort reason) made safe for reports. */
function cleanCampaign(c: CampaignStatus): CampaignStatus {
  return {
    ...c,
    release: untrustedText(c.release),
    state: untrustedText(c.state) as CampaignStatus['state'],
    ...(c.reason === undefined ? {} : { reason: untrustedText(c.reason) }),
  };
}

/**
 * fleetsim's operator on the wall clock: plays the operator plan against the backend under test
 * through its operator API (wire/fleet-ops.ts) — releases and the provisioning policy before the
 * devices start, then campaigns, configuration pushes and commands at their times (scaled by
 * `timeScale`). It runs on the coordinator's thread; it never touches a device.
 */
export class WallOperator {
  private readonly plan: OperatorPlan;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly campaignIds: string[] = [];
  private readonly commandIds: string[] = [];
  private readonly errors: string[] = [];

  constructor(
    plan: OperatorPlan,
    private readonly httpUrl: string,
    private readonly fleetKey: string,
    private readonly timeScale: number,
    private readonly log: (line: string) => void,
  ) {
    this.plan = scalePlan(plan, timeScale);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T | undefined> {
    const res = await fetch(this.httpUrl + path, {
      method,
      headers: { authorization: `${OPERATOR_AUTH_SCHEME} ${this.fleetKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    // The backend's words reach the report as they are quoted here: cleaned and cut (untrusted-text.ts).
    if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${untrustedText(text, ERROR_BODY_MAX)}`);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`${method} ${path}: HTTP ${res.status} with a body that is not JSON: ${untrustedText(text, ERROR_BODY_MAX)}`);
    }
  }

  /** Before the devices start: the provisioning policy and every release of the plan. */
  async prepare(): Promise<void> {
    if (this.plan.provisioning) await this.call('POST', FLEET_PATHS.provisioning, this.plan.provisioning);
    for (const r of this.plan.releases) await this.call('POST', FLEET_PATHS.releases, r);
  }

  /** Schedules the plan's actions from the run's shared start instant. */
  start(startAtEpochMs: number): void {
    for (const a of this.plan.actions) {
      const delay = Math.max(0, startAtEpochMs + a.atMs / this.timeScale - epochNow());
      this.timers.push(
        setTimeout(() => {
          const p = this.run(a).catch((err: Error) => {
            const why = untrustedText(err.message);
            this.errors.push(`operator ${a.kind} at ${a.atMs} ms failed: ${why}`);
            this.log(`operator: ${a.kind} failed: ${why}`);
          });
          this.inflight.add(p);
          void p.finally(() => this.inflight.delete(p));
        }, delay),
      );
    }
  }

  private async run(a: OperatorPlan['actions'][number]): Promise<void> {
    if (a.kind === 'campaign') {
      const c = await this.call<CampaignStatus>('POST', FLEET_PATHS.campaigns, a.campaign);
      if (c) this.campaignIds.push(c.id);
      this.log(`operator: campaign ${a.campaign.release} started (${a.campaign.rollout.strategy})`);
    } else if (a.kind === 'config') {
      const r = await this.call<{ version: number; sent: number }>('POST', FLEET_PATHS.config, a.push);
      this.log(`operator: config v${r?.version} pushed to ${r?.sent} online devices`);
    } else {
      const r = await this.call<{ id: string; sent: number }>('POST', FLEET_PATHS.commands, a.command);
      if (r) this.commandIds.push(r.id);
      this.log(`operator: command ${a.command.name} sent to ${r?.sent} online devices`);
    }
  }

  /** Cancels the actions not yet due (the run ended, or failed). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  /** Stops scheduling, waits for calls in flight and reads the backend's view of what happened. */
  async finish(): Promise<OperatorResults> {
    this.stop();
    await Promise.allSettled([...this.inflight]);
    const out: OperatorResults = { campaigns: [], commands: [], errors: this.errors };
    try {
      for (const id of this.campaignIds) {
        const c = await this.call<CampaignStatus>('GET', FLEET_PATHS.campaign(id));
        if (c) out.campaigns.push(cleanCampaign(c));
      }
      for (const id of this.commandIds) {
        const c = await this.call<CommandStatus>('GET', FLEET_PATHS.command(id));
        if (c) out.commands.push(c);
      }
      out.backend = await this.call<FleetOpsStats>('GET', FLEET_PATHS.fleetOpsStats);
    } catch (err) {
      this.errors.push(`operator: reading results failed: ${untrustedText((err as Error).message)}`);
    }
    return out;
  }
}
