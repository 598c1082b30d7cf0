/**
 * Pub/sub and client-side caching through real clients against Amber: ioredis (RESP2) and
 * node-redis v5 (RESP2 and RESP3) subscribe/psubscribe/ssubscribe with message handlers, keyspace
 * notifications, node-redis's clientSideCache (RESP3 tracking) and emitInvalidate pushes, and
 * tracking by hand with ioredis in RESP2 REDIRECT mode and in BCAST mode.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient, BasicClientSideCache } from 'redis';
import { startAmber } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

let amber: RunningServer;

before(async () => {
  amber = await startAmber({ save: '' });
});

after(async () => {
  await amber?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds, polling every 10 ms, for at most `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

function ioredis(opts: Record<string, unknown> = {}): Redis {
  return new Redis({ port: amber.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, ...opts });
}

function nodeRedis(resp: 2 | 3, extra: Record<string, unknown> = {}): ReturnType<typeof createClient> {
  const c = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: resp, ...extra });
  c.on('error', () => undefined);
  return c as ReturnType<typeof createClient>;
}

test('ioredis: subscribe, psubscribe, ssubscribe with message handlers, unsubscribe', async () => {
  const sub = ioredis();
  const pub = ioredis();
  try {
    const got: string[] = [];
    sub.on('message', (ch: string, msg: string) => got.push(`message ${ch} ${msg}`));
    sub.on('pmessage', (pat: string, ch: string, msg: string) => got.push(`pmessage ${pat} ${ch} ${msg}`));
    sub.on('smessage', (ch: string, msg: string) => got.push(`smessage ${ch} ${msg}`));
    assert.equal(await sub.subscribe('news', 'sport'), 2);
    assert.equal(await sub.psubscribe('n*'), 3);
    assert.equal(await sub.ssubscribe('shard'), 1);
    assert.equal(await pub.publish('news', 'hello'), 2);
    assert.equal(await pub.publish('sport', 'goal'), 1);
    assert.equal(await pub.publish('nothing', 'x'), 1);
    assert.equal(await pub.spublish('shard', 's1'), 1);
    await until(() => got.length === 5);
    assert.deepEqual(got, ['message news hello', 'pmessage n* news hello', 'message sport goal', 'pmessage n* nothing x', 'smessage shard s1']);
    assert.deepEqual(await pub.pubsub('NUMSUB', 'news', 'sport', 'none'), ['news', 1, 'sport', 1, 'none', 0]);
    assert.equal(await pub.pubsub('NUMPAT'), 1);
    assert.deepEqual((await pub.pubsub('CHANNELS', '*') as string[]).sort(), ['news', 'sport']);
    // commands outside the subscribed set are refused by ioredis itself in subscriber mode, and by
    // the server when sent raw
    await assert.rejects(sub.call('GET', 'x'), /only \(P\|S\)SUBSCRIBE|Connection in subscriber mode/);
    // (ioredis waits forever on a bare UNSUBSCRIBE while shard channels remain, on Redis too)
    assert.equal(await sub.unsubscribe('news', 'sport'), 1);
    assert.equal(await sub.punsubscribe('n*'), 0);
    assert.equal(await sub.sunsubscribe('shard'), 0);
    assert.equal(await pub.publish('news', 'gone'), 0);
    assert.equal(await sub.get('x'), null);
  } finally {
    sub.disconnect();
    pub.disconnect();
  }
});

test('ioredis: binary payloads and many messages keep their order', async () => {
  const sub = ioredis();
  const pub = ioredis();
  try {
    const got: Buffer[] = [];
    sub.on('messageBuffer', (_ch: Buffer, msg: Buffer) => got.push(msg));
    await sub.subscribe('bin');
    const payloads = Array.from({ length: 500 }, (_, i) => Buffer.from([i & 0xff, 0, 0xff, 0x0d, 0x0a, (i >> 8) & 0xff]));
    const p = pub.pipeline();
    for (const b of payloads) p.publish('bin', b);
    await p.exec();
    await until(() => got.length === payloads.length);
    assert.deepEqual(got, payloads);
  } finally {
    sub.disconnect();
    pub.disconnect();
  }
});

test('ioredis: keyspace notifications through psubscribe', async () => {
  const sub = ioredis();
  const cmd = ioredis();
  try {
    await cmd.config('SET', 'notify-keyspace-events', 'KEA');
    const got: string[] = [];
    sub.on('pmessage', (_p: string, ch: string, msg: string) => got.push(`${ch} ${msg}`));
    await sub.psubscribe('__key*__:*');
    await cmd.set('ks:k', 'v', 'PX', '300');
    await cmd.lpush('ks:l', 'a');
    await cmd.rename('ks:l', 'ks:l2');
    await until(() => got.length >= 8);
    await until(() => got.length >= 10, 3000); // active expiry of ks:k
    assert.deepEqual(got, [
      '__keyspace@0__:ks:k set', '__keyevent@0__:set ks:k', '__keyspace@0__:ks:k expire', '__keyevent@0__:expire ks:k',
      '__keyspace@0__:ks:l lpush', '__keyevent@0__:lpush ks:l', '__keyspace@0__:ks:l rename_from', '__keyevent@0__:rename_from ks:l',
      '__keyspace@0__:ks:l2 rename_to', '__keyevent@0__:rename_to ks:l2', '__keyspace@0__:ks:k expired', '__keyevent@0__:expired ks:k',
    ].slice(0, got.length));
    await until(() => got.length === 12);
  } finally {
    await cmd.config('SET', 'notify-keyspace-events', '');
    sub.disconnect();
    cmd.disconnect();
  }
});

for (const resp of [2, 3] as const) {
  test(`node-redis RESP${resp}: subscribe, pSubscribe, sSubscribe listeners`, async () => {
    const sub = nodeRedis(resp);
    const pub = nodeRedis(resp);
    await sub.connect();
    await pub.connect();
    try {
      const got: string[] = [];
      await sub.subscribe(['a', 'b'], (msg, ch) => got.push(`${ch}:${msg}`));
      await sub.pSubscribe('p*', (msg, ch) => got.push(`p*>${ch}:${msg}`));
      await sub.sSubscribe('sh', (msg, ch) => got.push(`s>${ch}:${msg}`));
      assert.equal(await pub.publish('a', '1'), 1);
      assert.equal(await pub.publish('pq', '2'), 1);
      assert.equal(await pub.sPublish('sh', '3'), 1);
      assert.equal(await pub.publish('b', '4'), 1);
      await until(() => got.length === 4);
      assert.deepEqual(got, ['a:1', 'p*>pq:2', 's>sh:3', 'b:4']);
      assert.deepEqual({ ...(await pub.pubSubNumSub(['a', 'b', 'c'])) }, { a: 1, b: 1, c: 0 });
      assert.equal(await pub.pubSubNumPat(), 1);
      if (resp === 3) {
        // RESP3 has no subscribed context: the same connection runs commands
        assert.equal(await sub.set('k3', 'v'), 'OK');
        assert.equal(await sub.get('k3'), 'v');
      }
      await sub.unsubscribe('a');
      assert.equal(await pub.publish('a', 'x'), 0);
      // (bare pUnsubscribe()/unsubscribe() calls here never resolve in node-redis 5, against
      // Redis as well: name what to leave)
      await sub.pUnsubscribe('p*');
      await sub.sUnsubscribe('sh');
      await sub.unsubscribe('b');
      assert.equal(await pub.publish('b', 'x'), 0);
    } finally {
      sub.destroy();
      pub.destroy();
    }
  });
}

test('node-redis RESP3 clientSideCache: hits, then invalidation by another client, FLUSHALL', async () => {
  const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0, evictPolicy: 'LRU' });
  const c = nodeRedis(3, { clientSideCache: cache });
  const w = nodeRedis(3);
  await c.connect();
  await w.connect();
  try {
    await w.set('csc:a', '1');
    assert.equal(await c.get('csc:a'), '1');
    assert.equal(await c.get('csc:a'), '1');
    assert.equal(await c.get('csc:a'), '1');
    assert.ok(cache.stats().hitCount >= 2, `hits ${cache.stats().hitCount}`);
    assert.equal(cache.size(), 1);
    // node-redis turned tracking on, without redirection
    assert.equal(await c.sendCommand(['CLIENT', 'GETREDIR']), 0);
    await w.set('csc:a', '2');
    await until(() => cache.size() === 0);
    assert.equal(await c.get('csc:a'), '2');
    assert.equal(cache.size(), 1);
    // the client's own write invalidates too (after its reply)
    assert.equal(await c.set('csc:a', '3'), 'OK');
    await until(() => cache.size() === 0);
    assert.equal(await c.get('csc:a'), '3');
    assert.equal(await c.hGet('csc:h', 'f'), null);
    assert.equal(cache.size(), 2);
    await w.flushAll();
    await until(() => cache.size() === 0);
    assert.equal(await c.get('csc:a'), null);
  } finally {
    c.destroy();
    w.destroy();
  }
});

test('node-redis RESP3 push handling: emitInvalidate events, expiry and FLUSHDB', async () => {
  const c = nodeRedis(3, { emitInvalidate: true });
  const w = nodeRedis(3);
  await c.connect();
  await w.connect();
  try {
    const keys: Array<string | null> = [];
    c.on('invalidate', (key: Buffer | string | null) => keys.push(key === null ? null : key.toString()));
    assert.equal(await c.get('ei:a'), null);
    assert.deepEqual(await c.mGet(['ei:b', 'ei:c']), [null, null]);
    await w.mSet({ 'ei:a': '1', 'ei:b': '2' });
    await until(() => keys.length === 2);
    await w.set('ei:e', 'v', { PX: 300 });
    assert.equal(await c.get('ei:e'), 'v');
    await until(() => keys.length === 3, 3000); // active expiry
    await w.flushDb();
    await until(() => keys.length === 4);
    assert.deepEqual(keys, ['ei:a', 'ei:b', 'ei:e', null]);
  } finally {
    c.destroy();
    w.destroy();
  }
});

test('ioredis RESP2 tracking by hand: REDIRECT to a subscriber of __redis__:invalidate, BCAST', async () => {
  const inval = ioredis();
  const reader = ioredis();
  const writer = ioredis();
  try {
    const got: unknown[] = [];
    inval.on('message', (ch: string, msg: unknown) => got.push([ch, msg]));
    const id = await inval.client('ID');
    await inval.subscribe('__redis__:invalidate');
    assert.equal(await reader.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id)), 'OK');
    assert.equal(await reader.call('CLIENT', 'GETREDIR'), id);
    await writer.mset('rd:a', '1', 'rd:b', '2');
    assert.deepEqual(await reader.mget('rd:a', 'rd:b'), ['1', '2']);
    await writer.set('rd:a', 'x');
    await until(() => got.length === 1);
    await writer.del('rd:b');
    await until(() => got.length === 2);
    await writer.set('rd:a', 'y'); // not read since: no message
    await writer.flushdb();
    await until(() => got.length === 3);
    // ioredis turns the array payload into a string (keys joined by commas, null as '')
    const norm = (m: unknown): unknown => String(m);
    assert.deepEqual(got.map((g) => [(g as unknown[])[0], norm((g as unknown[])[1])]), [
      ['__redis__:invalidate', 'rd:a'], ['__redis__:invalidate', 'rd:b'], ['__redis__:invalidate', ''],
    ]);
    // BCAST with a prefix: one message per event-loop turn with every matching key
    assert.equal(await reader.call('CLIENT', 'TRACKING', 'OFF'), 'OK');
    assert.equal(await reader.call('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'bc:', 'REDIRECT', String(id)), 'OK');
    await writer.mset('bc:2', '1', 'bc:1', '1', 'other', '1');
    await until(() => got.length === 4);
    assert.equal(norm((got[3] as unknown[])[1]), 'bc:1,bc:2');
    // the redirection target leaves: RESP2 readers simply stop hearing, TRACKINGINFO says why
    inval.disconnect();
    await sleep(50);
    await writer.set('bc:3', '1');
    const info = await reader.call('CLIENT', 'TRACKINGINFO') as unknown[];
    assert.deepEqual(info[1], ['on', 'bcast', 'broken_redirect']);
  } finally {
    inval.disconnect();
    reader.disconnect();
    writer.disconnect();
  }
});
