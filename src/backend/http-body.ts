import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerJson } from './json-answer.js';

/**
 * Reads a request body of at most `limit` bytes into memory. A larger body is refused with 413
 * and the connection is closed, without reading the rest: up front when Content-Length announces
 * it, else as soon as the count passes the limit (chunked). So one client sending megabytes
 * costs the backend at most `limit` bytes and never holds the event loop on its data.
 * `refuse` writes the 413 in the server's own words (a platform fake answers as its platform
 * does); the connection closes after it either way.
 */
export function readCappedBody(req: IncomingMessage, res: ServerResponse, limit: number, done: (body: string) => void, refuse: (res: ServerResponse) => void = (r) => tooLargeAnswer(r, limit)): void {
  const announced = Number(req.headers['content-length']);
  if (announced > limit) return refuseTooLarge(req, res, refuse);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
      refuseTooLarge(req, res, refuse);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!tooLarge) done(Buffer.concat(chunks, size).toString('utf8'));
  });
  // A client that vanishes mid-body: nothing to answer.
  req.on('error', () => {});
}

function refuseTooLarge(req: IncomingMessage, res: ServerResponse, refuse: (res: ServerResponse) => void): void {
  // `connection: close` makes Node end the socket after the answer; the unread rest of the body
  // then goes nowhere. Pausing stops reading it meanwhile.
  req.pause();
  res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.destroy());
  refuse(res);
}

/** fleetsim's own 413. */
function tooLargeAnswer(res: ServerResponse, limit: number): void {
  answerJson(res, 413, `{"error":"body larger than ${limit} bytes"}`);
}
