import { scenarioJsonSchema } from './schema.js';
import { BACKEND_OPS } from '../models/backend-queue.js';

/**
 * README's table of scenario defaults, rendered from the scenario JSON Schema (schema.ts), which
 * is where literal defaults live. A test checks that README.md holds exactly this block;
 * `npm run docs` rewrites it.
 */

export const DEFAULTS_BEGIN = '<!-- scenario-defaults: generated from src/scenario/schema.ts by `npm run docs`; do not edit by hand -->';
export const DEFAULTS_END = '<!-- /scenario-defaults -->';

interface Node {
  default?: unknown;
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
  allOf?: Node[];
}

function walk(n: Node | undefined, path: string, out: Array<{ path: string; value: unknown; description: string }>): void {
  if (!n || typeof n !== 'object') return;
  // An object defaulting to {} is "every field at its default"; its fields are listed themselves.
  const trivial = typeof n.default === 'object' && n.default !== null && Object.keys(n.default).length === 0;
  if ('default' in n && !trivial) out.push({ path, value: n.default, description: n.description ?? '' });
  for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, path ? `${path}.${k}` : k, out);
  if (n.items) walk(n.items, `${path}[]`, out);
  for (const alt of [...(n.anyOf ?? []), ...(n.oneOf ?? []), ...(n.allOf ?? [])]) walk(alt, path, out);
}

/** Every literal default of the scenario schema, in schema order. */
export function scenarioDefaults(): Array<{ path: string; value: unknown; description: string }> {
  const out: Array<{ path: string; value: unknown; description: string }> = [];
  walk(scenarioJsonSchema() as Node, '', out);
  // backend: every operation has the same fields and defaults: one row each, as backend.<operation>.…
  const ops = new RegExp(`^backend\\.(${BACKEND_OPS.join('|')})\\.`);
  const seen = new Set<string>();
  return out.map((d) => ({ ...d, path: d.path.replace(ops, 'backend.<operation>.') })).filter((d) => !seen.has(d.path) && seen.add(d.path));
}

export function renderScenarioDefaults(): string {
  const rows = scenarioDefaults().map((d) => {
    const value = typeof d.value === 'string' ? d.value : JSON.stringify(d.value);
    return `| \`${d.path}\` | \`${value}\` | ${d.description.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`;
  });
  return [DEFAULTS_BEGIN, '', '| field | default | meaning |', '|---|---|---|', ...rows, '', DEFAULTS_END].join('\n');
}
