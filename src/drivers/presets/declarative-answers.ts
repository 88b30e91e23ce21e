import { compileJsonPath, readJsonPath, type JsonPath } from '../../protocol/json-path.js';
import type { ConfigChange, UpdateOffer } from '../events.js';

/**
 * How the declarative preset (presets/declarative.ts) reads what a backend sends: an update offer
 * and a configuration at a protocol file's compiled JSON paths, from an answer or a message parsed
 * once. Readers never throw: a document without the fields the file promises reads as undefined.
 */

export type OfferPaths = { present: JsonPath; campaign?: JsonPath; release: JsonPath; url: JsonPath; size: JsonPath; sha256?: JsonPath; target: 'app' | 'os' };
export type ConfigPaths = { values: JsonPath; version?: JsonPath };

export function offerPaths(o: { present?: string; campaign?: string; release: string; url: string; size: string; sha256?: string; target: 'app' | 'os' } | undefined): OfferPaths | undefined {
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

export function configPaths(c: { values: string; version?: string } | undefined): ConfigPaths | undefined {
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

/** The document in `text`, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export const isText = (v: unknown): v is string | number => (typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v));
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
