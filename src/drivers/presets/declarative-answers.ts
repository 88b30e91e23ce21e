import { compileJsonPath, readJsonPath, type JsonPath } from '../../protocol/json-path.js';
import { isJsonObject as isObject } from '../../wire/answer-shapes.js';
import type { ConfigChange, UpdateOffer } from '../events.js';
import type { DeviceCredentials, TargetAnswer } from '../preset.js';

/**
 * How the declarative preset (presets/declarative.ts) reads what a backend sends: credentials and
 * a target state from an answer, an update offer and a configuration from an answer or a message,
 * at a protocol file's compiled JSON paths, from a document parsed once. Readers never throw: a
 * document without the fields the file promises reads as undefined.
 */

export type OfferPaths = { present: JsonPath; campaign?: JsonPath; release: JsonPath; url: JsonPath; size: JsonPath; sha256?: JsonPath; target: 'app' | 'os' };
export type ConfigPaths = { values: JsonPath; version?: JsonPath };

type OfferSpec = { present?: string; campaign?: string; release: string; url: string; size: string; sha256?: string; target: 'app' | 'os' };
type ConfigSpec = { values: string; version?: string };

/**
 * Where a protocol file's provisioning answer carries the credentials and its poll answer the
 * target state (over HTTP or MQTT: the file has one of each), compiled once; reads a parsed answer.
 */
export class AnswerReader {
  private readonly deviceId?: JsonPath;
  private readonly token?: JsonPath;
  private readonly expiresIn?: JsonPath;
  private readonly expiresAt?: JsonPath;
  private readonly version?: JsonPath;
  private readonly update?: OfferPaths;
  private readonly config?: ConfigPaths;
  private readonly nextPoll?: JsonPath;

  constructor(
    provision: { deviceId?: string; token?: string; expiresIn?: string; expiresAt?: string },
    poll: { version?: string; update?: OfferSpec; config?: ConfigSpec; nextPoll?: string },
    /** auth.tokenLifetime: how long credentials last when the answer does not say. */
    private readonly lifetimeMs: number | undefined,
    /** auth.renewBefore: credentials are renewed this long before they expire. */
    private readonly renewBeforeMs: number,
  ) {
    const path = (x: string | undefined): JsonPath | undefined => (x === undefined ? undefined : compileJsonPath(x));
    this.deviceId = path(provision.deviceId);
    this.token = path(provision.token);
    this.expiresIn = path(provision.expiresIn);
    this.expiresAt = path(provision.expiresAt);
    this.version = path(poll.version);
    this.update = offerPaths(poll.update);
    this.config = configPaths(poll.config);
    this.nextPoll = path(poll.nextPoll);
  }

  /** Credentials from a parsed provisioning answer (HTTP body or MQTT payload). */
  credentials(doc: unknown, serial: string): DeviceCredentials | undefined {
    if (doc === undefined) return undefined;
    const id = this.deviceId ? readJsonPath(doc, this.deviceId) : serial;
    const token = this.token ? readJsonPath(doc, this.token) : '';
    if (!isText(id) || typeof token !== 'string' || (this.token && token === '')) return undefined;
    let expiresAtMs: number | undefined;
    const expiresIn = this.expiresIn ? readJsonPath(doc, this.expiresIn) : undefined;
    const expiresAt = this.expiresAt ? readJsonPath(doc, this.expiresAt) : undefined;
    if (typeof expiresIn === 'number' && Number.isFinite(expiresIn)) expiresAtMs = Date.now() + expiresIn * 1000;
    else if (typeof expiresAt === 'number' && Number.isFinite(expiresAt)) expiresAtMs = expiresAt * 1000;
    else if (this.lifetimeMs !== undefined) expiresAtMs = Date.now() + this.lifetimeMs;
    return {
      deviceId: String(id),
      secret: token,
      ...(expiresAtMs === undefined ? {} : { expiresAtMs: expiresAtMs - this.renewBeforeMs }),
      extra: { serial },
    };
  }

  /** A target state from a parsed poll answer (HTTP body or MQTT payload); `etag`: the version the device has. */
  target(doc: unknown, etag: string | undefined): TargetAnswer | undefined {
    if (!isObject(doc)) return undefined;
    const version = this.version ? readJsonPath(doc, this.version) : undefined;
    if (this.version && !isText(version)) return undefined;
    const tag = version === undefined ? undefined : String(version);
    const update = this.update ? readOffer(doc, this.update) : undefined;
    const config = this.config ? readConfig(doc, this.config) : undefined;
    const next = this.nextPoll ? readJsonPath(doc, this.nextPoll) : undefined;
    return {
      // A backend that answers 200 with the version the device already has: nothing new.
      changed: tag === undefined || tag !== etag,
      ...(typeof next === 'number' && next >= 0 ? { nextPollMs: next * 1000 } : {}),
      ...(tag === undefined ? {} : { etag: tag }),
      ...(update ? { update } : {}),
      ...(config ? { config } : {}),
    };
  }
}

export function offerPaths(o: OfferSpec | undefined): OfferPaths | undefined {
  if (o === undefined) return undefined;
  return {
    present: compileJsonPath(o.present ?? o.url),
    ...(o.campaign === undefined ? {} : { campaign: compileJsonPath(o.campaign) }),
    release: compileJsonPath(o.release),
    url: compileJsonPath(o.url),
    size: compileJsonPath(o.size),
    ...(o.sha256 === undefined ? {} : { sha256: compileJsonPath(o.sha256) }),
    target: o.target,
  };
}

export function configPaths(c: ConfigSpec | undefined): ConfigPaths | undefined {
  return c === undefined ? undefined : { values: compileJsonPath(c.values), ...(c.version === undefined ? {} : { version: compileJsonPath(c.version) }) };
}

/** An update offer at `o`, or undefined when none is offered or its fields are not what the file promises. */
export function readOffer(doc: unknown, o: OfferPaths): UpdateOffer | undefined {
  const present = readJsonPath(doc, o.present);
  if (present === undefined || present === null) return undefined;
  const release = readJsonPath(doc, o.release);
  const url = readJsonPath(doc, o.url);
  const size = readJsonPath(doc, o.size);
  const sha256 = o.sha256 ? readJsonPath(doc, o.sha256) : '';
  const campaign = o.campaign ? readJsonPath(doc, o.campaign) : release;
  if (!isText(release) || typeof url !== 'string' || url === '' || typeof size !== 'number' || !(size >= 0) || typeof sha256 !== 'string' || !isText(campaign)) return undefined;
  return { campaign: String(campaign), release: String(release), target: o.target, artifacts: [{ name: url, url, kind: 'full', size, sha256 }] };
}

/** A configuration at `c`; without a version path, the version is a hash of the values (a change of values is a new version). */
export function readConfig(doc: unknown, c: ConfigPaths): ConfigChange | undefined {
  const raw = readJsonPath(doc, c.values);
  if (!isObject(raw)) return undefined;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) values[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const version = c.version ? readJsonPath(doc, c.version) : hashVersion(values);
  if (typeof version !== 'number' || !Number.isInteger(version)) return undefined;
  // Version 0 is "never configured": nothing to apply.
  return version === 0 ? undefined : { version, issuedAt: 0, values };
}

function hashVersion(values: Record<string, string>): number {
  let h = 0x811c9dc5;
  const text = JSON.stringify(Object.entries(values).sort());
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 1) || 1;
}

export const isText = (v: unknown): v is string | number => (typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v));
export { isJsonObject as isObject, parseJson } from '../../wire/answer-shapes.js';
