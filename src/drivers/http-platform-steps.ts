import type { DeviceStateReport } from './events.js';
import type { HttpRequestSpec, Preset, TargetAnswer } from './preset.js';

/**
 * The wire driver's part for presets whose devices speak HTTP only or answer in several
 * requests (drivers/preset.ts PlatformHooks: Mender, hawkBit DDI): the "session" of a device
 * without MQTT, its one telemetry request in flight, state reports sent as a sequence, and the
 * follow-up request a poll's answer points to. Per-device state in typed or sparse arrays.
 *
 * Concurrency: the shard's thread only, like the driver.
 */
export class HttpPlatformSteps {
  readonly sessionless: boolean;
  /** 1 while the device is "connected" (sessionless: between connect and disconnect or a failed telemetry request). */
  private readonly online: Uint8Array;
  private onlineCount = 0;
  /** Telemetry token in flight per device, -1 when none (a device sends one at a time). */
  readonly telemetryToken: Float64Array;
  readonly telemetryQos: Uint8Array;
  /** Requests of a state report still to send after the one in flight, and its campaign. */
  private readonly reportRest: Array<readonly HttpRequestSpec[] | undefined>;
  readonly reportCampaign: Array<string | undefined>;
  /** The release the device last reported (Mender puts it in polls and inventory). */
  readonly release: Array<string | undefined>;
  /** A telemetry request refused for stale credentials, sent again once they are renewed. */
  readonly parkedTelemetry: Array<HttpRequestSpec | undefined>;
  /** What a poll answered while its follow-up is in flight. */
  readonly pendingAnswer: Array<TargetAnswer | undefined>;

  /**
   * The report last started, kept only for a preset that retries reports (retryReportStatuses):
   * the one a retry builds again. With several reports out at once (AWS IoT's back-to-back
   * progress reports) it is the newest; only the terminal one, the last of an update, carries a
   * version that can be rejected.
   */
  private readonly lastReport: Array<DeviceStateReport | undefined>;
  /** 1 once the last report was retried (a report is retried once). */
  private readonly retried: Uint8Array;

  private readonly pending: ReadonlySet<number>;
  private readonly unchanged: ReadonlySet<number>;
  private readonly gone: ReadonlySet<number>;
  private readonly retryOn: ReadonlySet<number>;

  constructor(
    private readonly preset: Preset,
    devices: number,
  ) {
    this.sessionless = preset.session === 'none';
    this.online = new Uint8Array(this.sessionless ? devices : 0);
    this.telemetryToken = new Float64Array(this.sessionless ? devices : 0).fill(-1);
    this.telemetryQos = new Uint8Array(this.sessionless ? devices : 0);
    this.reportRest = new Array(devices);
    this.reportCampaign = new Array(devices);
    this.release = new Array(devices);
    this.pendingAnswer = new Array(devices);
    this.parkedTelemetry = new Array(this.sessionless ? devices : 0);
    this.pending = new Set(preset.provisionPendingStatuses ?? []);
    this.unchanged = new Set(preset.unchangedStatuses ?? []);
    this.gone = new Set(preset.updateGoneStatuses ?? []);
    this.retryOn = new Set(preset.retryReportStatuses ?? []);
    this.lastReport = new Array(this.retryOn.size > 0 ? devices : 0);
    this.retried = new Uint8Array(this.retryOn.size > 0 ? devices : 0);
  }

  isOnline(dev: number): boolean {
    return this.online[dev] === 1;
  }

  setOnline(dev: number, on: boolean): void {
    const v = on ? 1 : 0;
    if (this.online[dev] === v) return;
    this.online[dev] = v;
    this.onlineCount += on ? 1 : -1;
  }

  connectedCount(): number {
    return this.onlineCount;
  }

  /** A provisioning answer as the lifecycle should hear it: "pending" statuses become 202. */
  provisionStatus(status: number): number {
    return this.pending.has(status) ? 202 : status;
  }

  isUnchanged(status: number): boolean {
    return this.unchanged.has(status);
  }

  isGone(status: number): boolean {
    return this.gone.has(status);
  }

  /**
   * The first request of a state report, keeping the rest for `nextOfReport`; undefined when the
   * platform has no request for this step.
   */
  startReport(dev: number, report: DeviceStateReport, spec: HttpRequestSpec | readonly HttpRequestSpec[] | undefined): HttpRequestSpec | undefined {
    this.release[dev] = report.release;
    this.reportCampaign[dev] = report.campaign;
    if (this.retryOn.size > 0) {
      this.lastReport[dev] = report;
      this.retried[dev] = 0;
    }
    if (spec === undefined) return undefined;
    if (!isList(spec)) {
      this.reportRest[dev] = undefined;
      return spec;
    }
    if (spec.length === 0) return undefined;
    this.reportRest[dev] = spec.length > 1 ? spec.slice(1) : undefined;
    return spec[0];
  }

  /** The next request of the report in flight after a 2xx, or undefined when it was the last. */
  nextOfReport(dev: number): HttpRequestSpec | undefined {
    const rest = this.reportRest[dev];
    if (rest === undefined) return undefined;
    this.reportRest[dev] = rest.length > 1 ? rest.slice(1) : undefined;
    return rest[0];
  }

  dropReport(dev: number): void {
    this.reportRest[dev] = undefined;
  }

  /**
   * The report to send once more after an answer with `status`, or undefined: the status is not
   * one the preset retries on, or the report is a retry already (`markRetried` once it leaves).
   */
  reportToRetry(dev: number, status: number): DeviceStateReport | undefined {
    return this.retryOn.has(status) && this.retried[dev] === 0 ? this.lastReport[dev] : undefined;
  }

  markRetried(dev: number): void {
    this.retried[dev] = 1;
  }
}

function isList(s: HttpRequestSpec | readonly HttpRequestSpec[]): s is readonly HttpRequestSpec[] {
  return Array.isArray(s);
}

/** A poll's answer merged with its follow-up's: the follow-up's update, config and withdrawal win. */
export function mergeAnswers(first: TargetAnswer, follow: TargetAnswer): TargetAnswer {
  return {
    changed: follow.changed,
    nextPollMs: follow.nextPollMs ?? first.nextPollMs,
    etag: first.etag,
    update: follow.update ?? first.update,
    config: follow.config ?? first.config,
    withdrawn: follow.withdrawn ?? first.withdrawn,
    also: [...(first.also ?? []), ...(follow.also ?? [])],
  };
}

/**
 * A path for the HTTP transport: links a backend hands out (hawkBit's `_links`) are absolute URLs
 * on the target's own origin; the transport takes the path and query.
 */
export function onOrigin(pathOrUrl: string): string {
  if (!/^https?:\/\//i.test(pathOrUrl)) return pathOrUrl;
  const u = new URL(pathOrUrl);
  return u.pathname + u.search;
}
