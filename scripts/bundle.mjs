// Bundles the compiled server (dist/src, after tsc and copy-assets.mjs) into single-file entries
// beside each other in dist/, for start-up time: the ES module loader resolving and reading the
// ~115 modules of dist/src one by one costs ~55 ms of every start-up, one file costs a fraction.
//
//   dist/amber-server.mjs      dist/src/main.js                      (bin amber-server, npm start)
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
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Output name (in dist/) of each compiled entry (relative to dist/src). */
const ENTRIES = {
  'amber-server': 'main.js',
  'save-worker': 'persistence/rdb/save-worker.js',
  'load-worker': 'persistence/leveldb/load-worker.js',
  'amber-check-rdb': 'bin/amber-check-rdb.js',
  'amber-check-aof': 'bin/amber-check-aof.js',
  'amber-check-leveldb': 'bin/amber-check-leveldb.js',
};

for (const src of Object.values(ENTRIES)) {
  if (!existsSync(join(dist, 'src', src))) {
    console.error(`bundle: dist/src/${src} is missing (run tsc first)`);
    process.exit(1);
  }
}

const result = await build({
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([out, src]) => [out, join(dist, 'src', src)])),
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  minify: false,
  sourcemap: 'linked',
  // the map points at src/*.ts (through tsc's maps), which ship with the package
  sourcesContent: false,
  logLevel: 'warning',
  // the entry's own shebang (main.ts) is kept; no banner is needed
});
if (result.errors.length > 0) process.exit(1);

copyFileSync(join(dist, 'src', 'commands', 'redis-commands.json'), join(dist, 'redis-commands.json'));
