/**
 * How long data takes to cross a modelled link over TCP, and whether TCP gives up first: one
 * message (a segment retransmitted on its timer), a connection's three-way handshake, and a bulk
 * transfer of many segments (a download chunk). Telemetry (fleet/link-shaper.ts) and every other
 * exchange (models/link-exchange.ts) use these same legs, so a lossy link slows them alike.
 *
 * Sources (docs/models.md, "TCP retransmission" and "Requests, sessions and downloads"):
 * - RFC 6298: the retransmission timer, its doubling (§5.5) and 1 s before an RTT sample (§2.1),
 *   which is the SYN's timeout; Linux `tcp_syn_retries` = 6 SYN retransmissions, so a connect
 *   attempt is abandoned after 1 + 2 + ... + 64 = 127 s (Documentation/networking/ip-sysctl.rst).
 * - RFC 5681 §3.2: a segment lost with at least three segments behind it is recovered by fast
 *   retransmit (three duplicate ACKs) after about one round trip; one lost near the end of the
 *   data has no duplicate ACKs behind it and waits for the retransmission timer.
 *
 * All functions write their losses and a give-up flag into `out` ([TRANSFER_LOSSES],
 * [TRANSFER_GAVE_UP]), which the caller zeroes: no allocation per call.
 */
import { Direction, LOST, transferMs, type DirectionId, type LinkStates } from './link.js';
import { TCP_RTO_MAX_MS, TCP_TIMEOUT_INIT_MS } from './tcp-retransmission.js';
import { IPV4_HEADER, MTU, TCP_HEADER } from './wire-bytes.js';

/** `out` slots: packets lost on the way; 1 when TCP gave the connection (or the attempt) up. */
export const TRANSFER_LOSSES = 0;
export const TRANSFER_GAVE_UP = 1;

/** Linux net.ipv4.tcp_syn_retries default: SYN retransmissions before a connect attempt fails. */
export const TCP_SYN_RETRIES = 6;
/** RFC 5681 §3.2: duplicate ACKs that trigger a fast retransmit. */
export const DUPACK_THRESHOLD = 3;
/** Bytes of payload per segment on a 1,500-byte MTU path (IPv4, no TCP options): 1,460. */
export const MSS_BYTES = MTU - IPV4_HEADER - TCP_HEADER;

/** When a connect attempt is abandoned: the SYN's timer from 1 s, doubled after each of `retries` retransmissions (127 s for 6). */
export function tcpSynGiveUpMs(retries = TCP_SYN_RETRIES): number {
  let total = 0;
  for (let i = 0, rto = TCP_TIMEOUT_INIT_MS; i <= retries; i++, rto = Math.min(2 * rto, TCP_RTO_MAX_MS)) total += rto;
  return total;
}

/**
 * One message of `bytes` in direction `dir`: sent, and sent again each time the retransmission
 * timer expires (the timeout doubles, up to TCP_RTO_MAX) until a copy arrives; its time, or the
 * time at which `giveUpMs` of waiting made TCP abandon the connection (Linux `tcp_write_timeout`).
 */
export function messageLeg(states: LinkStates, dev: number, bytes: number, dir: DirectionId, rtoMs: number, giveUpMs: number, out: Float64Array): number {
  let waited = 0;
  let rto = rtoMs;
  for (;;) {
    const delay = states.transmit(dev, bytes, dir);
    if (delay !== LOST) return waited + delay;
    out[TRANSFER_LOSSES]++;
    waited += rto;
    if (waited >= giveUpMs) {
      out[TRANSFER_GAVE_UP] = 1;
      return waited;
    }
    rto = Math.min(2 * rto, TCP_RTO_MAX_MS);
  }
}

/**
 * TCP's three-way handshake: the SYN up and the SYN-ACK back. An attempt lost either way is
 * repeated when the SYN's timer expires (1 s, doubling); after TCP_SYN_RETRIES retransmissions the
 * connect fails (127 s). The server's own SYN-ACK retransmissions are not modelled: a lost SYN-ACK
 * costs what a lost SYN does. The final ACK rides with the first data.
 */
export function handshakeLeg(states: LinkStates, dev: number, out: Float64Array, retries = TCP_SYN_RETRIES): number {
  let waited = 0;
  let rto = TCP_TIMEOUT_INIT_MS;
  for (let attempt = 0; ; attempt++) {
    const up = states.transmit(dev, 0, Direction.up);
    if (up !== LOST) {
      const down = states.transmit(dev, 0, Direction.down);
      if (down !== LOST) return waited + up + down;
    }
    out[TRANSFER_LOSSES]++;
    waited += rto;
    if (attempt === retries) {
      out[TRANSFER_GAVE_UP] = 1;
      return waited;
    }
    rto = Math.min(2 * rto, TCP_RTO_MAX_MS);
  }
}

/**
 * A retransmitted segment's recovery, once the first copy is known lost: the copy leaves after
 * `firstWaitMs` and, when it is lost too, the timer (from `rtoMs`, doubling) sends another.
 */
function recover(states: LinkStates, dev: number, firstWaitMs: number, rtoMs: number, giveUpMs: number, out: Float64Array): number {
  let waited = firstWaitMs;
  let rto = rtoMs;
  for (;;) {
    if (waited >= giveUpMs) {
      out[TRANSFER_GAVE_UP] = 1;
      return waited;
    }
    if (!states.lose(dev)) return waited;
    out[TRANSFER_LOSSES]++;
    waited += rto;
    rto = Math.min(2 * rto, TCP_RTO_MAX_MS);
  }
}

/**
 * A bulk transfer of `bytes` in direction `dir` (a download chunk): one one-way latency, the
 * serialisation of every byte at the link's rate (so never faster than bytes·8/rate), and for each
 * of its ceil(bytes / MSS) segments that the link loses, a recovery: one round trip `rttMs` by
 * fast retransmit when at least DUPACK_THRESHOLD segments follow it, else the retransmission
 * timeout `rtoMs` (RFC 5681 §3.2); a retransmission lost again waits for the doubling timer.
 * Recoveries add up (the transfer stalls on each): the window's halving after a loss and its
 * regrowth are not modelled beyond that one round trip. A lossless link draws nothing per segment.
 */
export function bulkLeg(states: LinkStates, dev: number, bytes: number, dir: DirectionId, rttMs: number, rtoMs: number, giveUpMs: number, out: Float64Array): number {
  // The first segment's fate and the latency of the transfer (serialisation of all of its bytes).
  let t = messageLeg(states, dev, bytes, dir, rtoMs, giveUpMs, out);
  if (out[TRANSFER_GAVE_UP] === 1) return t;
  const link = states.paramsFor(dev);
  if (link.loss.k === 1 && (link.loss.h === 1 || link.loss.p === 0)) return t;
  const segments = Math.ceil(bytes / MSS_BYTES);
  for (let i = 1; i < segments; i++) {
    if (!states.lose(dev)) continue;
    out[TRANSFER_LOSSES]++;
    const fast = segments - 1 - i >= DUPACK_THRESHOLD;
    t += fast ? recover(states, dev, rttMs, rtoMs, giveUpMs, out) : recover(states, dev, rtoMs, Math.min(2 * rtoMs, TCP_RTO_MAX_MS), giveUpMs, out);
    if (out[TRANSFER_GAVE_UP] === 1) return t;
  }
  return t;
}

/** The serialisation floor of `bytes` on `dev`'s link in `dir`, ms: no transfer is faster. */
export function serialisationMs(states: LinkStates, dev: number, bytes: number, dir: DirectionId): number {
  const link = states.paramsFor(dev);
  return transferMs(bytes, dir === Direction.up ? link.upBps : link.downBps);
}
