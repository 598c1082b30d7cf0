/**
 * Start-up checks the LevelDB store's files before LevelDB opens it (verify.ts): a flipped byte
 * in a table is refused with the file, the offset and the reason, and the store is left exactly
 * as it was (LevelDB never opened it, so it neither compacted nor rewrote anything); a log whose
 * last record was cut short loads, with a warning naming the file and the bytes LevelDB drops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAmber, tempDirs, RawClient } from '../helpers/servers.js';
import { startServer } from '../../src/index.js';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Runs amber-check-leveldb (from the sources, through tsx) on `store`. */
function checkTool(store: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src', 'bin', 'amber-check-leveldb.ts'), store], { encoding: 'utf8', cwd: repo });
  return { status: r.status, out: r.stdout + r.stderr };
}

const tmp = tempDirs('amber-ldb-verify-');

/** A store with tables (a small write buffer) and a log, written by Amber and closed cleanly. */
async function writeStore(dir: string): Promise<number> {
  const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-write-buffer-size': '65536' });
  const c = await RawClient.connect(s.port);
  for (let i = 0; i < 4; i++) {
    await c.pipeline(Array.from({ length: 1000 }, (_, j) => ['SET', `key:${i}:${j}`, `value ${'v'.repeat(j % 200)} ${j}`]));
  }
  await c.call('HSET', 'hash', 'a', '1', 'b', '2');
  // a write in a turn (a LevelDB batch, a log record) of its own, after which the shutdown may
  // write its own bookkeeping: replies do not wait for LevelDB under everysec (the engine's
  // write-ahead log has the turn), so let the batches before it finish first
  await new Promise((r) => setTimeout(r, 300));
  await c.call('SET', 'marker', 'last');
  const n = Number((await c.call('DBSIZE')).slice(1));
  c.close();
  await s.close();
  return n;
}

/** Every file of a directory with its size and modification time. */
function listing(path: string): string[] {
  return readdirSync(path).sort().map((n) => {
    const st = statSync(join(path, n));
    return `${n} ${st.size} ${st.mtimeMs}`;
  });
}

test('a flipped byte in a table is refused with the file and offset, and the store is left as it was', async () => {
  const dir = tmp();
  await writeStore(dir);
  const store = join(dir, 'leveldb');
  const table = readdirSync(store).filter((n) => n.endsWith('.ldb')).sort((a, b) => statSync(join(store, b)).size - statSync(join(store, a)).size)[0]!;
  const bytes = readFileSync(join(store, table));
  bytes[100] ^= 0x10; // inside the first data block
  writeFileSync(join(store, table), bytes);
  const before = listing(store);
  // the tool finds the same, and leaves the store as it is too
  const tool = checkTool(store);
  assert.equal(tool.status, 1, tool.out);
  assert.match(tool.out, new RegExp(`Corrupt: corrupt file ${store}/${table} at offset 0: data block 1 of \\d+ checksum mismatch`));
  const log = join(dir, 'amber.log');
  await assert.rejects(startServer({ port: 0, log: true, directives: { dir, save: '', leveldb: 'yes', logfile: log } }),
    new RegExp(`corrupt file ${store}/${table} at offset 0: data block 1 of \\d+ checksum mismatch\\. Restore the store from a BACKUP copy`));
  assert.deepEqual(listing(store), before, 'LevelDB never opened the store');
  assert.match(readFileSync(log, 'latin1'), new RegExp(`Fatal error opening the LevelDB store ${store}: corrupt file ${store}/${table} at offset 0: `));
});

test("a log cut short in its last record loads, with a warning naming the bytes LevelDB drops", async () => {
  const dir = tmp();
  const keys = await writeStore(dir);
  const store = join(dir, 'leveldb');
  // the newest log holds the last batches (an older one may still be live, its memtable not yet
  // flushed when the store closed)
  const logName = readdirSync(store).filter((n) => /^\d+\.log$/.test(n)).sort().pop()!;
  const size = statSync(join(store, logName)).size;
  assert.ok(size > 0, 'a clean shutdown leaves its last writes in the log');
  let tool = checkTool(store);
  assert.equal(tool.status, 0, tool.out);
  assert.match(tool.out, /\d+ tables and \d+ logs, \d+ bytes: every checksum matches\nLevelDB store looks OK/);
  truncateSync(join(store, logName), size - 3);
  tool = checkTool(store);
  assert.equal(tool.status, 0, tool.out);
  assert.match(tool.out, new RegExp(`The log ${logName} ends in an incomplete record at offset \\d+ \\(\\d+ bytes\\)`));
  const log = join(dir, 'amber.log');
  const s = await startServer({ port: 0, log: true, directives: { dir, save: '', leveldb: 'yes', logfile: log } });
  try {
    const c = await RawClient.connect(s.port);
    // the cut record is the last batch: the shutdown's bookkeeping (counters, key counts) or,
    // when it had nothing to write, the marker's turn
    const marker = await c.call('GET', 'marker');
    assert.equal(await c.call('DBSIZE'), `:${marker === '$4\r\nlast\r\n' ? keys : keys - 1}\r\n`);
    assert.equal(await c.call('HGET', 'hash', 'b'), '$1\r\n2\r\n');
    assert.equal(await c.call('EXISTS', 'key:3:999', 'key:0:0'), ':2\r\n');
    const info = await c.call('INFO', 'leveldb');
    assert.match(info, /\r\nleveldb_last_check_torn_tails:1\r\n/);
    assert.ok(Number(/leveldb_last_check_bytes:(\d+)/.exec(info)![1]) > 100_000, info);
    assert.match(info, /\r\nleveldb_last_check_time_ms:\d+\r\n/);
    c.close();
  } finally {
    await s.close();
  }
  const text = readFileSync(log, 'latin1');
  assert.match(text, new RegExp(`The LevelDB store ${store}: its log ${logName} ends in an incomplete record at offset \\d+ \\(\\d+ bytes\\)`));
  assert.match(text, /Checked the LevelDB store .*: \d+ tables and 1 logs/);
});

test('a store another server has open is refused before it is checked, naming the process', { skip: !existsSync('/proc/locks') && 'no /proc/locks (not Linux)' }, async () => {
  const dir = tmp();
  const first = await startAmber({ dir, save: '', leveldb: 'yes' });
  try {
    // the second server in this very process: LevelDB's lock is per process and per file
    await assert.rejects(startAmber({ dir, save: '', leveldb: 'yes' }),
      new RegExp(`the LevelDB store ${join(dir, 'leveldb')} is in use by process ${process.pid} \\(it holds the store's LOCK file\\)`));
    const tool = checkTool(join(dir, 'leveldb'));
    assert.match(tool.out, new RegExp(`Warning: process ${process.pid} has the store open`));
  } finally {
    await first.close();
  }
  // closed: the LOCK is free again
  const again = await startAmber({ dir, save: '', leveldb: 'yes' });
  await again.close();
});
