import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { renderMetricsDoc } from '../../metrics/reference.js';
import { LINKS_BEGIN, LINKS_END, renderLinkTableBlock } from '../../models/link-table.js';
import { LINK_TYPE_NAMES, LINK_TYPES, linkFigures } from '../../models/link-types.js';
import { DEFAULTS_BEGIN, DEFAULTS_END, renderScenarioDefaults } from '../../scenario/defaults-doc.js';
import { COMMAND_LISTING } from './listing.js';

/**
 * The reference docs generated from the code, so they cannot drift (tests compare them):
 * `fleetsim docs metrics` prints docs/metrics.md; `docs defaults` README's table of scenario
 * defaults and `docs links` docs/models.md's table of link figures, each printed, or rewritten in
 * place between its markers with `--into FILE`. `npm run docs` runs them all for the repository.
 */
export function register(program: Command): void {
  const docs = program.command('docs').description(COMMAND_LISTING.docs.summary);
  docs
    .command('metrics')
    .description('print the metrics reference: every metric, its unit, what it measures and what `rate` means for it')
    .option('-o, --out <file>', 'write it to a file instead (the repository keeps it in docs/metrics.md)')
    .action((flags: { out?: string }) => emit(renderMetricsDoc(), flags.out));
  const blocks: Array<[name: string, what: string, begin: string, end: string, render: () => string]> = [
    ['defaults', "the scenario defaults table (README.md's block)", DEFAULTS_BEGIN, DEFAULTS_END, renderScenarioDefaults],
    ['links', "the link figures table (docs/models.md's block)", LINKS_BEGIN, LINKS_END, () => renderLinkTableBlock(LINK_TYPE_NAMES.map((n) => linkFigures(LINK_TYPES[n])))],
  ];
  for (const [name, what, begin, end, render] of blocks) {
    docs
      .command(name)
      .description(`print ${what}, or rewrite it in place in a file's generated block`)
      .option('--into <file>', 'replace the generated block of this file')
      .action((flags: { into?: string }) => {
        if (!flags.into) return emit(render() + '\n', undefined);
        const text = read(flags.into);
        const a = text.indexOf(begin);
        const b = text.indexOf(end);
        if (a < 0 || b < a) {
          throw new FleetsimError('FLEETSIM_E_USAGE', `--into: ${flags.into} has no generated ${name} block`, { hint: `add the two marker lines that \`fleetsim docs ${name}\` prints, then run it again` });
        }
        emit(text.slice(0, a) + render() + text.slice(b + end.length), flags.into);
      });
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `cannot read ${file}: ${(err as Error).message}`, { hint: 'pass the path of the file that holds the generated block', cause: err });
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
