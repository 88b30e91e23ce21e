import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachable, SRC } from '../helpers/import-graph.js';

/**
 * What a virtual-clock run loads in the coordinator before its code chooses anything: the scenario
 * loader and the coordinator with their static imports (bench/virtual-child.mjs and `fleetsim run`
 * start there). The virtual clock's target is the backend model in each shard, so the code that
 * starts local backends, Mosquitto, TLS and fault proxies is imported by the wall clock where it is
 * chosen: it was ~55 modules and ~0.04 CPU-s of every virtual run's start-up (bench/RESULTS.md,
 * "Virtual-clock start-up, round 7").
 */
const ENTRIES = ['scenario/load.ts', 'engine/coordinator.ts'];
const WALL_ONLY = ['engine/target-setup.ts', 'engine/target-tls.ts', 'engine/fault-injection.ts', 'backend/', 'identity/', 'drivers/mqtt/', 'faults/http-proxy.ts', 'faults/mqtt-proxy.ts', 'faults/tls-passthrough.ts'];

describe('coordinator imports', () => {
  it('a virtual-clock run loads no local-target or fault-proxy code until the wall clock asks for it', () => {
    const { files } = reachable(ENTRIES, { staticOnly: true });
    const loaded = [...files.keys()].map((f) => path.relative(SRC, f));
    const unexpected = loaded.filter((f) => WALL_ONLY.some((p) => f.startsWith(p)));
    expect(unexpected.map((f) => `${f} (via ${files.get(path.join(SRC, f))!.join(' -> ')})`)).toEqual([]);
  });

  it('the wall clock still reaches them (the walk finds them where they are)', () => {
    const { files } = reachable(ENTRIES);
    for (const f of ['engine/target-setup.ts', 'engine/fault-injection.ts', 'backend/index.ts', 'faults/http-proxy.ts']) expect(files.has(path.join(SRC, f)), f).toBe(true);
  });
});
