import type { TimelineRow } from '../../metrics/aggregate.js';
import { ACTIVITIES, billableMessages, deviceDayVolume, messageSizes, REFERENCE_IDS, totalBytes } from '../../models/data-volume.js';
import { DAYS_PER_MONTH, monthlyCost, type PriceList } from '../../models/data-cost.js';
import { framing, TLS12_GCM_RECORD_OVERHEAD, TLS13_RECORD_OVERHEAD, TLS_HANDSHAKE_DEFAULTS, type Framing } from '../../models/wire-bytes.js';
import type { ResolvedCost, ResolvedScenario } from '../../scenario/resolved.js';
import type { CostResults } from '../../summary/run-summary.js';
import { measuredUsage } from './usage.js';

function framingOf(c: ResolvedCost): Framing {
  if (c.tls === 'none') return framing(c.ip);
  return framing(c.ip, { recordOverhead: c.tls === '1.3' ? TLS13_RECORD_OVERHEAD : TLS12_GCM_RECORD_OVERHEAD, ...TLS_HANDSHAKE_DEFAULTS[c.tls], resumption: c.resumption });
}

/** Fleet cost a month and per device, from one usage: every group priced on its own link. */
function price(s: ResolvedScenario, c: ResolvedCost, f: Framing, over: Parameters<typeof measuredUsage>[3], counters: Readonly<Record<string, number>>, timeline: readonly TimelineRow[]) {
  const m = messageSizes(REFERENCE_IDS);
  const { usage, deviceDays } = measuredUsage(s, counters, timeline, over);
  const volume = deviceDayVolume(usage, f, m);
  const messages = billableMessages(usage, m, c.perMessage?.meterBytes ?? 5_000);
  const prices: PriceList = { currency: c.currency, links: c.links, perDeviceMonth: c.perDeviceMonth, ...(c.perMessage ? { perMessage: c.perMessage } : {}) };
  const byLink = s.fleet.map((g) => ({ link: g.link, devices: g.count, cost: monthlyCost(prices, g.link, volume, messages) }));
  const fleetPerMonth = byLink.reduce((a, l) => a + l.devices * l.cost.total, 0);
  return { usage, deviceDays, volume, messages, byLink, fleetPerMonth };
}

const label = (w: ResolvedCost['whatIf'][number]): string =>
  [
    w.pollMs !== undefined ? `poll every ${w.pollMs / 1000 >= 3600 ? `${w.pollMs / 3_600_000}h` : `${w.pollMs / 60_000}m`}` : '',
    w.keepaliveSec !== undefined ? `keepalive ${w.keepaliveSec >= 60 ? `${w.keepaliveSec / 60}m` : `${w.keepaliveSec}s`}` : '',
    w.delta !== undefined ? `delta updates (${Math.round(w.delta * 100)}% of the image)` : '',
    w.batch !== undefined ? `${w.batch} reports per message` : '',
  ]
    .filter(Boolean)
    .join(', ');

/**
 * The `cost` member of a summary: bytes and cost per device per month by activity, by link and
 * for the fleet, and the scenario's what-if variations priced from the same counts.
 */
export function costResults(s: ResolvedScenario, counters: Readonly<Record<string, number>>, timeline: readonly TimelineRow[]): CostResults | undefined {
  const c = s.cost;
  if (!c) return undefined;
  const f = framingOf(c);
  const base = price(s, c, f, {}, counters, timeline);
  const devices = s.fleet.reduce((a, g) => a + g.count, 0);
  const perDevice = devices > 0 ? base.fleetPerMonth / devices : 0;
  // Averages over the fleet's links, weighted by devices.
  const mean = (pick: (x: (typeof base.byLink)[number]['cost']) => number) => (devices > 0 ? base.byLink.reduce((a, l) => a + l.devices * pick(l.cost), 0) / devices : 0);
  const activities = ACTIVITIES.map((a) => ({
    activity: a,
    upBytesPerDay: base.volume[a].up,
    downBytesPerDay: base.volume[a].down,
    bytesPerMonth: (base.volume[a].up + base.volume[a].down) * DAYS_PER_MONTH,
    messagesPerMonth: base.messages[a] * DAYS_PER_MONTH,
    costPerMonth: mean((x) => x.byActivity[a]),
  }));
  const bytesPerMonth = totalBytes(base.volume) * DAYS_PER_MONTH;
  return {
    currency: c.currency,
    deviceDays: base.deviceDays,
    framing: `${c.ip}, ${c.tls === 'none' ? 'plain TCP' : `TLS ${c.tls}${c.resumption ? ' with resumption' : ''}`}, TCP timestamps, MSS ${f.mss} B`,
    perDay: { reports: base.usage.reports, sessions: base.usage.sessions, pings: base.usage.pings, polls: base.usage.polls, httpConnections: base.usage.httpConnections, otaBytes: base.usage.otaBytes, logMessages: base.usage.logMessages, retransmissions: base.usage.retransmissions },
    activities,
    planPerMonth: mean((x) => x.plan),
    devicePerMonth: c.perDeviceMonth,
    bytesPerDeviceMonth: bytesPerMonth,
    costPerDeviceMonth: perDevice,
    fleetPerMonth: base.fleetPerMonth,
    byLink: base.byLink.map((l) => ({ link: l.link, devices: l.devices, bytesPerDeviceMonth: l.cost.bytes, costPerDeviceMonth: l.cost.total })),
    whatIf: c.whatIf.map((w) => {
      const r = price(s, c, f, w, counters, timeline);
      const per = devices > 0 ? r.fleetPerMonth / devices : 0;
      return { label: label(w), bytesPerDeviceMonth: totalBytes(r.volume) * DAYS_PER_MONTH, costPerDeviceMonth: per, fleetPerMonth: r.fleetPerMonth, change: perDevice > 0 ? per / perDevice - 1 : 0 };
    }),
  };
}
