import { parseDuration, parsePercent, type Parsed } from '../models/units.js';
import { FAULT_HTTP_ROUTES, type BackendFault, type FaultLatency, type FaultPhase, type FaultScope, type HttpFaultAction } from '../faults/spec.js';
import type { ScenarioData } from './schema.js';

type Phase = ScenarioData['phases'][number];
type Backend = NonNullable<Phase['backend']>;

function value(p: Parsed<number>): number {
  if (!p.ok) throw new Error(`resolveScenario: ${p.message} passed validation`);
  return p.value;
}
const ms = (t: string) => value(parseDuration(t));
const pct = (t: string) => value(parsePercent(t));

/** A backend fault phase in resolved form (validation already checked its shape). */
export function resolveFaultPhase(index: number, p: Phase): FaultPhase {
  const s = p.scope;
  const scope: FaultScope = {
    ...(s?.devices === undefined ? {} : { devices: pct(s.devices) }),
    ...(s?.profile === undefined ? {} : { profile: s.profile }),
    ...(s?.link === undefined ? {} : { link: s.link }),
    ...(s?.cells === undefined ? {} : { cells: pct(s.cells) }),
  };
  return { index, atMs: ms(p.at), forMs: p.for === undefined ? 0 : ms(p.for), scope, fault: faultOf(p.backend!) };
}

function faultOf(b: Backend): BackendFault {
  if (b.broker !== undefined) return { target: 'broker', action: { kind: 'restart' } };
  if (b.http !== undefined) {
    const h = b.http;
    return { target: 'http', routes: h.routes ?? [...FAULT_HTTP_ROUTES], share: pct(h.share), action: httpAction(h) };
  }
  const m = b.mqtt!;
  if (m.disconnect) return { target: 'mqtt', share: pct(m.disconnect.share), action: { kind: 'disconnect' } };
  if (m.refuse) return { target: 'mqtt', share: pct(m.refuse.share), action: { kind: 'refuse', code: m.refuse.code } };
  if (m.dropPubacks) return { target: 'mqtt', share: pct(m.dropPubacks.share), action: { kind: 'drop-pubacks' } };
  return { target: 'mqtt', share: pct(m.blackhole!.share), action: { kind: 'blackhole' } };
}

function httpAction(h: NonNullable<Backend['http']>): HttpFaultAction {
  if (h.status !== undefined) return { kind: 'status', status: h.status, ...(h.retryAfter === undefined ? {} : { retryAfterMs: ms(h.retryAfter) }) };
  if (h.latency !== undefined) return { kind: 'latency', latency: latencyOf(h.latency) };
  if (h.reset) return { kind: 'reset' };
  if (h.stall) return { kind: 'stall' };
  return { kind: 'body', body: h.body! };
}

function latencyOf(l: NonNullable<NonNullable<Backend['http']>['latency']>): FaultLatency {
  if (typeof l === 'string') return { kind: 'fixed', ms: ms(l) };
  return { kind: l.distribution, medianMs: ms(l.median), ...(l.shape === undefined ? {} : { shape: l.shape }) };
}
