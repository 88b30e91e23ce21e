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
function findRoot(from: string): { root: string; manifest: PackageManifest } {
  for (let dir = from; ; ) {
    const file = path.join(dir, 'package.json');
    const manifest = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PackageManifest) : undefined;
    if (manifest?.name === 'fleetsim') return { root: dir, manifest };
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`fleetsim: no package.json of fleetsim above ${from}`);
    dir = up;
  }
}

/** What of package.json the code reads. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
}

const found = findRoot(path.dirname(fileURLToPath(import.meta.url)));
export const PACKAGE_ROOT: string = found.root;
/** The package's package.json, read once with the search for the root. */
export const PACKAGE_MANIFEST: PackageManifest = found.manifest;

/** A file of the package, from its root: `packagePath('profiles')`, `packagePath('dist/cli/main.js')`. */
export function packagePath(relative: string): string {
  return path.join(PACKAGE_ROOT, relative);
}
