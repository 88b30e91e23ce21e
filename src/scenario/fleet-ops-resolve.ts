import { parseDuration, parsePercent, parseRate, parseSize, type Parsed } from '../models/units.js';
import { parseAbortIf, strategyOf } from './fleet-ops-schema.js';
import type { ScenarioData } from './schema.js';
import type { ResolvedPhase } from './resolved.js';
import type { ResolvedFleetOpsBehaviour, ResolvedProvisioning, UpdatePhaseSpec } from './resolved-fleet-ops.js';
import type { RolloutSpec } from '../wire/fleet-ops.js';

type Phase = ScenarioData['phases'][number];

function value(p: Parsed<number>): number {
  if (!p.ok) throw new Error(`resolveScenario: ${p.message} passed validation`);
  return p.value;
}
const ms = (t: string) => value(parseDuration(t));
const pct = (t: string) => value(parsePercent(t));
const bytes = (t: string) => value(parseSize(t));

function rollout(r: NonNullable<Phase['update']>['rollout']): RolloutSpec {
  switch (strategyOf(r)) {
    case 'all':
      return { strategy: 'all' };
    case 'constant':
      return { strategy: 'constant', perMinute: value(parseRate(r.rate!)) * 60 };
    case 'exponential':
      return { strategy: 'exponential', perMinute: value(parseRate(r.rate!)) * 60, growth: r.growth!, everyMs: ms(r.every!) };
    case 'steps':
      return { strategy: 'steps', steps: r.steps!.map(pct), stepWaitMs: ms(r.stepWait) };
  }
}

/** A fleet-operation phase (update, config, command) in resolved form. */
export function resolveFleetOpsPhase(atMs: number, p: Phase): ResolvedPhase | undefined {
  if (p.update) {
    const u = p.update;
    const spec: UpdatePhaseSpec = {
      release: u.release,
      target: u.target,
      sizeBytes: bytes(u.size),
      ...(u.delta ? { delta: { from: u.delta.from, sizeBytes: bytes(u.delta.size) } } : {}),
      ...(u.archs ? { archs: [...u.archs] } : {}),
      rollout: rollout(u.rollout),
      ...(u.abortIf ? { abortIf: { failureRate: value(parseAbortIf(u.abortIf)), minSample: u.minSample } } : {}),
      notify: u.notify,
      ...(u.maintenanceWindow ? { maintenanceWindow: { opensMs: ms(u.maintenanceWindow.opens), lengthMs: ms(u.maintenanceWindow.length), everyMs: ms(u.maintenanceWindow.every) } } : {}),
      failureRate: pct(u.failureRate),
      failureByProfile: Object.fromEntries(Object.entries(u.failureByProfile ?? {}).map(([k, v]) => [k, pct(v)])),
      ...(u.corrupt === undefined ? {} : { corrupt: pct(u.corrupt) }),
      ...(u.recurs === undefined ? {} : { recursEveryMs: ms(u.recurs) }),
    };
    return { atMs, kind: 'update', spec };
  }
  if (p.config) return { atMs, kind: 'config', spec: { set: { ...p.config.set } } };
  if (p.command) return { atMs, kind: 'command', spec: { name: p.command.name, devices: pct(p.command.devices) } };
  return undefined;
}

export function resolveFleetOpsBehaviour(b: ScenarioData['behaviour']): ResolvedFleetOpsBehaviour {
  const d = b.download;
  return {
    download: d
      ? { chunkMs: ms(d.chunk), lowSpeedBytesPerSec: bytes(d.lowSpeedLimit), lowSpeedTimeMs: ms(d.lowSpeedTime), healthCheckMs: ms(d.healthCheck), appRestartMs: ms(d.appRestart) }
      : { chunkMs: 2000, lowSpeedBytesPerSec: 100, lowSpeedTimeMs: 60_000, healthCheckMs: 5000, appRestartMs: 2000 },
    ...(b.logs ? { logs: { ratePerSec: value(parseRate(b.logs.rate)), lineBytes: bytes(b.logs.lineSize), bufferBytes: bytes(b.logs.buffer), flushEveryMs: ms(b.logs.flushEvery) } } : {}),
    ...(b.diagnostics ? { diagnostics: { processingMs: ms(b.diagnostics.processing), byProfile: Object.fromEntries(Object.entries(b.diagnostics.byProfile ?? {}).map(([k, v]) => [k, ms(v)])) } } : {}),
    config: { applyMs: b.config ? ms(b.config.apply) : 50 },
  };
}

export function resolveProvisioning(p: ScenarioData['provisioning']): ResolvedProvisioning | undefined {
  if (p === undefined) return undefined;
  return { mode: p.mode, ...(p.approvalRate ? { approvalRatePerSec: value(parseRate(p.approvalRate)) } : {}), endOfLineTest: p.endOfLineTest };
}
