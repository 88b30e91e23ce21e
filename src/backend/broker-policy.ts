import { createHash, timingSafeEqual } from 'node:crypto';
import { TOPIC_ROOT, commandsTopic, telemetryTopic } from '../wire/reference-protocol.js';
import { logsTopic, responsesTopic } from '../wire/fleet-ops.js';
import type { DeviceRecord, DeviceStore } from './store.js';

/**
 * Who may do what on the embedded backend's MQTT broker, whichever broker carries the sessions
 * (broker-lean.ts or broker-aedes.ts): devices log in with username = deviceId and password =
 * deviceKey (any client id) and may publish and subscribe only under `fleet/<ownDeviceId>/`, never
 * with wildcards; the operator (when configured) may subscribe to anything and publish nothing.
 * Refusals are counted in the store (`refused`); telemetry is counted as it is authorised, before
 * the PUBACK is written, so "acked" always implies "counted".
 *
 * Concurrency: called from the event loop that owns the store.
 */

export interface OperatorCredential {
  username: string;
  password: string;
}

/** What the broker tells fleet operations (backend/fleet-ops.ts). */
export interface BrokerFleetOps {
  onSubscribed(rec: DeviceRecord): void;
  onResponse(rec: DeviceRecord, payload: Buffer): void;
  onLogs(payload: Buffer): void;
}

/** A logged-in session: a device's record, or OPERATOR. */
export type BrokerIdentity = DeviceRecord | typeof OPERATOR;
export const OPERATOR = 'operator' as const;

const ROOT_PREFIX = TOPIC_ROOT + '/';
/** `/telemetry`: the part of a telemetry topic after `fleet/<id>`. */
const TELEMETRY_SUFFIX = telemetryTopic('x').slice(ROOT_PREFIX.length + 1);
const RESPONSES_SUFFIX = responsesTopic('x').slice(ROOT_PREFIX.length + 2);
const LOGS_SUFFIX = logsTopic('x').slice(ROOT_PREFIX.length + 2);

/** True when `topic` is `fleet/<deviceId>/<something>`. Allocation-free: it runs on every publish. */
export function isOwnTopic(topic: string, deviceId: string): boolean {
  const idEnd = ROOT_PREFIX.length + deviceId.length;
  return (
    topic.length > idEnd + 1 &&
    topic.startsWith(ROOT_PREFIX) &&
    topic.startsWith(deviceId, ROOT_PREFIX.length) &&
    topic.charCodeAt(idEnd) === 0x2f /* / */
  );
}

function isTelemetryTopic(topic: string, deviceId: string): boolean {
  return topic.length === ROOT_PREFIX.length + deviceId.length + TELEMETRY_SUFFIX.length && topic.endsWith(TELEMETRY_SUFFIX);
}

/** Compares secrets in time independent of where they differ (hashing first evens out the lengths). */
function sameSecret(a: string, b: string): boolean {
  const h = (x: string) => createHash('sha256').update(x).digest();
  return timingSafeEqual(h(a), h(b));
}

export class BrokerPolicy {
  constructor(
    private readonly store: DeviceStore,
    private readonly operator: OperatorCredential | undefined,
    private readonly fleetOps: BrokerFleetOps | undefined,
  ) {}

  /** Who logs in with these credentials, or undefined (CONNACK 4). */
  login(username: string | undefined, password: string | undefined): BrokerIdentity | undefined {
    const op = this.operator;
    if (op !== undefined && username === op.username) return password !== undefined && sameSecret(password, op.password) ? OPERATOR : undefined;
    return username === undefined || password === undefined ? undefined : this.store.authenticate(username, password);
  }

  /**
   * Authorises a PUBLISH by `who` (undefined: no session, e.g. a will left behind) and counts it:
   * telemetry per device, command answers and logs to fleet operations. `payload` is read before
   * this returns. False: refused (and counted when a session sent it); the broker closes the session.
   */
  publish(who: BrokerIdentity | undefined, topic: string, payload: Buffer): boolean {
    if (who === undefined || who === OPERATOR || !isOwnTopic(topic, who.id)) {
      if (who !== undefined) this.store.refused.publishes++;
      return false;
    }
    if (isTelemetryTopic(topic, who.id)) this.store.countTelemetry(who, payload);
    else if (this.fleetOps) {
      const suffix = topic.slice(ROOT_PREFIX.length + who.id.length + 1);
      if (suffix === RESPONSES_SUFFIX) this.fleetOps.onResponse(who, payload);
      else if (suffix === LOGS_SUFFIX) this.fleetOps.onLogs(payload);
    }
    return true;
  }

  /** Authorises one subscription (a refusal is SUBACK 0x80 and is counted; the session stays). */
  subscribe(who: BrokerIdentity, topicFilter: string): boolean {
    if (who === OPERATOR) return true;
    const ok = !topicFilter.includes('#') && !topicFilter.includes('+') && isOwnTopic(topicFilter, who.id);
    if (!ok) this.store.refused.subscribes++;
    return ok;
  }

  /** After the SUBACK: a fresh subscription to the commands topic is when a device can be told what it missed. */
  subscribed(who: BrokerIdentity, topicFilter: string): void {
    if (who !== OPERATOR && this.fleetOps && topicFilter === commandsTopic(who.id)) this.fleetOps.onSubscribed(who);
  }
}
