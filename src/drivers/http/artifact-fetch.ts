import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { type Pool, undiciPool } from './undici-dispatchers.js';
import { undiciTls } from './transport.js';
import { BAD_RESPONSE, CANCELLED, NO_RETRY_AFTER, type TlsSettings } from '../types.js';
import type { ArtifactCheck } from '../preset.js';
import { failureStatus, TRANSPORT_CLOSED } from './request-slot.js';
import { parseRetryAfterMs } from './retry-after.js';

/**
 * Artifact downloads for devices: one HTTP Range request per chunk on a pool of its own (so that
 * long downloads never queue the small JSON requests of the other transport), streamed into an
 * incremental SHA-256 per device and counted, never buffered. A response cut mid-body still
 * reports the bytes that arrived, so the caller resumes from exactly there.
 *
 * Pacing to the link's bandwidth is the caller's job (it schedules the next chunk when the
 * modelled link would have delivered this one); this class moves bytes as fast as the backend
 * serves them, which is what the bench compares against.
 *
 * Concurrency (drivers/types.ts): single-threaded; the callback never runs inside `fetch`.
 */

export interface ArtifactFetchEvents {
  /** `status` as in FleetOpsEvents.onDownloadChunk; `retryAfterMs` NO_RETRY_AFTER when absent. */
  onChunk(dev: number, status: number, bytes: number, retryAfterMs: number, totalBytes: number): void;
}

/**
 * An artifact range request may take this many HTTP timeouts (a chunk is up to megabytes over a
 * slow link, where an API answer is a few hundred bytes): the wire driver's fetcher and the
 * modelled backend's stalls (drivers/model/fault-model.ts) use the same bound.
 */
export const ARTIFACT_TIMEOUT_FACTOR = 6;

class ChunkRequest implements Dispatcher.DispatchHandler {
  status = 0;
  bytes = 0;
  /** The artifact's whole size from Content-Range (or a 200's Content-Length), -1 when not said. */
  total = -1;
  retryAfterMs = NO_RETRY_AFTER;
  done = false;
  constructor(
    private readonly owner: ArtifactFetcher,
    readonly dev: number,
    private readonly hash: Hash,
    private readonly offset: number,
    private readonly check: ArtifactCheck | undefined,
  ) {}
  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    this.retryAfterMs = parseRetryAfterMs(headers['retry-after']);
    // A success that is not the range asked for would corrupt the digest: a bad response, no bytes kept.
    if (statusCode >= 200 && statusCode < 300 && !(statusCode === 206 ? rangeStartsAt(headers['content-range'], this.offset) : statusCode === 200 && this.offset === 0)) {
      this.status = BAD_RESPONSE;
    }
    if (this.status === 206) this.total = rangeTotal(headers['content-range']);
    else if (this.status === 200) this.total = Number(headers['content-length'] ?? -1);
  }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    // Only a successful body is artifact data; an error body is not hashed or counted.
    if (this.status !== 200 && this.status !== 206) return;
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.check?.push(chunk);
  }
  onResponseEnd(): void {
    this.owner.finish(this);
  }
  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    // A body cut mid-way keeps the bytes that arrived; the status says why it ended.
    this.status = failureStatus(err);
    this.retryAfterMs = NO_RETRY_AFTER;
    this.owner.finish(this);
  }
}

export class ArtifactFetcher {
  private readonly pool: Pool;
  /** Pools of other origins artifacts are served from (a CDN a preset's offer points to). */
  private readonly elsewhere = new Map<string, Pool>();
  /** Digest state per device while it downloads (sparse: only devices with an artifact in progress). */
  private readonly hashes: Array<Hash | undefined>;
  /** A preset's streaming check per device downloading (Mender: the artifact's manifest), instead of the SHA-256. */
  private readonly checks: Array<ArtifactCheck | undefined>;
  /** What the last checked artifact said it replaces: 0 nothing (the offer decides), 1 app, 2 os. */
  private readonly targets: Uint8Array;
  private inflight = 0;
  private closed = false;
  /** True inside undici's dispatch: an outcome reported then is answered on a later tick. */
  private dispatching = false;

  constructor(
    private readonly baseUrl: string,
    devices: number,
    private readonly connections: number,
    private readonly timeoutMs: number,
    private readonly events: ArtifactFetchEvents,
    private readonly tls?: TlsSettings,
  ) {
    this.pool = this.newPool(baseUrl);
    this.hashes = new Array(devices);
    this.checks = new Array(devices);
    this.targets = new Uint8Array(devices);
  }

  private newPool(origin: string): Pool {
    return new (undiciPool())(origin, { connections: Math.max(1, this.connections), pipelining: 1, connectTimeout: this.timeoutMs, ...undiciTls(this.tls) });
  }

  /** The pool and path of `pathOrUrl`: a path on the base URL, or an absolute URL (any origin). */
  private route(pathOrUrl: string): { pool: Pool; path: string } {
    if (!/^https?:\/\//i.test(pathOrUrl)) return { pool: this.pool, path: pathOrUrl };
    const u = new URL(pathOrUrl);
    const path = u.pathname + u.search;
    if (u.origin === new URL(this.baseUrl).origin) return { pool: this.pool, path };
    let pool = this.elsewhere.get(u.origin);
    if (pool === undefined) this.elsewhere.set(u.origin, (pool = this.newPool(u.origin)));
    return { pool, path };
  }

  /** Starts a download for `dev`, checked by `check` when given, else by its SHA-256. */
  begin(dev: number, check?: ArtifactCheck): void {
    this.hashes[dev] = createHash('sha256');
    this.checks[dev] = check;
  }

  /** `pathOrUrl`: a path on the base URL, or an absolute URL (another origin gets a pool of its own). */
  fetch(dev: number, pathOrUrl: string, headers: string[], offset: number, length: number): void {
    const hash = this.hashes[dev] ?? (this.hashes[dev] = createHash('sha256'));
    const req = new ChunkRequest(this, dev, hash, offset, this.checks[dev]);
    this.inflight++;
    if (this.closed) {
      req.status = CANCELLED;
      setImmediate(() => this.finish(req));
      return;
    }
    const h = [...headers, 'range', `bytes=${offset}-${offset + length - 1}`];
    this.dispatching = true;
    try {
      const { pool, path } = this.route(pathOrUrl);
      pool.dispatch({ path, method: 'GET', headers: h, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs }, req);
    } catch (err) {
      req.status = failureStatus(err);
      setImmediate(() => this.finish(req));
    } finally {
      this.dispatching = false;
    }
  }

  /** True when the bytes received since `begin` hash to `sha256`; forgets the digest state. */
  verify(dev: number, sha256: string): boolean {
    const h = this.hashes[dev];
    const check = this.checks[dev];
    this.hashes[dev] = undefined;
    this.checks[dev] = undefined;
    this.targets[dev] = 0;
    if (check !== undefined) {
      const verdict = check.finish();
      if (verdict.ok && verdict.target !== undefined) this.targets[dev] = verdict.target === 'os' ? 2 : 1;
      return verdict.ok;
    }
    return h !== undefined && h.digest('hex') === sha256;
  }

  /** What the artifact `verify` last passed for `dev` says it replaces; undefined: it does not say. */
  targetOf(dev: number): 'app' | 'os' | undefined {
    const t = this.targets[dev];
    return t === 0 ? undefined : t === 2 ? 'os' : 'app';
  }

  finish(req: ChunkRequest): void {
    if (req.done) return;
    if (this.dispatching) {
      setImmediate(() => this.finish(req));
      return;
    }
    req.done = true;
    this.inflight--;
    this.events.onChunk(req.dev, req.status, req.bytes, req.retryAfterMs, req.total);
  }

  inFlight(): number {
    return this.inflight;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool, ...this.elsewhere.values()].map((p) => p.destroy(TRANSPORT_CLOSED)));
  }
}

/** The complete length of a Content-Range header (`bytes a-b/TOTAL`), -1 when unknown. */
function rangeTotal(header: string | string[] | undefined): number {
  const text = Array.isArray(header) ? header[0] : header;
  const m = text === undefined ? null : /\/(\d+)\s*$/.exec(text);
  return m === null ? -1 : Number(m[1]);
}

/** Whether a Content-Range header (RFC 9110 §14.4) is `bytes <offset>-…`. */
function rangeStartsAt(header: string | string[] | undefined, offset: number): boolean {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined) return false;
  const m = /^\s*bytes\s+(\d+)-\d+\/(\d+|\*)\s*$/i.exec(text);
  return m !== null && Number(m[1]) === offset;
}
