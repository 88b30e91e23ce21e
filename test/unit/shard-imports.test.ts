import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, SRC } from '../helpers/import-graph.js';

/**
 * What a shard process loads: hdr-histogram-js costs each of them ~5 MiB (bench/RESULTS.md,
 * "250,000 connected devices"), and shards only count samples (src/metrics/hdr-counts.ts); the
 * coordinator owns the library. This walks the source import graph from the shard entry points:
 * static imports and re-exports, and dynamic `import('...')` of literal paths (thread-shards.js),
 * but not `import type` (erased). Conservative: an import whose names are all types is counted.
 */
/** Every source file reached from `entries` and every package imported, each with one chain that reaches it. */
function importGraph(entries: string[]): { files: Map<string, string[]>; packages: Map<string, string[]> } {
  const files = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const queue = entries.map((e) => path.join(SRC, e));
  for (const e of queue) files.set(e, [path.relative(SRC, e)]);
  while (queue.length > 0) {
    const file = queue.shift()!;
    const chain = files.get(file)!;
    for (const edge of importsOf(file)) {
      if (edge.typeOnly) continue; // import type / export type: erased
      if (edge.file) {
        if (!files.has(edge.file)) {
          files.set(edge.file, [...chain, path.relative(SRC, edge.file)]);
          queue.push(edge.file);
        }
      } else if (!packages.has(edge.pkg!)) packages.set(edge.pkg!, [...chain, edge.spec]);
    }
  }
  return { files, packages };
}

describe('shard-side imports', () => {
  it('no shard entry point reaches hdr-histogram-js', () => {
    const shard = importGraph(['cli/shard-process.ts', 'engine/hosting/shard-worker.ts']);
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
