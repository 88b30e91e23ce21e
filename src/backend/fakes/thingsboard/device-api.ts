import type { OtaPackage, TbDevice, ThingsboardState } from './state.js';

/**
 * The device API's meaning, shared by the fake's MQTT and HTTP sides: what a telemetry or
 * attributes payload must look like, what an attributes request answers, how a firmware chunk is
 * cut. Written from ThingsBoard's JsonConverter.java (thingsboard/thingsboard,
 * common/proto/.../adaptor/JsonConverter.java) and the MQTT/HTTP device API pages.
 *
 * Concurrency: the fake's event loop only.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * One key/value object as JsonConverter.parseValues reads it: strings, booleans, numbers, nested
 * objects and arrays (kept as JSON values); null is skipped by the MQTT path. Anything else throws
 * "Can't parse value" on the platform.
 */
function validValues(o: Json): o is { [k: string]: Json } {
  return typeof o === 'object' && o !== null && !Array.isArray(o);
}

/** The values objects of a telemetry payload in any of its three shapes, or undefined when the platform refuses it. */
export function telemetryValues(body: Buffer | string): Array<{ [k: string]: Json }> | undefined {
  let j: Json;
  try {
    j = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as Json;
  } catch {
    return undefined;
  }
  const items = Array.isArray(j) ? j : [j];
  const out: Array<{ [k: string]: Json }> = [];
  for (const it of items) {
    if (!validValues(it)) return undefined;
    if ('ts' in it && 'values' in it) {
      if (typeof it.ts !== 'number' || !validValues(it.values)) return undefined;
      out.push(it.values);
    } else out.push(it);
  }
  return out;
}

/**
 * Accepts one telemetry message for `dev`: counts it, records its `seq` for reconciliation and
 * any fw_state / current_fw_* it carries. False when the payload is one the platform refuses.
 */
export function acceptTelemetry(state: ThingsboardState, dev: TbDevice, body: Buffer | string): boolean {
  const values = telemetryValues(body);
  if (values === undefined) {
    dev.counts.malformed++;
    return false;
  }
  dev.counts.telemetry++;
  let seqSeen = false;
  for (const v of values) {
    if (typeof v.seq === 'number' && dev.telemetry.record(v.seq)) seqSeen = true;
    if (Array.isArray(v.log)) dev.counts.logLines += v.log.length;
    noteFirmware(state, dev, v);
  }
  if (!seqSeen) dev.counts.telemetryWithoutSeq++;
  return true;
}

/** Client-side attributes: one JSON object (JsonConverter.convertToAttributes). */
export function acceptAttributes(state: ThingsboardState, dev: TbDevice, body: Buffer | string): boolean {
  let j: Json;
  try {
    j = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as Json;
  } catch {
    j = null;
  }
  if (!validValues(j)) {
    dev.counts.malformed++;
    return false;
  }
  dev.counts.attributes++;
  Object.assign(dev.client, j);
  noteFirmware(state, dev, j);
  return true;
}

/** fw_state and current_fw_title/version, wherever the device reports them (telemetry per the OTA guide; attributes tolerated). */
function noteFirmware(state: ThingsboardState, dev: TbDevice, v: { [k: string]: Json }): void {
  if (typeof v.current_fw_title === 'string' && typeof v.current_fw_version === 'string') dev.currentFw = { title: v.current_fw_title, version: v.current_fw_version };
  if (typeof v.fw_state === 'string') state.recordFwState(dev, v.fw_state);
}

/** Keys named in a comma-separated list (`clientKeys`, `sharedKeys`); undefined when absent or empty. */
function keyList(v: unknown): string[] | undefined {
  return typeof v === 'string' && v.length > 0 ? v.split(',') : undefined;
}

function pick(from: Record<string, unknown>, keys: string[] | undefined): Record<string, unknown> | undefined {
  if (keys === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in from) out[k] = from[k];
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The answer to an attributes request: `{client:{…}, shared:{…}}` with only the scopes that have
 * values (JsonConverter.toJson(GetAttributeResponseMsg)). With no keys at all the platform
 * returns every attribute of both scopes.
 */
export function attributesAnswer(dev: TbDevice, clientKeys: unknown, sharedKeys: unknown): Record<string, unknown> {
  const ck = keyList(clientKeys);
  const sk = keyList(sharedKeys);
  const all = ck === undefined && sk === undefined;
  const client = all ? nonEmpty(dev.client) : pick(dev.client, ck);
  const shared = all ? nonEmpty(dev.shared) : pick(dev.shared, sk);
  dev.counts.attributeRequests++;
  return { ...(client ? { client } : {}), ...(shared ? { shared } : {}) };
}

function nonEmpty(o: Record<string, unknown>): Record<string, unknown> | undefined {
  return Object.keys(o).length > 0 ? { ...o } : undefined;
}

/**
 * Chunk `chunk` of `size` bytes of a package, as OtaPackageDataCache.get cuts it: size 0 means
 * the whole file; a chunk past the end is empty (the device stops on a short chunk).
 */
export function packageChunk(pkg: OtaPackage, size: number, chunk: number): Buffer {
  if (size <= 0) return pkg.bytes;
  const start = chunk * size;
  return start >= pkg.bytes.length ? Buffer.alloc(0) : pkg.bytes.subarray(start, Math.min(pkg.bytes.length, start + size));
}
