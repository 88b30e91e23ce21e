import { readFileSync } from 'node:fs';

/**
 * The report page's drawing code, inlined into report.html (no library, no network). Written as
 * TypeScript in report/browser/ (checked against the DOM library with its own tsconfig) and
 * bundled by `npm run build` (scripts/bundle-report-script.mjs) into one script file in
 * dist/report/. Both this module's places, src/report/ and dist/report/, are two levels below the
 * package root, so the one relative path finds the bundle when the sources run too (tests).
 */
const BUNDLE = new URL('../../dist/report/report-script.js', import.meta.url);

let script: string | undefined;

/** The bundled script's text (read once). Throws when the build has not made it. */
export function reportScript(): string {
  if (script !== undefined) return script;
  let text: string;
  try {
    text = readFileSync(BUNDLE, 'utf8');
  } catch {
    throw new Error(`report.html's script is not built (${BUNDLE.pathname}): run npm run build`);
  }
  return (script = text);
}
