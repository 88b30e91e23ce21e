/** JSON helpers the platform presets share: reading an answer as an object, and padded telemetry. */

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `text` as a JSON object, or undefined (decoders never throw). */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const j: unknown = JSON.parse(text);
    return isObject(j) ? j : undefined;
  } catch {
    return undefined;
  }
}

/** `head` + `x` padding + `close`, `size` bytes long (or just head and close when `size` is shorter): telemetry of a given size. */
export function paddedJson(head: string, close: string, size: number): Buffer {
  const total = Math.max(size, head.length + close.length);
  const buf = Buffer.allocUnsafe(total);
  const n = buf.write(head, 0, 'latin1');
  buf.fill(0x78 /* x */, n, total - close.length);
  buf.write(close, total - close.length, 'latin1');
  return buf;
}
