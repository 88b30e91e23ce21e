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

let applied = false;

/**
 * The INLINING_FLAGS a process should set, given its own node options (`execArgv` and
 * NODE_OPTIONS, as one string): those the user did not set, in either of node's spellings
 * (`--max-inlined-bytecode-size-small` or `--max_inlined_bytecode_size_small`).
 */
export function inliningFlagsToSet(ownOptions: string): string[] {
  // Whole options only: `--max-inlined-bytecode-size` is a prefix of the other two flags' names.
  const own = new Set(ownOptions.replaceAll('_', '-').split(/\s+/).map(nameOf));
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
  for (const flag of inliningFlagsToSet(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) v8.setFlagsFromString(flag);
}
