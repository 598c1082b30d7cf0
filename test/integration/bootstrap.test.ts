/**
 * The built entry dist/amber-server.cjs (src/bootstrap.ts): it starts the CommonJS server bundle
 * from the build's V8 code cache; without a usable cache (none, another build's, one V8 refuses,
 * other Node options) it starts all the same, and a clean shutdown writes the cache it lacked.
 * Runs the built files (npm test builds first); copies of them in a temporary dir for the cases
 * that write caches.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, copyFileSync, readFileSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient, freePort, CI } from '../helpers/servers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'dist');
const built = existsSync(join(dist, 'amber-server.cjs')) && existsSync(join(dist, 'amber-server-bundle.cjs'));
if (!built && CI) throw new Error('dist/amber-server.cjs and dist/amber-server-bundle.cjs are missing: npm test builds them first');
const skip = built ? false : 'dist/amber-server.cjs is not built (npm run build): bootstrap test skipped';
if (skip) console.log(`# ${skip}`);

const work = mkdtempSync(join(tmpdir(), 'amber-bootstrap-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** A copy of the built entry and what it loads beside it, in a fresh dir; returns the dir. */
function copyOfDist(name: string): string {
  const d = join(work, name);
  mkdirSync(d);
  for (const f of ['amber-server.cjs', 'amber-server-bundle.cjs', 'redis-commands.json', 'save-worker.mjs']) copyFileSync(join(dist, f), join(d, f));
  return d;
}

/**
 * Starts `entry` (with Node options `nodeArgs`), checks it answers PING, shuts it down with
 * SHUTDOWN NOSAVE and returns its log once it has exited with code 0.
 */
async function startAndStop(entry: string, nodeArgs: string[] = []): Promise<string> {
  const port = await freePort();
  const dir = mkdtempSync(join(work, 'data-'));
  const proc = spawn(process.execPath, [...nodeArgs, entry, '--port', String(port), '--dir', dir, '--save', '', '--loglevel', 'verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString('latin1')));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString('latin1')));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (!out.includes('Ready to accept connections')) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const c = await RawClient.connect(port);
  assert.equal(await c.call('PING'), '+PONG\r\n');
  c.sock.write(RawClient.encode(['SHUTDOWN', 'NOSAVE']));
  assert.equal(await exited, 0, out);
  c.close();
  return out;
}

const cacheLine = (log: string): string => log.split('\n').find((l) => /code cache/.test(l)) ?? '(no code cache line)';

test('the built entry starts from the build\'s code cache', { skip }, async () => {
  assert.ok(existsSync(join(dist, 'amber-server-bundle.cjs.cache')), 'npm run build writes dist/amber-server-bundle.cjs.cache');
  const log = await startAndStop(join(dist, 'amber-server.cjs'));
  assert.match(cacheLine(log), /- Server code loaded from the V8 code cache .*amber-server-bundle\.cjs\.cache$/);
});

test('no cache, another build\'s, one V8 refuses: the server starts, and a clean shutdown writes a usable one', { skip }, async () => {
  const d = copyOfDist('copy1');
  const entry = join(d, 'amber-server.cjs');
  const cache = join(d, 'amber-server-bundle.cjs.cache');
  assert.match(cacheLine(await startAndStop(entry)), /- No V8 code cache at /);
  assert.ok(existsSync(cache));
  const digest = createHash('sha1').update(readFileSync(join(d, 'amber-server-bundle.cjs'))).digest();
  assert.ok(readFileSync(cache).subarray(0, 20).equals(digest), 'the cache starts with the digest of the bundle');
  assert.match(cacheLine(await startAndStop(entry)), /- Server code loaded from the V8 code cache /);

  // another build's cache (another digest) is not used, and is replaced
  const good = readFileSync(cache);
  const other = Buffer.from(good);
  other[0] ^= 0xff;
  writeFileSync(cache, other);
  assert.match(cacheLine(await startAndStop(entry)), /\* The V8 code cache .* is of another build/);
  assert.ok(readFileSync(cache).subarray(0, 20).equals(digest), 'replaced by a cache of this bundle');
  assert.match(cacheLine(await startAndStop(entry)), /- Server code loaded from/);

  // the right digest over data V8 cannot use
  writeFileSync(cache, Buffer.concat([digest, Buffer.alloc(4096, 0x5a)]));
  assert.match(cacheLine(await startAndStop(entry)), /\* Node\.js refused the V8 code cache /);
  assert.match(cacheLine(await startAndStop(entry)), /- Server code loaded from/);
});

test('Node options of its own (V8 flags): a cache of their own beside the build\'s', { skip }, async () => {
  const d = copyOfDist('copy2');
  const entry = join(d, 'amber-server.cjs');
  const flags = ['--max-old-space-size=1536'];
  assert.match(cacheLine(await startAndStop(entry, flags)), /- No V8 code cache at .*amber-server-bundle\.cjs\.[0-9a-f]{16}\.cache: /);
  assert.match(cacheLine(await startAndStop(entry, flags)), /- Server code loaded from the V8 code cache .*amber-server-bundle\.cjs\.[0-9a-f]{16}\.cache$/);
  // the build's name is left to runs without options
  assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.cache')).map((f) => /^amber-server-bundle\.cjs\.[0-9a-f]{16}\.cache$/.test(f)), [true]);
});

test('with --enable-source-maps the bundle is required as a module (Node maps no vm.Script), without the cache', { skip }, async () => {
  const caches = (): string[] => readdirSync(dist).filter((f) => f.endsWith('.cache')).sort();
  const before = caches();
  const log = await startAndStop(join(dist, 'amber-server.cjs'), ['--enable-source-maps']);
  assert.match(cacheLine(log), /- Source maps are on \(--enable-source-maps\): the server bundle was loaded as a CommonJS module/);
  // no cache is written for these options: none would be used
  assert.deepEqual(caches(), before);
});
