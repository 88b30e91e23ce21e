import { describe, expect, it } from 'vitest';
import { Direction, gilbertElliottFromNetem, LinkStates, type LinkParams } from '../../src/models/link.js';
import { Leg, LinkExchange, TRANSFER_GAVE_UP, TRANSFER_LOSSES } from '../../src/models/link-exchange.js';
import { bulkLeg, DUPACK_THRESHOLD, MSS_BYTES, TCP_SYN_RETRIES, tcpSynGiveUpMs } from '../../src/models/tcp-transfer.js';
import { steadyRtoMs, tcpGiveUpMs } from '../../src/models/tcp-retransmission.js';
import { Stream } from '../../src/models/rng.js';

/** A link with Bernoulli loss q (netem `loss q`: always in the good state), uniform jitter. */
function bernoulli(q: number, delayMs: number, jitterMs: number, bps: number): LinkParams {
  return { latency: { delayMs, jitterMs, distribution: 'uniform' }, loss: gilbertElliottFromNetem(0, 1, q, q), upBps: bps, downBps: bps };
}

/** Mean and the half-width of its 99% confidence interval (normal approximation, z = 2.576). */
function meanCi(xs: Float64Array): { mean: number; half: number } {
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  let v = 0;
  for (const x of xs) v += (x - mean) ** 2;
  return { mean, half: (2.576 * Math.sqrt(v / (xs.length - 1))) / Math.sqrt(xs.length) };
}

describe('a download chunk over a lossy link (models/tcp-transfer.ts bulkLeg)', () => {
  // NB-IoT-like: 5.8 s ± 4.2 s one way (uniform, so the mean one-way latency is exactly 5.8 s),
  // 26 kbit/s; a 64 KiB chunk is 45 segments and takes 20.2 s to serialise.
  const D = 5_800;
  const R = 26_000;
  const b = 64 * 1024;
  const S = Math.ceil(b / MSS_BYTES);
  const N = 20_000;

  /** Draws of the chunk's time, one device each (independent streams). */
  function draws(q: number): Float64Array {
    const link = bernoulli(q, D, 4_200, R);
    const ex = new LinkExchange(new LinkStates(N, 7, [link], undefined, 0, Stream.linkRequests), [link]);
    const out = new Float64Array(2);
    const t = new Float64Array(N);
    for (let dev = 0; dev < N; dev++) t[dev] = ex.down(dev, b, Leg.bulk, out);
    return t;
  }

  it('over a lossless link takes the latency plus b·8/R, never less than b·8/R', () => {
    const t = draws(0);
    const floor = (b * 8000) / R;
    let min = Infinity;
    for (const x of t) min = Math.min(min, x);
    expect(min).toBeGreaterThanOrEqual(floor);
    const { mean, half } = meanCi(t);
    expect(Math.abs(mean - (D + floor))).toBeLessThan(half);
  });

  it('with loss q takes, on average, the closed form of RTO backoff and fast retransmit, within the 99% CI of 20,000 draws', () => {
    const q = 0.02;
    const link = bernoulli(q, D, 4_200, R);
    const rto = steadyRtoMs(link, 0); // 11.6 s + 4·2.8 s = 22.8 s
    const rtt = 2 * D;
    // E[T] = D + 8b/R                               latency and serialisation
    //      + RTO·q/(1−2q)                           the first segment (retransmitted on its timer)
    //      + (S−1−3)·q·(RTT + RTO·q/(1−2q))         segments with ≥ 3 behind them: fast retransmit
    //      + 3·q·RTO/(1−2q)                         the last 3: no duplicate ACKs, the timer
    const g = q / (1 - 2 * q);
    const expected = D + (b * 8000) / R + rto * g + (S - 1 - DUPACK_THRESHOLD) * q * (rtt + rto * g) + DUPACK_THRESHOLD * q * (rto / (1 - 2 * q));
    const { mean, half } = meanCi(draws(q));
    expect(Math.abs(mean - expected)).toBeLessThan(half);
    // and visibly slower than without loss (about 37.8 s against 26 s)
    expect(mean).toBeGreaterThan(D + (b * 8000) / R + 5_000);
  });

  it('counts its lost packets and gives up only after the whole give-up time', () => {
    const link: LinkParams = { ...bernoulli(0, 10, 0, 1e6), loss: gilbertElliottFromNetem(0, 1, 1, 1) };
    const states = new LinkStates(1, 1, [link]);
    const out = new Float64Array(2);
    const t = bulkLeg(states, 0, 10 * MSS_BYTES, Direction.down, 20, 300, tcpGiveUpMs(), out);
    expect(out[TRANSFER_GAVE_UP]).toBe(1);
    expect(t).toBeGreaterThanOrEqual(tcpGiveUpMs());
    expect(out[TRANSFER_LOSSES]).toBeGreaterThan(5);
  });
});

describe('a connect or provisioning request under loss (three-way handshake, Leg.newConnection)', () => {
  it('succeeds with probability 1 − (1 − (1−q)²)^(retries+1) within the 99% CI, and fails at 127 s', () => {
    expect(tcpSynGiveUpMs()).toBe(127_000); // 1 + 2 + 4 + ... + 64 s (Linux tcp_syn_retries = 6)
    const q = 0.5;
    const N = 20_000;
    const link = bernoulli(q, 50, 10, 1e6);
    const ex = new LinkExchange(new LinkStates(N, 11, [link], undefined, 0, Stream.linkRequests), [link]);
    const out = new Float64Array(2);
    let ok = 0;
    for (let dev = 0; dev < N; dev++) {
      const t = ex.up(dev, 400, Leg.newConnection, out);
      if (out[TRANSFER_GAVE_UP] === 0) ok++;
      else expect(t).toBe(127_000);
    }
    const p = 1 - (1 - (1 - q) ** 2) ** (TCP_SYN_RETRIES + 1); // 0.866
    const half = 2.576 * Math.sqrt((p * (1 - p)) / N);
    expect(Math.abs(ok / N - p)).toBeLessThan(half);
  });

  it('on a lossless link takes the handshake and the request: three one-way latencies', () => {
    const link = bernoulli(0, 100, 0, 1e9);
    const ex = new LinkExchange(new LinkStates(1, 3, [link], undefined, 0, Stream.linkRequests), [link]);
    const out = new Float64Array(2);
    expect(ex.up(0, 0, Leg.newConnection, out)).toBeCloseTo(300, 9);
    expect(ex.up(0, 0, Leg.open, out)).toBeCloseTo(100, 9);
  });
});

describe('the link’s two chains', () => {
  it('exchanges draw from their own stream: telemetry’s draws are those of a link without them', () => {
    const link = bernoulli(0.1, 100, 50, 1e6);
    const a = new LinkStates(4, 5, [link]);
    const b = new LinkStates(4, 5, [link]);
    const ex = new LinkExchange(new LinkStates(4, 5, [link], undefined, 0, Stream.linkRequests), [link]);
    const out = new Float64Array(2);
    for (let i = 0; i < 50; i++) {
      ex.up(i % 4, 300, Leg.newConnection, out);
      expect(a.transmit(i % 4, 100, Direction.up)).toBe(b.transmit(i % 4, 100, Direction.up));
    }
  });
});
