import { describe, expect, it } from 'vitest';
import { OtaStateReports } from '../../src/fleet/behaviours/ota-state-reports.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { C } from '../../src/metrics/catalog.js';
import { CANCELLED, type DeviceDriver } from '../../src/drivers/types.js';
import type { BehaviourContext } from '../../src/fleet/behaviour.js';

/** A driver that records the state reports it is asked to send and answers only when told. */
function harness(opts: { heldUntil?: number } = {}) {
  const sent: Array<{ dev: number; status: string; release: string }> = [];
  const driver = { reportState: (dev: number, r: { status: string; release: string }) => sent.push({ dev, status: r.status, release: r.release }) } as unknown as DeviceDriver;
  const metrics = new ShardMetrics(0);
  const release = ['app-1.0', 'app-1.0'];
  const reports = new OtaStateReports(2, driver, metrics, 99, { release: (d) => release[d], campaign: () => 'c1', bytes: () => 0 });
  const scheduled: number[] = [];
  const ctx = {
    hold: { heldUntil: () => opts.heldUntil ?? -1, answered: () => -1 },
    rebooting: () => false,
    schedule: { at: (t: number) => scheduled.push(t), now: () => 0 },
  } as unknown as BehaviourContext;
  reports.plan(ctx);
  return { reports, sent, metrics, release, scheduled };
}

describe('OTA state reports', () => {
  it('keep one report in flight per device and send the rest in order as each is answered', () => {
    const { reports, sent, metrics } = harness();
    reports.report(0, 'downloading');
    reports.report(0, 'installing');
    reports.report(0, 'success');
    reports.report(1, 'downloading');
    // One per device leaves; the others wait for its answer (sent back to back they could arrive out of order).
    expect(sent.map((s) => `${s.dev}:${s.status}`)).toEqual(['0:downloading', '1:downloading']);
    reports.onStateReported(0, 204, -1);
    expect(sent.map((s) => `${s.dev}:${s.status}`)).toEqual(['0:downloading', '1:downloading', '0:installing']);
    reports.onStateReported(0, 204, -1);
    reports.onStateReported(0, 204, -1);
    expect(sent.filter((s) => s.dev === 0).map((s) => s.status)).toEqual(['downloading', 'installing', 'success']);
    expect(metrics.counters[C['requests.started']]).toBe(4);
  });

  it('send the next report after a cancelled or failed one, and nothing after the stop', () => {
    const { reports, sent } = harness();
    reports.report(0, 'installing');
    reports.report(0, 'failed', 'health check');
    reports.report(0, 'rolled-back');
    reports.onStateReported(0, CANCELLED, -1);
    reports.onStateReported(0, 503, -1);
    expect(sent.map((s) => s.status)).toEqual(['installing', 'failed', 'rolled-back']);
    reports.report(0, 'downloading');
    reports.stop();
    reports.onStateReported(0, 204, -1);
    expect(sent.map((s) => s.status)).toEqual(['installing', 'failed', 'rolled-back']);
  });

  it('keep the newest when more are waiting than a device holds', () => {
    const { reports, sent } = harness();
    for (const s of ['downloading', 'a', 'b', 'c', 'd', 'e', 'success']) reports.report(0, s);
    for (let i = 0; i < 6; i++) reports.onStateReported(0, 204, -1);
    expect(sent.map((s) => s.status)).toEqual(['downloading', 'a', 'b', 'c', 'success']);
  });
});
