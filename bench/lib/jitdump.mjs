// Reader of the jitdump files V8 writes under `node --perf-prof` (Linux perf's format, described in
// the kernel's tools/perf/Documentation/jitdump-specification.txt): every piece of code V8 compiled,
// with its address, size and name, and for optimized JavaScript the source line of each instruction
// range. bench/virtual-callgrind.mjs uses it to give valgrind's per-instruction counts a name.
import { readFileSync } from 'node:fs';

const MAGIC = 0x4a695444; // 'JiTD', little-endian
const JIT_CODE_LOAD = 0;
const JIT_CODE_DEBUG_INFO = 2;
/**
 * V8 writes each line entry's address as code start + offset + the size of an ELF header, because
 * `perf inject` places the code after one in the file it makes of each function; taken off here.
 */
const ELF_HEADER_BYTES = 0x40;

/**
 * Every code load of the dump, ordered by start address (then by load order): { start, size, name,
 * order, lines } where `lines` is undefined or [address, line] pairs sorted by address. A line is
 * the innermost inlined function's line, but V8 names the outer function's script with it, so a
 * line of inlined code can belong to another file.
 */
export function readJitdump(file) {
  const b = readFileSync(file);
  if (b.readUInt32LE(0) !== MAGIC) throw new Error(`${file}: not a jitdump (bad magic)`);
  const codes = [];
  let pendingLines;
  const cstring = (at) => {
    let end = at;
    while (b[end] !== 0) end++;
    return [b.toString('utf8', at, end), end + 1];
  };
  for (let o = b.readUInt32LE(8); o + 16 <= b.length; ) {
    const id = b.readUInt32LE(o);
    const size = b.readUInt32LE(o + 4);
    if (size === 0) break;
    const body = o + 16;
    if (id === JIT_CODE_LOAD) {
      const start = Number(b.readBigUInt64LE(body + 16));
      const codeSize = Number(b.readBigUInt64LE(body + 24));
      const [name] = cstring(body + 40);
      codes.push({ start, size: codeSize, name, order: codes.length, lines: pendingLines });
      pendingLines = undefined;
    } else if (id === JIT_CODE_DEBUG_INFO) {
      const entries = Number(b.readBigUInt64LE(body + 8));
      const lines = [];
      let q = body + 16;
      for (let i = 0; i < entries; i++) {
        const address = Number(b.readBigUInt64LE(q)) - ELF_HEADER_BYTES;
        const line = b.readUInt32LE(q + 8);
        q = cstring(q + 16)[1];
        lines.push([address, line]);
      }
      pendingLines = lines.sort((x, y) => x[0] - y[0]);
    }
    o += size;
  }
  return codes.sort((x, y) => x.start - y.start || x.order - y.order);
}

/** A lookup from an instruction address to "name" or "name @line": the newest code covering it wins (V8 reuses addresses). */
export function codeNamer(codes, byLine) {
  const longest = codes.reduce((m, c) => Math.max(m, c.size), 0);
  const cache = new Map();
  return (address) => {
    let name = cache.get(address);
    if (name !== undefined) return name;
    let lo = 0;
    let hi = codes.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (codes[mid].start <= address) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    let pick;
    for (let i = at; i >= 0 && codes[i].start + longest > address; i--) {
      if (address < codes[i].start + codes[i].size && (!pick || codes[i].order > pick.order)) pick = codes[i];
    }
    name = pick ? pick.name.replace(/^JS:/, '') : '(unknown code)';
    if (pick && byLine) name += ` @${lineAt(pick.lines, address)}`;
    cache.set(address, name);
    return name;
  };
}

function lineAt(lines, address) {
  if (!lines) return '?';
  let lo = 0;
  let hi = lines.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid][0] <= address) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return at < 0 ? 'entry' : String(lines[at][1]);
}
