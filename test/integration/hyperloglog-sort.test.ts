/**
 * HyperLogLog and SORT through real clients (ioredis, node-redis in RESP2 and RESP3) against an
 * in-process Amber, plus what they propagate, what they signal (WATCH) and blocked clients woken
 * by SORT ... STORE.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startAmber } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

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

/** Runs fn and returns the effects it propagated (argv lists). */
async function effectsOf(fn: () => Promise<unknown>): Promise<string[][]> {
  const effects: string[][] = [];
  const unsub = amber.server.effects.subscribe((_db, argv) => effects.push(argv));
  try {
    await fn();
  } finally {
    unsub();
  }
  return effects.map((a) => [a[0]!.toUpperCase(), ...a.slice(1)]);
}

test('ioredis: PFADD, PFCOUNT, PFMERGE, accuracy and encodings', async () => {
  flush();
  assert.equal(await io.pfadd('h', 'a', 'b', 'c'), 1);
  assert.equal(await io.pfadd('h', 'a'), 0);
  assert.equal(await io.pfcount('h'), 3);
  assert.equal(await io.call('PFDEBUG', 'ENCODING', 'h'), 'sparse');
  const n = 100000;
  for (let i = 0; i < n; i += 1000) {
    await io.pfadd('big', ...Array.from({ length: 1000 }, (_, j) => 'el:' + (i + j)));
  }
  assert.equal(await io.call('PFDEBUG', 'ENCODING', 'big'), 'dense');
  assert.equal(await io.strlen('big'), 12304);
  const est = await io.pfcount('big');
  // the standard error is 0.81%: 3% is far outside any real run
  assert.ok(Math.abs(est - n) / n < 0.03, `estimate ${est}`);
  assert.equal(await io.pfmerge('u', 'h', 'big'), 'OK');
  assert.equal(await io.pfcount('u'), await io.pfcount('h', 'big'));
  const raw = await io.getBuffer('u');
  assert.equal(raw.subarray(0, 4).toString('latin1'), 'HYLL');
  await io.set('s', 'not an hll at all');
  await assert.rejects(io.pfadd('s', 'x'), /^ReplyError: WRONGTYPE Key is not a valid HyperLogLog string value\./);
  // an invalid cache (bit 7 of byte 15) and one register too many
  await io.setrange('h', 15, '\x80\x7f\xfe\xfc\xfc');
  await assert.rejects(io.pfcount('h'), /INVALIDOBJ Corrupted HLL object detected/);
});

test('node-redis RESP2 and RESP3: HyperLogLog and SORT', async () => {
  for (const c of [nr2, nr3]) {
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
  await io.rpush('l', '10', '9', '1e1', '-3', '2.5');
  assert.deepEqual(await io.sort('l'), ['-3', '2.5', '9', '10', '1e1']);
  assert.deepEqual(await io.sort('l', 'ALPHA'), ['-3', '10', '1e1', '2.5', '9']);
  await io.sadd('s', 'c', 'a', 'b');
  assert.deepEqual(await io.sort('s', 'ALPHA', 'DESC'), ['c', 'b', 'a']);
  assert.equal(await io.sort('s', 'BY', 'nosort', 'STORE', 'sd'), 3);
  // a set under STORE is sorted even with a constant BY
  assert.deepEqual(await io.lrange('sd', 0, -1), ['a', 'b', 'c']);
  await io.zadd('z', 3, 'x', 1, 'y', 2, 'w');
  assert.equal(await io.object('ENCODING', 'z'), 'listpack');
  assert.deepEqual(await io.sort('z', 'BY', 'nosort', 'DESC', 'LIMIT', 1, 2), ['w', 'y']);
  assert.equal(await io.object('ENCODING', 'z'), 'skiplist');
  await io.hset('hw_x', 'f', '1');
  await io.hset('hw_y', 'f', '3');
  await io.hset('hw_w', 'f', '2');
  assert.deepEqual(await io.sort('z', 'BY', 'hw_*->f', 'GET', '#', 'GET', 'hw_*->f'), ['x', '1', 'w', '2', 'y', '3']);
  await assert.rejects(io.sort('s'), /One or more scores can't be converted into double/);
  await assert.rejects(io.call('SORT_RO', 'l', 'STORE', 'x'), /ERR syntax error/);
  await assert.rejects(io.sort('l', 'LIMIT', 'a', '1'), /ERR value is not an integer or out of range/);
  await io.set('str', 'v');
  await assert.rejects(io.sort('str'), /WRONGTYPE/);
});

test('propagation: PFADD and PFMERGE when they change, PFCOUNT when it caches, SORT only with STORE', async () => {
  flush();
  const eff = await effectsOf(async () => {
    await io.pfadd('h', 'a', 'b');
    await io.pfadd('h', 'a');
    await io.pfcount('h');
    await io.pfcount('h');
    await io.pfcount('h', 'nokey');
    await io.pfmerge('m', 'h');
    await io.rpush('l', '2', '1');
    await io.sort('l');
    await io.sort('l', 'STORE', 'd');
    await io.sort('nokey', 'STORE', 'nothing');
    await io.sort('nokey', 'STORE', 'd');
    await io.call('SORT_RO', 'l');
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
  const other = new Redis({ port: amber.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await other.connect();
  try {
    await io.pfadd('h', 'a');
    for (const [key, change] of [
      ['h', () => other.pfadd('h', 'b')],
      ['h', () => other.pfcount('h')],
      ['dst', () => other.sort('h2', 'STORE', 'dst')],
    ] as Array<[string, () => Promise<unknown>]>) {
      if (key === 'dst') {
        await other.rpush('h2', '1');
        await other.rpush('dst', 'old');
      }
      await io.watch(key);
      await change();
      const res = await io.multi().get('x').exec();
      assert.equal(res, null, `WATCH ${key}`);
    }
  } finally {
    other.disconnect();
  }
});

test('SORT ... STORE wakes a client blocked on the destination list', async () => {
  flush();
  const blocker = new Redis({ port: amber.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await blocker.connect();
  try {
    const popped = blocker.blpop('dst', 5);
    await new Promise((r) => setTimeout(r, 50));
    await io.rpush('src', '3', '1', '2');
    assert.equal(await io.sort('src', 'STORE', 'dst'), 3);
    assert.deepEqual(await popped, ['dst', '1']);
    assert.deepEqual(await io.lrange('dst', 0, -1), ['2', '3']);
  } finally {
    blocker.disconnect();
  }
});

test('SORT of a 10,000-element list', async () => {
  flush();
  const items = Array.from({ length: 10000 }, (_, i) => String((i * 7919) % 10007));
  await io.rpush('big', ...items);
  const t0 = process.hrtime.bigint();
  const out = await io.sort('big');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.deepEqual(out, [...items].sort((a, b) => Number(a) - Number(b)));
  assert.ok(ms < 5000, `SORT took ${ms} ms`);
  assert.equal(await io.sort('big', 'ALPHA', 'LIMIT', 0, 3, 'STORE', 'top'), 3);
  assert.deepEqual(await io.lrange('top', 0, -1), ['0', '1', '10']);
});
