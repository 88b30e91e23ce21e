import type { RunEvent } from '../../summary/run-summary.js';
import type { ResolvedScenario, UpdatePhaseSpec } from '../../scenario/resolved.js';
import { formatSpan } from '../../models/units.js';
import { faultLabel } from '../../faults/spec.js';

/** A step taken (0-based index of the new step) or the abort, ms after the campaign started (wire/fleet-ops.ts RolloutChange). */
interface RolloutChange {
  afterMs: number;
  step: number;
  aborted: boolean;
}

/** A campaign as it ran: its release, its start in run time, and its steps and abort (ms after the start). */
export interface CampaignRun {
  release: string;
  startMs: number;
  changes: readonly RolloutChange[];
}

const pct = (f: number) => `${Math.round(f * 1000) / 10}%`;

function stepLabel(spec: UpdatePhaseSpec | undefined, c: RolloutChange, release: string): string {
  if (c.aborted) return `${release} aborted`;
  const share = spec?.rollout.strategy === 'steps' ? ` (${pct(spec.rollout.steps[c.step])})` : '';
  return `${release} step ${c.step + 1}${share}`;
}

/**
 * What happened when, for the report's time charts: the phases the run reached (outages, campaign
 * starts, config pushes, commands, backend faults) and each campaign's steps and abort as its rollout recorded
 * them. Nothing past `reachedMs` (an interrupted run did not get there).
 */
export function buildRunEvents(s: ResolvedScenario, reachedMs: number, campaigns: readonly CampaignRun[]): RunEvent[] {
  const out: RunEvent[] = [];
  for (const p of s.phases) {
    if (p.atMs > reachedMs) continue;
    if (p.kind === 'outage') {
      const o = p.spec;
      const cell = o.scope === 'cell';
      const what = o.scope === 'fleet' ? 'the fleet' : `${pct(o.fraction)} of ${cell ? 'cells' : 'devices'}`;
      out.push({ tMs: p.atMs, endMs: Math.min(reachedMs, p.atMs + o.durationMs), kind: cell ? 'cell-outage' : 'outage', label: `${cell ? 'cell outage' : 'outage'}: ${what}, ${formatSpan(o.durationMs)}` });
    } else if (p.kind === 'update') {
      out.push({ tMs: p.atMs, kind: 'campaign', label: `campaign ${p.spec.release}` });
    } else if (p.kind === 'config') {
      out.push({ tMs: p.atMs, kind: 'config', label: `config push (${Object.keys(p.spec.set).join(', ')})` });
    } else if (p.kind === 'backend') {
      out.push({ tMs: p.atMs, endMs: Math.min(reachedMs, p.atMs + p.spec.forMs), kind: 'fault', label: `fault: ${faultLabel(p.spec.fault)}${p.spec.forMs > 0 ? `, ${formatSpan(p.spec.forMs)}` : ''}` });
    } else {
      out.push({ tMs: p.atMs, kind: 'command', label: `command ${p.spec.name} (${pct(p.spec.devices)})` });
    }
  }
  for (const c of campaigns) {
    const spec = s.phases.find((p): p is Extract<typeof p, { kind: 'update' }> => p.kind === 'update' && p.spec.release === c.release)?.spec;
    for (const ch of c.changes) {
      const t = c.startMs + ch.afterMs;
      if (t <= reachedMs) out.push({ tMs: t, kind: ch.aborted ? 'abort' : 'step', label: stepLabel(spec, ch, c.release) });
    }
  }
  return out.sort((a, b) => a.tMs - b.tMs);
}
