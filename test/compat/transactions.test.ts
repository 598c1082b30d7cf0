import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, type RedisChild } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;

before(async () => {
  if (skip) return;
  amber = await startAmber();
  redis = await startRedis();
});
after(async () => {
  await amber?.close();
  await redis?.close();
});

/** Runs a script of steps on two connections per server: [connection index, argv]. */
async function script(port: number, steps: Array<[number, string[]]>, resp3 = false): Promise<string[]> {
  const conns = [await RawClient.connect(port), await RawClient.connect(port)];
  try {
    for (const c of conns) {
      await c.call('FLUSHALL');
      if (resp3) await c.call('HELLO', '3');
    }
    const out: string[] = [];
    for (const [i, argv] of steps) out.push(await conns[i]!.call(...argv));
    return out;
  } finally {
    for (const c of conns) c.close();
  }
}

async function same(steps: Array<[number, string[]]>, resp3 = false): Promise<void> {
  const a = await script(amber.port, steps, resp3);
  const r = await script(redis.port, steps, resp3);
  assert.deepEqual(a, r);
}

test('MULTI/EXEC queues and runs, errors at run time do not stop the others', { skip }, async () => {
  await same([
    [0, ['MULTI']], [0, ['SET', 'a', '1']], [0, ['INCR', 'a']], [0, ['LPUSH', 'a', 'x']], [0, ['GET', 'a']], [0, ['EXEC']],
    [0, ['EXEC']], [0, ['DISCARD']], [0, ['MULTI']], [0, ['MULTI']], [0, ['WATCH', 'a']], [0, ['DISCARD']],
  ]);
});

test('queue-time errors abort EXEC with EXECABORT', { skip }, async () => {
  await same([
    [0, ['MULTI']], [0, ['SET', 'a', '1']], [0, ['NOSUCHCMD']], [0, ['GET']], [0, ['EXEC']], [0, ['GET', 'a']],
  ]);
});

test('WATCH is broken by another client, by expiry, FLUSHDB, SWAPDB and RENAME', { skip }, async () => {
  await same([
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [1, ['SET', 'k', '2']], [0, ['MULTI']], [0, ['SET', 'k', '3']], [0, ['EXEC']], [0, ['GET', 'k']],
    [0, ['WATCH', 'k']], [1, ['FLUSHDB']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['SET', 'r', '1']], [0, ['WATCH', 'r']], [1, ['RENAME', 'r', 's']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['WATCH', 'nokey']], [1, ['DEL', 'nokey']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['WATCH', 'x']], [0, ['UNWATCH']], [1, ['SET', 'x', '1']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
  ]);
});

test('EXEC null reply in RESP3 and commands refused inside MULTI', { skip }, async () => {
  await same([
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [1, ['SET', 'k', '2']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['WATCH', 'k']], [0, ['EXEC']],
  ], true);
});

test('a watched key that expires before EXEC aborts the transaction', { skip }, async () => {
  const steps: Array<[number, string[]]> = [[0, ['SET', 'k', '1', 'PX', '50']], [0, ['WATCH', 'k']]];
  const run = async (port: number): Promise<string[]> => {
    const c = await RawClient.connect(port);
    try {
      await c.call('FLUSHALL');
      const out: string[] = [];
      for (const [, argv] of steps) out.push(await c.call(...argv));
      await new Promise((r) => setTimeout(r, 120));
      out.push(await c.call('MULTI'), await c.call('PING'), await c.call('EXEC'));
      return out;
    } finally {
      c.close();
    }
  };
  assert.deepEqual(await run(amber.port), await run(redis.port));
});
