import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachable } from '../helpers/import-graph.js';

/**
 * What a shard process of a wall-clock run loads before any of its code chooses something: its
 * entry, the worker entry and the wall runner, with their static imports. Every module loaded
 * there is held by every shard process (26 at 500,000 devices, each module's code and V8 metadata
 * in each one), so the code only some runs need is imported where it is chosen (bench/RESULTS.md,
 * "Shard process code"): the virtual clock's runner and backend model, the built-in presets but
 * the one the run names, the declarative preset, the X.509 identities, the profiler.
 */
const WALL_SHARD = ['cli/shard-process.ts', 'engine/hosting/shard-worker.ts', 'engine/shard/wall.ts'];

/** Files a wall-clock shard process must not load statically (prefixes under src/). */
const ONLY_WHERE_CHOSEN = ['engine/shard/virtual.ts', 'engine/clock/virtual-scheduler.ts', 'drivers/model/', 'engine/shard/profiler.ts', 'identity/', 'drivers/presets/', 'backend/', 'report/', 'scenario/schema', 'cli/commands/', 'cli/program.ts'];

describe('shard process imports', () => {
  const { files, packages } = reachable(WALL_SHARD, { staticOnly: true });
  const loaded = [...files.keys()].map((f) => path.relative(path.resolve(import.meta.dirname, '../../src'), f));

  it('a wall-clock shard loads no other clock, preset, identity or profiler code until it is chosen', () => {
    // drivers/presets/index.ts is the lookup itself: it imports each preset when asked for it.
    const unexpected = loaded.filter((f) => f !== 'drivers/presets/index.ts' && ONLY_WHERE_CHOSEN.some((p) => f.startsWith(p)));
    expect(unexpected.map((f) => `${f} (via ${files.get(path.resolve(import.meta.dirname, '../../src', f))!.join(' -> ')})`)).toEqual([]);
  });

  it('a wall-clock shard loads no package statically (each one it needs is imported where it is used)', () => {
    expect([...packages.keys()].filter((p) => !p.startsWith('node:'))).toEqual([]);
  });
});
