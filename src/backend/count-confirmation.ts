import { encodePublishQos0, encodeSubscribe } from '../wire/mqtt-client-frames.js';

/**
 * How the broker counter (backend/broker-counter.ts) knows its count of one broker is complete,
 * or says why it is not. A broker acknowledges a publish before it forwards it, and Mosquitto
 * drops what it cannot queue for a slow subscriber (max_queued_messages, max_queued_bytes: the
 * counter's socket backs up, its queue fills) without telling anyone but its $SYS tree. Counted
 * as if exact, such a count blamed the devices or the backend for messages that reached the
 * broker. So, once the devices stopped:
 * - markers: the counter publishes to a topic it subscribes to; a marker comes back behind
 *   everything the broker had queued for it, so then those have been counted or dropped;
 * - drops: a broker fleetsim started publishes $SYS every second, and its count of dropped
 *   messages, read after the markers, says how many the count misses;
 * - sessions: a counting session lost during the run missed what the broker delivered meanwhile.
 *
 * Concurrency: the backend's event loop; one confirm() at a time per broker.
 */

/**
 * Markers travel on a topic of the counter's own, outside the fleet's (`fleet/…`), so a backend or
 * tap watching the fleet never sees them: `fleetsim/counter/<client id>`. A local Mosquitto's ACL
 * lets the counter write there (engine/target-tls.ts). Mosquitto sends everything for one client
 * through one queue, whatever the subscription, so a marker still comes back behind the telemetry.
 */
export const MARKER_TOPICS = 'fleetsim/counter/#';
const MARKER_ROOT = 'fleetsim/counter/';
/** How long settle() waits for every broker to confirm its count (the old quiet wait's bound). */
export const CONFIRM_DEADLINE_MS = 10_000;
/** A marker goes out again this often until one comes back: at QoS 0 a full queue drops it too. */
const MARKER_REPEAT_MS = 250;
/**
 * Mosquitto's count of the messages it dropped for want of queue room (for any subscriber: on a
 * broker fleetsim starts, the devices and this counter), and its uptime, both published every
 * sys_interval (1 s on brokers fleetsim starts, drivers/mqtt/local-mosquitto.ts): a live uptime
 * marks a $SYS cycle.
 */
export const SYS_DROPPED = '$SYS/broker/publish/messages/dropped';
export const SYS_UPTIME = '$SYS/broker/uptime';
/** SUBSCRIBE packet ids of the two $SYS topics and the markers' (the telemetry subscription is 1). */
const SYS_DROPPED_ID = 2;
const SYS_UPTIME_ID = 3;
const MARKER_SUBSCRIBE_ID = 4;
/** `$`: the first byte of a $SYS topic. */
export const DOLLAR = 0x24;

/** What settle() could confirm about the count (summary/accounting.ts BackendCounts: uncounted, unconfirmed). */
export interface CountCheck {
  /** Messages the brokers said they dropped on their way to subscribers ($SYS), the counter's among them: they reached the broker, the count misses them. */
  dropped: number;
  /** One sentence per broker whose count could not be confirmed complete, with why; empty: every count confirmed. */
  unconfirmed: string[];
}

/** One broker's confirmation, for CountCheck. */
export interface BrokerCheck {
  broker: string;
  /** Undefined: the broker's drops could not be read. */
  dropped?: number;
  unconfirmed: string[];
}

/** The counting session a confirmation works through. */
export interface CountingSession {
  readonly clientId: string;
  /** `host:port`, without credentials: it ends up in reports. */
  readonly broker: string;
  /** Whether the broker publishes $SYS every second (one fleetsim started). */
  readonly sysDrops: boolean;
  /** Writes a frame on the subscribed session; false when there is none right now. */
  send(frame: Buffer): boolean;
}

/** One broker's markers, $SYS drop count and lost sessions. */
export class CountConfirmation {
  /** Subscribed sessions the broker or the network ended. */
  sessionsLost = 0;
  private markersSent = 0;
  private markerBack = 0;
  /** Markers that came back: the others the broker dropped like telemetry, and counted among its drops. */
  private markersSeen = 0;
  private markerRefused = false;
  /** The broker's $SYS count of dropped messages as last heard (undefined: never), whether a live uptime came since asked, and whether $SYS was refused. */
  private sysDropped: number | undefined;
  private sysTick = false;
  private sysRefused = false;
  /** Called when a marker or a $SYS message arrives, for until()'s wait. */
  private wake: (() => void) | undefined;
  private readonly markerTopic: string;
  private readonly markerTopicBytes: Buffer;

  constructor(private readonly session: CountingSession) {
    this.markerTopic = MARKER_ROOT + session.clientId;
    this.markerTopicBytes = Buffer.from(this.markerTopic, 'utf8');
  }

  /** The SUBSCRIBE to this session's markers, sent with the telemetry's at each session's start. */
  subscription(): Buffer {
    return encodeSubscribe(MARKER_SUBSCRIBE_ID, this.markerTopic, 0);
  }

  /** True when the topic `buf[start, end)` is this session's markers'. */
  isMarker(buf: Buffer, start: number, end: number): boolean {
    const t = this.markerTopicBytes;
    return end - start === t.length && buf.compare(t, 0, t.length, start, end) === 0;
  }

  /** A marker came back: its number. */
  onMarker(text: string): void {
    const n = Number(text);
    if (Number.isInteger(n)) {
      this.markerBack = Math.max(this.markerBack, n);
      this.markersSeen++;
    }
    this.wake?.();
  }

  /** A $SYS PUBLISH frame's body `buf[start, end)`: the drop count, or the uptime whose live updates mark the broker's $SYS cycle. */
  onSys(header: number, buf: Buffer, start: number, end: number): void {
    const topicEnd = start + 2 + ((buf[start] << 8) | buf[start + 1]);
    const topic = buf.toString('latin1', start + 2, topicEnd);
    const payload = buf.toString('latin1', topicEnd + ((header & 0x06) !== 0 ? 2 : 0), end);
    if (topic === SYS_DROPPED && payload !== '' && Number.isFinite(Number(payload))) this.sysDropped = Number(payload);
    else if (topic === SYS_UPTIME && (header & 0x01) === 0) this.sysTick = true; // a retained one is from an earlier cycle
    this.wake?.();
  }

  /** The SUBACK of a marker or $SYS subscription (`packetId`). */
  onSubscribed(packetId: number, refused: boolean): void {
    if (refused && packetId === MARKER_SUBSCRIBE_ID) this.markerRefused = true;
    else if (refused) this.sysRefused = true;
    this.wake?.();
  }

  /**
   * Confirms this broker's count up to now. Two markers in turn: the first comes back behind
   * everything the broker had queued for the counter; the second, published once the first is
   * back, is read by the broker in a later pass of its event loop than any device data that was
   * already waiting when the first arrived (one pass reads ready sockets in no set order). Then,
   * when the broker publishes $SYS: subscribe to its drop count (the retained value comes at
   * once), wait for a live uptime (a $SYS cycle that began after every drop), and a marker behind
   * that cycle, so the cycle's drop count has arrived too.
   */
  async confirm(deadline: number, withinMs: number): Promise<BrokerCheck> {
    const broker = this.session.broker;
    const unconfirmed: string[] = [];
    const lost = this.sessionsLost;
    if (lost > 0) unconfirmed.push(`the counting session was lost ${lost} time${lost === 1 ? '' : 's'}, and what the broker delivered until it was back was not counted`);
    if (!(await this.marker(deadline)) || !(await this.marker(deadline))) {
      const why = this.markerRefused ? `the broker refused the counter's marker subscription (${MARKER_ROOT}…)` : `the counter's marker did not come back within ${withinMs / 1000} s`;
      unconfirmed.push(`${why}, so messages may still have been on their way to it`);
      return { broker, unconfirmed };
    }
    if (!this.session.sysDrops) {
      unconfirmed.push("the broker's count of the messages it dropped for slow subscribers cannot be read (a broker fleetsim did not start), so a count its queue limits cut short would not show");
      return { broker, unconfirmed };
    }
    this.sysTick = false;
    this.sysRefused = false;
    const asked = this.session.send(encodeSubscribe(SYS_DROPPED_ID, SYS_DROPPED, 0)) && this.session.send(encodeSubscribe(SYS_UPTIME_ID, SYS_UPTIME, 0));
    if (!asked || !(await this.until(() => this.sysTick || this.sysRefused, deadline)) || this.sysRefused || !(await this.marker(deadline))) {
      unconfirmed.push(`the broker's $SYS count of dropped messages did not arrive (${this.sysRefused ? 'subscription refused' : asked ? 'not within the deadline' : 'no session'}), so messages its queue limits dropped would not show`);
      return { broker, unconfirmed };
    }
    // Every marker sent has come back or was dropped by now (the last one came back behind them).
    const markersDropped = this.markersSent - this.markersSeen;
    return { broker, dropped: Math.max(0, (this.sysDropped ?? 0) - markersDropped), unconfirmed };
  }

  /**
   * Publishes a marker, and another every MARKER_REPEAT_MS, until the latest one sent comes back
   * (then every earlier one came back or was dropped), or the deadline.
   */
  private async marker(deadline: number): Promise<boolean> {
    const first = this.markersSent + 1;
    while (Date.now() < deadline && !this.markerRefused) {
      if (this.session.send(encodePublishQos0(this.markerTopic, String(this.markersSent + 1)))) this.markersSent++;
      const latest = this.markersSent; // below `first`: none sent yet in this call (no session)
      if (await this.until(() => (latest >= first && this.markerBack >= latest) || this.markerRefused, Math.min(deadline, Date.now() + MARKER_REPEAT_MS))) return !this.markerRefused;
    }
    return false;
  }

  /** Resolves true as soon as `cond` holds (checked when a marker or $SYS message arrives), false at `by` if it does not. */
  private until(cond: () => boolean, by: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(ok);
      };
      const timer = setTimeout(() => done(cond()), Math.max(0, by - Date.now()));
      if (cond()) done(true);
      else this.wake = () => void (cond() && done(true));
    });
  }
}
