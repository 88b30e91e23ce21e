import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a bench helper, plain JavaScript without declarations
import { codeNamer, readJitdump } from '../../bench/lib/jitdump.mjs';
// @ts-expect-error: a bench helper, plain JavaScript without declarations
import { selfCosts } from '../../bench/lib/callgrind-costs.mjs';

/**
 * bench/virtual-callgrind.mjs names valgrind's per-instruction counts with V8's jitdump; the
 * figures bench/RESULTS.md gives from it are only as right as these two readers. Both are fed
 * files written here byte by byte from the formats' specifications (the kernel's
 * jitdump-specification.txt, valgrind's "Callgrind Format Specification").
 */
const dir = mkdtempSync(path.join(tmpdir(), 'fleetsim-callgrind-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function record(id: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(id, 0);
  head.writeUInt32LE(16 + body.length, 4);
  return Buffer.concat([head, body]);
}

function codeLoad(start: number, size: number, name: string): Buffer {
  const fixed = Buffer.alloc(40);
  fixed.writeBigUInt64LE(BigInt(start), 8); // vma
  fixed.writeBigUInt64LE(BigInt(start), 16); // code address
  fixed.writeBigUInt64LE(BigInt(size), 24);
  return record(0, Buffer.concat([fixed, Buffer.from(`${name}\0`), Buffer.alloc(size)]));
}

/** Line entries as V8 writes them: each address an ELF header (0x40) past the instruction. */
function debugInfo(start: number, entries: [number, number][]): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeBigUInt64LE(BigInt(start), 0);
  fixed.writeBigUInt64LE(BigInt(entries.length), 8);
  const parts = entries.map(([offset, line]) => {
    const e = Buffer.alloc(16);
    e.writeBigUInt64LE(BigInt(start + offset + 0x40), 0);
    e.writeUInt32LE(line, 8);
    return Buffer.concat([e, Buffer.from('file:///x/dist/a.js\0')]);
  });
  return record(2, Buffer.concat([fixed, ...parts]));
}

function jitdump(records: Buffer[]): string {
  const header = Buffer.alloc(40);
  header.writeUInt32LE(0x4a695444, 0);
  header.writeUInt32LE(1, 4);
  header.writeUInt32LE(40, 8);
  const file = path.join(dir, `jit-${Math.random().toString(36).slice(2)}.dump`);
  writeFileSync(file, Buffer.concat([header, ...records]));
  return file;
}

describe('bench/lib/jitdump.mjs', () => {
  it('names an address by the newest code covering it, with the line of its instruction range', () => {
    const file = jitdump([
      debugInfo(0x1000, [
        [0, 10],
        [0x20, 12],
      ]),
      codeLoad(0x1000, 0x40, 'JS:*flush file:///x/dist/a.js:9:3'),
      codeLoad(0x2000, 0x10, 'JS:^old file:///x/dist/b.js:1:1'),
      // Reused address: code loaded later over the same range wins.
      codeLoad(0x2000, 0x10, 'JS:*new file:///x/dist/b.js:5:1'),
    ]);
    const codes = readJitdump(file);
    expect(codes).toHaveLength(3);
    const byFunction = codeNamer(codes, false);
    const byLine = codeNamer(codes, true);
    expect(byFunction(0x1008)).toBe('*flush file:///x/dist/a.js:9:3');
    expect(byLine(0x1008)).toBe('*flush file:///x/dist/a.js:9:3 @10');
    expect(byLine(0x1020)).toBe('*flush file:///x/dist/a.js:9:3 @12');
    expect(byLine(0x2004)).toBe('*new file:///x/dist/b.js:5:1 @?');
    expect(byFunction(0x3000)).toBe('(unknown code)');
  });

  it('refuses a file that is not a jitdump', () => {
    const file = path.join(dir, 'not.dump');
    writeFileSync(file, Buffer.alloc(64));
    expect(() => readJitdump(file)).toThrow(/not a jitdump/);
  });
});

describe('bench/lib/callgrind-costs.mjs', () => {
  it('sums self costs per location: relative addresses, compressed names, call costs left out', async () => {
    const file = path.join(dir, 'callgrind.out');
    writeFileSync(
      file,
      [
        'version: 1',
        'positions: instr line',
        'events: Ir Bc Bcm',
        'fl=(1) ???',
        'fn=(1) ???',
        '0x1000 0 5 1',
        '+8 * 3',
        'cfn=(2) memcpy',
        'calls=1 0x9000 0',
        '+4 * 1000 1000 1000',
        '+4 * 2 1 1',
        'fl=(2) libc.so',
        'fn=(2)',
        '0x9000 0 7 2',
        'fn=(1)',
        '0x2000 0 4',
        '',
      ].join('\n'),
    );
    const nameOf = (a: number) => (a < 0x2000 ? 'flush' : 'other');
    const { names, total, self } = await selfCosts(file, nameOf);
    expect(names).toEqual(['Ir', 'Bc', 'Bcm']);
    expect(self.get('flush')).toEqual([5 + 3 + 2, 1 + 1, 1]);
    expect(self.get('native memcpy')).toEqual([7, 2, 0]);
    expect(self.get('other')).toEqual([4, 0, 0]);
    expect(total).toEqual([21, 4, 1]);
  });
});
