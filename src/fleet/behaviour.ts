import type { ConfigChange, DeviceCommand, Heard, UpdateOffer } from '../drivers/types.js';
import type { DeviceTable } from './device-table.js';
import type { Schedule } from './schedule.js';
import { EVENT_KIND_LIMIT, inKindRange, KIND_REGIONS, type KindRange } from './event-kinds.js';
import type { RetryAfterHold } from './retry-after-hold.js';

/**
 * A device behaviour beyond lifecycle v1 (OTA updates, diagnostics, logs, configuration...), as a
 * plug-in of the Lifecycle. Each behaviour owns a range of event kinds, keeps its per-device
 * state in its own typed arrays, and hears about the lifecycle moments it cares about.
 *
 * Concurrency: like the lifecycle, one instance per shard, called on the shard's thread only.
 * Hooks are called after the lifecycle has updated its own state for that moment.
 */
export interface Behaviour {
  readonly name: string;
  /** Event kinds this behaviour schedules and handles: [first, first + count), taken from KIND_REGIONS.behaviours. */
  readonly kinds: KindRange;
  /** Called once before the scheduler starts (schedule phases, first events). */
  plan?(ctx: BehaviourContext): void;
  handle(kind: number, dev: number, t: number): void;
  /** The device has credentials (first provisioning). */
  onProvisioned?(dev: number): void;
  /** The device's MQTT session is up. */
  onOnline?(dev: number): void;
  /** The device's session ended (link lost, battery dead, end of run). */
  onOffline?(dev: number): void;
  /** The backend offers an update (pushed, or found by a poll). */
  onUpdateOffered?(dev: number, offer: UpdateOffer, heard: Heard): void;
  /** The backend changed the device's configuration (pushed, or found by a poll). */
  onConfigChanged?(dev: number, change: ConfigChange, heard: Heard): void;
  /** The backend sent a command. */
  onCommand?(dev: number, command: DeviceCommand): void;
  /** End of run: stop starting new work. */
  stop?(): void;
}

/** What a behaviour may use of the lifecycle. */
export interface BehaviourContext {
  devices: DeviceTable;
  schedule: Schedule;
  /** True when the device can reach the network now. */
  reachable(dev: number): boolean;
  /** True when the device has an open MQTT session. */
  online(dev: number): boolean;
  /** Charges the energy of `joules` to the device; false when its battery ran dry (it goes dark). */
  spend(dev: number, joules: number): boolean;
  /** Takes the device offline for `ms` (a reboot): the session drops and returns on its own. */
  reboot(dev: number, ms: number): void;
  /** True from a reboot until the device's connect brings it back: it sends nothing meanwhile. */
  rebooting(dev: number): boolean;
  /** The device's Retry-After hold: no HTTP request of any route leaves before it ends. */
  hold: RetryAfterHold;
  /** The device sent an uplink on its MQTT session now: its keepalive waits a whole keepalive again (fleet/keepalive.ts). */
  sentOnSession(dev: number): void;
}

/** The behaviours of a lifecycle: routes their event kinds and fans the lifecycle's moments out. */
export class BehaviourSet {
  /** Behaviour owning each event kind (index + 1; 0 = none). */
  private readonly kindOwner = new Uint8Array(EVENT_KIND_LIMIT);

  constructor(readonly list: readonly Behaviour[]) {
    list.forEach((b, i) => {
      const region = KIND_REGIONS.behaviours;
      if (b.kinds.count > 0 && (!inKindRange(region, b.kinds.first) || !inKindRange(region, b.kinds.first + b.kinds.count - 1))) {
        throw new Error(`behaviour ${b.name}: event kinds must lie in [${region.first}, ${region.first + region.count})`);
      }
      for (let k = b.kinds.first; k < b.kinds.first + b.kinds.count; k++) {
        if (this.kindOwner[k] !== 0) throw new Error(`behaviour ${b.name}: event kind ${k} is already taken`);
        this.kindOwner[k] = i + 1;
      }
    });
  }

  handle(kind: number, dev: number, t: number): void {
    const owner = this.kindOwner[kind];
    if (owner !== 0) this.list[owner - 1].handle(kind, dev, t);
  }

  plan(ctx: BehaviourContext): void {
    for (const b of this.list) b.plan?.(ctx);
  }
  provisioned(dev: number): void {
    for (const b of this.list) b.onProvisioned?.(dev);
  }
  online(dev: number): void {
    for (const b of this.list) b.onOnline?.(dev);
  }
  offline(dev: number): void {
    for (const b of this.list) b.onOffline?.(dev);
  }
  updateOffered(dev: number, offer: UpdateOffer, heard: Heard): void {
    for (const b of this.list) b.onUpdateOffered?.(dev, offer, heard);
  }
  configChanged(dev: number, change: ConfigChange, heard: Heard): void {
    for (const b of this.list) b.onConfigChanged?.(dev, change, heard);
  }
  command(dev: number, command: DeviceCommand): void {
    for (const b of this.list) b.onCommand?.(dev, command);
  }
  stop(): void {
    for (const b of this.list) b.stop?.();
  }
}
