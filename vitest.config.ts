import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Test files that keep the CPU busy for most of their run (virtual-clock runs, the fuzzer, several
 * runs at once) or assert a wall-time bound while doing so. They run one at a time, after the
 * rest, so that they neither starve nor are starved by other files.
 */
const CPU_BOUND = [
  'test/integration/shards-equal-whole.test.ts',
  'test/fuzz/inputs.test.ts',
  'test/integration/fleet-ops-virtual.test.ts',
  'test/integration/virtual-fleet-models.test.ts',
  'test/integration/virtual-determinism.test.ts',
  'test/integration/signals-stop.test.ts',
];

/**
 * Every other file spends most of its time waiting: wall-clock runs of tens of devices on timers,
 * servers on loopback, spawned CLIs. Three such files at once keep a 2-core CI box busy without
 * saturating it (CPU time per file is a small fraction of its duration), which is what lets the
 * suite finish in minutes instead of the sum of its files' durations. A file that adds a
 * CPU-heavy run belongs in CPU_BOUND.
 */
const WAITING_FILES_AT_ONCE = 3;

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'waiting',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...CPU_BOUND],
          maxWorkers: WAITING_FILES_AT_ONCE,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cpu-bound',
          include: CPU_BOUND,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
