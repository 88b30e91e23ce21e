import { DeviceDeadlines } from './device-deadlines.js';
import { answerOf, answerStatus, topicUplink } from './mqtt-topic-answers.js';
import type { HttpRequestSpec, MqttUplink, Preset } from './preset.js';
import { CANCELLED, NET_RESET, NET_TIMEOUT } from './types.js';

/** Requests over reserved topics a device may have at once per op: ops (the wire driver's OP_*) are below this. */
export const TOPIC_OPS = 8;

/**
 * A preset's requests over reserved topics (`requestsOver: 'mqtt'`, AWS IoT): a request is a QoS 1
 * publish to its topic, its answer the next message on `<topic>/accepted` or `<topic>/rejected`
 * (drivers/mqtt-topic-answers.ts), reported as its HTTP twin's answer would be.
 *
 * - Several requests of one op may be out at once: state reports are fire-and-forget, so a device
 *   reports `downloaded`, `verifying`, `installing`, `rebooting` back to back. Each gets its own
 *   answer, in the order sent (the broker answers one session's requests on a topic in order);
 *   a request on another topic than the answers due on its op waits behind them, so an answer is
 *   never taken for another request's. (With one answer per op, the first answer took the slot
 *   and the others were dropped unseen: the device kept a stale job version.)
 * - A request without a session (a poll right after provisioning, before the device's own
 *   session is up; a report while reconnecting) waits for one, as an MQTT client queues a publish
 *   while offline; its deadline runs from now, so a session that does not come in time is a timeout.
 * - The session lost: answers due on it are resets. The device closing its own session (a reboot,
 *   the end of the run) cuts them off: CANCELLED, not the network's doing. What waits stays.
 *
 * Memory: per device and op, a topic, a count of answers due and a deadline entry (typed arrays);
 * a list only for requests that wait. Concurrency: the shard's one thread.
 */
export class TopicRequests {
  /** Per slot (dev * TOPIC_OPS + op): the topic whose answers are due, and how many. */
  private readonly topic: Array<string | undefined>;
  private readonly due: Uint16Array;
  /** Requests not sent yet (no session, or answers due on another topic), oldest first. */
  private readonly waiting: Array<HttpRequestSpec[] | undefined>;
  /** The slot's oldest request (due or waiting) against the timeout. */
  private readonly deadlines: DeviceDeadlines;
  private readonly busy: Uint8Array;

  constructor(
    devices: number,
    timeoutMs: number,
    private readonly preset: Preset,
    /** Publishes on the device's session (QoS 1); false without one. */
    private readonly publish: (dev: number, m: MqttUplink) => boolean,
    /** The answer of one request of `dev` on `op`: an HTTP status or pseudo-status, and the body. */
    private readonly answered: (dev: number, op: number, status: number, body: string) => void,
  ) {
    this.topic = new Array(devices * TOPIC_OPS);
    this.due = new Uint16Array(devices * TOPIC_OPS);
    this.waiting = new Array(devices * TOPIC_OPS);
    this.busy = new Uint8Array(devices * TOPIC_OPS);
    this.deadlines = new DeviceDeadlines(devices * TOPIC_OPS, timeoutMs, (i) => this.endSlot(i, NET_TIMEOUT));
  }

  /** Sends one request of `dev`, or keeps it until it can leave. */
  request(dev: number, op: number, r: HttpRequestSpec): void {
    const i = dev * TOPIC_OPS + op;
    if (this.busy[i] === 0) {
      this.busy[i] = 1;
      this.deadlines.add(i);
    }
    if (this.waiting[i] !== undefined || !this.send(dev, i, r)) (this.waiting[i] ??= []).push(r);
  }

  /** A message on the device's session: true when it answered a request of `dev`. */
  answer(dev: number, topic: string, payload: Buffer): boolean {
    const a = answerOf(topic);
    if (a === undefined) return false;
    for (let op = 0; op < TOPIC_OPS; op++) {
      const i = dev * TOPIC_OPS + op;
      if (this.due[i] === 0 || this.topic[i] !== a.request) continue;
      if (--this.due[i] === 0) this.topic[i] = undefined;
      const body = payload.toString('utf8');
      this.answered(dev, op, answerStatus(this.preset, a.accepted, body), body);
      // The answer may have sent the report's next request (queued behind what waits): both leave in order.
      this.drain(dev, i);
      this.settle(i);
      return true;
    }
    return false;
  }

  /** The device's own session is up and subscribed: what waited for it leaves. */
  sessionReady(dev: number): void {
    for (let op = 0; op < TOPIC_OPS; op++) this.drain(dev, dev * TOPIC_OPS + op);
  }

  /** The session was lost: each answer due on it is a reset; requests not sent keep waiting. */
  lost(dev: number): void {
    this.endDue(dev, NET_RESET);
  }

  /** The device closed its session: answers due on it are cut off (CANCELLED); requests not sent keep waiting. */
  disconnected(dev: number): void {
    this.endDue(dev, CANCELLED);
  }

  /** The driver closes: every request due or waiting is answered CANCELLED. */
  close(): void {
    this.deadlines.stop();
    for (let i = 0; i < this.busy.length; i++) if (this.busy[i] === 1) this.endSlot(i, CANCELLED);
  }

  /** Publishes `r` unless answers on another topic are due on its slot or there is no session; true when it left. */
  private send(dev: number, i: number, r: HttpRequestSpec): boolean {
    if (this.due[i] > 0 && this.topic[i] !== r.path) return false;
    if (!this.publish(dev, topicUplink(r))) return false;
    this.topic[i] = r.path;
    this.due[i]++;
    return true;
  }

  private drain(dev: number, i: number): void {
    const w = this.waiting[i];
    if (w === undefined) return;
    let n = 0;
    while (n < w.length && this.send(dev, i, w[n])) n++;
    if (n === w.length) this.waiting[i] = undefined;
    else if (n > 0) w.splice(0, n);
  }

  /** After an answer or a loss: the slot is idle, or its next request's deadline starts now. */
  private settle(i: number): void {
    if (this.busy[i] === 0) return;
    if (this.due[i] > 0 || this.waiting[i] !== undefined) return this.deadlines.add(i);
    this.busy[i] = 0;
    this.deadlines.remove(i);
  }

  private endDue(dev: number, status: number): void {
    for (let op = 0; op < TOPIC_OPS; op++) {
      const i = dev * TOPIC_OPS + op;
      const n = this.due[i];
      if (n === 0) continue;
      this.due[i] = 0;
      this.topic[i] = undefined;
      this.settle(i);
      for (let k = 0; k < n; k++) this.answered(dev, op, status, '');
    }
  }

  /** Ends every request of slot `i` (due and waiting) with `status`. */
  private endSlot(i: number, status: number): void {
    const n = this.due[i] + (this.waiting[i]?.length ?? 0);
    this.due[i] = 0;
    this.topic[i] = undefined;
    this.waiting[i] = undefined;
    this.settle(i);
    const dev = Math.floor(i / TOPIC_OPS);
    for (let k = 0; k < n; k++) this.answered(dev, i % TOPIC_OPS, status, '');
  }
}
