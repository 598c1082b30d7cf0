/**
 * List commands through real clients (ioredis, node-redis in RESP2 and RESP3) against an
 * in-process Amber: every command, blocking pops served by pushes from other connections,
 * timeouts, RESP3 nulls, plus what clients cannot see: the propagated effects of blocking pops
 * and the keyspace events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClients } from '../helpers/clients.js';

const env = withClients({ io2: true });
const { flush } = env;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ioredis: push, pop, range, index, edits, search', async () => {
  flush();
  assert.equal(await env.io.rpush('l', 'a', 'b', 'c'), 3);
  assert.equal(await env.io.lpush('l', 'z'), 4);
  assert.equal(await env.io.lpushx('nokey', 'a'), 0);
  assert.equal(await env.io.rpushx('l', 'd'), 5);
  assert.deepEqual(await env.io.lrange('l', 0, -1), ['z', 'a', 'b', 'c', 'd']);
  assert.equal(await env.io.llen('l'), 5);
  assert.equal(await env.io.lindex('l', -1), 'd');
  assert.equal(await env.io.lindex('l', 99), null);
  assert.equal(await env.io.lset('l', 0, 'Z'), 'OK');
  await assert.rejects(env.io.lset('l', 99, 'x'), /ERR index out of range/);
  await assert.rejects(env.io.lset('nokey', 0, 'x'), /ERR no such key/);
  assert.equal(await env.io.linsert('l', 'BEFORE', 'b', 'ab'), 6);
  assert.equal(await env.io.linsert('l', 'AFTER', 'nope', 'x'), -1);
  assert.equal(await env.io.lpos('l', 'ab'), 2);
  assert.deepEqual(await env.io.lpos('l', 'b', 'COUNT', 0), [3]);
  assert.equal(await env.io.lrem('l', 0, 'ab'), 1);
  assert.equal(await env.io.ltrim('l', 1, -2), 'OK');
  assert.deepEqual(await env.io.lrange('l', 0, -1), ['a', 'b', 'c']);
  assert.equal(await env.io.lpop('l'), 'a');
  assert.deepEqual(await env.io.rpop('l', 5), ['c', 'b']);
  assert.equal(await env.io.exists('l'), 0);
  assert.equal(await env.io.lpop('l'), null);
  await env.io.set('s', 'v');
  await assert.rejects(env.io.lpush('s', 'x'), /WRONGTYPE/);
  await assert.rejects(env.io.lpop('l', -1), /value is out of range, must be positive/);
  const big = Array.from({ length: 5000 }, (_, i) => 'e' + i);
  await env.io.rpush('big', ...big);
  assert.deepEqual(await env.io.lrange('big', 1000, 3999), big.slice(1000, 4000));
  assert.equal(await env.io.lindex('big', 2500), 'e2500');
  assert.deepEqual(await env.io.call('LMPOP', '2', 'nokey', 'big', 'RIGHT', 'COUNT', '3'), ['big', ['e4999', 'e4998', 'e4997']]);
  assert.equal(await env.io.lmove('big', 'other', 'LEFT', 'RIGHT'), 'e0');
  assert.equal(await env.io.rpoplpush('big', 'other'), 'e4996');
  assert.deepEqual(await env.io.lrange('other', 0, -1), ['e4996', 'e0']);
  assert.equal(await env.io.call('OBJECT', 'ENCODING', 'big'), 'quicklist');
});

test('ioredis: blocking pops served by pushes from another connection', async () => {
  flush();
  const p = env.io.blpop('q1', 'q2', 0);
  await sleep(30);
  assert.equal(await env.io2.rpush('q2', 'job'), 1);
  assert.deepEqual(await p, ['q2', 'job']);
  const m = env.io.blmove('src', 'dst', 'RIGHT', 'LEFT', 0);
  await sleep(30);
  await env.io2.rpush('src', 'a', 'b');
  assert.equal(await m, 'b');
  assert.deepEqual(await env.io2.lrange('dst', 0, -1), ['b']);
  const b = env.io.brpoplpush('src2', 'dst', 0);
  await sleep(30);
  await env.io2.lpush('src2', 'x');
  assert.equal(await b, 'x');
  const mp = env.io.call('BLMPOP', '0', '1', 'src3', 'LEFT', 'COUNT', '10');
  await sleep(30);
  await env.io2.rpush('src3', '1', '2');
  assert.deepEqual(await mp, ['src3', ['1', '2']]);
  const t0 = Date.now();
  assert.equal(await env.io.brpop('nokey', 0.1), null);
  assert.ok(Date.now() - t0 >= 95);
  assert.equal(await env.io.blmove('nokey', 'dst', 'LEFT', 'LEFT', 0.05), null);
});

test('node-redis RESP2 and RESP3: lists, nulls and blocking', async () => {
  flush();
  for (const nr of [env.nr2, env.nr3]) {
    await nr.del(['l', 'bq']);
    assert.equal(await nr.rPush('l', ['a', 'b', 'c', 'a']), 4);
    assert.deepEqual(await nr.lRange('l', 0, -1), ['a', 'b', 'c', 'a']);
    assert.equal(await nr.lPos('l', 'a', { RANK: -1 }), 3);
    assert.equal(await nr.lPos('l', 'zz'), null);
    assert.equal(await nr.lIndex('l', 10), null);
    assert.equal(await nr.lPop('nokey'), null);
    assert.equal(await nr.sendCommand(['LPOP', 'nokey', '2']), null);
    assert.deepEqual(await nr.sendCommand(['LPOP', 'l', '0']), []);
    assert.deepEqual(await nr.sendCommand(['RPOP', 'l', '2']), ['a', 'c']);
    assert.equal(await nr.sendCommand(['LMPOP', '1', 'nokey', 'LEFT']), null);
    const blocker = nr.duplicate();
    await blocker.connect();
    try {
      const p = blocker.blPop('bq', 0);
      await sleep(30);
      await nr.rPush('bq', 'v');
      assert.deepEqual(await p, { key: 'bq', element: 'v' });
      assert.equal(await blocker.blPop('bq', 0.05), null);
      const mp = blocker.sendCommand(['BLMPOP', '0', '1', 'bq', 'RIGHT', 'COUNT', '2']);
      await sleep(30);
      await nr.rPush('bq', ['1', '2', '3']);
      assert.deepEqual(await mp, ['bq', ['3', '2']]);
    } finally {
      await blocker.close();
    }
  }
});

test('effects and events of served blocking pops', async () => {
  flush();
  const ks = env.amber.server.keyspace;
  const events: string[] = [];
  const effects: string[] = [];
  const prev = ks.notifier;
  ks.notifier = (type, event, key, dbid) => {
    if (event !== 'keymiss' && event !== 'new') events.push(`${event}:${key}`);
    prev?.(type, event, key, dbid);
  };
  const unsubscribe = env.amber.server.effects.subscribe((_db, argv) => effects.push(argv.join(' ')));
  try {
    const a = env.io.blpop('k', 0);
    await sleep(30);
    await env.io2.rpush('k', 'x');
    await a;
    const b = env.io.blmove('s', 'd', 'LEFT', 'RIGHT', 0);
    await sleep(30);
    await env.io2.rpush('s', 'y');
    await b;
    assert.deepEqual(await env.io.blpop('d', 0), ['d', 'y']);
  } finally {
    ks.notifier = prev;
    unsubscribe();
  }
  assert.deepEqual(effects, ['rpush k x', 'LPOP k', 'rpush s y', 'LMOVE s d left right', 'LPOP d']);
  assert.deepEqual(events, ['rpush:k', 'lpop:k', 'del:k', 'rpush:s', 'rpush:d', 'lpop:s', 'del:s', 'lpop:d', 'del:d']);
});
