import { parseDuration, parsePercent, parseSize, type Parsed } from '../models/units.js';
import type { LinkPrice } from '../models/data-cost.js';
import type { ScenarioData } from './schema.js';

/** `cost:` resolved: prices, protocol choices and what-if variations, units parsed. */
export interface ResolvedCost {
  currency: string;
  links: Record<string, LinkPrice>;
  perMessage?: { perMillion: number; meterBytes: number };
  perDeviceMonth: number;
  ip: 'ipv4' | 'ipv6';
  tls: '1.3' | '1.2' | 'none';
  resumption: boolean;
  httpIdleMs: number;
  whatIf: Array<{ pollMs?: number; keepaliveSec?: number; delta?: number; batch?: number }>;
}

/** `lifetime:` resolved. Durations in ms; 'y' is 365 days (models/units.ts). */
export interface ResolvedLifetime {
  years: number;
  production: Array<{ startMonth: number; months: number; perMonth: number; group: number }>;
  campaigns: Array<{ atMs: number; release: string; imageBytes: number; spreadMs: number }>;
  retireAtMs?: number;
  replace: boolean;
  replaceAfterMs: number;
  storeReports: 'all' | 'offline';
}

function value(p: Parsed<number>): number {
  if (!p.ok) throw new Error(`resolveScenario: ${p.message} passed validation`);
  return p.value;
}
const ms = (t: string) => value(parseDuration(t));
const bytes = (t: string) => value(parseSize(t));

export function resolveCost(c: NonNullable<ScenarioData['cost']>): ResolvedCost {
  const links: Record<string, LinkPrice> = {};
  for (const [name, p] of Object.entries(c.links)) {
    links[name] = 'perMB' in p ? { kind: 'per-mb', perMB: p.perMB } : { kind: 'plan', monthly: p.plan.monthly, allowanceBytes: bytes(p.plan.allowance), overPerMB: p.plan.overPerMB };
  }
  return {
    currency: c.currency,
    links,
    ...(c.perMessage ? { perMessage: { perMillion: c.perMessage.perMillion, meterBytes: bytes(c.perMessage.meter) } } : {}),
    perDeviceMonth: c.perDeviceMonth,
    ip: c.ip,
    tls: c.tls,
    resumption: c.resumption,
    httpIdleMs: ms(c.httpIdle),
    whatIf: c.whatIf.map((w) => ({
      ...(w.poll === undefined ? {} : { pollMs: ms(w.poll) }),
      ...(w.keepalive === undefined ? {} : { keepaliveSec: ms(w.keepalive) / 1000 }),
      ...(w.delta === undefined ? {} : { delta: value(parsePercent(w.delta)) }),
      ...(w.batch === undefined ? {} : { batch: w.batch }),
    })),
  };
}

export function resolveLifetime(l: NonNullable<ScenarioData['lifetime']>): ResolvedLifetime {
  return {
    years: l.years,
    production: l.production.map((b) => ({ ...b })),
    campaigns: l.campaigns.map((c) => ({ atMs: ms(c.at), release: c.release, imageBytes: bytes(c.image), spreadMs: ms(c.spread) })),
    ...(l.retireAt === undefined ? {} : { retireAtMs: ms(l.retireAt) }),
    replace: l.replace,
    replaceAfterMs: ms(l.replaceAfter),
    storeReports: l.storeReports,
  };
}
