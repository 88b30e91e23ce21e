// Bundles the report page's script (src/report/browser/, TypeScript) into one self-contained
// IIFE, dist/report/report-script.js, which report/html-script.ts inlines into every report.html.
// Part of `npm run build`, after tsc has type-checked it (src/report/browser/tsconfig.json).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist/report/report-script.js');

// A checkout whose node_modules predates the esbuild dev dependency gets told what to do.
const { build } = await import('esbuild').catch((err) => {
  console.error(`bundle-report-script: cannot load esbuild (${err.code ?? err.message}); run \`npm install\` (or \`npm ci\`) to get the dev dependencies`);
  process.exit(1);
});

await build({
  entryPoints: [path.join(root, 'src/report/browser/main.ts')],
  outfile,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  // Browsers of the last few years; the page has no polyfills and needs none.
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// Inlined into a <script> element: the text must never close it early.
if (/<\/script/i.test(readFileSync(outfile, 'utf8'))) throw new Error(`${outfile} contains "</script": it cannot be inlined`);
