#!/usr/bin/env node
/**
 * The amber-server entry (bin, `npm start`), bundled as dist/amber-server.cjs by
 * scripts/bundle.mjs: runs the server bundle dist/amber-server-bundle.cjs (main.ts and everything it
 * imports, one CommonJS file) from V8's code cache, so that a start-up does not parse and compile
 * its megabyte of JavaScript again: ~30 ms of the ~135 ms a start to the first reply takes, and
 * the load paths' functions come compiled too (what Node 22's module.enableCompileCache does; Node
 * 20 has it only for scripts, hence the CommonJS bundle).
 *
 * The cache, dist/amber-server-bundle.cjs.cache, is the SHA-1 of the bundle's bytes (20 bytes) followed
 * by V8's cached data. scripts/code-cache.mjs writes it at build time from a short run of the
 * server (this entry with AMBER_CODE_CACHE_OUT set: the cached data is written at exit, when the
 * functions that run has compiled are in it). A cache of another bundle is not used; one V8
 * rejects (another Node version) only costs the compile it would have saved. V8 also refuses a
 * cache made under other V8 flags (`--max-old-space-size`, in NODE_OPTIONS or on the command
 * line), so a server started with options of its own has a cache of its own beside the build's,
 * named after them, which it writes itself when it exits cleanly without a usable one (where the
 * directory is writable: a read-only install just starts without).
 * Node applies no source map to a vm.Script: with `--enable-source-maps` the bundle is required as
 * a plain CommonJS module instead, without the cache, so that stack traces point into src/*.ts.
 * What happened is left in `globalThis[Symbol.for('amber.code-cache')]` ({@link CodeCacheState})
 * for main.ts to log.
 * The entry is CommonJS too: a CommonJS main module starts without Node's ES module loader, ~5 ms
 * of every start-up.
 */
import { readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const DIGEST_BYTES = 20;

/**
 * How the bundle was compiled: from the cache, without one, with one V8 or the digest refused, or
 * required as a module for source maps.
 */
export type CodeCacheState = 'used' | 'absent' | 'stale' | 'rejected' | 'source-maps';

const bundlePath = fileURLToPath(new URL('./amber-server-bundle.cjs', import.meta.url));
if (process.sourceMapsEnabled) {
  (globalThis as Record<symbol, unknown>)[Symbol.for('amber.code-cache')] = { state: 'source-maps' satisfies CodeCacheState, path: '' };
  createRequire(import.meta.url)(bundlePath);
} else {
  runFromCache();
}

/** Compiles the bundle with its cache (written at exit when it had none usable) and runs it. */
function runFromCache(): void {
  const nodeOptions = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\n').trim();
  const cachePath = nodeOptions === '' ? `${bundlePath}.cache` : `${bundlePath}.${createHash('sha1').update(nodeOptions).digest('hex').slice(0, 16)}.cache`;
  let source: Buffer;
  try {
    source = readFileSync(bundlePath);
  } catch (e) {
    process.stderr.write(`amber-server: cannot read the server bundle ${bundlePath} (${(e as Error).message}): run \`npm run build\`.\n`);
    process.exit(1);
  }
  const digest = createHash('sha1').update(source).digest();
  let cachedData: Buffer | undefined;
  let state: CodeCacheState = 'absent';
  try {
    const c = readFileSync(cachePath);
    if (c.length > DIGEST_BYTES && c.subarray(0, DIGEST_BYTES).equals(digest)) cachedData = c.subarray(DIGEST_BYTES);
    else state = 'stale';
  } catch {
    // no cache: compiled as any script is
  }
  // esbuild writes ASCII; the entry's shebang line becomes a comment of the same length, so that
  // stack traces keep the bundle's line and column numbers
  let text = source.toString('latin1');
  if (text.startsWith('#!')) text = `//${text.slice(2)}`;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${text}\n})`, { filename: bundlePath, cachedData });
  if (cachedData !== undefined) state = script.cachedDataRejected === true ? 'rejected' : 'used';
  (globalThis as Record<symbol, unknown>)[Symbol.for('amber.code-cache')] = { state, path: cachePath };
  const forced = process.env.AMBER_CODE_CACHE_OUT;
  const out = forced || (state === 'used' ? '' : cachePath);
  if (out) {
    process.on('exit', (code) => {
      // the build's run must produce its cache; a server's own attempt is a courtesy
      if (forced) writeCache(out);
      else if (code === 0) {
        try {
          writeCache(out);
        } catch {
          // a read-only install: start-ups compile the bundle, as without a cache
        }
      }
    });
  }

  /** Writes the digest and V8's cached data of what this process compiled to `path` (temp file, rename). */
  function writeCache(path: string): void {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, Buffer.concat([digest, script.createCachedData()]));
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const mod = { exports: {} };
  // the bundle's function, called as Node calls a CommonJS module's
  (script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, createRequire(bundlePath), mod, bundlePath, dirname(bundlePath));
}
