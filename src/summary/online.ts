import type { TimelineRow } from '../metrics/aggregate.js';
import type { OnlineDevices } from './run-summary.js';

/**
 * Devices online over the run, from the timeline's `devices.online` gauge: the peak, and the last
 * snapshot before the end. The final snapshot is taken after every device disconnected (the
 * graceful end of a run), so "online at the end" is always 0 and says nothing.
 */
export function onlineOverRun(timeline: readonly TimelineRow[]): OnlineDevices | undefined {
  const rows = timeline.filter((r) => 'devices.online' in r.gauges);
  if (rows.length === 0) return undefined;
  let peak = rows[0];
  for (const r of rows) if (r.gauges['devices.online'] > peak.gauges['devices.online']) peak = r;
  const before = rows.length > 1 ? rows[rows.length - 2] : rows[0];
  return { peak: peak.gauges['devices.online'], peakAtMs: peak.tMs, beforeEnd: before.gauges['devices.online'], beforeEndAtMs: before.tMs };
}
