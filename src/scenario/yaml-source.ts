import { readFileSync } from 'node:fs';
import { Composer, Document, YAMLParseError, LineCounter, Parser, isAlias, isMap, isScalar, isSeq, visit, type Node, type Pair, type YAMLMap } from 'yaml';
import { FleetsimError, type Problem, type SourceLocation } from '../errors/fleetsim-error.js';
import { MAX_ALIAS_COUNT, MAX_INPUT_BYTES, MAX_NESTING_DEPTH, quoted, tooDeepAt } from './yaml-limits.js';

/** A path into the document, as zod reports it: keys and list indexes. */
export type DocPath = ReadonlyArray<PropertyKey>;

/**
 * A parsed YAML file that remembers where everything came from, so that any problem found in the
 * data (by zod or by a semantic check) can be reported at its `file:line:col`.
 */
export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();
  /** Why the text was not composed into a document (too large, too deep), when it was not. */
  private readonly refused?: Problem;
  /** Each mapping's pairs by key, built on first use: a file with 20,000 keys is located in linear time. */
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

  /**
   * `file` is the label used in messages: the path as the user typed it. Text past the size or
   * depth limits (yaml-limits.ts) is not composed at all: the document stays empty and
   * `readData` reports the limit.
   */
  constructor(readonly text: string, readonly file: string) {
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_INPUT_BYTES) {
      this.refused = {
        location: { file, line: 1, col: 1 },
        message: `the file is ${kib(bytes)}; fleetsim reads YAML files of up to ${kib(MAX_INPUT_BYTES)}`,
        hint: 'a scenario or profile is a few KB; check that this is the file you meant (generated data belongs in a separate file)',
      };
      this.doc = new Document(null) as Document.Parsed;
      return;
    }
    // The steps of yaml's parseDocument, with the depth checked on the syntax tree before the
    // (recursive) composer sees it.
    const tokens = [...new Parser(this.lines.addNewLine).parse(text)];
    const deep = tooDeepAt(tokens);
    if (deep !== undefined) {
      this.refused = {
        location: { file, ...this.lines.linePos(deep) },
        message: `nested more than ${MAX_NESTING_DEPTH} levels deep`,
        hint: 'fleetsim files nest a few levels; look above this line for an unclosed [ or {, or a syntax error that nests (such as a: b: c on one line, or indentation that grows line by line)',
      };
      this.doc = new Document(null) as Document.Parsed;
      return;
    }
    let doc: Document.Parsed | undefined;
    // Each syntax error is an Error, and capturing its stack was half the time of reading a file
    // of 145,000 of them (4 of 7.5 s); the stacks are never shown.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      // Duplicate keys are found here in linear time: the yaml package's check compares each key
      // with every earlier one (20,000 keys took seconds).
      for (const d of new Composer({ uniqueKeys: false }).compose(tokens, true, text.length)) {
        if (!doc) doc = d;
        else {
          doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
          break;
        }
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.doc = doc!;
    this.doc.errors.push(...structureErrors(this.doc));
    this.doc.errors.sort((a, b) => a.pos[0] - b.pos[0]);
  }

  /**
   * The plain data, for validation; throws when there is none to give: the file is past a limit
   * (`FLEETSIM_E_INPUT_LIMIT`), not well-formed YAML or uses an alias of no anchor
   * (`FLEETSIM_E_YAML_SYNTAX`). `what` names the file's kind in the message.
   */
  readData(what = 'YAML file'): unknown {
    if (this.refused) throw new FleetsimError('FLEETSIM_E_INPUT_LIMIT', `${this.file} is not read as a ${what}: ${this.refused.message}`, { problems: [this.refused] });
    const syntax = this.syntaxProblems();
    if (syntax.length > 0) throw new FleetsimError('FLEETSIM_E_YAML_SYNTAX', `${this.file} is not well-formed YAML (${syntax.length} problem${syntax.length === 1 ? '' : 's'})`, { problems: syntax });
    try {
      return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The yaml package throws (a ReferenceError) for an alias count past its limit.
      if (!(err instanceof ReferenceError)) throw err;
      const at = this.firstAlias();
      throw new FleetsimError('FLEETSIM_E_INPUT_LIMIT', `${this.file} expands its aliases past ${MAX_ALIAS_COUNT.toLocaleString('en-US')} copies`, {
        problems: [
          {
            location: at ? this.at(at) : { file: this.file, line: 1, col: 1 },
            message: `aliases (*name) expand to more than ${MAX_ALIAS_COUNT.toLocaleString('en-US')} copies of their anchors`,
            hint: 'write the values out, or use fewer aliases of large anchors; nested aliases multiply',
          },
        ],
      });
    }
  }

  /** YAML syntax errors (bad indentation, duplicate keys, several documents, an alias of no anchor), each with its position. */
  syntaxProblems(): Problem[] {
    return this.doc.errors.map((e): Problem => {
      const pos = this.lines.linePos(e.pos[0]);
      // Messages of the yaml package are one line without prettyErrors; the location says where.
      const message = e.message.split('\n')[0];
      return {
        location: { file: this.file, line: pos.line, col: pos.col },
        message: `YAML syntax: ${message}`,
        hint: syntaxHint(e.code),
      };
    });
  }

  private firstAlias(): Node | undefined {
    let found: Node | undefined;
    visit(this.doc, (_key, node) => {
      if (isAlias(node)) {
        found = node as unknown as Node;
        return visit.BREAK;
      }
      return undefined;
    });
    return found;
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
        const pair = this.pairOf(node, String(seg));
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

  private pairOf(map: YAMLMap, key: string): Pair | undefined {
    let index = this.keyIndex.get(map);
    if (!index) {
      index = new Map();
      for (const p of map.items as Pair[]) if (isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p);
      this.keyIndex.set(map, index);
    }
    return index.get(key);
  }

  private at(node: Node): SourceLocation {
    const offset = node.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }
}

/**
 * One walk over the document, in document order: keys written twice in one mapping (the yaml
 * package's rule: equal scalar values, reported at the second) and aliases of no anchor before
 * them. Iterative, and linear in the nodes: the yaml package's own duplicate check compares each
 * key with every earlier one (20,000 keys took seconds).
 */
function structureErrors(doc: Document.Parsed): YAMLParseError[] {
  const out: YAMLParseError[] = [];
  const anchors = new Set<string>();
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      if (!anchors.has(node.source)) {
        const at = node.range?.[0] ?? 0;
        out.push(new YAMLParseError([at, at + 1], 'BAD_ALIAS', `alias ${quoted('*' + node.source)} refers to no anchor`));
      }
      continue;
    }
    if (!isMap(node) && !isSeq(node) && !isScalar(node)) continue;
    if (node.anchor) anchors.add(node.anchor);
    if (isScalar(node)) continue;
    const children: unknown[] = [];
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) {
            const at = pair.key.range?.[0] ?? 0;
            out.push(new YAMLParseError([at, at + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
          } else seen.add(pair.key.value);
        }
        children.push(pair.key, pair.value);
      }
    } else children.push(...node.items);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024).toLocaleString('en-US')} KiB`;
}

function syntaxHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'a key may appear only once in a mapping; remove or merge the repeated key';
    case 'BAD_ALIAS':
      return 'an alias (*name) repeats a value marked earlier in the file with &name; define the anchor before the alias, or write the value out';
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

/** The text of an input file (`what` names it in the message: "scenario file x.yaml does not exist"), or FLEETSIM_E_FILE_NOT_FOUND with `hint`. */
export function readInputFile(file: string, what: string, label: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(err)})`;
    throw new FleetsimError('FLEETSIM_E_FILE_NOT_FOUND', `${what} ${label} ${why}`, { hint, cause: err });
  }
}
