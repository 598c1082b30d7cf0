/**
 * Expiry through real clients against Amber: the expire commands with ioredis and node-redis
 * (RESP2 and RESP3), active expiry reclaiming 100,000 short-lived keys nobody touches, the cost of
 * the expiry cycle with many long-lived keys, and the invisibility of expired keys to every
 * command while active expiry is off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RawClient } from '../helpers/servers.js';
import { setActiveExpire } from '../../src/keyspace/expire.js';
import { withAmber } from '../helpers/clients.js';

const env = withAmber({ beforeClose: () => setActiveExpire(true) });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('ioredis: EXPIRE family, TTL family, PERSIST', async () => {
  const r = new Redis({ port: env.amber.port, host: '127.0.0.1', lazyConnect: true });
  await r.connect();
  try {
    await r.select(1);
    await r.flushdb();
    await r.set('k', 'v');
    assert.equal(await r.ttl('k'), -1);
    assert.equal(await r.ttl('nope'), -2);
    assert.equal(await r.expire('k', 100), 1);
    assert.equal(await r.ttl('k'), 100);
    assert.equal(await r.expire('k', 50, 'GT'), 0);
    assert.equal(await r.expire('k', 50, 'LT'), 1);
    assert.equal(await r.expire('k', 10, 'NX'), 0);
    const pttl = await r.pttl('k');
    assert.ok(pttl > 49000 && pttl <= 50000, String(pttl));
    assert.equal(await r.expireat('k', 4000000000), 1);
    assert.equal(await r.expiretime('k'), 4000000000);
    assert.equal(await r.pexpireat('k', 4000000000123), 1);
    assert.equal(await r.pexpiretime('k'), 4000000000123);
    assert.equal(await r.pexpire('k', 1500), 1);
    assert.equal(await r.persist('k'), 1);
    assert.equal(await r.persist('k'), 0);
    // ioredis's overloads refuse NX with XX, so the contradictory pair goes through call()
    await assert.rejects(r.call('EXPIRE', 'k', 10, 'NX', 'XX'), /NX and XX, GT or LT options/);
    await assert.rejects(r.call('EXPIRE', 'k', '9223372036854775807'), /invalid expire time in 'expire' command/);
    assert.equal(await r.expire('k', -1), 1);
    assert.equal(await r.exists('k'), 0);
    await r.set('s', 'v', 'PX', 30);
    await sleep(60);
    assert.equal(await r.get('s'), null);
  } finally {
    r.disconnect();
  }
});

for (const RESP of [2, 3] as const) {
  test(`node-redis RESP${RESP}: EXPIRE family, TTL family, PERSIST`, async () => {
    const client = createClient({ socket: { port: env.amber.port, host: '127.0.0.1' }, RESP, database: 2 });
    await client.connect();
    try {
      await client.flushDb();
      await client.set('k', 'v');
      assert.equal(await client.expire('k', 100), 1);
      assert.equal(await client.expire('k', 200, 'XX'), 1);
      assert.equal(await client.ttl('k'), 200);
      assert.equal(await client.pExpire('k', 300000, 'GT'), 1);
      assert.equal(await client.ttl('k'), 300);
      assert.equal(await client.expireAt('k', 4000000000), 1);
      assert.equal(await client.expireTime('k'), 4000000000);
      assert.equal(await client.pExpireAt('k', 4000000000999), 1);
      assert.equal(await client.pExpireTime('k'), 4000000000999);
      assert.equal(await client.expireTime('k'), 4000000001);
      assert.equal(await client.persist('k'), 1);
      assert.equal(await client.pTTL('k'), -1);
      assert.equal(await client.expireTime('nope'), -2);
      assert.equal(await client.pExpire('k', 0), 1);
      assert.equal(await client.exists('k'), 0);
    } finally {
      await client.quit();
    }
  });
}

/**
 * Sets `n` string keys `prefix<i>` with a TTL of `ttlMs` directly through the keyspace gate: the
 * same effect as SET ... PX, without spending seconds in a client on this shared test machine.
 */
function populate(db: number, prefix: string, n: number, ttlMs: number): void {
  const d = env.amber.server.keyspace.dbs[db]!;
  const at = Date.now() + ttlMs;
  for (let i = 0; i < n; i++) d.setKey(`${prefix}${i}`, 'value', at);
}

test('active expiry reclaims 100,000 keys with a 100 ms TTL that nobody touches', async () => {
  const c = await RawClient.connect(env.amber.port);
  try {
    await c.call('SELECT', '3');
    await c.call('FLUSHDB');
    const db = env.amber.server.keyspace.dbs[3]!;
    const N = 100000;
    // Populate with active expiry off, so that all keys exist at once; nothing touches them after.
    setActiveExpire(false);
    populate(3, 't:', N, 100);
    await c.call('SET', 'survivor', 'v');
    await c.call('SET', 'longlived', 'v', 'EX', '3600');
    assert.equal(db.size, N + 2);
    await sleep(100);
    setActiveExpire(true);
    const t0 = Date.now();
    for (;;) {
      await sleep(100);
      const size = Number((await c.call('DBSIZE')).slice(1, -2));
      if (size === 2) break;
      assert.ok(Date.now() - t0 < 5000, `active expiry too slow: ${size} keys left after ${Date.now() - t0} ms`);
    }
    // gone from memory, not just hidden
    assert.equal(db.expires.size, 1);
    let inSegments = 0;
    for (const seg of db.segments) inSegments += seg.size;
    assert.equal(inSegments, 2);
    assert.equal(await c.call('GET', 'survivor'), '$1\r\nv\r\n');
    assert.ok(Number((await c.call('TTL', 'longlived')).slice(1, -2)) > 3500);
    await c.call('FLUSHDB');
  } finally {
    setActiveExpire(true);
    c.close();
  }
});

test('the expiry cycle costs little when no key is stale', async () => {
  const c = await RawClient.connect(env.amber.port);
  try {
    await c.call('SELECT', '4');
    await c.call('FLUSHDB');
    populate(4, 'l:', 200000, 3600 * 1000);
    const stats = env.amber.server.keyspace.stats;
    const cpu0 = stats.expireCycleCpuMs;
    const t0 = Date.now();
    await sleep(1000);
    const used = stats.expireCycleCpuMs - cpu0;
    const elapsed = Date.now() - t0;
    assert.ok(used < elapsed * 0.05, `expiry cycle used ${used.toFixed(1)} ms of ${elapsed} ms`);
    await c.call('FLUSHDB');
  } finally {
    c.close();
  }
});

test('expired keys are never visible, and active expiry notifies and propagates them', async () => {
  const c = await RawClient.connect(env.amber.port);
  const ks = env.amber.server.keyspace;
  const events: string[] = [];
  const prevNotifier = ks.notifier;
  ks.notifier = (type, event, key, dbid) => {
    if (dbid === 5) events.push(`${event} ${key}`);
    prevNotifier?.(type, event, key, dbid);
  };
  const effects: string[] = [];
  const unsubscribe = env.amber.server.effects.subscribe((db, argv) => {
    if (db === 5) effects.push(argv.join(' '));
  });
  try {
    await c.call('SELECT', '5');
    await c.call('FLUSHDB');
    setActiveExpire(false);
    await c.pipeline([['SET', 'x', '1', 'PX', '10'], ['SET', 'y', '1', 'PX', '10'], ['SET', 'z', '1', 'PX', '10'], ['SET', 'keep', '1']]);
    await sleep(30);
    // Redis's DBSIZE counts keys that expired but were not reclaimed yet; so does Amber's
    assert.equal(await c.call('DBSIZE'), ':4\r\n');
    assert.equal(await c.call('KEYS', '*'), '*1\r\n$4\r\nkeep\r\n');
    for (let i = 0; i < 20; i++) assert.equal(await c.call('RANDOMKEY'), '$4\r\nkeep\r\n');
    assert.equal(await c.call('SCAN', '0', 'COUNT', '100'), '*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkeep\r\n');
    assert.equal(await c.call('EXISTS', 'x', 'y', 'z'), ':0\r\n');
    assert.equal(await c.call('DBSIZE'), ':1\r\n');
    await c.call('SET', 'w', '1', 'PX', '10');
    await sleep(30);
    effects.length = 0;
    events.length = 0;
    setActiveExpire(true);
    for (let i = 0; i < 50 && ks.dbs[5]!.size > 1; i++) await sleep(20);
    assert.equal(await c.call('DBSIZE'), ':1\r\n');
    assert.deepEqual(events, ['expired w']);
    assert.deepEqual(effects, ['DEL w']);
    await c.call('FLUSHDB');
  } finally {
    setActiveExpire(true);
    ks.notifier = prevNotifier;
    unsubscribe();
    c.close();
  }
});
