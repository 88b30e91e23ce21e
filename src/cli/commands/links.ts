import type { Command } from 'commander';
import { renderLinkTable } from '../../models/link-table.js';
import { LINK_TYPE_NAMES, LINK_TYPES, linkFigures } from '../../models/link-types.js';
import { COMMAND_LISTING } from './listing.js';

/**
 * `fleetsim links` lists the built-in link models with the figures a run uses (delay, jitter,
 * rates, Gilbert–Elliott loss, connect time, TCP's first retransmission timeout) and the source of
 * each; `--json` prints the same as JSON. docs/models.md explains the model.
 */
export function register(program: Command): void {
  program
    .command('links')
    .description(COMMAND_LISTING.links.summary)
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      const rows = LINK_TYPE_NAMES.map((n) => linkFigures(LINK_TYPES[n]));
      if (flags.json) {
        process.stdout.write(JSON.stringify(rows, (_k, v: unknown) => (v === Infinity ? null : v), 2) + '\n');
        return;
      }
      const sources = rows.flatMap((r) => [`${r.name}:`, ...Object.entries(r.source).map(([k, v]) => `  ${k}: ${v}`)]);
      process.stdout.write(
        `${renderLinkTable(rows, 'text')}\nDelays are one way; jitter is ± the half-width for uniform, one standard deviation for normal. ` +
          'Loss is netem\'s "gemodel p r 1-h 1-k" (mean loss, mean burst in packets). A scenario overrides any figure with fleet[].netem.\n\n' +
          `SOURCES\n${sources.join('\n')}\n`,
      );
    });
}
