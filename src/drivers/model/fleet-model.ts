import { artifactRefs, TERMINAL_STATUSES, type CampaignSpec, type ReleaseSpec, type RolloutChange, type UpdateOffer } from '../../wire/fleet-ops.js';
import type { OperatorPlan } from '../../wire/operator-plan.js';
import { corruptDraw, decidesOnFleetCounts, RolloutState, rolloutRank, type CohortCounts } from '../../wire/rollout.js';
import { INITIAL_RELEASE_NAME } from '../../wire/reference-protocol.js';
import { NO_RETRY_AFTER, type ConfigChange, type DeviceCommand, type DeviceStateReport, type DriverEvents, type FleetOpsEvents } from '../types.js';

/**
 * Event kinds of the fleet model, as offsets: the model driver schedules them in its own range
 * and hands them back relative to it (FleetModelHost.at, handle).
 */
const K_ACTION = 0;
const K_TICK = 1;
const K_MSG_UPDATE = 2;
const K_MSG_CONFIG = 3;
const K_MSG_COMMAND = 4;
const K_CHUNK = 5;
const K_STATE = 6;
const K_FLEET_ACK = 7;
export const FLEET_MODEL_KIND_COUNT = 8;

/** How often rollouts advance and newly admitted devices are notified (simulated ms). */
const TICK_MS = 1000;

/** What the fleet model needs of the model driver. */
export interface FleetModelHost {
  now(): number;
  /** Schedules one of the fleet model's kinds (an offset, K_*), handed back to handle(). */
  at(timeMs: number, dev: number, kind: number): void;
  /**
   * A backend operation for `dev`: `kind` (one of the model's K_*) fires when the modelled backend
   * answers it, after its service time and any wait in the backend's queue (models/backend-queue.ts).
   */
  answer(dev: number, op: 'state' | 'artifact' | 'command' | 'publish', kind: number): void;
  /** The status of the answer `kind` firing now: `ok`, or what the backend answered instead (failed: 503; turned away: its rejection status or a reset). */
  status(dev: number, kind: number, ok: number): number;
  /** The Retry-After (ms) of the answer just read with `status`, NO_RETRY_AFTER when none. */
  retryAfter(dev: number): number;
  online(dev: number): boolean;
}

interface ModelCampaign {
  spec: CampaignSpec;
  id: string;
  release: string;
  offer: UpdateOffer;
  rollout: RolloutState;
  startMs: number;
  notified: Uint8Array;
  terminal: Uint8Array;
  /** This shard's cohort counts (cumulative) and the fleet's (summed over shards by the coordinator). */
  local: CohortCounts[];
  fleet: CohortCounts[];
}

/**
 * The virtual clock's model of a backend's fleet operations: it plays the operator plan (update
 * campaigns with the same rollout policy as the embedded backend, configuration pushes,
 * commands), notifies devices over their modelled MQTT session, answers polls with the offer
 * (typed events, as a preset would decode them: nothing is encoded for the model itself),
 * serves artifact chunks after a modelled latency and counts what devices report.
 *
 * Rollout gates need fleet-wide counts: each shard sends its cumulative cohort counts with its
 * window snapshot (`windowCounts`) and gets the sums back (`applyFleetCounts`) before the next
 * window, so every shard takes the same decision at the same simulated time, whatever the
 * number of workers.
 *
 * Concurrency: the shard's thread only, like the model driver.
 */
export class FleetModel {
  private fleetEvents: FleetOpsEvents | undefined;
  private readonly rank: Float64Array;
  private readonly campaigns: ModelCampaign[] = [];
  private nextAction = 0;
  /** Campaign index of the last offer each device got (for the corrupt-artifact draw), -1 none. */
  private readonly offered: Int16Array;
  private readonly release: Uint16Array;
  private readonly releaseNames: string[] = [INITIAL_RELEASE_NAME];
  private configVersion = 0;
  /** The latest configuration push, handed to every device it reaches (read-only for them). */
  private config: ConfigChange = { version: 0, issuedAt: 0, values: {} };
  private readonly configAcked: Uint16Array;
  /** The latest command, handed to every device it is sent to. */
  private command: DeviceCommand = { id: '', name: '' };
  /** The campaign a poll answered with (set by pollChanged for deliverPollChanges), -1 none. */
  private polledOffer = -1;
  private readonly chunkBytes: Float64Array;
  private readonly pendingReports: Uint8Array;
  private readonly fleetAcks: Array<number[] | undefined>;
  private tickArmed = false;
  /** Commands sent by this shard's part of the model (for the report). */
  commandsSent = 0;

  constructor(
    private readonly plan: OperatorPlan,
    devices: number,
    firstDevice: number,
    serialPrefix: string,
    private readonly host: FleetModelHost,
    private readonly events: DriverEvents,
  ) {
    this.rank = new Float64Array(devices);
    for (let dev = 0; dev < devices; dev++) this.rank[dev] = rolloutRank(`${serialPrefix}-${firstDevice + dev}`);
    this.offered = new Int16Array(devices).fill(-1);
    this.release = new Uint16Array(devices);
    this.configAcked = new Uint16Array(devices);
    this.chunkBytes = new Float64Array(devices);
    this.pendingReports = new Uint8Array(devices);
    this.fleetAcks = new Array(devices);
    if (plan.actions.length > 0) host.at(plan.actions[0].atMs, 0, K_ACTION);
  }

  attach(events: FleetOpsEvents): void {
    this.fleetEvents = events;
  }

  /** True when a campaign's rollout depends on fleet-wide counts (steps or an abort rule). */
  get coupled(): boolean {
    return this.plan.actions.some((a) => a.kind === 'campaign' && decidesOnFleetCounts(a.campaign));
  }

  /** Cohort counts of every campaign of the plan, flattened (campaigns not started yet count zeros). */
  windowCounts(): number[] {
    const out: number[] = [];
    let k = 0;
    for (const a of this.plan.actions) {
      if (a.kind !== 'campaign') continue;
      const c = this.campaigns[k++];
      const cohorts = a.campaign.rollout.strategy === 'steps' ? a.campaign.rollout.steps.length : 1;
      for (let i = 0; i < cohorts; i++) out.push(c ? c.local[i].finished : 0, c ? c.local[i].failed : 0);
    }
    return out;
  }

  applyFleetCounts(sums: readonly number[]): void {
    let o = 0;
    let k = 0;
    for (const a of this.plan.actions) {
      if (a.kind !== 'campaign') continue;
      const c = this.campaigns[k++];
      const cohorts = a.campaign.rollout.strategy === 'steps' ? a.campaign.rollout.steps.length : 1;
      for (let i = 0; i < cohorts; i++, o += 2) if (c && o + 1 < sums.length) c.fleet[i] = { finished: sums[o], failed: sums[o + 1] };
    }
  }

  // --- device side (called by the model driver) ---

  onSessionUp(dev: number): void {
    const now = this.host.now();
    if (this.configAcked[dev] < this.configVersion) this.host.answer(dev, 'command', K_MSG_CONFIG);
    const c = this.offerFor(dev, now);
    if (c >= 0 && this.campaigns[c].spec.notify === 'mqtt') this.notify(dev, c, now);
  }

  /**
   * Whether a poll answered now finds something new for `dev` (an offer or a newer configuration);
   * deliverPollChanges then hands it over, right after the poll's own answer.
   */
  pollChanged(dev: number): boolean {
    const c = this.offerFor(dev, this.host.now());
    if (c < 0 && this.configAcked[dev] >= this.configVersion) return false;
    if (c >= 0) this.offered[dev] = c;
    this.polledOffer = c;
    return true;
  }

  deliverPollChanges(dev: number): void {
    const c = this.polledOffer;
    this.polledOffer = -1;
    if (c >= 0) this.events.onUpdateOffered?.(dev, this.campaigns[c].offer, 'poll');
    if (this.configVersion > 0) this.events.onConfigChanged?.(dev, this.config, 'poll');
  }

  downloadChunk(dev: number, length: number): void {
    this.chunkBytes[dev] = length;
    this.host.answer(dev, 'artifact', K_CHUNK);
  }

  verify(dev: number): boolean {
    const c = this.offered[dev];
    const corrupt = c >= 0 ? this.campaigns[c].spec.corrupt : undefined;
    return corrupt === undefined || corruptDraw(this.rank[dev]) >= corrupt;
  }

  reportState(dev: number, r: DeviceStateReport): void {
    let idx = this.releaseNames.indexOf(r.release);
    if (idx < 0) idx = this.releaseNames.push(r.release) - 1;
    this.release[dev] = idx;
    const c = r.campaign === undefined ? -1 : this.campaigns.findIndex((x) => x.id === r.campaign);
    if (c >= 0 && TERMINAL_STATUSES.has(r.status) && !this.campaigns[c].terminal[dev]) {
      const m = this.campaigns[c];
      m.terminal[dev] = 1;
      if (r.cause !== 'incompatible') {
        const cohort = m.local[m.rollout.cohortOf(this.rank[dev])];
        cohort.finished++;
        if (r.status !== 'success') cohort.failed++;
      }
    }
    this.pendingReports[dev]++;
    this.host.answer(dev, 'state', K_STATE);
  }

  /** A device's configuration acknowledgement (QoS 1): the backend knows the device has `version`. */
  ackConfig(dev: number, version: number, token: number): boolean {
    if (!this.host.online(dev)) return false;
    if (version > this.configAcked[dev]) this.configAcked[dev] = version;
    return this.publish(dev, 1, token);
  }

  /** Any other device uplink (command reply, end-of-line report, logs). */
  publish(dev: number, qos: 0 | 1, token: number): boolean {
    if (!this.host.online(dev)) return false;
    if (qos === 1) {
      (this.fleetAcks[dev] ??= []).push(token);
      this.host.answer(dev, 'publish', K_FLEET_ACK);
    }
    return true;
  }

  /** The session ended: publishes waiting for their ack get none (as on a real connection). */
  onSessionDown(dev: number): void {
    this.fleetAcks[dev] = undefined;
  }

  handle(kind: number, dev: number): void {
    const now = this.host.now();
    switch (kind) {
      case K_ACTION:
        return this.runActions(now);
      case K_TICK:
        return this.tick(now);
      case K_MSG_UPDATE: {
        const c = this.offered[dev];
        if (this.host.status(dev, kind, 0) !== 0) return; // failed or turned away: not delivered
        if (c >= 0 && this.host.online(dev)) this.events.onUpdateOffered?.(dev, this.campaigns[c].offer, 'push');
        return;
      }
      case K_MSG_CONFIG:
        if (this.host.status(dev, kind, 0) !== 0) return;
        if (this.host.online(dev)) this.events.onConfigChanged?.(dev, this.config, 'push');
        return;
      case K_MSG_COMMAND:
        if (this.host.status(dev, kind, 0) !== 0) return;
        if (this.host.online(dev)) this.events.onCommand?.(dev, this.command);
        return;
      case K_CHUNK: {
        const st = this.host.status(dev, kind, 206);
        return this.fleetEvents?.onDownloadChunk(dev, st, st === 206 ? this.chunkBytes[dev] : 0, st === 206 ? NO_RETRY_AFTER : this.host.retryAfter(dev));
      }
      case K_STATE: {
        if (this.pendingReports[dev] > 0) this.pendingReports[dev]--;
        const st = this.host.status(dev, kind, 204);
        return this.fleetEvents?.onStateReported(dev, st, st === 204 ? NO_RETRY_AFTER : this.host.retryAfter(dev));
      }
      case K_FLEET_ACK: {
        // Responses take the publish operation's time (and queue). A served one is acknowledged even
        // when it fails; one turned away never reaches here (the model driver ends the session, and
        // onSessionDown forgets the acks it waited for). Logs are QoS 0: nothing is acknowledged.
        this.host.status(dev, kind, 0);
        const q = this.fleetAcks[dev];
        const token = q?.shift();
        if (token !== undefined) this.fleetEvents?.onFleetPublishAcked(dev, token);
        return;
      }
    }
  }

  // --- backend side ---

  private runActions(now: number): void {
    const acts = this.plan.actions;
    while (this.nextAction < acts.length && acts[this.nextAction].atMs <= now) {
      const a = acts[this.nextAction++];
      if (a.kind === 'campaign') this.startCampaign(a.campaign, now);
      else if (a.kind === 'config') {
        this.configVersion++;
        this.config = { version: this.configVersion, issuedAt: now, values: { ...a.push.config } };
        for (let dev = 0; dev < this.rank.length; dev++) if (this.host.online(dev)) this.host.answer(dev, 'command', K_MSG_CONFIG);
      } else {
        const fraction = a.command.fraction ?? 1;
        this.command = { id: `c${this.nextAction}`, name: a.command.name, issuedAt: now };
        for (let dev = 0; dev < this.rank.length; dev++) {
          if (!this.host.online(dev) || this.rank[dev] >= fraction) continue;
          this.commandsSent++;
          this.host.answer(dev, 'command', K_MSG_COMMAND);
        }
      }
    }
    if (this.nextAction < acts.length) this.host.at(acts[this.nextAction].atMs, 0, K_ACTION);
  }

  private startCampaign(spec: CampaignSpec, now: number): void {
    const rel: ReleaseSpec | undefined = this.plan.releases.find((r) => r.name === spec.release);
    if (rel === undefined) return;
    const id = `m${this.campaigns.length}`;
    const offer: UpdateOffer = { campaign: id, release: rel.name, target: rel.target, artifacts: artifactRefs(rel) };
    const rollout = new RolloutState(spec.rollout, spec.abortIf, spec.fleetSize ?? this.rank.length);
    const n = this.rank.length;
    this.campaigns.push({
      spec,
      id,
      release: rel.name,
      offer,
      rollout,
      startMs: now,
      notified: new Uint8Array(n),
      terminal: new Uint8Array(n),
      local: Array.from({ length: rollout.cohorts }, () => ({ finished: 0, failed: 0 })),
      fleet: Array.from({ length: rollout.cohorts }, () => ({ finished: 0, failed: 0 })),
    });
    this.tick(now);
  }

  private tick(now: number): void {
    this.tickArmed = false;
    let running = false;
    for (let c = 0; c < this.campaigns.length; c++) {
      const m = this.campaigns[c];
      if (m.rollout.aborted) continue;
      m.rollout.tick(now - m.startMs, m.fleet);
      if (m.rollout.aborted) continue;
      running = true;
      if (m.spec.notify !== 'mqtt') continue;
      const f = m.rollout.fraction(now - m.startMs);
      for (let dev = 0; dev < this.rank.length; dev++) {
        if (m.notified[dev] || this.rank[dev] >= f || !this.host.online(dev) || !this.pending(m, dev)) continue;
        if (this.offerFor(dev, now) === c) this.notify(dev, c, now);
      }
    }
    if (running && !this.tickArmed) {
      this.tickArmed = true;
      this.host.at(now + TICK_MS, 0, K_TICK);
    }
  }

  private notify(dev: number, c: number, now: number): void {
    this.campaigns[c].notified[dev] = 1;
    this.offered[dev] = c;
    this.host.answer(dev, 'command', K_MSG_UPDATE);
  }

  private pending(m: ModelCampaign, dev: number): boolean {
    return this.releaseNames[this.release[dev]] !== m.release && !m.terminal[dev];
  }

  /** The newest running campaign admitting `dev` with work left for it, or -1. */
  private offerFor(dev: number, now: number): number {
    for (let c = this.campaigns.length - 1; c >= 0; c--) {
      const m = this.campaigns[c];
      if (!m.rollout.aborted && this.rank[dev] < m.rollout.fraction(now - m.startMs) && this.pending(m, dev)) return c;
    }
    return -1;
  }

  /** Final state of each campaign as this shard saw it (steps reached, aborts). */
  campaignOutcomes(): Array<{ release: string; step: number; aborted: boolean; reason: string; startMs: number; changes: RolloutChange[] }> {
    return this.campaigns.map((m) => ({ release: m.release, step: m.rollout.step, aborted: m.rollout.aborted, reason: m.rollout.reason, startMs: m.startMs, changes: m.rollout.changes.map((c) => ({ ...c })) }));
  }
}
