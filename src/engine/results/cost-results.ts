import type { TimelineRow } from '../../metrics/aggregate.js';
import type { GroupTotals } from '../../metrics/group-usage.js';
import { ACTIVITIES, billableMessages, deviceDayVolume, messageSizes, REFERENCE_IDS, totalBytes, type Activity } from '../../models/data-volume.js';
import { DAYS_PER_MONTH, monthlyCost, type PriceList } from '../../models/data-cost.js';
import { framing, TLS12_GCM_RECORD_OVERHEAD, TLS13_RECORD_OVERHEAD, TLS_HANDSHAKE_DEFAULTS, type Framing } from '../../models/wire-bytes.js';
import type { ResolvedCost, ResolvedScenario } from '../../scenario/resolved.js';
import type { CostResults } from '../../summary/run-summary.js';
import { groupUsage, measuredUsage, type UsageOverrides } from './usage.js';

function framingOf(c: ResolvedCost): Framing {
  if (c.tls === 'none') return framing(c.ip);
  return framing(c.ip, { recordOverhead: c.tls === '1.3' ? TLS13_RECORD_OVERHEAD : TLS12_GCM_RECORD_OVERHEAD, ...TLS_HANDSHAKE_DEFAULTS[c.tls], resumption: c.resumption });
}

/**
 * Every fleet group priced on its own link from what its own devices did (`groups`, the per-group
 * counters); without them (a summary from before they existed) each group is the fleet's average
 * device. The fleet's figures are device-weighted means over the groups.
 */
function price(s: ResolvedScenario, c: ResolvedCost, f: Framing, over: UsageOverrides, counters: Readonly<Record<string, number>>, timeline: readonly TimelineRow[], groups: GroupTotals[] | undefined) {
  const m = messageSizes(REFERENCE_IDS);
  const prices: PriceList = { currency: c.currency, links: c.links, perDeviceMonth: c.perDeviceMonth, ...(c.perMessage ? { perMessage: c.perMessage } : {}) };
  const fleetAverage = groups ? undefined : measuredUsage(s, counters, timeline, over);
  const byGroup = s.fleet.map((g, i) => {
    const u = groups ? groupUsage(s, i, groups[i], over) : fleetAverage!;
    const volume = deviceDayVolume(u.usage, f, m);
    const messages = billableMessages(u.usage, m, c.perMessage?.meterBytes ?? 5_000);
    return { group: i, profile: g.profile, link: g.link, devices: g.count, deviceDays: u.deviceDays, usage: u.usage, volume, messages, cost: monthlyCost(prices, g.link, volume, messages) };
  });
  const devices = byGroup.reduce((a, g) => a + g.devices, 0);
  const mean = (pick: (g: (typeof byGroup)[number]) => number) => (devices > 0 ? byGroup.reduce((a, g) => a + g.devices * pick(g), 0) / devices : 0);
  const fleetPerMonth = byGroup.reduce((a, g) => a + g.devices * g.cost.total, 0);
  return { byGroup, devices, mean, fleetPerMonth, bytesPerDeviceMonth: mean((g) => totalBytes(g.volume)) * DAYS_PER_MONTH };
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
 * The `cost` member of a summary: bytes and cost per device per month by activity, by fleet group
 * and for the fleet, and the scenario's what-if variations priced from the same counts.
 */
export function costResults(s: ResolvedScenario, counters: Readonly<Record<string, number>>, timeline: readonly TimelineRow[], groups?: GroupTotals[]): CostResults | undefined {
  const c = s.cost;
  if (!c) return undefined;
  const f = framingOf(c);
  const base = price(s, c, f, {}, counters, timeline, groups);
  const perDevice = base.devices > 0 ? base.fleetPerMonth / base.devices : 0;
  const activities = ACTIVITIES.map((a: Activity) => ({
    activity: a,
    upBytesPerDay: base.mean((g) => g.volume[a].up),
    downBytesPerDay: base.mean((g) => g.volume[a].down),
    bytesPerMonth: base.mean((g) => g.volume[a].up + g.volume[a].down) * DAYS_PER_MONTH,
    messagesPerMonth: base.mean((g) => g.messages[a]) * DAYS_PER_MONTH,
    costPerMonth: base.mean((g) => g.cost.byActivity[a]),
  }));
  // What the average device did: the fleet's counters over its device-days (the notes of the table).
  const fleet = measuredUsage(s, counters, timeline).usage;
  return {
    currency: c.currency,
    deviceDays: groups ? base.byGroup.reduce((a, g) => a + g.deviceDays, 0) : base.byGroup[0]?.deviceDays ?? 0,
    framing: `${c.ip}, ${c.tls === 'none' ? 'plain TCP' : `TLS ${c.tls}${c.resumption ? ' with resumption' : ''}`}, TCP timestamps, MSS ${f.mss} B`,
    perDay: { reports: fleet.reports, sessions: fleet.sessions, pings: fleet.pings, polls: fleet.polls, httpConnections: fleet.httpConnections, otaBytes: fleet.otaBytes, logMessages: fleet.logMessages, retransmissions: fleet.retransmissions },
    activities,
    planPerMonth: base.mean((g) => g.cost.plan),
    devicePerMonth: c.perDeviceMonth,
    bytesPerDeviceMonth: base.bytesPerDeviceMonth,
    costPerDeviceMonth: perDevice,
    fleetPerMonth: base.fleetPerMonth,
    byGroup: base.byGroup.map((g) => ({
      group: g.group,
      profile: g.profile,
      link: g.link,
      devices: g.devices,
      deviceDays: g.deviceDays,
      bytesPerDeviceMonth: g.cost.bytes,
      costPerDeviceMonth: g.cost.total,
      fleetPerMonth: g.devices * g.cost.total,
      activities: { ...g.cost.byActivity },
      planPerMonth: g.cost.plan,
    })),
    whatIf: c.whatIf.map((w) => {
      const r = price(s, c, f, w, counters, timeline, groups);
      const per = r.devices > 0 ? r.fleetPerMonth / r.devices : 0;
      return { label: label(w), bytesPerDeviceMonth: r.bytesPerDeviceMonth, costPerDeviceMonth: per, fleetPerMonth: r.fleetPerMonth, change: perDevice > 0 ? per / perDevice - 1 : 0 };
    }),
  };
}
