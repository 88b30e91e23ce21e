import type { DeviceStateReport, OfferedArtifact } from './events.js';
import type { DeviceCredentials, Preset } from './preset.js';
import type { ClientIdentity } from './types.js';
import { StringArena } from '../collections/string-arena.js';

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
 * ends in exactly one callback. Indexed by the shard-local device.
 *
 * Memory: at 19,000 devices per shard process the credentials were ~0.39 KiB of heap per device
 * (bench/RESULTS.md, "Credentials in bytes"): each string its own heap object, the serial, topic
 * and authorization chains of 32-byte cons cells, a credentials object and seven holey arrays.
 * Now a serial `<prefix>-<n>` is kept as n, the device id and secret (and other serials) are
 * UTF-8 bytes in StringArenas, and the credentials object is made again when asked for (a poll,
 * a report, a CONNECT: each already builds a request); only
 * the telemetry topic, read per message, stays a string (one flat string, not a cons chain). The
 * authorization is made per HTTP request. Credentials the arena cannot keep exactly (an `extra`,
 * a value with UTF-16 surrogates or over 64 KiB) are kept as the preset returned them.
 *
 * Concurrency: the shard's thread only, like the driver.
 */
export class DeviceCredentialTable {
  /** Device id (field 0) and secret (field 1) of credentials kept as bytes (held 1). */
  private readonly ids: StringArena;
  /** The serial each device was provisioned with (hasSerial 1). */
  private readonly serials: StringArena;
  /**
   * Serials of the form `<prefix>-<n>` (what fleet/provisioning.ts makes: the run's name and the
   * device's index) share the first one's prefix and keep only n (hasSerial 2).
   */
  private serialPrefix: string | undefined;
  private readonly serialNumbers: Uint32Array;
  /** 0: no credentials, 1: in `ids` (+ `expires`), 2: in `kept` as issued. */
  private readonly held: Uint8Array;
  /** 0: no serial, 1: in `serials`, 2: serialPrefix + serialNumbers, 3: in `keptSerials`. */
  private readonly hasSerial: Uint8Array;
  /** expiresAtMs of credentials in `ids` (NaN: none); made with the first expiring credentials. */
  private expires: Float64Array | undefined;
  /** Credentials kept as issued (held 2), and serials the arena cannot keep. */
  private readonly kept = new Map<number, DeviceCredentials>();
  private readonly keptSerials = new Map<number, string>();
  /** Telemetry topics, read per message: one flat string per device with credentials. */
  private readonly topics: Array<string | undefined>;
  /**
   * The client certificate the credentials carry (Preset.clientIdentity), one object per issue:
   * the device's TLS context is kept by identity (drivers/mqtt/broker-address.ts), so its
   * reconnects reuse it instead of parsing the PEM again, and it goes with the credentials.
   * A Map: only presets whose credentials carry certificates fill it.
   */
  private readonly identities = new Map<number, ClientIdentity>();
  /** 1: refused (a re-authenticate status) or expired: renew before the next request. */
  private readonly stale: Uint8Array;
  /** 1: a renewal is in flight. */
  private readonly renewing: Uint8Array;
  /** Parked.* bits of requests waiting for the renewal. */
  readonly parked: Uint8Array;
  /** The report and chunk request parked with Parked.state and Parked.chunk (Maps: parking is rare). */
  readonly parkedReport = new Map<number, DeviceStateReport>();
  readonly parkedChunk = new Map<number, { artifact: OfferedArtifact; offset: number; length: number }>();
  private readonly reauth: ReadonlySet<number>;

  constructor(
    private readonly preset: Preset,
    private readonly devices: number,
  ) {
    this.ids = new StringArena(devices, 2);
    this.serials = new StringArena(devices, 1);
    this.held = new Uint8Array(devices);
    this.hasSerial = new Uint8Array(devices);
    this.serialNumbers = new Uint32Array(devices);
    this.topics = new Array(devices);
    this.stale = new Uint8Array(devices);
    this.renewing = new Uint8Array(devices);
    this.parked = new Uint8Array(devices);
    this.reauth = new Set(preset.reauthStatuses ?? []);
  }

  /** The device's credentials: a new object for credentials kept as bytes (equal to the issued ones, not the same object). */
  of(dev: number): DeviceCredentials | undefined {
    const held = this.held[dev];
    if (held === 0) return undefined;
    if (held === 2) return this.kept.get(dev);
    const expiresAtMs = this.expires?.[dev];
    const deviceId = this.ids.get(dev, 0);
    const secret = this.ids.get(dev, 1);
    return expiresAtMs === undefined || expiresAtMs !== expiresAtMs ? { deviceId, secret } : { deviceId, secret, expiresAtMs };
  }
  /** The Authorization header of the device's HTTP requests, made per request. */
  authorization(dev: number): string | undefined {
    const c = this.of(dev);
    return c === undefined ? undefined : this.preset.authorization(c);
  }
  telemetryTopic(dev: number): string | undefined {
    return this.topics[dev];
  }
  /** The client certificate of the credentials, when they carry one. */
  identity(dev: number): ClientIdentity | undefined {
    return this.identities.get(dev);
  }
  serial(dev: number): string | undefined {
    switch (this.hasSerial[dev]) {
      case 1:
        return this.serials.get(dev, 0);
      case 2:
        return this.serialPrefix! + this.serialNumbers[dev];
      case 3:
        return this.keptSerials.get(dev);
      default:
        return undefined;
    }
  }
  rememberSerial(dev: number, serial: string): void {
    this.serials.clear(dev);
    this.keptSerials.delete(dev);
    const cut = serial.lastIndexOf('-') + 1;
    const digits = serial.slice(cut);
    const n = Number(digits);
    if (cut > 0 && n <= 0xffffffff && String(n) === digits) {
      // String(n) === digits: a plain decimal without sign, leading zero or exponent, so n gives it back.
      this.serialPrefix ??= serial.slice(0, cut);
      if (serial.startsWith(this.serialPrefix) && cut === this.serialPrefix.length) {
        this.serialNumbers[dev] = n;
        this.hasSerial[dev] = 2;
        return;
      }
    }
    if (StringArena.fits(serial)) {
      this.serials.set(dev, [serial]);
      this.hasSerial[dev] = 1;
    } else {
      this.keptSerials.set(dev, serial);
      this.hasSerial[dev] = 3;
    }
  }

  /** New credentials (provisioned or renewed): they replace the device's previous ones entirely. */
  issue(dev: number, c: DeviceCredentials): void {
    this.kept.delete(dev);
    this.ids.clear(dev);
    if (c.extra === undefined && StringArena.fits(c.deviceId) && StringArena.fits(c.secret)) {
      this.ids.set(dev, [c.deviceId, c.secret]);
      if (c.expiresAtMs !== undefined) this.expires ??= new Float64Array(this.devices).fill(Number.NaN);
      if (this.expires !== undefined) this.expires[dev] = c.expiresAtMs ?? Number.NaN;
      this.held[dev] = 1;
    } else {
      this.kept.set(dev, c);
      this.held[dev] = 2;
    }
    this.topics[dev] = flat(this.preset.telemetryTopic(c));
    const identity = this.preset.clientIdentity?.(c);
    if (identity === undefined) this.identities.delete(dev);
    else this.identities.set(dev, identity);
    this.stale[dev] = 0;
  }

  /** Keeps `values` in the credentials' extra (what an answer told the device to send back later). */
  remember(dev: number, values: Readonly<Record<string, string>>): void {
    const c = this.of(dev);
    if (c === undefined) return;
    // Kept as an object from now on (an `extra` is not kept as bytes); the derived values stay.
    this.kept.set(dev, { ...c, extra: { ...c.extra, ...values } });
    this.ids.clear(dev);
    this.held[dev] = 2;
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
    const held = this.held[dev];
    const exp = held === 1 ? this.expires?.[dev] : held === 2 ? this.kept.get(dev)!.expiresAtMs : undefined;
    return exp !== undefined && nowMs >= exp; // NaN (no expiry) compares false
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

/**
 * `s` as one flat string: a template literal's result is a chain of cons cells (32 bytes each)
 * holding its pieces; this keeps only the characters. Strings with surrogates are returned as they are.
 */
function flat(s: string): string {
  return StringArena.fits(s) ? Buffer.from(s, 'utf8').toString('utf8') : s;
}
