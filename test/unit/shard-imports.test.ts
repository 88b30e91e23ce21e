import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachable as importGraph, SRC } from '../helpers/import-graph.js';

/**
 * What a shard process loads: hdr-histogram-js costs each of them ~5 MiB (bench/RESULTS.md,
 * "250,000 connected devices"), and shards only count samples (src/metrics/hdr-counts.ts); the
 * coordinator owns the library. This walks the source import graph from the shard entry points:
 * static imports and re-exports, and dynamic `import('...')` of literal paths (thread-shards.js),
 * but not `import type` (erased). Conservative: an import whose names are all types is counted.
 */

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

/**
 * What every run pays for at start, in the coordinator and in each shard thread or process: the
 * packages loaded with the entry points, before any of their code runs. TLS (@peculiar/x509 and
 * its polyfill), aedes, mqtt.js (the counting subscribers), prom-client and undici's dispatchers
 * are loaded only by the runs that use them: loading them took ~0.45 s of CPU per shard thread
 * and ~0.8 s in the coordinator (bench/RESULTS.md, "Provisioning CPU per device").
 */
describe('packages loaded at start only where used', () => {
  const lazy = ['@peculiar/x509', 'reflect-metadata', 'aedes', 'mqtt', 'prom-client'];
  it('no entry point loads them before a run asks for them', () => {
    const atStart = importGraph(['cli/program.ts', 'cli/shard-process.ts', 'engine/hosting/shard-worker.ts'], { staticOnly: true });
    for (const pkg of lazy) expect(atStart.packages.get(pkg) ?? null, pkg).toBeNull();
  });

  it('the runs that use them still reach them (the walk finds them where they are)', () => {
    const all = importGraph(['cli/program.ts', 'cli/shard-process.ts', 'engine/hosting/shard-worker.ts']);
    for (const pkg of lazy) expect(all.packages.get(pkg), pkg).toBeDefined();
  });
});
