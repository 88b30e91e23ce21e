import { C, H } from '../../metrics/catalog.js';
import type { ShardMetrics } from '../../metrics/registry.js';
import type { DeviceDriver } from '../../drivers/types.js';
import type { Behaviour, BehaviourContext } from '../behaviour.js';
import { Channel } from './channels.js';
import type { KindAllocator, KindRange } from '../event-kinds.js';

/**
 * Factory end-of-line test: at first boot, once provisioned and connected, the device reports a
 * connectivity test on its responses topic; the broker's ack proves the whole path (HTTP
 * provisioning, MQTT session, publish). Measured from provisioned to acked.
 *
 * Concurrency: the shard's thread only.
 */
export class EndOfLineTest implements Behaviour {
  readonly name = 'end-of-line';
  readonly kinds: KindRange;
  private ctx!: BehaviourContext;
  /** 0 not provisioned, 1 owed, 2 sent, 3 passed. */
  private readonly state: Uint8Array;
  private readonly provisionedAt: Float64Array;

  constructor(
    count: number,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    kinds: KindAllocator,
  ) {
    this.kinds = kinds.take(this.name, 0);
    this.state = new Uint8Array(count);
    this.provisionedAt = new Float64Array(count);
  }

  plan(ctx: BehaviourContext): void {
    this.ctx = ctx;
  }

  handle(): void {}

  onProvisioned(dev: number): void {
    if (this.state[dev] !== 0) return;
    this.state[dev] = 1;
    this.provisionedAt[dev] = this.ctx.schedule.measureNow();
  }

  onOnline(dev: number): void {
    if (this.state[dev] !== 1) return;
    if (this.driver.reportEndOfLine(dev, true, Channel.eol)) {
      this.state[dev] = 2;
      this.ctx.sentOnSession(dev);
    }
  }

  onOffline(dev: number): void {
    if (this.state[dev] === 2) this.state[dev] = 1; // not acked: test again on the next session
  }

  onAck(dev: number): void {
    if (this.state[dev] !== 2) return;
    this.state[dev] = 3;
    this.metrics.inc(C['provision.eol_ok']);
    this.metrics.record(H['provision.eol.latency'], (this.ctx.schedule.measureNow() - this.provisionedAt[dev]) * 1000);
  }
}
