/**
 * The LevelDB engine's write-ahead log (src/persistence/leveldb/wal.ts): under everysec and no a
 * turn's records are appended to it and the replies need not wait for LevelDB; every batch names
 * the last entry it holds (`W`), the log's files are deleted once LevelDB holds them, and a
 * start-up writes to the store exactly the entries it never got — in order, binary records intact,
 * a torn last entry dropped, a damaged entry with others after it refused with file and offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { tempDirs } from '../helpers/servers.js';
import { Wal, recoverWal, WAL_APPLIED_KEY } from '../../src/persistence/leveldb/wal.js';
import { Records, WriteQueue, type BatchTarget, type ChainedBatchTarget } from '../../src/persistence/leveldb/queue.js';
import { checkLevelDb } from '../../src/bin/amber-check-leveldb.js';

const tmp = tempDirs('amber-wal-');

/** Records of one turn: puts of [k, v], deletes of [k, null]. */
function recs(...ops: Array<[string, string | null]>): Records {
  const r = new Records();
  for (const [k, v] of ops) {
    if (v === null) r.del(k);
    else r.put(k, v);
  }
  return r;
}

function walNames(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('amber-wal-')).sort();
}

/** The log files of `dir` once they are `want` (files are deleted on the thread pool), or what they are after a second. */
async function walNamesSettled(dir: string, want: string[]): Promise<string[]> {
  for (let i = 0; i < 100 && JSON.stringify(walNames(dir)) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 10));
  return walNames(dir);
}

async function openStore(dir: string): Promise<ClassicLevel<string, string>> {
  const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  return db;
}

async function contents(db: ClassicLevel<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const [k, v] of db.iterator()) out[k] = v;
  return out;
}

test('recovery writes the entries after the store\'s W record, in order, and deletes the files', async () => {
  const dir = tmp();
  const db = await openStore(dir);
  // the store holds entries 1 and 2 (W = 2) and a later write of x that entry 1 must not undo
  await db.batch([{ type: 'put', key: 'x', value: 'in the store' }, { type: 'put', key: 'gone', value: '1' }, { type: 'put', key: WAL_APPLIED_KEY, value: '2' }]);
  const wal = new Wal(dir, 1);
  const bin = '\x00\xff\x80bin\xe9';
  assert.equal(wal.append(recs(['x', 'from entry 1']), 0), 1);
  assert.equal(wal.append(recs(['y', 'from entry 2']), 0), 2);
  // entry 3 starts at record 1 of its Records: record 0 was in an earlier entry
  assert.equal(wal.append(recs(['skipped', 'no'], ['z', bin], ['gone', null]), 1), 3);
  assert.equal(wal.append(recs([bin, 'binary key'], ['z', 'last write wins']), 0), 4);
  wal.close(false);
  assert.deepEqual(walNames(dir), ['amber-wal-000001.log']);

  const r = await recoverWal(db, dir);
  assert.equal(r.entries, 2);
  assert.equal(r.records, 4);
  assert.equal(r.nextSeq, 5);
  assert.equal(r.torn, null);
  assert.deepEqual(await contents(db), { x: 'in the store', [bin]: 'binary key', z: 'last write wins', [WAL_APPLIED_KEY]: '4' });
  assert.deepEqual(walNames(dir), [], 'the files are deleted once their entries are in the store');
  // nothing to do the second time
  const again = await recoverWal(db, dir);
  assert.equal(again.entries, 0);
  assert.equal(again.nextSeq, 5);
  await db.close();
});

test('a torn last entry is dropped; a damaged entry with another after it is refused with the file and offset', async () => {
  const dir = tmp();
  const write = (): string => {
    const wal = new Wal(dir, 1);
    wal.append(recs(['a', '1']), 0);
    wal.append(recs(['b', '2']), 0);
    wal.append(recs(['c', '3']), 0);
    wal.close(false);
    return join(dir, walNames(dir)[0]!);
  };
  let db = await openStore(dir);
  let file = write();
  const size = readFileSync(file).length;
  const entry = size / 3; // three entries of the same size
  // every cut inside the last entry: the first two are written, the cut bytes reported
  for (const cut of [1, 5, 8, entry - 1]) {
    truncateSync(file, size - cut);
    const r = await recoverWal(db, dir);
    assert.equal(r.entries, 2, `cut ${cut}`);
    assert.deepEqual(r.torn, { file, offset: 2 * entry, bytes: entry - cut });
    assert.deepEqual(await contents(db), { a: '1', b: '2', [WAL_APPLIED_KEY]: '2' });
    await db.close();
    db = await openStore(join(dir, `fresh-${cut}`));
    mkdirSync(dir, { recursive: true });
    file = write();
  }
  // a flipped byte in entry 2 of 3: entry 3 follows, so this is no crash's tail
  const b = readFileSync(file);
  b[entry + 12] ^= 1;
  writeFileSync(file, b);
  await assert.rejects(recoverWal(db, dir), new RegExp(`corrupt file ${file} at offset ${entry}: entry checksum mismatch, with more bytes after it`));
  assert.ok(existsSync(file), 'a refused log is kept');
  await db.close();
});

/** A store for the queue that completes batches when told to. */
class FakeStore implements BatchTarget {
  batches: Array<Array<[string, string | null]>> = [];
  /** the sync option of each batch */
  syncs: boolean[] = [];
  private pending: Array<() => void> = [];
  batch(): ChainedBatchTarget {
    const ops: Array<[string, string | null]> = [];
    return {
      _put: (k, v) => ops.push([k, v]),
      _del: (k) => ops.push([k, null]),
      _write: (options) => new Promise<void>((resolve) => {
        this.batches.push(ops);
        this.syncs.push(options.sync);
        this.pending.push(resolve);
      }),
      close: async () => undefined,
    };
  }

  async complete(): Promise<void> {
    this.pending.shift()!();
    await new Promise((r) => setImmediate(r));
  }
}

/** A write queue on `store` under `policy` whose events do nothing. */
function queueOn(store: FakeStore, policy: 'always' | 'everysec' | 'no'): WriteQueue {
  return new WriteQueue(store, policy, { error: () => undefined, recovered: () => undefined, syncOp: () => ['C', ''] });
}

test('the queue logs each turn (replies need not wait for LevelDB; under always once the log is synced), names the entry in its batch, and the files go once LevelDB holds them', async () => {
  const dir = tmp();
  const store = new FakeStore();
  const q = queueOn(store, 'everysec');
  // tiny files: every entry starts a new one
  q.wal = new Wal(dir, 7, 1);
  q.open.put('a', '1');
  assert.equal(q.logTurn(), true);
  // a batch is in flight: the next turns gather
  q.open.put('b', '2');
  q.open.del('a');
  assert.equal(q.logTurn(), true);
  q.open.put('c', '3');
  assert.equal(q.logTurn(), true);
  assert.equal(q.logTurn(), true, 'a turn with nothing new needs no entry');
  assert.deepEqual(walNames(dir), ['amber-wal-000001.log', 'amber-wal-000002.log', 'amber-wal-000003.log']);
  assert.deepEqual(store.batches, [[['a', '1'], [WAL_APPLIED_KEY, '7']]]);
  await store.complete();
  assert.deepEqual(await walNamesSettled(dir, ['amber-wal-000002.log', 'amber-wal-000003.log']), ['amber-wal-000002.log', 'amber-wal-000003.log'], 'entry 7 is in LevelDB');
  assert.deepEqual(store.batches[1], [['b', '2'], ['a', null], ['c', '3'], [WAL_APPLIED_KEY, '9']]);
  await store.complete();
  assert.deepEqual(await walNamesSettled(dir, []), [], 'every entry is in LevelDB');
  // under always the turn is acknowledged once the log is fdatasync'ed; its batch is not synced
  // (the last sync is under a second old), so its file stays until a synced batch holds it
  q.policy = 'always';
  q.open.put('d', '4');
  assert.equal(q.logTurn(), true);
  assert.equal(q.wal.syncedSeq, 10);
  assert.deepEqual(store.batches[2], [['d', '4'], [WAL_APPLIED_KEY, '10']]);
  assert.equal(store.syncs[2], false);
  await store.complete();
  assert.deepEqual(await walNamesSettled(dir, ['amber-wal-000004.log']), ['amber-wal-000004.log']);
  // a synced batch (the once-a-second sync, or a drain) lets it go
  const drained = q.drain(true);
  await store.complete();
  await drained;
  assert.equal(store.syncs[3], true);
  assert.deepEqual(await walNamesSettled(dir, []), []);
  // a log that cannot sync: the turn waits for LevelDB's synced batch, as without a log
  q.wal.broken = true;
  q.open.put('e', '5');
  assert.equal(q.logTurn(), false);
  assert.ok(q.durable() instanceof Promise);
  q.wal.close(true);
});

test('a log whose write fails makes the turn wait for LevelDB instead', async () => {
  const dir = tmp();
  const store = new FakeStore();
  const q = queueOn(store, 'no');
  // its directory is gone: the file cannot be created
  q.wal = new Wal(join(dir, 'missing'), 1);
  q.open.put('a', '1');
  assert.equal(q.logTurn(), false);
  assert.equal(q.wal.broken, true);
  assert.match(q.wal.lastError ?? '', /ENOENT/);
  const d = q.durable();
  assert.ok(d instanceof Promise);
  q.kick();
  await store.complete();
  await d;
});

test('amber-check-leveldb checks the write-ahead log beside the store: entries, a torn tail, damage', async () => {
  const dir = tmp();
  const db = await openStore(dir);
  await db.put('k', 'v');
  await db.close();
  const wal = new Wal(dir, 1);
  wal.append(recs(['a', '1']), 0);
  wal.append(recs(['b', '2']), 0);
  wal.close(false);
  const lines: string[] = [];
  assert.equal(await checkLevelDb(dir, (l) => lines.push(l)), true, lines.join('\n'));
  assert.match(lines.join('\n'), /Write-ahead log: 1 files, 2 entries, \d+ bytes: every checksum matches/);
  const file = join(dir, walNames(dir)[0]!);
  const b = readFileSync(file);
  b[12] ^= 1; // the first entry's sequence number: the second entry follows
  writeFileSync(file, b);
  lines.length = 0;
  assert.equal(await checkLevelDb(dir, (l) => lines.push(l)), false);
  assert.match(lines.join('\n'), new RegExp(`Corrupt: corrupt file ${file} at offset 0: entry checksum mismatch, with more bytes after it`));
});

test('records are logged only after everything before them is logged or in LevelDB (a paused log, an import)', async () => {
  const dir = tmp();
  const store = new FakeStore();
  const q = queueOn(store, 'everysec');
  q.wal = new Wal(dir, 1);
  let importing = true;
  q.pauseLog = () => importing;
  q.open.put('imported', '1');
  assert.equal(q.logTurn(), false, 'paused: the turn waits for LevelDB');
  q.kick();
  assert.deepEqual(store.batches[0], [['imported', '1']], 'an unlogged batch names no entry');
  importing = false;
  // a turn after the import, while its unlogged batch is in flight: not logged yet, and it waits
  q.open.put('after', '2');
  assert.equal(q.logTurn(), false);
  assert.equal(walNames(dir).length, 0, 'nothing logged ahead of an unlogged batch');
  // once the import's batch is in, the waiting group is logged as it is submitted (everything
  // before it is in LevelDB), and its batch names its entry
  await store.complete();
  assert.deepEqual(walNames(dir), ['amber-wal-000001.log']);
  assert.deepEqual(store.batches[1], [['after', '2'], [WAL_APPLIED_KEY, '1']]);
  q.open.put('later', '3');
  assert.equal(q.logTurn(), true, 'the batch in flight is logged: later turns are too');
  await store.complete();
  assert.deepEqual(store.batches[2], [['later', '3'], [WAL_APPLIED_KEY, '2']]);
  await store.complete();
  q.wal.close(true);
});

test('under always, a turn with nothing new after the log started over needs no sync and waits for nothing', async () => {
  const dir = tmp();
  const store = new FakeStore();
  const q = queueOn(store, 'always');
  q.wal = new Wal(dir, 1, 1);
  // records submitted outside a client's turn (the engine's own setImmediate): logged unsynced as
  // they are submitted, in a synced batch since the log does not cover them
  q.open.put('a', '1');
  q.kick();
  assert.equal(q.wal.syncedSeq, 0);
  assert.equal(store.syncs[0], true);
  await store.complete();
  // that batch holds entry 1: the file goes, and the log has no file until the next append
  assert.deepEqual(await walNamesSettled(dir, []), []);
  assert.equal(q.logTurn(), true, 'nothing to log or sync');
  assert.equal(q.durable(), undefined);
  q.open.put('b', '2');
  assert.equal(q.logTurn(), true);
  assert.equal(q.wal.syncedSeq, 2);
  q.wal.close(true);
});
