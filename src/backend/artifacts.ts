import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { artifactRefs, type ArtifactRef, type ReleaseInfo, type ReleaseSpec } from '../wire/fleet-ops.js';

/**
 * Releases and their artifacts, served with HTTP Range. Artifact bytes are synthetic but fixed:
 * a 1 MiB pseudo-random block (seeded by the artifact's name) repeated to the artifact's size, so
 * a 20 MB artifact costs 1 MiB of memory, its SHA-256 is real and a range is written as
 * zero-copy slices of the block. Fault injection: a response can be cut after N bytes (an
 * interrupted download), and an artifact can be corrupted for chosen devices (one byte flipped).
 *
 * Concurrency: the backend's event loop only.
 */

const BLOCK = 1 << 20;

export interface Artifact {
  ref: ArtifactRef;
  block: Buffer;
}

/** Fills a block from a seed string with xorshift32 (fast, deterministic, not cryptographic). */
function makeBlock(seed: string): Buffer {
  const b = Buffer.allocUnsafe(BLOCK);
  let x = 2166136261;
  for (let i = 0; i < seed.length; i++) x = Math.imul(x ^ seed.charCodeAt(i), 16777619);
  x = x >>> 0 || 1;
  for (let i = 0; i < BLOCK; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

function sha256Of(block: Buffer, size: number): string {
  const h = createHash('sha256');
  for (let o = 0; o < size; o += BLOCK) h.update(block.subarray(0, Math.min(BLOCK, size - o)));
  return h.digest('hex');
}

/** Position of the byte flipped in a corrupted copy. */
export function corruptAt(size: number): number {
  return Math.floor(size / 2);
}

export class ArtifactStore {
  private readonly releases = new Map<string, ReleaseInfo>();
  private readonly artifacts = new Map<string, Artifact>();
  requests = 0;
  bytesServed = 0;

  addRelease(spec: ReleaseSpec): ReleaseInfo {
    const blocks = new Map<string, Buffer>();
    const refs = artifactRefs(spec, (name) => {
      const block = makeBlock(name);
      blocks.set(name, block);
      const size = name.includes('-from-') ? spec.delta!.size : spec.size;
      return sha256Of(block, size);
    });
    for (const ref of refs) this.artifacts.set(ref.name, { ref, block: blocks.get(ref.name)! });
    const info: ReleaseInfo = { name: spec.name, target: spec.target, artifacts: refs };
    this.releases.set(spec.name, info);
    return info;
  }

  release(name: string): ReleaseInfo | undefined {
    return this.releases.get(name);
  }

  get(name: string): Artifact | undefined {
    return this.artifacts.get(name);
  }

  /**
   * Serves `artifact` for one request. `cutAfter` >= 0 ends the connection after that many body
   * bytes (fault injection); `corrupt` flips one byte. Returns the bytes counted for the device
   * through `count` once they are written.
   */
  serve(req: IncomingMessage, res: ServerResponse, a: Artifact, opts: { cutAfter: number; corrupt: boolean; count: (bytes: number) => void }): void {
    this.requests++;
    const size = a.ref.size;
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    const [start, end] = range ?? [0, size - 1];
    const length = end - start + 1;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': length,
      'accept-ranges': 'bytes',
      etag: `"${a.ref.sha256}"`,
    };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const limit = opts.cutAfter >= 0 ? Math.min(length, opts.cutAfter) : length;
    const flip = opts.corrupt ? corruptAt(size) : -1;
    const slices = this.slices(a.block, start, start + limit, flip);
    for (const s of slices) res.write(s);
    if (limit < length) {
      // Interrupted download: what was written reaches the device, then the connection drops.
      res.write(Buffer.alloc(0), () => {
        this.bytesServed += limit;
        opts.count(limit);
        res.destroy();
      });
      return;
    }
    res.end(() => {
      this.bytesServed += length;
      opts.count(length);
    });
  }

  /** Zero-copy slices of the repeated block covering [from, to), with byte `flip` inverted. */
  private slices(block: Buffer, from: number, to: number, flip: number): Buffer[] {
    const out: Buffer[] = [];
    let o = from;
    while (o < to) {
      const inBlock = o % BLOCK;
      const n = Math.min(BLOCK - inBlock, to - o);
      let s = block.subarray(inBlock, inBlock + n);
      if (flip >= o && flip < o + n) {
        s = Buffer.from(s);
        s[flip - o] ^= 0xff;
      }
      out.push(s);
      o += n;
    }
    return out;
  }
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` (one range); undefined for no header, 'unsatisfiable' when out of range. */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // not a form we serve: whole file (RFC 9110 allows ignoring)
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}
