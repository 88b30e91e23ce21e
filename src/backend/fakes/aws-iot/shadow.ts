import { ACCEPTED, REJECTED, shadowTopics } from './topics.js';
import { epochSeconds, isObject, parseObject, type Outgoing } from './messages.js';
import { bump, type AwsThing } from './state.js';

/**
 * The classic (unnamed) Device Shadow over MQTT (the device shadow MQTT topics and document
 * pages): `update` merges `state.reported` / `state.desired` and answers `update/accepted` with the
 * new version, or `update/rejected` with `{code, message, timestamp, clientToken}` and the shadow
 * error page's codes (400 malformed, 409 version conflict, 413 too large); a desired state that
 * differs from the reported one is pushed on `update/delta`. `get` answers the whole document.
 * Metadata timestamps, named shadows and the 8 KB per-section accounting beyond the document size
 * are not modelled (docs/presets/aws-iot.md).
 *
 * Concurrency: the fake's event loop only.
 */

/** Largest shadow document, bytes (the quota page's 8 KB for the unnamed shadow's state). */
export const MAX_SHADOW_BYTES = 8 * 1024;

export class ShadowApi {
  /** A request on `$aws/things/<thing>/shadow/<rest>`; undefined for a topic that is not a request. */
  handle(thing: AwsThing, rest: string, payload: Buffer, now: number): Outgoing[] | undefined {
    const topics = shadowTopics(thing.name);
    if (rest === 'shadow/get') return [{ topic: topics.get + ACCEPTED, payload: JSON.stringify(this.document(thing, now)) }];
    if (rest !== 'shadow/update') return undefined;
    const fail = (code: number, message: string, clientToken?: string): Outgoing[] => {
      bump(thing.counts.rejected, `shadow-${code}`);
      return [{ topic: topics.update + REJECTED, payload: JSON.stringify({ code, message, timestamp: epochSeconds(now), ...(clientToken === undefined ? {} : { clientToken }) }) }];
    };
    if (payload.length > MAX_SHADOW_BYTES) return fail(413, 'The payload exceeds the maximum size allowed');
    const req = parseObject(payload);
    if (typeof req === 'string') return fail(400, 'Invalid JSON');
    const clientToken = typeof req.clientToken === 'string' ? req.clientToken : undefined;
    if (req.state === undefined) return fail(400, 'Missing required node: state', clientToken);
    if (!isObject(req.state)) return fail(400, 'State node must be an object', clientToken);
    const { reported, desired } = req.state;
    if (reported !== undefined && reported !== null && !isObject(reported)) return fail(400, 'Reported node must be an object', clientToken);
    if (desired !== undefined && desired !== null && !isObject(desired)) return fail(400, 'Desired node must be an object', clientToken);
    if (req.version !== undefined && !Number.isInteger(req.version)) return fail(400, 'Invalid version', clientToken);
    if (req.version !== undefined && req.version !== thing.shadow.version) return fail(409, 'Version conflict', clientToken);
    thing.counts.shadowUpdates++;
    return this.apply(thing, isObject(reported) ? reported : undefined, isObject(desired) ? desired : undefined, clientToken, now);
  }

  /** Merges a state into the shadow (null deletes a key); the accepted answer and a delta when desired and reported differ. */
  apply(thing: AwsThing, reported: Record<string, unknown> | undefined, desired: Record<string, unknown> | undefined, clientToken: string | undefined, now: number): Outgoing[] {
    const s = thing.shadow;
    merge(s.reported, reported);
    merge(s.desired, desired);
    s.version++;
    const topics = shadowTopics(thing.name);
    const state: Record<string, unknown> = {};
    if (reported !== undefined) state.reported = reported;
    if (desired !== undefined) state.desired = desired;
    const out: Outgoing[] = [{ topic: topics.update + ACCEPTED, payload: JSON.stringify({ state, version: s.version, timestamp: epochSeconds(now), ...(clientToken === undefined ? {} : { clientToken }) }) }];
    const delta = deltaOf(s.desired, s.reported);
    // The delta goes out when desired changed and still differs from reported (a report alone does not repeat it).
    if (desired !== undefined && delta !== undefined) out.push({ topic: topics.delta, payload: JSON.stringify({ version: s.version, timestamp: epochSeconds(now), state: delta }) });
    return out;
  }

  private document(thing: AwsThing, now: number): Record<string, unknown> {
    const s = thing.shadow;
    const delta = deltaOf(s.desired, s.reported);
    return { state: { desired: s.desired, reported: s.reported, ...(delta === undefined ? {} : { delta }) }, version: s.version, timestamp: epochSeconds(now) };
  }
}

function merge(into: Record<string, unknown>, from: Record<string, unknown> | undefined): void {
  if (from === undefined) return;
  for (const [k, v] of Object.entries(from)) {
    if (v === null) delete into[k];
    else into[k] = v;
  }
}

/** Desired keys whose value differs from the reported one (compared as JSON), or undefined. */
function deltaOf(desired: Record<string, unknown>, reported: Record<string, unknown>): Record<string, unknown> | undefined {
  let delta: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(desired)) {
    if (JSON.stringify(v) !== JSON.stringify(reported[k])) (delta ??= {})[k] = v;
  }
  return delta;
}
