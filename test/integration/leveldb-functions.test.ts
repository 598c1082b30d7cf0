/**
 * Function libraries in the LevelDB store (layout.ts `F` record): FUNCTION LOAD / DELETE / FLUSH /
 * RESTORE under `leveldb-sync always` survive kill -9 and a restart from the store alone, a
 * FUNCTION LOAD inside MULTI/EXEC commits with the transaction's keys, a BACKUP copy holds the
 * libraries, CONFIG SET leveldb yes and the start-up import (dump.rdb, the AOF) write them into
 * the store, the change hook follows the engine on and off, and a library that does not compile
 * (or a corrupt record) stops the start-up with the store and the library named.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { spawnAmber, startAmber, startRedis, redisAvailable, RawClient, type AmberChild } from '../helpers/servers.js';
import { infoField } from '../helpers/leveldb.js';
import { checkLevelDb } from '../../src/bin/amber-check-leveldb.js';
import { levelDbOf } from '../../src/persistence/leveldb/index.js';
import * as L from '../../src/persistence/leveldb/layout.js';

const root = mkdtempSync(join(tmpdir(), 'amber-ldb-functions-'));
const children: AmberChild[] = [];
after(async () => {
  for (const c of children) await c.kill().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory under the test root. */
function newDir(): string {
  return mkdtempSync(join(root, 'd-'));
}

/** Spawns an amber-server child, killed after the file's tests whatever happens. */
async function spawn(dir: string, directives: Record<string, string>): Promise<AmberChild> {
  const c = await spawnAmber(dir, directives);
  children.push(c);
  return c;
}

/** kill -9, then a new child on the same directory with `directives`. */
async function crashAndRestart(child: AmberChild, dir: string, directives: Record<string, string>): Promise<AmberChild> {
  await child.kill();
  return spawn(dir, directives);
}

/** Two functions, one read-only returning bytes beyond ASCII (the record holds any byte). */
const LIB_A = "#!lua name=liba\n" +
  "redis.register_function('geta', function(keys, args) return redis.call('GET', keys[1]) end)\n" +
  "redis.register_function{function_name='echoa', callback=function(keys, args) return args[1] .. '\xff\x80\x00' end, flags={'no-writes'}}\n";
const LIB_B = "#!lua name=libb\nlocal function incr(keys, args) return redis.call('INCRBY', keys[1], args[1]) end\nredis.register_function('incrb', incr)\n";
const LIB_A2 = "#!lua name=liba\nredis.register_function('geta2', function(keys, args) return 'v2' end)\n";
const LIB_C = "#!lua name=libc\nredis.register_function('fc', function(keys, args) return 'c' end)\n";

const ALWAYS = { leveldb: 'yes', 'leveldb-sync': 'always' };

/** The bulk string payload of a raw `$n\r\n...\r\n` reply. */
function bulk(reply: string): string {
  const m = /^\$(\d+)\r\n/.exec(reply);
  assert.ok(m !== null, `a bulk reply: ${reply.slice(0, 80)}`);
  return reply.slice(m[0].length, m[0].length + Number(m[1]));
}

/** Runs commands that must all succeed; returns their replies. */
async function ok(rc: RawClient, ...cmds: string[][]): Promise<string[]> {
  const replies = await rc.pipeline(cmds);
  replies.forEach((r, i) => assert.ok(!r.startsWith('-'), `${cmds[i]!.join(' ').slice(0, 60)}: ${r}`));
  return replies;
}

/** FUNCTION LIST WITHCODE of the server on `port`. */
async function listWithCode(port: number): Promise<string> {
  const rc = await RawClient.connect(port);
  try {
    return await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  } finally {
    rc.close();
  }
}

test('FUNCTION LOAD / DELETE / FLUSH / RESTORE / LOAD REPLACE under leveldb-sync always survive kill -9 and a restart from the store', async () => {
  const dir = newDir();
  let child = await spawn(dir, ALWAYS);
  let rc = await RawClient.connect(child.port);
  await ok(rc, ['FUNCTION', 'LOAD', LIB_A], ['FUNCTION', 'LOAD', LIB_B], ['SET', 'k', '1']);
  const both = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  assert.ok(both.includes('liba') && both.includes('libb'));
  const dump = bulk(await rc.call('FUNCTION', 'DUMP'));
  rc.close();

  child = await crashAndRestart(child, dir, ALWAYS);
  assert.match(child.log(), /2 function libraries/, 'the load log counts the libraries');
  rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FUNCTION', 'LIST', 'WITHCODE'), both, 'the same libraries, code and order');
  assert.equal(await rc.call('FCALL', 'geta', '1', 'k'), '$1\r\n1\r\n');
  assert.equal(await rc.call('FCALL', 'incrb', '1', 'k', '5'), ':6\r\n');
  assert.equal(await rc.call('FCALL_RO', 'echoa', '0', 'x'), '$4\r\nx\xff\x80\x00\r\n');
  await ok(rc, ['FUNCTION', 'DELETE', 'liba']);
  const onlyB = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  rc.close();

  child = await crashAndRestart(child, dir, ALWAYS);
  rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FUNCTION', 'LIST', 'WITHCODE'), onlyB, 'FUNCTION DELETE survived');
  assert.match(await rc.call('FCALL', 'geta', '1', 'k'), /^-ERR Function not found/);
  assert.equal(await rc.call('GET', 'k'), '$1\r\n6\r\n', 'the FCALL write survived too');
  await ok(rc, ['FUNCTION', 'FLUSH']);
  rc.close();

  child = await crashAndRestart(child, dir, ALWAYS);
  rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FUNCTION', 'LIST'), '*0\r\n', 'FUNCTION FLUSH survived');
  assert.equal(await rc.call('GET', 'k'), '$1\r\n6\r\n', 'FUNCTION FLUSH leaves the keys');
  await ok(rc, ['FUNCTION', 'RESTORE', dump]);
  rc.close();

  child = await crashAndRestart(child, dir, ALWAYS);
  rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FUNCTION', 'LIST', 'WITHCODE'), both, 'FUNCTION RESTORE survived');
  // a replaced library and a restore with REPLACE, in one pipeline (one or two turns)
  await ok(rc, ['FUNCTION', 'LOAD', 'REPLACE', LIB_A2], ['FUNCTION', 'RESTORE', dump, 'REPLACE'], ['FUNCTION', 'LOAD', 'REPLACE', LIB_A2]);
  const replaced = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  assert.ok(replaced.includes('geta2') && !replaced.includes("'geta'"));
  rc.close();

  child = await crashAndRestart(child, dir, ALWAYS);
  rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FUNCTION', 'LIST', 'WITHCODE'), replaced, 'FUNCTION LOAD REPLACE survived');
  assert.equal(await rc.call('FCALL', 'geta2', '0'), '$2\r\nv2\r\n');
  rc.close();
  // FUNCTION FLUSH deletes the record: the store holds no `F` any more
  const rc2 = await RawClient.connect(child.port);
  await ok(rc2, ['FUNCTION', 'FLUSH']);
  rc2.close();
  assert.equal(await child.stop(), 0);
  const store = new ClassicLevel<string, string>(join(dir, 'leveldb'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await store.open();
  try {
    assert.equal(await store.get(L.P_FUNCTIONS), undefined);
  } finally {
    await store.close();
  }
});

test('FUNCTION LOAD inside MULTI/EXEC commits with the transaction\'s SET', async () => {
  const dir = newDir();
  let child = await spawn(dir, ALWAYS);
  let rc = await RawClient.connect(child.port);
  await ok(rc, ['FUNCTION', 'LOAD', LIB_B]);
  const replies = await rc.pipeline([['MULTI'], ['FUNCTION', 'LOAD', LIB_C], ['SET', 'm', 'in-multi'], ['FUNCTION', 'DELETE', 'libb'], ['EXEC']]);
  assert.equal(replies[4], '*3\r\n$4\r\nlibc\r\n+OK\r\n+OK\r\n');
  const list = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  rc.close();
  child = await crashAndRestart(child, dir, ALWAYS);
  rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FUNCTION', 'LIST', 'WITHCODE'), list);
  assert.equal(await rc.call('GET', 'm'), '$8\r\nin-multi\r\n');
  assert.equal(await rc.call('FCALL', 'fc', '0'), '$1\r\nc\r\n');
  rc.close();
});

test('BACKUP while libraries exist: the copy passes amber-check-leveldb, and a server started on it has them', async () => {
  const dir = newDir();
  const child = await spawn(dir, ALWAYS);
  const rc = await RawClient.connect(child.port);
  await ok(rc, ['FUNCTION', 'LOAD', LIB_A], ['FUNCTION', 'LOAD', LIB_B], ['SET', 'k', 'v']);
  const list = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  // BACKUP in the same pipeline as a change after it: the copy is the point BACKUP was accepted
  const replies = await rc.pipeline([['FUNCTION', 'LOAD', LIB_C], ['FUNCTION', 'DELETE', 'libc'], ['BACKUP', 'bk'], ['FUNCTION', 'DELETE', 'liba']]);
  assert.equal(replies[2], '+Background backup started\r\n');
  for (let i = 0; ; i++) {
    const info = await rc.call('INFO', 'leveldb');
    if (infoField(info, 'leveldb_backup_in_progress') === '0') {
      assert.equal(infoField(info, 'leveldb_last_backup_status'), 'ok');
      break;
    }
    assert.ok(i < 500, 'the backup finishes');
    await new Promise((r) => setTimeout(r, 20));
  }
  rc.close();
  const out: string[] = [];
  assert.equal(await checkLevelDb(join(dir, 'bk'), (l) => out.push(l)), true, out.join('\n'));
  await child.kill();
  const b = await spawn(dir, { ...ALWAYS, 'leveldb-path': 'bk' });
  assert.equal(await listWithCode(b.port), list);
  const bc = await RawClient.connect(b.port);
  assert.equal(await bc.call('FCALL', 'geta', '1', 'k'), '$1\r\nv\r\n');
  bc.close();
  await b.kill();
});

test('CONFIG SET leveldb yes at run time writes the loaded libraries into the store; later changes follow', async () => {
  const dir = newDir();
  let child = await spawn(dir, { 'leveldb-sync': 'always' });
  let rc = await RawClient.connect(child.port);
  await ok(rc, ['FUNCTION', 'LOAD', LIB_A], ['FUNCTION', 'LOAD', LIB_B], ['SET', 'k', '1']);
  const list = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  await ok(rc, ['CONFIG', 'SET', 'leveldb', 'yes']);
  for (let i = 0; !(await rc.call('INFO', 'leveldb')).includes('leveldb_state:on\r\n'); i++) {
    assert.ok(i < 500, 'the import finishes');
    await new Promise((r) => setTimeout(r, 10));
  }
  rc.close();
  child = await crashAndRestart(child, dir, ALWAYS);
  assert.equal(await listWithCode(child.port), list);
  rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FCALL', 'incrb', '1', 'k', '2'), ':3\r\n');
  await ok(rc, ['FUNCTION', 'DELETE', 'libb']);
  const onlyA = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  rc.close();
  child = await crashAndRestart(child, dir, ALWAYS);
  assert.equal(await listWithCode(child.port), onlyA);
  await child.kill();
});

test('the change hook is registered while the engine writes through only; CONFIG SET leveldb yes again imports libraries loaded meanwhile', async () => {
  const dir = newDir();
  const directives = { dir, save: '', leveldb: 'yes' };
  let s = await startAmber(directives);
  const rc = await RawClient.connect(s.port);
  const waitState = async (state: string): Promise<void> => {
    for (let i = 0; !(await rc.call('INFO', 'leveldb')).includes(`leveldb_state:${state}\r\n`); i++) {
      assert.ok(i < 500, `leveldb_state becomes ${state}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    const hooks = s.server.functions.changeHooks;
    const base = hooks.length;
    assert.ok(base >= 1, 'registered once the store is loaded');
    await ok(rc, ['FUNCTION', 'LOAD', LIB_A]);
    await ok(rc, ['CONFIG', 'SET', 'leveldb', 'no']);
    await waitState('off');
    assert.equal(hooks.length, base - 1, 'unregistered when the engine stops');
    // not written: the store is detached
    await ok(rc, ['FUNCTION', 'LOAD', LIB_B]);
    await ok(rc, ['CONFIG', 'SET', 'leveldb', 'yes']);
    await waitState('on');
    assert.equal(hooks.length, base, 'registered again, once');
    const store = levelDbOf(s.server)!.engine.store!;
    assert.deepEqual(L.decodeFunctions((await store.get(L.P_FUNCTIONS))!), [LIB_A, LIB_B]);
  } finally {
    rc.close();
    await s.close();
  }
  s = await startAmber(directives);
  try {
    assert.deepEqual(s.server.functions.codes(), [LIB_A, LIB_B]);
  } finally {
    await s.close();
  }
});

test('start-up import: the libraries of dump.rdb (written by redis-server when installed) and of the AOF go into the store', async () => {
  // dump.rdb with FUNCTION2 records
  const rdbDir = newDir();
  if (redisAvailable()) {
    const r = await startRedis([], newDir());
    const rr = await RawClient.connect(r.port);
    await ok(rr, ['FUNCTION', 'LOAD', LIB_A], ['FUNCTION', 'LOAD', LIB_B], ['SET', 'k', '1'], ['SAVE']);
    rr.close();
    copyFileSync(join(r.dir, 'dump.rdb'), join(rdbDir, 'dump.rdb'));
    await r.close();
  } else {
    const a = await spawn(rdbDir, {});
    const ra = await RawClient.connect(a.port);
    await ok(ra, ['FUNCTION', 'LOAD', LIB_A], ['FUNCTION', 'LOAD', LIB_B], ['SET', 'k', '1'], ['SAVE']);
    ra.close();
    await a.kill();
  }
  let child = await spawn(rdbDir, ALWAYS);
  assert.match(child.log(), /Imported .*dump\.rdb into the LevelDB store .*: 1 keys and 2 function libraries/);
  const byName = async (port: number): Promise<string[]> => {
    const rc = await RawClient.connect(port);
    try {
      // Redis lists libraries in its dict's order: compare them one by one
      return await rc.pipeline(['liba', 'libb'].map((n) => ['FUNCTION', 'LIST', 'WITHCODE', 'LIBRARYNAME', n]));
    } finally {
      rc.close();
    }
  };
  const imported = await byName(child.port);
  rmSync(join(rdbDir, 'dump.rdb'));
  child = await crashAndRestart(child, rdbDir, ALWAYS);
  assert.deepEqual(await byName(child.port), imported);
  let rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('FCALL', 'incrb', '1', 'k', '1'), ':2\r\n');
  rc.close();
  await child.kill();

  // an AOF whose FUNCTION LOADs are replayed by the import
  const aofDir = newDir();
  const a = await spawn(aofDir, { appendonly: 'yes', appendfsync: 'always' });
  rc = await RawClient.connect(a.port);
  await ok(rc, ['FUNCTION', 'LOAD', LIB_A], ['FUNCTION', 'LOAD', LIB_B], ['FUNCTION', 'DELETE', 'liba'], ['FUNCTION', 'LOAD', LIB_C], ['SET', 'k', 'aof']);
  const list = await rc.call('FUNCTION', 'LIST', 'WITHCODE');
  rc.close();
  assert.equal(await a.stop(), 0);
  assert.ok(existsSync(join(aofDir, 'appendonlydir')));
  child = await spawn(aofDir, ALWAYS);
  assert.match(child.log(), /Imported the AOF .* 2 function libraries/);
  assert.equal(await listWithCode(child.port), list);
  rmSync(join(aofDir, 'appendonlydir'), { recursive: true });
  child = await crashAndRestart(child, aofDir, ALWAYS);
  assert.equal(await listWithCode(child.port), list);
  await child.kill();
});

/** Writes a minimal store (format 2, db 0 in namespace 1, one key) with `F` set to `functions`. */
async function storeWithFunctions(path: string, functions: string): Promise<void> {
  const db = new ClassicLevel<string, string>(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  await db.batch([
    { type: 'put', key: L.P_COUNTERS, value: L.countersValue(1, 2) },
    { type: 'put', key: L.dbKey(0), value: L.varint(1) },
    { type: 'put', key: L.metaKey(1, 'k'), value: L.stringMeta('v', -1) },
    { type: 'put', key: L.P_FUNCTIONS, value: functions },
    { type: 'put', key: L.P_INFO, value: L.FORMAT },
  ]);
  await db.close();
}

test('a library in the store that does not compile, or a corrupt F record, stops the start-up naming the store and the library', async () => {
  const dir = newDir();
  const path = join(dir, 'leveldb');
  await storeWithFunctions(path, L.functionsValue([LIB_B, '#!lua name=broken\nthis is not lua\n']));
  await assert.rejects(spawn(dir, ALWAYS), (e: Error) => {
    assert.match(e.message, /Fatal error loading the LevelDB store/);
    assert.match(e.message, /the function library 'broken' in the LevelDB store [^ ]*leveldb \(library 2 of 2 of its 'F' record\) failed to load: .*The store was not changed/);
    return true;
  });
  // the store is as it was: fixed, it loads
  await storeWithFunctions(path, L.functionsValue([LIB_B]));
  const child = await spawn(dir, ALWAYS);
  const rc = await RawClient.connect(child.port);
  assert.equal(await rc.call('GET', 'k'), '$1\r\nv\r\n');
  assert.equal(await rc.call('FCALL', 'incrb', '1', 'n', '4'), ':4\r\n');
  rc.close();
  await child.kill();

  const dir2 = newDir();
  await storeWithFunctions(join(dir2, 'leveldb'), L.functionsValue([LIB_A, LIB_B]).slice(0, -10));
  await assert.rejects(spawn(dir2, ALWAYS), /Fatal error loading the LevelDB store .*corrupt function libraries record 'F' \(\d+ bytes\) in the LevelDB store [^ ]*leveldb: library 2 of 2 is \d+ bytes, past the end/);
});
