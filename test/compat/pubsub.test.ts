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

test('subscribe, publish, pattern and shard delivery, unsubscribe replies (RESP2)', { skip }, async () => {
  const [a, r] = await both(async (port) => {
    const sub = await RawClient.connect(port);
    const pub = await RawClient.connect(port);
    try {
      const out: string[] = [];
      out.push(...(await sub.sendRaw(RawClient.encode(['SUBSCRIBE', 'ch1', 'ch2']), 2)));
      out.push(...(await sub.sendRaw(RawClient.encode(['PSUBSCRIBE', 'c*']), 1)));
      out.push(...(await sub.sendRaw(RawClient.encode(['SSUBSCRIBE', 'sh']), 1)));
      out.push(await pub.call('PUBLISH', 'ch1', 'hello'));
      out.push(...(await sub.read(2)));
      out.push(await pub.call('SPUBLISH', 'sh', 'x'));
      out.push(...(await sub.read(1)));
      out.push(await pub.call('PUBSUB', 'NUMSUB', 'ch1', 'nope'));
      out.push(await pub.call('PUBSUB', 'NUMPAT'));
      out.push(await pub.call('PUBSUB', 'SHARDNUMSUB', 'sh'));
      out.push(await sub.call('GET', 'x'));
      out.push(await sub.call('PING'));
      out.push(await sub.call('PING', 'msg'));
      // Redis walks its channel dict, whose order depends on a per-process random hash seed:
      // compare the set of replies, with the counts in the order they must decrease.
      const unsub = await sub.sendRaw(RawClient.encode(['UNSUBSCRIBE']), 2);
      out.push(...unsub.map((r) => r.replace(/:\d+\r\n$/, '')).sort(), ...unsub.map((r) => /:(\d+)\r\n$/.exec(r)![1]!));
      out.push(...(await sub.sendRaw(RawClient.encode(['PUNSUBSCRIBE']), 1)));
      out.push(...(await sub.sendRaw(RawClient.encode(['SUNSUBSCRIBE']), 1)));
      out.push(...(await sub.sendRaw(RawClient.encode(['UNSUBSCRIBE']), 1)));
      out.push(await sub.call('PING'));
      return out;
    } finally {
      sub.close();
      pub.close();
    }
  });
  assert.deepEqual(a, r);
});

test('RESP3 push messages and commands allowed while subscribed', { skip }, async () => {
  const [a, r] = await both(async (port) => {
    const sub = await RawClient.connect(port);
    const pub = await RawClient.connect(port);
    try {
      await sub.call('HELLO', '3');
      const out: string[] = [];
      out.push(...(await sub.sendRaw(RawClient.encode(['SUBSCRIBE', 'ch']), 1)));
      out.push(await sub.call('ECHO', 'still works'));
      out.push(await pub.call('PUBLISH', 'ch', 'm'));
      out.push(...(await sub.read(1)));
      out.push(...(await sub.sendRaw(RawClient.encode(['UNSUBSCRIBE', 'ch', 'other']), 2)));
      return out;
    } finally {
      sub.close();
      pub.close();
    }
  });
  assert.deepEqual(a, r);
});

test('keyspace notifications for a SET/EXPIRE/DEL sequence', { skip }, async () => {
  const [a, r] = await both(async (port) => {
    const sub = await RawClient.connect(port);
    const cmd = await RawClient.connect(port);
    try {
      await cmd.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
      await sub.sendRaw(RawClient.encode(['PSUBSCRIBE', '__key*__:*']), 1);
      await cmd.call('SET', 'k', 'v');
      await cmd.call('EXPIRE', 'k', '100');
      await cmd.call('DEL', 'k');
      const msgs = await sub.read(6);
      await cmd.call('CONFIG', 'SET', 'notify-keyspace-events', '');
      return msgs;
    } finally {
      sub.close();
      cmd.close();
    }
  });
  assert.deepEqual(a, r);
});
