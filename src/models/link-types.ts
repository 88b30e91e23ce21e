/**
 * Built-in link types with the figures of MODELS.md. Every field carries its source; where MODELS.md
 * gives no number, the value is marked "assumed" or "engineering default" and a profile or scenario
 * that relies on it should say so.
 *
 * Latency is one way (netem `delay` applies to one direction); RTT figures are halved.
 * Names match KNOWN_LINKS in profiles/builtin.ts (LTE Cat-4 is 'lte-cat4'), so a scenario's `link:` finds
 * its entry here.
 * Connect time is the network attach / association before the first packet (not TCP or TLS), drawn
 * uniformly in [min, max].
 */
import { gilbertElliottFromNetem, type LinkParams, LOSSLESS } from './link.js';

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
      latency: 'MODELS.md: sub-ms (0.5 ms ± 0.1 ms engineering default)',
      rate: 'assumed: 100BASE-TX',
      loss: 'MODELS.md: loss ~0 (engineering default)',
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
      latency: 'MODELS.md: a few ms (engineering default)',
      rate: 'assumed: 10 Mbit/s effective',
      loss: 'MODELS.md: bursty GE loss (engineering default values)',
      connect: 'ESP32 datasheet via MODELS.md: 0.2 s optimised to ~3 s with DHCP',
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
      latency: 'MODELS.md: LTE Cat-4 tens of ms (engineering default)',
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
      latency: 'MODELS.md: 10–15 ms (3GPP); up to 6.2 s in extreme coverage (not modelled here)',
      rate: 'MODELS.md: ~1 Mbit/s peak, ~300 kbit/s effective (assumed)',
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
      latency: 'MODELS.md: 1.6–10 s (uniform over that range)',
      rate: 'MODELS.md: 26 kbit/s DL (uplink assumed equal); 264 bit/s measured at the cell edge (Ugwuanyi et al. 2021)',
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
      latency: 'MODELS.md: seconds; 1 s is LoRaWAN RECEIVE_DELAY1 (assumed ±0.5 s)',
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
      latency: 'MODELS.md: ~600 ms RTT (300 ms one way; jitter assumed)',
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
      latency: 'MODELS.md: 20–60 ms RTT (10–30 ms one way)',
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
