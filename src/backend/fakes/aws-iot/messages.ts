/**
 * Helpers the fake's handlers share: parsing a request payload as the reserved-topic APIs expect
 * (a JSON object), and the answers they publish.
 */

/** One message the fake publishes to a device's session. */
export interface Outgoing {
  readonly topic: string;
  readonly payload: string;
}

/** The payload as a JSON object, or a reason it is not one. */
export function parseObject(payload: Buffer): Record<string, unknown> | string {
  let j: unknown;
  try {
    j = JSON.parse(payload.length === 0 ? '{}' : payload.toString('utf8'));
  } catch {
    return 'payload is not valid JSON';
  }
  return isObject(j) ? j : 'payload is not a JSON object';
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string-to-string map (statusDetails, parameters), or undefined when `v` is not one. */
export function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObject(v)) return undefined;
  for (const x of Object.values(v)) if (typeof x !== 'string') return undefined;
  return v as Record<string, string>;
}

/** Epoch seconds: the unit of `timestamp` and the execution times on the jobs and shadow pages. */
export const epochSeconds = (ms: number) => Math.floor(ms / 1000);
