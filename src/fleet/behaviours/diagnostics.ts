import { C, H } from '../../metrics/catalog.js';
import type { ShardMetrics } from '../../metrics/registry.js';
import type { DeviceDriver } from '../../drivers/types.js';
import type { Behaviour, BehaviourContext } from '../behaviour.js';
import { Channel, isMessageType } from './channels.js';
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
  private readonly ids: Array<string | undefined>;

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
    this.ids = new Array(count);
  }

  plan(ctx: BehaviourContext): void {
    this.ctx = ctx;
  }

  onMessage(dev: number, _topic: string, payload: Buffer): void {
    if (!isMessageType(payload, 'command')) return;
    const m = JSON.parse(payload.toString('utf8')) as { id: string; issuedAt: number };
    this.metrics.inc(C['command.received']);
    const idle = this.ids[dev] === undefined;
    this.ids[dev] = m.id;
    this.issuedAt[dev] = m.issuedAt;
    if (idle) this.ctx.schedule.at(this.ctx.schedule.now() + this.processingMs[this.groupOf[dev]], dev, this.kinds.first);
  }

  handle(_kind: number, dev: number): void {
    const id = this.ids[dev];
    if (id === undefined) return;
    this.ids[dev] = undefined;
    const body = `{"type":"command-result","id":${JSON.stringify(id)},"issuedAt":${this.issuedAt[dev]},"ok":true}`;
    if (!this.driver.publishFleet(dev, 'responses', body, 1, Channel.commandResult)) this.issuedAt[dev] = -1;
  }

  onAck(dev: number): void {
    if (this.issuedAt[dev] < 0) return;
    this.metrics.record(H['command.rtt'], (this.ctx.schedule.measureNow() - this.issuedAt[dev]) * 1000);
    this.metrics.inc(C['command.answered']);
    this.issuedAt[dev] = -1;
  }
}
