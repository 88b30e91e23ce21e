import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { Problem, SourceLocation } from '../errors/fleetsim-error.js';

/** A path into the document, as zod reports it: keys and list indexes. */
export type DocPath = ReadonlyArray<PropertyKey>;

/**
 * A parsed YAML file that remembers where everything came from, so that any problem found in the
 * data (by zod or by a semantic check) can be reported at its `file:line:col`.
 */
export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  /** `file` is the label used in messages: the path as the user typed it. */
  constructor(readonly text: string, readonly file: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: true, uniqueKeys: true });
  }

  /** YAML syntax errors (bad indentation, duplicate keys, several documents), each with its position. */
  syntaxProblems(): Problem[] {
    return this.doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      // The yaml package appends " at line L, column C:" and a code frame; the location says that already.
      const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return {
        location: pos ? { file: this.file, line: pos.line, col: pos.col } : { file: this.file, line: 1, col: 1 },
        message: `YAML syntax: ${message}`,
        hint: syntaxHint(e.code),
      };
    });
  }

  /** The plain data, for validation. */
  toData(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }

  /**
   * Where the thing at `path` is written. `at: 'key'` points at the key of the last segment (for
   * unknown keys); `at: 'value'` at its value. A path that goes past what the file contains (a
   * missing key) resolves to the deepest part that exists, which is where the key should go.
   */
  locate(path: DocPath, at: 'key' | 'value' = 'value'): SourceLocation {
    let node: unknown = this.doc.contents;
    let best: Node | null = (this.doc.contents as Node | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        if (last && at === 'key' && isScalar(pair.key)) return this.at(pair.key);
        node = pair.value;
        // A key with no value (`name:`) has a null node; the key is the best place to point.
        best = (pair.value as Node | null) ?? (pair.key as Node);
        if (pair.value === null || pair.value === undefined) break;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = node.items[seg];
        best = node as Node;
      } else break;
    }
    return best ? this.at(best) : { file: this.file, line: 1, col: 1 };
  }

  private at(node: Node): SourceLocation {
    const offset = node.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }
}

function syntaxHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'a key may appear only once in a mapping; remove or merge the repeated key';
    case 'MULTIPLE_DOCS':
      return 'a scenario file holds one YAML document; remove the extra "---" or split the file';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
      return 'check the indentation and that every [ or { is closed; indent with spaces, never tabs';
    case 'TAB_AS_INDENT':
      return 'indent with spaces; YAML does not allow tabs for indentation';
    default:
      return 'fix the YAML syntax at this position; a YAML linter or your editor can show the exact spot';
  }
}

/** A path for people: `fleet[1].profile`, `thresholds["telemetry.failed"][0]`. */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_$][\w$-]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}
