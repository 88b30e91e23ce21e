import { describe, expect, it } from 'vitest';
import { compileThreshold, type Threshold } from '../../src/metrics/thresholds.js';
import { compareSummaries } from '../../src/report/compare.js';
import { formatComparison } from '../../src/report/compare-format.js';
import { BACKLOG_GROWTH_INTERVALS, generatorBound, generatorProblems, sendSideBacklog } from '../../src/summary/generator-health.js';
import { decideResult } from '../../src/summary/verdict.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

const t = (metric: string, expression: string): Threshold => {
  const c = compileThreshold(metric, expression);
  if (!c.ok) throw new Error(c.message);
  return c.value;
};

// scenarios/quickstart.yaml's thresholds.
const QUICKSTART = [t('provision.latency', 'p(99) < 500ms'), t('mqtt.connect.latency', 'p(95) < 250ms'), t('telemetry.ack.latency', 'p(99) < 250ms'), t('telemetry.failed', 'count == 0')];

describe('generator bound: a share of the tightest latency threshold', () => {
  it('is half of the tightest tail threshold when that is under options.maxScheduleLag (quickstart: 125 ms, not 2 s)', () => {
    expect(generatorBound(QUICKSTART, 2000)).toEqual({ boundMs: 125, boundSource: '50% of the tightest latency threshold, mqtt.connect.latency p(95) < 250ms' });
  });

  it('keeps options.maxScheduleLag when it is tighter, or when no latency threshold bounds the tail', () => {
    expect(generatorBound(QUICKSTART, 50)).toEqual({ boundMs: 50, boundSource: 'options.maxScheduleLag' });
    // Medians, means, minimums, lower bounds and counters say nothing about a worst-case stall.
    const notTail = [t('telemetry.ack.latency', 'p(50) < 10ms'), t('telemetry.ack.latency', 'avg < 10ms'), t('telemetry.ack.latency', 'min < 1ms'), t('poll.latency', 'p(99) > 1ms'), t('telemetry.failed', 'count < 5')];
    expect(generatorBound(notTail, 2000)).toEqual({ boundMs: 2000, boundSource: 'options.maxScheduleLag' });
    expect(generatorBound([t('update.duration', 'max < 10m')], 2000).boundMs).toBe(2000);
  });
});

describe('verdict: the generator, not the backend, is blamed', () => {
  // The reported case: the quickstart on a busy 2-core box, thresholds failed, lag 0.9-1.4 s.
  const failedThreshold = { metric: 'telemetry.ack.latency', expression: 'p(99) < 250ms', value: 1_400_000, display: '1.40s', ok: false };
  const base = { status: 'completed' as const, thresholds: [failedThreshold], shardsReported: 1, expectedShards: 1, sendSide: [], accountingHolds: true, errors: [] };

  it('a lag over the bound makes the run invalid (exit 3) even though thresholds failed, and says the thresholds were not judged', () => {
    const generator = generatorProblems({ maxScheduleLagMs: 1400, maxEventLoopDelayMs: 900, ...generatorBound(QUICKSTART, 2000) });
    expect(generator).toHaveLength(1);
    expect(generator[0]).toMatch(/^the load generator \(fleetsim on this machine, not the backend\) ran events up to 1\.40s behind schedule and had its event loop stalled up to 900\.0ms/);
    expect(generator[0]).toContain('over its bound of 125.0ms (50% of the tightest latency threshold, mqtt.connect.latency p(95) < 250ms)');
    const r = decideResult({ ...base, generator });
    expect(r.verdict).toBe('invalid');
    expect(r.exitCode).toBe(3);
    expect(r.reasons[1]).toBe('not judged, because of the generator: telemetry.ack.latency p(99) < 250ms (measured 1.40s)');
  });

  it('a saturated generator names the sessions the broker closed for silence as possibly its own doing', () => {
    // 500,000 sessions, keepalive 60 s: shards 31 s behind, 626 sessions closed by Mosquitto (bench/RESULTS.md).
    const lagged = generatorProblems({ maxScheduleLagMs: 31_000, maxEventLoopDelayMs: 90, boundMs: 5000, boundSource: 'options.maxScheduleLag', closedByBroker: 626 });
    expect(lagged).toHaveLength(2);
    expect(lagged[1]).toMatch(/^626 sessions the broker closed without an error \(mqtt\.connection_lost\.closed_by_broker\) may be fleetsim's doing too/);
    expect(generatorProblems({ maxScheduleLagMs: 31_000, maxEventLoopDelayMs: 90, boundMs: 5000, boundSource: 'x', closedByBroker: 0 })).toHaveLength(1);
  });

  it('event-loop delay alone over the bound counts too; within the bound the thresholds decide', () => {
    expect(generatorProblems({ maxScheduleLagMs: 1, maxEventLoopDelayMs: 300, boundMs: 125, boundSource: 'x' })[0]).toMatch(/had its event loop stalled up to 300\.0ms/);
    const healthy = generatorProblems({ maxScheduleLagMs: 60, maxEventLoopDelayMs: 78, boundMs: 125, boundSource: 'x', closedByBroker: 3 });
    expect(healthy).toEqual([]);
    expect(decideResult({ ...base, generator: healthy }).exitCode).toBe(99);
  });

  it('a send-side backlog makes a passing run invalid, but does not hide a failed threshold', () => {
    const sendSide = ['the send side did not keep up'];
    expect(decideResult({ ...base, thresholds: [{ ...failedThreshold, ok: true }], generator: [], sendSide })).toMatchObject({ verdict: 'invalid', exitCode: 3, reasons: sendSide });
    expect(decideResult({ ...base, generator: [], sendSide }).exitCode).toBe(99);
  });
});

describe('send side: buffers that only grow', () => {
  const rows = (buffered: number[], online: number[], offline = 0) => buffered.map((b, k) => ({ gauges: { 'telemetry.buffered': b, 'devices.online': online[k], 'devices.offline': offline } }));
  const n = BACKLOG_GROWTH_INTERVALS + 1;

  it('finds telemetry waiting per online device that grows every interval (the 1,863-of-3,000 run: 296,070 buffered)', () => {
    const buffered = Array.from({ length: n }, (_, k) => 20_000 + k * 46_000);
    const found = sendSideBacklog(rows(buffered, Array(n).fill(1863)));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`grew in each of the last ${BACKLOG_GROWTH_INTERVALS} intervals (20,000 -> 296,000, 158.9 per online device) while every device's link was up`);
  });

  it('ignores a ramp-up (in flight grows with devices online), store-and-forward while links are down, and short runs', () => {
    const online = Array.from({ length: n }, (_, k) => 100 * (k + 1));
    expect(sendSideBacklog(rows(online.map((o) => o * 1.5), online))).toEqual([]);
    const growing = Array.from({ length: n }, (_, k) => 1000 * (k + 1));
    expect(sendSideBacklog(rows(growing, Array(n).fill(100), 3))).toEqual([]);
    expect(sendSideBacklog(rows(growing.slice(0, n - 1), Array(n - 1).fill(100)))).toEqual([]);
    // Growth that stops (a burst drained) is no backlog.
    expect(sendSideBacklog(rows([...growing.slice(0, n - 1), growing[n - 3]], Array(n).fill(100)))).toEqual([]);
  });
});

describe('compare shows generator health next to the regressions', () => {
  it('marks a saturated run and warns that its differences may be fleetsim\'s own', () => {
    const { summary: base } = syntheticRun({ intervals: 6, devices: 20 });
    const current = structuredClone(base);
    current.generator = { ...current.generator, maxScheduleLagMs: 1400, boundMs: 125, boundSource: '50% of the tightest latency threshold, telemetry.ack.latency p(99) < 250ms', saturated: true };
    const c = compareSummaries(base, current, []);
    expect(c.generator.base.healthy).toBe(true);
    expect(c.generator.current.healthy).toBe(false);
    expect(c.notes).toContain("the generator could not keep up in CURRENT: differences there may be fleetsim's own delay, not the backend's");
    const table = formatComparison(c, 'table');
    expect(table).toMatch(/GENERATOR\n {2}✓ generator base {3}: kept up · schedule lag .*\n {2}✗ generator current: SATURATED · schedule lag 1\.40s, .*bound 125\.0ms \(50% of the tightest latency threshold/);
    expect(formatComparison(c, 'md')).toContain('- ✗ generator current: SATURATED');
  });
});

describe('send side: a connect backlog', () => {
  const n = BACKLOG_GROWTH_INTERVALS + 1;
  const row = (provisioned: number, online: number, counters: Record<string, number> = {}, offline = 0) => ({
    gauges: { 'devices.provisioned': provisioned, 'devices.online': online, 'devices.offline': offline, 'devices.depleted': 0, 'telemetry.buffered': 0 },
    counters,
  });

  it('finds provisioned devices with their link up that never get a session (the run where 1,863 of 3,000 connected)', () => {
    const rows = Array.from({ length: n }, () => row(3000, 1863));
    const found = sendSideBacklog(rows, true);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('connect backlog: only 1,863 of 3,000 provisioned devices held a session, and the 1,137 waiting (links up, no connect failed) never shrank');
    // Sleepy fleets (session: per-report) hold no session between reports by design.
    expect(sendSideBacklog(rows, false)).toEqual([]);
  });

  it("is not fleetsim's when the backend refused or dropped sessions, when the gap shrinks, or when it is small", () => {
    const stuck = Array.from({ length: n }, () => row(3000, 1863));
    expect(sendSideBacklog([row(3000, 3000, { 'mqtt.connect.failed': 4 }), ...stuck], true)).toEqual([]);
    expect(sendSideBacklog([row(3000, 3000, { 'mqtt.connection_lost': 1137 }), ...stuck], true)).toEqual([]);
    expect(sendSideBacklog(Array.from({ length: n }, (_, k) => row(3000, 1863 + k * 100)), true)).toEqual([]);
    expect(sendSideBacklog(Array.from({ length: n }, () => row(3000, 2900)), true)).toEqual([]);
  });
});
