/**
 * fleet/linked-driver.ts when the driver below sends polls and state reports on the device's MQTT
 * session (AWS IoT's reserved topics, DeviceDriver.requestsOnSession): a request still on the
 * modelled link when the device closes its session ends with it (CANCELLED, one answer each),
 * like the uplinks on their way. An OS update reports `rebooting` and closes the session at once:
 * held on the link, the report used to reach the driver after the close, wait for a session the
 * rebooting device did not have, and time out (errors.state.timeout). Over HTTP a request does
 * not ride the session and still goes.
 */
import { describe, expect, it } from 'vitest';
import { CANCELLED, type DeviceStateReport, type DriverEvents, type FleetOpsEvents } from '../../src/drivers/types.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { Ev } from '../../src/fleet/event-kinds.js';
import { LinkedDriver } from '../../src/fleet/linked-driver.js';
import { FakeDriver } from '../helpers/fake-driver.js';
import { FakeSchedule } from '../helpers/fake-schedule.js';
import { fixedLink } from '../helpers/fixed-link.js';

const LINK_MS = 50;

/** A link that delivers every message after LINK_MS, losing none. */
const link = fixedLink(LINK_MS);

class RecordingDriver extends FakeDriver {
  readonly reports: DeviceStateReport[] = [];
  constructor(readonly requestsOnSession: boolean) {
    super();
  }
  override reportState(_dev: number, report: DeviceStateReport): void {
    this.reports.push(report);
  }
}

function setup(requestsOnSession: boolean) {
  const inner = new RecordingDriver(requestsOnSession);
  const schedule = new FakeSchedule();
  const linked = new LinkedDriver(inner, link, schedule, new ShardMetrics(0), 1);
  schedule.dispatch = (kind, dev) => {
    if (kind === Ev.linkExchange) linked.handle(dev);
  };
  const heard: Array<[string, number]> = [];
  const events = { onPolled: (_d: number, status: number) => heard.push(['poll', status]) } as unknown as DriverEvents;
  const fleet = { onStateReported: (_d: number, status: number) => heard.push(['state', status]) } as unknown as FleetOpsEvents;
  linked.deliverTo(events);
  linked.attachFleetOps(fleet);
  return { inner, schedule, linked, heard };
}

const REBOOTING: DeviceStateReport = { release: 'r2', status: 'rebooting', campaign: 'job-1', bytes: 1000 };

describe('modelled link: requests that ride the device session end with it', () => {
  it('a report and a poll on their way up when the device closes its session are answered CANCELLED and never reach the driver', () => {
    const { inner, schedule, linked, heard } = setup(true);
    expect(linked.requestsOnSession).toBe(true);
    linked.reportState(0, REBOOTING);
    linked.pollTarget(0);
    linked.disconnect(0);
    expect(heard).toEqual([['state', CANCELLED], ['poll', CANCELLED]]);
    schedule.runUntil(10 * LINK_MS);
    expect(inner.reports).toEqual([]);
    expect(inner.devsOf('poll')).toEqual([]);
    expect(heard).toHaveLength(2);
  });

  it('over HTTP the same report still reaches the driver after the session closed', () => {
    const { inner, schedule, linked, heard } = setup(false);
    linked.reportState(0, REBOOTING);
    linked.disconnect(0);
    schedule.runUntil(10 * LINK_MS);
    expect(inner.reports).toEqual([REBOOTING]);
    expect(heard).toEqual([]);
  });
});
