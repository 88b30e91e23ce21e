import type { DeviceStatsResponse } from '../../wire/reference-protocol.js';
import type { PlatformFakeName } from '../../wire/platform-fakes.js';
import type { PemIdentity } from '../../identity/x509.js';

/**
 * What every local platform fake is to the rest of fleetsim: something that starts on loopback,
 * serves a platform's device API over HTTP and/or MQTT, counts what it received per device (so a
 * run reconciles with it as with the embedded reference backend) and closes every socket it
 * opened. A run's target setup (engine/target-setup.ts) and `fleetsim backend --preset NAME` start
 * fakes only through this interface and the registry (registry.ts); test/contracts/
 * platform-fake.contract.ts is the suite every fake runs.
 *
 * Each fake keeps its richer, platform-shaped object (MenderFake, HawkbitFake, …) for the tests
 * and tools that drive it directly; this is the small common part.
 */

/** How a run or the CLI wants a fake started; each fake takes what its platform has and ignores the rest. */
export interface PlatformFakeOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Ports (default 0: the OS picks free ones, printed at start). */
  httpPort?: number;
  mqttPort?: number;
  /**
   * The fleet's shared secret, as `target.fleetKey` gives it to devices: Mender's tenant token,
   * hawkBit's secret the TargetTokens derive from, ThingsBoard's `<provisionKey>:<provisionSecret>`,
   * the example protocol's provisioning key.
   */
  fleetKey: string;
  /** Seconds between polls the fake tells devices to wait, where the platform tells them (hawkBit's `config.polling.sleep`). */
  pollingSec?: number;
  /** Floor of that interval (hawkBit's minPollingTime). */
  minPollingSec?: number;
  /** Lifetime of the device tokens the fake issues, where they expire (Mender's JWTs). */
  tokenTtlSec?: number;
  /** Maintenance windows for campaigns, relative to the fake's start (hawkBit). */
  maintenance?: { opensMs: number; lengthMs: number; everyMs: number };
  /** Diagnostics (verbose mode). */
  log?: (line: string) => void;
}

/** What a device needs to talk to a running fake, as `fleetsim backend` prints it: label and value. */
export type FakeCredential = readonly [label: string, value: string];

/** The per-device view a run reconciles against (the reference backend's `/v1/stats/devices` shape). */
export type FakeDeviceStats = Pick<DeviceStatsResponse, 'devices' | 'totals'>;

export interface RunningFake {
  /** Base URL of the HTTP device API, when the platform has one. */
  readonly httpUrl?: string;
  /** URL of the MQTT broker, when the platform has one. */
  readonly mqttUrl?: string;
  /** Credentials and settings a device needs besides the URLs (fleet key, provisioning key, tenant, …). */
  readonly credentials: readonly FakeCredential[];
  /** Documented device-facing endpoints or topics worth knowing (label and URL or topic), printed by `fleetsim backend`. */
  readonly endpoints: readonly FakeCredential[];
  /**
   * TLS devices need, for a fake on mutual TLS (AWS IoT): the CA to trust and the one client
   * identity every device starts with (the fleet's claim certificate).
   */
  readonly deviceTls?: { readonly ca: string; readonly sharedIdentity?: PemIdentity };
  /** Per device: telemetry sequence numbers received, provisions, polls. */
  stats(): FakeDeviceStats;
  /** Resolves once everything in flight to the fake has been counted. */
  settle(): Promise<void>;
  /** Closes every socket (listeners and connections); idempotent. */
  close(): Promise<void>;
}

export interface PlatformFake {
  readonly name: PlatformFakeName;
  /** One line for `fleetsim backend --help` and the README: which platform API it fakes. */
  readonly description: string;
  /** Transports it serves (a RunningFake has the URL of each). */
  readonly serves: { readonly http: boolean; readonly mqtt: boolean };
  /** The `target.preset` devices use against it (a built-in preset name or a protocol file). */
  readonly preset: string;
  /** A fleet key `fleetsim backend` uses when none is given (any string works unless the platform shapes it). */
  readonly exampleFleetKey: string;
  start(options: PlatformFakeOptions): Promise<RunningFake>;
}
