import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { formatSummaryTable } from '../../src/report/console.js';
import { requireMosquitto } from '../helpers/mosquitto.js';

/**
 * The shipped chaos scenarios, run as a user runs them: they pass their recovery thresholds, and
 * what fleetsim injected reconciles with what the devices saw.
 */
const SCENARIOS = path.join(import.meta.dirname, '../../scenarios');

describe('the shipped chaos scenarios on the virtual clock (--clock virtual): the backend model plays their phases', () => {
  it('chaos-api: passes its thresholds; every modelled 503 is a 503 a device counted; recovery within its thresholds', async () => {
    const s = loadScenario(path.join(SCENARIOS, 'chaos-api.yaml'), { clock: 'virtual' });
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-chaos-api-virtual' });
    expect(summary.thresholds.filter((t) => !t.ok)).toEqual([]);
    const f = summary.faults!;
    for (const p of f.phases) {
      expect(p.injected.byKind).toEqual({ http_status: p.injected.total });
      expect(p.injected.total).toBeGreaterThan(20);
      expect(p.observed.errors).toEqual(Object.fromEntries(Object.entries(p.injected.byRoute).map(([r, n]) => [`errors.${r}.http_503`, n])));
      expect(p.recovery.affected).toBeGreaterThan(0);
      expect(p.recovery.stillOut).toBe(0);
      // Back within a few seconds of the storm's end (Retry-After 2s, backoff capped at 4s).
      expect(p.recovery.timeTo95Ms).toBeLessThanOrEqual(8000);
    }
    expect(summary.counters['http.retry_after']).toBeGreaterThanOrEqual(f.phases[0].injected.total);
  }, 60_000);

  it('broker-restart: every session drops at each restart and comes back; connects are refused while the broker is down', async () => {
    const s = loadScenario(path.join(SCENARIOS, 'broker-restart.yaml'), { clock: 'virtual' });
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-broker-restart-virtual' });
    expect(summary.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(summary.accounting.holds).toBe(true);
    const f = summary.faults!;
    expect(f.phases.map((p) => p.injected.byKind)).toEqual([{ broker_restarted: 1 }, { broker_restarted: 1 }]);
    for (const p of f.phases) {
      expect(p.observed.sessionsLost).toBeGreaterThanOrEqual(s.devices - 5);
      expect(p.observed.sessionsLost).toBeLessThanOrEqual(s.devices);
      expect(p.recovery.affected).toBe(p.observed.sessionsLost);
      expect(p.recovery.stillOut).toBe(0);
      expect(p.recovery.timeTo99Ms).toBeLessThanOrEqual(9000);
    }
    // Down for 2 s the first time: every connect meanwhile refused; the second restart is instant.
    expect(f.phases[0].observed.errors).toEqual({ 'errors.mqtt_connect.refused': f.phases[0].observed.mqttConnectFailed });
    expect(f.phases[0].observed.mqttConnectFailed).toBeGreaterThan(0);
    expect(f.phases[1].observed.mqttConnectFailed).toBe(0);
  }, 60_000);
});

describe('scenarios/chaos-api.yaml: a 503 storm through the fault proxy', () => {
  it('passes its recovery thresholds, and every injected 503 is a 503 a device counted', async () => {
    const s = loadScenario(path.join(SCENARIOS, 'chaos-api.yaml'));
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-chaos-api', drainMs: 3000 });
    expect(summary.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(summary.result.exitCode).toBe(0);
    const f = summary.faults!;
    expect(f.phases.map((p) => p.label)).toEqual(['http 503 Retry-After 2s provision,poll', 'http 503 provision,poll 50%']);
    // Injected by the proxy, in total, against what devices counted by route and cause: equal.
    const injected = f.phases.reduce((a, p) => a + p.injected.total, 0);
    const seen = summary.counters['errors.provision.http_503'] + summary.counters['errors.poll.http_503'];
    expect(injected).toBeGreaterThan(50);
    expect(seen).toBe(injected);
    // The storm with Retry-After handed it out with every 503 (the devices honoured it).
    expect(summary.counters['http.retry_after']).toBeGreaterThanOrEqual(f.phases[0].injected.total);
    for (const p of f.phases) {
      expect(p.recovery.affected).toBeGreaterThan(0);
      expect(p.recovery.timeTo95Ms).not.toBeNull();
    }
    expect(formatSummaryTable(summary)).toMatch(/FAULTS[\s\S]*injected: \d+ \(http_status/);
  }, 60_000);
});

describe.runIf(requireMosquitto())('scenarios/broker-restart.yaml: local Mosquitto killed and restarted twice', () => {
  it('passes its recovery thresholds; every session dropped at each restart and came back', async () => {
    const s = loadScenario(path.join(SCENARIOS, 'broker-restart.yaml'));
    const { summary } = await runScenario(s, { workers: 1, runId: 'it-broker-restart', drainMs: 3000 });
    expect(summary.thresholds.filter((t) => !t.ok)).toEqual([]);
    expect(summary.result.exitCode).toBe(0);
    expect(summary.accounting.holds).toBe(true);
    const f = summary.faults!;
    expect(f.errors).toEqual([]);
    expect(f.phases.map((p) => p.injected.byKind.broker_restarted)).toEqual([1, 1]);
    for (const p of f.phases) {
      // Every session up at the restart drops; a device whose connect is still crossing its
      // modelled link then is refused instead (a handful of the 200 at most).
      expect(p.observed.sessionsLost).toBeGreaterThanOrEqual(s.devices - 5);
      expect(p.observed.sessionsLost).toBeLessThanOrEqual(s.devices);
      expect(p.recovery.affected).toBeGreaterThanOrEqual(s.devices - 5);
      expect(p.recovery.affected).toBeLessThanOrEqual(s.devices);
      expect(p.recovery.stillOut).toBe(0);
    }
    // The first restart kept the broker down for 2 s: connects were refused meanwhile.
    expect(f.phases[0].observed.mqttConnectFailed).toBeGreaterThan(0);
  }, 60_000);
});
