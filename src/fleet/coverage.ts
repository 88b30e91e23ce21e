import { C, G } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { DeviceState as S, Flag, type DeviceTable } from './device-table.js';
import { Ev } from './event-kinds.js';
import type { Reachability } from './reachability.js';
import type { Schedule } from './schedule.js';

/** What a change of coverage does to a device, as the lifecycle does it. */
export interface CoverageHooks {
  /** Ends the device's session from our side: in-flight QoS 1 messages fail. */
  dropSession(dev: number): void;
  provision(dev: number): void;
  connect(dev: number): void;
}

/**
 * The device side of its own link going down and coming back (fleet/reachability.ts decides
 * when): the session drops with the link, the device re-registers and reconnects at once when
 * covered again (a cell coming back is a reconnect storm), and `devices.offline` counts who is
 * out of coverage. Concurrency: the shard's thread only.
 */
export class Coverage {
  private offline = 0;

  constructor(
    private readonly reach: Reachability | undefined,
    private readonly devices: DeviceTable,
    private readonly schedule: Schedule,
    private readonly metrics: ShardMetrics,
    private readonly hooks: CoverageHooks,
  ) {}

  /** Devices whose own link starts down (the outage process starts in equilibrium) count as offline. */
  plan(): void {
    this.offline = this.reach?.unreachableCount() ?? 0;
    this.metrics.set(G['devices.offline'], this.offline);
  }

  /** A link event of the device (Ev.linkFlip, backupFlip, switchover, outageStart, outageEnd). */
  apply(kind: number, dev: number, t: number): void {
    const change = this.reach!.apply(kind, dev, t, this.schedule);
    const d = this.devices;
    if (change < 0) {
      this.metrics.inc(C['link.down']);
      this.metrics.set(G['devices.offline'], ++this.offline);
      const st = d.state(dev);
      if (st === S.online || st === S.connecting) this.hooks.dropSession(dev);
      d.unset(dev, Flag.registered);
      // Devices not yet powered on stay off; they find the link down when they boot.
      if (st !== S.off || d.has(dev, Flag.hasCreds) || d.httpStartedAt(dev) >= 0) d.setState(dev, S.offline);
    } else if (change > 0) {
      this.metrics.inc(C['link.up']);
      if (kind === Ev.switchover) this.metrics.inc(C['link.failover']);
      this.metrics.set(G['devices.offline'], --this.offline);
      if (d.state(dev) !== S.offline) return;
      // Back in coverage: the device reconnects at once.
      if (!d.has(dev, Flag.hasCreds)) this.hooks.provision(dev);
      else if (d.has(dev, Flag.sleepy)) d.setState(dev, S.provisioned); // asleep until its next report
      else this.hooks.connect(dev);
    }
  }
}
