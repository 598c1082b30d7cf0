/**
 * Function libraries through every persistence path Redis 7.0.15 keeps them in, with amber-server
 * children and, where the file must move between servers, redis-server 7.0.15:
 * - RDB: FUNCTION2 records in Amber's dump.rdb pass redis-check-rdb and load in redis-server to
 *   the same libraries; Redis's dump with libraries loads in Amber; a restart, DEBUG RELOAD and
 *   FLUSHALL keep them; a library that no longer compiles refuses the file with its offset;
 * - BGSAVE is point-in-time for libraries too: a FUNCTION LOAD after BGSAVE started is not in it;
 * - AOF: FUNCTION LOAD, DELETE and FCALL's effects in the incr file replay after kill -9; a
 *   rewrite writes the libraries at the head of the base, as FUNCTION LOAD commands (RESP base,
 *   redis-check-aof accepts it) or FUNCTION2 records (RDB preamble), and redis-server loads
 *   either appendonlydir to the same libraries and keys.
 * LevelDB persistence of libraries is in leveldb-functions.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync, mkdirSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { RawClient, spawnAmber, startRedis, redisAvailable, NO_REDIS, tempDirs, keyspaceDump, assertRedisCheckRdb } from '../helpers/servers.js';
import { respCommands } from '../helpers/resp.js';

const tmp = tempDirs('amber-functions-persist-');
const skip = !redisAvailable() && NO_REDIS;

const LIB1 = '#!lua name=counters\n' +
  "redis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1] or 1) end)\n" +
  "redis.register_function{function_name='peek', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads a counter'}\n";
const LIB2 = '#!lua name=text\nlocal function shout(s) return string.upper(s) .. "!" end\n' +
  "redis.register_function('shout', function(keys, args) return shout(args[1]) end)\n";

/** Runs commands on a fresh connection; the raw replies. */
async function calls(port: number, ...cmds: string[][]): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const out: string[] = [];
    for (const cmd of cmds) out.push(await c.call(...cmd));
    return out;
  } finally {
    c.close();
  }
}

/** The libraries of a server as `name:code` lines, sorted (Redis lists them in a random order). */
async function libraries(port: number): Promise<string[]> {
  const [raw] = await calls(port, ['FUNCTION', 'LIST', 'WITHCODE']);
  const out: string[] = [];
  const re = /\$12\r\nlibrary_name\r\n\$\d+\r\n([^\r]*)\r\n[\s\S]*?\$12\r\nlibrary_code\r\n\$(\d+)\r\n/g;
  for (let m = re.exec(raw!); m !== null; m = re.exec(raw!)) {
    const start = m.index + m[0].length;
    out.push(`${m[1]}:${raw!.slice(start, start + Number(m[2]))}`);
  }
  return out.sort();
}

const EXPECTED = [`counters:${LIB1}`, `text:${LIB2}`];

test('RDB: Amber saves FUNCTION2 records that redis-check-rdb and redis-server read, and loads Redis\'s', { skip }, async () => {
  const dir = tmp();
  const amber = await spawnAmber(dir);
  try {
    assert.deepEqual(await calls(amber.port, ['FUNCTION', 'LOAD', LIB1], ['FUNCTION', 'LOAD', LIB2], ['FCALL', 'bump', '1', 'n', '5'], ['SAVE']),
      ['$8\r\ncounters\r\n', '$4\r\ntext\r\n', ':5\r\n', '+OK\r\n']);
  } finally {
    await amber.kill();
  }
  assertRedisCheckRdb(join(dir, 'dump.rdb'));
  const rdir = tmp();
  copyFileSync(join(dir, 'dump.rdb'), join(rdir, 'dump.rdb'));
  const redis = await startRedis([], rdir);
  try {
    assert.deepEqual(await libraries(redis.port), EXPECTED);
    assert.deepEqual(await calls(redis.port, ['FCALL', 'bump', '1', 'n'], ['FCALL_RO', 'peek', '1', 'n'], ['FCALL', 'shout', '0', 'hi']),
      [':6\r\n', '$1\r\n6\r\n', '$3\r\nHI!\r\n']);
    // and back: Redis's dump in Amber
    assert.deepEqual(await calls(redis.port, ['FUNCTION', 'DELETE', 'text'], ['SAVE']), ['+OK\r\n', '+OK\r\n']);
  } finally {
    await redis.close();
  }
  const back = tmp();
  copyFileSync(join(rdir, 'dump.rdb'), join(back, 'dump.rdb'));
  const again = await spawnAmber(back);
  try {
    assert.deepEqual(await libraries(again.port), [`counters:${LIB1}`]);
    assert.deepEqual(await calls(again.port, ['FCALL', 'BUMP', '1', 'n', '4']), [':10\r\n']);
  } finally {
    await again.kill();
  }
});

test('a restart, DEBUG RELOAD and FLUSHALL keep the libraries; FUNCTION FLUSH is saved too', async () => {
  const dir = tmp();
  let amber = await spawnAmber(dir, { 'enable-debug-command': 'yes' });
  try {
    await calls(amber.port, ['FUNCTION', 'LOAD', LIB1], ['FUNCTION', 'LOAD', LIB2], ['SET', 'k', 'v']);
    assert.deepEqual(await calls(amber.port, ['DEBUG', 'RELOAD'], ['FLUSHALL']), ['+OK\r\n', '+OK\r\n']);
    assert.deepEqual(await libraries(amber.port), EXPECTED);
    assert.deepEqual(await calls(amber.port, ['SAVE']), ['+OK\r\n']);
    await amber.kill();
    amber = await spawnAmber(dir, { 'enable-debug-command': 'yes' });
    assert.deepEqual(await libraries(amber.port), EXPECTED);
    assert.deepEqual(await calls(amber.port, ['FCALL', 'shout', '0', 'ok']), ['$3\r\nOK!\r\n']);
    assert.deepEqual(await calls(amber.port, ['FUNCTION', 'FLUSH'], ['SAVE']), ['+OK\r\n', '+OK\r\n']);
    await amber.kill();
    amber = await spawnAmber(dir);
    assert.deepEqual(await libraries(amber.port), []);
  } finally {
    await amber.kill();
  }
});

test('a dump whose library no longer compiles is refused with the file and the offset', async () => {
  const dir = tmp();
  const amber = await spawnAmber(dir, { rdbcompression: 'no', rdbchecksum: 'no' });
  try {
    await calls(amber.port, ['FUNCTION', 'LOAD', LIB2], ['SET', 'k', 'v'], ['SAVE']);
  } finally {
    await amber.kill();
  }
  const file = join(dir, 'dump.rdb');
  const bytes = readFileSync(file, 'latin1');
  const at = bytes.indexOf('string.upper(s)');
  assert.ok(at > 0);
  // a syntax error of the same length (no checksum in the file to fix)
  writeFileSync(file, Buffer.from(bytes.slice(0, at) + 'string.upper(s(' + bytes.slice(at + 15), 'latin1'));
  await assert.rejects(spawnAmber(dir), (e: Error) => {
    assert.match(e.message, /Bad RDB file .*dump\.rdb at offset \d+: Failed loading library: Error compiling function: user_function:2:/);
    return true;
  });
});

test('BGSAVE holds the libraries of the moment it started', async () => {
  const dir = tmp();
  const amber = await spawnAmber(dir, { 'rdb-key-save-delay': '2000' });
  try {
    const fill: string[][] = [['FUNCTION', 'LOAD', LIB1]];
    for (let i = 0; i < 300; i++) fill.push(['SET', `k${i}`, 'v']);
    await calls(amber.port, ...fill);
    assert.deepEqual(await calls(amber.port, ['BGSAVE']), ['+Background saving started\r\n']);
    await calls(amber.port, ['FUNCTION', 'LOAD', LIB2], ['FUNCTION', 'DELETE', 'counters'], ['CONFIG', 'SET', 'rdb-key-save-delay', '0']);
    for (let i = 0; i < 200; i++) {
      const [info] = await calls(amber.port, ['INFO', 'persistence']);
      if (info!.includes('rdb_bgsave_in_progress:0')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await amber.kill();
  }
  const check = await spawnAmber(dir);
  try {
    assert.deepEqual(await libraries(check.port), [`counters:${LIB1}`]);
  } finally {
    await check.kill();
  }
});

/** The file of `type` (b or i) named in the appendonlydir's manifest. */
function aofPart(dir: string, type: 'b' | 'i'): string {
  const aofDir = join(dir, 'appendonlydir');
  const manifest = readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1');
  const m = new RegExp(`^file (\\S+) seq \\d+ type ${type}$`, 'm').exec(manifest);
  assert.ok(m, manifest);
  return join(aofDir, m[1]!);
}

test('AOF: library changes replay after kill -9; rewrites put the libraries at the head of the base; redis-server loads both forms', { skip }, async () => {
  const dir = tmp();
  const aof = { appendonly: 'yes', appendfsync: 'always', 'aof-use-rdb-preamble': 'no' };
  let amber = await spawnAmber(dir, aof);
  try {
    await calls(amber.port, ['FUNCTION', 'LOAD', LIB1], ['FUNCTION', 'LOAD', LIB2], ['FCALL', 'bump', '1', 'n', '3'], ['FUNCTION', 'DELETE', 'text']);
    const incr = respCommands(readFileSync(aofPart(dir, 'i'), 'latin1')).map((a) => a.map((x) => x.length > 40 ? '<code>' : x).join(' '));
    // FCALL propagates its effects, never itself (as EVAL)
    assert.deepEqual(incr, ['SELECT 0', 'FUNCTION LOAD <code>', 'FUNCTION LOAD <code>', 'INCRBY n 3', 'FUNCTION DELETE text']);
    await amber.kill();
    amber = await spawnAmber(dir, aof);
    assert.deepEqual(await libraries(amber.port), [`counters:${LIB1}`]);
    await calls(amber.port, ['FUNCTION', 'LOAD', LIB2], ['BGREWRITEAOF']);
    for (let i = 0; i < 200; i++) {
      const [info] = await calls(amber.port, ['INFO', 'persistence']);
      if (info!.includes('aof_rewrite_in_progress:0') && !info!.includes('aof_rewrite_scheduled:1')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const base = respCommands(readFileSync(aofPart(dir, 'b'), 'latin1'));
    assert.deepEqual(base.slice(0, 2).map((a) => a.slice(0, 2).join(' ')), ['FUNCTION LOAD', 'FUNCTION LOAD']);
    assert.deepEqual(base.slice(0, 2).map((a) => a[2]).sort(), [LIB1, LIB2]);
  } finally {
    await amber.kill();
  }
  const check = spawnSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const expectedKeys = await (async () => {
    const a = await spawnAmber(dir, aof);
    try {
      assert.deepEqual(await libraries(a.port), EXPECTED);
      return await keyspaceDump(a.port);
    } finally {
      await a.kill();
    }
  })();
  // the same directory in redis-server, then with an RDB-preamble base written by Amber
  for (const preamble of ['no', 'yes']) {
    if (preamble === 'yes') {
      const a = await spawnAmber(dir, { ...aof, 'aof-use-rdb-preamble': 'yes' });
      try {
        await calls(a.port, ['BGREWRITEAOF']);
        for (let i = 0; i < 200; i++) {
          const [info] = await calls(a.port, ['INFO', 'persistence']);
          if (info!.includes('aof_rewrite_in_progress:0') && !info!.includes('aof_rewrite_scheduled:1')) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.match(aofPart(dir, 'b'), /\.base\.rdb$/);
      } finally {
        await a.kill();
      }
    }
    const rdir = tmp();
    mkdirSync(join(rdir, 'appendonlydir'));
    cpSync(join(dir, 'appendonlydir'), join(rdir, 'appendonlydir'), { recursive: true });
    const redis = await startRedis(['--appendonly', 'yes'], rdir);
    try {
      assert.deepEqual(await libraries(redis.port), EXPECTED, `preamble ${preamble}`);
      assert.equal(await keyspaceDump(redis.port), expectedKeys);
    } finally {
      await redis.close();
    }
    const a = await spawnAmber(dir, aof);
    try {
      assert.deepEqual(await libraries(a.port), EXPECTED, `Amber, preamble ${preamble}`);
      assert.deepEqual(await calls(a.port, ['FCALL_RO', 'peek', '1', 'n']), ['$1\r\n3\r\n']);
    } finally {
      await a.kill();
    }
  }
});
