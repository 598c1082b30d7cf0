/**
 * The bundled server (dist/amber-server.cjs, made by scripts/bundle.mjs in `npm run build`, which
 * runs the server bundle dist/amber-server-bundle.cjs: see bootstrap.test.ts for its code cache) is
 * what operators start (bin amber-server, npm start, the benchmarks): it answers, finds
 * redis-commands.json beside itself (COMMAND COUNT equals the unbundled server's), runs SAVE and
 * BGSAVE on the bundled save worker (dist/save-worker.mjs: NODE_DEBUG=worker makes Node log each
 * worker's URL), writes files redis-check-rdb and the bundled amber-check-rdb accept, and shuts
 * down cleanly. Skipped with a reason when the bundle was not built; a failure under CI=true.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CI, freePort, RawClient, startAmber, assertRedisCheckRdb } from '../helpers/servers.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(repoRoot, 'dist');
const bundle = join(dist, 'amber-server.cjs');
const serverBundle = join(dist, 'amber-server-bundle.cjs');

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Why the bundle test cannot run here, or null; under CI=true a missing bundle throws. */
function missingBundle(): string | null {
  const files = ['amber-server.cjs', 'amber-server-bundle.cjs', 'save-worker.mjs', 'load-worker.mjs', 'redis-commands.json', 'amber-check-rdb.mjs', 'amber-check-aof.mjs', 'amber-check-leveldb.mjs'];
  const absent = files.filter((f) => !existsSync(join(dist, f)));
  if (absent.length === 0) return null;
  const why = `the bundle is not built (dist/${absent.join(', dist/')} missing: npm run build makes it)`;
  if (CI) throw new Error(`CI=true but ${why}`);
  return why;
}

/** URLs of the worker modules the child's log shows it started (NODE_DEBUG=worker). */
function workersStarted(log: string): string[] {
  return [...log.matchAll(/instantiating Worker\. url: (\S+)/g)].map((m) => m[1]!);
}

/** Spawns the bundle on a free port; resolves once INFO shows this child's PID and loading:0. */
async function spawnBundle(dir: string): Promise<{ port: number; proc: ChildProcess; log: () => string; exited: Promise<number | null> }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawn(process.execPath, [bundle, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_DEBUG: 'worker' },
    });
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
    proc.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    let ready = false;
    while (!ready && proc.exitCode === null && proc.signalCode === null) {
      try {
        const c = await RawClient.connect(port);
        const r = await c.call('INFO', 'server', 'persistence');
        c.close();
        // another test's server may have taken the port between freePort() and the bind
        ready = r.includes(`\r\nprocess_id:${proc.pid}\r\n`) && r.includes('\r\nloading:0\r\n');
      } catch {
        // not listening yet
      }
      if (ready) break;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`the bundle did not start on port ${port}: ${out}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    if (ready) return { port, proc, log: () => out, exited };
    if (/EADDRINUSE/.test(out) && attempt < 5) continue;
    throw new Error(`the bundle exited with ${proc.exitCode ?? proc.signalCode}: ${out}`);
  }
}

test('the bundled server answers, saves through the bundled save worker (SAVE and BGSAVE), matches the unbundled command table and shuts down', async (t) => {
  const why = missingBundle();
  if (why !== null) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'amber-bundle-'));
  dirs.push(dir);
  const child = await spawnBundle(dir);
  const c = await RawClient.connect(child.port);
  try {
    assert.equal(await c.call('PING'), '+PONG\r\n');
    assert.equal(await c.call('SET', 'greeting', 'hello'), '+OK\r\n');
    // compressible values bigger than LZF's threshold, so that the worker has LZF work to do
    const cmds: string[][] = [];
    for (let i = 0; i < 500; i++) cmds.push(['RPUSH', 'list', `element-${i}-${'x'.repeat(40)}`], ['SET', `k:${i}`, 'abc'.repeat(10 + (i % 30))]);
    await c.pipeline(cmds);
    assert.equal(await c.call('GET', 'greeting'), '$5\r\nhello\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'port'), `*2\r\n$4\r\nport\r\n$${String(child.port).length}\r\n${child.port}\r\n`);
    assert.equal(await c.call('CONFIG', 'GET', 'dir'), `*2\r\n$3\r\ndir\r\n$${dir.length}\r\n${dir}\r\n`);

    // the command table came from dist/redis-commands.json: the same as the unbundled server's
    const unbundled = await startAmber();
    try {
      const u = await RawClient.connect(unbundled.port);
      const expected = await u.call('COMMAND', 'COUNT');
      u.close();
      assert.match(expected, /^:\d{3}\r\n$/);
      assert.equal(await c.call('COMMAND', 'COUNT'), expected);
    } finally {
      await unbundled.close();
    }

    const workerUrl = pathToFileURL(join(dist, 'save-worker.mjs')).href;
    assert.deepEqual(workersStarted(child.log()), [], 'no worker before the first save');
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    assert.deepEqual(workersStarted(child.log()), [workerUrl], 'SAVE ran on the bundled save worker');
    assertRedisCheckRdb(join(dir, 'dump.rdb'));

    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    let info = '';
    for (let i = 0; i < 500 && !info.includes('rdb_bgsave_in_progress:0'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      info = await c.call('INFO', 'persistence');
    }
    assert.match(info, /rdb_bgsave_in_progress:0\r\n/);
    assert.match(info, /rdb_last_bgsave_status:ok\r\n/);
    assert.deepEqual(workersStarted(child.log()), [workerUrl, workerUrl], 'BGSAVE ran on the bundled save worker');
    assert.match(child.log(), /Background saving terminated with success/);
    assertRedisCheckRdb(join(dir, 'dump.rdb'));

    // the bundled checker reads the BGSAVE's file: greeting, list and the 500 k:i
    const check = spawnSync(process.execPath, [join(dist, 'amber-check-rdb.mjs'), join(dir, 'dump.rdb')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /RDB looks OK/);
    assert.match(check.stdout, /502 keys read/);
    const aofUsage = spawnSync(process.execPath, [join(dist, 'amber-check-aof.mjs')], { encoding: 'utf8' });
    assert.match(aofUsage.stdout + aofUsage.stderr, /Usage: amber-check-aof/);

    // SHUTDOWN NOSAVE: the connection closes, the process exits 0
    await assert.rejects(c.call('SHUTDOWN', 'NOSAVE'));
    assert.equal(await child.exited, 0);
    assert.match(child.log(), /ready to exit, bye bye/);
  } finally {
    c.close();
    if (child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  }
});

test('the bundle is not minified and has a linked source map (stack traces keep function names)', (t) => {
  const why = missingBundle();
  if (why !== null) {
    t.skip(why);
    return;
  }
  assert.ok(readFileSync(bundle, 'utf8').startsWith('#!/usr/bin/env node\n'), 'the bin keeps its shebang');
  const text = readFileSync(serverBundle, 'utf8');
  // (assert.ok, not assert.match: a failed match would print the whole bundle)
  assert.ok(text.includes('\nfunction workerModuleUrl(name, from) {'), 'function names are kept');
  // the workers are found beside the entry under their entry names (scripts/bundle.mjs)
  assert.ok(text.includes('workerModuleUrl("save-worker", import_meta_url)'), 'the save worker is looked up beside the entry');
  assert.ok(text.includes('workerModuleUrl("load-worker", import_meta_url)'), 'the LevelDB load worker is looked up beside the entry');
  assert.ok(text.includes('var import_meta_url = require("node:url").pathToFileURL(__filename).href;'), 'import.meta.url is the bundle\'s own URL');
  assert.ok(/\n\/\/# sourceMappingURL=amber-server-bundle\.cjs\.map\n?$/.test(text), 'the bundle links its source map');
  // the bin is CommonJS: Node starts it without its ES module loader
  assert.ok(!existsSync(join(dist, 'amber-server.mjs')), 'no ES module entry of an earlier build is left');
  const map = JSON.parse(readFileSync(serverBundle + '.map', 'utf8')) as { sources: string[] };
  assert.ok(map.sources.includes('../src/main.ts'), 'the map points at the TypeScript sources');
  // classic-level stays a package, required from node_modules when first used (a native addon)
  assert.ok(text.includes('require("classic-level")'), 'classic-level is required from node_modules');
});
