import path from 'node:path';
import type { Command } from 'commander';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { loadScenario } from '../../scenario/load.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import { runSweep } from '../../engine/sweep.js';
import { defaultWorkers } from '../../engine/resources.js';
import { writeReport } from '../../report/writer.js';
import { ProgressPrinter } from '../../report/console.js';
import { terminalText } from '../../report/escape.js';
import { simulatedHorizonMs } from '../../scenario/resolved.js';
import { formatSweepTable } from '../../report/sweep-console.js';
import { writeSweepReport } from '../../report/sweep-html.js';
import { parseWorkersFlag } from '../flags.js';
import { EXIT_CODES } from '../../summary/verdict.js';
import { runId } from './run.js';
import { parseBackendSweep } from '../../scenario/backend-parameter.js';
import { COMMAND_LISTING } from './listing.js';

interface SweepFlags {
  sizes?: string;
  over?: string;
  workers?: string;
  clock?: 'wall' | 'virtual';
  seed?: string;
  duration?: string;
  out: string;
  quiet?: boolean;
}

const SIZES_HINT = 'list fleet sizes separated by commas, e.g. --sizes 5,500,50000,500000 (k and M suffixes work: 50k, 0.5M)';

/** Parses `--sizes 5,500,50k,0.5M` into whole, distinct, ascending fleet sizes. */
export function parseSizes(text: string): number[] {
  const sizes: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(part);
    const n = m ? Number(m[1]) * (m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new FleetsimError('FLEETSIM_E_USAGE', `--sizes ${text}: "${part.trim()}" is not a fleet size (a whole number of devices, at least 1)`, { hint: SIZES_HINT });
    }
    sizes.push(n);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

/** Thresholds on absolute counts hold at one fleet size only: say so before the sweep starts. */
function absoluteCountWarnings(s: ResolvedScenario): string[] {
  return s.thresholds
    .filter((t) => t.aggregate.kind === 'count' && t.value !== 0)
    .map((t) => `warning: threshold ${t.metric}: ${t.expression} is an absolute count; it is evaluated as written at every size (use rate, e.g. "rate < 1%", to scale)`);
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description(COMMAND_LISTING.sweep.summary)
    .argument('<scenario>', 'scenario YAML file')
    .option('--sizes <list>', 'fleet sizes, e.g. 5,500,50000,500000 (the mix and arrival rate scale with the fleet)')
    .option('--over <parameter=values>', 'virtual clock: a backend capacity to size instead, e.g. backend.connect.servers=2,4,8,16 or =2..16 (or .capacity in operations per second); the answer is the smallest value that holds every threshold')
    .option('-w, --workers <n>', 'worker threads for each run (default: available cores; one fewer when the embedded broker runs in this process)')
    .option('--clock <clock>', 'wall or virtual (overrides the scenario)')
    .option('--seed <n>', 'random seed (overrides the scenario)')
    .option('--duration <d>', 'run length of each size, e.g. 30s (overrides the scenario)')
    .option('-o, --out <dir>', 'where the sweep directory goes', 'reports')
    .option('-q, --quiet', 'no live progress')
    .action(async (file: string, flags: SweepFlags) => {
      if ((flags.sizes === undefined) === (flags.over === undefined)) throw new FleetsimError('FLEETSIM_E_USAGE', 'sweep needs exactly one of --sizes or --over', { hint: `${SIZES_HINT}; or --over backend.connect.servers=2,4,8,16` });
      const over = flags.over === undefined ? undefined : parseBackendSweep(flags.over);
      const workersFlag = flags.workers === undefined ? undefined : parseWorkersFlag(flags.workers);
      const scenario = loadScenario(file, {
        clock: flags.clock,
        seed: flags.seed === undefined ? undefined : Number(flags.seed),
        duration: flags.duration,
      });
      if (over && scenario.clock !== 'virtual') throw new FleetsimError('FLEETSIM_E_USAGE', `--over ${flags.over}: the modelled backend exists on the virtual clock only`, { hint: 'set clock: virtual in the scenario, or pass --clock virtual' });
      const sizes = flags.sizes === undefined ? [scenario.devices] : parseSizes(flags.sizes);
      const workers = workersFlag ?? defaultWorkers(scenario);
      const id = runId(`${scenario.name}-sweep`);
      const dir = path.resolve(flags.out, id);
      for (const w of absoluteCountWarnings(scenario)) process.stderr.write(`${w}\n`);

      let progress: ProgressPrinter | undefined;
      let interrupt!: () => void;
      const interrupted = new Promise<void>((r) => (interrupt = r));
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        if (++signals > 1) {
          process.stderr.write(`\n${sig} again: exiting; finished sizes are in ${dir}\n`);
          process.exit(EXIT_CODES.interrupted);
        }
        process.stderr.write(`\n${sig}: stopping this size and writing the sweep report of the sizes run so far (press again to abort)\n`);
        interrupt();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const sweep = await runSweep(scenario, {
          sizes,
          workers,
          sweepId: id,
          ...(over ? { capacity: over } : {}),
          interrupt: interrupted,
          onSizeStart: (s, i, of) => {
            const what = over ? `${over.parameter.name} = ${over.values[i]} (${s.backend.ops[over.parameter.op].servers} servers), ${s.devices} devices` : `${s.devices} devices (arrival ${+s.arrival.ratePerSec.toFixed(3)}/s)`;
            process.stderr.write(`fleetsim sweep: ${over ? 'point' : 'size'} ${i + 1}/${of}: ${what}, ${workers} worker(s), ${s.clock} clock\n`);
            progress = flags.quiet ? undefined : new ProgressPrinter({ devices: s.devices, totalMs: simulatedHorizonMs(s), stream: process.stderr });
          },
          onInterval: (row) => progress?.update(row),
          onRunDone: async (_devices, sizeDir, result) => {
            progress?.done();
            await writeReport(path.join(dir, sizeDir), result.summary, result.timeline);
            process.stderr.write(`  ${result.summary.result.verdict} (exit ${result.summary.result.exitCode}) in ${(result.summary.run.wallMs / 1000).toFixed(1)}s wall\n`);
          },
          log: (line) => process.stderr.write(`${terminalText(line)}\n`),
        });
        const files = await writeSweepReport(dir, sweep);
        process.stdout.write(formatSweepTable(sweep, path.relative(process.cwd(), files.html) || files.html));
        process.exitCode = sweep.result.exitCode;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
