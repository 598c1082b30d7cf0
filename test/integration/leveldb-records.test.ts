/**
 * The LevelDB layout's cost promises (issue 7, layout.ts): a write to one element of a big
 * collection writes O(1) records, and so do DEL, EXPIRE, PERSIST, RENAME, MOVE, SWAPDB and
 * FLUSHDB of big values / databases; the old versions are reclaimed in the background with
 * bounded work per step. Also the INFO `leveldb` section's fields, LevelDB's own statistics
 * included. Counted with INFO leveldb_records_written once LevelDB has every record (recordCost).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAmber, RawClient } from '../helpers/servers.js';
import { infoField, recordCost } from '../helpers/leveldb.js';
import { levelDbOf } from '../../src/persistence/leveldb/index.js';

const N = 3000;

const field = infoField;

test('one element, DEL, EXPIRE, PERSIST, RENAME, MOVE, SWAPDB, FLUSHDB of big values write O(1) records; reclaim is bounded per step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-records-'));
  try {
    const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' });
    const engine = levelDbOf(s.server)!.engine;
    // the cron's reclaim would add records between a command and the INFO that counts them
    const reclaimStep = engine.reclaimStep.bind(engine);
    engine.reclaimStep = () => undefined;
    const rc = await RawClient.connect(s.port);
    try {
      const big = (f: (i: number) => string[]): string[] => Array.from({ length: N }, (_, i) => f(i)).flat();
      await rc.pipeline([
        ['HSET', 'h', ...big((i) => [`f${i}`, `v${i}`])],
        ['SADD', 'S', ...big((i) => [`m${i}`])],
        ['ZADD', 'z', ...big((i) => [String(i), `m${i}`])],
        ['RPUSH', 'l', ...big((i) => [`e${i}`])],
        ['HSET', 'h2', ...big((i) => [`f${i}`, `v${i}`])],
      ]);
      const cost = recordCost(rc);
      // element writes: the element's record(s) and the key's metadata
      { const n = await cost(['HSET', 'h', 'f7', 'new']); assert.ok(n <= 2, `${'HSET of one field'}: ${n} records`); }
      { const n = await cost(['HDEL', 'h', 'f8']); assert.ok(n <= 2, `${'HDEL of one field'}: ${n} records`); }
      { const n = await cost(['SADD', 'S', 'new']); assert.ok(n <= 2, `${'SADD of one member'}: ${n} records`); }
      { const n = await cost(['SREM', 'S', 'm9']); assert.ok(n <= 2, `${'SREM of one member'}: ${n} records`); }
      { const n = await cost(['ZADD', 'z', '-5', 'm10']); assert.ok(n <= 4, `${'ZADD changing one score (member, old and new index entries, metadata)'}: ${n} records`); }
      { const n = await cost(['ZINCRBY', 'z', '1', 'new']); assert.ok(n <= 4, `${'ZINCRBY of a new member'}: ${n} records`); }
      { const n = await cost(['LPUSH', 'l', 'x']); assert.ok(n <= 2, `${'LPUSH'}: ${n} records`); }
      { const n = await cost(['RPOP', 'l']); assert.ok(n <= 2, `${'RPOP'}: ${n} records`); }
      { const n = await cost(['LSET', 'l', '100', 'y']); assert.ok(n <= 2, `${'LSET'}: ${n} records`); }
      // whole-key operations on big values: metadata (and garbage marks, namespace records) only
      { const n = await cost(['EXPIRE', 'h', '1000']); assert.ok(n <= 1, `${'EXPIRE'}: ${n} records`); }
      { const n = await cost(['PERSIST', 'h']); assert.ok(n <= 1, `${'PERSIST'}: ${n} records`); }
      { const n = await cost(['RENAME', 'h', 'h3']); assert.ok(n <= 2, `${'RENAME'}: ${n} records`); }
      { const n = await cost(['MOVE', 'h3', '1']); assert.ok(n <= 2, `${'MOVE'}: ${n} records`); }
      { const n = await cost(['SWAPDB', '0', '1']); assert.ok(n <= 2, `${'SWAPDB'}: ${n} records`); }
      { const n = await cost(['DEL', 'h2']); assert.ok(n <= 2, `${'DEL of a big hash (metadata and a garbage mark)'}: ${n} records`); }
      { const n = await cost(['FLUSHDB']); assert.ok(n <= 4, `${'FLUSHDB of a db holding big values (db record, garbage mark, counters)'}: ${n} records`); }
      { const n = await cost(['SELECT', '1'], ['FLUSHDB']); assert.ok(n <= 4, `${'FLUSHDB of the other db'}: ${n} records`); }

      // the background reclaim: every step bounded, the garbage gone in the end
      let steps = 0;
      let maxStep = 0;
      const state = engine as unknown as { reclaiming: boolean };
      for (let i = 0; i < 200 && (engine.garbageVersions.length > 0 || engine.garbageNs.length > 0); i++) {
        const r0 = engine.reclaimedRecords;
        reclaimStep();
        while (state.reclaiming) await new Promise((r) => setTimeout(r, 2));
        maxStep = Math.max(maxStep, engine.reclaimedRecords - r0);
        steps++;
      }
      assert.equal(engine.garbageVersions.length + engine.garbageNs.length, 0, 'everything reclaimed');
      // 5 collections of N elements (a zset has 2 records per member) and their metadata
      assert.ok(engine.reclaimedRecords >= 6 * N, `reclaimed ${engine.reclaimedRecords}`);
      assert.ok(maxStep <= 2000, `at most 2000 records per reclaim step, saw ${maxStep}`);
      assert.ok(steps >= 4, `the work was spread over ${steps} steps`);
      await engine.queue!.drain(false); // the last deletions may still be on their way to LevelDB
      const left = await engine.store!.keys({ gte: 'S', lt: 'T' }).all();
      assert.equal(left.length, 0, 'no subkey left in the store');
    } finally {
      rc.close();
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('INFO leveldb: path, sync policy, batches, keys written, last backup status and time, LevelDB statistics and files per level', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-ldb-info-'));
  try {
    // a 64 KB write buffer: a few thousand keys make LevelDB write table files
    const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-write-buffer-size': '65536' });
    const rc = await RawClient.connect(s.port);
    try {
      const cmds: string[][] = [];
      for (let i = 0; i < 5000; i++) cmds.push(['SET', `k${i}`, 'v'.repeat(100)]);
      await rc.pipeline(cmds);
      assert.equal(await rc.call('BACKUP', 'bk'), '+Background backup started\r\n');
      let info = '';
      for (let i = 0; i < 500; i++) {
        info = await rc.call('INFO', 'leveldb');
        if (info.includes('leveldb_backup_in_progress:0')) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(field(info, 'leveldb_enabled'), '1');
      assert.equal(field(info, 'leveldb_path'), join(dir, 'leveldb'));
      assert.equal(field(info, 'leveldb_sync'), 'everysec');
      assert.ok(Number(field(info, 'leveldb_batches')) > 0);
      assert.ok(Number(field(info, 'leveldb_keys_written')) >= 5000);
      assert.equal(field(info, 'leveldb_last_backup_status'), 'ok');
      const t = Number(field(info, 'leveldb_last_backup_time'));
      assert.ok(Math.abs(t - Date.now() / 1000) < 60, `last backup time ${t}`);
      assert.equal(field(info, 'leveldb_last_backup_dir'), join(dir, 'bk'));
      const files = [0, 1, 2, 3, 4, 5, 6].map((l) => Number(field(info, `leveldb_files_level${l}`)));
      assert.ok(files.reduce((a, b) => a + b, 0) > 0, `table files per level: ${files.join(',')}`);
      assert.match(info, /\r\nleveldb_stats_level\d+:files=\d+,size_mb=[\d.]+,time_sec=[\d.]+,read_mb=[\d.]+,write_mb=[\d.]+\r\n/);
    } finally {
      rc.close();
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
