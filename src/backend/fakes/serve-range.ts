import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers a GET of `bytes` with RFC 9110 single ranges (`bytes=a-b`, `bytes=a-`): 206 with
 * Content-Range, 416 for a range that starts past the end, 200 for the whole. Returns how many
 * bytes the answer carries (0 for a 416), so a fake can count what it served per device.
 */
export function serveBytes(req: IncomingMessage, res: ServerResponse, bytes: Buffer, headers: Record<string, string>): { served: number; ranged: boolean } {
  const total = bytes.length;
  const range = req.headers.range;
  let start = 0;
  let end = total - 1;
  if (range !== undefined) {
    const m = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
    if (m === null || Number(m[1]) >= total) {
      res.writeHead(416, { 'content-range': `bytes */${total}` });
      res.end();
      return { served: 0, ranged: true };
    }
    start = Number(m[1]);
    end = m[2] === '' ? total - 1 : Math.min(total - 1, Number(m[2]));
  }
  const h: Record<string, string | number> = { ...headers, 'content-length': end - start + 1, 'accept-ranges': 'bytes' };
  if (range !== undefined) h['content-range'] = `bytes ${start}-${end}/${total}`;
  res.writeHead(range !== undefined ? 206 : 200, h);
  res.end(bytes.subarray(start, end + 1));
  return { served: end - start + 1, ranged: range !== undefined };
}
