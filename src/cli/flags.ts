import { FleetsimError } from '../errors/fleetsim-error.js';

/** Parses `--workers N` (a positive integer). */
export function parseWorkersFlag(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `--workers ${text}: expected a whole number from 1 to 256`, {
      hint: 'use the number of cores to give the simulator, e.g. --workers 2',
    });
  }
  return n;
}

/**
 * The slice of the fleet this process runs: `--shard i/N`, else Kubernetes Indexed Job variables
 * (JOB_COMPLETION_INDEX, JOB_COMPLETIONS), else the whole fleet (undefined).
 */
export function parseShardFlag(flag: string | undefined, env: NodeJS.ProcessEnv): { index: number; count: number } | undefined {
  let text = flag;
  if (text === undefined && env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETIONS !== undefined) {
    text = `${env.JOB_COMPLETION_INDEX}/${env.JOB_COMPLETIONS}`;
  }
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `--shard ${text}: expected i/N with 0 <= i < N`, {
      hint: 'e.g. --shard 0/3 runs the first of three slices; slices are numbered from 0 like JOB_COMPLETION_INDEX',
    });
  }
  return { index, count };
}

/** Parses a TCP port flag (0 lets the OS choose). */
export function parsePortFlag(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `${flag} ${text}: expected a port number from 0 to 65535`, { hint: `e.g. ${flag} 9464 (0 picks a free port and prints it)` });
  }
  return n;
}

/** Parses `--profile cpu|heap`. */
export function parseProfileFlag(text: string | undefined): 'cpu' | 'heap' | undefined {
  if (text === undefined) return undefined;
  if (text === 'cpu' || text === 'heap') return text;
  throw new FleetsimError('FLEETSIM_E_USAGE', `--profile ${text}: expected cpu or heap`, {
    hint: '--profile cpu writes shard-<i>.cpuprofile, --profile heap writes shard-<i>.heapprofile into the report directory; open them in Chrome DevTools',
  });
}
