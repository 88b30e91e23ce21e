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

/**
 * Unit test files share their worker processes (isolate: false): a fresh process per file costs
 * ~0.6 CPU-s of start-up and imports, more than most unit files spend testing (79 files: 37-42
 * CPU-s shared, 89-104 isolated). So each must leave nothing behind for the next file in its
 * process: they restore the environment variables they set and the spies they make
 * (vi.restoreAllMocks), close the one server they start (tls-client-context), use no fake timers
 * and no vi.mock, and only read the modules' caches (the shipped profiles, TLS contexts). A file
 * that cannot belongs in a project that isolates it, with the reason beside it. Checked by
 * running all of them shuffled in one process (--maxWorkers=1 --sequence.shuffle).
 */
const UNIT = ['test/unit/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT,
          exclude: [...configDefaults.exclude, ...CPU_BOUND],
          isolate: false,
          maxWorkers: WAITING_FILES_AT_ONCE,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'waiting',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...CPU_BOUND, ...UNIT],
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
