import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * How the platform fakes write an answer: a JSON or text body with its length, or no body. The
 * content type is the platform's own (what its real API sends), so each fake names it where it
 * differs from the plain one.
 */

export function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  sendText(res, status, JSON.stringify(body), type);
}

export function sendText(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A conditional GET's answer: 304 with the ETag when the client sent it as If-None-Match (true:
 * the fake counts it), else 200 with `body`, its content type and the ETag (false).
 */
export function sendUnlessMatched(req: IncomingMessage, res: ServerResponse, body: string, etag: string, type: string): boolean {
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag });
    res.end();
    return true;
  }
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), etag });
  res.end(body);
  return false;
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

/** A path segment decoded, or '' when its escapes are malformed (a fake answers 404 or 400 then, never throws). */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
}
