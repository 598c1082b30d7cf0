// Bundles the compiled server (dist/src, after tsc and copy-assets.mjs) into single-file entries
// beside each other in dist/, for start-up time: the ES module loader resolving and reading the
// ~115 modules of dist/src one by one costs ~55 ms of every start-up, one file costs a fraction.
//
//   dist/amber-server.cjs      dist/src/bootstrap.js                 (bin amber-server, npm start):
//                              runs dist/amber-server-bundle.cjs with V8's code cache (bootstrap.ts);
//                              CommonJS, so that Node starts it without its ES module loader
//   dist/amber-server-bundle.cjs dist/src/main.js, as CommonJS: Node 20 takes cached code for a
//                              script, not for an ES module (import.meta.url: import-meta-url.js)
//   dist/save-worker.mjs       dist/src/persistence/rdb/save-worker.js (found by save-worker-client
//                              as `save-worker` + the bundle's own extension, beside the bundle)
//   dist/load-worker.mjs       dist/src/persistence/leveldb/load-worker.js (the same, for engine.ts)
//   dist/amber-check-rdb.mjs   dist/src/bin/amber-check-rdb.js
//   dist/amber-check-aof.mjs   dist/src/bin/amber-check-aof.js
//   dist/amber-check-leveldb.mjs dist/src/bin/amber-check-leveldb.js
//   dist/redis-commands.json   read by spec.ts beside its module (here: beside the bundles)
//
// Each entry is self-contained (no shared chunks: a chunk is one more file to load). Packages
// stay external (classic-level is a native addon, loaded lazily from node_modules). Not minified,
// so stack traces keep their function names; each bundle has a linked .map file (which maps back
// to src/*.ts through tsc's maps) that only --enable-source-maps reads.
import { build } from 'esbuild';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Output name (in dist/) of each compiled entry (relative to dist/src). */
const ENTRIES = {
  'save-worker': 'persistence/rdb/save-worker.js',
  'load-worker': 'persistence/leveldb/load-worker.js',
  'amber-check-rdb': 'bin/amber-check-rdb.js',
  'amber-check-aof': 'bin/amber-check-aof.js',
  'amber-check-leveldb': 'bin/amber-check-leveldb.js',
};

/** The CommonJS entries: the bin, and the server itself (for the code cache: scripts/code-cache.mjs). */
const CJS_ENTRIES = {
  'amber-server': 'bootstrap.js',
  'amber-server-bundle': 'main.js',
};

for (const src of [...Object.values(ENTRIES), ...Object.values(CJS_ENTRIES)]) {
  if (!existsSync(join(dist, 'src', src))) {
    console.error(`bundle: dist/src/${src} is missing (run tsc first)`);
    process.exit(1);
  }
}

/** What both builds share. */
const common = {
  outdir: dist,
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  minify: false,
  sourcemap: 'linked',
  // the map points at src/*.ts (through tsc's maps), which ship with the package
  sourcesContent: false,
  logLevel: 'warning',
  // each entry's own shebang is kept; no banner is needed
};

const result = await build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([out, src]) => [out, join(dist, 'src', src)])),
  outExtension: { '.js': '.mjs' },
  format: 'esm',
});
if (result.errors.length > 0) process.exit(1);

const server = await build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(CJS_ENTRIES).map(([out, src]) => [out, join(dist, 'src', src)])),
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // import.meta.url of every module in it: the URL of its own file, as in the ES bundles (worker
  // modules and redis-commands.json are looked up beside it)
  inject: [join(root, 'scripts', 'import-meta-url.js')],
  define: { 'import.meta.url': 'import_meta_url' },
  // import() as require(): the bundle runs as a vm.Script, which has no dynamic import of its
  // own (classic-level, the one package imported so, is CommonJS)
  supported: { 'dynamic-import': false },
});
if (server.errors.length > 0) process.exit(1);

copyFileSync(join(dist, 'src', 'commands', 'redis-commands.json'), join(dist, 'redis-commands.json'));
// the ES module entry of earlier builds (amber-server.mjs) would start a stale server
for (const f of ['amber-server.mjs', 'amber-server.mjs.map']) rmSync(join(dist, f), { force: true });
