import type { RunSummary } from '../summary/run-summary.js';
import { formatBytes, formatCount } from './format.js';

/**
 * The cost and years results as tables (head, rows of text), for the console and report.html
 * alike, so both show the same numbers.
 */
export interface TextTable {
  title: string;
  head: string[];
  rows: string[][];
  notes: string[];
}

const money = (v: number, cur: string) => `${v < 1 ? v.toFixed(3) : v.toFixed(2)} ${cur}`;
const pct = (v: number) => `${(v * 100).toFixed(v < 0.01 ? 2 : 1)}%`;

export function costTables(s: RunSummary): TextTable[] {
  const c = s.cost;
  if (!c) return [];
  const cur = c.currency;
  const rows = c.activities.map((a) => [a.activity, formatBytes(a.upBytesPerDay + a.downBytesPerDay), formatBytes(a.bytesPerMonth), formatCount(Math.round(a.messagesPerMonth)), money(a.costPerMonth, cur)]);
  if (c.planPerMonth > 0) rows.push(['plan fee', '', '', '', money(c.planPerMonth, cur)]);
  if (c.devicePerMonth > 0) rows.push(['device fee', '', '', '', money(c.devicePerMonth, cur)]);
  rows.push(['total', formatBytes(c.bytesPerDeviceMonth / (365.25 / 12)), formatBytes(c.bytesPerDeviceMonth), '', money(c.costPerDeviceMonth, cur)]);
  const d = c.perDay;
  const notes = [
    `per device-day (${formatCount(Math.round(c.deviceDays))} device-days simulated): ${d.reports.toFixed(1)} reports, ${d.sessions.toFixed(1)} sessions, ${d.pings.toFixed(1)} pings, ${d.polls.toFixed(1)} polls on ${d.httpConnections.toFixed(1)} new connections, ${formatBytes(d.otaBytes)} of updates, ${d.logMessages.toFixed(1)} log messages, ${d.retransmissions.toFixed(2)} retransmitted segments`,
    `counted at the IP layer: ${c.framing}`,
    `fleet: ${money(c.fleetPerMonth, cur)} a month`,
  ];
  const out: TextTable[] = [{ title: 'COST PER DEVICE PER MONTH', head: ['activity', 'bytes/day', 'bytes/month', 'messages/month', 'cost/month'], rows, notes }];
  // Each group on its own link and plan, priced from what its own devices did.
  const acts = c.activities.map((a) => a.activity);
  out.push({
    title: 'COST BY FLEET GROUP',
    head: ['group', 'link', 'devices', 'bytes/device/month', ...acts, 'plan + device fees', 'cost/device/month', 'group/month'],
    rows: c.byGroup.map((g) => [`${g.group} ${g.profile}`, g.link, formatCount(g.devices), formatBytes(g.bytesPerDeviceMonth), ...acts.map((a) => money(g.activities[a] ?? 0, cur)), money(g.planPerMonth + c.devicePerMonth, cur), money(g.costPerDeviceMonth, cur), money(g.fleetPerMonth, cur)]),
    notes: [],
  });
  if (c.whatIf.length > 0) {
    out.push({
      title: 'WHAT IF',
      head: ['change', 'bytes/month', 'cost/device/month', 'fleet/month', 'vs run'],
      rows: [['as run', formatBytes(c.bytesPerDeviceMonth), money(c.costPerDeviceMonth, cur), money(c.fleetPerMonth, cur), ''], ...c.whatIf.map((w) => [w.label, formatBytes(w.bytesPerDeviceMonth), money(w.costPerDeviceMonth, cur), money(w.fleetPerMonth, cur), `${w.change > 0 ? '+' : ''}${(w.change * 100).toFixed(1)}%`])],
      notes: [],
    });
  }
  return out;
}

export function yearsTables(s: RunSummary): TextTable[] {
  const y = s.years;
  if (!y) return [];
  const releases = [...new Set(y.rows.flatMap((r) => Object.keys(r.releases)))];
  const n = (v: number) => formatCount(Math.round(v));
  const perYear: TextTable = {
    title: `FLEET OVER ${y.years} YEARS`,
    head: ['year', 'made', 'replaced', 'hw failed', 'worn out', 'battery', 'bricked', 'retired', 'left', 'in field', 'online', ...releases],
    rows: y.rows.map((r) => [String(r.year), n(r.produced), n(r.replacements), n(r.failed.hardware), n(r.failed.storage), n(r.failed.battery), n(r.failed.bricked), n(r.retired), n(r.decommissioned), n(r.inField), pct(r.onlineShare), ...releases.map((rel) => (r.working > 0 ? pct((r.releases[rel] ?? 0) / r.working) : '-'))]),
    notes: [`${formatCount(y.devices)} devices made over the years, replacements included; "left" = decommissioned (the backend sees them leave); "online" = working × link availability / in field; releases as shares of working devices at the year's end`],
  };
  const campaigns: TextTable = {
    title: 'UPDATES AND POWER CUTS',
    head: ['release', 'installs', 'single-slot', 'cut during install', 'bricked', 'rolled back (A/B)', 'bricked share'],
    rows: y.campaigns.map((c) => [c.release, n(c.installs), n(c.singleSlotInstalls), n(c.interrupted), n(c.bricked), n(c.rolledBack), c.installs > 0 ? pct(c.bricked / c.installs) : '-']),
    notes: [],
  };
  const profiles: TextTable = {
    title: 'HARDWARE BY REVISION',
    head: ['revision', 'storage', 'endurance', 'writes/day', 'worn out at', `hw failed by ${y.years}y`, 'slots', 'brick/install', 'battery p50'],
    rows: y.profiles.map((p) => [`${p.profile} (group ${p.group})`, p.storage, formatBytes(p.enduranceBytes), formatBytes(p.writesPerDay), p.wearoutYears === null ? 'never' : `${p.wearoutYears.toFixed(1)} y`, pct(p.hardwareFailedShare), p.slots, p.brickPerInstall > 0 ? p.brickPerInstall.toExponential(2) : '0', p.batteryYearsP50 === null ? 'mains' : `${p.batteryYearsP50.toFixed(1)} y`]),
    notes: [`failure curve (random hardware failures, share failed by age): ${y.profiles.map((p) => `${p.profile}: ${p.failureCurve.filter(([t]) => Number.isInteger(t) && t > 0).map(([t, f]) => `${t}y ${pct(f)}`).join(' · ')}`).join('; ')}`],
  };
  return [perYear, campaigns, profiles];
}
