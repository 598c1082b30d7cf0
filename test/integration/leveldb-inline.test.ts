/**
 * Inline collections in the LevelDB store (layout format 2, layout.ts): a small list, set, zset
 * or hash is one metadata record holding its RDB encoding, with no subkeys. Restart round trips
 * for every type (values, encodings after the restart, TTLs); RENAME, MOVE, SWAPDB, FLUSHDB, DEL
 * and expiry of inline keys write metadata records only and leave nothing to reclaim; a collection
 * growing past the bounds moves to subkeys at once and stays there when it shrinks; imports
 * (dump.rdb at start-up, CONFIG SET leveldb yes) and BACKUP give the same records; a format-1
 * store (collections as subkeys, no key count records) still loads and is marked format 2; the
 * key count hint sizes the database before a load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { startAmber, keyspaceDump, spawnAmber, RawClient } from '../helpers/servers.js';
import { infoField, recordCost } from '../helpers/leveldb.js';
import { levelDbOf } from '../../src/persistence/leveldb/index.js';
import * as L from '../../src/persistence/leveldb/layout.js';
import { Database } from '../../src/keyspace/database.js';

type Server = Awaited<ReturnType<typeof startAmber>>;

const field = infoField;

/**
 * Waits until LevelDB has every record written so far: replies do not wait for it when the
 * engine's write-ahead log holds their turn.
 */
async function settled(s: Server): Promise<void> {
  await levelDbOf(s.server)!.engine.queue?.drain(false);
}

/** Every record of a running server's store. */
async function records(s: Server): Promise<Array<[string, string]>> {
  await settled(s);
  return levelDbOf(s.server)!.engine.store!.iterator({}).all();
}

/** The decoded metadata record of `key` in db `db`, or undefined. */
async function metaOf(s: Server, key: string, db = 0): Promise<L.Meta | undefined> {
  await settled(s);
  const e = levelDbOf(s.server)!.engine;
  const v = await e.store!.get(L.metaKey(e.nsOf[db]!, key));
  return v === undefined ? undefined : L.decodeMeta(v);
}

/** Number of subkeys of `version`. */
async function subkeys(s: Server, version: number): Promise<number> {
  await settled(s);
  const [lo, hi] = L.versionRange(version);
  return (await levelDbOf(s.server)!.engine.store!.keys({ gte: lo, lt: hi }).all()).length;
}

async function withDir(name: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `amber-ldb-${name}-`));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SMALL: string[][] = [
  ['HSET', 'h', 'f1', 'v1', 'f2', '\x00\xff binary', 'n', '12345'],
  ['ZADD', 'z', '1', 'a', '2.5', 'b', '-inf', 'c', '1e300', 'd'],
  ['SADD', 'si', '1', '-2', '300', '70000', '5000000000'],
  ['SADD', 'ss', 'a', 'b', '\x00\xff', 'x'.repeat(64)],
  ['RPUSH', 'l', 'a', '1', '', 'x'.repeat(200), '\r\n'],
  ['PEXPIRE', 'h', '1000000'],
  ['EXPIRE', 'ss', '5000'],
  ['SELECT', '1'],
  ['HSET', 'h1', 'a', 'b'],
  ['EXPIRE', 'h1', '7000'],
  ['SELECT', '0'],
];
const ENCODINGS: Array<[string, string]> = [['h', 'listpack'], ['z', 'listpack'], ['si', 'intset'], ['ss', 'hashtable'], ['l', 'quicklist']];

test('small collections of every type are one inline record each and come back with their values, encodings and TTLs', async () => {
  await withDir('inline', async (dir) => {
    const directives = { dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' };
    let s = await startAmber(directives);
    let rc = await RawClient.connect(s.port);
    for (const r of await rc.pipeline(SMALL)) assert.ok(!r.startsWith('-'), r);
    const recs = await records(s);
    assert.equal(recs.filter(([k]) => k.startsWith(L.P_SUB)).length, 0, 'no subkeys');
    for (const [key, type] of [['h', L.T_HASH], ['z', L.T_ZSET], ['si', L.T_SET], ['ss', L.T_SET], ['l', L.T_LIST]] as const) {
      const m = (await metaOf(s, key))!;
      assert.equal(m.type, type, key);
      assert.ok(m.inline, `${key} is inline`);
      assert.equal(m.version, 0);
    }
    assert.ok((await metaOf(s, 'h'))!.expireAt > Date.now());
    assert.ok((await metaOf(s, 'h1', 1))!.inline);
    const before = await keyspaceDump(s.port, 2);
    rc.close();
    await s.close();

    // a clean restart, then a kill -9 and restart of a child on the same store
    s = await startAmber(directives);
    rc = await RawClient.connect(s.port);
    assert.equal(await keyspaceDump(s.port, 2), before);
    for (const [k, enc] of ENCODINGS) assert.equal(await rc.call('OBJECT', 'ENCODING', k), `$${enc.length}\r\n${enc}\r\n`, k);
    const pttl = Number((await rc.call('PTTL', 'h')).slice(1));
    assert.ok(pttl > 900000 && pttl <= 1000000, `PTTL ${pttl}`);
    // loaded inline values are still inline: a change rewrites the record, no subkeys appear
    assert.equal(await rc.call('HSET', 'h', 'f3', 'v3'), ':1\r\n');
    assert.equal(await rc.call('LPUSH', 'l', 'head'), ':6\r\n');
    assert.ok((await metaOf(s, 'h'))!.inline);
    assert.equal((await records(s)).filter(([k]) => k.startsWith(L.P_SUB)).length, 0, 'no subkeys after changes');
    const changed = await keyspaceDump(s.port, 2);
    rc.close();
    await s.close();

    const child = await spawnAmber(dir, { leveldb: 'yes', 'leveldb-sync': 'always' });
    try {
      assert.equal(await keyspaceDump(child.port, 2), changed);
      const c = await RawClient.connect(child.port);
      await c.call('SADD', 'si', '7');
      await c.call('ZINCRBY', 'z', '1', 'a');
      c.close();
      const again = await keyspaceDump(child.port, 2);
      await child.kill();
      const child2 = await spawnAmber(dir, { leveldb: 'yes', 'leveldb-sync': 'always' });
      try {
        assert.equal(await keyspaceDump(child2.port, 2), again, 'after kill -9');
      } finally {
        await child2.kill();
      }
    } finally {
      await child.kill();
    }
  });
});

test('DEL, RENAME, MOVE, SWAPDB, FLUSHDB and expiry of inline keys write metadata records only, with nothing to reclaim', async () => {
  await withDir('inline-keys', async (dir) => {
    const directives = { dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' };
    const s = await startAmber(directives);
    const rc = await RawClient.connect(s.port);
    try {
      await rc.pipeline(SMALL);
      await rc.pipeline([['HSET', 'h2', 'a', '1'], ['SADD', 'gone', 'x'], ['RPUSH', 'l2', 'a', 'b']]);
      const cost = recordCost(rc);
      assert.ok(await cost(['DEL', 'gone']) <= 1, 'DEL');
      assert.ok(await cost(['RENAME', 'z', 'z2']) <= 2, 'RENAME');
      assert.ok(await cost(['MOVE', 'z2', '2']) <= 2, 'MOVE');
      assert.ok(await cost(['EXPIRE', 'l', '100']) <= 1, 'EXPIRE');
      assert.ok(await cost(['PERSIST', 'l']) <= 1, 'PERSIST');
      assert.ok(await cost(['SWAPDB', '0', '1']) <= 2, 'SWAPDB');
      assert.ok(await cost(['SWAPDB', '0', '1']) <= 2, 'SWAPDB back');
      // expiry by time: the lazy expiry of a read deletes one metadata record
      await rc.call('PEXPIRE', 'l2', '1');
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(await cost(['EXISTS', 'l2']) <= 1, 'lazy expiry');
      assert.equal(await metaOf(s, 'l2'), undefined);
      const info = await rc.call('INFO', 'leveldb');
      assert.equal(field(info, 'leveldb_garbage_versions'), '0', 'no version was dropped');
      assert.ok((await metaOf(s, 'z2', 2))!.inline);
      const before = await keyspaceDump(s.port, 3);
      assert.ok(await cost(['SELECT', '1'], ['FLUSHDB']) <= 4, 'FLUSHDB');
      const flushed = await keyspaceDump(s.port, 3);
      assert.notEqual(flushed, before);
      rc.close();
      await s.close();
      const s2 = await startAmber(directives);
      try {
        assert.equal(await keyspaceDump(s2.port, 3), flushed);
        assert.equal(field(await (await RawClient.connect(s2.port)).call('INFO', 'leveldb'), 'leveldb_garbage_versions'), '0');
      } finally {
        await s2.close();
      }
    } finally {
      rc.close();
    }
  });
});

test('a collection growing past the inline bounds moves to subkeys in the same batch and stays there when it shrinks', async () => {
  await withDir('inline-grow', async (dir) => {
    const directives = { dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' };
    let s = await startAmber(directives);
    let rc = await RawClient.connect(s.port);
    const many = (n: number, f: (i: number) => string[]): string[] => Array.from({ length: n }, (_, i) => f(i)).flat();
    // each key starts small (inline), then one command takes it past a bound
    const grow: Array<{ key: string; small: string[]; big: string[]; size: number; shrink: string[] }> = [
      { key: 'hn', small: ['HSET', 'hn', 'a', '1'], big: ['HSET', 'hn', ...many(600, (i) => [`f${i}`, 'v'])], size: 601, shrink: ['HDEL', 'hn', ...many(600, (i) => [`f${i}`])] },
      { key: 'hv', small: ['HSET', 'hv', 'a', '1'], big: ['HSET', 'hv', 'long', 'v'.repeat(65)], size: 2, shrink: ['HDEL', 'hv', 'long'] },
      { key: 'hb', small: ['HSET', 'hb', 'a', '1'], big: ['HSET', 'hb', ...many(300, (i) => [`field:${i}`, 'v'.repeat(40)])], size: 301, shrink: ['HDEL', 'hb', ...many(300, (i) => [`field:${i}`])] },
      { key: 'zl', small: ['ZADD', 'zl', '1', 'a'], big: ['ZADD', 'zl', '2', 'm'.repeat(65)], size: 2, shrink: ['ZREM', 'zl', 'm'.repeat(65)] },
      { key: 'zn', small: ['ZADD', 'zn', '1', 'a'], big: ['ZADD', 'zn', ...many(200, (i) => [String(i), `m${i}`])], size: 201, shrink: ['ZREMRANGEBYRANK', 'zn', '1', '-1'] },
      { key: 'si', small: ['SADD', 'si', '1'], big: ['SADD', 'si', ...many(1100, (i) => [String(i + 2)])], size: 1101, shrink: ['SREM', 'si', ...many(1100, (i) => [String(i + 2)])] },
      { key: 'ss', small: ['SADD', 'ss', 'a'], big: ['SADD', 'ss', ...many(128, (i) => [`m${i}`])], size: 129, shrink: ['SREM', 'ss', ...many(128, (i) => [`m${i}`])] },
      { key: 'sl', small: ['SADD', 'sl', 'a'], big: ['SADD', 'sl', 'x'.repeat(65)], size: 2, shrink: ['SREM', 'sl', 'x'.repeat(65)] },
      { key: 'l', small: ['RPUSH', 'l', 'a'], big: ['RPUSH', 'l', ...many(100, () => ['e'.repeat(100)])], size: 101, shrink: ['RPOP', 'l', '60'] },
    ];
    for (const g of grow) {
      await rc.call(...g.small);
      assert.ok((await metaOf(s, g.key))!.inline, `${g.key} starts inline`);
      await rc.call(...g.big);
      // leveldb-sync always: the reply came after the batch committed
      const m = (await metaOf(s, g.key))!;
      assert.ok(!m.inline, `${g.key} moved to subkeys`);
      assert.equal(m.size, g.size, g.key);
      assert.equal(await subkeys(s, m.version), g.key[0] === 'z' ? 2 * g.size : g.size, `${g.key}: its elements`);
    }
    const grown = await keyspaceDump(s.port, 1);
    rc.close();
    await s.close();
    s = await startAmber(directives);
    rc = await RawClient.connect(s.port);
    assert.equal(await keyspaceDump(s.port, 1), grown, 'grown values after a restart');
    for (const g of grow) {
      const v0 = (await metaOf(s, g.key))!.version;
      const r = await rc.call(...g.shrink);
      assert.ok(!r.startsWith('-'), `${g.shrink[0]}: ${r}`);
      const m = (await metaOf(s, g.key))!;
      assert.ok(!m.inline && m.version === v0, `${g.key} shrunk: still its subkeys`);
    }
    const shrunk = await keyspaceDump(s.port, 1);
    rc.close();
    await s.close();
    s = await startAmber(directives);
    rc = await RawClient.connect(s.port);
    try {
      assert.equal(await keyspaceDump(s.port, 1), shrunk, 'shrunk values after a restart');
      // from subkeys, a small value gets the encoding an RDB load would give it
      assert.equal(await rc.call('OBJECT', 'ENCODING', 'hv'), '$8\r\nlistpack\r\n');
      assert.equal(await rc.call('OBJECT', 'ENCODING', 'si'), '$6\r\nintset\r\n');
      // a value rewritten whole (LINSERT in the middle) while small enough goes back inline
      await rc.call('RPUSH', 'l', 'b', 'c');
      await rc.call('LINSERT', 'l', 'BEFORE', 'b', 'x');
      assert.ok((await metaOf(s, 'l'))!.inline, 'a whole rewrite of a small list is inline');
      const last = await keyspaceDump(s.port, 1);
      rc.close();
      await s.close();
      s = await startAmber(directives);
      assert.equal(await keyspaceDump(s.port, 1), last);
    } finally {
      await s.close();
    }
  });
});

test('a -0 score keeps a small zset in subkeys (a listpack would turn it into 0)', async () => {
  await withDir('inline-negzero', async (dir) => {
    const directives = { dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' };
    let s = await startAmber(directives);
    const rc = await RawClient.connect(s.port);
    const long = 'long'.repeat(20);
    await rc.pipeline([['ZADD', 'z', '1', long], ['ZADD', 'z', '-0', 'm1', '2', 'm2'], ['ZREM', 'z', long]]);
    assert.ok(!(await metaOf(s, 'z'))!.inline);
    const before = await keyspaceDump(s.port, 1);
    assert.ok(before.includes('["m1","-0"]'));
    rc.close();
    await s.close();
    s = await startAmber(directives);
    try {
      assert.equal(await keyspaceDump(s.port, 1), before);
    } finally {
      await s.close();
    }
  });
});

test('imports write small collections inline: dump.rdb at start-up, CONFIG SET leveldb yes, and BACKUP copies them', async () => {
  await withDir('inline-import', async (dir) => {
    // a dump.rdb of small collections, written by a server without the engine
    let s = await startAmber({ dir, save: '' });
    let rc = await RawClient.connect(s.port);
    await rc.pipeline(SMALL);
    await rc.call('SAVE');
    const expected = await keyspaceDump(s.port, 2);
    rc.close();
    await s.close();

    s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' });
    rc = await RawClient.connect(s.port);
    try {
      assert.equal(await keyspaceDump(s.port, 2), expected);
      assert.equal((await records(s)).filter(([k]) => k.startsWith(L.P_SUB)).length, 0, 'import: no subkeys');
      for (const [k] of ENCODINGS) assert.ok((await metaOf(s, k))!.inline, `import: ${k} inline`);
      assert.equal(await rc.call('BACKUP', 'bk'), '+Background backup started\r\n');
      for (let i = 0; i < 500; i++) {
        if (field(await rc.call('INFO', 'leveldb'), 'leveldb_backup_in_progress') === '0') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(field(await rc.call('INFO', 'leveldb'), 'leveldb_last_backup_status'), 'ok');
    } finally {
      rc.close();
      await s.close();
    }
    // the backup opens as a store: the same keyspace, the same inline records
    s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-path': 'bk', dbfilename: 'none.rdb' });
    try {
      assert.equal(await keyspaceDump(s.port, 2), expected);
      for (const [k] of ENCODINGS) assert.ok((await metaOf(s, k))!.inline, `backup: ${k} inline`);
      assert.equal(await levelDbOf(s.server)!.engine.store!.get(L.P_INFO), L.FORMAT);
    } finally {
      await s.close();
    }

    // CONFIG SET leveldb yes: the live data set goes in inline too
    s = await startAmber({ dir, save: '', 'leveldb-path': 'live' });
    rc = await RawClient.connect(s.port);
    try {
      assert.equal(await keyspaceDump(s.port, 2), expected);
      assert.equal(await rc.call('CONFIG', 'SET', 'leveldb', 'yes'), '+OK\r\n');
      for (let i = 0; i < 500 && levelDbOf(s.server)!.engine.state !== 'on'; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(levelDbOf(s.server)!.engine.state, 'on');
      assert.equal((await records(s)).filter(([k]) => k.startsWith(L.P_SUB)).length, 0, 'live import: no subkeys');
      for (const [k] of ENCODINGS) assert.ok((await metaOf(s, k))!.inline, `live import: ${k} inline`);
    } finally {
      rc.close();
      await s.close();
    }
    s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-path': 'live', dbfilename: 'none.rdb' });
    try {
      assert.equal(await keyspaceDump(s.port, 2), expected);
    } finally {
      await s.close();
    }
  });
});

test('a format-1 store (collections as subkeys, no key counts) loads, is marked format 2 and stays writable', async () => {
  await withDir('format1', async (dir) => {
    const path = join(dir, 'leveldb');
    const db = new ClassicLevel<string, string>(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    const exp = Date.now() + 3600_000;
    const ops: Array<{ type: 'put'; key: string; value: string }> = [];
    const put = (key: string, value: string): void => {
      ops.push({ type: 'put', key, value });
    };
    put(L.P_COUNTERS, L.countersValue(20, 3));
    put(L.dbKey(0), L.varint(1));
    put(L.dbKey(1), L.varint(2));
    put(L.metaKey(1, 's'), L.stringMeta('hello', -1));
    put(L.metaKey(1, 't'), L.stringMeta('\x00\xff', exp));
    put(L.metaKey(1, 'h'), L.collectionMeta(L.T_HASH, -1, 5, 2, 0));
    put(L.subKey(5, L.K_HASH, 'f1'), 'v1');
    put(L.subKey(5, L.K_HASH, 'f2'), '\x80\xff');
    put(L.metaKey(1, 'S'), L.collectionMeta(L.T_SET, exp, 6, 3, 0));
    for (const m of ['a', 'b', '12']) put(L.subKey(6, L.K_SET, m), '');
    put(L.metaKey(1, 'z'), L.collectionMeta(L.T_ZSET, -1, 7, 2, 0));
    for (const [m, sc] of [['x', 1.5], ['y', -2]] as const) {
      put(L.subKey(7, L.K_ZMEMBER, m), L.scoreValue(sc));
      put(L.zindexKey(7, sc, m), '');
    }
    put(L.metaKey(1, 'l'), L.collectionMeta(L.T_LIST, -1, 8, 3, L.LIST_START - 1));
    ['p', 'q', 'r'].forEach((v, i) => put(L.listKey(8, L.LIST_START - 1 + i), v));
    put(L.metaKey(2, 'other'), L.stringMeta('db1', -1));
    put(L.P_INFO, L.FORMAT_1);
    await db.batch(ops);
    await db.close();

    const directives = { dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' };
    let s = await startAmber(directives);
    let rc = await RawClient.connect(s.port);
    try {
      const dump = await keyspaceDump(s.port, 2);
      // keyspace-dump writes JSON as UTF-8; keyspaceDump hands back those bytes as latin1
      const lines = Buffer.from(dump, 'latin1').toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { db: number; key: string; value: unknown; pexpiretime: number });
      const by = new Map(lines.map((l) => [`${l.db}:${l.key}`, l]));
      assert.equal(by.get('0:s')!.value, 'hello');
      assert.equal(by.get('0:t')!.value, '\x00\xff');
      assert.equal(by.get('0:t')!.pexpiretime, Math.round(exp));
      assert.deepEqual(by.get('0:h')!.value, [['f1', 'v1'], ['f2', '\x80\xff']]);
      assert.deepEqual(by.get('0:S')!.value, ['12', 'a', 'b']);
      assert.deepEqual(by.get('0:z')!.value, [['y', '-2'], ['x', '1.5']]);
      assert.deepEqual(by.get('0:l')!.value, ['p', 'q', 'r']);
      assert.equal(by.get('1:other')!.value, 'db1');
      assert.equal(lines.length, 7);
      // marked format 2, with key count hints; the old records are untouched
      const store = levelDbOf(s.server)!.engine.store!;
      for (let i = 0; i < 100 && (await store.get(L.P_INFO)) !== L.FORMAT; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await store.get(L.P_INFO), L.FORMAT);
      assert.equal(await store.get(L.countKey(1)), L.varint(6));
      assert.equal(await store.get(L.countKey(2)), L.varint(1));
      assert.equal(await subkeys(s, 5), 2);
      // writes to subkey collections stay incremental; a new small one is inline
      await rc.pipeline([['HSET', 'h', 'f3', 'v3'], ['RPUSH', 'l', 's'], ['ZADD', 'z', '3', 'w'], ['SADD', 'new', 'm']]);
      assert.equal((await metaOf(s, 'h'))!.version, 5);
      assert.equal(await subkeys(s, 5), 3);
      assert.ok((await metaOf(s, 'new'))!.inline);
      const after = await keyspaceDump(s.port, 2);
      rc.close();
      await s.close();
      s = await startAmber(directives);
      rc = await RawClient.connect(s.port);
      assert.equal(await keyspaceDump(s.port, 2), after);
    } finally {
      rc.close();
      await s.close();
    }
  });
});

test('the key count hint: exact after a clean shutdown, rarely rewritten, and a load reserves the database from it', async () => {
  await withDir('count', async (dir) => {
    const directives = { dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' };
    let s = await startAmber(directives);
    let rc = await RawClient.connect(s.port);
    const N = 5000;
    const cmds: string[][] = [];
    for (let i = 0; i < N; i++) cmds.push(['SET', `key:${i}`, 'v']);
    await rc.pipeline(cmds);
    const e = levelDbOf(s.server)!.engine;
    const ns = e.nsOf[0]!;
    // a few more keys than the slack: the hint was rewritten while they were written
    await settled(s);
    const hint = await e.store!.get(L.countKey(ns));
    assert.ok(hint !== undefined && L.readVarint(hint, 0) > 1024 && L.readVarint(hint, 0) <= N, 'a hint while writing');
    // one more key does not cost a record for the hint
    assert.equal(await recordCost(rc)(['SET', 'one-more', 'v']), 1);
    rc.close();
    await s.close();

    // the next load reserves the table for the hint (about N keys) before filling it
    const reserved: number[] = [];
    const orig = Database.prototype.reserve;
    Database.prototype.reserve = function (this: Database, keys: number) {
      if (this.id === 0) reserved.push(keys);
      return orig.call(this, keys);
    };
    try {
      s = await startAmber(directives);
    } finally {
      Database.prototype.reserve = orig;
    }
    try {
      assert.deepEqual(reserved, [N + 1]);
      const db0 = s.server.keyspace.dbs[0]!;
      assert.equal(db0.size, N + 1);
      assert.ok(db0.segments.length >= Math.ceil((N + 1) / 32), `${db0.segments.length} segments`);
      rc = await RawClient.connect(s.port);
      assert.equal(await rc.call('GET', 'key:4999'), '$1\r\nv\r\n');
      rc.close();
    } finally {
      await s.close();
    }
  });
});
