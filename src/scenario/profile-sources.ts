import { LineCounter, Parser } from 'yaml';
import type * as z from 'zod';
import type { Problem } from '../errors/fleetsim-error.js';
import { dottedPath, profileLeaves } from './profile-schema.js';
import { formatPath, type YamlSource } from './yaml-source.js';

/**
 * Sources of a profile's numbers: the comment on the same line as each value
 * (`capacity: 2.6Ah   # Saft LS14500 datasheet`). A comment on a line that holds several values (a
 * flow mapping such as `{ temp: 100%, rate: 100% }  # assumed`) is the source of each of them.
 *
 * Comments are read from the concrete syntax tree, where each has an offset; attaching them by
 * line rather than through the document's `comment` fields keeps the rule the same for block and
 * flow style and for the last value of a mapping, whose comment the document model moves around.
 */
export const MISSING_SOURCE_HINT = 'add a comment on the same line saying where the number comes from, such as # nRF9160 PS, # Røstad NTNU 2020, or # assumed';

/** The text of the comment on each line (1-based), `#` and surrounding space removed. */
export function commentsByLine(text: string): Map<number, string> {
  const lines = new LineCounter();
  const out = new Map<number, string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const t = node as { type?: unknown; offset?: unknown; source?: unknown };
    if (t.type === 'comment' && typeof t.offset === 'number' && typeof t.source === 'string') {
      const comment = t.source.replace(/^#\s*/, '').trim();
      if (comment) out.set(lines.linePos(t.offset).line, comment);
      return;
    }
    for (const v of Object.values(node)) if (typeof v === 'object' && v !== null) visit(v);
  };
  for (const token of new Parser(lines.addNewLine).parse(text)) visit(token);
  return out;
}

/**
 * The source of every leaf of `data` that has a same-line comment, keyed by dotted YAML path, and
 * one problem per number that has none.
 */
export function sourceComments(source: YamlSource, data: unknown, schema: z.ZodType): { sources: Record<string, string>; missing: Problem[] } {
  const comments = commentsByLine(source.text);
  const sources: Record<string, string> = {};
  const missing: Problem[] = [];
  for (const leaf of profileLeaves(schema, data)) {
    const location = source.locate(leaf.path, 'value');
    const comment = comments.get(location.line);
    if (comment) sources[dottedPath(leaf.path)] = comment;
    else if (leaf.kind) {
      missing.push({ location, path: formatPath(leaf.path), message: `${JSON.stringify(leaf.value)} has no source comment`, hint: MISSING_SOURCE_HINT });
    }
  }
  return { sources, missing };
}
