import { C, G, H } from '../../metrics/catalog.js';
import type { ShardMetrics } from '../../metrics/registry.js';
import { Stream, uniform } from '../../models/rng.js';
import { CANCELLED, type DeviceDriver, type OfferedArtifact, type UpdateOffer } from '../../drivers/types.js';
import { countHttpFailure, Route } from '../request-outcome.js';
import { OtaStateReports } from './ota-state-reports.js';
import { fitsArch, pickArtifact } from './artifact-choice.js';
import type { Behaviour, BehaviourContext } from '../behaviour.js';
import type { FleetOpsRecorder } from './fleet-ops-results.js';
import { nextWindowOpen, type OtaConfig } from './ota-config.js';
import type { KindAllocator, KindRange } from '../event-kinds.js';

export type { OtaConfig } from './ota-config.js';

const P = { idle: 0, downloading: 1, paused: 2, waitWindow: 3, verifying: 4, installing: 5, rebooting: 6, health: 7, rollingBack: 8 } as const;
const MIB = 1024 * 1024;
const MAX_CHUNK_RETRIES = 8;

/**
 * The device side of an OTA update, for every device of a shard: notified (MQTT) or found on a
 * poll → download in Range chunks paced to the link's bandwidth, pausing while the link is down
 * and resuming from the offset → abort when too slow → verify the checksum → install (storage
 * write speed) → reboot (profile) → health check → commit, or roll back (A/B) → status reported
 * at each step. A device whose arch has no artifact counts the attempt and never installs.
 *
 * State is per device in typed arrays; offers are parsed once per campaign and shared (a
 * device's own download link aside, when its offer names one of its own).
 * Concurrency: the shard's thread only, like the lifecycle.
 */
export class OtaUpdate implements Behaviour {
  readonly name = 'ota';
  readonly kinds: KindRange;
  private ctx!: BehaviourContext;
  private readonly phase: Uint8Array;
  private readonly offerOf: Int16Array;
  private readonly doneOffer: Int16Array;
  private readonly artifactOf: Int16Array;
  private readonly offset: Float64Array;
  /** Size of the artifact being downloaded: the offer's, or learned from the first answer when the offer gives 0 (unknown). */
  private readonly total: Float64Array;
  private readonly chunkLen: Float64Array;
  private readonly chunkAt: Float64Array;
  private readonly startedAt: Float64Array;
  private readonly downloadStartedAt: Float64Array;
  private readonly slowSince: Float64Array;
  private readonly retries: Uint8Array;
  private readonly interrupted: Uint8Array;
  private readonly release: Uint16Array;
  private readonly healthDraws: Uint32Array;
  /** 1: this update reboots the device (an OS image); from the offer, or from the artifact when it says (Mender's payload type). */
  private readonly reboots: Uint8Array;
  /**
   * The artifact as the device's own offer names it, when its URL differs from the shared offer's
   * (AWS IoT presigns a URL per thing): each device fetches from its own link, so a backend that
   * tells devices apart by it counts each one's bytes. Undefined (the shared one) otherwise; kept
   * from the offer to the end of the update, no parsing of its own.
   */
  private readonly ownArtifact: Array<OfferedArtifact | undefined>;
  private readonly reports: OtaStateReports;
  private readonly offers: Array<{ offer: UpdateOffer; release: number; offerIdx: number }> = [];
  private readonly offerIndex = new Map<string, number>();
  private inProgress = 0;
  private stopped = false;

  constructor(
    private readonly cfg: OtaConfig,
    private readonly count: number,
    private readonly firstDevice: number,
    private readonly groupOf: Uint16Array,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    private readonly rec: FleetOpsRecorder,
    kinds: KindAllocator,
  ) {
    this.kinds = kinds.take(this.name, 7);
    this.phase = new Uint8Array(count);
    this.offerOf = new Int16Array(count).fill(-1);
    this.doneOffer = new Int16Array(count).fill(-1);
    this.artifactOf = new Int16Array(count).fill(-1);
    this.offset = new Float64Array(count);
    this.total = new Float64Array(count);
    this.chunkLen = new Float64Array(count);
    this.chunkAt = new Float64Array(count);
    this.startedAt = new Float64Array(count);
    this.downloadStartedAt = new Float64Array(count);
    this.slowSince = new Float64Array(count).fill(-1);
    this.retries = new Uint8Array(count);
    this.interrupted = new Uint8Array(count);
    this.release = new Uint16Array(count);
    this.healthDraws = new Uint32Array(count);
    this.reboots = new Uint8Array(count);
    this.ownArtifact = new Array(count);
    this.reports = new OtaStateReports(count, driver, metrics, this.kinds.first + 6, {
      release: (dev) => this.rec.releases[this.release[dev]],
      campaign: (dev) => this.offers[this.offerOf[dev]].offer.campaign,
      bytes: (dev) => this.offset[dev],
    });
  }

  /** The release device `dev` runs now. */
  releaseOf(dev: number): string {
    return this.rec.releases[this.release[dev]];
  }

  private get K_CHUNK(): number {
    return this.kinds.first;
  }

  plan(ctx: BehaviourContext): void {
    this.ctx = ctx;
    this.reports.plan(ctx);
  }

  handle(kind: number, dev: number): void {
    switch (kind - this.kinds.first) {
      case 0:
        return this.requestChunk(dev);
      case 1:
        return this.verify(dev);
      case 2:
        return this.installed(dev);
      case 3:
        return this.healthCheck(dev);
      case 4:
        if (this.phase[dev] === P.waitWindow) this.startVerify(dev);
        return;
      case 5:
        if (this.phase[dev] === P.downloading && this.offset[dev] >= this.total[dev]) this.downloaded(dev);
        return;
      case 6:
        return this.reports.sendHeld(dev);
    }
  }

  onUpdateOffered(dev: number, offer: UpdateOffer): void {
    this.offered(dev, offer);
  }

  onOnline(dev: number): void {
    // A report the device kept while it rebooted leaves now.
    this.reports.sendHeld(dev);
    const ph = this.phase[dev];
    if (ph === P.paused) {
      this.resume(dev);
    } else if (ph === P.rebooting) {
      this.phase[dev] = P.health;
      this.ctx.schedule.at(this.ctx.schedule.now() + this.cfg.healthCheckMs, dev, this.kinds.first + 3);
    } else if (ph === P.rollingBack) {
      this.finish(dev, 'rolled-back', 'health-check');
    }
  }

  stop(): void {
    this.stopped = true;
    this.reports.stop();
  }

  /** The backend withdrew the update the device is on (Mender 409, hawkBit cancel or 410): stop it, unreported. */
  onUpdateWithdrawn(dev: number, campaign: string): void {
    if (this.phase[dev] === P.idle || this.offers[this.offerOf[dev]]?.offer.campaign !== campaign) return;
    // Counted as a failed update with cause `withdrawn` (the causes breakdown tells it apart).
    this.fail(dev, 'withdrawn', false);
  }

  private offered(dev: number, offer: UpdateOffer): void {
    if (this.stopped || this.phase[dev] !== P.idle) return;
    let idx = this.offerIndex.get(offer.campaign);
    if (idx === undefined) {
      idx = this.offers.push({ offer, release: this.rec.intern(offer.release), offerIdx: this.offers.length }) - 1;
      this.offerIndex.set(offer.campaign, idx);
      let compatible = 0;
      for (let d = 0; d < this.count; d++) if (offer.artifacts.some((a) => fitsArch(a, this.cfg.groups[this.groupOf[d]].arch))) compatible++;
      this.rec.compatible[offer.release] = compatible;
    }
    const o = this.offers[idx];
    if (this.doneOffer[dev] === idx || this.release[dev] === o.release) return;
    this.metrics.incFor(C['update.offered'], dev);
    this.offerOf[dev] = idx;
    this.startedAt[dev] = this.ctx.schedule.measureNow();
    const g = this.cfg.groups[this.groupOf[dev]];
    const art = pickArtifact(o.offer.artifacts, g.arch, this.rec.releases[this.release[dev]]);
    if (art === undefined) {
      this.metrics.inc(C['update.incompatible']);
      this.fail(dev, 'incompatible');
      return;
    }
    const ai = o.offer.artifacts.indexOf(art);
    this.artifactOf[dev] = ai;
    const own = offer.artifacts.length === o.offer.artifacts.length ? offer.artifacts[ai] : undefined;
    this.ownArtifact[dev] = own !== undefined && own.url !== art.url ? own : undefined;
    this.reboots[dev] = o.offer.target === 'os' ? 1 : 0;
    if (art.kind === 'delta') {
      const full = o.offer.artifacts.find((a) => a.arch === art.arch && a.kind === 'full');
      if (full) this.metrics.inc(C['ota.bytes_saved_delta'], full.size - art.size);
    }
    this.metrics.inc(C['update.started']);
    this.metrics.set(G['update.in_progress'], ++this.inProgress);
    this.phase[dev] = P.downloading;
    this.offset[dev] = 0;
    this.total[dev] = art.size;
    this.retries[dev] = 0;
    this.slowSince[dev] = -1;
    this.interrupted[dev] = 0;
    this.downloadStartedAt[dev] = this.ctx.schedule.measureNow();
    this.driver.beginArtifact(dev);
    this.report(dev, 'downloading');
    this.requestChunk(dev);
  }

  private artifact(dev: number): OfferedArtifact {
    return this.ownArtifact[dev] ?? this.offers[this.offerOf[dev]].offer.artifacts[this.artifactOf[dev]];
  }

  private requestChunk(dev: number): void {
    if (this.phase[dev] !== P.downloading || this.stopped) return;
    if (!this.ctx.reachable(dev)) {
      this.phase[dev] = P.paused;
      this.interrupted[dev] = 1;
      return;
    }
    const heldUntil = this.ctx.hold.heldUntil(dev);
    if (heldUntil >= 0) {
      // Told to wait (Retry-After): the next range request leaves when the wait is over.
      this.ctx.schedule.at(heldUntil, dev, this.K_CHUNK);
      return;
    }
    const a = this.artifact(dev);
    const g = this.cfg.groups[this.groupOf[dev]];
    const want = Math.max(16 * 1024, Math.round((g.downBytesPerSec * this.cfg.chunkMs) / 1000));
    const len = this.total[dev] > 0 ? Math.min(want, this.total[dev] - this.offset[dev]) : want;
    this.chunkLen[dev] = len;
    this.chunkAt[dev] = this.ctx.schedule.now();
    this.metrics.inc(C['requests.started']);
    this.driver.downloadChunk(dev, a, this.offset[dev], len);
  }

  /** The link came back (or the session did): continue from the offset already on the device. */
  private resume(dev: number): void {
    this.phase[dev] = P.downloading;
    if (this.offset[dev] > 0) {
      this.metrics.inc(C['ota.resumes']);
      this.metrics.inc(C['ota.bytes_saved_resume'], this.offset[dev]);
    }
    this.interrupted[dev] = 0;
    this.requestChunk(dev);
  }

  /** Driver callback (through the fleet-ops router). */
  onDownloadChunk(dev: number, status: number, bytes: number, retryAfterMs: number, totalBytes = -1): void {
    if (status === CANCELLED) {
      countHttpFailure(this.metrics, Route.artifact, status);
      return;
    }
    const wait = this.ctx.hold.answered(dev, retryAfterMs);
    if (status !== 200 && status !== 206) countHttpFailure(this.metrics, Route.artifact, status);
    if (this.phase[dev] !== P.downloading) return;
    if (this.total[dev] === 0 && totalBytes > 0) this.total[dev] = totalBytes;
    const g = this.cfg.groups[this.groupOf[dev]];
    if (bytes > 0) {
      this.offset[dev] += bytes;
      this.metrics.incFor(C['ota.bytes_downloaded'], dev, bytes);
      const j = (bytes / MIB) * g.otaJPerMiB;
      this.rec.groupOtaBytes[this.groupOf[dev]] += bytes;
      if (!this.ctx.spend(dev, j)) return this.fail(dev, 'battery', false);
    }
    const now = this.ctx.schedule.now();
    if (status !== 200 && status !== 206) {
      // Cut or failed: retry from the offset after a backoff; give up after a few tries.
      if (++this.retries[dev] > MAX_CHUNK_RETRIES) return this.fail(dev, 'download');
      if (this.offset[dev] > 0) {
        this.metrics.inc(C['ota.resumes']);
        this.metrics.inc(C['ota.bytes_saved_resume'], this.offset[dev]);
      }
      this.ctx.schedule.at(now + Math.max(1000 * 2 ** Math.min(this.retries[dev], 6), wait), dev, this.K_CHUNK);
      return;
    }
    this.retries[dev] = 0;
    // Paced to the link: the next chunk starts when the modelled link would have delivered this one.
    const linkMs = (this.chunkLen[dev] / g.downBytesPerSec) * 1000;
    const due = this.chunkAt[dev] + linkMs;
    const rate = bytes / (Math.max(now, due) - this.chunkAt[dev] || 1) * 1000;
    if (rate < this.cfg.lowSpeedBytesPerSec) {
      if (this.slowSince[dev] < 0) this.slowSince[dev] = this.chunkAt[dev];
      if (now - this.slowSince[dev] >= this.cfg.lowSpeedTimeMs) return this.fail(dev, 'too-slow');
    } else this.slowSince[dev] = -1;
    if (this.total[dev] === 0 || this.offset[dev] < this.total[dev]) {
      this.ctx.schedule.at(Math.max(now, due), dev, this.K_CHUNK);
      return;
    }
    // The last byte is on the device when the modelled link has delivered it, not before.
    if (due > now) this.ctx.schedule.at(due, dev, this.kinds.first + 5);
    else this.downloaded(dev);
  }

  private downloaded(dev: number): void {
    const now = this.ctx.schedule.now();
    this.metrics.record(H['ota.download.duration'], (this.ctx.schedule.measureNow() - this.downloadStartedAt[dev]) * 1000);
    this.report(dev, 'downloaded');
    const w = this.cfg.releases.find((r) => r.release === this.offers[this.offerOf[dev]].offer.release)?.window;
    const open = w ? nextWindowOpen(w, now) : now;
    if (open > now) {
      this.phase[dev] = P.waitWindow;
      this.ctx.schedule.at(open, dev, this.kinds.first + 4);
      return;
    }
    this.startVerify(dev);
  }

  private startVerify(dev: number): void {
    this.phase[dev] = P.verifying;
    this.report(dev, 'verifying');
    const g = this.cfg.groups[this.groupOf[dev]];
    this.ctx.schedule.at(this.ctx.schedule.now() + (this.total[dev] / (g.writeBytesPerSec * 2)) * 1000, dev, this.kinds.first + 1);
  }

  private verify(dev: number): void {
    if (this.phase[dev] !== P.verifying) return;
    const a = this.artifact(dev);
    if (!this.driver.verifyArtifact(dev, a.sha256)) return this.fail(dev, 'checksum');
    // The artifact may say what it replaces where the offer could not (Mender: rootfs-image or an update module).
    const said = this.driver.artifactTarget?.(dev);
    if (said !== undefined) this.reboots[dev] = said === 'os' ? 1 : 0;
    this.phase[dev] = P.installing;
    this.report(dev, 'installing');
    const g = this.cfg.groups[this.groupOf[dev]];
    this.ctx.schedule.at(this.ctx.schedule.now() + (this.total[dev] / g.writeBytesPerSec) * 1000, dev, this.kinds.first + 2);
  }

  private installed(dev: number): void {
    if (this.phase[dev] !== P.installing) return;
    if (this.reboots[dev] === 1) {
      this.phase[dev] = P.rebooting;
      this.report(dev, 'rebooting');
      this.rebootNow(dev);
      return;
    }
    // An application update restarts the application only: the session stays up, and no
    // 'rebooting' is reported (Mender's client reports it only when it reboots).
    this.phase[dev] = P.health;
    this.ctx.schedule.at(this.ctx.schedule.now() + this.cfg.appRestartMs + this.cfg.healthCheckMs, dev, this.kinds.first + 3);
  }

  private healthCheck(dev: number): void {
    if (this.phase[dev] !== P.health) return;
    const o = this.offers[this.offerOf[dev]];
    const r = this.cfg.releases.find((x) => x.release === o.offer.release);
    const gi = this.groupOf[dev];
    const p = r?.byGroup[gi] ?? r?.failureRate ?? 0;
    const u = uniform(this.cfg.seed, this.firstDevice + dev, Stream.failure, this.healthDraws[dev]++);
    if (u < p) {
      // A/B: the old slot boots again; an application update just restarts the old version.
      if (this.reboots[dev] === 1) {
        this.phase[dev] = P.rollingBack;
        this.rebootNow(dev);
        return;
      }
      return this.finish(dev, 'rolled-back', 'health-check');
    }
    const from = this.release[dev];
    this.release[dev] = o.release;
    this.rec.transition(from, o.release, this.ctx.schedule.now());
    this.rec.groupUpdates[gi]++;
    this.metrics.record(H['update.duration'], (this.ctx.schedule.measureNow() - this.startedAt[dev]) * 1000);
    this.finish(dev, 'success', undefined);
  }

  /** Reboots the device for its update: once to boot the new image, once more to roll it back. */
  private rebootNow(dev: number): void {
    this.metrics.inc(C['update.reboots']);
    this.ctx.reboot(dev, this.cfg.groups[this.groupOf[dev]].rebootMs);
  }

  private fail(dev: number, cause: string, report = true): void {
    this.finish(dev, 'failed', cause, report);
  }

  private finish(dev: number, status: 'success' | 'failed' | 'rolled-back', cause: string | undefined, report = true): void {
    const wasActive = this.phase[dev] !== P.idle;
    this.phase[dev] = P.idle;
    this.ownArtifact[dev] = undefined;
    this.doneOffer[dev] = this.offerOf[dev];
    if (wasActive) this.metrics.set(G['update.in_progress'], --this.inProgress);
    if (status === 'success') this.metrics.inc(C['update.success']);
    else if (status === 'rolled-back') this.metrics.inc(C['update.rolled_back']);
    else this.metrics.inc(C['update.failed']);
    if (cause !== undefined) this.rec.cause(cause);
    if (report) this.report(dev, status, cause);
  }

  private report(dev: number, status: string, cause?: string): void {
    this.reports.report(dev, status, cause);
  }

  /** Driver callback (through the fleet-ops router). */
  onStateReported(dev: number, status: number, retryAfterMs: number): void {
    this.reports.onStateReported(dev, status, retryAfterMs);
  }
}
