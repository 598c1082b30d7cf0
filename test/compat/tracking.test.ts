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

async function both<T>(fn: (port: number) => Promise<T>): Promise<[T, T]> {
  return [await fn(amber.port), await fn(redis.port)];
}

test('RESP3 default tracking: invalidation after another client writes a read key', { skip }, async () => {
  const [a, r] = await both(async (port) => {
    const t = await RawClient.connect(port);
    const w = await RawClient.connect(port);
    try {
      const out: string[] = [];
      await w.call('FLUSHALL');
      await t.call('HELLO', '3');
      out.push(await t.call('CLIENT', 'TRACKING', 'ON'));
      out.push(await t.call('CLIENT', 'TRACKINGINFO'));
      await w.call('SET', 'a', '1');
      out.push(await t.call('GET', 'a'));
      out.push(await t.call('MGET', 'b', 'c'));
      out.push(await w.call('SET', 'a', '2'));
      out.push(...(await t.read(1)));
      out.push(await w.call('MSET', 'b', '1', 'c', '2'));
      out.push(...(await t.read(2)));
      out.push(await w.call('SET', 'a', '3')); // no longer tracked: no message
      out.push(await t.call('PING'));
      out.push(await t.call('GET', 'a'));
      out.push(await w.call('FLUSHDB'));
      out.push(...(await t.read(1)));
      out.push(await t.call('CLIENT', 'TRACKING', 'OFF'));
      out.push(await t.call('CLIENT', 'GETREDIR'));
      return out;
    } finally {
      t.close();
      w.close();
    }
  });
  assert.deepEqual(a, r);
});

test('BCAST with prefixes, NOLOOP, OPTIN/CACHING and errors', { skip }, async () => {
  const [a, r] = await both(async (port) => {
    const t = await RawClient.connect(port);
    const w = await RawClient.connect(port);
    try {
      const out: string[] = [];
      await w.call('FLUSHALL');
      await t.call('HELLO', '3');
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'PREFIX', 'x'));
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'BCAST', 'OPTIN'));
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'OPTIN', 'OPTOUT'));
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ab', 'PREFIX', 'a'));
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'user:', 'PREFIX', 'item:', 'NOLOOP'));
      out.push(await t.call('CLIENT', 'TRACKINGINFO'));
      out.push(await w.call('MSET', 'user:1', 'a', 'user:2', 'b', 'other', 'c'));
      out.push(...(await t.read(1)));
      out.push(await t.call('SET', 'item:1', 'x')); // NOLOOP: own change, no message
      out.push(await t.call('CLIENT', 'TRACKING', 'ON'));
      out.push(await t.call('CLIENT', 'TRACKING', 'OFF'));
      out.push(await t.call('CLIENT', 'CACHING', 'YES'));
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'OPTIN'));
      out.push(await t.call('CLIENT', 'CACHING', 'NO'));
      out.push(await t.call('GET', 'user:1'));
      out.push(await t.call('CLIENT', 'CACHING', 'YES'));
      out.push(await t.call('GET', 'user:2'));
      out.push(await w.call('DEL', 'user:1', 'user:2'));
      out.push(...(await t.read(1)));
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', '999999'));
      return out;
    } finally {
      t.close();
      w.close();
    }
  });
  assert.deepEqual(a, r);
});

test('RESP2 redirection to a subscriber of __redis__:invalidate', { skip }, async () => {
  const [a, r] = await both(async (port) => {
    const t = await RawClient.connect(port);
    const sub = await RawClient.connect(port);
    const w = await RawClient.connect(port);
    try {
      const out: string[] = [];
      await w.call('FLUSHALL');
      const idReply = await sub.call('CLIENT', 'ID');
      const id = idReply.slice(1, -2);
      out.push(...(await sub.sendRaw(RawClient.encode(['SUBSCRIBE', '__redis__:invalidate']), 1)));
      out.push(await t.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id));
      out.push(await t.call('GET', 'k'));
      out.push(await w.call('SET', 'k', 'v'));
      const msg = await sub.read(1);
      out.push(...msg);
      return out;
    } finally {
      t.close();
      sub.close();
      w.close();
    }
  });
  assert.deepEqual(a, r);
});
