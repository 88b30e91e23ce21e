import { writeFileAtomic } from './atomic-file.js';
import { jsonForScript } from './escape.js';
import type { ReportWriter } from './report-writer.js';

/** `summary.json`: the run's machine contract (docs/summary.md), pretty-printed. */
export const summaryJsonWriter: ReportWriter = {
  name: 'summary-json',
  file: 'summary.json',
  async write(dir, summary) {
    await writeFileAtomic(dir, this.file, jsonForScript(summary, 2) + '\n');
  },
};
