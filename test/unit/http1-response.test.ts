import { describe, expect, it } from 'vitest';
import { Http1ResponseParser, keepAliveTimeoutMs } from '../../src/drivers/http/http1-response.js';
import { NO_RETRY_AFTER } from '../../src/drivers/types.js';

/** Feeds `text` to a fresh parser in pieces of `step` bytes (1 = every byte split). */
function parse(text: string, step = Number.MAX_SAFE_INTEGER): { p: Http1ResponseParser; used: number } {
  const p = new Http1ResponseParser();
  p.reset();
  const bytes = Buffer.from(text, 'latin1');
  let used = 0;
  for (let at = 0; at < bytes.length && !p.complete && !p.malformed; at += step) {
    // A fresh copy per read, as a socket hands out: the parser must not keep views into reused memory.
    const piece = Buffer.from(bytes.subarray(at, Math.min(bytes.length, at + step)));
    used += p.feed(piece);
  }
  return { p, used };
}

const withLength = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: "v7"\r\nContent-Length: 11\r\n\r\n{"a":"bc"}\n';
const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{"a"\r\n7\r\n:"bc"}\n\r\n0\r\nX-Trailer: t\r\n\r\n';

describe('HTTP/1.1 response parser', () => {
  it.each([1, 2, 3, 7, 1000])('reads a Content-Length answer split every %i bytes', (step) => {
    const { p, used } = parse(withLength, step);
    expect(p.complete).toBe(true);
    expect(p.malformed).toBe(false);
    expect([p.status, p.etag, p.body(), p.closeAfter]).toEqual([200, '"v7"', '{"a":"bc"}\n', false]);
    expect(used).toBe(Buffer.byteLength(withLength));
  });

  it.each([1, 2, 5, 1000])('reads a chunked answer with extensions and trailers split every %i bytes', (step) => {
    const { p, used } = parse(chunked, step);
    expect(p.complete).toBe(true);
    expect(p.body()).toBe('{"a":"bc"}\n');
    expect(used).toBe(Buffer.byteLength(chunked));
  });

  it('reads 304 and 204 without a body, and Retry-After in seconds', () => {
    expect(parse('HTTP/1.1 304 Not Modified\r\nETag: "v7"\r\n\r\n').p).toMatchObject({ status: 304, etag: '"v7"', complete: true });
    const { p } = parse('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 12\r\nContent-Length: 0\r\n\r\n');
    expect([p.status, p.retryAfterMs, p.complete]).toEqual([503, 12_000, true]);
    expect(parse('HTTP/1.1 204 No Content\r\n\r\n').p.retryAfterMs).toBe(NO_RETRY_AFTER);
  });

  it('skips 100 Continue and reads the answer after it', () => {
    const { p } = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}', 3);
    expect([p.status, p.body(), p.complete]).toEqual([201, '{}', true]);
  });

  it('reads a body that runs until the connection closes, and marks the connection for closing', () => {
    const { p } = parse('HTTP/1.0 200 OK\r\n\r\nhello');
    expect(p.complete).toBe(false);
    expect(p.endsAtClose).toBe(true);
    p.closed();
    expect([p.complete, p.body(), p.closeAfter]).toEqual([true, 'hello', true]);
  });

  it('honours Connection: close and HTTP/1.0 keep-alive', () => {
    expect(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').p.closeAfter).toBe(true);
    expect(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').p.closeAfter).toBe(false);
  });

  it('stops at the end of the answer and leaves bytes that answer no request unconsumed', () => {
    const { p, used } = parse(`${withLength}HTTP/1.1 200 OK\r\n`);
    expect(p.complete).toBe(true);
    expect(used).toBe(Buffer.byteLength(withLength));
  });

  it.each([
    ['not HTTP', 'SSH-2.0-OpenSSH_9.2\r\n\r\n'],
    ['a status out of range', 'HTTP/1.1 999 Nope\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
    ['an unknown transfer coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ])('calls %s malformed', (_what, text) => {
    expect(parse(text).p.malformed).toBe(true);
  });

  it('calls a head that never ends malformed once it passes 64 KiB, instead of buffering forever', () => {
    const { p } = parse(`HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(70_000)}`, 4096);
    expect(p.malformed).toBe(true);
  });
});

describe('Keep-Alive timeout hint', () => {
  it('reads the timeout parameter in ms, and -1 when it is absent or not whole seconds', () => {
    expect(keepAliveTimeoutMs('timeout=5, max=1000')).toBe(5000);
    expect(keepAliveTimeoutMs('max=1000, Timeout = 30')).toBe(30_000);
    expect(keepAliveTimeoutMs('max=1000')).toBe(-1);
    expect(keepAliveTimeoutMs('timeout=2.5')).toBe(-1);
    expect(keepAliveTimeoutMs('timeout=')).toBe(-1);
  });

  it("is taken from each answer's head, and forgotten for the next answer that does not send it", () => {
    const p = new Http1ResponseParser();
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=30\r\nContent-Length: 0\r\n\r\n'));
    expect(p.keepAliveMs).toBe(30_000);
    p.reset();
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(p.keepAliveMs).toBe(-1);
  });
});
