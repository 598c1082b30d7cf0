/**
 * Keyspace commands through real clients against Amber: ioredis (RESP2) and node-redis in RESP2
 * and RESP3. Also the SCAN guarantee (every key present for the whole iteration is returned, while
 * the keyspace grows and shrinks), the effects the keyspace commands propagate, and OBJECT
 * IDLETIME / FREQ tracking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RawClient } from '../helpers/servers.js';
import { withAmber } from '../helpers/clients.js';

const env = withAmber();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('ioredis: keyspace commands', async () => {
  const r = new Redis({ port: env.amber.port, host: '127.0.0.1', lazyConnect: true });
  await r.connect();
  try {
    await r.flushall();
    await r.mset('a', '1', 'b', '2', 'c', '3');
    assert.equal(await r.exists('a', 'b', 'nope', 'a'), 3);
    assert.equal(await r.type('a'), 'string');
    assert.equal(await r.type('nope'), 'none');
    assert.equal(await r.touch('a', 'nope'), 1);
    assert.equal(await r.dbsize(), 3);
    assert.deepEqual((await r.keys('*')).sort(), ['a', 'b', 'c']);
    assert.deepEqual((await r.keys('[ab]')).sort(), ['a', 'b']);
    assert.equal(await r.rename('a', 'z'), 'OK');
    await assert.rejects(r.rename('nope', 'x'), /ERR no such key/);
    assert.equal(await r.renamenx('z', 'b'), 0);
    assert.equal(await r.renamenx('z', 'y'), 1);
    assert.equal(await r.copy('y', 'w'), 1);
    assert.equal(await r.copy('y', 'w'), 0);
    assert.equal(await r.copy('y', 'w', 'REPLACE'), 1);
    assert.equal(await r.copy('y', 'w', 'DB', 3), 1);
    assert.equal(await r.move('w', 2), 1);
    await r.select(2);
    assert.equal(await r.get('w'), '1');
    await r.select(0);
    assert.equal(await r.swapdb(0, 3), 'OK');
    assert.deepEqual(await r.keys('*'), ['w']);
    assert.equal(await r.swapdb(0, 3), 'OK');
    assert.equal(await r.object('ENCODING', 'y'), 'int');
    assert.equal(await r.object('REFCOUNT', 'y'), 2147483647);
    assert.equal(await r.object('ENCODING', 'nope'), null);
    assert.equal(typeof (await r.object('IDLETIME', 'y')), 'number');
    assert.ok(['b', 'c', 'y'].includes((await r.randomkey())!));
    assert.equal(await r.del('b', 'c', 'nope'), 2);
    assert.equal(await r.unlink('y'), 1);
    assert.equal(await r.randomkey(), null);
    // scanStream walks the whole keyspace
    const keys = Array.from({ length: 500 }, (_, i) => `k:${i}`);
    await r.mset(...keys.flatMap((k) => [k, 'v']));
    const seen = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      const s = r.scanStream({ match: 'k:*', count: 50 });
      s.on('data', (batch: string[]) => batch.forEach((k) => seen.add(k)));
      s.on('end', () => resolve());
      s.on('error', reject);
    });
    assert.equal(seen.size, 500);
    assert.equal(await r.flushdb('ASYNC'), 'OK');
    assert.equal(await r.dbsize(), 0);
  } finally {
    r.disconnect();
  }
});

for (const RESP of [2, 3] as const) {
  test(`node-redis RESP${RESP}: keyspace commands`, async () => {
    const client = createClient({ socket: { port: env.amber.port, host: '127.0.0.1' }, RESP });
    await client.connect();
    try {
      await client.flushAll();
      await client.mSet({ a: '1', b: 'hello', c: 'x'.repeat(100) });
      assert.equal(await client.exists(['a', 'b', 'nope']), 2);
      assert.equal(await client.type('b'), 'string');
      assert.equal(await client.dbSize(), 3);
      assert.deepEqual((await client.keys('*')).sort(), ['a', 'b', 'c']);
      assert.equal(await client.objectEncoding('a'), 'int');
      assert.equal(await client.objectEncoding('b'), 'embstr');
      assert.equal(await client.objectEncoding('c'), 'raw');
      assert.equal(await client.objectEncoding('nope'), null);
      assert.equal(await client.objectRefCount('c'), 1);
      assert.equal(await client.rename('a', 'a2'), 'OK');
      assert.equal(await client.renameNX('a2', 'b'), 0);
      assert.equal(await client.copy('b', 'b', { DB: 1 }), 1);
      assert.equal(await client.move('b', 1), 0);
      assert.equal(await client.move('a2', 1), 1);
      assert.equal(await client.swapDb(0, 1), 'OK');
      assert.deepEqual((await client.keys('*')).sort(), ['a2', 'b']);
      assert.equal(await client.swapDb(0, 1), 'OK');
      const seen: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: '*', COUNT: 2 })) seen.push(...batch);
      assert.deepEqual(seen.sort(), ['b', 'c']);
      const typed: string[] = [];
      for await (const batch of client.scanIterator({ TYPE: 'string' })) typed.push(...batch);
      assert.deepEqual(typed.sort(), ['b', 'c']);
      // node-redis 5 types RANDOMKEY's reply as a number; it is a key name (a bulk string) or null
      const random = (await client.randomKey()) as unknown as string | null;
      assert.ok(random !== null && ['b', 'c'].includes(random), `RANDOMKEY gave ${random}`);
      assert.equal(await client.touch(['b', 'c', 'nope']), 2);
      assert.equal(await client.unlink(['b']), 1);
      assert.equal(await client.del(['c', 'nope']), 1);
      assert.equal(await client.randomKey(), null);
      await assert.rejects(client.sendCommand(['SWAPDB', '0', 'x']), /invalid second DB index/);
      assert.equal(await client.flushDb(), 'OK');
    } finally {
      await client.quit();
    }
  });
}

test('SCAN returns every key present for the whole iteration while keys are added and deleted', async () => {
  const c = await RawClient.connect(env.amber.port);
  try {
    await c.call('SELECT', '9');
    await c.call('FLUSHDB');
    const stable: string[] = [];
    const doomed: string[] = [];
    for (let i = 0; i < 3000; i++) stable.push(`stable:${i}`);
    for (let i = 0; i < 1000; i++) doomed.push(`doomed:${i}`);
    await c.pipeline([...stable, ...doomed].map((k) => ['SET', k, 'v']));
    const db = env.amber.server.keyspace.dbs[9]!;
    const segmentsBefore = db.segments.length;
    const seen = new Set<string>();
    let cursor = '0';
    let added = 0;
    let deleted = 0;
    let calls = 0;
    do {
      const raw = await c.call('SCAN', cursor, 'COUNT', '20');
      const m = /^\*2\r\n\$\d+\r\n(\d+)\r\n/.exec(raw)!;
      cursor = m[1]!;
      for (const k of raw.slice(m[0].length).split('\r\n').filter((_l, i) => i > 0 && i % 2 === 0)) seen.add(k);
      // grow the keyspace (segments split) and delete keys that are not stable
      const batch: string[][] = [];
      for (let i = 0; i < 60; i++) batch.push(['SET', `new:${added++}`, 'v']);
      for (let i = 0; i < 10 && deleted < doomed.length; i++) batch.push(['DEL', doomed[deleted++]!]);
      await c.pipeline(batch);
      calls++;
    } while (cursor !== '0');
    assert.ok(db.segments.length > segmentsBefore * 2, `the table grew during the scan (${segmentsBefore} -> ${db.segments.length})`);
    for (const k of stable) assert.ok(seen.has(k), `SCAN missed ${k}`);
    for (const k of seen) assert.ok(k.startsWith('stable:') || k.startsWith('doomed:') || k.startsWith('new:'));
    assert.ok(calls > 10);
    await c.call('FLUSHDB');
  } finally {
    c.close();
  }
});

test('effects: keyspace and expire commands propagate as Redis 7.0 does', async () => {
  const effects: string[] = [];
  const unsubscribe = env.amber.server.effects.subscribe((db, argv) => effects.push(`${db} ${argv.join(' ')}`));
  const c = await RawClient.connect(env.amber.port);
  try {
    await c.call('SELECT', '4');
    await c.call('FLUSHDB');
    effects.length = 0;
    const before = Date.now();
    await c.call('SET', 'a', '1');
    await c.call('EXPIRE', 'a', '100');
    await c.call('PEXPIRE', 'a', '200000', 'GT');
    await c.call('EXPIREAT', 'a', '4000000000');
    await c.call('PEXPIREAT', 'a', '4000000000123', 'GT');
    await c.call('EXPIRE', 'nope', '100');
    await c.call('EXPIRE', 'a', '10', 'NX');
    await c.call('PERSIST', 'a');
    await c.call('PERSIST', 'a');
    await c.call('EXPIRE', 'a', '-1');
    await c.call('FLUSHDB');
    await c.call('SET', 'b', '1');
    await c.call('RENAME', 'b', 'c');
    await c.call('RENAME', 'c', 'c');
    await c.call('COPY', 'c', 'd', 'DB', '5');
    await c.call('MOVE', 'c', '6');
    await c.call('SWAPDB', '5', '6');
    await c.call('DEL', 'nope');
    await c.call('SET', 'e', '1', 'PX', '1');
    await sleep(5);
    await c.call('DEL', 'e');
    const after = Date.now();
    const [e0, e1, e2, ...rest] = effects;
    assert.equal(e0, '4 SET a 1');
    const m1 = /^4 PEXPIREAT a (\d+)$/.exec(e1!);
    assert.ok(m1 && Number(m1[1]) >= before + 100000 && Number(m1[1]) <= after + 100000, e1);
    const m2 = /^4 PEXPIREAT a (\d+) GT$/.exec(e2!);
    assert.ok(m2 && Number(m2[1]) >= before + 200000 && Number(m2[1]) <= after + 200000, e2);
    assert.deepEqual(rest, [
      '4 PEXPIREAT a 4000000000000',
      '4 PEXPIREAT a 4000000000123 GT',
      '4 PERSIST a',
      '4 DEL a',
      '4 FLUSHDB',
      '4 SET b 1',
      '4 RENAME b c',
      '4 COPY c d DB 5',
      '4 MOVE c 6',
      '4 SWAPDB 5 6',
      '4 SET e 1 PXAT ' + /SET e 1 PXAT (\d+)/.exec(effects.join('\n'))![1],
      // the lazily expired key is deleted (DEL propagated) before the command, which then deletes nothing
      '4 DEL e',
    ]);
  } finally {
    unsubscribe();
    c.close();
  }
});

test('OBJECT IDLETIME grows while a key is idle and resets on access; TYPE and EXISTS do not touch', async () => {
  const c = await RawClient.connect(env.amber.port);
  try {
    await c.call('SELECT', '7');
    await c.call('FLUSHDB');
    await c.call('SET', 's', 'v');
    await c.call('RPUSH', 'l', 'x');
    const idle = async (k: string): Promise<number> => Number((await c.call('OBJECT', 'IDLETIME', k)).slice(1, -2));
    // the LRU clock counts whole seconds (LRU_CLOCK_RESOLUTION): a tick between SET and OBJECT
    // makes a fresh key 1 s idle, in Redis too
    assert.ok((await idle('s')) <= 1);
    await sleep(2300);
    assert.ok((await idle('s')) >= 2);
    await c.call('TYPE', 's');
    await c.call('EXISTS', 's');
    await c.call('TTL', 's');
    assert.ok((await idle('s')) >= 2, 'TYPE/EXISTS/TTL must not touch');
    await c.call('GET', 's');
    assert.equal(await idle('s'), 0);
    if (!(await c.call('TYPE', 'l')).startsWith('+none')) {
      assert.ok((await idle('l')) >= 2);
      await c.call('LLEN', 'l');
      assert.equal(await idle('l'), 0);
    }
    await c.call('FLUSHDB');
  } finally {
    c.close();
  }
});

test('OBJECT FREQ counts accesses under an LFU policy', async () => {
  const c = await RawClient.connect(env.amber.port);
  try {
    await c.call('SELECT', '8');
    await c.call('FLUSHDB');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu');
    await c.call('SET', 'k', 'v');
    assert.equal(await c.call('OBJECT', 'FREQ', 'k'), ':5\r\n');
    await c.pipeline(Array.from({ length: 300 }, () => ['GET', 'k']));
    const f = Number((await c.call('OBJECT', 'FREQ', 'k')).slice(1, -2));
    assert.ok(f > 5 && f < 255, `freq ${f}`);
    assert.match(await c.call('OBJECT', 'IDLETIME', 'k'), /^-ERR An LFU maxmemory policy is selected/);
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    assert.match(await c.call('OBJECT', 'FREQ', 'k'), /^-ERR An LFU maxmemory policy is not selected/);
    await c.call('FLUSHDB');
  } finally {
    c.close();
  }
});
