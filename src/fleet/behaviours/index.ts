import type { ShardMetrics } from '../../metrics/registry.js';
import type { DeviceDriver, FleetOpsEvents } from '../../drivers/types.js';
import type { Behaviour } from '../behaviour.js';
import { KindAllocator, KIND_REGIONS } from '../event-kinds.js';
import { Channel } from './channels.js';
import { ConfigApply } from './config-apply.js';
import { Diagnostics } from './diagnostics.js';
import { EndOfLineTest } from './end-of-line.js';
import { FleetOpsRecorder, type FleetOpsFinal } from './fleet-ops-results.js';
import { LogStream, type LogStreamConfig } from './log-stream.js';
import { OtaUpdate, type OtaConfig } from './ota-update.js';

export type { FleetOpsFinal } from './fleet-ops-results.js';
export type { OtaConfig, OtaGroup, MaintenanceWindow } from './ota-config.js';
export type { LogStreamConfig } from './log-stream.js';

/** Which fleet-operation behaviours a shard runs, with their settings (built by engine/fleet-behaviours.ts). */
export interface FleetBehavioursConfig {
  count: number;
  firstDevice: number;
  groupOf: Uint16Array;
  /** Profile name per fleet group. */
  groupProfiles: string[];
  initialRelease: string;
  /** Time bins of the rollout curve, and the run's length. */
  binMs: number;
  durationMs: number;
  ota?: OtaConfig;
  config?: { applyMs: number };
  diagnostics?: { processingMs: number[] };
  logs?: LogStreamConfig;
  endOfLine: boolean;
}

/**
 * The fleet-operation behaviours of one shard (OTA, configuration, diagnostics, logs,
 * end-of-line test) and the router of the driver's fleet-operation callbacks to them.
 * Concurrency: the shard's thread only.
 */
export class FleetBehaviours implements FleetOpsEvents {
  readonly list: Behaviour[] = [];
  readonly recorder: FleetOpsRecorder;
  private readonly ota?: OtaUpdate;
  private readonly config?: ConfigApply;
  private readonly diagnostics?: Diagnostics;
  private readonly logs?: LogStream;
  private readonly eol?: EndOfLineTest;

  constructor(
    private readonly cfg: FleetBehavioursConfig,
    driver: DeviceDriver,
    metrics: ShardMetrics,
  ) {
    this.recorder = new FleetOpsRecorder(cfg.initialRelease, cfg.binMs, cfg.durationMs, cfg.groupProfiles);
    const kind = new KindAllocator(KIND_REGIONS.behaviours);
    const add = <B extends Behaviour>(b: B): B => {
      this.list.push(b);
      return b;
    };
    if (cfg.ota) this.ota = add(new OtaUpdate(cfg.ota, cfg.count, cfg.firstDevice, cfg.groupOf, driver, metrics, this.recorder, kind));
    if (cfg.config) this.config = add(new ConfigApply(cfg.config.applyMs, cfg.count, driver, metrics, kind));
    if (cfg.diagnostics) this.diagnostics = add(new Diagnostics(cfg.diagnostics.processingMs, cfg.count, cfg.groupOf, driver, metrics, kind));
    if (cfg.logs) this.logs = add(new LogStream(cfg.logs, cfg.count, cfg.firstDevice, driver, metrics, kind));
    if (cfg.endOfLine) this.eol = add(new EndOfLineTest(cfg.count, driver, metrics, kind));
    if (this.list.length > 0) driver.attachFleetOps(this);
  }

  /** The release device `dev` runs now (its first one without update campaigns). */
  releaseOf(dev: number): string {
    return this.ota?.releaseOf(dev) ?? this.cfg.initialRelease;
  }

  // --- FleetOpsEvents ---

  onDownloadChunk(dev: number, status: number, bytes: number, retryAfterMs: number, totalBytes = -1): void {
    this.ota?.onDownloadChunk(dev, status, bytes, retryAfterMs, totalBytes);
  }

  onUpdateWithdrawn(dev: number, campaign: string): void {
    this.ota?.onUpdateWithdrawn(dev, campaign);
  }

  onStateReported(dev: number, status: number, retryAfterMs: number): void {
    this.ota?.onStateReported(dev, status, retryAfterMs);
  }

  onFleetPublishAcked(dev: number, token: number): void {
    if (token === Channel.configAck) this.config?.onAck(dev);
    else if (token === Channel.commandResult) this.diagnostics?.onAck(dev);
    else if (token === Channel.eol) this.eol?.onAck(dev);
  }

  /** The shard's results for the report. */
  final(): FleetOpsFinal {
    const f = this.recorder.final(this.cfg.count);
    if (this.logs) f.logs = { ...this.logs.totals, buffered: this.logs.bufferedTotal() };
    return f;
  }
}
