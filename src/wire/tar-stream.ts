/**
 * POSIX tar (ustar) as Mender artifacts carry it: a streaming reader fed chunk by chunk (so a
 * device can check an artifact while it downloads, never holding it whole) and a writer for
 * small archives (synthetic artifacts of the fakes and tests).
 *
 * Only what artifacts use is read: regular files ('0' or NUL type), with PAX extended headers
 * ('x', 'g') and GNU long names ('L') honoured for the name and skipped otherwise; any other
 * entry type is passed over by its size.
 */

const BLOCK = 512;

export interface TarSink {
  /** A regular file starts; `size` bytes of it follow through onData. */
  onEntry(name: string, size: number): void;
  onData(chunk: Buffer): void;
  /** The current entry's bytes are all delivered. */
  onEntryEnd(): void;
}

/** Feed bytes in any split; calls the sink as entries start, stream and end. */
export class TarStreamReader {
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Body bytes of the current entry still to come, then padding to the block. */
  private remaining = 0;
  private padding = 0;
  private kind: 'file' | 'skip' | 'pax' | 'longname' = 'skip';
  private meta: Buffer[] = [];
  private nextName: string | undefined;
  private zeroBlocks = 0;
  /** Why the stream is unreadable, once it is. */
  error: string | undefined;

  constructor(private readonly sink: TarSink) {}

  /** True after the two zero blocks that end an archive. */
  get ended(): boolean {
    return this.zeroBlocks >= 2;
  }

  /** True when no entry is half read (a stream cut here ends cleanly between entries). */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.padding === 0 && this.headerFill === 0;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.error === undefined && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        const part = chunk.subarray(at, at + n);
        if (this.kind === 'file') this.sink.onData(part);
        else if (this.kind !== 'skip') this.meta.push(Buffer.from(part));
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.endEntry();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - at);
        this.padding -= n;
        at += n;
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
      chunk.copy(this.header, this.headerFill, at, at + n);
      this.headerFill += n;
      at += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.readHeader();
      }
    }
  }

  private readHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.zeroBlocks++;
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) {
      this.error = 'tar header checksum mismatch';
      return;
    }
    const size = octal(h, 124, 12);
    if (size < 0) {
      this.error = 'tar header has an unreadable size';
      return;
    }
    const type = String.fromCharCode(h[156]);
    const prefix = cString(h, 345, 155);
    const name = this.nextName ?? (prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100));
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === '0' || type === '\0') {
      this.nextName = undefined;
      this.kind = 'file';
      this.sink.onEntry(name, size);
    } else if (type === 'x') {
      this.kind = 'pax';
    } else if (type === 'L') {
      this.kind = 'longname';
    } else {
      this.nextName = undefined;
      this.kind = 'skip';
    }
    if (size === 0) this.endEntry();
  }

  private endEntry(): void {
    if (this.kind === 'file') this.sink.onEntryEnd();
    else if (this.kind === 'pax') this.nextName = paxPath(Buffer.concat(this.meta));
    else if (this.kind === 'longname') this.nextName = cString(Buffer.concat(this.meta), 0, Number.MAX_SAFE_INTEGER);
    this.meta = [];
    this.kind = 'skip';
  }
}

function cString(b: Buffer, at: number, len: number): string {
  const end = Math.min(b.length, at + len);
  let z = at;
  while (z < end && b[z] !== 0) z++;
  return b.toString('utf8', at, z);
}

function octal(b: Buffer, at: number, len: number): number {
  // Base-256 (GNU) sizes set the high bit; artifacts never need them.
  if (b[at] & 0x80) return -1;
  const text = cString(b, at, len).trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : -1;
}

function checksumOk(h: Buffer): boolean {
  const want = octal(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return want === sum;
}

function paxPath(records: Buffer): string | undefined {
  // Records are "<len> key=value\n".
  for (const line of records.toString('utf8').split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** A small tar archive of regular files, in order (ustar headers, names up to 100 bytes). */
export function writeTar(files: ReadonlyArray<{ name: string; data: Buffer }>, mtimeSec = 0): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    if (Buffer.byteLength(f.name) > 100) throw new Error(`tar name longer than 100 bytes: ${f.name}`);
    const h = Buffer.alloc(BLOCK);
    h.write(f.name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(f.data.length.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    h.write(mtimeSec.toString(8).padStart(11, '0') + '\0', 136, 'ascii');
    h.write('0', 156, 'ascii');
    h.write('ustar\0' + '00', 257, 'ascii');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i];
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    parts.push(h, f.data, Buffer.alloc((BLOCK - (f.data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
