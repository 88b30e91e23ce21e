import v8 from 'node:v8';

/**
 * V8's inlining budget, raised for the engine's hot paths. A virtual-clock event runs through a
 * chain of small methods (the scheduler's loop, the lifecycle, the telemetry pipeline, the model
 * driver, the device records' getters), and with V8's defaults (920 bytes of bytecode inlined per
 * optimized function, any function up to 27 bytes for free, and none above 460 bytes) the big ones
 * use up their budget early: dozens of one-line getters stay real calls, each with its frame and,
 * for a fraction, a new HeapNumber.
 * - Cumulative 3000 and small 60: valgrind counts 11 % fewer instructions per device-event
 *   (2,995 -> 2,671, 100,000 devices on 1 worker, bench/virtual-instructions.mjs; more cumulative
 *   budget gave no more), and the shard's CPU per event fell by about as much (bench/RESULTS.md,
 *   "V8's inlining budget"). The cost is compile time: ~3 % more instructions over a 2-hour run's
 *   start-up.
 * - A function of up to 1000 bytes may be inlined (460 by default): the dispatch of the
 *   lifecycle (`handle`, 537 bytes of bytecode) and of the model driver (931), the pipeline's
 *   `flush` (662) and the reachability's `apply` (508) are between the two, and were calls on
 *   every report or link change (`node --print-bytecode`). 3.2 % fewer instructions per
 *   device-event (3,014 -> 2,917, two pairs side by side); 700 gave about as much, 2000 (with
 *   cumulative 6000) and cumulative 4000 or 2500 gave less (bench/RESULTS.md, issue 17 round 24).
 *
 * The flags change how code is compiled, never what it computes: results are identical.
 */
export const INLINING_FLAGS: readonly string[] = [
  '--max-inlined-bytecode-size=1000',
  '--max-inlined-bytecode-size-cumulative=3000',
  '--max-inlined-bytecode-size-small=60',
];

/** An option's name: `--name` of `--name=value`, or the whole option when it has no value. */
function nameOf(option: string): string {
  const eq = option.indexOf('=');
  return eq < 0 ? option : option.slice(0, eq);
}

/** The names of node options given as one string, in one spelling (node takes `_` for `-`). */
function optionNames(options: string): Set<string> {
  return new Set(options.replaceAll('_', '-').split(/\s+/).map(nameOf));
}

/** This process's own node options (`execArgv` and NODE_OPTIONS), as one string. */
export function processOptions(): string {
  return `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
}

let applied = false;

/**
 * The INLINING_FLAGS a process should set, given its own node options (`execArgv` and
 * NODE_OPTIONS, as one string): those the user did not set, in either of node's spellings
 * (`--max-inlined-bytecode-size-small` or `--max_inlined_bytecode_size_small`).
 */
export function inliningFlagsToSet(ownOptions: string): string[] {
  // Whole options only: `--max-inlined-bytecode-size` is a prefix of the other two flags' names.
  const own = optionNames(ownOptions);
  return INLINING_FLAGS.filter((flag) => !own.has(nameOf(flag)));
}

/**
 * Sets INLINING_FLAGS once per thread that calls it. V8's flags are the process's: they apply to
 * every compilation from then on, in every thread. A user's own setting of either flag (node's
 * command line or NODE_OPTIONS) is left alone.
 */
export function tuneCompiler(): void {
  if (applied) return;
  applied = true;
  for (const flag of inliningFlagsToSet(processOptions())) v8.setFlagsFromString(flag);
}

/**
 * V8's flag for compiling optimized code on the thread that runs it, in isolates created after it
 * is set (each isolate reads it once, when it starts: it then has no background compile queue).
 * Virtual-clock shards use it:
 * - with background compiles, a hot function keeps running unoptimized until a V8 helper thread
 *   got CPU time for its compile, and on a box whose cores the shards already keep busy that
 *   waits for the scheduler; and each helper that wakes takes a core from a shard. On the 2-core
 *   bench box, valgrind counts 3.9 G fewer instructions per run of the bench fleet at 100,000
 *   devices on 2 shards (32.1 -> 28.3 G at 6 h), and the 500,000-device, 24-hour run took 0.88x
 *   the CPU, less in each of 5 pairs (bench/RESULTS.md, issue 17 round 25);
 * - a compile that blocks the shard's thread for tens of milliseconds changes nothing a virtual
 *   run measures: its time is simulated.
 * Wall-clock shards keep compiling in the background: there a blocked thread delays sockets, and
 * a measured latency would include the compile.
 */
export const SYNCHRONOUS_COMPILE_FLAG = '--no-concurrent-recompilation';
const CONCURRENT_COMPILE_FLAG = '--concurrent-recompilation';
/** Node options by which a user decides compile concurrency (`--single-threaded` implies it). */
const COMPILE_CONCURRENCY_OPTIONS = ['--concurrent-recompilation', '--no-concurrent-recompilation', '--single-threaded'];

/** The user decided compile concurrency in their own node options (`execArgv` and NODE_OPTIONS, as one string). */
export function userSetsCompileConcurrency(ownOptions: string): boolean {
  const own = optionNames(ownOptions);
  return COMPILE_CONCURRENCY_OPTIONS.some((name) => own.has(name));
}

/** SYNCHRONOUS_COMPILE_FLAG for shard processes' node options, unless the user decided in their own (`ownOptions`). */
export function synchronousCompileOptions(ownOptions: string): string[] {
  return userSetsCompileConcurrency(ownOptions) ? [] : [SYNCHRONOUS_COMPILE_FLAG];
}

/**
 * Makes the isolates this process creates from now on (worker threads) compile synchronously,
 * and returns what makes later ones compile in the background again. Isolates already running
 * keep the way they started with. Nothing changes when the user decided it in node's options.
 *
 * Concurrency: V8's flags are the process's; call both on the coordinator's thread, the second
 * once the worker threads it was for have started (a worker's isolate is created on its own
 * thread, after `new Worker` returns). A wall-clock run whose workers start in between, in the
 * same process, compiles synchronously too: a library user running both clocks at once.
 */
export function compileSynchronouslyFromNow(): () => void {
  if (userSetsCompileConcurrency(processOptions())) return () => {};
  v8.setFlagsFromString(SYNCHRONOUS_COMPILE_FLAG);
  return () => v8.setFlagsFromString(CONCURRENT_COMPILE_FLAG);
}
