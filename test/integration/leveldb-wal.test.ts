/**
 * The LevelDB engine's write-ahead log (wal.ts) through the server: turns acknowledged and in the
 * log but never in the store (the process died first) are written to the store at start-up and
 * loaded, with a log line, and the log files are gone afterwards; a pipeline of writes killed
 * with SIGKILL as soon as its last reply arrived loses none of them; a clean shutdown leaves no
 * log files; INFO reports the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { spawnAmber, tempDirs, RawClient } from '../helpers/servers.js';
import { Wal } from '../../src/persistence/leveldb/wal.js';
import { Records } from '../../src/persistence/leveldb/queue.js';
import * as L from '../../src/persistence/leveldb/layout.js';

const tmp = tempDirs('amber-ldb-wal-');

const walFiles = (store: string): string[] => readdirSync(store).filter((n) => n.startsWith('amber-wal-'));

test('turns in the write-ahead log that the store never got are written at start-up and loaded', async () => {
  const dir = tmp();
  const store = join(dir, 'leveldb');
  let s = await spawnAmber(dir, { leveldb: 'yes' });
  let c = await RawClient.connect(s.port);
  await c.call('SET', 'kept', '1');
  await c.call('SET', 'deleted-later', '2');
  const info = await c.call('INFO', 'leveldb');
  assert.match(info, /\r\nleveldb_wal_status:ok\r\n/);
  assert.match(info, /\r\nleveldb_wal_bytes:\d+\r\n/);
  c.close();
  assert.equal(await s.stop(), 0);
  assert.deepEqual(walFiles(store), [], 'a clean shutdown leaves every entry in the store and no log');

  // what a killed process leaves: entries after the store's W record, in the log only
  const db = new ClassicLevel<string, string>(store, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  const ns = L.readVarint((await db.get(L.dbKey(0)))!, 0);
  const applied = Number(await db.get('W'));
  await db.close();
  assert.ok(applied > 0, 'every batch names the last log entry it holds');
  const wal = new Wal(store, applied + 1);
  const turn1 = new Records();
  turn1.put(L.metaKey(ns, 'from-the-log'), L.stringMeta('\x00binary\xff', -1));
  wal.append(turn1, 0);
  const turn2 = new Records();
  turn2.del(L.metaKey(ns, 'deleted-later'));
  turn2.put(L.metaKey(ns, 'from-the-log'), L.stringMeta('second turn', -1));
  wal.append(turn2, 0);
  wal.close(false);

  s = await spawnAmber(dir, { leveldb: 'yes' });
  try {
    c = await RawClient.connect(s.port);
    assert.equal(await c.call('GET', 'from-the-log'), '$11\r\nsecond turn\r\n');
    assert.equal(await c.call('EXISTS', 'deleted-later'), ':0\r\n');
    assert.equal(await c.call('GET', 'kept'), '$1\r\n1\r\n');
    c.close();
    assert.match(s.log(), /wrote 3 records of 2 turns from its write-ahead log that the store did not have yet/);
    assert.deepEqual(walFiles(store), []);
  } finally {
    await s.kill();
  }
});

test('kill -9 right after the last reply of a pipeline loses no acknowledged write (everysec and no)', async () => {
  for (const sync of ['everysec', 'no']) {
    const dir = tmp();
    let s = await spawnAmber(dir, { leveldb: 'yes', 'leveldb-sync': sync });
    const c = await RawClient.connect(s.port);
    const n = 20_000;
    // large pipelines: LevelDB is still writing batches when the replies are all in
    for (let i = 0; i < n; i += 5000) {
      await c.pipeline(Array.from({ length: 5000 }, (_, j) => ['SET', `k:${i + j}`, `v${i + j}${'x'.repeat(50)}`]));
    }
    await c.pipeline(Array.from({ length: 2000 }, (_, j) => ['HSET', 'h', `f${j}`, `${j}`]));
    c.close();
    await s.kill();
    s = await spawnAmber(dir, { leveldb: 'yes', 'leveldb-sync': sync });
    try {
      const d = await RawClient.connect(s.port);
      assert.equal(await d.call('DBSIZE'), `:${n + 1}\r\n`, sync);
      assert.equal(await d.call('GET', `k:${n - 1}`), `$${String(n - 1).length + 51}\r\nv${n - 1}${'x'.repeat(50)}\r\n`);
      assert.equal(await d.call('HLEN', 'h'), ':2000\r\n');
      d.close();
    } finally {
      await s.kill();
    }
  }
});
