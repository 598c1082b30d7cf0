import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Lookups done so far: module URL + name -> the worker's URL, or null. */
const found = new Map<string, URL | null>();

/**
 * The URL of the worker module `name` beside the calling module `from` (its `import.meta.url`),
 * with the caller's own extension: dist/src/persistence/rdb/save-worker.js beside the compiled
 * save-worker-client.js, or dist/save-worker.mjs beside the CommonJS bundle
 * dist/amber-server-bundle.cjs that the caller is then part of (workers are ES module bundles:
 * scripts/bundle.mjs gives each worker entry the name of its source file).
 * Null when no such file exists: a worker loads compiled JavaScript only (under tsx, from the
 * TypeScript sources, it could not), and a bundler may have left it out; callers then do the work
 * on their own thread. Looked up once per caller and name, at first use. Also null while the
 * working directory is gone ({@link workingDirExists}), checked at every call.
 */
export function workerModuleUrl(name: string, from: string): URL | null {
  const id = `${from}\n${name}`;
  let url = found.get(id);
  if (url === undefined) {
    url = null;
    const ext = /\.[mc]?js$/.exec(from)?.[0]?.replace('.cjs', '.mjs');
    if (ext !== undefined) {
      const u = new URL(`./${name}${ext}`, from);
      if (existsSync(fileURLToPath(u))) url = u;
    }
    found.set(id, url);
  }
  return url !== null && workingDirExists() ? url : null;
}

/**
 * False when the working directory (Amber works in `dir`, as Redis chdir()s there) was deleted
 * under the running server. A worker thread cannot start then (getcwd fails in its bootstrap, and
 * its 'error' event may arrive after its caller has given up on it, e.g. a synchronous save), so
 * the caller works on its own thread, where the file's own error (ENOENT) is what gets reported.
 * process.cwd() cannot tell: the main thread caches it.
 */
function workingDirExists(): boolean {
  try {
    realpathSync.native('.');
    return true;
  } catch {
    return false;
  }
}
