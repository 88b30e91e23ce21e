import { HawkbitApi } from './api.js';
import { HawkbitControl } from './control.js';
import { startFakeHttpServer } from '../control-plane.js';
import { HawkbitState, type Action, type DistributionSet, type MaintenanceSchedule, type Target } from './state.js';

/**
 * A local fake of hawkBit's Direct Device Integration API, written from hawkBit's DDI sources and
 * docs. Targets, distribution sets and actions are set up through this object (what the
 * management API and rollouts do on the platform); devices talk DDI over HTTP. It counts what it
 * received per target; docs/presets/hawkbit.md says what it models and what not.
 *
 * Concurrency: runs on the event loop of the thread that started it; call it from there only.
 */

export type { Action, DistributionSet, MaintenanceSchedule, Target } from './state.js';
export { hhmmss } from './api.js';

export interface HawkbitFakeOptions {
  host?: string;
  port?: number;
  /** Tenant in the path (default `DEFAULT`, hawkBit's default tenant). */
  tenant?: string;
  /** Secret the targets' TargetTokens derive from (HawkbitState.tokenFor). */
  tokenSecret: string;
  /** Enables `GatewayToken` auth with this token (targets register on their first poll). */
  gatewayToken?: string;
  /**
   * Every controller id counts as registered with the token derived from `tokenSecret` (as if the
   * operator had created the whole fleet's targets beforehand); default false: only `register`ed ones.
   */
  preregistered?: boolean;
  /** `config.polling.sleep` in seconds (default 300 = hawkBit's 00:05:00). */
  pollingSec?: number;
  /** Floor of the polling time (default 30 = hawkBit's minPollingTime 00:00:30). */
  minPollingSec?: number;
  /**
   * Maintenance windows of the campaigns the operator API starts, relative to the fake's start:
   * the first opens `opensMs` after it, lasts `lengthMs`, and repeats every `everyMs`.
   */
  maintenance?: { opensMs: number; lengthMs: number; everyMs: number };
}

export interface HawkbitFake {
  readonly url: string;
  readonly tenant: string;
  readonly state: HawkbitState;
  register(controllerId: string): Target;
  createSet(name: string, version: string, modules: ReadonlyArray<{ part: string; name: string; files: ReadonlyArray<{ filename: string; bytes: Buffer }> }>): DistributionSet;
  assign(dsId: number, controllerIds: Iterable<string>, type?: Action['type'], maintenance?: MaintenanceSchedule): Action[];
  cancel(actionId: number): boolean;
  actionStats(dsId: number): Record<string, number>;
  targets(): Target[];
  close(): Promise<void>;
}

export async function startHawkbitFake(opts: HawkbitFakeOptions): Promise<HawkbitFake> {
  const host = opts.host ?? '127.0.0.1';
  const tenant = opts.tenant ?? 'DEFAULT';
  const state = new HawkbitState(opts.tokenSecret);
  const api = new HawkbitApi(state, {
    tenant,
    gatewayToken: opts.gatewayToken,
    preregistered: opts.preregistered ?? false,
    pollingSec: opts.pollingSec ?? 300,
    minPollingSec: opts.minPollingSec ?? 30,
    maintenancePollCount: 3,
  });
  const startedAt = Date.now();
  const mw = opts.maintenance;
  const control = new HawkbitControl(state, mw ? () => ({ firstStartMs: startedAt + mw.opensMs, durationMs: mw.lengthMs, periodMs: mw.everyMs }) : undefined);
  const server = await startFakeHttpServer('hawkBit', { host, port: opts.port }, control, api);
  const url = server.url;
  return {
    url,
    tenant,
    state,
    register: (id) => state.register(id),
    createSet: (name, version, modules) => state.createSet(name, version, modules),
    assign: (dsId, ids, type, maintenance) => state.assign(dsId, ids, type, maintenance),
    cancel: (id) => state.cancel(id),
    actionStats: (id) => state.actionStats(id),
    targets: () => [...state.targets.values()],
    close: () => server.close(),
  };
}
