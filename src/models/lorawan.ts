/**
 * LoRa airtime (Semtech AN1200.13) and the LoRaWAN limits that follow from it:
 * - EU868 duty cycle: after a frame of airtime ToA the device stays silent for ToA/dc − ToA
 *   (1%: 99 × ToA), i.e. the next frame may start dc⁻¹ × ToA after this one started. One band per device
 *   (EU868 has sub-bands with their own budgets; a device hopping over them is not modelled).
 * - TTN fair use: 30 s of uplink airtime and 10 downlinks per device per day. Days are fixed 24-hour
 *   buckets of virtual time (TTN's policy is a rolling 24 h; the bucket is the simpler, slightly more
 *   permissive reading).
 *
 * Concurrency: the gates belong to one shard; calls for one device come in nondecreasing time.
 */

export interface LoRaParams {
  /** Spreading factor 6..12. */
  readonly sf: number;
  /** Bandwidth in Hz (125 000 in EU868 for SF7–SF12). */
  readonly bandwidthHz: number;
  /** Coding rate index 1..4 for 4/5..4/8. */
  readonly codingRate: number;
  readonly preambleSymbols: number;
  /** Explicit PHY header (LoRaWAN uplinks: yes). */
  readonly explicitHeader: boolean;
  /** Payload CRC (LoRaWAN uplinks: yes; downlinks: no). */
  readonly crc: boolean;
  /** Low data rate optimisation; default: on when a symbol lasts more than 16 ms (SX1276 datasheet). */
  readonly lowDataRateOptimize?: boolean;
}

/** LoRaWAN uplink defaults: BW125, CR4/5, 8-symbol preamble, explicit header, CRC on. */
export function loraParams(sf: number, overrides: Partial<LoRaParams> = {}): LoRaParams {
  return { sf, bandwidthHz: 125_000, codingRate: 1, preambleSymbols: 8, explicitHeader: true, crc: true, ...overrides };
}

/** Symbol time, ms. */
export function symbolMs(p: LoRaParams): number {
  return (Math.pow(2, p.sf) / p.bandwidthHz) * 1000;
}

/**
 * Time on air of a PHY payload of `payloadBytes` (LoRaWAN frame = application payload + 13 bytes of
 * MAC overhead), ms:
 *   T_preamble = (n_preamble + 4.25) T_sym
 *   n_payload  = 8 + max(ceil((8PL − 4SF + 28 + 16CRC − 20IH) / (4(SF − 2DE))) (CR + 4), 0)
 */
export function loraAirtimeMs(payloadBytes: number, p: LoRaParams): number {
  const tSym = symbolMs(p);
  const de = (p.lowDataRateOptimize ?? tSym > 16) ? 1 : 0;
  const ih = p.explicitHeader ? 0 : 1;
  const crc = p.crc ? 1 : 0;
  const num = 8 * payloadBytes - 4 * p.sf + 28 + 16 * crc - 20 * ih;
  const symbols = 8 + Math.max(Math.ceil(num / (4 * (p.sf - 2 * de))) * (p.codingRate + 4), 0);
  return (p.preambleSymbols + 4.25) * tSym + symbols * tSym;
}

/** LoRaWAN MAC overhead per data frame: MHDR 1 + DevAddr 4 + FCtrl 1 + FCnt 2 + FPort 1 + MIC 4. */
export const LORAWAN_OVERHEAD_BYTES = 13;

/**
 * EU868 maximum application payload by spreading factor at BW125 (repeater-compatible N):
 * 51 B at SF12–SF10, 115 B at SF9, 222 B at SF8–SF7 (LoRaWAN Regional Parameters; docs/models.md: 51–222 B).
 */
export function eu868MaxAppPayload(sf: number): number {
  return sf >= 10 ? 51 : sf === 9 ? 115 : 222;
}

export const EU868_DUTY_CYCLE = 0.01;
/** TTN fair use: uplink airtime per device per day, ms. */
export const TTN_UPLINK_AIRTIME_MS_PER_DAY = 30_000;
/** TTN fair use: downlinks per device per day. */
export const TTN_DOWNLINKS_PER_DAY = 10;

/** Silence required after a frame: ToA/dc − ToA. */
export function offTimeMs(airtimeMs: number, dutyCycle = EU868_DUTY_CYCLE): number {
  return airtimeMs / dutyCycle - airtimeMs;
}

/** Per-device duty-cycle gate. */
export class DutyCycleGate {
  /** Earliest start of each device's next frame, ms. */
  readonly nextAllowedMs: Float64Array;

  constructor(
    readonly count: number,
    readonly dutyCycle = EU868_DUTY_CYCLE,
  ) {
    if (!(dutyCycle > 0 && dutyCycle <= 1)) throw new RangeError('DutyCycleGate: duty cycle must be in (0, 1]');
    this.nextAllowedMs = new Float64Array(count).fill(-Infinity);
  }

  /** Earliest time at or after `nowMs` that `dev` may start a frame. */
  earliestSendMs(dev: number, nowMs: number): number {
    const next = this.nextAllowedMs[dev];
    return next > nowMs ? next : nowMs;
  }

  /** Books a frame of `airtimeMs` at the earliest allowed time at or after `nowMs`; returns its start. */
  reserve(dev: number, nowMs: number, airtimeMs: number): number {
    const start = this.earliestSendMs(dev, nowMs);
    this.nextAllowedMs[dev] = start + airtimeMs / this.dutyCycle;
    return start;
  }
}

const DAY_MS = 86_400_000;

/** Per-device TTN fair-use counters over fixed days of virtual time. */
export class FairUse {
  readonly uplinkAirtimeMs: Float64Array;
  readonly downlinks: Uint16Array;
  /** Day index the counters belong to. */
  readonly day: Float64Array;
  /** Frames sent over budget (the policy is not enforced by the network; this counts violations). */
  readonly overBudget: Float64Array;

  constructor(
    readonly count: number,
    readonly uplinkBudgetMs = TTN_UPLINK_AIRTIME_MS_PER_DAY,
    readonly downlinkBudget = TTN_DOWNLINKS_PER_DAY,
  ) {
    this.uplinkAirtimeMs = new Float64Array(count);
    this.downlinks = new Uint16Array(count);
    this.day = new Float64Array(count);
    this.overBudget = new Float64Array(count);
  }

  private roll(dev: number, nowMs: number): void {
    const d = Math.floor(nowMs / DAY_MS);
    if (d !== this.day[dev]) {
      this.day[dev] = d;
      this.uplinkAirtimeMs[dev] = 0;
      this.downlinks[dev] = 0;
    }
  }

  uplinkAllowed(dev: number, nowMs: number, airtimeMs: number): boolean {
    this.roll(dev, nowMs);
    return this.uplinkAirtimeMs[dev] + airtimeMs <= this.uplinkBudgetMs;
  }

  recordUplink(dev: number, nowMs: number, airtimeMs: number): void {
    if (!this.uplinkAllowed(dev, nowMs, airtimeMs)) this.overBudget[dev]++;
    this.uplinkAirtimeMs[dev] += airtimeMs;
  }

  downlinkAllowed(dev: number, nowMs: number): boolean {
    this.roll(dev, nowMs);
    return this.downlinks[dev] < this.downlinkBudget;
  }

  recordDownlink(dev: number, nowMs: number): void {
    if (!this.downlinkAllowed(dev, nowMs)) this.overBudget[dev]++;
    if (this.downlinks[dev] < 0xffff) this.downlinks[dev]++;
  }
}

/**
 * Lower bound on moving `bytes` over LoRaWAN in frames of at most `appPayloadBytes` under a duty cycle:
 * every frame but the last is followed by its off-time, so duration ≥ (airtime − ToA_last) / dc + ToA_last.
 * (1 MiB at SF7 in 222 B frames: 4724 frames, ≥ 48 h; docs/models.md.)
 */
export function bulkTransferLowerBound(
  bytes: number,
  appPayloadBytes: number,
  p: LoRaParams,
  dutyCycle = EU868_DUTY_CYCLE,
): { frames: number; airtimeMs: number; minDurationMs: number } {
  const full = Math.floor(bytes / appPayloadBytes);
  const rest = bytes - full * appPayloadBytes;
  const fullToA = loraAirtimeMs(appPayloadBytes + LORAWAN_OVERHEAD_BYTES, p);
  const lastToA = rest > 0 ? loraAirtimeMs(rest + LORAWAN_OVERHEAD_BYTES, p) : fullToA;
  const frames = full + (rest > 0 ? 1 : 0);
  if (frames === 0) return { frames: 0, airtimeMs: 0, minDurationMs: 0 };
  const airtimeMs = full * fullToA + (rest > 0 ? lastToA : 0);
  return { frames, airtimeMs, minDurationMs: (airtimeMs - lastToA) / dutyCycle + lastToA };
}
