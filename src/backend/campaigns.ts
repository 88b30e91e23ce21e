import { randomUUID } from 'node:crypto';
import { RolloutState, type CohortCounts } from '../wire/rollout.js';
import { TERMINAL_STATUSES, type CampaignSpec, type CampaignStatus, type ReleaseInfo, type UpdateOffer } from '../wire/fleet-ops.js';
import { INITIAL_RELEASE, type DeviceRecord, type DeviceStore } from './store.js';

/**
 * Update campaigns of the embedded backend: which devices are admitted (wire/rollout.ts: rank
 * below the admitted fraction), the offer they get on their poll or as an MQTT notification, the
 * status each reports, per-cohort outcomes that gate steps and trip the abort rule, and the
 * fleet's version distribution over time.
 *
 * Concurrency: the backend's event loop only; `tick` runs on a timer owned by FleetOps.
 */

export class Campaign {
  readonly id = randomUUID();
  readonly rollout: RolloutState;
  readonly offer: UpdateOffer;
  readonly notification: string;
  readonly counts: CohortCounts[];
  /** Last status per device id. */
  readonly status = new Map<string, string>();
  /** Devices counted in a cohort (their first terminal status), and devices already notified. */
  private readonly counted = new Set<string>();
  readonly notified = new Set<string>();
  readonly statuses: Record<string, number> = {};

  constructor(
    readonly spec: CampaignSpec,
    readonly release: ReleaseInfo,
    readonly startedAt: number,
    fleetSize: number,
  ) {
    this.rollout = new RolloutState(spec.rollout, spec.abortIf, fleetSize);
    this.offer = { campaign: this.id, release: release.name, target: release.target, artifacts: release.artifacts };
    this.notification = JSON.stringify({ type: 'update', ...this.offer });
    this.counts = Array.from({ length: this.rollout.cohorts }, () => ({ finished: 0, failed: 0 }));
  }

  get running(): boolean {
    return !this.rollout.aborted;
  }

  /** True when the device is inside the admitted fraction now. */
  admits(rec: DeviceRecord, now: number): boolean {
    return rec.rank < this.rollout.fraction(now - this.startedAt);
  }

  /** True when the device still has work in this campaign: not on the release, no final status yet. */
  pendingFor(rec: DeviceRecord): boolean {
    if ((rec.release || INITIAL_RELEASE) === this.release.name) return false;
    const st = this.status.get(rec.id);
    return st === undefined || !TERMINAL_STATUSES.has(st);
  }

  report(rec: DeviceRecord, status: string, cause: string | undefined): void {
    const before = this.status.get(rec.id);
    if (before !== undefined) this.statuses[before]--;
    this.status.set(rec.id, status);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (!TERMINAL_STATUSES.has(status) || this.counted.has(rec.id) || cause === 'incompatible') return;
    this.counted.add(rec.id);
    const c = this.counts[this.rollout.cohortOf(rec.rank)];
    c.finished++;
    if (status !== 'success') c.failed++;
  }

  view(now: number): CampaignStatus {
    const r = this.rollout;
    return {
      id: this.id,
      release: this.release.name,
      state: r.aborted ? 'aborted' : 'running',
      step: r.step,
      admittedFraction: r.fraction(now - this.startedAt),
      statuses: { ...this.statuses },
      cohorts: this.counts.map((c, k) => ({ upTo: r.cohortUpTo(k), finished: c.finished, failed: c.failed })),
      ...(r.aborted ? { reason: r.reason } : {}),
      changes: r.changes.map((c) => ({ ...c })),
    };
  }
}

export class Campaigns {
  private readonly list: Campaign[] = [];
  private readonly byId = new Map<string, Campaign>();
  /** Devices per release they run (as last reported; INITIAL_RELEASE before any report). */
  private readonly versions = new Map<string, number>();
  readonly history: Array<[number, Record<string, number>]> = [];

  constructor(
    private readonly store: DeviceStore,
    private readonly publish: (rec: DeviceRecord, payload: string) => void,
  ) {}

  create(spec: CampaignSpec, release: ReleaseInfo, now: number): Campaign {
    const c = new Campaign(spec, release, now, spec.fleetSize ?? Math.max(1, this.store.size));
    this.list.push(c);
    this.byId.set(c.id, c);
    this.tick(now);
    return c;
  }

  get(id: string): Campaign | undefined {
    return this.byId.get(id);
  }

  all(): readonly Campaign[] {
    return this.list;
  }

  /** The newest running campaign that admits this device and that it has not finished. */
  offerFor(rec: DeviceRecord, now: number): Campaign | undefined {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const c = this.list[i];
      if (c.running && c.admits(rec, now) && c.pendingFor(rec)) return c;
    }
    return undefined;
  }

  /** A newly provisioned device runs the initial release. */
  onProvisioned(rec: DeviceRecord): void {
    if (rec.provisions === 1) this.bump(INITIAL_RELEASE, 1);
  }

  /** A state report: tracks the running release and the campaign's status. */
  onReport(rec: DeviceRecord, release: string, status: string, campaign: string | undefined, cause: string | undefined): void {
    const before = rec.release || INITIAL_RELEASE;
    if (release !== before) {
      this.bump(before, -1);
      this.bump(release, 1);
    }
    const c = campaign === undefined ? undefined : this.byId.get(campaign);
    c?.report(rec, status, cause);
  }

  /** The device's session is up (it subscribed to its commands): tell it about an update waiting for it. */
  onSubscribed(rec: DeviceRecord, now: number): void {
    const c = this.offerFor(rec, now);
    if (c === undefined || c.spec.notify !== 'mqtt') return;
    c.notified.add(rec.id);
    this.publish(rec, c.notification);
  }

  /** Advances every rollout and notifies online devices newly admitted. */
  tick(now: number): void {
    for (const c of this.list) {
      if (!c.running) continue;
      c.rollout.tick(now - c.startedAt, c.counts);
      if (!c.running || c.spec.notify !== 'mqtt') continue;
      const f = c.rollout.fraction(now - c.startedAt);
      for (const rec of this.store.records()) {
        if (!rec.online || rec.rank >= f || c.notified.has(rec.id) || !c.pendingFor(rec)) continue;
        c.notified.add(rec.id);
        this.publish(rec, c.notification);
      }
    }
  }

  sample(now: number): void {
    this.history.push([now, this.versionCounts()]);
  }

  versionCounts(): Record<string, number> {
    return Object.fromEntries([...this.versions].filter(([, n]) => n > 0));
  }

  private bump(release: string, n: number): void {
    this.versions.set(release, (this.versions.get(release) ?? 0) + n);
  }
}
