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
import { startAmber, RawClient, keyspaceDump, tempDirs, freePort } from '../helpers/servers.js';
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
    assert.ok(ms >= expect * 0.9 && ms <= expect * 2.5, `BGSAVE took ${ms.toFixed(0)} ms, expected about ${expect} ms`);
    assert.ok(max < 100, `a PING waited ${max.toFixed(1)} ms during a ${ms.toFixed(0)} ms save`);
    assert.ok(count > 20, `only ${count} PINGs answered during the save`);
    // halfway: still running, the keys going out one by one
    assert.equal(field(midway, 'rdb_bgsave_in_progress'), '1');
    const processed = Number(field(midway, 'current_save_keys_processed'));
    assert.ok(processed > 0 && processed < KEYS, `current_save_keys_processed ${processed} halfway`);
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
