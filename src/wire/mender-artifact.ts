import { createHash, type Hash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { TarStreamReader, writeTar, type TarSink } from './tar-stream.js';

/**
 * Mender artifacts, format version 3, as `mender-artifact write` produces them: an outer tar of
 * `version`, `manifest` (sha256 and path per line), optionally `manifest.sig`, `header.tar[.gz]`
 * (`header-info` with the artifact name, payload types and compatible device types) and one
 * `data/NNNN.tar[.gz]` per payload, whose files the manifest lists as `data/NNNN/<file>`.
 * Source: mender-artifact's format description (mendersoftware/mender-artifact, Documentation/
 * artifact-format-v3.md) and what Debian's mender-artifact 3.9 writes.
 *
 * `MenderArtifactCheck` reads one artifact as it streams in, the way the Mender client checks it
 * while downloading: every manifest digest must match what arrived, the version must be 3.
 * Uncompressed payloads are hashed as they stream; a gzip payload is held (up to
 * MAX_COMPRESSED_PAYLOAD) and inflated at the end. xz and zstd payloads are refused: Node has no
 * streaming decoder for them. Signatures (`manifest.sig`) are not verified.
 */

export const MAX_COMPRESSED_PAYLOAD = 64 * 1024 * 1024;
const MAX_SMALL_ENTRY = 1024 * 1024;

export interface MenderArtifactInfo {
  name: string;
  deviceTypes: string[];
  payloadTypes: string[];
}

export type MenderCheckResult = ({ ok: true } & MenderArtifactInfo) | { ok: false; error: string };

export class MenderArtifactCheck implements TarSink {
  private readonly outer = new TarStreamReader(this);
  private readonly digests = new Map<string, string>();
  private manifest: Map<string, string> | undefined;
  private version: string | undefined;
  private headerBytes: Buffer | undefined;
  private headerGz = false;
  private entry = '';
  private small: Buffer[] | undefined;
  private smallSize = 0;
  private hash: Hash | undefined;
  /** The payload being read: its inner tar (uncompressed) or its gzip bytes. */
  private payload: { prefix: string; inner?: TarStreamReader; gz?: Buffer[]; gzSize: number } | undefined;
  private readonly payloads: Array<{ prefix: string; gz: Buffer }> = [];
  private failure: string | undefined;
  /** Bytes pushed so far. */
  bytes = 0;

  push(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.bytes += chunk.length;
    this.outer.push(chunk);
    if (this.outer.error !== undefined) this.failure ??= this.outer.error;
  }

  /** The verdict once every byte is in; the check cannot be fed after this. */
  finish(): MenderCheckResult {
    if (this.failure !== undefined) return { ok: false, error: this.failure };
    if (!this.outer.atBoundary) return { ok: false, error: 'artifact ends inside an entry' };
    for (const p of this.payloads) {
      let raw: Buffer;
      try {
        raw = gunzipSync(p.gz);
      } catch {
        return { ok: false, error: `payload ${p.prefix} is not valid gzip` };
      }
      const inner = new TarStreamReader(new InnerFiles(this.digests, p.prefix));
      inner.push(raw);
      if (inner.error !== undefined) return { ok: false, error: `payload ${p.prefix}: ${inner.error}` };
    }
    if (this.version === undefined) return { ok: false, error: 'no version entry' };
    try {
      const v = JSON.parse(this.version) as { format?: unknown; version?: unknown };
      if (v.format !== 'mender' || v.version !== 3) return { ok: false, error: `unsupported artifact version ${this.version}` };
    } catch {
      return { ok: false, error: 'version entry is not JSON' };
    }
    if (this.manifest === undefined) return { ok: false, error: 'no manifest' };
    for (const [path, want] of this.manifest) {
      const got = this.digests.get(path);
      if (got === undefined) return { ok: false, error: `manifest lists ${path}, which the artifact lacks` };
      if (got !== want) return { ok: false, error: `checksum mismatch for ${path}` };
    }
    for (const path of this.digests.keys()) if (!this.manifest.has(path)) return { ok: false, error: `${path} is not in the manifest` };
    if (this.headerBytes === undefined) return { ok: false, error: 'no header' };
    const info = readHeaderInfo(this.headerGz ? safeGunzip(this.headerBytes) : this.headerBytes);
    return info === undefined ? { ok: false, error: 'header-info unreadable' } : { ok: true, ...info };
  }

  // --- TarSink of the outer archive ---

  onEntry(name: string, size: number): void {
    this.entry = name;
    this.small = undefined;
    this.hash = undefined;
    this.payload = undefined;
    if (name === 'version' || name === 'manifest' || name === 'manifest.sig' || name === 'header.tar' || name === 'header.tar.gz') {
      if (size > MAX_SMALL_ENTRY) return this.fail(`${name} is ${size} bytes, more than an artifact header holds`);
      this.small = [];
      this.smallSize = 0;
      if (name !== 'manifest' && name !== 'manifest.sig') this.hash = createHash('sha256');
      return;
    }
    const m = /^data\/(\d{4})\.tar(\.gz)?$/.exec(name);
    if (m === null) return this.fail(`unexpected artifact entry ${name}`);
    const prefix = `data/${m[1]}`;
    if (m[2] === undefined) this.payload = { prefix, inner: new TarStreamReader(new InnerFiles(this.digests, prefix)), gzSize: 0 };
    else if (size > MAX_COMPRESSED_PAYLOAD) this.fail(`gzip payload of ${size} bytes exceeds ${MAX_COMPRESSED_PAYLOAD}`);
    else this.payload = { prefix, gz: [], gzSize: 0 };
  }

  onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    if (this.small !== undefined) {
      this.small.push(Buffer.from(chunk));
      this.smallSize += chunk.length;
      this.hash?.update(chunk);
      return;
    }
    const p = this.payload;
    if (p?.inner !== undefined) {
      p.inner.push(chunk);
      if (p.inner.error !== undefined) this.fail(`${p.prefix}: ${p.inner.error}`);
    } else if (p?.gz !== undefined) {
      p.gz.push(Buffer.from(chunk));
      p.gzSize += chunk.length;
    }
  }

  onEntryEnd(): void {
    if (this.small !== undefined) {
      const body = Buffer.concat(this.small, this.smallSize);
      const name = this.entry;
      if (this.hash !== undefined) this.digests.set(name, this.hash.digest('hex'));
      if (name === 'version') this.version = body.toString('utf8');
      else if (name === 'manifest') this.manifest = parseManifest(body.toString('utf8'));
      else if (name.startsWith('header.tar')) {
        this.headerBytes = body;
        this.headerGz = name.endsWith('.gz');
      }
      this.small = undefined;
      return;
    }
    const p = this.payload;
    if (p?.gz !== undefined) this.payloads.push({ prefix: p.prefix, gz: Buffer.concat(p.gz, p.gzSize) });
    this.payload = undefined;
  }

  private fail(why: string): void {
    this.failure ??= why;
  }
}

/** Hashes each file of a payload's inner tar under `data/NNNN/<file>`. */
class InnerFiles implements TarSink {
  private hash: Hash | undefined;
  private name = '';
  constructor(
    private readonly digests: Map<string, string>,
    private readonly prefix: string,
  ) {}
  onEntry(name: string): void {
    this.name = `${this.prefix}/${name}`;
    this.hash = createHash('sha256');
  }
  onData(chunk: Buffer): void {
    this.hash?.update(chunk);
  }
  onEntryEnd(): void {
    if (this.hash !== undefined) this.digests.set(this.name, this.hash.digest('hex'));
    this.hash = undefined;
  }
}

function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64})\s+(\S+)$/.exec(line.trim());
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

function safeGunzip(b: Buffer): Buffer {
  try {
    return gunzipSync(b);
  } catch {
    return Buffer.alloc(0);
  }
}

/** Artifact name, payload types and compatible devices from a header tar's `header-info`. */
function readHeaderInfo(headerTar: Buffer): MenderArtifactInfo | undefined {
  let text: string | undefined;
  const chunks: Buffer[] = [];
  let inInfo = false;
  const reader = new TarStreamReader({
    onEntry: (name) => (inInfo = name === 'header-info'),
    onData: (c) => {
      if (inInfo) chunks.push(Buffer.from(c));
    },
    onEntryEnd: () => {
      if (inInfo) text = Buffer.concat(chunks).toString('utf8');
      inInfo = false;
    },
  });
  reader.push(headerTar);
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as {
      payloads?: Array<{ type?: unknown }>;
      artifact_provides?: { artifact_name?: unknown };
      artifact_depends?: { device_type?: unknown };
    };
    const name = h.artifact_provides?.artifact_name;
    const types = h.artifact_depends?.device_type;
    if (typeof name !== 'string' || !Array.isArray(types) || !types.every((t) => typeof t === 'string')) return undefined;
    const payloadTypes = (h.payloads ?? []).map((p) => String(p.type ?? ''));
    return { name, deviceTypes: types as string[], payloadTypes };
  } catch {
    return undefined;
  }
}

/** Reads a whole artifact (the fake does this when an artifact is uploaded). */
export function inspectMenderArtifact(bytes: Buffer): MenderCheckResult {
  const c = new MenderArtifactCheck();
  c.push(bytes);
  return c.finish();
}

export interface SyntheticArtifactSpec {
  name: string;
  deviceTypes: readonly string[];
  /** `rootfs-image`, or an update module type (default `script`, which Mender clients ship). */
  payloadType?: string;
  files: ReadonlyArray<{ name: string; data: Buffer }>;
  compression?: 'none' | 'gzip';
}

/**
 * A module-image or rootfs-image artifact (format 3) with the layout mender-artifact writes, for
 * fakes and tests. Type-info as mender-artifact 3.9 writes it: a module's provides its version
 * under `rootfs-image.<type>.version`; a rootfs-image leaves `type` empty in type-info (its type is
 * in header-info) and provides `rootfs-image.version` and the image's checksum.
 */
export function buildMenderArtifact(spec: SyntheticArtifactSpec): Buffer {
  const type = spec.payloadType ?? 'script';
  const gz = spec.compression === 'gzip';
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const version = Buffer.from('{"format":"mender","version":3}');
  const headerInfo = { payloads: [{ type }], artifact_provides: { artifact_name: spec.name }, artifact_depends: { device_type: [...spec.deviceTypes] } };
  const typeInfo =
    type === ROOTFS_IMAGE
      ? {
          type: '',
          artifact_provides: { 'rootfs-image.checksum': spec.files.length > 0 ? sha(spec.files[0].data) : '', 'rootfs-image.version': spec.name },
          clears_artifact_provides: ['artifact_group', 'rootfs_image_checksum', 'rootfs-image.*'],
        }
      : { type, artifact_provides: { [`rootfs-image.${type}.version`]: spec.name }, clears_artifact_provides: [`rootfs-image.${type}.*`] };
  let header = writeTar([
    { name: 'header-info', data: Buffer.from(JSON.stringify(headerInfo)) },
    { name: 'headers/0000/type-info', data: Buffer.from(JSON.stringify(typeInfo)) },
  ]);
  let data = writeTar(spec.files);
  if (gz) {
    header = gzipSync(header);
    data = gzipSync(data);
  }
  const headerName = gz ? 'header.tar.gz' : 'header.tar';
  const lines = [
    ...spec.files.map((f) => `${sha(f.data)}  data/0000/${f.name}`),
    `${sha(header)}  ${headerName}`,
    `${sha(version)}  version`,
  ].sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
  return writeTar([
    { name: 'version', data: version },
    { name: 'manifest', data: Buffer.from(lines.join('\n') + '\n') },
    { name: headerName, data: header },
    { name: gz ? 'data/0000.tar.gz' : 'data/0000.tar', data },
  ]);
}

/** The payload type of a full root filesystem image (A/B update), as opposed to an update module's type. */
export const ROOTFS_IMAGE = 'rootfs-image';

/** The `device_type` of fleetsim's Mender devices and of the artifacts the Mender fake builds for them. */
export const FLEETSIM_MENDER_DEVICE_TYPE = 'fleetsim-device';
/** The artifact fleetsim's Mender devices run before their first update. */
export const FLEETSIM_MENDER_BASE_ARTIFACT = 'fleetsim-base';
