import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Set to `true` by esbuild's `define` when `npm run build` bundles the CLI
 * (scripts/bundle-cli.mjs); not defined at all when this code runs as tsc's modules in dist/ or
 * from src/ (tests).
 */
declare const FLEETSIM_CLI_BUNDLE: boolean | undefined;

/** True in the CLI's bundle (dist/cli/main.js and its chunks), false in the modules. */
export const IN_CLI_BUNDLE: boolean = typeof FLEETSIM_CLI_BUNDLE !== 'undefined' && FLEETSIM_CLI_BUNDLE;

/**
 * The package's root directory: the nearest directory above this code that holds fleetsim's
 * package.json. Found rather than written as a relative URL because the same code runs from
 * three depths (src/, dist/, and the bundle's dist/cli/ and dist/cli/chunks/).
 */
function findRoot(from: string): string {
  for (let dir = from; ; ) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'fleetsim') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`fleetsim: no package.json of fleetsim above ${from}`);
    dir = up;
  }
}

export const PACKAGE_ROOT: string = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A file of the package, from its root: `packagePath('profiles')`, `packagePath('dist/cli/main.js')`. */
export function packagePath(relative: string): string {
  return path.join(PACKAGE_ROOT, relative);
}
