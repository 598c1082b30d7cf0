/**
 * rdb-key-save-delay and key-load-delay against redis-server 7.0.15 under the same settings: how
 * long BGSAVE stays in progress (a CONFIG SET during it does not change it: Redis's forked child
 * kept the old value), how long SAVE and DEBUG RELOAD block, and how long a start-up load answers
 * -LOADING. Both must take about keys x delay; neither may be far from the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, tempDirs, freePort } from '../helpers/servers.js';

const skip = !redisAvailable() && NO_REDIS;
const tmp = tempDirs('amber-delays-compat-');
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function field(info: string, name: string): string | undefined {
  return new RegExp(`\\r\\n${name}:([^\\r]*)\\r\\n`).exec('\r\n' + info)?.[1];
}

/** Asserts both durations are about `expect` ms and close to each other. */
function assertAbout(what: string, amberMs: number, redisMs: number, expect: number): void {
  const msg = `${what}: Amber ${amberMs.toFixed(0)} ms, Redis ${redisMs.toFixed(0)} ms, nominal ${expect} ms`;
  for (const ms of [amberMs, redisMs]) assert.ok(ms >= expect * 0.9 && ms <= expect * 3, msg);
  const ratio = amberMs / redisMs;
  assert.ok(ratio > 0.6 && ratio < 1.6, msg);
}

/** The timings of the same run of commands on one server (fresh data set of `keys` keys). */
async function timings(port: number, keys: number, delay: number): Promise<{ bgsave: number; save: number; reload: number }> {
  const c = await RawClient.connect(port);
  try {
    await c.call('FLUSHALL');
    assert.equal(await c.call('DEBUG', 'POPULATE', String(keys)), '+OK\r\n');
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', String(delay));
    let t0 = performance.now();
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    // too late for this save, in Redis (the child has its own copy of the setting) and in Amber
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', '0');
    for (let i = 0; ; i++) {
      assert.ok(i < 1000, 'BGSAVE did not finish');
      if (field(await c.call('INFO', 'persistence'), 'rdb_bgsave_in_progress') === '0') break;
      await sleep(10);
    }
    const bgsave = performance.now() - t0;
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', String(delay));
    t0 = performance.now();
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    const save = performance.now() - t0;
    await c.pipeline([['CONFIG', 'SET', 'rdb-key-save-delay', '0'], ['CONFIG', 'SET', 'key-load-delay', String(delay)]]);
    t0 = performance.now();
    assert.equal(await c.call('DEBUG', 'RELOAD'), '+OK\r\n');
    const reload = performance.now() - t0;
    await c.call('CONFIG', 'SET', 'key-load-delay', '0');
    assert.equal(await c.call('DBSIZE'), `:${keys}\r\n`);
    return { bgsave, save, reload };
  } finally {
    c.close();
  }
}

test('BGSAVE, SAVE and DEBUG RELOAD take as long as in Redis under the same delays', { skip, timeout: 60_000 }, async (t) => {
  const KEYS = 400;
  const DELAY = 1500;
  const amber = await startAmber({ save: '' });
  const redis = await startRedis();
  try {
    const a = await timings(amber.port, KEYS, DELAY);
    const r = await timings(redis.port, KEYS, DELAY);
    t.diagnostic(`Amber ${JSON.stringify(a)}, Redis ${JSON.stringify(r)}`);
    const expect = (KEYS * DELAY) / 1000;
    assertAbout('BGSAVE', a.bgsave, r.bgsave, expect);
    assertAbout('SAVE', a.save, r.save, expect);
    assertAbout('DEBUG RELOAD', a.reload, r.reload, expect);
  } finally {
    await amber.close();
    await redis.close();
  }
});

/** How long a server started by `start` answers -LOADING before PONG, ms (first -LOADING to PONG). */
async function loadingMs(start: () => { port: number; proc: ChildProcess }): Promise<number> {
  const { port, proc } = start();
  try {
    const t0 = performance.now();
    let first = -1;
    for (;;) {
      assert.ok(performance.now() - t0 < 20_000, 'still loading after 20 s');
      assert.equal(proc.exitCode, null, 'the server exited while loading');
      let c: RawClient;
      try {
        c = await RawClient.connect(port);
      } catch {
        await sleep(5);
        continue;
      }
      try {
        for (let i = 0; i < 2000; i++) {
          const ping = await c.call('PING');
          if (ping === '+PONG\r\n') return first < 0 ? 0 : performance.now() - first;
          assert.equal(ping, '-LOADING Redis is loading the dataset in memory\r\n');
          if (first < 0) first = performance.now();
          await sleep(10);
        }
      } finally {
        c.close();
      }
    }
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
  }
}

test('a start-up load under key-load-delay answers -LOADING as long as in Redis', { skip, timeout: 60_000 }, async (t) => {
  const built = join(repoRoot, 'dist', 'src', 'main.js');
  if (!existsSync(built)) {
    t.skip('dist/ not built (npm test builds it first)');
    return;
  }
  const KEYS = 800;
  const DELAY = 1000;
  // one dump.rdb, written by Redis, loaded by both
  const src = tmp();
  const r = await startRedis([], src);
  const c = await RawClient.connect(r.port);
  await c.call('DEBUG', 'POPULATE', String(KEYS));
  assert.equal(await c.call('SAVE'), '+OK\r\n');
  c.close();
  await r.close();
  const aDir = tmp();
  const rDir = tmp();
  copyFileSync(join(src, 'dump.rdb'), join(aDir, 'dump.rdb'));
  copyFileSync(join(src, 'dump.rdb'), join(rDir, 'dump.rdb'));
  const aPort = await freePort();
  const amberMs = await loadingMs(() => ({
    port: aPort,
    proc: spawn(process.execPath, [built, '--port', String(aPort), '--bind', '127.0.0.1', '--dir', aDir, '--save', '', '--key-load-delay', String(DELAY)], { stdio: 'ignore' }),
  }));
  const rPort = await freePort();
  // Redis serves clients during a load every loading-process-events-interval-bytes (2 MB by
  // default, more than this file): 1 KB, as its own tests set it, to see its -LOADING replies
  const redisMs = await loadingMs(() => ({
    port: rPort,
    proc: spawn('redis-server', ['--port', String(rPort), '--bind', '127.0.0.1', '--dir', rDir, '--save', '', '--key-load-delay', String(DELAY),
      '--loading-process-events-interval-bytes', '1024'], { stdio: 'ignore' }),
  }));
  t.diagnostic(`-LOADING for ${amberMs.toFixed(0)} ms in Amber, ${redisMs.toFixed(0)} ms in Redis`);
  assertAbout('start-up load', amberMs, redisMs, (KEYS * DELAY) / 1000);
});
