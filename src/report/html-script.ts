import { readFileSync } from 'node:fs';
import { packagePath } from '../package-files.js';

/**
 * The report page's drawing code, inlined into report.html (no library, no network). Written as
 * TypeScript in report/browser/ (checked against the DOM library with its own tsconfig) and
 * bundled by `npm run build` (scripts/bundle-report-script.mjs) into one script file in
 * dist/report/, found from the package root whether this code runs from src/ (tests), dist/ or the
 * CLI's bundle.
 */
const BUNDLE = packagePath('dist/report/report-script.js');

let script: string | undefined;

/** The bundled script's text (read once). Throws when the build has not made it. */
export function reportScript(): string {
  if (script !== undefined) return script;
  let text: string;
  try {
    text = readFileSync(BUNDLE, 'utf8');
  } catch {
    throw new Error(`report.html's script is not built (${BUNDLE}): run npm run build`);
  }
  return (script = text);
}
