import { FleetsimError } from '../../errors/fleetsim-error.js';
import { createMqttTransport } from './index.js';
import type { MqttClientKind, MqttTransport, MqttTransportEvents, TlsSettings } from '../types.js';

/** A contiguous stretch of the fleet's global device indices: [firstDevice, firstDevice + count). */
export interface DeviceRange {
  firstDevice: number;
  count: number;
}

/**
 * One broker's transport, sized for the shard's devices on that broker only: the shard's local
 * devices [offset, offset + count) are the broker's slots 0..count-1, so each transport's
 * per-device arrays hold only its own devices (with 14 brokers, arrays sized for the whole shard
 * were ~7.5 MB per shard process, 13/14 unused). The transport's callbacks come back with slots
 * and are translated to shard-local indices here.
 */
export class BrokerDevices implements MqttTransportEvents {
  readonly transport: MqttTransport;

  constructor(
    private readonly driver: MqttTransportEvents,
    opts: { url: string; mqttClient: MqttClientKind; connectTimeoutMs: number; tls?: TlsSettings },
    /** Shard-local index of the broker's first device here. */
    readonly offset: number,
    readonly count: number,
  ) {
    this.transport = createMqttTransport(opts.mqttClient, { url: opts.url, devices: count, connectTimeoutMs: opts.connectTimeoutMs, tls: opts.tls }, this);
  }

  onConnect(slot: number, ok: boolean, code: number): void {
    this.driver.onConnect(slot + this.offset, ok, code);
  }

  onPublishAck(slot: number, token: number): void {
    this.driver.onPublishAck(slot + this.offset, token);
  }

  onConnectionLost(slot: number, reason: string, cause: number): void {
    this.driver.onConnectionLost(slot + this.offset, reason, cause);
  }

  onMessage(slot: number, topic: string, payload: Buffer): void {
    this.driver.onMessage?.(slot + this.offset, topic, payload);
  }

  onPingResponse(slot: number): void {
    this.driver.onPingResponse?.(slot + this.offset);
  }
}

/**
 * Which broker each of a shard's devices uses. With several brokers, each serves one contiguous
 * range of the fleet's global indices (`ranges[b]` for `urls[b]`, balanced by sessions held at
 * once where the brokers start, engine/target-setup.ts), so a shard's devices sit on one or two
 * brokers, not on all of them. That is what keeps a broker's
 * wake-ups batched: a shard sends its due reports once per scheduler turn, and with device g on
 * broker g mod N every turn's handful of reports woke every broker for about one message each
 * (bench/RESULTS.md, "500,000 sessions after round 7").
 */
export class BrokerRoutes {
  /** Transports of the brokers that serve some of this shard's devices, by their first local device. */
  readonly all: readonly BrokerDevices[];
  /** all[i].offset, for the lookup. */
  private readonly starts: Int32Array;
  /** The broker `of` found last (a shard's thread only: no other thread reads it). */
  private last: BrokerDevices | undefined;

  constructor(
    driver: MqttTransportEvents,
    opts: { mqttClient: MqttClientKind; connectTimeoutMs: number; tls?: TlsSettings },
    urls: readonly string[],
    here: DeviceRange,
    /** ranges[b] is what urls[b] serves; with one URL it serves every device. */
    ranges: readonly DeviceRange[] | undefined,
  ) {
    if (urls.length > 1 && ranges?.length !== urls.length) throw new FleetsimError('FLEETSIM_E_INTERNAL', `${urls.length} broker URLs need as many device ranges, got ${ranges?.length ?? 'none'}`);
    const spread = urls.length === 1 ? [here] : (ranges as readonly DeviceRange[]);
    const all: BrokerDevices[] = [];
    const end = here.firstDevice + here.count;
    for (let b = 0; b < urls.length; b++) {
      const r = spread[b];
      if (r === undefined) continue;
      const from = Math.max(r.firstDevice, here.firstDevice);
      const to = Math.min(r.firstDevice + r.count, end);
      if (to > from) all.push(new BrokerDevices(driver, { ...opts, url: urls[b] }, from - here.firstDevice, to - from));
    }
    all.sort((a, b) => a.offset - b.offset);
    const covered = all.reduce((n, b) => n + b.count, 0);
    if (here.count > 0 && (all.length === 0 || all[0].offset !== 0 || covered !== here.count)) {
      throw new FleetsimError('FLEETSIM_E_INTERNAL', `broker ranges cover ${covered} of this shard's ${here.count} devices (first ${here.firstDevice})`);
    }
    this.all = all;
    this.starts = Int32Array.from(all, (b) => b.offset);
    this.last = all[0];
  }

  /**
   * The broker serving shard-local device `dev`. Each send asks twice (transport, then slot), and
   * a shard's devices mostly sit on one broker, so the last answer is checked first; otherwise a
   * binary search over the handful of starts.
   */
  of(dev: number): BrokerDevices {
    const last = this.last;
    if (last !== undefined && dev >= last.offset && dev < last.offset + last.count) return last;
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= dev) lo = mid;
      else hi = mid - 1;
    }
    this.last = this.all[lo];
    return this.last;
  }
}
