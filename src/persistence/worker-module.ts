import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Lookups done so far: module URL + name -> the worker's URL, or null. */
const found = new Map<string, URL | null>();

/**
 * The URL of the worker module `name` beside the calling module `from` (its `import.meta.url`),
 * with the caller's own extension: dist/src/persistence/rdb/save-worker.js beside the compiled
 * save-worker-client.js, or dist/save-worker.mjs beside the bundle dist/amber-server.mjs that the
 * caller is then part of (scripts/bundle.mjs gives each worker entry the name of its source file).
 * Null when no such file exists: a worker loads compiled JavaScript only (under tsx, from the
 * TypeScript sources, it could not), and a bundler may have left it out; callers then do the work
 * on their own thread. Looked up once per caller and name, at first use.
 */
export function workerModuleUrl(name: string, from: string): URL | null {
  const id = `${from}\n${name}`;
  const hit = found.get(id);
  if (hit !== undefined) return hit;
  let url: URL | null = null;
  const ext = /\.m?js$/.exec(from)?.[0];
  if (ext !== undefined) {
    const u = new URL(`./${name}${ext}`, from);
    if (existsSync(fileURLToPath(u))) url = u;
  }
  found.set(id, url);
  return url;
}
