/**
 * Sorted-set and geo commands through real clients (ioredis, node-redis in RESP2 and RESP3)
 * against an in-process Amber: replies as the clients decode them, blocking pops woken by writes
 * from another client, propagated effects (what the AOF gets) and the type's invariants after
 * a workload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { ZSet } from '../../src/keyspace/types/zset.js';
import { withClients } from '../helpers/clients.js';

const env = withClients();
const { flush } = env;

test('ioredis: sorted-set commands', async () => {
  flush();
  assert.equal(await env.io.zadd('z', 1, 'a', 2, 'b', 3, 'c'), 3);
  assert.equal(await env.io.zadd('z', 'CH', 'GT', 5, 'a', 0, 'b'), 1);
  assert.equal(await env.io.zincrby('z', 1.5, 'b'), '3.5');
  assert.deepEqual(await env.io.zrange('z', 0, -1, 'WITHSCORES'), ['c', '3', 'b', '3.5', 'a', '5']);
  assert.deepEqual(await env.io.zrangebyscore('z', '(3', '+inf'), ['b', 'a']);
  assert.deepEqual(await env.io.zrevrange('z', 0, 0), ['a']);
  assert.equal(await env.io.zcard('z'), 3);
  assert.equal(await env.io.zscore('z', 'a'), '5');
  assert.deepEqual(await env.io.zmscore('z', 'a', 'nope'), ['5', null]);
  assert.equal(await env.io.zrank('z', 'a'), 2);
  assert.equal(await env.io.zrevrank('z', 'a'), 0);
  assert.equal(await env.io.zcount('z', 3, 4), 2);
  assert.deepEqual(await env.io.zpopmin('z'), ['c', '3']);
  assert.deepEqual(await env.io.zpopmax('z', 5), ['a', '5', 'b', '3.5']);
  assert.equal(await env.io.exists('z'), 0);
  await env.io.zadd('l', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
  assert.deepEqual(await env.io.zrangebylex('l', '[b', '(d'), ['b', 'c']);
  assert.equal(await env.io.zlexcount('l', '-', '+'), 4);
  assert.equal(await env.io.zremrangebylex('l', '-', '[a'), 1);
  await env.io.zadd('u', 1, 'b', 10, 'x');
  assert.deepEqual(await env.io.call('ZUNION', '2', 'l', 'u', 'WITHSCORES'), ['c', '0', 'd', '0', 'b', '1', 'x', '10']);
  assert.equal(await env.io.zinterstore('i', 2, 'l', 'u', 'WEIGHTS', 2, 3), 1);
  assert.deepEqual(await env.io.zrange('i', 0, -1, 'WITHSCORES'), ['b', '3']);
  assert.equal(await env.io.zrangestore('rs', 'l', 0, 1), 2);
  assert.deepEqual(await env.io.zrange('rs', 0, -1), ['b', 'c']);
  assert.deepEqual(await env.io.zmpop(2, 'nokey', 'l', 'MIN', 'COUNT', 2), ['l', [['b', '0'], ['c', '0']]]);
  const [cursor, items] = await env.io.zscan('u', 0);
  assert.equal(cursor, '0');
  assert.deepEqual(items, ['b', '1', 'x', '10']);
  const rnd = await env.io.zrandmember('u', -5);
  assert.equal((rnd as string[]).length, 5);
  await env.io.set('s', 'x');
  await assert.rejects(env.io.zadd('s', 1, 'a'), /WRONGTYPE/);
  await assert.rejects(env.io.zadd('z', 'NX', 'XX', 1, 'a'), /XX and NX options at the same time are not compatible/);
});

test('node-redis: RESP2 and RESP3 replies', async () => {
  flush();
  assert.equal(await env.nr2.zAdd('z', [{ score: 1, value: 'a' }, { score: 2.5, value: 'b' }, { score: Infinity, value: 'c' }]), 3);
  assert.deepEqual(await env.nr2.zRangeWithScores('z', 0, -1), [{ value: 'a', score: 1 }, { value: 'b', score: 2.5 }, { value: 'c', score: Infinity }]);
  assert.deepEqual(await env.nr3.zRangeWithScores('z', 0, -1), [{ value: 'a', score: 1 }, { value: 'b', score: 2.5 }, { value: 'c', score: Infinity }]);
  assert.equal(await env.nr2.zScore('z', 'b'), 2.5);
  assert.equal(await env.nr3.zScore('z', 'b'), 2.5);
  assert.equal(await env.nr3.zIncrBy('z', 0.5, 'b'), 3);
  assert.deepEqual(await env.nr3.zPopMin('z'), { value: 'a', score: 1 });
  assert.deepEqual(await env.nr2.zPopMax('z'), { value: 'c', score: Infinity });
  assert.deepEqual(await env.nr3.sendCommand(['ZPOPMIN', 'z', '1']), [['b', 3]]);
  assert.equal(await env.nr3.exists('z'), 0);
  await env.nr3.zAdd('w', [{ score: 1, value: 'a' }, { score: 2, value: 'b' }]);
  assert.deepEqual(await env.nr3.sendCommand(['ZRANGE', 'w', '0', '-1', 'WITHSCORES']), [['a', 1], ['b', 2]]);
  assert.deepEqual(await env.nr3.sendCommand(['ZMPOP', '1', 'w', 'MAX']), ['w', [['b', 2]]]);
  assert.equal(await env.nr3.sendCommand(['ZMPOP', '1', 'nokey', 'MAX']), null);
  assert.deepEqual(await env.nr3.sendCommand(['ZMSCORE', 'w', 'a', 'zz']), [1, null]);
});

test('blocking pops are served by writes from other clients', async () => {
  flush();
  const waiter = new Redis({ port: env.amber.port, host: '127.0.0.1' });
  const waiter2 = createClient({ socket: { port: env.amber.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: 3 });
  await waiter2.connect();
  try {
    const p1 = waiter.bzpopmin('q1', 'q2', 0);
    const p2 = waiter2.sendCommand(['BZMPOP', '0', '1', 'q2', 'MAX', 'COUNT', '2']);
    await new Promise((r) => setTimeout(r, 50));
    await env.io.zadd('q2', 1, 'a', 2, 'b', 3, 'c');
    assert.deepEqual(await p1, ['q2', 'a', '1']);
    assert.deepEqual(await p2, ['q2', [['c', 3], ['b', 2]]]);
    assert.equal(await env.io.exists('q2'), 0);
    // a timeout gives the null array
    assert.equal(await waiter.bzpopmax('nokey', 0.05), null);
    // ZUNIONSTORE and GEOADD creating the key also serve waiters
    const p3 = waiter.bzpopmax('made', 0);
    await new Promise((r) => setTimeout(r, 20));
    await env.io.zadd('src', 7, 'x');
    await env.io.zunionstore('made', 1, 'src');
    assert.deepEqual(await p3, ['made', 'x', '7']);
    const p4 = waiter.bzpopmin('geo', 0);
    await new Promise((r) => setTimeout(r, 20));
    await env.io.geoadd('geo', 13.361389, 38.115556, 'Palermo');
    assert.deepEqual(await p4, ['geo', 'Palermo', '3479099956230698']);
  } finally {
    waiter.disconnect();
    await waiter2.close();
  }
});

test('geo commands through ioredis and node-redis', async () => {
  flush();
  assert.equal(await env.io.geoadd('Sicily', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'), 2);
  assert.equal(await env.io.geodist('Sicily', 'Palermo', 'Catania', 'KM'), '166.2742');
  assert.deepEqual(await env.io.geopos('Sicily', 'Palermo', 'nope'), [['13.36138933897018433', '38.11555639549629859'], null]);
  assert.deepEqual(await env.io.geohash('Sicily', 'Palermo', 'Catania'), ['sqc8b49rny0', 'sqdtr74hyu0']);
  assert.deepEqual(await env.io.georadius('Sicily', 15, 37, 200, 'km', 'WITHDIST', 'ASC'), [['Catania', '56.4413'], ['Palermo', '190.4424']]);
  assert.deepEqual(await env.io.geosearch('Sicily', 'FROMLONLAT', 15, 37, 'BYBOX', 400, 400, 'km', 'ASC', 'COUNT', 1), ['Catania']);
  assert.equal(await env.io.geosearchstore('dst', 'Sicily', 'FROMMEMBER', 'Palermo', 'BYRADIUS', 200, 'km', 'STOREDIST'), 2);
  assert.deepEqual(await env.io.zrange('dst', 0, -1, 'WITHSCORES'), ['Palermo', '0', 'Catania', '166.27415156960032']);
  assert.deepEqual(await env.nr3.geoPos('Sicily', 'Catania'), [{ longitude: 15.087267458438872, latitude: 37.50266842333161 }]);
  assert.equal(await env.nr2.geoDist('Sicily', 'Palermo', 'Catania', 'mi'), 103.3182);
  const near = await env.nr2.geoSearch('Sicily', { longitude: 15, latitude: 37 }, { radius: 100, unit: 'km' });
  assert.deepEqual(near, ['Catania']);
  await assert.rejects(env.io.geoadd('Sicily', 200, 100, 'x'), /invalid longitude,latitude pair 200.000000,100.000000/);
});

test('propagated effects: plain pops, ZMPOP and GEOADD rewritten as Redis does', async () => {
  flush();
  const effects: string[][] = [];
  const unsub = env.amber.server.effects.subscribe((_db, argv) => effects.push(argv));
  try {
    await env.io.zadd('z', 1, 'a', 2, 'b', 3, 'c');
    await env.io.zadd('z', 'XX', 9, 'nope');
    await env.io.zmpop(1, 'z', 'MAX', 'COUNT', 10);
    await env.io.zadd('z', 1, 'a');
    await env.io.bzpopmin('z', 0);
    await env.io.geoadd('g', 13.361389, 38.115556, 'Palermo');
    await env.io.zadd('y', 1, 'a', 2, 'b');
    await env.io.call('BZMPOP', '0', '1', 'y', 'MIN', 'COUNT', '5');
    const waiter = new Redis({ port: env.amber.port, host: '127.0.0.1' });
    const p = waiter.bzpopmax('w', 0);
    await new Promise((r) => setTimeout(r, 30));
    await env.io.zadd('w', 4, 'x');
    await p;
    waiter.disconnect();
  } finally {
    unsub();
  }
  assert.deepEqual(effects, [
    ['zadd', 'z', '1', 'a', '2', 'b', '3', 'c'],
    ['ZPOPMAX', 'z', '3'],
    ['zadd', 'z', '1', 'a'],
    ['ZPOPMIN', 'z'],
    ['zadd', 'g', '3479099956230698', 'Palermo'],
    ['zadd', 'y', '1', 'a', '2', 'b'],
    ['ZPOPMIN', 'y', '2'],
    ['zadd', 'w', '4', 'x'],
    ['ZPOPMAX', 'w'],
  ]);
});

test('a large zset keeps its invariants through a mixed workload', async () => {
  flush();
  const pipe = env.io.pipeline();
  for (let i = 0; i < 20000; i++) pipe.zadd('big', (i * 37) % 1001, 'member:' + i);
  for (let i = 0; i < 5000; i++) pipe.zrem('big', 'member:' + i * 3);
  pipe.zremrangebyrank('big', 100, 2000);
  pipe.zremrangebyscore('big', 500, 600);
  pipe.zadd('big', 5, 'fresh');
  pipe.zincrby('big', 1000, 'fresh');
  await pipe.exec();
  const z = env.amber.server.keyspace.dbs[0]!.peek('big');
  assert.ok(z instanceof ZSet);
  z.check();
  assert.equal(z.encoding(), 'skiplist');
  const all = await env.io.zrange('big', 0, -1, 'WITHSCORES');
  assert.equal(all.length / 2, await env.io.zcard('big'));
  for (let i = 3; i < all.length; i += 2) assert.ok(Number(all[i - 2]) <= Number(all[i]!));
  assert.equal(await env.io.zscore('big', 'fresh'), '1005');
});
