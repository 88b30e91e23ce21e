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

/**
 * V8 flags of every test process. `--no-concurrent-recompilation`: Node 20 tears a worker thread
 * down by unregistering its isolate from the platform before disposing of it, and a TurboFan job
 * still compiling for that isolate on a background thread can then ask the platform for the
 * isolate's task runner and abort the whole process (`NodePlatform::ForIsolate ...
 * (data.first) != nullptr`, from `IncrementalMarkingJob::ScheduleTask` inside
 * `OptimizingCompileDispatcher::CompileTask`). Seen twice in about ten full runs, both in
 * test/integration/shards-equal-whole.test.ts, which starts and ends dozens of shard threads in
 * one process, four runs at a time; it killed the test process, so CI failed on it. Compiling on
 * the isolate's own thread leaves no background job to race the teardown. Results do not depend on
 * when code is optimized (the virtual clock is deterministic), so the tests measure the same.
 */
const EXEC_ARGV = ['--no-concurrent-recompilation'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    execArgv: EXEC_ARGV,
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
