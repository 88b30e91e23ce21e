import { Parked, type DeviceCredentialTable } from './device-credentials.js';
import { mergeAnswers, type HttpPlatformSteps } from './http-platform-steps.js';
import type { HttpRequestSpec, Preset, TargetAnswer } from './preset.js';
import type { RequestOutcomes, MqttRequests } from './mqtt-requests.js';
import {
  BAD_RESPONSE,
  LOST_PROTOCOL,
  REJECTED,
  FLEET_TOKEN_BASE,
  NO_HINT,
  NO_RETRY_AFTER,
  POLL_CHANGED,
  POLL_UNCHANGED,
  type DeviceDriver,
  type DriverEvents,
  type FleetOpsEvents,
  type HttpTransportEvents,
  type MqttSubscription,
  type MqttTransportEvents,
} from './types.js';

/** What a wire request was, carried through the HTTP transport as its `op`. */
export const OP_PROVISION = 1;
export const OP_POLL = 2;
export const OP_STATE = 3;
export const OP_REAUTH = 4;
/** A poll's follow-up GET (PlatformHooks.decodeFollow). */
export const OP_FOLLOW = 5;
/** Requests a poll's answer asks for besides (config data, a cancel acknowledged) and HTTP log batches: counted, not decoded. */
export const OP_ALSO = 6;
/** Telemetry over HTTP (a sessionless preset); the token is kept per device (one in flight). */
export const OP_TELEMETRY = 7;

/** CONNACK return codes that refuse the credentials: bad user name or password, not authorized. */
const CONNACK_BAD_CREDENTIALS = 4;
export const CONNACK_NOT_AUTHORIZED = 5;

/**
 * What the answers need of the driver that sent the requests: a request sent again (a follow-up,
 * a state report's next step, telemetry after a renewal), credentials checked (renewed when they
 * expire), a topic subscribed, and the requests parked during a renewal replayed.
 */
export interface WireRequests extends Pick<DeviceDriver, 'connect' | 'pollTarget' | 'reportState' | 'downloadChunk'> {
  send(dev: number, op: number, r: HttpRequestSpec, auth: string | undefined): void;
  /** True when `dev`'s credentials may be used now; false when parked (as `park`) for a renewal. */
  fresh(dev: number, park: number): boolean;
  subscribe(dev: number, topic: string, qos: 0 | 1): void;
}

/**
 * The wire driver's incoming half: HTTP answers and MQTT transport events turned into typed
 * events through the preset's decoders (drivers/wire-driver.ts sends the requests). It shares the
 * driver's per-device tables (credentials, platform steps, poll ETags); both run on the shard's
 * one thread, so a table is never read half-written.
 */
export class WireAnswers implements HttpTransportEvents, MqttTransportEvents, RequestOutcomes {
  /** Fleet operations' events, once the driver's attachFleetOps gave them. */
  fleet: FleetOpsEvents | undefined;
  /** Request/response over MQTT (protocol files, reserved topics; set by the driver): its events go there first. */
  mqttRequests: MqttRequests | undefined;
  /**
   * The device's own sessions send their subscriptions with the CONNECT (sessionTopics), so
   * onConnect subscribes to nothing (options.mqttPipelining). Provisioning sessions never do.
   */
  subscribeWithConnect = false;
  /** A state report sent once more (Preset.retryReportStatuses); the driver's owner counts it. */
  onReportRetried: (dev: number) => void = () => {};

  constructor(
    private readonly preset: Preset,
    private readonly creds: DeviceCredentialTable,
    private readonly steps: HttpPlatformSteps,
    /** Each device's poll ETag (the driver sends it as If-None-Match). */
    private readonly etags: Array<string | undefined>,
    private readonly events: DriverEvents,
    private readonly requests: WireRequests,
  ) {}

  onHttpResponse(dev: number, op: number, status: number, body: string, retryAfterMs: number, etag: string | undefined): void {
    switch (op) {
      case OP_PROVISION:
        return this.events.onProvisioned(dev, this.steps.provisionStatus(this.credentialAnswer(dev, status, body, false)), retryAfterMs);
      case OP_REAUTH:
        return this.reauthenticated(dev, this.credentialAnswer(dev, status, body, true), retryAfterMs);
      case OP_STATE: {
        const c = this.creds.of(dev);
        const keep = c === undefined || body === '' ? undefined : this.preset.rememberFromReport?.(body, c);
        if (keep !== undefined) this.creds.remember(dev, keep);
        if (this.retriedReport(dev, status)) return;
        return this.reportAnswered(dev, status, retryAfterMs);
      }
      case OP_POLL:
        this.creds.answered(dev, status);
        return this.polled(dev, status, body, retryAfterMs, etag);
      case OP_FOLLOW:
        this.creds.answered(dev, status);
        return this.followed(dev, status, body, retryAfterMs);
      case OP_ALSO:
        this.creds.answered(dev, status);
        return;
      case OP_TELEMETRY:
        return this.telemetryAnswered(dev, status);
    }
  }

  // --- RequestOutcomes: answers over MQTT reported as the HTTP routes report theirs ---

  provisioned(dev: number, status: number): void {
    this.events.onProvisioned(dev, this.steps.provisionStatus(status), NO_RETRY_AFTER);
  }

  pollDecoded(dev: number, t: TargetAnswer): void {
    this.deliver(dev, t, NO_RETRY_AFTER);
  }

  answered(dev: number, op: number, status: number, body: string): void {
    this.onHttpResponse(dev, op, status, body, NO_RETRY_AFTER, undefined);
  }

  fleetEvents(): FleetOpsEvents | undefined {
    return this.fleet;
  }

  /** One request of a state report answered: the next one leaves, or the report is answered by this one. */
  private reportAnswered(dev: number, status: number, retryAfterMs: number): void {
    this.creds.answered(dev, status);
    const ok = status >= 200 && status < 300;
    const next = ok ? this.steps.nextOfReport(dev) : undefined;
    if (next !== undefined) return this.requests.send(dev, OP_STATE, next, this.creds.authorization(dev));
    this.steps.dropReport(dev);
    this.fleet?.onStateReported(dev, status, retryAfterMs);
    const campaign = this.steps.reportCampaign[dev];
    if (this.steps.isGone(status) && campaign !== undefined) this.fleet?.onUpdateWithdrawn?.(dev, campaign);
  }

  /**
   * A report the preset retries after this answer (AWS IoT's VersionMismatch, whose answer gave
   * the execution's current version to the credentials just now): built again and sent; its
   * answer stands for the report's. The rejected answer is not reported to the device.
   */
  private retriedReport(dev: number, status: number): boolean {
    const report = this.steps.reportToRetry(dev, status);
    const c = report === undefined ? undefined : this.creds.of(dev);
    if (report === undefined || c === undefined) return false;
    const first = this.steps.startReport(dev, report, this.preset.stateReport(c, report));
    if (first === undefined) return false;
    this.steps.markRetried(dev);
    this.onReportRetried(dev);
    this.requests.send(dev, OP_STATE, first, this.creds.authorization(dev));
    return true;
  }

  /** Telemetry over HTTP answered: a 2xx acknowledges it; anything else ends the device's "session" (it keeps the message). */
  private telemetryAnswered(dev: number, status: number): void {
    const s = this.steps;
    this.creds.answered(dev, status);
    if (status >= 200 && status < 300) s.parkedTelemetry[dev] = undefined;
    else if (s.parkedTelemetry[dev] !== undefined && !this.requests.fresh(dev, Parked.telemetry)) {
      // Refused for its credentials (an expired token): the same message goes again once renewed.
      return;
    }
    const token = s.telemetryToken[dev];
    s.telemetryToken[dev] = -1;
    s.parkedTelemetry[dev] = undefined;
    if (status >= 200 && status < 300) {
      if (s.telemetryQos[dev] === 1) this.events.onTelemetryAcked(dev, token);
      return;
    }
    if (!s.isOnline(dev)) return;
    s.setOnline(dev, false);
    this.events.onConnectionLost(dev, `telemetry answered ${status}`, LOST_PROTOCOL);
  }

  /**
   * Takes the credentials of a provisioning or renewal answer; returns the status to report
   * (BAD_RESPONSE for a 2xx whose body the preset cannot read: garbage, neither success nor 5xx;
   * REJECTED for one the preset recognises as the platform's refusal).
   * 202 is "accepted, pending an operator's approval" (manual provisioning): no credentials yet.
   */
  private credentialAnswer(dev: number, status: number, body: string, renewal: boolean): number {
    if (status < 200 || status >= 300 || status === 202) return status;
    const p = this.preset;
    const serial = this.creds.serial(dev) ?? '';
    const current = this.creds.of(dev);
    const c = renewal && p.decodeReauth && current ? p.decodeReauth(body, current) : p.decodeProvision(body, serial);
    if (!c) return p.provisionRefused?.(body) ? REJECTED : BAD_RESPONSE;
    this.creds.issue(dev, c);
    return status;
  }

  /** A renewal ended: the requests that waited for it leave now, or share its failure. */
  private reauthenticated(dev: number, status: number, retryAfterMs: number): void {
    const c = this.creds;
    const r = this.requests;
    c.endRenewal(dev);
    this.events.onReauthenticated?.(dev, status, retryAfterMs);
    const parked = c.parked[dev];
    c.parked[dev] = 0;
    const report = c.parkedReport.get(dev);
    const chunk = c.parkedChunk.get(dev);
    c.parkedReport.delete(dev);
    c.parkedChunk.delete(dev);
    const ok = status >= 200 && status < 300 && status !== 202;
    if (ok) {
      if (parked & Parked.connect) r.connect(dev);
      if (parked & Parked.poll) r.pollTarget(dev);
      if (report) r.reportState(dev, report);
      if (chunk) r.downloadChunk(dev, chunk.artifact, chunk.offset, chunk.length);
      const telemetry = this.steps.parkedTelemetry[dev];
      if (parked & Parked.telemetry && telemetry !== undefined) r.send(dev, OP_TELEMETRY, telemetry, c.authorization(dev));
      return;
    }
    if (parked & Parked.telemetry) {
      // The renewal failed: the message is not retried here (that would renew again at once); the session ends with it.
      this.steps.parkedTelemetry[dev] = undefined;
      this.telemetryAnswered(dev, status);
    }
    if (parked & Parked.connect) this.events.onConnected(dev, false, CONNACK_NOT_AUTHORIZED);
    if (parked & Parked.poll) this.events.onPolled(dev, status, retryAfterMs, NO_HINT);
    if (report) this.fleet?.onStateReported(dev, status, retryAfterMs);
    if (chunk) this.fleet?.onDownloadChunk(dev, status, 0, retryAfterMs);
  }

  private polled(dev: number, status: number, body: string, retryAfterMs: number, etag: string | undefined): void {
    if (this.steps.isUnchanged(status)) {
      this.events.onPolled(dev, POLL_UNCHANGED, retryAfterMs, NO_HINT);
      return;
    }
    if (status !== 200) {
      this.events.onPolled(dev, this.preset.unchangedStatuses?.includes(status) ? POLL_UNCHANGED : status, retryAfterMs, NO_HINT);
      return;
    }
    const t = this.preset.decodePoll(body, this.etags[dev]);
    if (t === undefined) {
      // Not a target state: the device keeps its ETag and acts on nothing.
      this.events.onPolled(dev, BAD_RESPONSE, retryAfterMs, NO_HINT);
      return;
    }
    const tag = t.etag ?? etag;
    if (tag !== undefined) this.etags[dev] = tag;
    if (t.follow !== undefined && this.preset.decodeFollow !== undefined) {
      // The answer points further (hawkBit's deploymentBase): the poll is answered after that GET.
      this.steps.pendingAnswer[dev] = t;
      this.requests.send(dev, OP_FOLLOW, t.follow, this.creds.authorization(dev));
      return;
    }
    this.deliver(dev, t, retryAfterMs);
  }

  private followed(dev: number, status: number, body: string, retryAfterMs: number): void {
    const first = this.steps.pendingAnswer[dev];
    this.steps.pendingAnswer[dev] = undefined;
    if (first === undefined) return;
    if (status !== 200) {
      // The follow-up failed: forget the ETag so the next poll reads the base again.
      this.etags[dev] = undefined;
      this.events.onPolled(dev, status, retryAfterMs, first.nextPollMs ?? NO_HINT);
      return;
    }
    const creds = this.creds.of(dev);
    const t = creds === undefined ? undefined : this.preset.decodeFollow!(body, creds);
    if (t === undefined) {
      this.etags[dev] = undefined;
      this.events.onPolled(dev, BAD_RESPONSE, retryAfterMs, NO_HINT);
      return;
    }
    this.deliver(dev, mergeAnswers(first, t), retryAfterMs);
  }

  /** A decoded answer to the device: the poll's outcome, then what it carries. */
  private deliver(dev: number, t: TargetAnswer, retryAfterMs: number): void {
    const auth = this.creds.authorization(dev);
    if (t.also !== undefined) for (const r of t.also) this.requests.send(dev, OP_ALSO, r, auth);
    if (t.remember !== undefined) this.creds.remember(dev, t.remember);
    this.events.onPolled(dev, t.changed ? POLL_CHANGED : POLL_UNCHANGED, retryAfterMs, t.nextPollMs ?? NO_HINT);
    if (t.withdrawn !== undefined) this.fleet?.onUpdateWithdrawn?.(dev, t.withdrawn);
    if (!t.changed) return;
    if (t.update) this.events.onUpdateOffered?.(dev, t.update, 'poll');
    if (t.config) this.events.onConfigChanged?.(dev, t.config, 'poll');
  }

  /**
   * What a device's own session subscribes to, in the order onConnect would subscribe after
   * CONNACK: poll answers, then fleet operations' commands. Sent with the CONNECT when
   * `subscribeWithConnect` (options.mqttPipelining); undefined when there is nothing to subscribe.
   */
  sessionTopics(dev: number): MqttSubscription[] | undefined {
    const subs: MqttSubscription[] = [];
    const x = this.mqttRequests;
    if (x !== undefined) for (const topic of x.pollTopics(dev)) subs.push({ topic, qos: 1 });
    const creds = this.creds.of(dev);
    if (this.fleet !== undefined && creds !== undefined) {
      const qos = this.preset.subscriptionQos ?? 1;
      for (const topic of this.preset.subscriptions(creds)) subs.push({ topic, qos });
    }
    return subs.length === 0 ? undefined : subs;
  }

  onConnect(dev: number, ok: boolean, code: number): void {
    const x = this.mqttRequests;
    if (x?.provisioning(dev)) return x.sessionUp(dev, ok, code);
    const withConnect = this.subscribeWithConnect;
    // Poll answers over MQTT: subscribed before anyone can ask.
    if (ok) x?.sessionSubscriptions(dev, withConnect);
    // Fleet operations arrive as commands: subscribe before the device's behaviours hear it is online.
    const creds = this.creds.of(dev);
    if (ok && !withConnect && this.fleet !== undefined && creds !== undefined) {
      for (const topic of this.preset.subscriptions(creds)) this.requests.subscribe(dev, topic, this.preset.subscriptionQos ?? 1);
    }
    // Subscribed: requests that waited for the session leave (their answers have somewhere to go).
    if (ok) x?.sessionReady(dev);
    if (!ok && (code === CONNACK_BAD_CREDENTIALS || code === CONNACK_NOT_AUTHORIZED)) this.creds.refusedByBroker(dev);
    this.events.onConnected(dev, ok, code);
  }

  onPublishAck(dev: number, token: number): void {
    if (this.mqttRequests?.acked(dev, token)) return;
    if (token >= FLEET_TOKEN_BASE) {
      this.fleet?.onFleetPublishAcked(dev, token - FLEET_TOKEN_BASE);
      return;
    }
    this.events.onTelemetryAcked(dev, token);
  }

  onPingResponse(dev: number): void {
    this.events.onPingResponse?.(dev);
  }

  onConnectionLost(dev: number, reason: string, cause: number): void {
    if (this.mqttRequests?.lost(dev)) return;
    this.events.onConnectionLost(dev, reason, cause);
  }

  onMessage(dev: number, topic: string, payload: Buffer): void {
    if (this.mqttRequests?.message(dev, topic, payload)) return;
    const m = this.preset.decodeMessage(topic, payload);
    if (m === undefined) return;
    if (m.kind === 'update') this.events.onUpdateOffered?.(dev, m.offer, 'push');
    else if (m.kind === 'config') this.events.onConfigChanged?.(dev, m.change, 'push');
    else this.events.onCommand?.(dev, m.command);
  }
}
