/**
 * BACKUP <dir> of the LevelDB engine: point-in-time under a running write workload (the backup
 * opened as a store equals the keyspace at the moment BACKUP was accepted, and a concurrent
 * writer's log is a gap-free prefix), BACKUP.log written last and ending with SUCCESS, errors,
 * and a backup killed halfway has no SUCCESS. Also the `leveldb` INFO section and a client
 * library (ioredis) talking to a LevelDB-backed server.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startAmber, spawnAmber, keyspaceDump, RawClient, type AmberChild } from '../helpers/servers.js';
import { checkLevelDb } from '../../src/bin/amber-check-leveldb.js';

const root = mkdtempSync(join(tmpdir(), 'amber-ldb-backup-'));
const children: AmberChild[] = [];
after(async () => {
  for (const c of children) await c.kill().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function waitBackup(rc: RawClient): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const info = await rc.call('INFO', 'leveldb');
    if (/leveldb_backup_in_progress:0/.test(info)) return info;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('backup did not finish');
}

/** An absolute expire time, so that two servers running the workload agree on it. */
const EXPIRE_AT = Date.now() + 3_600_000;

/** Writes a mix of every type into the current db. */
function workload(tag: string, n: number): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(['SET', `s:${i % 50}`, `${tag}${i}`]);
    out.push(['HSET', `h:${i % 7}`, `f${i % 30}`, `${tag}${i}`]);
    out.push(['RPUSH', `l:${i % 5}`, `${tag}${i}`]);
    if (i % 3 === 0) out.push(['LPOP', `l:${(i + 1) % 5}`]);
    out.push(['SADD', `S:${i % 4}`, `${tag}${i % 40}`]);
    out.push(['ZADD', `z:${i % 4}`, String(i % 13), `${tag}${i % 25}`]);
    if (i % 10 === 0) out.push(['XADD', 'x', '*', 'i', String(i)]);
    if (i % 17 === 0) out.push(['DEL', `s:${(i * 7) % 50}`]);
    if (i % 23 === 0) out.push(['PEXPIREAT', `h:${i % 7}`, String(EXPIRE_AT + i)]);
    if (i % 29 === 0) out.push(['RENAME', `z:${i % 4}`, `zr:${i}`]);
  }
  return out;
}

test('BACKUP under writes is exactly the keyspace when it was accepted; BACKUP.log is last and ends with SUCCESS', async () => {
  const dir = join(root, 'a');
  mkdirSync(dir);
  const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': 'everysec' });
  const ref = await startAmber({});
  const rc = await RawClient.connect(s.port);
  const rr = await RawClient.connect(ref.port);
  const bg = await RawClient.connect(s.port);
  let stopBg = false;
  let bgCount = 0;
  // a concurrent writer in db 3: its list must be a gap-free prefix in the backup
  const bgLoop = (async () => {
    await bg.call('SELECT', '3');
    while (!stopBg) {
      const cmds: string[][] = [];
      for (let i = 0; i < 20; i++) cmds.push(['RPUSH', 'log', String(bgCount++)]);
      await bg.pipeline(cmds);
    }
  })();
  try {
    const before = workload('a', 400);
    await rr.pipeline(before);
    // the prefix, BACKUP and more writes (same keys, deletes, a flush) in one pipeline
    const afterCmds = [...workload('b', 300), ['FLUSHDB'], ['SET', 'after', 'flush']];
    const replies = await rc.pipeline([...before, ['BACKUP', 'bk'], ...afterCmds]);
    assert.equal(replies[before.length], '+Background backup started\r\n');
    await new Promise((r) => setTimeout(r, 50));
    stopBg = true;
    await bgLoop;
    const info = await waitBackup(rc);
    assert.match(info, /leveldb_last_backup_status:ok/);
    const bk = join(dir, 'bk');
    const log = readFileSync(join(bk, 'BACKUP.log'), 'latin1').trimEnd().split('\n');
    assert.equal(log[log.length - 1], 'SUCCESS');
    assert.ok(log.some((l) => l.startsWith('start: ')) && log.some((l) => l.startsWith('end: ')) && log.some((l) => l.startsWith('duration_ms: ')));
    // INFO and BACKUP.log tell the same duration
    assert.equal(/leveldb_last_backup_duration_ms:(\d+)/.exec(info)![1], log.find((l) => l.startsWith('duration_ms: '))!.slice('duration_ms: '.length));
    assert.ok(!existsSync(join(bk, 'BACKUP.unfinished')), 'the unfinished mark goes once BACKUP.log says SUCCESS');
    const logTime = statSync(join(bk, 'BACKUP.log')).mtimeMs;
    for (const f of readdirSync(bk)) assert.ok(statSync(join(bk, f)).mtimeMs <= logTime, `${f} is older than BACKUP.log`);
    // the backup opened as a normal store
    const b = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-path': 'bk' });
    try {
      const dumpB = await keyspaceDump(b.port, 3);
      const dumpRef = await keyspaceDump(ref.port, 3);
      // stream ids differ between the two servers (XADD *): compare everything else exactly
      const strip = (d: string): string => d.replace(/"\d+-\d+"/g, '"ID"');
      assert.equal(strip(dumpB), strip(dumpRef));
      const bc = await RawClient.connect(b.port);
      await bc.call('SELECT', '3');
      const items = await bc.call('LRANGE', 'log', '0', '-1');
      const n = Number(/^\*(\d+)/.exec(items)![1]);
      let expect = `*${n}\r\n`;
      for (let i = 0; i < n; i++) expect += `$${String(i).length}\r\n${i}\r\n`;
      assert.equal(items, expect, 'the concurrent writer\'s list is a prefix');
      assert.ok(n < bgCount, 'the writer went on after the backup point');
      bc.close();
    } finally {
      await b.close();
    }
  } finally {
    stopBg = true;
    rc.close();
    rr.close();
    bg.close();
    await s.close();
    await ref.close();
  }
});

test('BACKUP while LevelDB flushes memtables and compacts tables under it is exactly the writes before it', async () => {
  const dir = join(root, 'e');
  mkdirSync(dir);
  // a 64 KB write buffer: LevelDB flushes a table every few hundred writes here and compacts level
  // 0 into level 1 again and again, deleting tables, while the backup captures and copies them
  const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': 'no', 'leveldb-write-buffer-size': '65536' });
  const rc = await RawClient.connect(s.port);
  const churn = await RawClient.connect(s.port);
  let stop = false;
  const churnLoop = (async () => {
    await churn.call('SELECT', '1');
    for (let j = 0; !stop && j < 10000; j++) {
      const cmds: string[][] = [];
      for (let i = 0; i < 200; i++) cmds.push(['SET', `c${(j * 200 + i) % 20000}`, randomBytes(150).toString('hex')]);
      await churn.pipeline(cmds);
    }
  })();
  try {
    const setN = (from: number, to: number): string[][] => {
      const cmds: string[][] = [];
      for (let i = from; i < to; i++) cmds.push(['SET', `k${i}`, `${i}:${randomBytes(100).toString('hex')}`]);
      return cmds;
    };
    await rc.pipeline(setN(0, 20000));
    const replies = await rc.pipeline([...setN(20000, 25000), ['BACKUP', 'bk'], ...setN(25000, 30000), ['DEL', 'k0']]);
    assert.equal(replies[5000], '+Background backup started\r\n');
    await rc.pipeline(setN(30000, 40000));
    const info = await waitBackup(rc);
    assert.match(info, /leveldb_last_backup_status:ok/);
    assert.match(info, /leveldb_last_backup_files:\d+/);
    stop = true;
    await churnLoop;
    const b = await startAmber({ dir: join(root, 'e2'), save: '', leveldb: 'yes', 'leveldb-path': join(dir, 'bk') });
    try {
      const bc = await RawClient.connect(b.port);
      try {
        assert.equal(await bc.call('DBSIZE'), ':25000\r\n', 'the backup holds the 25,000 keys written before BACKUP, none after');
        assert.match(await bc.call('GET', 'k0'), /^\$\d+\r\n0:/);
        assert.match(await bc.call('GET', 'k24999'), /^\$\d+\r\n24999:/);
        assert.equal(await bc.call('EXISTS', 'k25000'), ':0\r\n');
      } finally {
        bc.close();
      }
    } finally {
      await b.close();
    }
  } finally {
    stop = true;
    await churnLoop.catch(() => undefined);
    rc.close();
    churn.close();
    await s.close();
  }
});

test('BACKUP errors: engine off, non-empty directory, backup in progress', async () => {
  const plain = await startAmber({});
  const rc0 = await RawClient.connect(plain.port);
  assert.equal(await rc0.call('BACKUP', 'x'), '-ERR BACKUP needs the LevelDB engine: set leveldb yes\r\n');
  assert.equal(await rc0.call('BACKUP'), "-ERR wrong number of arguments for 'backup' command\r\n");
  rc0.close();
  await plain.close();
  const dir = join(root, 'b');
  mkdirSync(dir);
  const s = await startAmber({ dir, save: '', leveldb: 'yes' });
  const rc = await RawClient.connect(s.port);
  try {
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'x'), 'x');
    assert.match(await rc.call('BACKUP', 'full'), /^-ERR BACKUP directory .* is not empty\r\n$/);
    assert.match(await rc.call('BACKUP', 'leveldb'), /^-ERR BACKUP directory can't be inside the LevelDB store/);
    assert.equal(await rc.call('BACKUP', ''), '-ERR BACKUP needs a directory: BACKUP <dir>, relative to dir or absolute\r\n');
    assert.match(await rc.call('BACKUP', '.'), /^-ERR BACKUP directory can't contain the LevelDB store/);
    const cmds: string[][] = [];
    for (let i = 0; i < 20000; i++) cmds.push(['SET', `k${i}`, 'v'.repeat(100)]);
    await rc.pipeline(cmds);
    const [r1, r2] = await rc.pipeline([['BACKUP', 'one'], ['BACKUP', 'two']]);
    assert.equal(r1, '+Background backup started\r\n');
    assert.equal(r2, '-ERR Background backup already in progress\r\n');
    await waitBackup(rc);
    assert.equal(readFileSync(join(dir, 'one', 'BACKUP.log'), 'latin1').trimEnd().split('\n').pop(), 'SUCCESS');
    assert.ok(!existsSync(join(dir, 'two')));
  } finally {
    rc.close();
    await s.close();
  }
});

test('a backup killed halfway has no SUCCESS, and opening it is refused rather than loading part of the data', async () => {
  const dir = join(root, 'c');
  mkdirSync(dir);
  const child = await spawnAmber(dir, { leveldb: 'yes', 'leveldb-sync': 'no' });
  children.push(child);
  const rc = await RawClient.connect(child.port);
  // values LevelDB's Snappy cannot shrink: the store holds ~60 MB of tables, whose copy and
  // fsyncs take long enough for the kill below to land in the middle
  for (let j = 0; j < 15; j++) {
    const cmds: string[][] = [];
    for (let i = 0; i < 10000; i++) cmds.push(['SET', `k${j}:${i}`, randomBytes(200).toString('hex')]);
    await rc.pipeline(cmds);
  }
  assert.equal(await rc.call('BACKUP', 'half'), '+Background backup started\r\n');
  // the copy starts once LevelDB has every write acknowledged before BACKUP (under everysec and
  // no the replies do not wait for it: the engine's write-ahead log has them), then runs a while
  for (let i = 0; i < 500 && !existsSync(join(dir, 'half')); i++) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 10));
  // the kill must land while the copy runs, or the test proves nothing
  assert.match(await rc.call('INFO', 'leveldb'), /leveldb_backup_in_progress:1\r\n/);
  rc.close();
  await child.kill();
  const logFile = join(dir, 'half', 'BACKUP.log');
  const text = existsSync(logFile) ? readFileSync(logFile, 'latin1') : '';
  assert.ok(!/SUCCESS/.test(text), 'no SUCCESS for an interrupted backup');
  assert.ok(existsSync(join(dir, 'half')), 'the copy had started');
  // the BACKUP.unfinished file, written before the copy, goes only after BACKUP.log says SUCCESS:
  // a partial copy is refused, CURRENT or not. The kill may also land after BACKUP.log and before
  // that file is removed (the copy is whole and declared): such a store opens with every key.
  let opened: Awaited<ReturnType<typeof startAmber>> | null = null;
  try {
    opened = await startAmber({ dir: join(root, 'c2'), save: '', leveldb: 'yes', 'leveldb-path': join(dir, 'half') });
  } catch (e) {
    assert.match((e as Error).message, /half is a BACKUP whose copy was cut short \(it has no BACKUP\.log\): it holds part of the data only/);
  }
  if (opened !== null) {
    const rc2 = await RawClient.connect(opened.port);
    try {
      assert.equal(await rc2.call('DBSIZE'), ':150000\r\n', 'a copy that opens holds every key');
    } finally {
      rc2.close();
      await opened.close();
    }
  }
});

test('a backup stopped by CONFIG SET leveldb no ends with FAILED and the reason in BACKUP.log and INFO', async () => {
  const dir = join(root, 'f');
  mkdirSync(dir);
  const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': 'no' });
  const rc = await RawClient.connect(s.port);
  try {
    for (let j = 0; j < 5; j++) {
      const cmds: string[][] = [];
      for (let i = 0; i < 10000; i++) cmds.push(['SET', `k${j}:${i}`, randomBytes(200).toString('hex')]);
      await rc.pipeline(cmds);
    }
    // in one turn: the copy has not read its first MB when the engine is turned off
    const [r1, r2] = await rc.pipeline([['BACKUP', 'stopped'], ['CONFIG', 'SET', 'leveldb', 'no']]);
    assert.equal(r1, '+Background backup started\r\n');
    assert.equal(r2, '+OK\r\n');
    const logFile = join(dir, 'stopped', 'BACKUP.log');
    for (let i = 0; i < 500 && !existsSync(logFile); i++) await new Promise((r) => setTimeout(r, 10));
    const lines = readFileSync(logFile, 'latin1').trimEnd().split('\n');
    assert.equal(lines[lines.length - 1], 'FAILED: the LevelDB engine was turned off (CONFIG SET leveldb no)');
    assert.ok(!existsSync(join(dir, 'stopped', 'CURRENT')), 'no CURRENT: the partial copy is no store');
    // even given a CURRENT, the copy is refused, by the server and by amber-check-leveldb
    writeFileSync(join(dir, 'stopped', 'CURRENT'), 'MANIFEST-000002\n');
    await assert.rejects(startAmber({ dir: join(root, 'f2'), save: '', leveldb: 'yes', 'leveldb-path': join(dir, 'stopped') }),
      /stopped is a BACKUP whose copy was cut short \(its BACKUP\.log says "FAILED: the LevelDB engine was turned off \(CONFIG SET leveldb no\)"\): it holds part of the data only/);
    const lines2: string[] = [];
    assert.equal(await checkLevelDb(join(dir, 'stopped'), (l) => lines2.push(l)), false);
    assert.match(lines2.join('\n'), /Cannot check .*stopped: .*stopped is a BACKUP whose copy was cut short/);
    const info = await rc.call('INFO', 'leveldb');
    assert.match(info, /leveldb_last_backup_status:err\r\n/);
    assert.match(info, /leveldb_last_backup_error:the LevelDB engine was turned off \(CONFIG SET leveldb no\)\r\n/);
  } finally {
    rc.close();
    await s.close();
  }
});

test('INFO leveldb and a client library against a LevelDB-backed server', async () => {
  const dir = join(root, 'd');
  mkdirSync(dir);
  const s = await startAmber({ dir, save: '', leveldb: 'yes', 'leveldb-sync': 'always' });
  const r = new Redis({ port: s.port, lazyConnect: true });
  await r.connect();
  try {
    await r.hset('h', { a: '1', b: '2' });
    await r.zadd('z', 1.5, 'x', -0, 'y');
    await r.set('s', 'v', 'PX', 100000);
    const info = await r.info('leveldb');
    assert.match(info, /^# LevelDB\r\n/);
    for (const f of ['leveldb_enabled:1', 'leveldb_sync:always', 'leveldb_batches:', 'leveldb_keys_written:', 'leveldb_last_backup_status:none', 'leveldb_files_level0:']) {
      assert.ok(info.includes(f), `INFO leveldb has ${f}`);
    }
    assert.ok(!(await r.info()).includes('# LevelDB'), 'not in the default sections');
    assert.ok((await r.call('INFO', 'everything') as string).includes('# LevelDB'));
  } finally {
    r.disconnect();
    await s.close();
  }
  const s2 = await startAmber({ dir, save: '', leveldb: 'yes' });
  const r2 = new Redis({ port: s2.port, lazyConnect: true });
  await r2.connect();
  try {
    assert.deepEqual(await r2.hgetall('h'), { a: '1', b: '2' });
    assert.deepEqual(await r2.zrange('z', 0, -1, 'WITHSCORES'), ['y', '0', 'x', '1.5']);
    const pttl = await r2.pttl('s');
    assert.ok(pttl > 90000 && pttl <= 100000);
  } finally {
    r2.disconnect();
    await s2.close();
  }
});
