import { HISTOGRAMS } from '../metrics/catalog.js';
import { formatMicros } from '../metrics/format.js';

const formatMs = (ms: number) => formatMicros(ms * 1000);

/**
 * How much of the tightest latency threshold the load generator's own delay may take. A shard
 * that runs an event d ms late, or whose event loop stalls d ms, adds up to d to the latencies it
 * measures across the stall. At half the budget, a backend answering in half the threshold can
 * fail it through fleetsim's delay alone; past that a failed (or passed) latency threshold says
 * nothing about the backend, so the run is invalid (exit 3).
 */
export const GENERATOR_SHARE_OF_LATENCY_BUDGET = 0.5;

/**
 * Upper-bound latency thresholds on the tail (`p(99) < 250ms`, `max < 2s`): the budgets the
 * generator must stay well inside. The generator's health is its worst delay, which reaches the
 * tail of a distribution; a median or mean threshold is not moved by a rare stall.
 */
interface LatencyThresholdLike {
  metric: string;
  expression: string;
  aggregate: { kind: string; percentile?: number };
  op: string;
  /** µs for latency metrics. */
  value: number;
}

const LATENCY_METRICS: ReadonlySet<string> = new Set(HISTOGRAMS.map(([n]) => n));

/** Percentiles from here up are the tail a worst-case generator delay reaches. */
const TAIL_PERCENTILE = 90;

function looksAtTheTail(a: { kind: string; percentile?: number }): boolean {
  return a.kind === 'max' || (a.kind === 'p' && (a.percentile ?? 0) >= TAIL_PERCENTILE);
}

export interface GeneratorBound {
  boundMs: number;
  /** Where the bound comes from, in words, for the report. */
  boundSource: string;
}

/**
 * The generator's bound: `options.maxScheduleLag`, or a share of the tightest latency threshold
 * when that is smaller (a 2 s lag is nothing against a 5 min update, everything against a 250 ms p99).
 */
export function generatorBound(thresholds: readonly LatencyThresholdLike[], optionBoundMs: number): GeneratorBound {
  let tightest: LatencyThresholdLike | undefined;
  for (const t of thresholds) {
    if (!LATENCY_METRICS.has(t.metric) || (t.op !== '<' && t.op !== '<=') || !looksAtTheTail(t.aggregate)) continue;
    if (tightest === undefined || t.value < tightest.value) tightest = t;
  }
  const fromThreshold = tightest ? (tightest.value / 1000) * GENERATOR_SHARE_OF_LATENCY_BUDGET : Infinity;
  if (tightest && fromThreshold < optionBoundMs) {
    return { boundMs: fromThreshold, boundSource: `${GENERATOR_SHARE_OF_LATENCY_BUDGET * 100}% of the tightest latency threshold, ${tightest.metric} ${tightest.expression}` };
  }
  return { boundMs: optionBoundMs, boundSource: 'options.maxScheduleLag' };
}

export interface GeneratorMeasurements {
  maxScheduleLagMs: number;
  maxEventLoopDelayMs: number;
  boundMs: number;
  boundSource: string;
  /** Sessions the broker closed without an error (mqtt.connection_lost.closed_by_broker), if known. */
  closedByBroker?: number;
}

/**
 * Why fleetsim's own CPU, not the backend, is at fault: schedule lag or event-loop delay over the
 * bound, as one sentence; empty when the generator kept up. Makes the run invalid whatever the
 * thresholds say.
 */
export function generatorProblems(g: GeneratorMeasurements): string[] {
  const out: string[] = [];
  const over: string[] = [];
  if (g.maxScheduleLagMs > g.boundMs) over.push(`ran events up to ${formatMs(g.maxScheduleLagMs)} behind schedule`);
  if (g.maxEventLoopDelayMs > g.boundMs) over.push(`had its event loop stalled up to ${formatMs(g.maxEventLoopDelayMs)} (p99 of an interval)`);
  if (over.length > 0) {
    out.push(
      `the load generator (fleetsim on this machine, not the backend) ${over.join(' and ')}, over its bound of ${formatMs(g.boundMs)} (${g.boundSource}): latencies include fleetsim's own delay, so this run cannot judge the backend; give fleetsim more CPU (fewer devices per worker, more --workers, or --shard across machines) and run again`,
    );
    // A broker closes a session it has heard nothing on for 1.5 keepalives (MQTT 3.1.1 §3.1.2.10):
    // a shard late by more than half a keepalive makes its devices silent that long.
    if ((g.closedByBroker ?? 0) > 0) {
      out.push(
        `${g.closedByBroker!.toLocaleString('en-US')} sessions the broker closed without an error (mqtt.connection_lost.closed_by_broker) may be fleetsim's doing too: a broker closes a session it heard nothing on for 1.5 keepalives, and a generator running behind sends its devices' packets late`,
      );
    }
  }
  return out;
}

/** One interval of the fleet-wide timeline, as far as the backlog checks need it. */
interface TimelineGauges {
  gauges: Record<string, number>;
  /** Counter deltas of the interval. */
  counters?: Record<string, number>;
}

/** Share of provisioned devices that may wait for a session before a stuck gap counts as a connect backlog. */
export const CONNECT_BACKLOG_SHARE = 0.05;

/** Intervals in a row over which a backlog must grow before it counts (a ramp or a burst is shorter). */
export const BACKLOG_GROWTH_INTERVALS = 6;
/** Messages waiting per online device past which a growing backlog is a send side that cannot keep up (a healthy device has at most its in-flight window). */
export const BACKLOG_PER_ONLINE_DEVICE = 4;

/**
 * A send side that fell behind with a healthy CPU, over the last BACKLOG_GROWTH_INTERVALS
 * intervals of the timeline, one sentence per finding. Only for wall-clock runs without outage
 * phases, where a backlog has no modelled cause:
 * - buffers that only grow: telemetry waiting to be sent, per online device, grew in each
 *   interval, ends above BACKLOG_PER_ONLINE_DEVICE, and no device's link was down meanwhile
 *   (store-and-forward while offline is the model, not a backlog);
 * - a connect backlog (`standingSessions`: every group holds a session, none is sleepy).
 */
export function sendSideBacklog(rows: readonly TimelineGauges[], standingSessions = false): string[] {
  if (rows.length < BACKLOG_GROWTH_INTERVALS + 1) return [];
  const tail = rows.slice(-(BACKLOG_GROWTH_INTERVALS + 1));
  return [...(standingSessions ? connectBacklog(tail, rows) : []), ...growingBuffers(tail)];
}

/**
 * A connect backlog: devices with credentials and a link that should hold a standing session but
 * hold none (not depleted, not in an update's download-to-reboot), a gap that never shrinks over the window, in a run where no connect failed and no
 * session dropped (a backend that refuses, times out or drops sessions is measured under
 * mqtt.connect.failed and mqtt.connection_lost, and its devices back off: not fleetsim's fault).
 */
function connectBacklog(tail: readonly TimelineGauges[], all: readonly TimelineGauges[]): string[] {
  const gap = tail.map((r) => (r.gauges['devices.provisioned'] ?? 0) - (r.gauges['devices.online'] ?? 0) - (r.gauges['devices.offline'] ?? 0) - (r.gauges['devices.depleted'] ?? 0) - (r.gauges['update.in_progress'] ?? 0));
  const provisioned = tail.at(-1)!.gauges['devices.provisioned'] ?? 0;
  if (provisioned === 0 || gap.some((g) => g <= CONNECT_BACKLOG_SHARE * provisioned)) return [];
  for (let k = 1; k < gap.length; k++) if (gap[k] < gap[k - 1]) return [];
  if (tail.some((r) => (r.gauges['devices.offline'] ?? 0) > 0)) return [];
  if (all.some((r) => (r.counters?.['mqtt.connect.failed'] ?? 0) > 0 || (r.counters?.['mqtt.connection_lost'] ?? 0) > 0)) return [];
  const online = tail.at(-1)!.gauges['devices.online'] ?? 0;
  return [
    `connect backlog: only ${online.toLocaleString('en-US')} of ${provisioned.toLocaleString('en-US')} provisioned devices held a session, and the ${gap.at(-1)!.toLocaleString('en-US')} waiting (links up, no connect failed) never shrank over the last ${BACKLOG_GROWTH_INTERVALS} intervals: fleetsim did not get their connects through, so the scenario's load never reached the backend`,
  ];
}

function growingBuffers(tail: readonly TimelineGauges[]): string[] {
  const perDevice = tail.map((r) => (r.gauges['telemetry.buffered'] ?? 0) / Math.max(1, r.gauges['devices.online'] ?? 0));
  if (tail.some((r) => (r.gauges['devices.offline'] ?? 0) > 0)) return [];
  for (let k = 1; k < perDevice.length; k++) if (!(perDevice[k] > perDevice[k - 1])) return [];
  if (perDevice.at(-1)! <= BACKLOG_PER_ONLINE_DEVICE) return [];
  const first = tail[0].gauges['telemetry.buffered'] ?? 0;
  const last = tail.at(-1)!.gauges['telemetry.buffered'] ?? 0;
  return [
    `the send side did not keep up: telemetry waiting to be sent grew in each of the last ${BACKLOG_GROWTH_INTERVALS} intervals (${first.toLocaleString('en-US')} -> ${last.toLocaleString('en-US')}, ${perDevice.at(-1)!.toFixed(1)} per online device) while every device's link was up, so the scenario's load never reached the backend`,
  ];
}
