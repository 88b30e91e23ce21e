import { C, H } from '../../metrics/catalog.js';
import type { ShardMetrics } from '../../metrics/registry.js';
import type { DeviceCommand, DeviceDriver } from '../../drivers/types.js';
import type { Behaviour, BehaviourContext } from '../behaviour.js';
import { Channel } from './channels.js';
import type { KindAllocator, KindRange } from '../event-kinds.js';

/**
 * Remote diagnostics: the backend sends a command over MQTT, the device works on it for its
 * profile's processing time and answers on its responses topic (QoS 1). The round trip is
 * measured from the operator's call (`issuedAt`, on the measurement clock) to the broker's ack of
 * the answer, i.e. until the answer reached the backend.
 *
 * Concurrency: the shard's thread only. One command at a time per device (a newer one replaces it).
 */
export class Diagnostics implements Behaviour {
  readonly name = 'diagnostics';
  readonly kinds: KindRange;
  private ctx!: BehaviourContext;
  private readonly issuedAt: Float64Array;
  /** The command each device works on (sparse: only devices with one). */
  private readonly commands: Array<DeviceCommand | undefined>;

  constructor(
    /** Processing time per fleet group, ms. */
    private readonly processingMs: readonly number[],
    count: number,
    private readonly groupOf: Uint16Array,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    kinds: KindAllocator,
  ) {
    this.kinds = kinds.take(this.name, 1);
    this.issuedAt = new Float64Array(count).fill(-1);
    this.commands = new Array(count);
  }

  plan(ctx: BehaviourContext): void {
    this.ctx = ctx;
  }

  onCommand(dev: number, command: DeviceCommand): void {
    this.metrics.inc(C['command.received']);
    const idle = this.commands[dev] === undefined;
    this.commands[dev] = command;
    // A backend that does not say when the operator issued it: the round trip starts on arrival.
    this.issuedAt[dev] = command.issuedAt ?? this.ctx.schedule.measureNow();
    if (idle) this.ctx.schedule.at(this.ctx.schedule.now() + this.processingMs[this.groupOf[dev]], dev, this.kinds.first);
  }

  handle(_kind: number, dev: number): void {
    const command = this.commands[dev];
    if (command === undefined) return;
    this.commands[dev] = undefined;
    if (!this.driver.replyCommand(dev, command, true, Channel.commandResult)) this.issuedAt[dev] = -1;
    else this.ctx.sentOnSession(dev);
  }

  onAck(dev: number): void {
    if (this.issuedAt[dev] < 0) return;
    this.metrics.record(H['command.rtt'], (this.ctx.schedule.measureNow() - this.issuedAt[dev]) * 1000);
    this.metrics.inc(C['command.answered']);
    this.issuedAt[dev] = -1;
  }
}
