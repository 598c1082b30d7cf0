/**
 * Set commands through real clients (ioredis, node-redis in RESP2 and RESP3) against an
 * in-process Amber, plus propagated effects and encodings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisSet } from '../../src/keyspace/types/set.js';
import { withClients } from '../helpers/clients.js';

const env = withClients();
const { flush } = env;
const sorted = (a: string[]): string[] => [...a].sort();

test('ioredis: set commands', async () => {
  flush();
  assert.equal(await env.io.sadd('s', '3', '1', '2', '2'), 3);
  assert.deepEqual(await env.io.smembers('s'), ['1', '2', '3']);
  assert.equal(await env.io.sadd('s', 'x'), 1);
  assert.equal(await env.io.scard('s'), 4);
  assert.equal(await env.io.sismember('s', 'x'), 1);
  assert.deepEqual(await env.io.smismember('s', 'x', 'y', '1'), [1, 0, 1]);
  assert.equal(await env.io.srem('s', 'x', 'y'), 1);
  await env.io.sadd('t', '2', '3', '4');
  assert.deepEqual(await env.io.sinter('s', 't'), ['2', '3']);
  assert.deepEqual(await env.io.sunion('s', 't'), ['1', '2', '3', '4']);
  assert.deepEqual(await env.io.sdiff('s', 't'), ['1']);
  assert.equal(await env.io.sinterstore('d', 's', 't'), 2);
  assert.equal(await env.io.sunionstore('d', 's', 't'), 4);
  assert.equal(await env.io.sdiffstore('d', 't', 's'), 1);
  assert.deepEqual(await env.io.smembers('d'), ['4']);
  assert.equal(await env.io.sintercard(2, 's', 't'), 2);
  assert.equal(await env.io.call('SINTERCARD', '2', 's', 't', 'LIMIT', '1'), 1);
  assert.equal(await env.io.smove('s', 'd', '1'), 1);
  assert.deepEqual(await env.io.smembers('d'), ['1', '4']);
  const m = await env.io.srandmember('s');
  assert.ok(m === '2' || m === '3', 'm === "2" || m === "3"');
  assert.equal((await env.io.srandmember('s', -5)).length, 5);
  const p = await env.io.spop('s');
  assert.ok(p === '2' || p === '3', 'p === "2" || p === "3"');
  assert.equal((await env.io.spop('s', 5)).length, 1);
  assert.equal(await env.io.exists('s'), 0);
  const [cursor, items] = await env.io.sscan('d', '0');
  assert.equal(cursor, '0');
  assert.deepEqual(items, ['1', '4']);
  await env.io.set('str', 'x');
  await assert.rejects(env.io.sadd('str', 'a'), /WRONGTYPE/);
  await assert.rejects(env.io.call('SINTERCARD', '0', 's'), /ERR numkeys should be greater than 0/);
});

test('ioredis: a big set, SSCAN stream, SPOP all', async () => {
  flush();
  const members = Array.from({ length: 3000 }, (_, i) => 'member:' + i);
  assert.equal(await env.io.sadd('big', ...members), 3000);
  assert.equal(await env.io.object('ENCODING', 'big'), 'hashtable');
  const seen = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    const s = env.io.sscanStream('big', { count: 200 });
    s.on('data', (arr: string[]) => arr.forEach((x) => seen.add(x)));
    s.on('end', resolve);
    s.on('error', reject);
  });
  assert.equal(seen.size, 3000);
  const popped = new Set<string>();
  while (popped.size < 3000) {
    const batch = await env.io.spop('big', 700);
    assert.ok(batch.length > 0, 'batch.length > 0');
    for (const x of batch) {
      assert.ok(!popped.has(x), '!popped.has(x)');
      popped.add(x);
    }
  }
  assert.equal(await env.io.exists('big'), 0);
});

test('node-redis RESP2 and RESP3: set commands and reply shapes', async () => {
  for (const c of [env.nr2, env.nr3]) {
    flush();
    assert.equal(await c.sAdd('s', ['a', 'b', 'c']), 3);
    assert.deepEqual(sorted((await c.sMembers('s')) as string[]), ['a', 'b', 'c']);
    assert.equal(await c.sIsMember('s', 'a'), 1);
    assert.deepEqual(await c.smIsMember('s', ['a', 'z']), [1, 0]);
    assert.equal(await c.sCard('s'), 3);
    await c.sAdd('t', ['b', 'c', 'd']);
    assert.deepEqual(sorted((await c.sInter(['s', 't'])) as string[]), ['b', 'c']);
    assert.deepEqual(sorted((await c.sUnion(['s', 't'])) as string[]), ['a', 'b', 'c', 'd']);
    assert.deepEqual((await c.sDiff(['s', 't'])) as string[], ['a']);
    assert.equal(await c.sInterCard(['s', 't']), 2);
    assert.equal(await c.sInterCard(['s', 't'], { LIMIT: 1 }), 1);
    assert.equal(await c.sMove('s', 't', 'a'), 1);
    const popped = (await c.sPopCount('t', 2)) as string[];
    assert.equal(popped.length, 2);
    assert.equal(await c.sCard('t'), 2);
    assert.equal(((await c.sRandMemberCount('t', -4)) as string[]).length, 4);
    const scan = await c.sScan('t', '0');
    assert.equal(String(scan.cursor), '0');
    assert.equal(scan.members.length, 2);
    assert.deepEqual((await c.sMembers('nokey')) as string[], []);
  }
});

test('SPOP propagates as SREM or DEL; encodings of results', async () => {
  flush();
  const effects: string[][] = [];
  const unsub = env.amber.server.effects.subscribe((_db, argv) => effects.push(argv));
  let one: string | null;
  let two: string[];
  try {
    await env.io.sadd('s', '1', '2', '3', '4');
    one = await env.io.spop('s');
    two = await env.io.spop('s', 2);
    await env.io.spop('s', 10);
  } finally {
    unsub();
  }
  const rest = ['1', '2', '3', '4'].filter((x) => x !== one && !two.includes(x));
  assert.deepEqual(effects, [
    ['sadd', 's', '1', '2', '3', '4'], ['SREM', 's', one!],
    ['MULTI'], ['SREM', 's', two[0]!], ['SREM', 's', two[1]!], ['EXEC'], ['DEL', 's'],
  ]);
  assert.equal(rest.length, 1);
  await env.io.sadd('a', '10', '2');
  const v = env.amber.server.keyspace.dbs[0]!.peek('a');
  assert.ok(v instanceof RedisSet, 'v instanceof RedisSet');
  assert.equal(v.encoding(), 'intset');
  assert.deepEqual(v.intsetValues(), [2n, 10n]);
});

test('SPOP of 200000 members propagates 200000 SREMs in one MULTI/EXEC', async () => {
  flush();
  for (let i = 0; i < 250000; i += 10000) await env.io.sadd('huge', ...Array.from({ length: 10000 }, (_, j) => 'm' + (i + j)));
  let srems = 0;
  const first: string[] = [];
  const unsub = env.amber.server.effects.subscribe((_db, argv) => {
    if (argv[0] === 'SREM') srems++;
    else first.push(argv[0]!);
  });
  try {
    const popped = await env.io.spop('huge', 200000);
    assert.equal(popped.length, 200000);
  } finally {
    unsub();
  }
  assert.equal(srems, 200000);
  assert.deepEqual(first, ['MULTI', 'EXEC']);
  assert.equal(await env.io.scard('huge'), 50000);
});
