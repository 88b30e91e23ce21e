import { C } from '../../metrics/catalog.js';
import type { ShardMetrics } from '../../metrics/registry.js';
import { Stream, uniform32 } from '../../models/rng.js';
import type { DeviceDriver } from '../../drivers/types.js';
import type { Behaviour, BehaviourContext } from '../behaviour.js';
import type { KindAllocator, KindRange } from '../event-kinds.js';

export interface LogStreamConfig {
  seed: number;
  /** Lines per second per device. */
  ratePerSec: number;
  lineBytes: number;
  /** Device log buffer, bytes (balena: 256 KiB). */
  bufferBytes: number;
  /** How often a device ships its buffer when online. */
  flushEveryMs: number;
}

/**
 * Device logs through a bounded buffer: lines accumulate at a set rate and are shipped in one
 * MQTT publish (QoS 0) per flush while the device is online. When the buffer is full, new lines
 * are dropped and counted, and the next shipment starts with a `suppressed N` line (balena's
 * behaviour). Identity per shard: generated = sent + dropped + buffered.
 *
 * Lines are generated per flush interval (rate x interval, the fraction carried by a draw), so a
 * device costs one event per interval, not one per line.
 * Concurrency: the shard's thread only.
 */
export class LogStream implements Behaviour {
  readonly name = 'logs';
  readonly kinds: KindRange;
  private ctx!: BehaviourContext;
  private readonly buffered: Uint32Array;
  private readonly suppressed: Uint32Array;
  private readonly ticks: Uint32Array;
  private readonly capacity: number;
  private readonly line: string;
  private stopped = false;
  readonly totals = { generated: 0, sent: 0, dropped: 0 };

  constructor(
    private readonly cfg: LogStreamConfig,
    count: number,
    private readonly firstDevice: number,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    kinds: KindAllocator,
  ) {
    this.kinds = kinds.take(this.name, 1);
    this.buffered = new Uint32Array(count);
    this.suppressed = new Uint32Array(count);
    this.ticks = new Uint32Array(count);
    this.capacity = Math.max(1, Math.floor(cfg.bufferBytes / cfg.lineBytes));
    this.line = 'x'.repeat(Math.max(1, cfg.lineBytes - 1));
  }

  plan(ctx: BehaviourContext): void {
    this.ctx = ctx;
  }

  onProvisioned(dev: number): void {
    if (this.ticks[dev] > 0) return;
    const u = uniform32(this.cfg.seed, this.firstDevice + dev, Stream.logs, 0xfffffff0);
    this.ticks[dev] = 1;
    this.ctx.schedule.at(this.ctx.schedule.now() + u * this.cfg.flushEveryMs, dev, this.kinds.first);
  }

  stop(): void {
    this.stopped = true;
  }

  handle(_kind: number, dev: number, t: number): void {
    if (this.stopped) return;
    this.ctx.schedule.at(t + this.cfg.flushEveryMs, dev, this.kinds.first);
    const expected = (this.cfg.ratePerSec * this.cfg.flushEveryMs) / 1000;
    const u = uniform32(this.cfg.seed, this.firstDevice + dev, Stream.logs, this.ticks[dev]++);
    const lines = Math.floor(expected) + (u < expected - Math.floor(expected) ? 1 : 0);
    this.totals.generated += lines;
    this.metrics.incFor(C['logs.generated'], dev, lines);
    const room = this.capacity - this.buffered[dev];
    const kept = Math.min(room, lines);
    this.buffered[dev] += kept;
    if (lines > kept) {
      this.suppressed[dev] += lines - kept;
      this.totals.dropped += lines - kept;
      this.metrics.inc(C['logs.dropped'], lines - kept);
    }
    if (this.ctx.online(dev)) this.ship(dev);
  }

  private ship(dev: number): void {
    const n = this.buffered[dev];
    if (n === 0 && this.suppressed[dev] === 0) return;
    if (!this.driver.shipLogs(dev, this.suppressed[dev], this.line, n)) return;
    this.ctx.sentOnSession(dev); // also for a preset that ships logs over HTTP: a ping postponed, harmless
    if (this.suppressed[dev] > 0) this.metrics.inc(C['logs.suppressed_notices']);
    this.suppressed[dev] = 0;
    this.buffered[dev] = 0;
    this.totals.sent += n;
    this.metrics.incFor(C['logs.sent'], dev, n);
  }

  bufferedTotal(): number {
    let n = 0;
    for (let i = 0; i < this.buffered.length; i++) n += this.buffered[i];
    return n;
  }
}
