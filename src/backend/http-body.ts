import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Reads a request body of at most `limit` bytes into memory. A larger body is refused with 413
 * and the connection is closed, without reading the rest: up front when Content-Length announces
 * it, else as soon as the count passes the limit (chunked). So one client sending megabytes
 * costs the backend at most `limit` bytes and never holds the event loop on its data.
 */
export function readCappedBody(req: IncomingMessage, res: ServerResponse, limit: number, done: (body: string) => void): void {
  const announced = Number(req.headers['content-length']);
  if (announced > limit) return refuseTooLarge(req, res, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
      refuseTooLarge(req, res, limit);
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

function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  // `connection: close` makes Node end the socket after the answer; the unread rest of the body
  // then goes nowhere. Pausing stops reading it meanwhile.
  req.pause();
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  res.end(`{"error":"body larger than ${limit} bytes"}`, () => req.socket.destroy());
}
