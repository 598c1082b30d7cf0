/**
 * Import into an empty LevelDB store: every RDB and AOF fixture written by Redis 7.0.15 is
 * imported once at start-up (`leveldb yes`, empty store, dump.rdb / appendonlydir / legacy
 * appendonly.aof in `dir`), the source files are removed, and a restart from the store alone
 * gives the keyspace of the fixture's .expected.jsonl. Also: appendonly yes with leveldb yes is
 * refused, at start-up and by CONFIG SET, and the RDB/AOF start-up loaders stand aside. Redis's
 * test assets (older encodings, empty keys, an RDB-preamble AOF) are imported too; a corrupt file
 * is refused and an import cut short (no `I` record) is started again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, cpSync, readFileSync, existsSync, readdirSync, chmodSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { startAmber, keyspaceDump, fixturesDir, RawClient } from '../helpers/servers.js';

const fixtures = fixturesDir();
const skip = fixtures === null ? 'the fixtures folder ../shared/fixtures is missing' : false;
const F = fixtures ? join(fixtures, 'redis-7.0.15') : '';

/** Copies a fixture (file or folder) to `dest`, writable (fixtures are read-only). */
function place(src: string, dest: string): void {
  cpSync(src, dest, { recursive: true });
  const fix = (p: string): void => {
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    if (statSync(p).isDirectory()) for (const f of readdirSync(p)) fix(join(p, f));
  };
  fix(dest);
}

const T = fixtures ? join(fixtures, 'redis-test-assets') : '';

const cases: Array<{ name: string; src: string; dest: string; expected: string }> = [
  { name: 'dump.rdb', src: join(F, 'dump.rdb'), dest: 'dump.rdb', expected: join(F, 'dump.expected.jsonl') },
  { name: 'multi-part AOF with RDB preamble', src: join(F, 'appendonlydir-preamble'), dest: 'appendonlydir', expected: join(F, 'aof-preamble.expected.jsonl') },
  { name: 'multi-part AOF with RESP base', src: join(F, 'appendonlydir-resp'), dest: 'appendonlydir', expected: join(F, 'aof-resp.expected.jsonl') },
  { name: 'legacy single-file AOF', src: join(F, 'legacy-appendonly.aof'), dest: 'appendonly.aof', expected: join(F, 'legacy-appendonly.expected.jsonl') },
  // Redis's own test assets: older encodings (zipmap, ziplist, RDB v4), empty keys, an RDB-preamble single-file AOF
  ...(fixtures === null ? [] : readdirSync(T)
    .filter((f) => (f.endsWith('.rdb') && f !== 'corrupt_ziplist.rdb') || f.endsWith('.aof'))
    .map((f) => ({
      name: `redis-test-assets/${f}`,
      src: join(T, f),
      dest: f.endsWith('.aof') ? 'appendonly.aof' : 'dump.rdb',
      expected: join(T, f.replace(/\.(rdb|aof)$/, '.expected.jsonl')),
    }))),
];

for (const c of cases) {
  test(`import of ${c.name} into an empty store, then restart from LevelDB alone`, { skip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-import-'));
    try {
      place(c.src, join(dir, c.dest));
      const directives = { dir, save: '', leveldb: 'yes' };
      let s = await startAmber(directives);
      const expected = readFileSync(c.expected, 'latin1');
      assert.equal(await keyspaceDump(s.port), expected, 'right after the import');
      await s.close();
      // the store alone: the imported files go away
      rmSync(join(dir, c.dest), { recursive: true, force: true });
      s = await startAmber(directives);
      try {
        assert.equal(await keyspaceDump(s.port), expected, 'after a restart from the store');
        // a second start does not import again (the store is not empty): the data stays
        const rc = await RawClient.connect(s.port);
        const info = await rc.call('INFO', 'leveldb');
        rc.close();
        assert.match(info, /leveldb_enabled:1/);
        assert.match(info, /leveldb_last_load_keys:\d+/);
      } finally {
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a corrupt dump.rdb is refused and leaves no completion record; an unfinished store is imported again', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-import-'));
  try {
    place(join(T, 'corrupt_ziplist.rdb'), join(dir, 'dump.rdb'));
    await assert.rejects(startAmber({ dir, save: '', leveldb: 'yes' }), /Hash ziplist integrity check failed/);
    // the import marker and a record: an import cut short (kill -9 during the first start)
    const store = new ClassicLevel<string, string>(join(dir, 'leveldb'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await store.open();
    assert.equal(await store.get('I'), 'amber-leveldb importing', 'no completion record after a failed import, only the marker');
    await store.put('M\x01\x00\x00\x00\x00half-imported', '\x00\x00junk');
    await store.close();
    rmSync(join(dir, 'dump.rdb'));
    place(join(T, 'hash-zipmap.rdb'), join(dir, 'dump.rdb'));
    const s = await startAmber({ dir, save: '', leveldb: 'yes' });
    try {
      assert.equal(await keyspaceDump(s.port), readFileSync(join(T, 'hash-zipmap.expected.jsonl'), 'latin1'));
    } finally {
      await s.close();
    }
    rmSync(join(dir, 'dump.rdb'));
    const s2 = await startAmber({ dir, save: '', leveldb: 'yes' });
    try {
      assert.equal(await keyspaceDump(s2.port), readFileSync(join(T, 'hash-zipmap.expected.jsonl'), 'latin1'), 'complete now: loaded, not imported');
    } finally {
      await s2.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a store that is not Amber's, or whose CURRENT file is gone, is refused and left as it was", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-import-'));
  try {
    // another program's store (a RedisLV user's, say): records, no 'I' record
    const path = join(dir, 'leveldb');
    const other = new ClassicLevel<string, string>(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await other.open();
    for (let i = 0; i < 100; i++) await other.put(`user:${i}`, `v${i}`);
    await other.close();
    await assert.rejects(startAmber({ dir, save: '', leveldb: 'yes' }), /is not an Amber store/);
    const again = new ClassicLevel<string, string>(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await again.open();
    assert.equal(await again.get('user:99'), 'v99', 'the foreign store is untouched');
    await again.close();
    // an Amber store whose CURRENT file was lost: LevelDB would start an empty store over it
    const s = await startAmber({ dir: join(dir, 'amber'), save: '', leveldb: 'yes' });
    const c = await RawClient.connect(s.port);
    await c.pipeline(Array.from({ length: 500 }, (_, i) => ['SET', `k${i}`, 'v']));
    c.close();
    await s.close();
    const store = join(dir, 'amber', 'leveldb');
    rmSync(join(store, 'CURRENT'));
    const files = readdirSync(store).sort();
    await assert.rejects(startAmber({ dir: join(dir, 'amber'), save: '', leveldb: 'yes' }), /but no CURRENT file/);
    assert.deepEqual(readdirSync(store).sort(), files, 'nothing created or deleted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with leveldb yes the RDB loader does not load dump.rdb into a store that has data', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-import-'));
  try {
    let s = await startAmber({ dir, save: '', leveldb: 'yes' });
    let rc = await RawClient.connect(s.port);
    assert.equal(await rc.call('SET', 'only', 'leveldb'), '+OK\r\n');
    rc.close();
    await s.close();
    place(join(F, 'dump.rdb'), join(dir, 'dump.rdb'));
    s = await startAmber({ dir, save: '', leveldb: 'yes' });
    rc = await RawClient.connect(s.port);
    assert.equal(await rc.call('DBSIZE'), ':1\r\n');
    assert.equal(await rc.call('GET', 'only'), '$7\r\nleveldb\r\n');
    rc.close();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('appendonly yes with leveldb yes is refused at start-up and by CONFIG SET', async () => {
  await assert.rejects(startAmber({ leveldb: 'yes', appendonly: 'yes' }), /appendonly yes and leveldb yes cannot be used together/);
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-conf-'));
  const s = await startAmber({ dir, save: '', leveldb: 'yes' });
  try {
    const rc = await RawClient.connect(s.port);
    const r = await rc.call('CONFIG', 'SET', 'appendonly', 'yes');
    assert.match(r, /^-ERR CONFIG SET failed \(possibly related to argument 'appendonly'\) - appendonly yes and leveldb yes cannot be used together/);
    assert.equal(await rc.call('CONFIG', 'GET', 'appendonly'), '*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n');
    assert.ok(!existsSync(join(dir, 'appendonlydir')), 'no AOF was started');
    rc.close();
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const s2 = await startAmber({ appendonly: 'yes' });
  try {
    const rc = await RawClient.connect(s2.port);
    const r = await rc.call('CONFIG', 'SET', 'leveldb', 'yes');
    assert.match(r, /^-ERR CONFIG SET failed \(possibly related to argument 'leveldb'\) - appendonly yes and leveldb yes cannot be used together/);
    rc.close();
  } finally {
    await s2.close();
  }
});
