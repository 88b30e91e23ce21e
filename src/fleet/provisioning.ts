import { C, G, H } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { CANCELLED, type DeviceDriver } from '../drivers/types.js';
import { DeviceState as S, Flag, type DeviceTable } from './device-table.js';
import { Ev } from './event-kinds.js';
import { countHttpFailure, Route } from './request-outcome.js';
import type { RetryAfterHold } from './retry-after-hold.js';
import type { RetryPlan } from './retry-plan.js';
import type { Schedule } from './schedule.js';
import { STEP_POLL } from './lifecycle-config.js';

const US_PER_MS = 1000;

/** What provisioning needs of the lifecycle. */
export interface ProvisioningHooks {
  reachable(dev: number): boolean;
  /** Charges a lifecycle step's energy; false when the battery ran dry (the device went dark). */
  charge(dev: number, step: number, oneOff: boolean): boolean;
  stopping(): boolean;
  /** Credentials were issued: the behaviours hear of it (before the device's next steps). */
  issued(dev: number): void;
  /** The device may go on: connect (unless sleepy) and start polling from `t`. */
  proceed(dev: number, t: number): void;
}

/**
 * Provisioning: one request per attempt (held while a Retry-After runs), the answer's latency,
 * pending approval (manual provisioning), credentials issued, and retries after failures. A
 * renewal of credentials the driver does on its own (preset re-authentication) is counted on the
 * provisioning route too: it is a credentials request.
 * Concurrency: the shard's thread only, like the lifecycle.
 */
export class Provisioning {
  private provisioned = 0;
  private awaitingApproval = 0;

  constructor(
    private readonly devices: DeviceTable,
    private readonly serialPrefix: string,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    private readonly hold: RetryAfterHold,
    private readonly retry: RetryPlan,
    private readonly hooks: ProvisioningHooks,
  ) {}

  provision(dev: number): void {
    const d = this.devices;
    // A stale retry after the link already brought the device back is a no-op.
    if (d.state(dev) === S.provisioning || d.has(dev, Flag.hasCreds)) return;
    if (!this.hooks.reachable(dev)) {
      d.setState(dev, S.offline);
      return;
    }
    // Told to wait (Retry-After on any route): ask again when the wait is over.
    const heldUntil = this.hold.heldUntil(dev);
    if (heldUntil >= 0) {
      this.schedule.at(heldUntil, dev, Ev.provision);
      return;
    }
    // The provisioning request costs what a poll does, once.
    if (!this.hooks.charge(dev, STEP_POLL, true)) return;
    d.setState(dev, S.provisioning);
    d.setHttpStartedAt(dev, this.schedule.measureNow());
    this.metrics.inc(C['requests.started']);
    this.driver.provision(dev, `${this.serialPrefix}-${d.firstDevice + dev}`);
  }

  onProvisioned(dev: number, status: number, retryAfterMs: number): void {
    const d = this.devices;
    if (status === CANCELLED) {
      // Cut off by the end of the run: no answer, so no latency and no error.
      d.setHttpStartedAt(dev, -1);
      countHttpFailure(this.metrics, Route.provision, status);
      return;
    }
    const now = this.schedule.measureNow();
    this.metrics.record(H['provision.latency'], (now - d.httpStartedAt(dev)) * US_PER_MS);
    d.setHttpStartedAt(dev, -1);
    const wait = this.hold.answered(dev, retryAfterMs);
    if (this.hooks.stopping() || d.state(dev) === S.dead) return;
    if (status === 202) {
      // Manual provisioning: accepted but pending an operator's approval; ask again when told.
      this.metrics.inc(C['provision.pending']);
      if (!d.has(dev, Flag.awaitingApproval)) {
        d.set(dev, Flag.awaitingApproval);
        this.metrics.set(G['devices.awaiting_approval'], ++this.awaitingApproval);
      }
      this.retry.retryLater(dev, Ev.provision, wait);
      return;
    }
    if (status >= 200 && status < 300) {
      this.metrics.inc(C['provision.ok']);
      d.setState(dev, S.provisioned);
      d.set(dev, Flag.hasCreds);
      if (d.has(dev, Flag.awaitingApproval)) {
        d.unset(dev, Flag.awaitingApproval);
        this.metrics.set(G['devices.awaiting_approval'], --this.awaitingApproval);
      }
      this.hooks.issued(dev);
      d.setAttempts(dev, 0);
      this.metrics.set(G['devices.provisioned'], ++this.provisioned);
      this.hooks.proceed(dev, this.schedule.now());
      return;
    }
    this.metrics.inc(C['provision.failed']);
    countHttpFailure(this.metrics, Route.provision, status);
    this.retry.knockedOut(dev);
    this.retry.retryLater(dev, Ev.provision, wait);
  }

  /** The driver renewed the device's credentials: its Retry-After holds the device; a failure is counted. */
  onReauthenticated(dev: number, status: number, retryAfterMs: number): void {
    if (status === CANCELLED) {
      // Cut off by the end of the run. The backend may already have issued the new credential, so
      // the renewal is counted as cancelled on its route (never dropped): a reconciliation then sees
      // auth.reauth <= renewals the backend made <= auth.reauth + the cancelled ones.
      countHttpFailure(this.metrics, Route.provision, status);
      return;
    }
    this.hold.answered(dev, retryAfterMs);
    // Renewals are measured, never fatal: the device keeps its schedule and uses the new credentials.
    const ok = status >= 200 && status < 300 && status !== 202;
    this.metrics.inc(ok ? C['auth.reauth'] : C['auth.reauth_failed']);
    if (status < 200 || status >= 300) countHttpFailure(this.metrics, Route.provision, status);
  }
}
