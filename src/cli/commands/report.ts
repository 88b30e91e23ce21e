import { dirname } from 'node:path';
import type { Command } from 'commander';
import { formatSummaryTable } from '../../report/console.js';
import { resolveSummaryPath } from '../../report/load.js';
import { loadReport, RENDER_WRITERS, writeReport } from '../../report/writer.js';
import { COMMAND_LISTING } from './listing.js';

/**
 * `fleetsim report DIR`: re-renders report.html and junit.xml of a saved run from its
 * summary.json and timeline.ndjson (after a fleetsim upgrade, or for a merged run). The saved
 * data files are read, never rewritten.
 */
export function register(program: Command): void {
  program
    .command('report')
    .description(COMMAND_LISTING.report.summary)
    .argument('<dir>', 'report directory (reports/<run-id>) or the path of its summary.json')
    .option('--summary', 'also print the end-of-run console summary')
    .action(async (dir: string, flags: { summary?: boolean }) => {
      const { summary, timeline } = await loadReport(dir);
      const outDir = dirname(await resolveSummaryPath(dir));
      const written = await writeReport(outDir, summary, timeline, RENDER_WRITERS);
      if (flags.summary) process.stdout.write(formatSummaryTable(summary) + '\n');
      for (const file of written) process.stdout.write(`${file}\n`);
    });
}
