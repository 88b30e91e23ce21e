import { parseJsonObject } from '../../../wire/answer-shapes.js';
import type { AcmeState, Thing } from './state.js';

/**
 * The MQTT request/response API of the acme-things test backend (protocols/example-mqtt.yaml),
 * on top of its HTTP API:
 *
 *   provisioning session: username `provision`, password = the provisioning key, client id
 *   `prov-<serial>`; it may publish only acme/enroll/<serial>/req and subscribe only
 *   acme/enroll/<serial>/res/+.
 *     acme/enroll/<serial>/req  {rid, hardwareSerial, model}
 *       -> acme/enroll/<serial>/res/<rid>  {status: 201, thing: {id}, auth: {accessToken}}
 *          (a token that does not expire), or {status: 400, error} for a request it cannot read
 *   a thing's session (as in the HTTP API's MQTT side), besides:
 *     acme/<serial>/desired/get  {rid, have}
 *       -> acme/<serial>/desired  {rid, status: 200, revision, firmware, settings, …} or {rid, status: 304}
 *     acme/<serial>/report  {fw, phase, deployment, error, downloaded}: a state report
 *
 * `mode` lets tests make the backend misbehave per request kind: `silent` (never answers),
 * `refuse` (answers {status: 503, error}), `late` (answers after `lateMs`).
 */
export type ExchangeMode = 'answer' | 'silent' | 'refuse' | 'late';

export class AcmeMqttApi {
  mode: { provision: ExchangeMode; poll: ExchangeMode } = { provision: 'answer', poll: 'answer' };
  lateMs = 1500;
  /** Requests received, by kind (answered or not). */
  readonly requests = { provision: 0, poll: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly state: AcmeState,
    /** Publishes `body` as JSON on `topic` (QoS 1). */
    private readonly publish: (topic: string, body: unknown) => void,
  ) {}

  /** The serial a provisioning session may act for, when this CONNECT is one. */
  provisioner(clientId: string, username: string | undefined, password: string | undefined): string | undefined {
    if (username !== 'provision' || password !== this.state.provisioningKey || !clientId.startsWith('prov-')) return undefined;
    return clientId.slice('prov-'.length);
  }

  mayPublishAsProvisioner(serial: string, topic: string): boolean {
    return topic === `acme/enroll/${serial}/req`;
  }

  maySubscribeAsProvisioner(serial: string, topic: string): boolean {
    return topic === `acme/enroll/${serial}/res/+`;
  }

  /** Topics (after acme/<serial>/) a thing may publish on besides the HTTP protocol's. */
  static readonly THING_TOPICS: ReadonlySet<string> = new Set(['desired/get', 'report']);
  thingSubscription(t: Thing): string {
    return `acme/${t.serial}/desired`;
  }

  /** A provisioning request of `serial`. */
  enrol(serial: string, payload: string): void {
    this.requests.provision++;
    const b = parseJsonObject(payload);
    const rid = b && typeof b.rid === 'string' ? b.rid : undefined;
    if (rid === undefined) {
      this.state.malformedRequests++;
      return; // no id to answer on
    }
    const topic = `acme/enroll/${serial}/res/${rid}`;
    if (typeof b!.hardwareSerial !== 'string' || b!.hardwareSerial !== serial || typeof b!.model !== 'string') {
      this.state.malformedRequests++;
      return this.publish(topic, { status: 400, error: 'expected {rid, hardwareSerial: <your serial>, model}' });
    }
    this.answer(this.mode.provision, topic, () => {
      const t = this.state.enroll(serial, Date.now(), Infinity);
      return { status: 201, thing: { id: t.id }, auth: { accessToken: t.token } };
    });
  }

  /** A desired-state request of thing `t`. */
  desired(t: Thing, payload: string): void {
    this.requests.poll++;
    const b = parseJsonObject(payload);
    const topic = `acme/${t.serial}/desired`;
    if (b === undefined || typeof b.rid !== 'string' || typeof b.have !== 'string' || (b.have !== '' && !/^\d+$/.test(b.have))) {
      this.state.malformedRequests++;
      return this.publish(topic, { rid: b?.rid ?? null, status: 400, error: 'expected {rid: string, have: revision or ""}' });
    }
    const rid = b.rid;
    const have = b.have;
    this.answer(this.mode.poll, topic, () => {
      const doc = this.state.desired(t, have);
      return doc === null ? { rid, status: 304 } : { rid, status: 200, ...doc };
    }, rid);
  }

  report(t: Thing, payload: string): void {
    this.state.report(t, parseJsonObject(payload));
  }

  private answer(mode: ExchangeMode, topic: string, make: () => Record<string, unknown>, rid?: string): void {
    if (mode === 'silent') return;
    if (mode === 'refuse') return this.publish(topic, { ...(rid === undefined ? {} : { rid }), status: 503, error: 'try again later' });
    if (mode === 'answer') return this.publish(topic, make());
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.publish(topic, make());
    }, this.lateMs);
    this.timers.add(timer);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
