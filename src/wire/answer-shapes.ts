import type { ArtifactRef, UpdateOffer } from './fleet-ops.js';
import type { ProvisionResponse, TargetStateResponse } from './reference-protocol.js';

/**
 * Shape checks of the reference protocol's answers: a device acts on an answer only when it has
 * the fields the protocol promises with the right types. Anything else (HTML from a proxy,
 * truncated JSON, `{}` or a field of the wrong type) is a bad response, counted as such: neither a
 * success nor a server error. Unknown extra fields are allowed, as a newer backend may add them.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optional = (v: unknown, check: (x: unknown) => boolean) => v === undefined || check(v);

export function isProvisionResponse(v: unknown): v is ProvisionResponse {
  return isObj(v) && isStr(v.deviceId) && v.deviceId.length > 0 && isStr(v.deviceKey) && v.deviceKey.length > 0;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isObj(v) && Object.values(v).every(isStr);
}

function isArtifactRef(v: unknown): v is ArtifactRef {
  return isObj(v) && isStr(v.name) && isStr(v.arch) && (v.kind === 'full' || v.kind === 'delta') && optional(v.from, isStr) && isNum(v.size) && isStr(v.sha256);
}

function isUpdateOffer(v: unknown): v is UpdateOffer {
  return isObj(v) && isStr(v.campaign) && isStr(v.release) && (v.target === 'app' || v.target === 'os') && Array.isArray(v.artifacts) && v.artifacts.every(isArtifactRef);
}

export function isTargetStateResponse(v: unknown): v is TargetStateResponse {
  return (
    isObj(v) &&
    isStr(v.release) &&
    isStringMap(v.config) &&
    isStr(v.etag) &&
    optional(v.configVersion, isNum) &&
    optional(v.configIssuedAt, isNum) &&
    optional(v.update, isUpdateOffer)
  );
}

/** JSON.parse that answers undefined for unreadable text instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A JSON object (not null, not an array). */
export const isJsonObject = isObj;

/** `text` as a JSON object, or undefined when it is unreadable or another kind of value (readers never throw). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const v = parseJson(text);
  return isObj(v) ? v : undefined;
}
