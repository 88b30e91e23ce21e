import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import type { Command } from 'commander';
import { mergeShardRuns } from '../../engine/results/merge-shards.js';
import { MERGE_PARTS_FILE, parseMergeParts } from '../../engine/results/merge-parts.js';
import { readFile } from 'node:fs/promises';
import { loadReport, writeReport } from '../../report/writer.js';
import { formatSummaryTable } from '../../report/console.js';
import { COMMAND_LISTING } from './listing.js';

export function register(program: Command): void {
  program
    .command('merge')
    .description(COMMAND_LISTING.merge.summary)
    .argument('<dirs...>', 'report directories of the shards')
    .option('-o, --out <dir>', 'where the merged report goes', 'reports')
    .action(async (dirs: string[], flags: { out: string }) => {
      const runs = [];
      for (const d of dirs) {
        // A shard that died before its report (a failed pod) leaves a directory without
        // summary.json: that is a missing shard (exit 3, named by checkShardSet), not bad usage.
        if (statSync(d, { throwIfNoEntry: false })?.isDirectory() && !existsSync(path.join(d, 'summary.json'))) {
          process.stderr.write(`warning: ${d} holds no summary.json (its shard did not finish); treating it as missing\n`);
          continue;
        }
        const partsFile = path.join(d, MERGE_PARTS_FILE);
        const parts = existsSync(partsFile) ? parseMergeParts(await readFile(partsFile, 'utf8')) : undefined;
        runs.push({ source: d, ...(await loadReport(d)), ...(parts ? { parts } : {}) });
      }
      if (runs.length === 0) throw new FleetsimError('FLEETSIM_E_SHARD_MISSING', `none of the ${dirs.length} directories holds a finished shard report (summary.json)`, { hint: 'rerun the shards; each writes <out>/<run-id>-shard<i>of<N>/summary.json when it finishes' });
      const baseId = runs[0].summary.run.id.replace(/-shard\d+of\d+$/, '');
      const { summary, timeline, warnings } = mergeShardRuns(runs, `${baseId}-merged`);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const dir = path.resolve(flags.out, summary.run.id);
      await writeReport(dir, summary, timeline);
      process.stdout.write(formatSummaryTable(summary) + '\n');
      process.stdout.write(`merged ${runs.length} shard(s) into ${path.relative(process.cwd(), dir) || dir}/\n`);
      process.exitCode = summary.result.exitCode;
    });
}
