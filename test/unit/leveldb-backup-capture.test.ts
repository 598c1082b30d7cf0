/**
 * BACKUP's capture of a LevelDB store's files (backup.ts captureStore): on a store open in
 * classic-level with tables and a live log, it holds exactly the MANIFEST, the tables the
 * MANIFEST lists and the logs LevelDB replays, with their sizes at that moment, so that bytes
 * written later are not part of the backup; a listed table that is gone is a race with a
 * compaction, tried again and then refused with a message for the operator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ClassicLevel } from 'classic-level';
import { captureStore, closeHeld } from '../../src/persistence/leveldb/backup.js';
import { tempDirs } from '../helpers/servers.js';

const tmp = tempDirs('amber-leveldb-capture-');

/** A store with several tables (64 KB write buffer) and records in its log; left open. */
async function storeWithTables(path: string): Promise<ClassicLevel<string, string>> {
  const db = new ClassicLevel<string, string>(path, { writeBufferSize: 64 * 1024 });
  await db.open();
  for (let j = 0; j < 20; j++) {
    await db.batch(Array.from({ length: 200 }, (_, i) => ({ type: 'put' as const, key: `k${j}:${i}`, value: `${j}:${i}:`.padEnd(200, String(i % 10)) })));
  }
  return db;
}

test('a capture holds the MANIFEST, the listed tables and the replayed logs at their sizes of that moment', async () => {
  const path = join(tmp(), 'store');
  const db = await storeWithTables(path);
  try {
    const cap = captureStore(path);
    try {
      const names = cap.files.map((f) => f.name);
      assert.match(cap.current, /^MANIFEST-\d+\n$/);
      assert.ok(names.includes(cap.current.trim()), 'the MANIFEST CURRENT names');
      assert.ok(names.some((n) => /^\d+\.ldb$/.test(n)), 'tables');
      assert.ok(names.some((n) => /^\d+\.log$/.test(n)), 'the live log');
      assert.ok(!names.includes('LOCK') && !names.includes('LOG') && !names.includes('CURRENT'));
      // every table LevelDB has in use is held
      const live = readdirSync(path).filter((n) => /\.ldb$/.test(n));
      for (const n of names.filter((x) => /\.ldb$/.test(x))) assert.ok(live.includes(n), `${n} exists`);
      for (const f of cap.files) if (/\.ldb$/.test(f.name)) assert.equal(f.size, statSync(join(path, f.name)).size);
      // a write after the capture lands in a log (the live one, or a new one when the memtable is
      // full), not in the bytes the capture holds: those bytes open as the store without it
      await db.put('after', 'x'.repeat(1000));
      const copy = join(tmp(), 'copy');
      mkdirSync(copy);
      for (const f of cap.files) {
        const b = Buffer.alloc(f.size);
        let got = 0;
        while (got < f.size) got += readSync(f.fd, b, got, f.size - got, got);
        writeFileSync(join(copy, f.name), b);
      }
      writeFileSync(join(copy, 'CURRENT'), cap.current);
      const back = new ClassicLevel<string, string>(copy);
      await back.open();
      try {
        assert.equal(await back.get('k19:199'), '19:199:'.padEnd(200, '9'));
        assert.equal(await back.get('after'), undefined);
      } finally {
        await back.close();
      }
      // (cap.retries may be 1 or more: a compaction LevelDB was finishing deleted a file under a try)
    } finally {
      closeHeld(cap.files);
    }
    // closed once (the copy closes each file as soon as it is copied, then the rest at the end)
    assert.ok(cap.files.every((f) => f.fd === -1));
    closeHeld(cap.files);
  } finally {
    await db.close();
  }
});

test('a table the MANIFEST lists but the directory lacks is retried, then refused; a bad CURRENT is refused', async () => {
  const path = join(tmp(), 'store');
  const db = await storeWithTables(path);
  await db.close();
  const copy = join(tmp(), 'copy');
  cpSync(path, copy, { recursive: true });
  rmSync(join(copy, readdirSync(copy).find((n) => /\.ldb$/.test(n))!));
  assert.throws(() => captureStore(copy), /the LevelDB store .*copy kept changing under the backup \(compactions deleted the files it listed 50 times in a row\); run BACKUP again/);
  writeFileSync(join(copy, 'CURRENT'), 'garbage');
  assert.throws(() => captureStore(copy), /CURRENT does not name a MANIFEST file \(it holds "garbage"\)/);
});

test('a store with more files than the process may open is refused with what to raise, not a crash', async () => {
  const path = join(tmp(), 'store');
  const db = await storeWithTables(path);
  await db.close();
  // a child whose descriptors are used up but for two: the capture cannot hold the store's files
  const script = `
    const { openSync, closeSync } = await import('node:fs');
    const { captureStore } = await import(${JSON.stringify(new URL('../../src/persistence/leveldb/backup.ts', import.meta.url).href)});
    const fds = [];
    try { for (;;) fds.push(openSync('/dev/null', 'r')); } catch {}
    closeSync(fds.pop()); closeSync(fds.pop());
    try { captureStore(${JSON.stringify(path)}); console.log('captured'); } catch (e) { console.log(e.message); }
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /the backup holds every file of the store open until it is copied, and \d+ files reached the limit on open files \(EMFILE\): raise it \(ulimit -n, LimitNOFILE=\) and run BACKUP again/);
});

