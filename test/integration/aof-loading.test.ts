/**
 * Loading an AOF is visible as Redis 7.0 shows it: while a child Amber replays a big
 * appendonlydir, clients get `-LOADING Redis is loading the dataset in memory`, INFO persistence
 * shows loading:1 and the loading_* progress fields, and once it is done the data is all there.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { freePort, RawClient } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'amber-aof-loading-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEYS = 300_000;

test('while an AOF loads, clients get -LOADING and INFO shows loading_* progress', { timeout: 120_000 }, async (t) => {
  const built = join(repoRoot, 'dist', 'src', 'main.js');
  if (!existsSync(built)) {
    t.skip('dist/ not built (npm test builds it first)');
    return;
  }
  // an appendonlydir with one incr file of KEYS SET commands (no base: Redis 7.0 loads that too)
  const aofDir = join(dir, 'appendonlydir');
  mkdirSync(aofDir);
  writeFileSync(join(aofDir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\n');
  const parts: string[] = ['*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n'];
  for (let i = 0; i < KEYS; i++) {
    const k = `key:${i}`;
    const v = `value:${i}`;
    parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
  }
  writeFileSync(join(aofDir, 'appendonly.aof.1.incr.aof'), parts.join(''));

  const port = await freePort();
  const proc = spawn(process.execPath, [built, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'], { stdio: 'ignore' });
  try {
    let loadingReplies = 0;
    let infoWhileLoading = '';
    const deadline = Date.now() + 90_000;
    for (;;) {
      assert.ok(Date.now() < deadline, 'the AOF did not finish loading in 90 s');
      assert.equal(proc.exitCode, null, 'amber-server exited while loading');
      let c: RawClient;
      try {
        c = await RawClient.connect(port);
      } catch {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      try {
        const [ping, info] = await c.pipeline([['PING'], ['INFO', 'persistence']]);
        if (ping === '+PONG\r\n') break;
        assert.equal(ping, '-LOADING Redis is loading the dataset in memory\r\n');
        loadingReplies++;
        if (infoWhileLoading === '') infoWhileLoading = info!;
      } finally {
        c.close();
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(loadingReplies > 0, 'no client saw -LOADING: the load finished before the first connection');
    t.diagnostic(`${loadingReplies} -LOADING replies`);
    assert.match(infoWhileLoading, /\r\nloading:1\r\n/);
    for (const f of ['loading_start_time', 'loading_total_bytes', 'loading_loaded_bytes', 'loading_loaded_perc', 'loading_eta_seconds']) {
      assert.match(infoWhileLoading, new RegExp(`\\r\\n${f}:[\\d.]+\\r\\n`), f);
    }
    const c = await RawClient.connect(port);
    try {
      assert.equal(await c.call('DBSIZE'), `:${KEYS}\r\n`);
      assert.equal(await c.call('GET', `key:${KEYS - 1}`), `$${`value:${KEYS - 1}`.length}\r\nvalue:${KEYS - 1}\r\n`);
      const info = await c.call('INFO', 'persistence');
      assert.match(info, /\r\nloading:0\r\n/);
      assert.doesNotMatch(info, /loading_total_bytes/);
    } finally {
      c.close();
    }
  } finally {
    proc.kill('SIGKILL');
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(null) : proc.once('exit', r)));
  }
});
