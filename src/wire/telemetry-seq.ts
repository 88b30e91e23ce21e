import { decodeTelemetrySeq } from './reference-protocol.js';

/**
 * Where a telemetry payload carries its sequence number, so a backend (the embedded one, or the
 * subscriber that counts a broker's telemetry) can reconcile per device whatever the payload
 * looks like:
 * - `prefix`: the reference payload, `{"seq":N,…` (read without parsing the document);
 * - `json`: a templated JSON payload, the number at `path` (object keys and array indexes);
 * - `binary`: an unsigned integer of `bytes` bytes at `offset`, big- or little-endian.
 */
export type SeqLocator =
  | { kind: 'prefix' }
  | { kind: 'json'; path: Array<string | number> }
  | { kind: 'binary'; offset: number; bytes: 2 | 4; endian: 'be' | 'le' };

export const PREFIX_SEQ: SeqLocator = { kind: 'prefix' };

/** The sequence number of `payload`, or -1 when it has none where the locator says. */
export function readTelemetrySeq(locator: SeqLocator, payload: Uint8Array): number {
  return readTelemetrySeqAt(locator, payload, 0, payload.length);
}

/** The sequence number of the payload `buf[start, end)` (read in place, e.g. inside a frame), or -1. */
export function readTelemetrySeqAt(locator: SeqLocator, buf: Uint8Array, start: number, end: number): number {
  switch (locator.kind) {
    case 'prefix':
      return decodeTelemetrySeq(buf, start, end);
    case 'binary': {
      const { bytes, endian } = locator;
      const offset = start + locator.offset;
      if (end < offset + bytes) return -1;
      const b = buf;
      if (bytes === 2) return endian === 'be' ? (b[offset] << 8) | b[offset + 1] : b[offset] | (b[offset + 1] << 8);
      return endian === 'be'
        ? ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0
        : (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0;
    }
    case 'json': {
      let doc: unknown;
      try {
        doc = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'));
      } catch {
        return -1;
      }
      for (const key of locator.path) {
        if (doc === null || typeof doc !== 'object') return -1;
        doc = (doc as Record<string | number, unknown>)[key];
      }
      return typeof doc === 'number' && Number.isInteger(doc) && doc >= 0 ? doc : -1;
    }
  }
}
