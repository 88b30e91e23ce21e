import { createHash } from 'node:crypto';
import { hawkbitTargetToken } from '../../../wire/hawkbit-token.js';

/**
 * What the hawkBit fake remembers: targets (controllers) with their security tokens and
 * attributes, distribution sets with their software modules and artifacts, and actions (a
 * distribution set assigned to a target) with their status history. Names follow hawkBit's
 * repository model (eclipse-hawkbit/hawkbit: Target, DistributionSet, SoftwareModule, Action).
 *
 * Concurrency: the fake's event loop only.
 */

/** hawkBit's `hawkbit.server.security.dos.maxStatusEntriesPerAction` default (HawkbitSecurityProperties.java). */
export const MAX_STATUS_ENTRIES_PER_ACTION = 1000;

export interface HawkbitArtifact {
  readonly filename: string;
  readonly bytes: Buffer;
  readonly sha1: string;
  readonly md5: string;
  readonly sha256: string;
}

export interface SoftwareModule {
  readonly id: number;
  /** Module type key: `os`, `application`, `runtime` (the chunk's `part`). */
  readonly part: string;
  readonly name: string;
  readonly version: string;
  readonly artifacts: readonly HawkbitArtifact[];
}

export interface DistributionSet {
  readonly id: number;
  readonly name: string;
  readonly version: string;
  readonly modules: readonly SoftwareModule[];
}

/** A maintenance schedule: windows of `durationMs` opening every `periodMs` from `firstStartMs` (epoch ms). */
export interface MaintenanceSchedule {
  readonly firstStartMs: number;
  readonly durationMs: number;
  readonly periodMs: number;
}

export interface Action {
  readonly id: number;
  readonly controllerId: string;
  readonly ds: DistributionSet;
  /** forced: `forced` handling; soft: `attempt`; downloadonly: download `forced`/`attempt`, update `skip`. */
  readonly type: 'forced' | 'soft' | 'downloadonly';
  readonly maintenance?: MaintenanceSchedule;
  status: 'running' | 'downloaded' | 'canceling' | 'canceled' | 'finished' | 'error';
  statusEntries: number;
  /** Changes whenever the device-visible action changes (the `c` of the deploymentBase link). */
  revision: number;
}

export interface HawkbitTargetCounts {
  polls: number;
  notModified: number;
  deploymentBaseReads: number;
  feedback: Record<string, number>;
  cancelFeedback: number;
  configData: number;
  artifactBytes: number;
  rangeRequests: number;
  badRequests: number;
  unauthorized: number;
  /** Feedback refused with 410 (the action was no longer active). */
  gone: number;
}

export interface Target {
  readonly controllerId: string;
  readonly token: string;
  attributes: Record<string, string>;
  /** Whether the server asks for config data (the `configData` link): at first and after a successful update. */
  requestAttributes: boolean;
  installed?: Action;
  readonly counts: HawkbitTargetCounts;
}

export class HawkbitState {
  readonly targets = new Map<string, Target>();
  readonly sets = new Map<number, DistributionSet>();
  readonly actions = new Map<number, Action>();
  /** Active actions per controller, oldest first (hawkBit serves the one with the highest weight; all weights equal here). */
  private readonly active = new Map<string, Action[]>();
  private nextId = 1;
  /** A set assigned to every target that registers from now on (a target filter's auto-assignment). */
  autoAssign: { dsId: number; type: Action['type']; maintenance?: MaintenanceSchedule } | undefined;

  constructor(private readonly tokenSecret: string) {}

  /** The TargetToken of a controller the operator registered (HMAC of the fleet secret and the id). */
  tokenFor(controllerId: string): string {
    return hawkbitTargetToken(this.tokenSecret, controllerId);
  }

  /** Registers a target as the management API would (token derived, see tokenFor). */
  register(controllerId: string): Target {
    let t = this.targets.get(controllerId);
    if (t === undefined) {
      t = {
        controllerId,
        token: this.tokenFor(controllerId),
        attributes: {},
        requestAttributes: true,
        counts: { polls: 0, notModified: 0, deploymentBaseReads: 0, feedback: {}, cancelFeedback: 0, configData: 0, artifactBytes: 0, rangeRequests: 0, badRequests: 0, unauthorized: 0, gone: 0 },
      };
      this.targets.set(controllerId, t);
      const auto = this.autoAssign;
      if (auto !== undefined) this.assign(auto.dsId, [controllerId], auto.type, auto.maintenance);
    }
    return t;
  }

  /** A distribution set of one module per entry, each with its artifacts. */
  createSet(name: string, version: string, modules: ReadonlyArray<{ part: string; name: string; files: ReadonlyArray<{ filename: string; bytes: Buffer }> }>): DistributionSet {
    const ds: DistributionSet = {
      id: this.nextId++,
      name,
      version,
      modules: modules.map((m) => ({
        id: this.nextId++,
        part: m.part,
        name: m.name,
        version,
        artifacts: m.files.map((f) => ({
          filename: f.filename,
          bytes: f.bytes,
          sha1: createHash('sha1').update(f.bytes).digest('hex'),
          md5: createHash('md5').update(f.bytes).digest('hex'),
          sha256: createHash('sha256').update(f.bytes).digest('hex'),
        })),
      })),
    };
    this.sets.set(ds.id, ds);
    return ds;
  }

  /** Assigns a set to targets (registering unknown ones), as a rollout group would. */
  assign(dsId: number, controllerIds: Iterable<string>, type: Action['type'] = 'forced', maintenance?: MaintenanceSchedule): Action[] {
    const ds = this.sets.get(dsId);
    if (ds === undefined) throw new Error(`no distribution set ${dsId}`);
    const out: Action[] = [];
    for (const id of controllerIds) {
      this.register(id);
      const a: Action = { id: this.nextId++, controllerId: id, ds, type, maintenance, status: 'running', statusEntries: 1, revision: 0 };
      this.actions.set(a.id, a);
      const list = this.active.get(id) ?? [];
      list.push(a);
      this.active.set(id, list);
      out.push(a);
    }
    return out;
  }

  /** The operator cancels an action: the target sees a cancelAction link until it confirms. */
  cancel(actionId: number): boolean {
    const a = this.actions.get(actionId);
    if (a === undefined || !isActive(a)) return false;
    a.status = 'canceling';
    a.revision++;
    return true;
  }

  activeActionOf(controllerId: string): Action | undefined {
    return this.active.get(controllerId)?.[0];
  }

  /** Records one status entry; false when the action's quota of entries is used up. */
  addStatus(a: Action): boolean {
    if (a.statusEntries >= MAX_STATUS_ENTRIES_PER_ACTION) return false;
    a.statusEntries++;
    return true;
  }

  /** Ends an action (finished, error or canceled) and drops it from the target's active list. */
  close(a: Action, status: 'finished' | 'error' | 'canceled'): void {
    a.status = status;
    a.revision++;
    const list = this.active.get(a.controllerId);
    if (list !== undefined) {
      const i = list.indexOf(a);
      if (i >= 0) list.splice(i, 1);
    }
    const t = this.targets.get(a.controllerId);
    if (t !== undefined && status === 'finished') {
      t.installed = a;
      t.requestAttributes = true;
    }
  }

  /** Actions of one distribution set by status. */
  actionStats(dsId: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const a of this.actions.values()) if (a.ds.id === dsId) out[a.status] = (out[a.status] ?? 0) + 1;
    return out;
  }
}

export function isActive(a: Action): boolean {
  return a.status === 'running' || a.status === 'downloaded' || a.status === 'canceling';
}

/** Whether a maintenance window is open at `nowMs`, and ms until the next one opens (0 when open). */
export function maintenanceAt(m: MaintenanceSchedule, nowMs: number): { open: boolean; untilOpenMs: number } {
  if (nowMs < m.firstStartMs) return { open: false, untilOpenMs: m.firstStartMs - nowMs };
  const into = (nowMs - m.firstStartMs) % m.periodMs;
  return into < m.durationMs ? { open: true, untilOpenMs: 0 } : { open: false, untilOpenMs: m.periodMs - into };
}
