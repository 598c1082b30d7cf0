/**
 * Hash commands through real clients (ioredis, node-redis in RESP2 and RESP3) against an
 * in-process Amber, plus what clients cannot see directly: encodings, propagated effects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hash } from '../../src/keyspace/types/hash.js';
import { withClients } from '../helpers/clients.js';

const env = withClients();
const { flush } = env;

test('ioredis: hash commands', async () => {
  flush();
  assert.equal(await env.io.hset('h', 'a', '1', 'b', '2'), 2);
  assert.equal(await env.io.hset('h', { c: '3', a: '10' }), 1);
  assert.equal(await env.io.hmset('h', 'd', '4'), 'OK');
  assert.equal(await env.io.hsetnx('h', 'a', 'x'), 0);
  assert.equal(await env.io.hsetnx('h', 'e', '5'), 1);
  assert.equal(await env.io.hget('h', 'a'), '10');
  assert.equal(await env.io.hget('h', 'zz'), null);
  assert.deepEqual(await env.io.hmget('h', 'a', 'zz', 'b'), ['10', null, '2']);
  assert.deepEqual(await env.io.hgetall('h'), { a: '10', b: '2', c: '3', d: '4', e: '5' });
  assert.deepEqual(await env.io.hkeys('h'), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(await env.io.hvals('h'), ['10', '2', '3', '4', '5']);
  assert.equal(await env.io.hlen('h'), 5);
  assert.equal(await env.io.hstrlen('h', 'a'), 2);
  assert.equal(await env.io.hexists('h', 'a'), 1);
  assert.equal(await env.io.hincrby('h', 'a', 5), 15);
  assert.equal(await env.io.hincrbyfloat('h', 'a', '0.5'), '15.5');
  await assert.rejects(env.io.hincrby('h', 'a', 1), /ERR hash value is not an integer/);
  assert.equal(await env.io.hdel('h', 'a', 'b', 'zz'), 2);
  const rnd = await env.io.hrandfield('h', 2, 'WITHVALUES');
  assert.equal(rnd?.length, 4);
  const [cursor, items] = await env.io.hscan('h', '0', 'MATCH', '*');
  assert.equal(cursor, '0');
  assert.deepEqual(items, ['c', '3', 'd', '4', 'e', '5']);
  assert.deepEqual(await env.io.hgetall('nokey'), {});
  await env.io.set('str', 'x');
  await assert.rejects(env.io.hget('str', 'a'), /WRONGTYPE/);
});

test('ioredis: a big hash, HSCAN stream, pipelining', async () => {
  flush();
  const pipe = env.io.pipeline();
  for (let i = 0; i < 2000; i++) pipe.hset('big', 'field:' + i, 'value:' + i);
  await pipe.exec();
  assert.equal(await env.io.hlen('big'), 2000);
  assert.equal(await env.io.object('ENCODING', 'big'), 'hashtable');
  const seen = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const s = env.io.hscanStream('big', { count: 100 });
    s.on('data', (arr: string[]) => {
      for (let i = 0; i < arr.length; i += 2) seen.set(arr[i]!, arr[i + 1]!);
    });
    s.on('end', resolve);
    s.on('error', reject);
  });
  assert.equal(seen.size, 2000);
  assert.equal(seen.get('field:1999'), 'value:1999');
  const all = await env.io.hgetall('big');
  assert.equal(Object.keys(all).length, 2000);
  for (let i = 0; i < 2000; i += 2) await env.io.hdel('big', 'field:' + i);
  assert.equal(await env.io.hlen('big'), 1000);
  assert.equal(await env.io.hget('big', 'field:1'), 'value:1');
});

test('node-redis RESP2 and RESP3: hash commands and reply shapes', async () => {
  for (const c of [env.nr2, env.nr3]) {
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
  const unsub = env.amber.server.effects.subscribe((_db, argv) => effects.push(argv));
  try {
    await env.io.hincrbyfloat('f', 'x', '10.5');
    await env.io.hincrbyfloat('f', 'x', '0.1');
    await env.io.call('HSET', 'f', 'y', '1');
    await env.io.call('HDEL', 'f', 'nope');
  } finally {
    unsub();
  }
  assert.deepEqual(effects, [['HSET', 'f', 'x', '10.5'], ['HSET', 'f', 'x', '10.6'], ['HSET', 'f', 'y', '1']]);
  const v = env.amber.server.keyspace.dbs[0]!.peek('f');
  assert.ok(v instanceof Hash, 'v instanceof Hash');
  assert.equal(v.encoding(), 'listpack');
  assert.deepEqual([...v.pairs()], [['x', '10.6'], ['y', '1']]);
});
