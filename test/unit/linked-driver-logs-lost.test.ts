/**
 * fleet/linked-driver.ts and device logs (QoS 0): a shipment counted in logs.sent when it left the
 * device but still on the modelled link when its session ends, or when the run stops, never reaches
 * the backend, and nothing tells the device. The link counts those lines (logs.lost_on_link, and
 * their "suppressed N" notices) so that the backend's count reconciles with the report; before,
 * they vanished and the report claimed lines the backend never received.
 */
import { describe, expect, it } from 'vitest';
import type { DriverEvents } from '../../src/drivers/types.js';
import { C } from '../../src/metrics/catalog.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { Ev } from '../../src/fleet/event-kinds.js';
import { LinkedDriver } from '../../src/fleet/linked-driver.js';
import { FakeDriver } from '../helpers/fake-driver.js';
import { FakeSchedule } from '../helpers/fake-schedule.js';
import { fixedLink } from '../helpers/fixed-link.js';

const LINK_MS = 50;

/** A link that delivers every message after LINK_MS, losing none. */
const link = fixedLink(LINK_MS);

class LogRecordingDriver extends FakeDriver {
  shipped = 0;
  override shipLogs(dev: number, _suppressed?: number, _line?: string, lines?: number): boolean {
    if (!this.hasSession(dev)) return false;
    this.shipped += lines ?? 0;
    return true;
  }
}

function setup() {
  const inner = new LogRecordingDriver();
  const schedule = new FakeSchedule();
  const metrics = new ShardMetrics(0);
  const linked = new LinkedDriver(inner, link, schedule, metrics, 2);
  schedule.dispatch = (kind, dev) => {
    if (kind === Ev.linkExchange) linked.handle(dev);
  };
  linked.deliverTo({ onConnected: () => {}, onConnectionLost: () => {} } as unknown as DriverEvents);
  for (const dev of [0, 1]) {
    inner.openSession(dev);
    linked.onConnected(dev, true, 0);
  }
  const lost = () => metrics.counters[C['logs.lost_on_link']];
  const noticesLost = () => metrics.counters[C['logs.suppressed_notices_lost_on_link']];
  return { inner, schedule, linked, lost, noticesLost };
}

describe('modelled link: log shipments that never arrive are counted', () => {
  it('a shipment that crosses the link reaches the driver and is not lost', () => {
    const { inner, schedule, linked, lost } = setup();
    expect(linked.shipLogs(0, 0, 'x', 25)).toBe(true);
    schedule.runUntil(10 * LINK_MS);
    expect(inner.shipped).toBe(25);
    expect(lost()).toBe(0);
  });

  it('shipments on the link when the run stops are lost lines (with their notice), not sent ones', async () => {
    const { inner, linked, lost, noticesLost } = setup();
    linked.shipLogs(0, 3, 'x', 25);
    linked.shipLogs(1, 0, 'x', 10);
    await linked.close();
    expect(inner.shipped).toBe(0);
    expect(lost()).toBe(35);
    expect(noticesLost()).toBe(1);
  });

  it('a shipment on the link when its session ends (closed by the device, or lost) is lost with it', () => {
    const { inner, schedule, linked, lost, noticesLost } = setup();
    linked.shipLogs(0, 0, 'x', 25);
    linked.disconnect(0);
    linked.shipLogs(1, 2, 'x', 7);
    linked.onConnectionLost(1, 'reset', 1);
    schedule.runUntil(10 * LINK_MS);
    expect(inner.shipped).toBe(0);
    expect(lost()).toBe(32);
    expect(noticesLost()).toBe(1);
  });

  it('a shipment that arrives after the session below is gone is lost', () => {
    const { inner, schedule, linked, lost } = setup();
    linked.shipLogs(0, 0, 'x', 25);
    inner.closeSession(0);
    schedule.runUntil(10 * LINK_MS);
    expect(inner.shipped).toBe(0);
    expect(lost()).toBe(25);
  });
});
