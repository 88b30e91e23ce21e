import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { renderMetricsDoc } from '../../metrics/reference.js';
import { renderScenarioDefaults, withScenarioDefaults } from '../../scenario/defaults-doc.js';

/**
 * `fleetsim docs metrics` prints the metrics reference (docs/metrics.md); `fleetsim docs defaults
 * --into README.md` rewrites README's table of scenario defaults. Both are generated from the code
 * so they cannot drift; `npm run docs` runs them for the repository.
 */
export function register(program: Command): void {
  const docs = program.command('docs').description('print the generated reference docs: `docs metrics` (docs/metrics.md), `docs defaults` (README scenario defaults)');
  docs
    .command('metrics')
    .description('print the metrics reference: every metric, its unit, what it measures and what `rate` means for it')
    .option('-o, --out <file>', 'write it to a file instead (the repository keeps it in docs/metrics.md)')
    .action((flags: { out?: string }) => emit(renderMetricsDoc(), flags.out));
  docs
    .command('defaults')
    .description("print the scenario defaults table, or rewrite it in place in a file's generated block")
    .option('--into <file>', 'replace the generated block of this file (README.md)')
    .action((flags: { into?: string }) => {
      if (!flags.into) return emit(renderScenarioDefaults() + '\n', undefined);
      const text = read(flags.into);
      const next = withScenarioDefaults(text);
      if (next === undefined) {
        throw new FleetsimError('FLEETSIM_E_USAGE', `--into: ${flags.into} has no generated scenario-defaults block`, { hint: 'add the two marker lines that `fleetsim docs defaults` prints, then run it again' });
      }
      emit(next, flags.into);
    });
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `cannot read ${file}: ${(err as Error).message}`, { hint: 'pass the path of README.md', cause: err });
  }
}

function emit(text: string, out: string | undefined): void {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `cannot write ${out}: ${(err as Error).message}`, { hint: 'check that the directory exists and is writable', cause: err });
  }
  process.stderr.write(`wrote ${out}\n`);
}
