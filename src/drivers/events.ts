/**
 * What a backend tells a device, as typed values: the only form in which fleet/ hears of update
 * offers, configuration changes and commands. A preset (drivers/preset.ts) decodes them from its
 * wire format; the model driver of the virtual clock makes them directly. fleet/ never sees a
 * topic, a payload or a body.
 *
 * Ownership: a driver may hand the same object to many devices (the model shares one offer per
 * campaign), so receivers treat every object here as read-only and may keep it.
 */

/** Where a device heard of a change: pushed on its MQTT session, or found by its own poll. */
export type Heard = 'push' | 'poll';

/** One artifact of an update offer. */
export interface OfferedArtifact {
  /** Stable name (the reference backend serves /v1/artifacts/<name>); also the key of the download. */
  readonly name: string;
  /** Where to fetch it when the backend says so (absolute, or a path on the HTTP target); else the preset builds it from `name`. */
  readonly url?: string;
  /** CPU architecture it is built for; absent: the backend already chose it for this device. */
  readonly arch?: string;
  readonly kind: 'full' | 'delta';
  /** The release a delta applies to. */
  readonly from?: string;
  /** Bytes. */
  readonly size: number;
  /** Hex SHA-256 ('' when the backend gives none: verification is then the model's fault draw or skipped by the preset). */
  readonly sha256: string;
}

/** An update the backend offers the device. */
export interface UpdateOffer {
  /** Campaign or deployment id: the device reports its progress against it and acts on it once. */
  readonly campaign: string;
  readonly release: string;
  /** 'os' reboots the device; 'app' restarts the application only. */
  readonly target: 'app' | 'os';
  readonly artifacts: readonly OfferedArtifact[];
}

/** A configuration the device should apply. */
export interface ConfigChange {
  /** Monotonic version: a device applies a version once and acknowledges it. */
  readonly version: number;
  /** When the backend issued it (epoch ms on the measurement clock), 0 when unknown. */
  readonly issuedAt: number;
  /** The values, when the backend sent them. */
  readonly values?: Readonly<Record<string, string>>;
}

/** A command (remote diagnostics, reboot request...) the device should run and answer. */
export interface DeviceCommand {
  readonly id: string;
  readonly name: string;
  readonly args?: Readonly<Record<string, unknown>>;
  /** When the operator issued it (epoch ms on the measurement clock); undefined when the backend does not say. */
  readonly issuedAt?: number;
}

/** A device's state report (what the reference protocol PUTs to /state). */
export interface DeviceStateReport {
  release: string;
  status: string;
  campaign?: string;
  cause?: string;
  bytes?: number;
}

/** `onPolled` status of a target that was read and has something new (HTTP 200 in the reference protocol). */
export const POLL_CHANGED = 200;
/** `onPolled` status of a target that was read and is as before (HTTP 304, or a preset that says so). */
export const POLL_UNCHANGED = 304;
/** `onPolled` next-poll hint when the answer gave none. */
export const NO_HINT = -1;
