import type { Command } from 'commander';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { compareSummaries, parseRegressionRule } from '../../report/compare.js';
import { COMPARE_FORMATS, formatComparison, type CompareFormat } from '../../report/compare-format.js';
import { loadSummary } from '../../report/load.js';
import { COMMAND_LISTING } from './listing.js';

/**
 * `fleetsim compare BASE CURRENT`: latency distributions and counters of two runs side by side,
 * and `--max-regression` rules that make a regression an exit code (99, as failed thresholds).
 */
export function register(program: Command): void {
  program
    .command('compare')
    .description(COMMAND_LISTING.compare.summary)
    .argument('<base>', 'baseline report directory or summary.json')
    .argument('<current>', 'current report directory or summary.json')
    .option(
      '--max-regression <rule>',
      "allowed change, repeatable: 'telemetry.ack.latency:p(99)=+10%', 'provision.latency:avg=+5ms', 'telemetry.failed:count=+0', 'telemetry.acked:rate=-5%'",
      (rule: string, all: string[]) => [...all, rule],
      [] as string[],
    )
    .option('--format <format>', `output: ${COMPARE_FORMATS.join(' | ')} (md is a GitHub-flavoured table for PR comments)`, 'table')
    .action(async (basePath: string, currentPath: string, flags: { maxRegression: string[]; format: string }) => {
      if (!COMPARE_FORMATS.includes(flags.format as CompareFormat)) {
        throw new FleetsimError('FLEETSIM_E_USAGE', `--format "${flags.format}" is not a compare format`, { hint: `use one of: ${COMPARE_FORMATS.join(', ')}` });
      }
      // Rules first: a typo in a rule is a usage error before any file is read.
      const rules = flags.maxRegression.map(parseRegressionRule);
      const [base, current] = await Promise.all([loadSummary(basePath), loadSummary(currentPath)]);
      const comparison = compareSummaries(base, current, rules);
      process.stdout.write(formatComparison(comparison, flags.format as CompareFormat));
      process.exitCode = comparison.exitCode;
    });
}
