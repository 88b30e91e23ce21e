import { describe, expect, it } from 'vitest';
import { LinkShaper, TRANSIT_GAVE_UP, TRANSIT_LOSSES } from '../../src/fleet/link-shaper.js';
import { LOST, type LinkParams, type LinkStates, standardJitter } from '../../src/models/link.js';
import {
  backedOffRtoMs,
  linuxRtoMs,
  rttMeanDeviationMs,
  steadyRtoMs,
  TCP_RTO_MAX_MS,
  TCP_RTO_MIN_MS,
  TCP_TIMEOUT_INIT_MS,
  tcpGiveUpMs,
} from '../../src/models/tcp-retransmission.js';
import { LINK_TYPES } from '../../src/models/link-types.js';

/** Link states that hand out scripted one-way delays (LOST for a lost packet), one per transmit. */
function scripted(delays: number[]): LinkStates {
  let i = 0;
  return { paramsOf: new Uint8Array(1), count: 1, transmit: () => delays[i++] } as unknown as LinkStates;
}

describe('the RTO of an established connection (RFC 6298 §2.3, Linux tcp_rtt_estimator / __tcp_set_rto)', () => {
  it('is SRTT + 4·RTTVAR, with Linux’s 200 ms floor on the variance term and its 120 s cap', () => {
    expect(TCP_RTO_MIN_MS).toBe(200);
    expect(TCP_RTO_MAX_MS).toBe(120_000);
    // A 1 ms LAN round trip: 4·RTTVAR is tiny, the 200 ms floor decides.
    expect(linuxRtoMs(1, 0.1)).toBe(201);
    // A 600 ms GEO round trip with 20 ms of mean deviation: 600 + max(80, 200).
    expect(linuxRtoMs(600, 20)).toBe(800);
    // Variation above the floor: 100 + 4·75.
    expect(linuxRtoMs(100, 75)).toBe(400);
    expect(linuxRtoMs(200_000, 0)).toBe(TCP_RTO_MAX_MS);
  });

  it('settles at the mean round trip and its mean deviation (closed forms per jitter distribution)', () => {
    // Uniform ±a each way: the sum is triangular on ±2a, mean deviation 2a/3.
    expect(rttMeanDeviationMs(30, 'uniform')).toBeCloseTo(20, 12);
    // Normal σ each way: the sum has sd σ√2, mean deviation 2σ/√π.
    expect(rttMeanDeviationMs(10, 'normal')).toBeCloseTo(20 / Math.sqrt(Math.PI), 12);
    // Pareto: the standard deviation, an upper bound of the mean deviation.
    expect(rttMeanDeviationMs(10, 'pareto')).toBeCloseTo(10 * Math.SQRT2, 12);
  });

  it('the closed forms agree with the jitter the link model draws (midpoint quadrature over both uniforms)', () => {
    for (const dist of ['uniform', 'normal'] as const) {
      const n = 400;
      const one: number[] = [];
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j += 40) one.push(standardJitter(dist, (i + 0.5) / n, (j + 0.5) / n));
      // E|X + Y| for independent X, Y from the same draws.
      let sum = 0;
      let k = 0;
      for (let i = 0; i < one.length; i += 7) for (let j = 0; j < one.length; j += 11) {
        sum += Math.abs(one[i] + one[j]);
        k++;
      }
      expect(sum / k).toBeCloseTo(rttMeanDeviationMs(1, dist), 1);
    }
  });

  it('gives the built-in links the RTO Linux would settle at', () => {
    // Ethernet: 1 ms round trip, sd 0.1 ms each way: 1 ms + 200 ms (+ 8 µs to serialise 100 B).
    expect(steadyRtoMs(LINK_TYPES.ethernet, 100)).toBeCloseTo(201.008, 6);
    // NB-IoT: 11.6 s round trip, ±4.2 s uniform each way (mean deviation 2.8 s), 100 B at 26 kbit/s.
    expect(steadyRtoMs(LINK_TYPES['nb-iot'], 100)).toBeCloseTo(11_600 + (100 * 8000) / 26e3 + 4 * 2_800, 6);
  });

  it('keeps the 1 s initial RTO for the SYN only: no established link gets it by default', () => {
    expect(TCP_TIMEOUT_INIT_MS).toBe(1_000);
    expect(steadyRtoMs(LINK_TYPES.ethernet, 100)).toBeLessThan(TCP_TIMEOUT_INIT_MS);
    expect(steadyRtoMs(LINK_TYPES.wifi, 100)).toBeLessThan(TCP_TIMEOUT_INIT_MS);
  });
});

describe('backoff and giving up (RFC 6298 §5.5, Linux tcp_retransmit_timer / tcp_model_timeout)', () => {
  it('doubles the RTO on each expiry, up to 120 s', () => {
    expect([0, 1, 2, 3].map((k) => backedOffRtoMs(201, k))).toEqual([201, 402, 804, 1608]);
    expect(backedOffRtoMs(201, 10)).toBe(TCP_RTO_MAX_MS);
  });

  it('gives a connection up after tcp_retries2 = 15 retransmissions modelled from 200 ms: 924.6 s', () => {
    expect(tcpGiveUpMs()).toBe(924_600);
    // Below the cap the series is geometric: (2^(n+1) - 1) · 200 ms.
    expect(tcpGiveUpMs(3)).toBe(15 * 200);
    expect(tcpGiveUpMs(9)).toBe(1023 * 200);
  });

  it('the link retransmits after RTO, 2·RTO, ... and adds the waits to the transit', () => {
    const out = new Float64Array(2);
    // Two losses up, then the message (5 ms), then the ack (6 ms) on the first try.
    const shaper = new LinkShaper(scripted([LOST, LOST, 5, 6]), [201], tcpGiveUpMs());
    expect(shaper.transit(0, 100, out)).toBe(201 + 402 + 5 + 6);
    expect(out[TRANSIT_LOSSES]).toBe(2);
    expect(out[TRANSIT_GAVE_UP]).toBe(0);
  });

  it('a lost acknowledgement is retransmitted too, on its own timer', () => {
    const out = new Float64Array(2);
    const shaper = new LinkShaper(scripted([5, LOST, 6]), [201], tcpGiveUpMs());
    expect(shaper.transit(0, 100, out)).toBe(5 + 201 + 6);
    expect(out[TRANSIT_LOSSES]).toBe(1);
  });

  it('on a dead link TCP gives up after 16 sends (15 retransmissions), 925.6 s after the first', () => {
    const out = new Float64Array(2);
    const shaper = new LinkShaper(scripted(new Array(100).fill(LOST)), [201], tcpGiveUpMs());
    // 201 · (2^10 − 1) = 205,623 ms over ten doublings, then 120 s waits until 924.6 s have passed.
    expect(shaper.transit(0, 100, out)).toBe(205_623 + 6 * 120_000);
    expect(out[TRANSIT_LOSSES]).toBe(16);
    expect(out[TRANSIT_GAVE_UP]).toBe(1);
  });
});

it('a GEO satellite link gets its round trip plus the 200 ms floor', () => {
  const p: LinkParams = LINK_TYPES['satellite-geo'];
  // 600 ms round trip (+ 100 B at 256 kbit/s), sd 20 ms each way: 4·RTTVAR = 4·2·20/√π ≈ 90 ms < 200 ms.
  expect(steadyRtoMs(p, 100)).toBeCloseTo(600 + (100 * 8000) / 256e3 + 200, 6);
});
