/**
 * DEBUG LOADAOF (src/persistence/aof/debug.ts, Aof.reloadFromDisk): the data set reloaded from the
 * AOF on disk is the one a restart loads, nothing of the reload reaches the AOF, and later writes
 * do; with a rewrite or a BGSAVE under way; WATCH; clients during the reload; appendonly no.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, cpSync, mkdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { startAmber, RawClient, keyspaceDump, spawnAmber, tempDirs } from '../helpers/servers.js';
import { assertAccounting } from '../helpers/accounting.js';
import { RdbFileOutput } from '../../src/persistence/bgsave.js';

const tmp = tempDirs('amber-aof-debug-');

const FUTURE = String(Math.floor(Date.now() / 1000) + 100000);
const many = (n: number, f: (i: number) => string[]): string[] => Array.from({ length: n }, (_, i) => f(i)).flat();

/** Every type, small and big encodings, TTLs, three databases, a transaction, a stream with a PEL. */
const FIRST: string[][] = [
  ['SET', 'str', 'hello'], ['SET', 'bin', '\x00\xff\r\n'], ['INCR', 'counter'], ['SET', 'ttl', 'v', 'EX', '100000'],
  ['INCRBYFLOAT', 'float', '10.5'], ['SETBIT', 'bits', '100', '1'], ['PFADD', 'hll', 'a', 'b', 'c'],
  ['RPUSH', 'list', 'a', 'b', 'c'], ['RPUSH', 'biglist', ...many(300, (i) => [`item${i}`])], ['PEXPIRE', 'list', '500000000'],
  ['HSET', 'hash', 'f1', 'v1', 'f2', 'v2'], ['HSET', 'bighash', ...many(300, (i) => [`f${i}`, `v${i}`])], ['EXPIRE', 'bighash', '100000'],
  ['SADD', 'set', 'x', 'y'], ['SADD', 'intset', '1', '2', '3'], ['SADD', 'bigset', ...many(300, (i) => [`m${i}`])],
  ['ZADD', 'zset', '1.5', 'a', '-inf', 'b', '3', 'c'], ['ZADD', 'bigzset', ...many(200, (i) => [String(i / 3), `z${i}`])],
  ['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo'],
  ['XADD', 'stream', '1-1', 'f', 'v'], ['XADD', 'stream', '2-1', 'g', 'w'], ['XGROUP', 'CREATE', 'stream', 'grp', '0'],
  ['XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', '1', 'STREAMS', 'stream', '>'], ['XGROUP', 'CREATECONSUMER', 'stream', 'grp', 'bob'],
  ['SELECT', '1'], ['SET', 'db1', 'v', 'PX', '900000000'], ['LPUSH', 'db1list', 'q', 'r'],
  ['SELECT', '5'], ['HSET', 'db5hash', 'a', '1'], ['EXPIREAT', 'db5hash', FUTURE], ['SELECT', '0'],
];
const SECOND: string[][] = [
  ['MULTI'], ['SET', 'tx', '1'], ['INCR', 'tx'], ['LPUSH', 'list', 'z'], ['EXEC'],
  ['DEL', 'str'], ['SET', 'gone', 'x', 'PX', '1'], ['HDEL', 'bighash', 'f7'], ['ZINCRBY', 'bigzset', '2', 'z3'],
  ['XADD', 'stream', '3-1', 'h', 'x'], ['XREADGROUP', 'GROUP', 'grp', 'bob', 'COUNT', '1', 'STREAMS', 'stream', '>'], ['SELECT', '5'], ['SADD', 'db5set', 'm'], ['SELECT', '0'],
];

async function run(port: number, cmds: string[][]): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (const cmd of cmds) await c.call(...cmd);
  } finally {
    c.close();
  }
}

async function waitRewriteDone(c: RawClient): Promise<string> {
  let info = '';
  for (let i = 0; i < 300; i++) {
    info = await c.call('INFO', 'persistence');
    if (info.includes('aof_rewrite_in_progress:0') && info.includes('aof_rewrite_scheduled:0')) return info;
    await new Promise((x) => setTimeout(x, 20));
  }
  throw new Error(`the rewrite did not end: ${info}`);
}

/** name -> bytes of every file in the AOF directory */
function aofFiles(dir: string): Map<string, string> {
  const d = join(dir, 'appendonlydir');
  return new Map(readdirSync(d).sort().map((f) => [f, readFileSync(join(d, f), 'latin1')]));
}

/** The keyspace a fresh server loads from a copy of `dir`'s AOF directory (a restart, without touching `dir`). */
async function restartedDump(dir: string, directives: Record<string, string>): Promise<string> {
  const copy = tmp();
  cpSync(join(dir, 'appendonlydir'), join(copy, 'appendonlydir'), { recursive: true });
  const s = await startAmber({ ...directives, dir: copy });
  try {
    return await keyspaceDump(s.port);
  } finally {
    await s.close();
  }
}

for (const preamble of ['yes', 'no']) {
  test(`DEBUG LOADAOF (rdb preamble ${preamble}) reloads every type, TTL and db as a restart does; nothing is appended; later writes are`, async () => {
    const dir = tmp();
    const directives = { dir, save: '', appendonly: 'yes', 'aof-use-rdb-preamble': preamble, appendfsync: 'always', maxmemory: '1gb' };
    const s = await startAmber(directives);
    const c = await RawClient.connect(s.port);
    try {
      await run(s.port, FIRST);
      assert.equal(await c.call('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
      await waitRewriteDone(c);
      await run(s.port, SECOND);
      const before = await keyspaceDump(s.port);
      assert.match(before, /"key":"stream".*"grp"/, 'the dump sees the stream group');
      // the dump shows a group's PEL size only: its consumers and their entries too
      const pel = await c.pipeline([['XPENDING', 'stream', 'grp'], ['XINFO', 'CONSUMERS', 'stream', 'grp']]);
      assert.match(pel[0]!, /alice/);
      const digest = await c.call('DEBUG', 'DIGEST');
      const files = aofFiles(dir);
      assert.equal(await c.call('DEBUG', 'LOADAOF'), '+OK\r\n');
      assertAccounting(s.server, 'after DEBUG LOADAOF');
      assert.equal(await keyspaceDump(s.port), before);
      // the dump read every key: zsets and sets loaded packed from an RDB base are built now
      assertAccounting(s.server, 'after reading every key');
      assert.equal(await c.call('DEBUG', 'DIGEST'), digest);
      const pelAfter = await c.pipeline([['XPENDING', 'stream', 'grp'], ['XINFO', 'CONSUMERS', 'stream', 'grp']]);
      assert.equal(pelAfter[0], pel[0]);
      // consumer names and pending counts (idle times move on)
      const names = (r: string): string[] => r.match(/\$\d+\r\n(alice|bob)\r\n|:\d+\r\n/g) ?? [];
      assert.deepEqual(names(pelAfter[1]!).filter((x) => /alice|bob/.test(x)), names(pel[1]!).filter((x) => /alice|bob/.test(x)));
      assert.deepEqual(aofFiles(dir), files, 'the reload appends nothing (no effect of the loaded commands, no DEBUG)');
      assert.equal(await restartedDump(dir, directives), before, 'a restart loads the same data set');
      // aof_base_size and aof_current_size are the loaded files', as loadAppendOnlyFiles sets them
      const info = await c.call('INFO', 'persistence');
      const sizes = [...files.keys()].filter((f) => !f.endsWith('.manifest')).map((f) => statSync(join(dir, 'appendonlydir', f)).size);
      const baseName = [...files.keys()].find((f) => f.includes('.base.'))!;
      assert.match(info, new RegExp(`aof_base_size:${statSync(join(dir, 'appendonlydir', baseName)).size}\r\n`));
      assert.match(info, new RegExp(`aof_current_size:${sizes.reduce((a, b) => a + b, 0)}\r\n`));
      // the dirty counter is reset (server.dirty = 0)
      assert.match(await c.call('INFO', 'persistence'), /rdb_changes_since_last_save:0\r\n/);
      await run(s.port, [['SET', 'after', '1'], ['RPUSH', 'list', 'tail'], ['SELECT', '1'], ['DEL', 'db1']]);
      const after = await keyspaceDump(s.port);
      assert.equal(await restartedDump(dir, directives), after, 'writes after the reload reach the AOF');
    } finally {
      c.close();
      await s.close();
    }
  });
}

test('DEBUG LOADAOF: WATCHed keys are touched, blocked clients are served by the keys the reload brings back', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '', appendonly: 'yes' });
  const a = await RawClient.connect(s.port);
  const b = await RawClient.connect(s.port);
  try {
    await b.pipeline([['SET', 'w', '1'], ['RPUSH', 'q', 'x']]);
    // the AOF goes on holding q while memory loses it: appendonly off, DEL not logged
    await b.pipeline([['CONFIG', 'SET', 'appendonly', 'no'], ['DEL', 'q']]);
    assert.equal(await a.call('WATCH', 'w'), '+OK\r\n');
    assert.equal(await b.call('DEBUG', 'LOADAOF'), '+OK\r\n');
    assert.deepEqual(await a.pipeline([['MULTI'], ['SET', 'w', '2'], ['EXEC']]), ['+OK\r\n', '+QUEUED\r\n', '*-1\r\n']);
    assert.equal(await b.call('DEL', 'q'), ':1\r\n', 'q is back from the AOF');
    const popped = a.call('BLPOP', 'q', '0');
    await new Promise((x) => setTimeout(x, 50));
    assert.equal(await b.call('DEBUG', 'LOADAOF'), '+OK\r\n');
    assert.equal(await popped, '*2\r\n$1\r\nq\r\n$1\r\nx\r\n');
    assert.match(await b.call('INFO', 'persistence'), /aof_enabled:0/, 'the reload does not turn AOF on');
  } finally {
    a.close();
    b.close();
    await s.close();
  }
});

test('DEBUG LOADAOF blocks as Redis does: another client never sees a half-loaded keyspace', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '', appendonly: 'yes', 'aof-use-rdb-preamble': 'no' });
  const a = await RawClient.connect(s.port);
  const b = await RawClient.connect(s.port);
  try {
    const n = 60000;
    for (let i = 0; i < n; i += 10000) await a.pipeline(Array.from({ length: 10000 }, (_, j) => ['SET', `k${i + j}`, 'v']));
    let done = false;
    const reload = a.call('DEBUG', 'LOADAOF').then((r) => { done = true; return r; });
    const seen = new Set<string>();
    for (let i = 0; i < 2000 && !done; i++) seen.add(await b.call('DBSIZE'));
    assert.equal(await reload, '+OK\r\n');
    seen.add(await b.call('DBSIZE'));
    assert.deepEqual([...seen], [`:${n}\r\n`]);
  } finally {
    a.close();
    b.close();
    await s.close();
  }
});

test('DEBUG LOADAOF during a rewrite and a BGSAVE: both finish, and the AOF and the RDB load to the same data set', async () => {
  const dir = tmp();
  const directives = { dir, save: '', appendonly: 'yes', 'aof-use-rdb-preamble': 'yes' };
  const s = await startAmber(directives);
  const c = await RawClient.connect(s.port);
  // a slow disk at the end of a base or dump.rdb: each stays in progress for 300 ms
  const realFinish = RdbFileOutput.prototype.finish;
  RdbFileOutput.prototype.finish = async function (this: RdbFileOutput): Promise<void> {
    await new Promise((r) => setTimeout(r, 300));
    return realFinish.call(this);
  };
  try {
    await run(s.port, FIRST);
    assert.equal(await c.call('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
    // after the rewrite's point in time: in its new incr file, already in the manifest
    await run(s.port, SECOND);
    assert.match(await c.call('INFO', 'persistence'), /aof_rewrite_in_progress:1/);
    const before = await keyspaceDump(s.port);
    assert.equal(await c.call('DEBUG', 'LOADAOF'), '+OK\r\n');
    assert.equal(await keyspaceDump(s.port), before);
    let info = await waitRewriteDone(c);
    assert.match(info, /aof_last_bgrewrite_status:ok/);
    assert.equal(await restartedDump(dir, directives), before, 'the rewritten AOF loads');
    // a BGSAVE under way keeps its point in time
    await run(s.port, [['SET', 'pre-save', '1']]);
    const saved = await keyspaceDump(s.port);
    assert.equal(await c.call('BGSAVE'), '+Background saving started\r\n');
    assert.equal(await c.call('DEBUG', 'LOADAOF'), '+OK\r\n');
    assert.equal(await keyspaceDump(s.port), saved);
    for (let i = 0; i < 300 && !(info = await c.call('INFO', 'persistence')).includes('rdb_bgsave_in_progress:0'); i++) await new Promise((x) => setTimeout(x, 20));
    assert.match(info, /rdb_last_bgsave_status:ok/);
    const rdbDir = tmp();
    cpSync(join(dir, 'dump.rdb'), join(rdbDir, 'dump.rdb'));
    const r = await startAmber({ dir: rdbDir, save: '', appendonly: 'no' });
    try {
      assert.equal(await keyspaceDump(r.port), saved);
    } finally {
      await r.close();
    }
  } finally {
    RdbFileOutput.prototype.finish = realFinish;
    c.close();
    await s.close();
  }
});

test('DEBUG LOADAOF on a torn tail cuts the file and exits with 1, as Redis 7.0.15; a restart loads the AOF as cut', async () => {
  const dir = tmp();
  const child = await spawnAmber(dir, { appendonly: 'yes', 'aof-use-rdb-preamble': 'no', appendfsync: 'always', 'enable-debug-command': 'yes' });
  const exited = new Promise<number | null>((r) => child.proc.once('exit', (code) => r(code)));
  const c = await RawClient.connect(child.port);
  await c.pipeline([['SET', 'a', '1'], ['SET', 'b', '2']]);
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  const complete = statSync(incr).size;
  await c.call('SET', 'torn', 'xxxxxxxx');
  truncateSync(incr, statSync(incr).size - 5); // the last command torn, as by a crash of the disk
  assert.equal(await c.call('DEBUG', 'LOADAOF').catch(() => 'closed'), 'closed');
  c.close();
  assert.equal(await exited, 1);
  assert.match(child.log(), /Truncating the AOF .*appendonly\.aof\.1\.incr\.aof at offset/);
  assert.match(child.log(), /DEBUG LOADAOF: the last AOF file in .* had a torn tail.*Exiting with status 1/);
  assert.equal(statSync(incr).size, complete, 'cut at the last complete command');
  const s = await startAmber({ dir, save: '', appendonly: 'yes' });
  const c2 = await RawClient.connect(s.port);
  try {
    assert.deepEqual(await c2.pipeline([['MGET', 'a', 'b'], ['EXISTS', 'torn']]), ['*2\r\n$1\r\n1\r\n$1\r\n2\r\n', ':0\r\n']);
  } finally {
    c2.close();
    await s.close();
  }
});

test('DEBUG LOADAOF with appendonly no: an AOF left on disk is loaded; with none the server exits with 1 and says why', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, save: '', appendonly: 'yes' });
  const c = await RawClient.connect(s.port);
  try {
    await c.pipeline([['SET', 'kept', '1'], ['CONFIG', 'SET', 'appendonly', 'no'], ['SET', 'lost', '1'], ['SET', 'kept', '2']]);
    const files = aofFiles(dir);
    assert.equal(await c.call('DEBUG', 'LOADAOF', 'extra', 'args'), '+OK\r\n', 'Redis ignores extra arguments');
    assert.deepEqual(await c.pipeline([['GET', 'kept'], ['EXISTS', 'lost']]), ['$1\r\n1\r\n', ':0\r\n']);
    assert.match(await c.call('INFO', 'persistence'), /aof_enabled:0/);
    assert.deepEqual(aofFiles(dir), files);
  } finally {
    c.close();
    await s.close();
  }
  // no AOF at all: Redis 7.0.15 exits(1) (loadAppendOnlyFiles answers AOF_NOT_EXIST); a child process
  const empty = tmp();
  mkdirSync(join(empty, 'data'));
  const child = await spawnAmber(join(empty, 'data'), { appendonly: 'no', 'enable-debug-command': 'yes' });
  const exited = new Promise<number | null>((r) => child.proc.once('exit', (code) => r(code)));
  const cc = await RawClient.connect(child.port);
  await cc.call('SET', 'k', 'v');
  await cc.call('DEBUG', 'LOADAOF').catch(() => '');
  cc.close();
  assert.equal(await exited, 1);
  assert.match(child.log(), /DEBUG LOADAOF found no AOF to load in .*appendonlydir.*Exiting with status 1/);
});

test('DEBUG LOADAOF without an AOF stops an embedded server instead of ending its host process', async () => {
  const s = await startAmber({ dir: tmp(), save: '' });
  let exitCode: number | undefined;
  s.server.onExit = (code) => {
    exitCode = code;
  };
  const c = await RawClient.connect(s.port);
  await c.call('SET', 'k', 'v');
  const r = await c.call('DEBUG', 'LOADAOF').then((x) => x, (e: Error) => e);
  assert.ok(r instanceof Error && /connection closed/.test(r.message), `DEBUG LOADAOF answered ${String(r)}`);
  assert.equal(exitCode, 1);
  await assert.rejects(RawClient.connect(s.port), 'the listener is closed');
  await s.close();
});
