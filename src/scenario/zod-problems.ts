import * as z from 'zod';
import type { Problem } from '../errors/fleetsim-error.js';
import { fieldHints } from './scenario-fields.js';
import { suggestionHint } from './suggest.js';
import { formatPath, type DocPath, type YamlSource } from './yaml-source.js';
import { quoted } from './yaml-limits.js';

/**
 * Turns zod issues into fleetsim problems: each at its `file:line:col`, with the YAML path, a
 * message in plain words and a hint. Unknown keys point at the key itself and suggest the likely
 * intended one; missing keys point at the mapping they belong in.
 */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], source: YamlSource, root: z.ZodType): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) visit(issue, [], source, root, out);
  return out;
}

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
};
const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;
const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** The schemas a value at `path` passes through, outermost first (wrappers included), or [] when the path leaves the schema. */
function schemasAt(root: z.ZodType, path: DocPath): z.ZodType[] {
  let chain: z.ZodType[] = [];
  let current: z.ZodType | undefined = root;
  for (let i = 0; i <= path.length && current; i++) {
    chain = [];
    let s: z.ZodType = current;
    for (;;) {
      chain.push(s);
      const d = defOf(s);
      if (WRAPPERS.has(d.type) && d.innerType) s = d.innerType;
      else if (d.type === 'pipe' && d.in) s = d.in;
      else break;
    }
    if (i === path.length) break;
    const seg = path[i];
    const d = defOf(s);
    if (d.type === 'object') current = d.shape?.[String(seg)];
    else if (d.type === 'array') current = d.element;
    else if (d.type === 'record') current = d.valueType;
    else if (d.type === 'union') current = d.options?.map((o) => innermost(o)).find((o) => defOf(o).type === 'object' && defOf(o).shape?.[String(seg)])?.def.shape?.[String(seg)];
    else current = undefined;
    if (!current) return [];
  }
  return chain;
}

function innermost(s: z.ZodType): z.ZodType & { def: Def } {
  let t = s;
  while (WRAPPERS.has(defOf(t).type) && defOf(t).innerType) t = defOf(t).innerType!;
  return t as z.ZodType & { def: Def };
}

/** The hint registered for the field at `path` (or its description, as a last resort). */
function hintAt(root: z.ZodType, path: DocPath): string | undefined {
  const chain = schemasAt(root, path);
  for (const s of chain) {
    const h = fieldHints.get(s)?.hint;
    if (h) return h;
  }
  for (const s of chain) {
    const d = z.globalRegistry.get(s)?.description;
    if (d) return d;
  }
  return undefined;
}

function allowedKeys(root: z.ZodType, path: DocPath): string[] {
  const chain = schemasAt(root, path);
  const last = chain[chain.length - 1];
  if (!last) return [];
  const d = defOf(last);
  if (d.type === 'object') return Object.keys(d.shape ?? {});
  if (d.type === 'union') return d.options?.flatMap((o) => Object.keys(innermost(o).def.shape ?? {})) ?? [];
  return [];
}

function describe(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return quoted(v);
  return `${typeof v} ${String(v)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  object: 'a mapping (key: value pairs)',
  array: 'a list',
  boolean: 'true or false',
};

function isRootTypeMismatch(i: z.core.$ZodIssue): boolean {
  return i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value');
}

function visit(issue: z.core.$ZodIssue, prefix: DocPath, source: YamlSource, root: z.ZodType, out: Problem[]): void {
  const path = [...prefix, ...issue.path];
  const problem = (message: string, hint: string | undefined, at: DocPath = path, where: 'key' | 'value' = 'value'): void => {
    out.push({ location: source.locate(at, where), path: formatPath(path) || '(top level)', message, hint });
  };
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(root, path);
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        out.push({
          location: source.locate(keyPath, 'key'),
          path: formatPath(keyPath),
          message: `unknown key ${quoted(key)}`,
          hint: allowed.length ? suggestionHint(key, allowed, 'allowed here') : undefined,
        });
      }
      return;
    }
    case 'invalid_union': {
      // The branch that got past the type check is the one the user meant; report its issues.
      const meant = issue.errors.filter((branch) => !branch.every(isRootTypeMismatch));
      if (meant.length === 1) {
        for (const i of meant[0]) visit(i, path, source, root, out);
        return;
      }
      problem(issue.message, hintAt(root, path));
      return;
    }
    case 'invalid_type': {
      const name = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (input === undefined && path.length > 0) {
        const key = String(path[path.length - 1]);
        problem(`missing required key "${key}": expected ${name}`, hintAt(root, path), path.slice(0, -1));
      } else {
        problem(`expected ${name}, got ${describe(input)}`, hintAt(root, path));
      }
      return;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => (typeof v === 'string' ? v : String(v)));
      // zod reports a missing enum field as a bad value of `undefined`.
      if (input === undefined && path.length > 0) {
        problem(`missing required key "${String(path[path.length - 1])}"`, `use one of: ${values.join(', ')}`, path.slice(0, -1));
        return;
      }
      problem(`${describe(input)} is not allowed`, `use one of: ${values.join(', ')}`);
      return;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = Number(small ? (issue as { minimum: unknown }).minimum : (issue as { maximum: unknown }).maximum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'array' || issue.origin === 'string') {
        const what = issue.origin === 'array' ? 'item' : 'character';
        const message = small && limit === 1 ? 'must not be empty' : `must have ${small ? 'at least' : 'at most'} ${limit} ${what}${limit === 1 ? '' : 's'}`;
        problem(message, hintAt(root, path));
      } else {
        const bound = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
        problem(`must be ${bound} ${limit}, got ${describe(input)}`, hintAt(root, path));
      }
      return;
    }
    case 'custom': {
      const params = (issue.params ?? {}) as { hint?: string; atKey?: boolean };
      problem(issue.message, params.hint ?? hintAt(root, path), path, params.atKey ? 'key' : 'value');
      return;
    }
    default:
      problem(issue.message, hintAt(root, path));
  }
}
