import type { CST } from 'yaml';

/**
 * Limits on what fleetsim reads from a YAML file (scenario, profile, protocol file). Each exists
 * because input past it made reading slow or made a library throw instead of reporting:
 *
 * - Size: the shipped scenarios and profiles are under 10 KB; parsing costs ~2 µs per byte, and a
 *   1.6 MB file of syntax errors took 9 s to read and report (issue 15). 256 KiB leaves room for
 *   any scenario a person writes and keeps the worst case well under a second.
 * - Depth: the yaml package composes documents recursively, and about 900 nested mappings (or
 *   780 nested `[`) exhaust the stack ("Maximum call stack size exceeded"). The deepest shipped
 *   file nests 6 levels; 64 is far above any real file and far below the stack.
 * - Aliases: an alias expands to a copy of its anchor, so a few lines can stand for billions of
 *   nodes (the "billion laughs" attack). The yaml package refuses more than `MAX_ALIAS_COUNT`
 *   expansions; fleetsim reports that as a located problem.
 * - Echoed text: a message quotes at most `MAX_QUOTED_CHARS` of what the user wrote (and the CLI
 *   prints at most MAX_PRINTED_PROBLEMS problems, errors/fleetsim-error.ts).
 */
export const MAX_INPUT_BYTES = 256 * 1024;
export const MAX_NESTING_DEPTH = 64;
export const MAX_ALIAS_COUNT = 1000;
export const MAX_QUOTED_CHARS = 80;

/**
 * The offset of the first node nested deeper than `maxDepth` in the concrete syntax tree, or
 * undefined. The walk is iterative (the yaml package's parser to CST is too), so any depth can be
 * measured without recursion.
 */
export function tooDeepAt(tokens: readonly CST.Token[], maxDepth = MAX_NESTING_DEPTH): number | undefined {
  const stack: Array<[CST.Token, number]> = [];
  for (const t of tokens) if (t.type === 'document' && t.value) stack.push([t.value, 1]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (!('items' in token)) continue;
    if (depth > maxDepth) return token.offset;
    for (const item of token.items as Array<{ key?: CST.Token | null; value?: CST.Token | null }>) {
      if (item.key) stack.push([item.key, depth + 1]);
      if (item.value) stack.push([item.value, depth + 1]);
    }
  }
  return undefined;
}

/** `text` as a message quotes it: JSON-quoted, cut to `max` characters with the full length said. */
export function quoted(text: string, max = MAX_QUOTED_CHARS): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length.toLocaleString('en-US')} characters)`;
}
