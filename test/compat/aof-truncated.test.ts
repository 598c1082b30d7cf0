/**
 * A torn AOF tail cut at start-up (aof-load-truncated yes), against redis-server 7.0.15 on copies of
 * the same appendonlydir made by Redis: the same files are left on disk, the same keyspace loads,
 * and INFO's aof_current_size and aof_base_size are Redis's. Redis 7.0.15 measures the files before
 * loading them and keeps counting the bytes it cut off until the next rewrite measures the files
 * again; the automatic rewrite's growth is computed from the same figure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, truncateSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, startAmber, redisAvailable, NO_REDIS, RawClient, keyspaceDump, tempDirs } from '../helpers/servers.js';

const skip = !redisAvailable() && NO_REDIS;
const tmp = tempDirs('amber-compat-aof-truncated-');

const field = (info: string, name: string): number => Number(new RegExp(`\r\n${name}:(\\d+)\r\n`).exec(info)![1]);

/** name -> size of the files in an AOF directory */
function sizes(dir: string): Record<string, number> {
  const d = join(dir, 'appendonlydir');
  return Object.fromEntries(readdirSync(d).sort().map((f) => [f, statSync(join(d, f)).size]));
}

test('a torn incr tail cut at start-up: same files, keyspace and aof_current_size / aof_base_size as Redis', { skip }, async () => {
  // Redis writes the AOF: an RDB-preamble base and an incr file of SETs
  const made = tmp();
  const maker = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always'], made);
  const c = await RawClient.connect(maker.port);
  for (let i = 0; i < 20; i++) await c.call('SET', `key${i}`, 'x'.repeat(100));
  await c.call('SELECT', '3');
  await c.call('RPUSH', 'list', 'a', 'b');
  await c.call('SET', 'last', 'y'.repeat(100));
  c.close();
  await maker.close();
  const incr = join(made, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  const full = statSync(incr).size;
  truncateSync(incr, full - 50); // in the middle of the last SET
  const before = sizes(made);

  const redisDir = tmp();
  const amberDir = tmp();
  cpSync(join(made, 'appendonlydir'), join(redisDir, 'appendonlydir'), { recursive: true });
  cpSync(join(made, 'appendonlydir'), join(amberDir, 'appendonlydir'), { recursive: true });
  const args = { appendonly: 'yes', 'aof-load-truncated': 'yes', 'auto-aof-rewrite-percentage': '0' };
  const redis = await startRedis(Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]), redisDir);
  const amber = await startAmber({ dir: amberDir, save: '', ...args });
  const r = await RawClient.connect(redis.port);
  const a = await RawClient.connect(amber.port);
  try {
    assert.equal(await keyspaceDump(amber.port), await keyspaceDump(redis.port));
    assert.deepEqual(sizes(amberDir), sizes(redisDir), 'the torn command is cut off the same way');
    assert.ok(sizes(redisDir)['appendonly.aof.1.incr.aof']! < before['appendonly.aof.1.incr.aof']!, 'Redis cut the file');
    let ri = await r.call('INFO', 'persistence');
    let ai = await a.call('INFO', 'persistence');
    assert.equal(field(ai, 'aof_base_size'), field(ri, 'aof_base_size'));
    assert.equal(field(ai, 'aof_current_size'), field(ri, 'aof_current_size'));
    const onDisk = Object.entries(before).filter(([f]) => !f.endsWith('.manifest')).reduce((n, [, s]) => n + s, 0);
    assert.equal(field(ri, 'aof_current_size'), onDisk, 'Redis counts the files as they were before the cut');
    // appends count on from there
    for (const cl of [r, a]) await cl.call('SET', 'after', 'z');
    ri = await r.call('INFO', 'persistence');
    ai = await a.call('INFO', 'persistence');
    assert.equal(field(ai, 'aof_current_size'), field(ri, 'aof_current_size'));
    // a rewrite measures the files again
    for (const cl of [r, a]) await cl.call('BGREWRITEAOF');
    for (const [cl, dir] of [[r, redisDir], [a, amberDir]] as const) {
      let info = '';
      for (let i = 0; i < 200; i++) {
        info = await cl.call('INFO', 'persistence');
        if (info.includes('aof_rewrite_in_progress:0') && /aof_rewrites:1/.test(info)) break;
        await new Promise((x) => setTimeout(x, 25));
      }
      const files = Object.entries(sizes(dir)).filter(([f]) => !f.endsWith('.manifest')).reduce((n, [, s]) => n + s, 0);
      assert.equal(field(info, 'aof_current_size'), files, `after the rewrite: ${dir}`);
    }
  } finally {
    r.close();
    a.close();
    await amber.close();
    await redis.close();
  }
});
