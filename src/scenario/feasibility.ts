import { formatDuration } from '../metrics/format.js';
import { simulatedHorizonMs, type ResolvedScenario } from './resolved.js';

/**
 * Whether a run can finish, worked out before anything starts: every value of a scenario is in
 * its range (schema.ts), but values in range can still multiply into a run that never ends (a
 * million devices reporting every millisecond for a year) or a timeline that does not fit in
 * memory. `fleetsim plan` shows these problems and `run` refuses (capacity.ts collects them).
 */

/**
 * Virtual-clock events one shard runs per second, for the estimate. bench/RESULTS.md measured
 * 2.6M per worker (5.27M on 2 workers); half of that allows for a loaded machine and heavier
 * behaviours (fleet operations, the link model).
 */
export const VIRTUAL_EVENTS_PER_SHARD_SECOND = 1_300_000;
/** Longest virtual-clock run fleetsim starts, by that estimate: past a day it is a mistake, or a job for --shard on several machines. */
export const MAX_VIRTUAL_RUN_HOURS = 24;
/**
 * Events per message: a report and its acknowledgement (bench/RESULTS.md counts ~221 events per
 * device-day for 96 reports: 2.3 each, outages and reconnects included).
 */
const EVENTS_PER_MESSAGE = 2.5;
/** Timeline rows (snapshots) in one report: each is kept in memory and written to the report. */
export const MAX_TIMELINE_ROWS = 1_000_000;

export interface Infeasibility {
  message: string;
  fix: string;
}

/** Events the virtual clock would run for `devices` devices: an upper bound (every device on from the start). */
export function estimatedVirtualEvents(s: ResolvedScenario, devices: number): number {
  const horizonMs = simulatedHorizonMs(s);
  const b = s.behaviour;
  const perDeviceMs = (b.telemetry ? 1 / b.telemetry.everyMs : 0) + (b.poll ? 1 / b.poll.everyMs : 0) + (b.fleetOps.logs ? 1 / b.fleetOps.logs.flushEveryMs : 0);
  return devices * horizonMs * perDeviceMs * EVENTS_PER_MESSAGE;
}

export function feasibilityProblems(s: ResolvedScenario, devices: number, shards: number): Infeasibility[] {
  const out: Infeasibility[] = [];
  const horizonMs = simulatedHorizonMs(s);
  const rows = horizonMs / s.options.snapshotEveryMs;
  if (rows > MAX_TIMELINE_ROWS) {
    out.push({
      message: `a snapshot every ${formatDuration(s.options.snapshotEveryMs)} for ${formatDuration(horizonMs)} makes ${fmt(rows)} timeline rows; a report holds at most ${fmt(MAX_TIMELINE_ROWS)}`,
      fix: `set options.snapshotEvery to at least ${formatDuration(Math.ceil(horizonMs / MAX_TIMELINE_ROWS))}`,
    });
  }
  if (s.clock === 'virtual') {
    const events = estimatedVirtualEvents(s, devices);
    const hours = events / (VIRTUAL_EVENTS_PER_SHARD_SECOND * Math.max(1, shards)) / 3600;
    if (hours > MAX_VIRTUAL_RUN_HOURS) {
      out.push({
        message: `the virtual clock would run about ${fmt(events)} events: ~${fmt(Math.round(hours))} hours on ${shards} shard${shards === 1 ? '' : 's'} at ~${fmt(VIRTUAL_EVENTS_PER_SHARD_SECOND)} events/s each (fleetsim starts runs of up to ${MAX_VIRTUAL_RUN_HOURS} h)`,
        fix: 'report or poll less often (behaviour.telemetry.every, behaviour.poll.every), shorten the duration, project battery life past options.projectAfter, or split the fleet over machines with --shard i/N',
      });
    }
  }
  return out;
}

function fmt(n: number): string {
  return n >= 1e15 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US');
}
