import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The import graph of src/, read from the sources with a regular expression (the code base keeps
 * one import per statement and only literal specifiers): static imports and re-exports, dynamic
 * `import('...')` of literal paths, and side-effect imports. `typeOnly` marks `import type` /
 * `export type`, which the compiler erases.
 */
export const SRC = path.resolve(import.meta.dirname, '../../src');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'";]*?\sfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

export interface ImportEdge {
  /** The imported source file (absolute), or null for a package. */
  file: string | null;
  /** The package name for a package import. */
  pkg: string | null;
  spec: string;
  typeOnly: boolean;
  /** A dynamic `import('...')`: loaded when the code runs, not with the importing file. */
  dynamic: boolean;
}

export function importsOf(file: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const spec = m[2] ?? m[3] ?? m[4];
    const typeOnly = Boolean(m[1]);
    const dynamic = m[3] !== undefined;
    if (spec.startsWith('.')) {
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      if (!existsSync(target)) throw new Error(`${path.relative(SRC, file)}: cannot resolve ${spec}`);
      edges.push({ file: target, pkg: null, spec, typeOnly, dynamic });
    } else {
      const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      edges.push({ file: null, pkg, spec, typeOnly, dynamic });
    }
  }
  return edges;
}

/**
 * Every source file and package reached from `entries` (paths under src/), each with one chain of
 * files that reaches it. Type-only imports are skipped (erased); dynamic imports are followed
 * unless `staticOnly`, which gives what loading the entries loads before any of their code runs.
 * Conservative: an import whose names are all types is counted.
 */
export function reachable(entries: string[], opts: { staticOnly?: boolean } = {}): { files: Map<string, string[]>; packages: Map<string, string[]> } {
  const files = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  const queue = entries.map((e) => path.join(SRC, e));
  for (const e of queue) files.set(e, [path.relative(SRC, e)]);
  while (queue.length > 0) {
    const file = queue.shift()!;
    const chain = files.get(file)!;
    for (const edge of importsOf(file)) {
      if (edge.typeOnly || (opts.staticOnly && edge.dynamic)) continue;
      if (edge.file) {
        if (!files.has(edge.file)) {
          files.set(edge.file, [...chain, path.relative(SRC, edge.file)]);
          queue.push(edge.file);
        }
      } else if (!packages.has(edge.pkg!)) packages.set(edge.pkg!, [...chain, edge.spec]);
    }
  }
  return { files, packages };
}

/** Every .ts file under src/ (absolute paths, sorted). */
export function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/**
 * The import circles of `graph` (file -> imported files): its strongly connected components with
 * more than one file, or a file importing itself (Tarjan's algorithm, iterative).
 */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; i: number }> = [{ node: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const succ = graph.get(top.node) ?? [];
      if (top.i < succ.length) {
        const s = succ[top.i++];
        if (!index.has(s)) {
          index.set(s, next);
          low.set(s, next++);
          stack.push(s);
          onStack.add(s);
          work.push({ node: s, i: 0 });
        } else if (onStack.has(s)) {
          low.set(top.node, Math.min(low.get(top.node)!, index.get(s)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) low.set(work[work.length - 1].node, Math.min(low.get(work[work.length - 1].node)!, low.get(top.node)!));
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          component.push(n);
        } while (n !== top.node);
        if (component.length > 1 || succ.includes(top.node)) cycles.push(component.sort());
      }
    }
  }
  return cycles;
}
