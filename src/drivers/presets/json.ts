/** JSON helpers the platform presets share: reading an answer as an object (wire/answer-shapes.ts), and padded telemetry. */

export { isJsonObject as isObject, parseJsonObject as parseObject } from '../../wire/answer-shapes.js';

/** `head` + `x` padding + `close`, `size` bytes long (or just head and close when `size` is shorter): telemetry of a given size. */
export function paddedJson(head: string, close: string, size: number): Buffer {
  const total = Math.max(size, head.length + close.length);
  const buf = Buffer.allocUnsafe(total);
  const n = buf.write(head, 0, 'latin1');
  buf.fill(0x78 /* x */, n, total - close.length);
  buf.write(close, total - close.length, 'latin1');
  return buf;
}
