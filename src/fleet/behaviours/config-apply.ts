import { C, H } from '../../metrics/catalog.js';
import type { ShardMetrics } from '../../metrics/registry.js';
import type { ConfigChange, DeviceDriver } from '../../drivers/types.js';
import type { Behaviour, BehaviourContext } from '../behaviour.js';
import { Channel } from './channels.js';
import type { KindAllocator, KindRange } from '../event-kinds.js';

/**
 * Configuration variables: the backend pushes a change (or the device finds it on its next poll), the
 * device applies it after `applyMs` and acknowledges it. Propagation is measured from the push
 * (`issuedAt`, on the measurement clock) to applied for devices that were online at the push,
 * and from their reconnect to applied for devices that were offline then (catch-up).
 *
 * Concurrency: the shard's thread only.
 */
export class ConfigApply implements Behaviour {
  readonly name = 'config';
  readonly kinds: KindRange;
  private ctx!: BehaviourContext;
  private readonly applied: Uint32Array;
  private readonly pending: Uint32Array;
  private readonly issuedAt: Float64Array;
  private readonly sessionUpAt: Float64Array;
  private readonly ackOwed: Uint32Array;

  constructor(
    private readonly applyMs: number,
    count: number,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    kinds: KindAllocator,
  ) {
    this.kinds = kinds.take(this.name, 1);
    this.applied = new Uint32Array(count);
    this.pending = new Uint32Array(count);
    this.issuedAt = new Float64Array(count);
    this.sessionUpAt = new Float64Array(count).fill(Infinity);
    this.ackOwed = new Uint32Array(count);
  }

  plan(ctx: BehaviourContext): void {
    this.ctx = ctx;
  }

  onOnline(dev: number): void {
    this.sessionUpAt[dev] = this.ctx.schedule.measureNow();
    if (this.ackOwed[dev] > 0) this.ack(dev, this.ackOwed[dev]);
  }

  onOffline(dev: number): void {
    this.sessionUpAt[dev] = Infinity;
  }

  onConfigChanged(dev: number, change: ConfigChange): void {
    const { version, issuedAt } = change;
    if (version <= this.applied[dev] || version <= this.pending[dev]) return;
    const wasIdle = this.pending[dev] === 0;
    this.pending[dev] = version;
    this.issuedAt[dev] = issuedAt;
    if (wasIdle) this.ctx.schedule.at(this.ctx.schedule.now() + this.applyMs, dev, this.kinds.first);
  }

  handle(_kind: number, dev: number): void {
    const v = this.pending[dev];
    if (v === 0) return;
    this.pending[dev] = 0;
    this.applied[dev] = v;
    const now = this.ctx.schedule.measureNow();
    const up = this.sessionUpAt[dev];
    if (up <= this.issuedAt[dev]) this.metrics.record(H['config.propagation'], (now - this.issuedAt[dev]) * 1000);
    else if (Number.isFinite(up)) this.metrics.record(H['config.catchup'], (now - up) * 1000);
    this.metrics.inc(C['config.applied']);
    this.ack(dev, v);
  }

  private ack(dev: number, version: number): void {
    const sent = this.driver.ackConfig(dev, version, Channel.configAck);
    this.ackOwed[dev] = sent ? 0 : version;
    if (sent) this.ctx.sentOnSession(dev);
  }

  onAck(_dev: number): void {}
}
