import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importsOf, sourceFiles, SRC } from '../helpers/import-graph.js';

/**
 * The directions of docs/architecture.md ("Import directions"): which folders of src/ each folder
 * may import. Type-only imports count too: a type is a dependency on a concept. A folder not in
 * this table fails the test, so a new one has to be placed deliberately.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  errors: [],
  'package-files': [],
  version: ['package-files'],
  collections: [],
  sockets: [],
  wire: ['errors'],
  metrics: ['errors'],
  models: ['errors'],
  payload: ['models', 'wire'],
  protocol: ['errors', 'models'],
  identity: ['errors', 'models'],
  summary: ['errors', 'metrics', 'models'],
  faults: ['errors', 'models', 'wire'],
  scenario: ['errors', 'faults', 'metrics', 'models', 'package-files', 'payload', 'protocol', 'wire'],
  drivers: ['collections', 'errors', 'faults', 'metrics', 'models', 'protocol', 'sockets', 'wire'],
  backend: ['collections', 'errors', 'identity', 'sockets', 'wire'],
  fleet: ['collections', 'errors', 'metrics', 'models', 'payload', 'summary', 'drivers'],
  'engine/clock': ['collections', 'fleet'],
  'engine/operator': ['engine/clock', 'errors', 'scenario', 'wire'],
  'engine/shard': ['engine/clock', 'engine/operator', 'fleet', 'drivers', 'errors', 'faults', 'identity', 'metrics', 'models', 'payload', 'scenario', 'summary', 'wire'],
  'engine/hosting': ['engine/shard', 'errors', 'metrics', 'package-files', 'scenario'],
  'engine/results': ['collections', 'engine/shard', 'engine/operator', 'faults', 'fleet', 'errors', 'metrics', 'models', 'scenario', 'summary', 'version', 'wire'],
  engine: ['engine/clock', 'engine/operator', 'engine/shard', 'engine/hosting', 'engine/results', 'backend', 'drivers', 'faults', 'errors', 'identity', 'metrics', 'models', 'payload', 'scenario', 'summary', 'version', 'wire'],
  report: ['errors', 'metrics', 'models', 'package-files', 'summary'],
  cli: ['*'],
};

/** A file's folder for the table: its top-level folder, or engine/<sub> inside engine/. */
function folderOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  if (parts.length === 1) return parts[0].replace(/\.ts$/, '');
  return parts[0] === 'engine' && parts.length > 2 ? `engine/${parts[1]}` : parts[0];
}

const files = sourceFiles();
const graph = new Map(files.map((f) => [f, importsOf(f).flatMap((e) => (e.file ? [e.file] : []))]));
const rel = (f: string) => path.relative(SRC, f);

describe('import directions', () => {
  it('every folder of src/ is placed in the table', () => {
    const unknown = [...new Set(files.map(folderOf))].filter((f) => !(f in MAY_IMPORT));
    expect(unknown).toEqual([]);
  });

  it('imports flow only the ways the table allows', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      const allowed = MAY_IMPORT[from] ?? [];
      for (const t of targets) {
        const to = folderOf(t);
        if (to !== from && !allowed.includes('*') && !allowed.includes(to)) wrong.push(`${rel(file)} -> ${rel(t)} (${from} may not import ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('fleet/ knows drivers only by their interface (drivers/types.ts), never a concrete driver', () => {
    const concrete = [...graph].flatMap(([file, targets]) =>
      folderOf(file) === 'fleet' ? targets.filter((t) => folderOf(t) === 'drivers' && rel(t) !== path.join('drivers', 'types.ts')).map((t) => `${rel(file)} -> ${rel(t)}`) : [],
    );
    expect(concrete).toEqual([]);
  });

  it('no file imports a file that (through others) imports it back', () => {
    expect(importCycles(graph).map((c) => c.map(rel))).toEqual([]);
  });

  it('the cycle finder finds circles (so an empty answer means something)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['d']], ['e', ['a']]]);
    expect(importCycles(g)).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('only cli/ ends the process (process.exit); everything else returns or throws', () => {
    const exits = files.filter((f) => folderOf(f) !== 'cli' && /\bprocess\.exit\(/.test(readFileSync(f, 'utf8'))).map(rel);
    expect(exits).toEqual([]);
  });
});
