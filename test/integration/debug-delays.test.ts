/**
 * The hidden test directives rdb-key-save-delay and key-load-delay (debugDelay after each key
 * saved or loaded, as Redis 7.0.15): BGSAVE and the AOF rewrite take about N x delay while the
 * server keeps answering and the file keeps its point in time; SAVE and DEBUG RELOAD block as
 * Redis's do; a start-up load (RDB or AOF) shows -LOADING and rising loading_* for about N x delay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { startAmber, spawnAmber, RawClient, keyspaceDump, tempDirs, freePort } from '../helpers/servers.js';
import { USLEEP_SLACK_US } from '../../src/persistence/debug-delay.js';

const tmp = tempDirs('amber-delays-');
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One field of an INFO reply, or undefined. */
function field(info: string, name: string): string | undefined {
  return new RegExp(`\\r\\n${name}:([^\\r]*)\\r\\n`).exec('\r\n' + info)?.[1];
}

/** Expected duration, ms, of `keys` debugDelay(usec) sleeps (each with its usleep slack). */
const expectedMs = (keys: number, usec: number): number => (keys * (usec + USLEEP_SLACK_US)) / 1000;

/**
 * PINGs on its own connection, one after the other, until stopped; the longest round trip, ms,
 * tells whether the event loop was ever held.
 */
function pinger(port: number): { stop(): Promise<{ max: number; count: number }> } {
  let running = true;
  const done = (async () => {
    const c = await RawClient.connect(port);
    let max = 0;
    let count = 0;
    try {
      while (running && count < 100_000) {
        const t0 = performance.now();
        assert.equal(await c.call('PING'), '+PONG\r\n');
        max = Math.max(max, performance.now() - t0);
        count++;
        await sleep(2);
      }
    } finally {
      c.close();
    }
    return { max, count };
  })();
  return {
    stop: async () => {
      running = false;
      return done;
    },
  };
}

/**
 * Polls INFO persistence every 10 ms until `name` is 0; returns the time it took from `t0`
 * (performance.now()) and the INFO seen about halfway through `expect` ms.
 */
async function waitZero(c: RawClient, name: string, t0: number, expect: number, limitMs: number): Promise<{ ms: number; midway: string }> {
  let midway = '';
  for (;;) {
    const info = await c.call('INFO', 'persistence');
    const now = performance.now() - t0;
    if (field(info, name) === '0') return { ms: now, midway };
    if (midway === '' && now >= expect / 2) midway = info;
    assert.ok(now < limitMs, `${name} still 1 after ${limitMs} ms`);
    await sleep(10);
  }
}

test('BGSAVE with rdb-key-save-delay takes about keys x delay, keeps serving and saves the data at its start', { timeout: 30_000 }, async (t) => {
  const dir = tmp();
  const KEYS = 1000;
  const DELAY = 1000;
  const expect = expectedMs(KEYS + 3, DELAY);
  let atStart: string;
  const s = await startAmber({ dir, save: '' });
  const c = await RawClient.connect(s.port);
  const w = await RawClient.connect(s.port);
  try {
    assert.equal(await c.call('DEBUG', 'POPULATE', String(KEYS)), '+OK\r\n');
    await c.pipeline([['HSET', 'h', 'a', '1', 'b', '2'], ['RPUSH', 'l', 'x', 'y'], ['SADD', 'set', 'm']]);
    atStart = await keyspaceDump(s.port);
    assert.equal(await c.call('CONFIG', 'SET', 'rdb-key-save-delay', String(DELAY)), '+OK\r\n');
    const ping = pinger(s.port);
    const t0 = performance.now();
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    // writes during the save, to keys serialized already and not yet: none may reach the file
    await w.pipeline([['SET', 'key:1', 'changed'], ['DEL', 'key:2'], ['SET', 'new', 'x'], ['HSET', 'h', 'c', '3'],
      ['RPUSH', 'l', 'z'], ['SET', `key:${KEYS - 1}`, 'changed'], ['DEL', 'set']]);
    const { ms, midway } = await waitZero(c, 'rdb_bgsave_in_progress', t0, expect, expect * 4);
    const { max, count } = await ping.stop();
    t.diagnostic(`BGSAVE of ${KEYS + 3} keys at ${DELAY} us: ${ms.toFixed(0)} ms (expected ${expect}); ${count} PINGs, the slowest ${max.toFixed(1)} ms`);
    assert.ok(ms >= expect * 0.9 && ms <= expect * 4, `BGSAVE took ${ms.toFixed(0)} ms, expected about ${expect} ms`);
    assert.ok(max < 250, `a PING waited ${max.toFixed(1)} ms during a ${ms.toFixed(0)} ms save`);
    assert.ok(count > 20, `only ${count} PINGs answered during the save`);
    // halfway: still running, the keys going out one by one
    assert.equal(field(midway, 'rdb_bgsave_in_progress'), '1');
    const processed = Number(field(midway, 'current_save_keys_processed'));
    assert.ok(processed > 0 && processed < KEYS, `current_save_keys_processed ${processed} halfway`);
    // the keys at the point in time, and the share done (Redis: dbTotalServerKeyCount at the fork)
    assert.equal(field(midway, 'current_save_keys_total'), String(KEYS + 3));
    assert.equal(field(midway, 'current_fork_perc'), ((processed / (KEYS + 3)) * 100).toFixed(2));
    assert.equal(field(await c.call('INFO', 'persistence'), 'rdb_last_bgsave_status'), 'ok');
  } finally {
    c.close();
    w.close();
    await s.close();
  }
  // the file holds the data set of the moment BGSAVE started
  const s2 = await startAmber({ dir, save: '' });
  const c2 = await RawClient.connect(s2.port);
  try {
    assert.equal(await keyspaceDump(s2.port), atStart);
    // rdb-key-save-delay 0 (the default): fast again
    const t1 = performance.now();
    assert.equal(await c2.call('BGSAVE'), '+Background saving started\r\n');
    const fast = await waitZero(c2, 'rdb_bgsave_in_progress', t1, 0, 5000);
    assert.ok(fast.ms < expect / 3, `BGSAVE without the delay took ${fast.ms.toFixed(0)} ms`);
  } finally {
    c2.close();
    await s2.close();
  }
});

test('FLUSHALL stops a BGSAVE slowed by a long rdb-key-save-delay at once', { timeout: 20_000 }, async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '' });
  const c = await RawClient.connect(s.port);
  try {
    await c.call('DEBUG', 'POPULATE', '100');
    // a second per key: the save would take 100 s
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', '1000000');
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    await sleep(100);
    assert.equal(field(await c.call('INFO', 'persistence'), 'rdb_bgsave_in_progress'), '1');
    const t0 = performance.now();
    assert.equal(await c.call('FLUSHALL'), '+OK\r\n');
    const { ms } = await waitZero(c, 'rdb_bgsave_in_progress', t0, 0, 2000);
    // at once against the 100 s the save had left (bounds wide enough for a loaded CI machine)
    assert.ok(ms < 3000, `the aborted save ended after ${ms.toFixed(0)} ms`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.rdb')), []);
  } finally {
    c.close();
    await s.close();
  }
});

test('SAVE and DEBUG RELOAD block for about keys x delay, as in Redis', { timeout: 20_000 }, async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '' });
  const c = await RawClient.connect(s.port);
  const other = await RawClient.connect(s.port);
  try {
    const KEYS = 300;
    const DELAY = 1500;
    const expect = expectedMs(KEYS, DELAY);
    await c.call('DEBUG', 'POPULATE', String(KEYS));
    await c.call('CONFIG', 'SET', 'rdb-key-save-delay', String(DELAY));
    let t0 = performance.now();
    const save = c.call('SAVE');
    await sleep(20);
    // the server is blocked: another client's PING is answered after SAVE's reply
    const pong = other.call('PING').then(() => performance.now() - t0);
    assert.equal(await save, '+OK\r\n');
    const saveMs = performance.now() - t0;
    assert.ok(saveMs >= expect * 0.9 && saveMs <= expect * 3, `SAVE took ${saveMs.toFixed(0)} ms, expected about ${expect} ms`);
    assert.ok((await pong) >= saveMs - 5, 'a PING was answered while SAVE ran');

    // DEBUG RELOAD: its save (rdb-key-save-delay 0 now) then its load with key-load-delay
    await c.pipeline([['CONFIG', 'SET', 'rdb-key-save-delay', '0'], ['CONFIG', 'SET', 'key-load-delay', String(DELAY)]]);
    t0 = performance.now();
    assert.equal(await c.call('DEBUG', 'RELOAD'), '+OK\r\n');
    const reloadMs = performance.now() - t0;
    assert.ok(reloadMs >= expect * 0.9 && reloadMs <= expect * 3, `DEBUG RELOAD took ${reloadMs.toFixed(0)} ms, expected about ${expect} ms`);
    assert.equal(await c.call('DBSIZE'), `:${KEYS}\r\n`);
    // back to 0: fast again
    await c.call('CONFIG', 'SET', 'key-load-delay', '0');
    t0 = performance.now();
    assert.equal(await c.call('DEBUG', 'RELOAD'), '+OK\r\n');
    assert.ok(performance.now() - t0 < expect / 3);
  } finally {
    c.close();
    other.close();
    await s.close();
  }
});

test('the AOF rewrite with rdb-key-save-delay takes about keys x delay and keeps serving; appendonly no stops it at once', { timeout: 30_000 }, async (t) => {
  for (const preamble of ['yes', 'no']) {
    const dir = tmp();
    const s = await startAmber({ dir, save: '', appendonly: 'yes', 'aof-use-rdb-preamble': preamble });
    const c = await RawClient.connect(s.port);
    const w = await RawClient.connect(s.port);
    try {
      const KEYS = 400;
      const DELAY = 2000;
      const expect = expectedMs(KEYS, DELAY);
      await c.call('DEBUG', 'POPULATE', String(KEYS));
      await c.call('CONFIG', 'SET', 'rdb-key-save-delay', String(DELAY));
      const ping = pinger(s.port);
      const t0 = performance.now();
      assert.equal(await c.call('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
      await w.pipeline([['SET', 'key:1', 'changed'], ['DEL', 'key:2'], ['SET', 'new', 'x']]);
      const { ms, midway } = await waitZero(c, 'aof_rewrite_in_progress', t0, expect, expect * 4);
      const { max } = await ping.stop();
      t.diagnostic(`aof-use-rdb-preamble ${preamble}: rewrite of ${KEYS} keys at ${DELAY} us: ${ms.toFixed(0)} ms (expected ${expect}), slowest PING ${max.toFixed(1)} ms`);
      assert.ok(ms >= expect * 0.9 && ms <= expect * 4, `the rewrite took ${ms.toFixed(0)} ms, expected about ${expect} ms`);
      assert.equal(field(midway, 'aof_rewrite_in_progress'), '1');
      assert.equal(field(midway, 'current_save_keys_total'), String(KEYS));
      const done = Number(field(midway, 'current_save_keys_processed'));
      assert.ok(done > 0 && done < KEYS, `current_save_keys_processed ${done} halfway through the rewrite`);
      // the delays are slept on timers of at most 20 ms: no PING waits for a key's delay
      assert.ok(max < 250, `a PING waited ${max.toFixed(1)} ms`);
      assert.equal(field(await c.call('INFO', 'persistence'), 'aof_last_bgrewrite_status'), 'ok');
      const live = await keyspaceDump(s.port);

      // turning AOF off stops a rewrite slowed to a second per key at once
      await c.call('CONFIG', 'SET', 'rdb-key-save-delay', '1000000');
      assert.equal(await c.call('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
      await sleep(100);
      const t1 = performance.now();
      assert.equal(await c.call('CONFIG', 'SET', 'appendonly', 'no'), '+OK\r\n');
      const stopped = await waitZero(c, 'aof_rewrite_in_progress', t1, 0, 2000);
      assert.ok(stopped.ms < 3000, `the cancelled rewrite ended after ${stopped.ms.toFixed(0)} ms`);
      c.close();
      w.close();
      await s.close();
      // the delayed rewrite's base plus the incr file after it: the data as it was at the end
      const s2 = await startAmber({ dir, save: '', appendonly: 'yes' });
      try {
        assert.equal(await keyspaceDump(s2.port), live);
      } finally {
        await s2.close();
      }
    } finally {
      c.close();
      w.close();
      await s.close().catch(() => undefined);
    }
  }
});

/** amber-server (dist build) as a child on `dir` with `args`, not waiting for it to load. */
async function spawnLoading(dir: string, args: string[]): Promise<{ port: number; kill(): Promise<void> } | null> {
  const built = join(repoRoot, 'dist', 'src', 'main.js');
  if (!existsSync(built)) return null;
  const port = await freePort();
  const proc = spawn(process.execPath, [built, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...args], { stdio: 'ignore' });
  return {
    port,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
}

/**
 * Connects over and over until the server answers PING with PONG; returns how long it answered
 * -LOADING (ms, from the first -LOADING), how many -LOADING replies came and the
 * loading_loaded_perc values seen, in order. `during` runs once, at the first -LOADING.
 */
async function watchLoading(port: number, limitMs: number, during?: (c: RawClient) => Promise<void>): Promise<{ ms: number; replies: number; percs: number[] }> {
  const t0 = performance.now();
  let first = -1;
  let replies = 0;
  const percs: number[] = [];
  for (;;) {
    assert.ok(performance.now() - t0 < limitMs, `still loading after ${limitMs} ms`);
    let c: RawClient;
    try {
      c = await RawClient.connect(port);
    } catch {
      await sleep(10);
      continue;
    }
    try {
      for (let i = 0; i < 1000; i++) {
        // a load that holds the event loop leaves the connection without an answer
        let timer: NodeJS.Timeout | undefined;
        const silent = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('the loading server did not answer a PING for 2 s')), 2000);
        });
        const [ping, info] = await Promise.race([c.pipeline([['PING'], ['INFO', 'persistence']]), silent]).finally(() => clearTimeout(timer));
        if (ping === '+PONG\r\n') return { ms: first < 0 ? 0 : performance.now() - first, replies, percs };
        assert.equal(ping, '-LOADING Redis is loading the dataset in memory\r\n');
        if (first < 0) {
          first = performance.now();
          await during?.(c);
        }
        replies++;
        const perc = field(info!, 'loading_loaded_perc');
        if (perc !== undefined) percs.push(Number(perc));
        await sleep(20);
      }
    } finally {
      c.close();
    }
  }
}

/** A dump.rdb of `keys` DEBUG POPULATE keys in `dir`. */
async function writeDump(dir: string, keys: number): Promise<void> {
  const s = await startAmber({ dir, save: '' });
  const c = await RawClient.connect(s.port);
  try {
    await c.call('DEBUG', 'POPULATE', String(keys));
    assert.equal(await c.call('SAVE'), '+OK\r\n');
  } finally {
    c.close();
    await s.close();
  }
}

test('key-load-delay: the start-up load of an RDB shows -LOADING for about keys x delay, with rising loading_loaded_perc', { timeout: 30_000 }, async (t) => {
  const dir = tmp();
  const KEYS = 1000;
  const DELAY = 1000;
  const expect = expectedMs(KEYS, DELAY);
  await writeDump(dir, KEYS);
  const child = await spawnLoading(dir, ['--key-load-delay', String(DELAY)]);
  if (child === null) {
    t.skip('dist/ not built (npm test builds it first)');
    return;
  }
  try {
    const { ms, replies, percs } = await watchLoading(child.port, expect * 6 + 10_000);
    t.diagnostic(`${KEYS} keys at ${DELAY} us: -LOADING for ${ms.toFixed(0)} ms (expected about ${expect}), ${replies} replies, loading_loaded_perc ${percs.join(' ')}`);
    assert.ok(ms >= expect * 0.7 && ms <= expect * 3, `-LOADING for ${ms.toFixed(0)} ms, expected about ${expect} ms`);
    assert.ok(replies >= 10, `${replies} -LOADING replies`);
    assert.ok(percs.length >= 2 && percs[percs.length - 1]! > percs[0]!, `loading_loaded_perc did not rise: ${percs.join(' ')}`);
    for (let i = 1; i < percs.length; i++) assert.ok(percs[i]! >= percs[i - 1]!, `loading_loaded_perc went back: ${percs.join(' ')}`);
    const c = await RawClient.connect(child.port);
    assert.equal(await c.call('DBSIZE'), `:${KEYS}\r\n`);
    c.close();
  } finally {
    await child.kill();
  }
});

test('key-load-delay: CONFIG SET during the load applies from the next key', { timeout: 30_000 }, async (t) => {
  const dir = tmp();
  await writeDump(dir, 200);
  // a second per key: 200 s unless the CONFIG SET takes effect
  const child = await spawnLoading(dir, ['--key-load-delay', '1000000']);
  if (child === null) {
    t.skip('dist/ not built (npm test builds it first)');
    return;
  }
  try {
    const { ms } = await watchLoading(child.port, 15_000, async (c) => {
      assert.equal(await c.call('CONFIG', 'SET', 'key-load-delay', '0'), '+OK\r\n');
    });
    // without the change it would run 200 s; with it, the first key's second and the rest at full
    // speed (3 s was exceeded once on a machine running two test suites at once)
    assert.ok(ms < 10_000, `the load went on for ${ms.toFixed(0)} ms after key-load-delay 0`);
  } finally {
    await child.kill();
  }
});

test('key-load-delay: the start-up load of an AOF (one delay per command) shows -LOADING for about commands x delay', { timeout: 30_000 }, async (t) => {
  const dir = tmp();
  const CMDS = 500;
  const DELAY = 2000;
  const expect = expectedMs(CMDS + 1, DELAY);
  const aofDir = join(dir, 'appendonlydir');
  mkdirSync(aofDir);
  writeFileSync(join(aofDir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\n');
  const parts: string[] = ['*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n'];
  for (let i = 0; i < CMDS; i++) {
    const k = `key:${i}`;
    parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$1\r\nv\r\n`);
  }
  writeFileSync(join(aofDir, 'appendonly.aof.1.incr.aof'), parts.join(''));
  const child = await spawnLoading(dir, ['--appendonly', 'yes', '--key-load-delay', String(DELAY)]);
  if (child === null) {
    t.skip('dist/ not built (npm test builds it first)');
    return;
  }
  try {
    const { ms, replies, percs } = await watchLoading(child.port, expect * 6 + 10_000);
    t.diagnostic(`${CMDS + 1} commands at ${DELAY} us: -LOADING for ${ms.toFixed(0)} ms (expected about ${expect}), ${replies} replies, loading_loaded_perc ${percs.join(' ')}`);
    assert.ok(ms >= expect * 0.7 && ms <= expect * 3, `-LOADING for ${ms.toFixed(0)} ms, expected about ${expect} ms`);
    assert.ok(replies >= 10, `${replies} -LOADING replies`);
    assert.ok(percs.length >= 2 && percs[percs.length - 1]! > percs[0]!, `loading_loaded_perc did not rise: ${percs.join(' ')}`);
    const c = await RawClient.connect(child.port);
    assert.equal(await c.call('DBSIZE'), `:${CMDS}\r\n`);
    c.close();
  } finally {
    await child.kill();
  }
});

test('SHUTDOWN stops a BGSAVE slowed by a long rdb-key-save-delay at once and removes its temp file', { timeout: 30_000 }, async () => {
  const dir = tmp();
  await writeDump(dir, 100);
  const child = await spawnAmber(dir, { 'rdb-key-save-delay': '1000000' });
  try {
    const c = await RawClient.connect(child.port);
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    await sleep(100);
    assert.equal(field(await c.call('INFO', 'persistence'), 'rdb_bgsave_in_progress'), '1');
    const t0 = performance.now();
    await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    c.close();
    assert.equal(await child.stop(), 0);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `SHUTDOWN took ${ms.toFixed(0)} ms`);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
  } finally {
    await child.kill();
  }
});

test('DEBUG LOADAOF sleeps key-load-delay in place, for an RDB-preamble base and for RESP commands, as Redis', { timeout: 30_000 }, async () => {
  const DELAY = 1000;
  const KEYS = 200;
  for (const preamble of ['yes', 'no']) {
    const dir = tmp();
    const s = await startAmber({ dir, save: '', appendonly: 'yes', 'aof-use-rdb-preamble': preamble });
    await s.server.startup();
    const c = await RawClient.connect(s.port);
    try {
      // half the keys in the base (a rewrite), half as commands in the incr file
      await c.pipeline(Array.from({ length: KEYS / 2 }, (_, i) => ['SET', `b${i}`, 'v']));
      assert.equal(await c.call('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
      for (let i = 0; i < 200 && !/aof_rewrite_in_progress:0/.test(await c.call('INFO', 'persistence')); i++) await sleep(25);
      await c.pipeline(Array.from({ length: KEYS / 2 }, (_, i) => ['SET', `i${i}`, 'v']));
      const digest = await c.call('DEBUG', 'DIGEST');
      await c.call('CONFIG', 'SET', 'key-load-delay', String(DELAY));
      const expect = expectedMs(KEYS, DELAY);
      const t0 = performance.now();
      assert.equal(await c.call('DEBUG', 'LOADAOF'), '+OK\r\n');
      const ms = performance.now() - t0;
      assert.ok(ms >= expect * 0.9 && ms <= expect * 3, `DEBUG LOADAOF (preamble ${preamble}) took ${ms.toFixed(0)} ms, expected about ${expect} ms`);
      assert.equal(await c.call('DEBUG', 'DIGEST'), digest);
    } finally {
      c.close();
      await s.close();
    }
  }
});
