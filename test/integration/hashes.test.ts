/**
 * Hash commands through real clients (ioredis, node-redis in RESP2 and RESP3) against an
 * in-process Amber, plus what clients cannot see directly: encodings, propagated effects.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startAmber } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';
import { Hash } from '../../src/keyspace/types/hash.js';

let amber: RunningServer;
let io: Redis;
type NodeRedis = ReturnType<typeof createClient>;
let nr2: NodeRedis;
let nr3: NodeRedis;

before(async () => {
  amber = await startAmber();
  io = new Redis({ port: amber.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await io.connect();
  nr2 = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false } });
  await nr2.connect();
  nr3 = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: 3 });
  await nr3.connect();
});

after(async () => {
  io?.disconnect();
  await nr2?.close();
  await nr3?.close();
  await amber?.close();
});

const flush = (): void => void amber.server.keyspace.flushAll();

test('ioredis: hash commands', async () => {
  flush();
  assert.equal(await io.hset('h', 'a', '1', 'b', '2'), 2);
  assert.equal(await io.hset('h', { c: '3', a: '10' }), 1);
  assert.equal(await io.hmset('h', 'd', '4'), 'OK');
  assert.equal(await io.hsetnx('h', 'a', 'x'), 0);
  assert.equal(await io.hsetnx('h', 'e', '5'), 1);
  assert.equal(await io.hget('h', 'a'), '10');
  assert.equal(await io.hget('h', 'zz'), null);
  assert.deepEqual(await io.hmget('h', 'a', 'zz', 'b'), ['10', null, '2']);
  assert.deepEqual(await io.hgetall('h'), { a: '10', b: '2', c: '3', d: '4', e: '5' });
  assert.deepEqual(await io.hkeys('h'), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(await io.hvals('h'), ['10', '2', '3', '4', '5']);
  assert.equal(await io.hlen('h'), 5);
  assert.equal(await io.hstrlen('h', 'a'), 2);
  assert.equal(await io.hexists('h', 'a'), 1);
  assert.equal(await io.hincrby('h', 'a', 5), 15);
  assert.equal(await io.hincrbyfloat('h', 'a', '0.5'), '15.5');
  await assert.rejects(io.hincrby('h', 'a', 1), /ERR hash value is not an integer/);
  assert.equal(await io.hdel('h', 'a', 'b', 'zz'), 2);
  const rnd = await io.hrandfield('h', 2, 'WITHVALUES');
  assert.equal(rnd.length, 4);
  const [cursor, items] = await io.hscan('h', '0', 'MATCH', '*');
  assert.equal(cursor, '0');
  assert.deepEqual(items, ['c', '3', 'd', '4', 'e', '5']);
  assert.deepEqual(await io.hgetall('nokey'), {});
  await io.set('str', 'x');
  await assert.rejects(io.hget('str', 'a'), /WRONGTYPE/);
});

test('ioredis: a big hash, HSCAN stream, pipelining', async () => {
  flush();
  const pipe = io.pipeline();
  for (let i = 0; i < 2000; i++) pipe.hset('big', 'field:' + i, 'value:' + i);
  await pipe.exec();
  assert.equal(await io.hlen('big'), 2000);
  assert.equal(await io.object('ENCODING', 'big'), 'hashtable');
  const seen = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const s = io.hscanStream('big', { count: 100 });
    s.on('data', (arr: string[]) => {
      for (let i = 0; i < arr.length; i += 2) seen.set(arr[i]!, arr[i + 1]!);
    });
    s.on('end', resolve);
    s.on('error', reject);
  });
  assert.equal(seen.size, 2000);
  assert.equal(seen.get('field:1999'), 'value:1999');
  const all = await io.hgetall('big');
  assert.equal(Object.keys(all).length, 2000);
  for (let i = 0; i < 2000; i += 2) await io.hdel('big', 'field:' + i);
  assert.equal(await io.hlen('big'), 1000);
  assert.equal(await io.hget('big', 'field:1'), 'value:1');
});

test('node-redis RESP2 and RESP3: hash commands and reply shapes', async () => {
  for (const c of [nr2, nr3]) {
    flush();
    assert.equal(await c.hSet('h', { a: '1', b: '2' }), 2);
    assert.equal(await c.hSetNX('h', 'a', '3'), 0);
    assert.equal(await c.hGet('h', 'a'), '1');
    assert.deepEqual({ ...(await c.hGetAll('h')) }, { a: '1', b: '2' });
    assert.deepEqual(await c.hKeys('h'), ['a', 'b']);
    assert.deepEqual(await c.hVals('h'), ['1', '2']);
    assert.deepEqual(await c.hmGet('h', ['a', 'x']), ['1', null]);
    assert.equal(await c.hLen('h'), 2);
    assert.equal(await c.hIncrBy('h', 'a', 2), 3);
    assert.equal(String(await c.hIncrByFloat('h', 'a', 0.25)), '3.25');
    assert.equal(await c.hExists('h', 'b'), 1);
    assert.equal(await c.hStrLen('h', 'b'), 1);
    const one = await c.hRandField('h');
    assert.ok(one === 'a' || one === 'b', 'one === "a" || one === "b"');
    const withValues = (await c.hRandFieldCountWithValues('h', -3)) as unknown as Array<{ field: string; value: string }>;
    assert.equal(withValues.length, 3);
    for (const p of withValues) assert.ok(p.field === 'a' ? p.value === '3.25' : p.value === '2', 'p.field === "a" ? p.value === "3.25" : p.value === "2"');
    const scan = await c.hScan('h', '0');
    assert.equal(String(scan.cursor), '0');
    assert.equal(scan.entries.length, 2);
    assert.equal(await c.hDel('h', ['a', 'b']), 2);
    assert.equal(await c.exists('h'), 0);
    assert.deepEqual({ ...(await c.hGetAll('nokey')) }, {});
  }
});

test('HINCRBYFLOAT propagates as HSET with the result; HSET creates a listpack', async () => {
  flush();
  const effects: string[][] = [];
  const unsub = amber.server.effects.subscribe((_db, argv) => effects.push(argv));
  try {
    await io.hincrbyfloat('f', 'x', '10.5');
    await io.hincrbyfloat('f', 'x', '0.1');
    await io.call('HSET', 'f', 'y', '1');
    await io.call('HDEL', 'f', 'nope');
  } finally {
    unsub();
  }
  assert.deepEqual(effects, [['HSET', 'f', 'x', '10.5'], ['HSET', 'f', 'x', '10.6'], ['HSET', 'f', 'y', '1']]);
  const v = amber.server.keyspace.dbs[0]!.peek('f');
  assert.ok(v instanceof Hash, 'v instanceof Hash');
  assert.equal(v.encoding(), 'listpack');
  assert.deepEqual([...v.pairs()], [['x', '10.6'], ['y', '1']]);
});
