import type { DeviceStateReport, OfferedArtifact } from './events.js';
import type { DeviceCredentials, Preset } from './preset.js';
import type { ClientIdentity } from './types.js';

/** Requests a device may have waiting while its credentials are renewed (bits of `parked`). */
export const Parked = { connect: 1, poll: 2, state: 4, chunk: 8, telemetry: 16 } as const;

/**
 * The wire driver's per-device credentials, what depends only on them (authorization header,
 * telemetry topic) computed once per issue instead of once per request, and the renewal state of
 * presets whose credentials expire or get refused (`Preset.reauthStatuses`, `expiresAtMs`).
 *
 * While a device's credentials are being renewed, its requests wait here (at most one of each
 * kind: a device polls one at a time, and the OTA behaviour has one chunk and one report out at
 * most); the renewal's end sends them, or answers them with its failure, so every operation still
 * ends in exactly one callback. Sparse arrays indexed by the shard-local device.
 *
 * Concurrency: the shard's thread only, like the driver.
 */
export class DeviceCredentialTable {
  private readonly creds: Array<DeviceCredentials | undefined>;
  private readonly auth: Array<string | undefined>;
  private readonly topics: Array<string | undefined>;
  private readonly serials: Array<string | undefined>;
  /**
   * The client certificate the credentials carry (Preset.clientIdentity), one object per issue:
   * the device's TLS context is kept by identity (drivers/mqtt/broker-address.ts), so its
   * reconnects reuse it instead of parsing the PEM again, and it goes with the credentials.
   */
  private readonly identities: Array<ClientIdentity | undefined>;
  /** 1: refused (a re-authenticate status) or expired: renew before the next request. */
  private readonly stale: Uint8Array;
  /** 1: a renewal is in flight. */
  private readonly renewing: Uint8Array;
  /** Parked.* bits of requests waiting for the renewal. */
  readonly parked: Uint8Array;
  readonly parkedReport: Array<DeviceStateReport | undefined>;
  readonly parkedChunk: Array<{ artifact: OfferedArtifact; offset: number; length: number } | undefined>;
  private readonly reauth: ReadonlySet<number>;

  constructor(
    private readonly preset: Preset,
    devices: number,
  ) {
    this.creds = new Array(devices);
    this.auth = new Array(devices);
    this.topics = new Array(devices);
    this.serials = new Array(devices);
    this.identities = new Array(devices);
    this.stale = new Uint8Array(devices);
    this.renewing = new Uint8Array(devices);
    this.parked = new Uint8Array(devices);
    this.parkedReport = new Array(devices);
    this.parkedChunk = new Array(devices);
    this.reauth = new Set(preset.reauthStatuses ?? []);
  }

  of(dev: number): DeviceCredentials | undefined {
    return this.creds[dev];
  }
  authorization(dev: number): string | undefined {
    return this.auth[dev];
  }
  telemetryTopic(dev: number): string | undefined {
    return this.topics[dev];
  }
  /** The client certificate of the credentials, when they carry one. */
  identity(dev: number): ClientIdentity | undefined {
    return this.identities[dev];
  }
  serial(dev: number): string | undefined {
    return this.serials[dev];
  }
  rememberSerial(dev: number, serial: string): void {
    this.serials[dev] = serial;
  }

  /** New credentials (provisioned or renewed). */
  issue(dev: number, c: DeviceCredentials): void {
    this.creds[dev] = c;
    this.auth[dev] = this.preset.authorization(c);
    this.topics[dev] = this.preset.telemetryTopic(c);
    this.identities[dev] = this.preset.clientIdentity?.(c);
    this.stale[dev] = 0;
  }

  /** Keeps `values` in the credentials' extra (what an answer told the device to send back later). */
  remember(dev: number, values: Readonly<Record<string, string>>): void {
    const c = this.creds[dev];
    if (c !== undefined) this.creds[dev] = { ...c, extra: { ...c.extra, ...values } };
  }

  /** An answer of a device route: a re-authenticate status makes the credentials stale. */
  answered(dev: number, status: number): void {
    if (this.reauth.size > 0 && this.reauth.has(status)) this.stale[dev] = 1;
  }

  /** The broker refused the credentials (CONNACK 4 or 5): renew them when the preset can. */
  refusedByBroker(dev: number): void {
    if (this.reauth.size > 0) this.stale[dev] = 1;
  }

  /** True when the device's credentials must be renewed before its next request (`nowMs`: epoch ms). */
  needsRenewal(dev: number, nowMs: number): boolean {
    if (this.stale[dev] === 1) return true;
    const exp = this.creds[dev]?.expiresAtMs;
    return exp !== undefined && nowMs >= exp;
  }

  /** Marks a renewal started; false when one is already in flight. */
  startRenewal(dev: number): boolean {
    if (this.renewing[dev] === 1) return false;
    this.renewing[dev] = 1;
    return true;
  }

  endRenewal(dev: number): void {
    this.renewing[dev] = 0;
  }
}
