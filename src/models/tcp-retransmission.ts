/**
 * TCP's retransmission timer as Linux runs it, for the link model (fleet/link-shaper.ts): MQTT
 * runs over TCP, so a packet the link loses is sent again when the retransmission timeout (RTO)
 * expires, and the message arrives late rather than not at all, unless the connection times out.
 *
 * Sources (docs/models.md, "TCP retransmission", says the same for readers):
 * - RFC 6298 "Computing TCP's Retransmission Timer": SRTT and RTTVAR (§2.2, §2.3),
 *   RTO = SRTT + max(G, 4·RTTVAR) (§2.3), 1 s before any RTT measurement (§2.1), doubling on each
 *   expiry (§5.5), an upper bound of at least 60 s (§2.5), and no RTT samples from retransmitted
 *   segments (Karn's algorithm, §3).
 * - Linux, include/net/tcp.h: TCP_RTO_MIN = HZ/5 (200 ms), TCP_RTO_MAX = 120·HZ (120 s),
 *   TCP_TIMEOUT_INIT = 1·HZ ("RFC6298 2.1 initial RTO value"), used for the SYN; the first data
 *   RTO already has the handshake's RTT sample. `__tcp_set_rto` = srtt + rttvar, where
 *   net/ipv4/tcp_input.c `tcp_rtt_estimator` keeps rttvar (4·RTTVAR in RFC terms) at least
 *   tcp_rto_min: Linux puts its 200 ms floor on the variance term, not on the RTO as RFC 6298 §2.4
 *   puts its 1 s. net/ipv4/tcp_timer.c `tcp_retransmit_timer` doubles the RTO up to TCP_RTO_MAX
 *   and gives the connection up (ETIMEDOUT) once `tcp_retries2` (15) retransmissions' worth of
 *   time has passed, modelled from TCP_RTO_MIN (`tcp_model_timeout`): 924.6 s, the figure of
 *   Documentation/networking/ip-sysctl.rst.
 */
import type { JitterDistribution, LinkParams } from './link.js';
import { transferMs } from './link.js';

/** Linux TCP_RTO_MIN: the floor of the variance term of an established connection's RTO, ms. */
export const TCP_RTO_MIN_MS = 200;
/** Linux TCP_RTO_MAX: no RTO, backed off or not, exceeds this, ms. */
export const TCP_RTO_MAX_MS = 120_000;
/** RFC 6298 §2.1 / Linux TCP_TIMEOUT_INIT: the RTO before any RTT sample, i.e. the SYN's, ms. */
export const TCP_TIMEOUT_INIT_MS = 1_000;
/** Linux net.ipv4.tcp_retries2 default: retransmissions of data before the connection is given up. */
export const TCP_RETRIES2 = 15;
/** RFC 6298 §2.3: RTO = SRTT + max(G, K·RTTVAR). */
const K = 4;

/**
 * Linux `tcp_model_timeout`: how long `retries` retransmissions take when the RTO starts at
 * `rtoBaseMs` and doubles up to TCP_RTO_MAX; past it a connection with unacknowledged data is
 * given up. 924.6 s for the defaults (15 retries from 200 ms).
 */
export function tcpGiveUpMs(retries = TCP_RETRIES2, rtoBaseMs = TCP_RTO_MIN_MS): number {
  const linearFrom = Math.floor(Math.log2(TCP_RTO_MAX_MS / rtoBaseMs));
  if (retries <= linearFrom) return (2 ** (retries + 1) - 1) * rtoBaseMs;
  return (2 ** (linearFrom + 1) - 1) * rtoBaseMs + (retries - linearFrom) * TCP_RTO_MAX_MS;
}

/** Linux's RTO for an RTT estimate: SRTT + max(4·RTTVAR, TCP_RTO_MIN), at most TCP_RTO_MAX, ms. */
export function linuxRtoMs(srttMs: number, rttvarMs: number): number {
  return Math.min(TCP_RTO_MAX_MS, srttMs + Math.max(K * rttvarMs, TCP_RTO_MIN_MS));
}

/**
 * Mean absolute deviation of the sum of two independent one-way jitters (up and back), each
 * `jitterMs` times a standardised draw of `distribution`: what RTTVAR, an average of |SRTT − R|
 * (RFC 6298 §2.3), settles at on a steady link. Uniform ±a: the sum is triangular on ±2a, mean
 * deviation 2a/3. Normal σ: the sum is normal with sd σ√2, mean deviation σ√2·√(2/π) = 2σ/√π.
 * Pareto shapes have no closed form here: their standard deviation σ√2 is used, an upper bound
 * (a mean deviation never exceeds the standard deviation), so their RTO errs long. Clamping of
 * negative delays at 0 is ignored.
 */
export function rttMeanDeviationMs(jitterMs: number, distribution: JitterDistribution = 'normal'): number {
  switch (distribution) {
    case 'uniform':
      return (2 * jitterMs) / 3;
    case 'normal':
      return (2 * jitterMs) / Math.sqrt(Math.PI);
    case 'pareto':
    case 'paretonormal':
      return jitterMs * Math.SQRT2;
  }
}

/**
 * The RTO of an established connection over `link` carrying messages of `bytes`, once its RTT
 * estimator has settled (SRTT at the mean round trip: both one-way delays plus the message's
 * serialisation; RTTVAR at the round trip's mean deviation). Devices keep no estimator of their
 * own: every device on a link shares this value, which keeps the hot path to one lookup.
 */
export function steadyRtoMs(link: LinkParams, bytes: number): number {
  const srtt = 2 * link.latency.delayMs + transferMs(bytes, link.upBps);
  return linuxRtoMs(srtt, rttMeanDeviationMs(link.latency.jitterMs, link.latency.distribution));
}

/** The RTO after `expiries` expiries in a row: doubled each time (RFC 6298 §5.5), at most TCP_RTO_MAX. */
export function backedOffRtoMs(rtoMs: number, expiries: number): number {
  return Math.min(TCP_RTO_MAX_MS, rtoMs * 2 ** expiries);
}
