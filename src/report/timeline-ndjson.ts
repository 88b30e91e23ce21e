import { writeFileAtomic } from './atomic-file.js';
import { jsonForScript } from './escape.js';
import type { ReportWriter } from './report-writer.js';

/** `timeline.ndjson`: one merged interval (a TimelineRow) per line, in interval order. */
export const timelineNdjsonWriter: ReportWriter = {
  name: 'timeline-ndjson',
  file: 'timeline.ndjson',
  async write(dir, _summary, timeline) {
    await writeFileAtomic(dir, this.file, timeline.map((row) => jsonForScript(row) + '\n').join(''));
  },
};
