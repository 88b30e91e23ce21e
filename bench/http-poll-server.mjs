// The server side of bench/http-poll.mjs, in its own process so that neither client shares its CPU.
// A plain node:http server answering a target-state poll the way a fleet API does: a small JSON
// body with an ETag, and 304 with no body when If-None-Match matches. Prints its port as JSON.
import http from 'node:http';

const BODY = JSON.stringify({
  release: 'r-2026.11.3',
  artifact: { name: 'fw-esp32-r-2026.11.3.bin', size: 1_572_864, sha256: 'a'.repeat(64) },
  config: { telemetryEvery: '60s', logLevel: 'info' },
  pollAfter: 300,
});
const ETAG = '"r-2026.11.3-cfg7"';
const HEADERS_200 = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), etag: ETAG };
const HEADERS_304 = { etag: ETAG };

const server = http.createServer((req, res) => {
  if (req.headers['if-none-match'] === ETAG) {
    res.writeHead(304, HEADERS_304);
    res.end();
    return;
  }
  res.writeHead(200, HEADERS_200);
  res.end(BODY);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port, etag: ETAG }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
