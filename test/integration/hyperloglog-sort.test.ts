/**
 * HyperLogLog and SORT through real clients (ioredis, node-redis in RESP2 and RESP3) against an
 * in-process Amber, plus what they propagate, what they signal (WATCH) and blocked clients woken
 * by SORT ... STORE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { withClients } from '../helpers/clients.js';

const env = withClients();
const { flush } = env;

/** Runs fn and returns the effects it propagated (argv lists). */
async function effectsOf(fn: () => Promise<unknown>): Promise<string[][]> {
  const effects: string[][] = [];
  const unsub = env.amber.server.effects.subscribe((_db, argv) => effects.push(argv));
  try {
    await fn();
  } finally {
    unsub();
  }
  return effects.map((a) => [a[0]!.toUpperCase(), ...a.slice(1)]);
}

test('ioredis: PFADD, PFCOUNT, PFMERGE, accuracy and encodings', async () => {
  flush();
  assert.equal(await env.io.pfadd('h', 'a', 'b', 'c'), 1);
  assert.equal(await env.io.pfadd('h', 'a'), 0);
  assert.equal(await env.io.pfcount('h'), 3);
  assert.equal(await env.io.call('PFDEBUG', 'ENCODING', 'h'), 'sparse');
  const n = 100000;
  for (let i = 0; i < n; i += 1000) {
    await env.io.pfadd('big', ...Array.from({ length: 1000 }, (_, j) => 'el:' + (i + j)));
  }
  assert.equal(await env.io.call('PFDEBUG', 'ENCODING', 'big'), 'dense');
  assert.equal(await env.io.strlen('big'), 12304);
  const est = await env.io.pfcount('big');
  // the standard error is 0.81%: 3% is far outside any real run
  assert.ok(Math.abs(est - n) / n < 0.03, `estimate ${est}`);
  assert.equal(await env.io.pfmerge('u', 'h', 'big'), 'OK');
  assert.equal(await env.io.pfcount('u'), await env.io.pfcount('h', 'big'));
  const raw = await env.io.getBuffer('u');
  assert.equal(raw?.subarray(0, 4).toString('latin1'), 'HYLL');
  await env.io.set('s', 'not an hll at all');
  await assert.rejects(env.io.pfadd('s', 'x'), /^ReplyError: WRONGTYPE Key is not a valid HyperLogLog string value\./);
  // an invalid cache (bit 7 of byte 15) and one register too many
  await env.io.setrange('h', 15, '\x80\x7f\xfe\xfc\xfc');
  await assert.rejects(env.io.pfcount('h'), /INVALIDOBJ Corrupted HLL object detected/);
});

test('node-redis RESP2 and RESP3: HyperLogLog and SORT', async () => {
  for (const c of [env.nr2, env.nr3]) {
    flush();
    assert.equal(await c.pfAdd('h', ['x', 'y']), 1);
    assert.equal(await c.pfCount('h'), 2);
    assert.equal(await c.pfAdd('h2', 'z'), 1);
    assert.equal(await c.pfMerge('m', ['h', 'h2']), 'OK');
    assert.equal(await c.pfCount(['m', 'h']), 3);
    await c.rPush('l', ['3', '1', '2']);
    await c.mSet({ w_1: '30', w_2: '10', w_3: '20', o_1: 'one', o_3: 'three' });
    assert.deepEqual(await c.sort('l'), ['1', '2', '3']);
    assert.deepEqual(await c.sort('l', { DIRECTION: 'DESC', LIMIT: { offset: 0, count: 2 } }), ['3', '2']);
    assert.deepEqual(await c.sort('l', { BY: 'w_*' }), ['2', '3', '1']);
    assert.deepEqual(await c.sort('l', { BY: 'w_*', GET: ['#', 'o_*'] }), ['2', null, '3', 'three', '1', 'one']);
    assert.deepEqual(await c.sortRo('l', { ALPHA: true, DIRECTION: 'DESC' }), ['3', '2', '1']);
    assert.equal(await c.sortStore('l', 'dst', { BY: 'nosort' }), 3);
    assert.deepEqual(await c.lRange('dst', 0, -1), ['3', '1', '2']);
  }
});

test('ioredis: SORT options on lists, sets and sorted sets', async () => {
  flush();
  await env.io.rpush('l', '10', '9', '1e1', '-3', '2.5');
  assert.deepEqual(await env.io.sort('l'), ['-3', '2.5', '9', '10', '1e1']);
  assert.deepEqual(await env.io.sort('l', 'ALPHA'), ['-3', '10', '1e1', '2.5', '9']);
  await env.io.sadd('s', 'c', 'a', 'b');
  assert.deepEqual(await env.io.sort('s', 'ALPHA', 'DESC'), ['c', 'b', 'a']);
  assert.equal(await env.io.sort('s', 'BY', 'nosort', 'STORE', 'sd'), 3);
  // a set under STORE is sorted even with a constant BY
  assert.deepEqual(await env.io.lrange('sd', 0, -1), ['a', 'b', 'c']);
  await env.io.zadd('z', 3, 'x', 1, 'y', 2, 'w');
  assert.equal(await env.io.object('ENCODING', 'z'), 'listpack');
  assert.deepEqual(await env.io.sort('z', 'BY', 'nosort', 'DESC', 'LIMIT', 1, 2), ['w', 'y']);
  assert.equal(await env.io.object('ENCODING', 'z'), 'skiplist');
  await env.io.hset('hw_x', 'f', '1');
  await env.io.hset('hw_y', 'f', '3');
  await env.io.hset('hw_w', 'f', '2');
  assert.deepEqual(await env.io.sort('z', 'BY', 'hw_*->f', 'GET', '#', 'GET', 'hw_*->f'), ['x', '1', 'w', '2', 'y', '3']);
  await assert.rejects(env.io.sort('s'), /One or more scores can't be converted into double/);
  await assert.rejects(env.io.call('SORT_RO', 'l', 'STORE', 'x'), /ERR syntax error/);
  await assert.rejects(env.io.sort('l', 'LIMIT', 'a', '1'), /ERR value is not an integer or out of range/);
  await env.io.set('str', 'v');
  await assert.rejects(env.io.sort('str'), /WRONGTYPE/);
});

test('propagation: PFADD and PFMERGE when they change, PFCOUNT when it caches, SORT only with STORE', async () => {
  flush();
  const eff = await effectsOf(async () => {
    await env.io.pfadd('h', 'a', 'b');
    await env.io.pfadd('h', 'a');
    await env.io.pfcount('h');
    await env.io.pfcount('h');
    await env.io.pfcount('h', 'nokey');
    await env.io.pfmerge('m', 'h');
    await env.io.rpush('l', '2', '1');
    await env.io.sort('l');
    await env.io.sort('l', 'STORE', 'd');
    await env.io.sort('nokey', 'STORE', 'nothing');
    await env.io.sort('nokey', 'STORE', 'd');
    await env.io.call('SORT_RO', 'l');
  });
  assert.deepEqual(eff, [
    ['PFADD', 'h', 'a', 'b'],
    ['PFCOUNT', 'h'],
    ['PFMERGE', 'm', 'h'],
    ['RPUSH', 'l', '2', '1'],
    ['SORT', 'l', 'STORE', 'd'],
    ['SORT', 'nokey', 'STORE', 'd'],
  ]);
});

test('WATCH sees PFADD, PFCOUNT caching and SORT STORE', async () => {
  flush();
  const other = new Redis({ port: env.amber.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await other.connect();
  try {
    await env.io.pfadd('h', 'a');
    for (const [key, change] of [
      ['h', () => other.pfadd('h', 'b')],
      ['h', () => other.pfcount('h')],
      ['dst', () => other.sort('h2', 'STORE', 'dst')],
    ] as Array<[string, () => Promise<unknown>]>) {
      if (key === 'dst') {
        await other.rpush('h2', '1');
        await other.rpush('dst', 'old');
      }
      await env.io.watch(key);
      await change();
      const res = await env.io.multi().get('x').exec();
      assert.equal(res, null, `WATCH ${key}`);
    }
  } finally {
    other.disconnect();
  }
});

test('SORT ... STORE wakes a client blocked on the destination list', async () => {
  flush();
  const blocker = new Redis({ port: env.amber.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await blocker.connect();
  try {
    const popped = blocker.blpop('dst', 5);
    await new Promise((r) => setTimeout(r, 50));
    await env.io.rpush('src', '3', '1', '2');
    assert.equal(await env.io.sort('src', 'STORE', 'dst'), 3);
    assert.deepEqual(await popped, ['dst', '1']);
    assert.deepEqual(await env.io.lrange('dst', 0, -1), ['2', '3']);
  } finally {
    blocker.disconnect();
  }
});

test('SORT of a 10,000-element list', async () => {
  flush();
  const items = Array.from({ length: 10000 }, (_, i) => String((i * 7919) % 10007));
  await env.io.rpush('big', ...items);
  const t0 = process.hrtime.bigint();
  const out = await env.io.sort('big');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.deepEqual(out, [...items].sort((a, b) => Number(a) - Number(b)));
  assert.ok(ms < 5000, `SORT took ${ms} ms`);
  assert.equal(await env.io.sort('big', 'ALPHA', 'LIMIT', 0, 3, 'STORE', 'top'), 3);
  assert.deepEqual(await env.io.lrange('top', 0, -1), ['0', '1', '10']);
});
