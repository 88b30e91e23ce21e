/**
 * Where a field of a JSON answer is found, written as a dotted path with optional list indexes:
 * `token`, `auth.access_token`, `$.firmware.artifacts[0].url`. Compiled once into keys; reading
 * walks the parsed answer.
 */

export type JsonPath = ReadonlyArray<string | number>;

/** A JSON path as protocol files write it (also the JSON Schema pattern). */
export const JSON_PATH_PATTERN = '^(\\$\\.?)?[A-Za-z_][\\w-]*(\\[\\d+\\])*(\\.[A-Za-z_][\\w-]*(\\[\\d+\\])*)*$';
const JSON_PATH_RE = new RegExp(JSON_PATH_PATTERN);

export function isJsonPath(text: string): boolean {
  return JSON_PATH_RE.test(text);
}

/** The keys of a path; call only on text `isJsonPath` accepts. */
export function compileJsonPath(text: string): JsonPath {
  const out: Array<string | number> = [];
  for (const m of text.replace(/^\$\.?/, '').matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]/g)) out.push(m[1] ?? Number(m[2]));
  return out;
}

/** The value at `path` in `doc`, or undefined when the document has nothing there. */
export function readJsonPath(doc: unknown, path: JsonPath): unknown {
  let v = doc;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}
