import type { TimelineRow } from '../../metrics/aggregate.js';
import { pingsPerSessionDay, type DeviceDayUsage } from '../../models/data-volume.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { GroupTotals } from '../../metrics/group-usage.js';

/**
 * What the average device did per day in the simulated part of a run, from the run's counters and
 * its timeline (or, per fleet group, from the group's own counters and time integrals): the input
 * of the data-volume and storage-wear models. Device-days integrate the devices powered on;
 * session time integrates the devices online.
 */
export interface MeasuredUsage {
  usage: DeviceDayUsage;
  deviceDays: number;
  /** Log lines generated per device-day (written to storage whether or not they were sent). */
  logLinesPerDay: number;
}

/** HTTP Range requests of an update download (assumed; docs/models.md "Data volume"). */
export const OTA_CHUNK_BYTES = 65_536;
/** Body of a target-state answer with an offer (assumed: release, config, etag in JSON). */
export const TARGET_BODY_BYTES = 200;

/** What a what-if row changes in the usage (cost: whatIf). */
export interface UsageOverrides {
  pollMs?: number;
  keepaliveSec?: number;
  delta?: number;
  batch?: number;
}

/** The average device of the whole fleet, device and session time from the timeline. */
export function measuredUsage(s: ResolvedScenario, counters: Readonly<Record<string, number>>, timeline: readonly TimelineRow[], overrides: UsageOverrides = {}): MeasuredUsage {
  const { deviceDays, onlineDays } = timelineDays(timeline);
  return usageOf(s, counters, deviceDays, onlineDays, s.fleet.some((g) => g.session === 'always'), overrides);
}

/**
 * The average device of one fleet group, from the group's own counters and time integrals
 * (metrics/group-usage.ts): each group is priced on what its devices did, not on the fleet's mean.
 */
export function groupUsage(s: ResolvedScenario, group: number, t: GroupTotals, overrides: UsageOverrides = {}): MeasuredUsage {
  return usageOf(s, t.counters, t.deviceDays, t.onlineDays, s.fleet[group].session === 'always', overrides);
}

function timelineDays(timeline: readonly TimelineRow[]): { deviceDays: number; onlineDays: number } {
  let powered = 0;
  let prevT = 0;
  let deviceMs = 0;
  let onlineMs = 0;
  let prevOnline = 0;
  for (const row of timeline) {
    const before = powered;
    powered += row.counters['devices.powered_on'] ?? 0;
    const dt = row.tMs - prevT;
    if (dt > 0) {
      deviceMs += ((before + powered) / 2) * dt;
      const online = row.gauges['devices.online'] ?? 0;
      onlineMs += ((prevOnline + online) / 2) * dt;
      prevOnline = online;
    }
    prevT = row.tMs;
  }
  return { deviceDays: deviceMs / 86_400_000, onlineDays: onlineMs / 86_400_000 };
}

function usageOf(s: ResolvedScenario, counters: Readonly<Record<string, number>>, deviceDays: number, onlineDays: number, standing: boolean, overrides: UsageOverrides): MeasuredUsage {
  const per = (n: number | undefined) => (deviceDays > 0 ? (n ?? 0) / deviceDays : 0);
  const b = s.behaviour;
  const tls = s.cost?.tls ?? '1.3';
  const sessions = per(counters['mqtt.connect.ok']);
  const devices = Math.max(1, counters['devices.powered_on'] ?? 1);
  const resumedShare = tls !== 'none' && (s.cost?.resumption ?? true) && counters['mqtt.connect.ok'] > 0 ? Math.max(0, 1 - devices / counters['mqtt.connect.ok']) : 0;
  const keepalive = overrides.keepaliveSec ?? b.keepaliveSec;
  const reportS = b.telemetry ? b.telemetry.everyMs / 1000 : undefined;
  const pings = standing ? (onlineDays / Math.max(deviceDays, 1e-9)) * pingsPerSessionDay(reportS, keepalive, b.telemetry?.jitter ?? 0) : 0;
  const pollScale = overrides.pollMs !== undefined && b.poll ? b.poll.everyMs / overrides.pollMs : 1;
  const polls = per(counters['poll.ok']) * pollScale;
  const pollEveryMs = overrides.pollMs ?? b.poll?.everyMs ?? Infinity;
  const notifiedByPoll = s.phases.some((p) => p.kind === 'update' && p.spec.notify === 'poll');
  const pollBodies = notifiedByPoll ? Math.min(polls, per(counters['update.offered'])) : 0;
  // An update recurs as often as its phase says (`recurs`), not once per simulated window.
  const recursMs = s.phases.reduce((a, p) => (p.kind === 'update' && p.spec.recursEveryMs !== undefined ? Math.min(a, p.spec.recursEveryMs) : a), Infinity);
  const otaPerDay = Number.isFinite(recursMs) ? (counters['ota.bytes_downloaded'] ?? 0) / devices / (recursMs / 86_400_000) : per(counters['ota.bytes_downloaded']);
  const logs = b.fleetOps.logs;
  const logLines = per(counters['logs.sent']);
  const flushesPerDay = logs ? 86_400_000 / logs.flushEveryMs : 0;
  return {
    deviceDays,
    logLinesPerDay: per(counters['logs.generated']),
    usage: {
      reports: per(counters['telemetry.sent']),
      payloadBytes: b.telemetry?.sizeBytes ?? 0,
      qos: b.telemetry?.qos ?? 1,
      batch: overrides.batch ?? 1,
      retransmissions: per(counters['link.packets_lost']),
      sessions,
      resumedShare,
      pings,
      polls,
      pollBodies,
      pollBodyBytes: TARGET_BODY_BYTES,
      httpConnections: pollEveryMs > (s.cost?.httpIdleMs ?? 5000) ? polls : 0,
      otaBytes: otaPerDay * (overrides.delta ?? 1),
      chunkBytes: OTA_CHUNK_BYTES,
      logMessages: logs && logLines > 0 ? Math.min(logLines, flushesPerDay) : 0,
      logBytes: logs ? logLines * logs.lineBytes : 0,
    },
  };
}
