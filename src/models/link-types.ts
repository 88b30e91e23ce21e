/**
 * Built-in link types and their figures (docs/models.md explains the model; `fleetsim links` prints
 * them). Every field carries its source; where no source gives a number, the value is marked
 * "assumed" or "engineering default" and a profile or scenario that relies on it should say so.
 *
 * Latency is one way (netem `delay` applies to one direction); RTT figures are halved.
 * LINK_TYPE_NAMES is the one list of link names: what a scenario's `link:` and a profile's
 * `links:` may name (LTE Cat-4 is 'lte-cat4').
 * Connect time is the network attach / association before the first packet (not TCP or TLS), drawn
 * uniformly in [min, max].
 */
import { gilbertElliottFromNetem, type LinkParams, LOSSLESS, meanBurstLength, meanLoss } from './link.js';
import { steadyRtoMs } from './tcp-retransmission.js';

export interface LinkType extends LinkParams {
  readonly name: LinkTypeName;
  readonly connectMs: { readonly min: number; readonly max: number };
  readonly source: {
    readonly latency: string;
    readonly rate: string;
    readonly loss: string;
    readonly connect: string;
  };
}

export const LINK_TYPE_NAMES = [
  'ethernet',
  'wifi',
  'lte-cat4',
  'lte-m',
  'nb-iot',
  'lorawan',
  'satellite-geo',
  'satellite-leo',
] as const;
export type LinkTypeName = (typeof LINK_TYPE_NAMES)[number];

const ASSUMED_LOSS = 'assumed: bursty Gilbert–Elliott loss, no measurement behind it';

export const LINK_TYPES: Readonly<Record<LinkTypeName, LinkType>> = {
  ethernet: {
    name: 'ethernet',
    latency: { delayMs: 0.5, jitterMs: 0.1, distribution: 'normal' },
    loss: LOSSLESS,
    upBps: 100e6,
    downBps: 100e6,
    connectMs: { min: 50, max: 500 },
    source: {
      latency: 'switched LAN: sub-millisecond (0.5 ms ± 0.1 ms engineering default)',
      rate: 'assumed: 100BASE-TX',
      loss: 'wired LAN: loss ~0 (engineering default)',
      connect: 'assumed',
    },
  },
  wifi: {
    name: 'wifi',
    latency: { delayMs: 3, jitterMs: 2, distribution: 'normal' },
    // netem: loss gemodel 0.5% 25% 50% 0.1% -> mean loss ≈ 1.1%, mean burst 4 packets
    loss: gilbertElliottFromNetem(0.005, 0.25, 0.5, 0.001),
    upBps: 10e6,
    downBps: 10e6,
    connectMs: { min: 200, max: 3000 },
    source: {
      latency: 'WLAN: a few ms one way (engineering default)',
      rate: 'assumed: 10 Mbit/s effective',
      loss: 'bursty Gilbert–Elliott loss, netem gemodel 0.5% 25% 50% 0.1% (engineering default values)',
      connect: 'Espressif ESP32 Wi-Fi: ~0.2 s reconnect with a cached AP and static IP, ~3 s with scan and DHCP (assumed range)',
    },
  },
  'lte-cat4': {
    name: 'lte-cat4',
    latency: { delayMs: 40, jitterMs: 10, distribution: 'normal' },
    loss: gilbertElliottFromNetem(0.001, 0.3, 0.3, 0),
    upBps: 5e6,
    downBps: 20e6,
    connectMs: { min: 1000, max: 3000 },
    source: {
      latency: 'LTE (3GPP Cat-4): tens of ms one way (engineering default)',
      rate: 'assumed: 20/5 Mbit/s effective (Cat-4 peak is 150/50 Mbit/s)',
      loss: ASSUMED_LOSS,
      connect: 'assumed',
    },
  },
  'lte-m': {
    name: 'lte-m',
    latency: { delayMs: 12.5, jitterMs: 2.5, distribution: 'uniform' },
    loss: gilbertElliottFromNetem(0.002, 0.3, 0.3, 0),
    upBps: 300e3,
    downBps: 300e3,
    connectMs: { min: 1000, max: 5000 },
    source: {
      latency: 'GSMA LTE-M/NB-IoT comparison: 10–15 ms; up to 6.2 s in extreme coverage (3GPP TR 45.820 evaluation; not modelled here)',
      rate: '3GPP Cat-M1: ~1 Mbit/s peak; ~300 kbit/s effective (assumed)',
      loss: ASSUMED_LOSS,
      connect: 'assumed',
    },
  },
  'nb-iot': {
    name: 'nb-iot',
    latency: { delayMs: 5800, jitterMs: 4200, distribution: 'uniform' },
    loss: gilbertElliottFromNetem(0.005, 0.3, 0.3, 0.001),
    upBps: 26e3,
    downBps: 26e3,
    connectMs: { min: 2000, max: 10000 },
    source: {
      latency: 'GSMA LTE-M/NB-IoT comparison: 1.6–10 s (3GPP TR 45.820 targets ≤ 10 s); uniform over that range (assumed)',
      rate: '3GPP Rel-13 Cat-NB1: 26 kbit/s DL peak (uplink assumed equal); 264 bit/s measured at the cell edge (Ugwuanyi, Paul, Irvine, Electronics 10:2224, 2021)',
      loss: ASSUMED_LOSS,
      connect: 'assumed',
    },
  },
  lorawan: {
    name: 'lorawan',
    latency: { delayMs: 1000, jitterMs: 500, distribution: 'uniform' },
    loss: gilbertElliottFromNetem(0.01, 0.5, 0.5, 0.01),
    // SF7/BW125/CR4/5 raw bit rate SF * BW / 2^SF * 4/5; the duty cycle (lorawan.ts) is the real limit.
    upBps: 5469,
    downBps: 5469,
    connectMs: { min: 5000, max: 6000 },
    source: {
      latency: 'LoRaWAN: seconds; 1 s is RECEIVE_DELAY1 (LoRaWAN Regional Parameters; ±0.5 s assumed)',
      rate: 'Semtech AN1200.13: SF7 BW125 CR4/5 raw bit rate; EU868 1% duty cycle applies on top (lorawan.ts)',
      loss: ASSUMED_LOSS,
      connect: 'LoRaWAN 1.0 JOIN_ACCEPT_DELAY1/2 = 5 s/6 s; one OTAA join attempt assumed',
    },
  },
  'satellite-geo': {
    name: 'satellite-geo',
    latency: { delayMs: 300, jitterMs: 20, distribution: 'normal' },
    loss: gilbertElliottFromNetem(0.001, 0.2, 0.5, 0.001),
    upBps: 256e3,
    downBps: 2e6,
    connectMs: { min: 5000, max: 30000 },
    source: {
      latency: 'GEO geometry: 2 × 35,786 km / c ≈ 240–280 ms one way, ~600 ms RTT with processing (RFC 2488); jitter assumed',
      rate: 'assumed',
      loss: ASSUMED_LOSS,
      connect: 'assumed',
    },
  },
  'satellite-leo': {
    name: 'satellite-leo',
    latency: { delayMs: 20, jitterMs: 10, distribution: 'uniform' },
    loss: gilbertElliottFromNetem(0.002, 0.2, 0.5, 0.001),
    upBps: 10e6,
    downBps: 50e6,
    connectMs: { min: 2000, max: 10000 },
    source: {
      latency: 'LEO (500–1,200 km orbits): 20–60 ms RTT, 10–30 ms one way (assumed)',
      rate: 'assumed',
      loss: ASSUMED_LOSS,
      connect: 'assumed',
    },
  },
};

export function isLinkTypeName(name: string): name is LinkTypeName {
  return (LINK_TYPE_NAMES as readonly string[]).includes(name);
}

/** A connect time drawn uniformly in the link's range from a uniform u in [0, 1). */
export function connectTimeMs(link: LinkType, u: number): number {
  return link.connectMs.min + u * (link.connectMs.max - link.connectMs.min);
}

/** One row of `fleetsim links` and of docs/models.md's link table: the figures a link model runs with. */
export interface LinkFigures {
  name: LinkTypeName;
  /** One-way delay and jitter, ms; jitter is the half-width for uniform, the standard deviation otherwise. */
  delayMs: number;
  jitterMs: number;
  jitterDistribution: string;
  upBps: number;
  downBps: number;
  /** netem `loss gemodel p r 1-h 1-k`, as fractions. */
  gemodel: [p: number, r: number, oneMinusH: number, oneMinusK: number];
  /** Long-run packet loss and mean length of a bad period, packets. */
  meanLoss: number;
  meanBurstPackets: number;
  connectMs: { min: number; max: number };
  /**
   * TCP's retransmission timeout on an established connection over this link once its RTT
   * estimate has settled (models/tcp-retransmission.ts), ms; a message's serialisation time
   * (bytes·8 / up rate) adds to it.
   */
  rtoMs: number;
  source: LinkType['source'];
}

export function linkFigures(t: LinkType): LinkFigures {
  const ge = t.loss;
  return {
    name: t.name,
    delayMs: t.latency.delayMs,
    jitterMs: t.latency.jitterMs,
    jitterDistribution: t.latency.distribution ?? 'normal',
    upBps: t.upBps,
    downBps: t.downBps,
    gemodel: [ge.p, ge.r, 1 - ge.h, 1 - ge.k],
    meanLoss: meanLoss(ge.p, ge.r, ge.h, ge.k),
    meanBurstPackets: ge.r > 0 ? meanBurstLength(ge.r) : Infinity,
    connectMs: { ...t.connectMs },
    rtoMs: steadyRtoMs(t, 0),
    source: t.source,
  };
}
