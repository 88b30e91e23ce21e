import type { ServerResponse } from 'node:http';

/**
 * Writes a JSON answer with its Content-Length, so Node sends it as one piece (status line,
 * headers and body in one socket write). Without a length, `writeHead` + `end(body)` answers with
 * chunked transfer coding: four buffers (head, chunk size, body, last chunk) in one writev per
 * answer, and a chunked body for the client to decode (bench/RESULTS.md, "Issue 17, round 5").
 * `extra` are more header name/value pairs, flat (['retry-after', '1']).
 */
export function answerJson(res: ServerResponse, status: number, body: string, extra?: readonly string[]): void {
  const length = String(Buffer.byteLength(body));
  res.writeHead(status, extra === undefined ? ['content-type', 'application/json', 'content-length', length] : ['content-type', 'application/json', 'content-length', length, ...extra]);
  res.end(body);
}

/** 405 with the methods the route allows. */
export function methodNotAllowed(res: ServerResponse, allow: string): void {
  answerJson(res, 405, '{"error":"method not allowed"}', ['allow', allow]);
}
