// Bundles the CLI into dist/cli/main.js (the `fleetsim` command) and its shard worker into
// dist/cli/shard-worker.js, from tsc's output in dist/. Part of `npm run build`, after tsc.
//
// Why: Node loads an ES module graph file by file (resolve, stat, read, compile, link), ~300
// modules for a run (our ~130, zod with its 64 locale modules, yaml, commander,
// hdr-histogram-js), and again in every shard worker thread. One file per entry cuts that work
// from every command (bench/RESULTS.md, "The CLI as one bundle").
//
// What is bundled: our code and the packages every run loads. What stays a package import
// (external): the packages a run loads only when it uses them (aedes, mqtt, undici, prom-client,
// the X.509 stack) and piscina, whose worker finds its own files beside it.
// Lazy `import()`s stay lazy: each becomes a chunk under dist/cli/chunks/, loaded on first use.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/cli');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
/** Dependencies the bundle carries; every other dependency is loaded from node_modules. */
const CARRIED = ['commander', 'hdr-histogram-js', 'yaml', 'zod'];

const { build } = await import('esbuild').catch((err) => {
  console.error(`bundle-cli: cannot load esbuild (${err.code ?? err.message}); run \`npm install\` (or \`npm ci\`) to get the dev dependencies`);
  process.exit(1);
});

rmSync(path.join(outdir, 'chunks'), { recursive: true, force: true });
const result = await build({
  entryPoints: {
    main: path.join(root, 'dist/cli/program.js'),
    'shard-worker': path.join(root, 'dist/engine/hosting/shard-worker.js'),
  },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(pkg.dependencies).filter((d) => !CARRIED.includes(d)),
  // src/package-files.ts: the bundle starts its own shard worker.
  define: { FLEETSIM_CLI_BUNDLE: 'true' },
  // The carried packages are CommonJS in part (hdr-histogram-js): in an ES module their
  // `require` of Node's built-ins needs one.
  banner: { js: "import { createRequire as __fleetsimCreateRequire } from 'node:module';\nconst require = __fleetsimCreateRequire(import.meta.url);" },
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
// test/unit/cli-bundle.test.ts reads what went into which file.
writeFileSync(path.join(outdir, 'bundle-meta.json'), JSON.stringify(result.metafile));
