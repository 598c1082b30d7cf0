import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, mkdirSync, existsSync, readdirSync, cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RdbReader } from '../../src/persistence/rdb/reader.js';
import { RDB_OPCODE_AUX } from '../../src/persistence/rdb/constants.js';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, keyspaceDump, spawnAmber, assertRedisCheckRdb, tempDirs } from '../helpers/servers.js';

const tmp = tempDirs('amber-bgsave-');

/** Offset of the first byte after an RDB file's magic and aux fields (where SELECTDB starts). */
function afterAux(file: Buffer): number {
  const r = new RdbReader(file);
  r.bytes(9); // REDIS0010
  while (file[r.offset] === RDB_OPCODE_AUX) {
    r.u8();
    r.readString();
    r.readString();
  }
  return r.offset;
}

async function waitSaved(c: RawClient): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const info = await c.call('INFO', 'persistence');
    if (info.includes('rdb_bgsave_in_progress:0')) return info;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('BGSAVE did not finish');
}

/** Fills a mixed dataset: strings, hashes, sets, zsets, lists, TTLs, two dbs. */
async function populate(c: RawClient, n: number): Promise<void> {
  const cmds: string[][] = [];
  for (let i = 0; i < n; i++) {
    cmds.push(['SET', `s:${i}`, 'v'.repeat(i % 50)]);
    if (i % 10 === 0) cmds.push(['HSET', `h:${i % 200}`, `f${i}`, String(i)]);
    if (i % 10 === 1) cmds.push(['ZADD', `z:${i % 100}`, String(i / 7), `m${i}`]);
    if (i % 10 === 2) cmds.push(['SADD', `set:${i % 100}`, String(i)]);
    if (i % 10 === 3) cmds.push(['RPUSH', `l:${i % 100}`, `item${i}`]);
    if (i % 10 === 4) cmds.push(['PEXPIRE', `s:${i}`, '100000000']);
    if (cmds.length >= 2000) await c.pipeline(cmds.splice(0));
  }
  cmds.push(['SELECT', '3'], ['SET', 'db3', 'x'], ['SELECT', '0']);
  await c.pipeline(cmds);
}

test('BGSAVE saves exactly the dataset at its start while clients keep writing', { timeout: 60000 }, async (t) => {
  const dir = tmp();
  const s = await startAmber({ dir });
  const c = await RawClient.connect(s.port);
  const N = 2000;
  await populate(c, N);
  const expected = await keyspaceDump(s.port);
  // about 2,050 keys at 600 us each (rdb-key-save-delay): the save lasts ~1.3 s whatever the
  // machine, so the writers below always overlap it instead of racing a save that may be done
  assert.equal(await c.call('CONFIG', 'SET', 'rdb-key-save-delay', '600'), '+OK\r\n');
  assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
  assert.equal(await c.call('BGSAVE'), '-ERR Background save already in progress\r\n');
  // writers run while the snapshot is in progress: overwrites, deletes, expiries, collection edits
  const w = await RawClient.connect(s.port);
  let writes = 0;
  let roundsDuringSave = 0;
  for (let round = 0; round < 400; round++) {
    const batch: string[][] = [];
    for (let i = 0; i < 100; i++) {
      const k = Math.floor(Math.random() * N);
      batch.push(['SET', `s:${k}`, 'changed'], ['DEL', `s:${(k + 1) % N}`], ['PEXPIRE', `s:${(k + 2) % N}`, '1'],
        ['HSET', `h:${k % 200}`, 'new', '1'], ['ZINCRBY', `z:${k % 100}`, '5', `m${k}`], ['LPOP', `l:${k % 100}`], ['SET', `new:${k}`, 'n']);
    }
    batch.push(['SWAPDB', '0', '5'], ['SWAPDB', '0', '5'], ['SELECT', '3'], ['FLUSHDB'], ['SELECT', '0']);
    await w.pipeline(batch);
    writes += batch.length;
    if ((await c.call('INFO', 'persistence')).includes('rdb_bgsave_in_progress:0')) break;
    roundsDuringSave++;
    // a pause between rounds: a writer that never stops slows the save down (it takes a share
    // of the time while clients are active) and would make this loop run to its bound
    await new Promise((r) => setTimeout(r, 20));
  }
  t.diagnostic(`${roundsDuringSave} rounds of writes while the save ran (${writes} writes in all)`);
  // the save was still running after these rounds: their writes all reached it mid-way
  assert.ok(roundsDuringSave >= 3, `only ${roundsDuringSave} rounds of writes ran while the save was in progress`);
  const info = await waitSaved(c);
  assert.match(info, /rdb_last_bgsave_status:ok/);
  assert.ok(writes > 0);
  w.close();
  c.close();
  await s.close();
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
  // the file holds exactly the dataset at the moment BGSAVE started
  const s2 = await startAmber({ dir, save: '' });
  assert.equal(await keyspaceDump(s2.port), expected);
  await s2.close();
  if (redisAvailable()) {
    assertRedisCheckRdb(join(dir, 'dump.rdb'));
    const copy = tmp();
    cpSync(join(dir, 'dump.rdb'), join(copy, 'dump.rdb'));
    const r = await startRedis([], copy);
    try {
      assert.equal(await keyspaceDump(r.port), expected);
    } finally {
      await r.close();
    }
  }
});

test('BGSAVE keeps the start-time contents of collections renamed, moved, re-expired and then changed in place', { timeout: 170000 }, async () => {
  const dir = tmp();
  // an LFU policy makes every key carry FREQ, also in the copies taken before in-place changes
  const s = await startAmber({ dir, 'maxmemory-policy': 'allkeys-lfu' });
  const c = await RawClient.connect(s.port);
  const n = 3000;
  const cmds: string[][] = [];
  for (let i = 0; i < n; i++) {
    const f: string[] = [];
    for (let j = 0; j < 20; j++) f.push(`f${j}`, `v${i}-${j}`);
    cmds.push(['HSET', `h:${i}`, ...f], ['SADD', `set:${i}`, 'a', 'b', String(i)], ['RPUSH', `l:${i}`, 'x', 'y', String(i)],
      ['ZADD', `z:${i}`, '1', 'a', String(i), 'b'], ['SET', `s:${i}`, `str${i}`]);
    if (i % 3 === 0) cmds.push(['PEXPIRE', `h:${i}`, '100000000']);
    if (i % 500 === 0) await c.pipeline(cmds.splice(0));
  }
  await c.pipeline(cmds);
  const expected = await keyspaceDump(s.port);
  const w = await RawClient.connect(s.port);
  for (let round = 0; round < 200; round++) {
    // the first batch goes in the same read as BGSAVE: it runs before any slice of the snapshot
    const batch: string[][] = round === 0 ? [['BGSAVE']] : [];
    for (let j = 0; j < 50; j++) {
      const i = (round * 50 + j) % n;
      // the value object moves to another key (or db) and is then changed in place there
      batch.push(['RENAME', `h:${i}`, `hr:${i}`], ['HSET', `hr:${i}`, 'f0', 'changed'], ['HDEL', `hr:${i}`, 'f1']);
      batch.push(['MOVE', `set:${i}`, '2'], ['SELECT', '2'], ['SADD', `set:${i}`, 'moved'], ['SELECT', '0']);
      // TTL changes keep the value object, then an in-place change follows
      batch.push(['EXPIRE', `l:${i}`, '1000'], ['RPUSH', `l:${i}`, 'more'], ['PERSIST', `l:${i}`], ['LPOP', `l:${i}`]);
      batch.push(['COPY', `z:${i}`, `zc:${i}`], ['ZINCRBY', `z:${i}`, '5', 'a'], ['DEL', `z:${(i + 1) % n}`], ['ZADD', `z:${(i + 1) % n}`, '9', 'new']);
      batch.push(['APPEND', `s:${i}`, '+'], ['SET', `s:${(i + 7) % n}`, 'over'], ['SET', `fresh:${i}`, 'n']);
    }
    const replies = await w.pipeline(batch);
    if (round === 0) assert.equal(replies[0], '+Background saving started\r\n');
    if ((await c.call('INFO', 'persistence')).includes('rdb_bgsave_in_progress:0')) break;
  }
  const info = await waitSaved(c);
  assert.match(info, /rdb_last_bgsave_status:ok/);
  w.close();
  c.close();
  await s.close();
  const s2 = await startAmber({ dir, save: '' });
  assert.equal(await keyspaceDump(s2.port), expected);
  await s2.close();
  assertRedisCheckRdb(join(dir, 'dump.rdb'));
});

test('a failed BGSAVE sets err status and MISCONF with save points, cleared by the next success', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '3600 1' });
  const c = await RawClient.connect(s.port);
  await c.call('SET', 'k', 'v');
  // make the temp file impossible to create: a directory stands where it would go
  for (let n = 1; n <= 3; n++) mkdirSync(join(dir, `temp-${process.pid}-${n}.rdb`));
  assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
  const info = await waitSaved(c);
  assert.match(info, /rdb_last_bgsave_status:err/);
  assert.match(await c.call('SET', 'k2', 'v'), /^-MISCONF Redis is configured to save RDB snapshots/);
  assert.equal(await c.call('GET', 'k'), '$1\r\nv\r\n');
  for (let n = 1; n <= 3; n++) rmSync(join(dir, `temp-${process.pid}-${n}.rdb`), { recursive: true });
  // CONFIG SET save "" lifts the refusal at once, as in Redis (no save points, no MISCONF)
  assert.equal(await c.call('CONFIG', 'SET', 'save', ''), '+OK\r\n');
  assert.equal(await c.call('SET', 'k2', 'v'), '+OK\r\n');
  assert.equal(await c.call('CONFIG', 'SET', 'save', '3600 1'), '+OK\r\n');
  assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
  assert.match(await waitSaved(c), /rdb_last_bgsave_status:ok/);
  assert.equal(await c.call('SET', 'k3', 'v'), '+OK\r\n');
  c.close();
  await s.close();
});

test('FLUSHALL and SHUTDOWN stop a running BGSAVE without an error status: no MISCONF, no temp file left', async () => {
  const dir = tmp();
  // saves slowed to about a millisecond per key (rdb-key-save-delay): still running when FLUSHALL
  // and the shutdown arrive
  const s = await startAmber({ dir, save: '3600 1', 'rdb-key-save-delay': '1000' });
  const c = await RawClient.connect(s.port);
  await populate(c, 2000);
  // one pipeline, one turn: the save is running when FLUSHALL arrives
  const r = await c.pipeline([['BGSAVE'], ['FLUSHALL'], ['SET', 'after', '1']]);
  assert.deepEqual(r, ['+Background saving started\r\n', '+OK\r\n', '+OK\r\n']);
  const info = await waitSaved(c);
  assert.match(info, /rdb_last_bgsave_status:ok/, 'a save stopped on purpose is not a failed save (Redis: killed by SIGUSR1)');
  assert.equal(await c.call('SET', 'k', 'v'), '+OK\r\n');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
  // shutting down waits for the stopped save to remove its temp file
  await populate(c, 2000);
  assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
  assert.match(await c.call('INFO', 'persistence'), /rdb_bgsave_in_progress:1\r\n/);
  c.close();
  await s.close();
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('temp-')), []);
});

test('expire times at the int64 limit (SET PXAT, RESTORE ABSTTL) are kept within it, so saves still work', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '' });
  const c = await RawClient.connect(s.port);
  const max = '9223372036854775807';
  await c.call('SET', 'x', '1');
  const dump = (await c.call('DUMP', 'x')).split('\r\n').slice(1, -1).join('\r\n');
  const r = await c.pipeline([['SET', 'a', 'v', 'PXAT', max], ['RESTORE', 'b', max, dump, 'ABSTTL'], ['SET', 'c', 'v'], ['PEXPIREAT', 'c', max]]);
  assert.deepEqual(r, ['+OK\r\n', '+OK\r\n', '+OK\r\n', ':1\r\n']);
  // the largest double below 2^63 (Redis keeps the exact int64; see MAX_EXPIRE_MS)
  for (const k of ['a', 'b', 'c']) assert.equal(await c.call('PEXPIRETIME', k), ':9223372036854774784\r\n');
  assert.equal(await c.call('SAVE'), '+OK\r\n');
  assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
  assert.match(await waitSaved(c), /rdb_last_bgsave_status:ok/);
  assert.equal(await c.call('DEBUG', 'RELOAD'), '+OK\r\n');
  assert.equal(await c.call('PEXPIRETIME', 'a'), ':9223372036854774784\r\n');
  c.close();
  await s.close();
});

test('SAVE and BGSAVE after the data directory was deleted fail with an error, and the server stays up', { timeout: 60000 }, async () => {
  const dir = join(tmp(), 'data');
  mkdirSync(dir);
  // the built server: its saves go through the save worker, which cannot start without a cwd
  const a = await spawnAmber(dir);
  try {
    const c = await RawClient.connect(a.port);
    await c.call('SET', 'k', 'v');
    rmSync(dir, { recursive: true });
    const t0 = Date.now();
    assert.equal(await c.call('SAVE'), '-ERR\r\n');
    assert.ok(Date.now() - t0 < 5000, 'refused at once, not after a worker start timeout');
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    assert.match(await waitSaved(c), /rdb_last_bgsave_status:err/);
    assert.equal(await c.call('PING'), '+PONG\r\n');
    assert.equal(a.proc.exitCode, null, a.log());
    c.close();
  } finally {
    await a.kill();
  }
});

test('dbfilename "" starts an empty server, as Redis (its fopen("") finds no file)', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '', dbfilename: '' });
  const c = await RawClient.connect(s.port);
  assert.equal(await c.call('DBSIZE'), ':0\r\n');
  assert.equal(await c.call('CONFIG', 'GET', 'dbfilename'), '*2\r\n$10\r\ndbfilename\r\n$0\r\n\r\n');
  c.close();
  await s.close();
});

test('save points trigger a background save by themselves', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '1 2' });
  const c = await RawClient.connect(s.port);
  await c.pipeline([['SET', 'a', '1'], ['SET', 'b', '2'], ['SET', 'c', '3']]);
  let saved = false;
  for (let i = 0; i < 100 && !saved; i++) {
    await new Promise((r) => setTimeout(r, 50));
    saved = /rdb_saves:[1-9]/.test(await c.call('INFO', 'persistence'));
  }
  assert.ok(saved, 'no automatic save within 5 s');
  assert.match(await c.call('INFO', 'persistence'), /rdb_changes_since_last_save:0/);
  assert.ok(existsSync(join(dir, 'dump.rdb')));
  c.close();
  await s.close();
});

test('kill -9 during BGSAVE leaves the previous dump.rdb loadable, and the temp file is removed at start', { timeout: 60000 }, async () => {
  const dir = tmp();
  let srv = await spawnAmber(dir, { save: '' });
  let c = await RawClient.connect(srv.port);
  await c.call('SET', 'generation', '1');
  assert.equal(await c.call('SAVE'), '+OK\r\n');
  await populate(c, 2000);
  await c.call('SET', 'generation', '2');
  // a save slowed to about a millisecond per key (rdb-key-save-delay, ~2 s in all): the kill
  // lands while its temp file is being written
  assert.equal(await c.call('CONFIG', 'SET', 'rdb-key-save-delay', '1000'), '+OK\r\n');
  assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
  const temps = (): string[] => readdirSync(dir).filter((f) => f.startsWith('temp-'));
  for (let i = 0; i < 200 && temps().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(temps().length, 1, 'the save writes its temp file');
  assert.match(await c.call('INFO', 'persistence'), /rdb_bgsave_in_progress:1\r\n/);
  c.close();
  await srv.kill();
  srv = await spawnAmber(dir, { save: '' }, srv.port);
  c = await RawClient.connect(srv.port);
  // the previous file, whole: the killed save never replaced it
  assert.equal(await c.call('GET', 'generation'), '$1\r\n1\r\n');
  assert.deepEqual(temps(), [], 'the temp file is removed at start');
  c.close();
  await srv.stop();
});

test('BGSAVE syntax and LASTSAVE', { skip: !redisAvailable() && NO_REDIS }, async () => {
  const s = await startAmber();
  const c = await RawClient.connect(s.port);
  assert.equal(await c.call('BGSAVE', 'NOW'), '-ERR syntax error\r\n');
  assert.equal(await c.call('BGSAVE', 'SCHEDULE'), '+Background saving started\r\n');
  await waitSaved(c);
  const last = Number((await c.call('LASTSAVE')).slice(1, -2));
  assert.ok(Math.abs(last - Date.now() / 1000) < 5);
  c.close();
  await s.close();
});

test('BGSAVE and SAVE of the built server compress and checksum in a save worker: same keyspace after restart, redis-check-rdb passes, SAVE writes the BGSAVE\'s bytes; a worker open error fails the save cleanly', async () => {
  const dir = tmp();
  const child = await spawnAmber(dir);
  const c = await RawClient.connect(child.port);
  let expected: string;
  try {
    await populate(c, 6000);
    // compressible and incompressible strings around LZF's 20-byte threshold, and bigger than a chunk
    const cmds: string[][] = [];
    for (let i = 0; i < 2000; i++) {
      cmds.push(['SET', `lz:${i}`, 'abc'.repeat(5 + (i % 40))]);
      cmds.push(['SET', `raw:${i}`, Buffer.from(Array.from({ length: 21 + (i % 60) }, (_, j) => (i * 31 + j * 7919) & 255)).toString('latin1')]);
    }
    cmds.push(['SET', 'huge', 'xy'.repeat(100000)], ['RPUSH', 'biglist', ...Array.from({ length: 2000 }, (_, i) => `element-${i}-${'p'.repeat(i % 30)}`)]);
    await c.pipeline(cmds);
    expected = await keyspaceDump(child.port);
    // the worker cannot create its file (a directory stands at the temp file's name): the save
    // fails with the reason in the log, the server goes on
    const temp = join(dir, `temp-${child.proc.pid}-1.rdb`);
    mkdirSync(temp);
    await c.call('BGSAVE');
    assert.match(await waitSaved(c), /rdb_last_bgsave_status:err/);
    assert.equal(await c.call('PING'), '+PONG\r\n');
    assert.match(child.log(), /Background saving error: .*EISDIR/);
    rmSync(temp, { recursive: true });
    // and the next one works
    assert.match(await c.call('BGSAVE'), /Background saving started/);
    assert.match(await waitSaved(c), /rdb_last_bgsave_status:ok/);
    const bgsaved = readFileSync(join(dir, 'dump.rdb'));
    // SAVE through the worker too (blocking): a failure to create its file is an error reply
    const saveTemp = join(dir, `temp-${child.proc.pid}.rdb`);
    mkdirSync(saveTemp);
    assert.match(await c.call('SAVE'), /^-ERR/);
    assert.equal(await c.call('PING'), '+PONG\r\n');
    rmSync(saveTemp, { recursive: true });
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    // the same bytes as the BGSAVE's but for the aux fields (ctime, used-mem) and so the CRC
    const saved = readFileSync(join(dir, 'dump.rdb'));
    const body = (b: Buffer): Buffer => b.subarray(afterAux(b), b.length - 8);
    assert.equal(saved[afterAux(saved)], 0xfe, 'SELECTDB after the aux fields');
    assert.ok(body(saved).equals(body(bgsaved)), 'SAVE and BGSAVE wrote different keys');
    assertRedisCheckRdb(join(dir, 'dump.rdb'));
  } finally {
    c.close();
    await child.kill();
  }
  // the file restarts to the keyspace it was taken from
  const restarted = await spawnAmber(dir);
  try {
    assert.equal(await keyspaceDump(restarted.port), expected);
  } finally {
    await restarted.kill();
  }
});
