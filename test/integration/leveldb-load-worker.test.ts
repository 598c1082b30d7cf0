/**
 * A big LevelDB store's metadata is read on a load worker (load-worker.ts) at start-up while the
 * main thread builds the keyspace (LevelDbEngine.readInWorker): the restart gives exactly the
 * keyspace the store was written from — strings (binary, empty, with TTLs, one bigger than a
 * chunk), inline collections,
 * collections in subkeys (read after the main thread has reopened the store) in two databases —
 * and a corrupt metadata record met on the worker path stops the start-up with the key named,
 * leaving the store openable. A store big in bytes but with few keys has a worker started ahead
 * of its load (LevelDbEngine.prestartLoadWorker) that the load does not use: it is ended, and the
 * server starts and stops as usual. The worker runs in the compiled server only (spawnAmber uses dist/
 * when built); under tsx the same store is read on the main thread, which these cases check too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { spawnAmber, RawClient } from '../helpers/servers.js';
import { RdbFileEncoder, DEFAULT_SAVE_OPTIONS } from '../../src/persistence/rdb/encoder.js';
import { ListObject } from '../../src/keyspace/types/list.js';
import { buildHash, buildSet, buildZSet, DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import type { Value } from '../../src/keyspace/types/object.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** over the engine's LOAD_WORKER_MIN_KEYS (200,000) */
const STRINGS = 205_000;
const built = process.env.AMBER_TEST_TSX !== '1' && existsSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'persistence', 'leveldb', 'load-worker.js'));
const future = Date.now() + 3_600_000;

/** The keys of db `db`: [key, value, expire-at ms or -1]. */
function keysOf(db: number): Array<[string, () => Value, number]> {
  const out: Array<[string, () => Value, number]> = [];
  const n = db === 0 ? STRINGS - 5_000 : 5_000;
  for (let i = 0; i < n; i++) {
    // binary bytes (UTF-8 would change them), the empty string, integers, plain text
    const v = i % 97 === 0 ? '' : i % 13 === 0 ? String(i * 7) : i % 5 === 0 ? `\xff\x00\x80${i}\xe9` : `value-${i}-${'x'.repeat(i % 40)}`;
    out.push([`k:${db}:${i}${i % 11 === 0 ? '\xc3\xa9\x81' : ''}`, () => v, i % 17 === 0 ? future + i : -1]);
  }
  // a record bigger than the worker's 1 MB chunk
  if (db === 0) out.push(['huge', () => 'h'.repeat(3 << 20) + '\xfe', -1]);
  for (let i = 0; i < 200; i++) {
    const big = i % 10 === 0; // past the inline limit: stored as subkeys
    const m = big ? 1_500 : 20;
    const els = Array.from({ length: m }, (_, j) => `e${j}-${i}${j % 7 === 0 ? '\x90' : ''}`);
    out.push([`h:${db}:${i}`, () => buildHash(els.flatMap((e, j) => [e, `v${j}`]), m > 128 ? 'hashtable' : 'listpack', DEFAULT_LIMITS)!, -1]);
    out.push([`s:${db}:${i}`, () => buildSet(els, DEFAULT_LIMITS)!, i % 3 === 0 ? future : -1]);
    out.push([`z:${db}:${i}`, () => buildZSet(els, els.map((_, j) => j * 1.5 - 40), m > 128 ? 'skiplist' : 'listpack', DEFAULT_LIMITS)!, -1]);
    out.push([`l:${db}:${i}`, () => ListObject.from(els), -1]);
  }
  return out;
}

function rdbFile(): Buffer {
  const chunks: Buffer[] = [];
  const enc = new RdbFileEncoder((c) => chunks.push(Buffer.from(c)), DEFAULT_SAVE_OPTIONS);
  enc.begin();
  for (const db of [0, 3]) {
    const keys = keysOf(db);
    enc.selectDb(db, keys.length, keys.filter((k) => k[2] !== -1).length);
    for (const [k, v, exp] of keys) enc.key(k, v(), exp);
  }
  enc.end();
  return Buffer.concat(chunks);
}

/** Raw replies: DEBUG DIGEST (values and expire times), the sizes of db 0 and db 3, a TTL set. */
async function state(port: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const out = [await c.call('DEBUG', 'DIGEST')];
    for (const db of ['0', '3']) {
      await c.call('SELECT', db);
      out.push(await c.call('DBSIZE'));
    }
    await c.call('SELECT', '0');
    const pttl = Number((await c.call('PTTL', 'k:0:17')).slice(1, -2));
    out.push(`ttl set: ${pttl > 3_000_000}`);
    return out;
  } finally {
    c.close();
  }
}

test('a restart reads a big store on the load worker and gets the keyspace it was written from', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldbw-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'dump.rdb'), rdbFile());
  // first start: the store is created from dump.rdb (import), which is then no longer read
  const a = await spawnAmber(dir, { leveldb: 'yes' });
  const before = await state(a.port);
  assert.equal(await a.stop(), 0);
  rmSync(join(dir, 'dump.rdb'), { force: true });
  assert.equal(before[1], `:${STRINGS - 5_000 + 801}\r\n`);
  assert.equal(before[2], `:${5_000 + 800}\r\n`);
  assert.equal(before[3], 'ttl set: true');
  const b = await spawnAmber(dir, { leveldb: 'yes' });
  try {
    assert.deepEqual(await state(b.port), before);
    const loaded = /DB loaded from the LevelDB store: (\d+) keys.*/.exec(b.log());
    assert.ok(loaded, b.log());
    assert.equal(loaded[1], String(STRINGS + 1_601));
    if (built) assert.match(loaded[0], /metadata read on a worker thread/);
    // the store is open and written through after the worker's reads
    const c = await RawClient.connect(b.port);
    assert.equal(await c.call('SET', 'after', 'restart'), '+OK\r\n');
    c.close();
  } finally {
    assert.equal(await b.stop(), 0);
  }
  const c2 = await spawnAmber(dir, { leveldb: 'yes' });
  try {
    const c = await RawClient.connect(c2.port);
    assert.equal(await c.call('GET', 'after'), '$7\r\nrestart\r\n');
    c.close();
  } finally {
    await c2.stop();
  }

  // a corrupt metadata record (an unknown type) among the strings read by the worker
  const store = new ClassicLevel<string, string>(join(dir, 'leveldb'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await store.open();
  let corrupted = '';
  for await (const [k, v] of store.iterator({ gte: 'M', lt: 'N' })) {
    if (v.charCodeAt(0) === 0 && k.endsWith('k:0:1234')) {
      await store.put(k, '\x63' + v.slice(1));
      corrupted = k;
      break;
    }
  }
  await store.close();
  assert.ok(corrupted !== '', 'no metadata record of k:0:1234 found');
  let startedLog = '';
  const err = await spawnAmber(dir, { leveldb: 'yes' }).then(
    async (s) => {
      startedLog = s.log();
      await s.kill();
      return null;
    },
    (e: Error) => e,
  );
  assert.ok(err !== null, `the server started on a corrupt store: ${startedLog}`);
  assert.match(err.message, /corrupt metadata record of key 'k:0:1234' in DB 0/);
  // the store was let go of and closed cleanly: it opens again
  const again = new ClassicLevel<string, string>(join(dir, 'leveldb'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await again.open();
  assert.equal((await again.get(corrupted))?.charCodeAt(0), 0x63);
  await again.close();
});

test('a store big in bytes with few keys: the worker started ahead is not used, and ended', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldbw-'));
  dirs.push(dir);
  const a = await spawnAmber(dir, { leveldb: 'yes' });
  const c = await RawClient.connect(a.port);
  // incompressible values: the store's files are over LOAD_WORKER_PRESTART_BYTES (4 MB)
  const values = Array.from({ length: 6 }, () => randomBytes(1 << 20).toString('latin1'));
  for (let i = 0; i < values.length; i++) assert.equal(await c.call('SET', `big:${i}`, values[i]!), '+OK\r\n');
  c.close();
  assert.equal(await a.stop(), 0);
  const store = join(dir, 'leveldb');
  const bytes = readdirSync(store).reduce((n, f) => n + statSync(join(store, f)).size, 0);
  assert.ok(bytes >= 4 << 20, `the store holds ${bytes} bytes`);
  const b = await spawnAmber(dir, { leveldb: 'yes' });
  try {
    const loaded = /DB loaded from the LevelDB store: (\d+) keys.*/.exec(b.log());
    assert.ok(loaded, b.log());
    assert.equal(loaded[1], '6');
    assert.doesNotMatch(loaded[0], /worker thread/);
    const r = await RawClient.connect(b.port);
    for (let i = 0; i < values.length; i++) assert.equal(await r.call('STRLEN', `big:${i}`), `:${1 << 20}\r\n`);
    assert.equal(await r.call('GET', 'big:3'), `$${1 << 20}\r\n${values[3]}\r\n`);
    r.close();
  } finally {
    assert.equal(await b.stop(), 0);
  }
});
