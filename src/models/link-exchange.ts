/**
 * Every exchange other than telemetry over a device's modelled link: provisioning, MQTT connect,
 * keepalive pings, polls, state reports, download chunks, command replies, configuration acks and logs. One
 * place turns "a request of n bytes up, an answer of m bytes down, over this device's link" into
 * the time each direction takes and whether TCP gave up, with the same legs as telemetry
 * (models/tcp-transfer.ts: Gilbert–Elliott loss, netem latency, the link's rate, Linux's
 * retransmission timer).
 *
 * The chain is the link's second Gilbert–Elliott chain per device, on its own RNG stream
 * (Stream.linkRequests): adding exchanges never shifts telemetry's draws, as every model keeps its
 * own stream (docs/models.md, "Randomness and determinism"). The two chains have the same
 * parameters, so loss and bursts are alike, but a burst on one is not a burst on the other.
 */
import { Direction, LinkStates, type LinkParams } from './link.js';
import { Stream } from './rng.js';
import { MQTT_PINGREQ, MQTT_PINGRESP } from './wire-bytes.js';
import { steadyRtoMs, tcpGiveUpMs } from './tcp-retransmission.js';
import { bulkLeg, handshakeLeg, messageLeg, TRANSFER_GAVE_UP, TRANSFER_LOSSES } from './tcp-transfer.js';

export { TRANSFER_GAVE_UP, TRANSFER_LOSSES } from './tcp-transfer.js';

/** How an exchange uses TCP. */
export const Leg = {
  /** On a connection already open (keep-alive HTTP, the MQTT session). */
  open: 0,
  /** On a new connection: the three-way handshake first (provisioning, MQTT connect). */
  newConnection: 1,
  /** A bulk answer of many segments (a download chunk). */
  bulk: 2,
} as const;
export type LegKind = (typeof Leg)[keyof typeof Leg];

/**
 * Bytes on the wire of each exchange (application bytes, before TCP/IP framing; TLS not counted):
 * engineering defaults of the reference protocol's messages, of the order of its JSON bodies plus
 * HTTP/1.1 headers. Only their serialisation at the link's rate depends on them.
 */
export const EXCHANGE_BYTES = {
  provisionRequest: 400,
  provisionAnswer: 1_200,
  mqttConnect: 120,
  mqttConnack: 4,
  pollRequest: 250,
  pollAnswer: 400,
  stateRequest: 400,
  stateAnswer: 150,
  chunkRequest: 250,
  /** HTTP/1.1 headers of a 206 answer, before its body. */
  chunkAnswerHeaders: 300,
  /** A command reply, configuration ack or end-of-line report, and its PUBACK. */
  uplink: 200,
  puback: 4,
  /** A pushed offer, configuration or command. */
  push: 600,
  /** The keepalive's PINGREQ and PINGRESP: a fixed header alone (MQTT 3.1.1 §3.12, §3.13). */
  pingreq: MQTT_PINGREQ,
  pingresp: MQTT_PINGRESP,
} as const;

export class LinkExchange {
  /** Per link parameter set: the RTO of an open connection and the mean round trip, ms. */
  private readonly rtoMs: Float64Array;
  private readonly rttMs: Float64Array;
  private readonly giveUpMs: number;

  /** `params`: the sets `states` was built with (LinkStates.paramsOf indexes them). */
  constructor(
    readonly states: LinkStates,
    params: readonly LinkParams[],
  ) {
    // Established connections have an RTT sample: Linux's RTO from the settled round trip.
    this.rtoMs = Float64Array.from(params, (p) => steadyRtoMs(p, 0));
    this.rttMs = Float64Array.from(params, (p) => 2 * p.latency.delayMs);
    this.giveUpMs = tcpGiveUpMs();
  }

  /** A shard's exchanges over `params` (one set per fleet group, `groupOf` per device). */
  static of(count: number, seed: number, params: readonly LinkParams[], groupOf: ArrayLike<number>, firstDevice: number): LinkExchange {
    return new LinkExchange(new LinkStates(count, seed, params, groupOf, firstDevice, Stream.linkRequests), params);
  }

  /**
   * The request of `bytes` from `dev` to the backend: ms until it is there (the handshake first
   * for Leg.newConnection). `out` gets [TRANSFER_LOSSES, TRANSFER_GAVE_UP]; zeroed here.
   */
  up(dev: number, bytes: number, leg: LegKind, out: Float64Array): number {
    out[TRANSFER_LOSSES] = 0;
    out[TRANSFER_GAVE_UP] = 0;
    const s = this.states;
    const p = s.paramsOf[dev];
    let t = 0;
    if (leg === Leg.newConnection) {
      t = handshakeLeg(s, dev, out);
      if (out[TRANSFER_GAVE_UP] === 1) return t;
    }
    return t + messageLeg(s, dev, bytes, Direction.up, this.rtoMs[p], this.giveUpMs, out);
  }

  /** The answer of `bytes` to `dev`: ms until it is on the device (Leg.bulk: segment by segment). */
  down(dev: number, bytes: number, leg: LegKind, out: Float64Array): number {
    out[TRANSFER_LOSSES] = 0;
    out[TRANSFER_GAVE_UP] = 0;
    const p = this.states.paramsOf[dev];
    if (leg === Leg.bulk) return bulkLeg(this.states, dev, bytes, Direction.down, this.rttMs[p], this.rtoMs[p], this.giveUpMs, out);
    return messageLeg(this.states, dev, bytes, Direction.down, this.rtoMs[p], this.giveUpMs, out);
  }
}
