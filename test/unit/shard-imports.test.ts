import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What a shard process loads: hdr-histogram-js costs each of them ~5 MiB (bench/RESULTS.md,
 * "250,000 connected devices"), and shards only count samples (src/metrics/hdr-counts.ts); the
 * coordinator owns the library. This walks the source import graph from the shard entry points:
 * static imports and re-exports, and dynamic `import('...')` of literal paths (thread-shards.js),
 * but not `import type` (erased). Conservative: an import whose names are all types is counted.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'";]*?\sfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

/** Every source file reached from `entries` and every package imported, each with one chain that reaches it. */
function importGraph(entries: string[]): { files: Map<string, string[]>; packages: Map<string, string[]> } {
  const files = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const queue = entries.map((e) => path.join(SRC, e));
  for (const e of queue) files.set(e, [path.relative(SRC, e)]);
  while (queue.length > 0) {
    const file = queue.shift()!;
    const chain = files.get(file)!;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (m[1]) continue; // import type / export type
      const spec = m[2] ?? m[3] ?? m[4];
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
        if (!existsSync(target)) throw new Error(`${path.relative(SRC, file)}: cannot resolve ${spec}`);
        if (!files.has(target)) {
          files.set(target, [...chain, path.relative(SRC, target)]);
          queue.push(target);
        }
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!packages.has(pkg)) packages.set(pkg, [...chain, spec]);
      }
    }
  }
  return { files, packages };
}

describe('shard-side imports', () => {
  it('no shard entry point reaches hdr-histogram-js', () => {
    const shard = importGraph(['engine/hosting/process-host.ts', 'engine/hosting/shard-worker.ts']);
    // The walk does reach the shard's metrics and both ways of hosting shards.
    for (const f of ['metrics/registry.ts', 'metrics/hdr-counts.ts', 'engine/hosting/thread-shards.ts', 'engine/hosting/inline-shards.ts', 'engine/shard/runtime.ts']) {
      expect(shard.files.has(path.join(SRC, f)), f).toBe(true);
    }
    expect(shard.packages.get('hdr-histogram-js') ?? null).toBeNull();
    expect(shard.files.has(path.join(SRC, 'metrics/histogram.ts'))).toBe(false);
  });

  it('the coordinator still reaches it (the walk finds the library where it is)', () => {
    const coordinator = importGraph(['engine/coordinator.ts']);
    expect(coordinator.packages.get('hdr-histogram-js')).toBeDefined();
  });
});
