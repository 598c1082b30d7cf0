/**
 * DEBUG LOADAOF against redis-server 7.0.15: the replies with AOF on and off, WATCH and a blocked
 * client across the reload, and what happens with appendonly no and no AOF on disk, or with a torn
 * tail in the incr file (the connection closes without a reply and the server exits with 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis, startAmber, spawnAmber, redisAvailable, NO_REDIS, RawClient, sameReplies, tempDirs } from '../helpers/servers.js';

const skip = !redisAvailable() && NO_REDIS;
const tmp = tempDirs('amber-compat-aof-debug-');

/** Runs `f` against a fresh Redis and a fresh Amber started with the same directives; returns both results. */
async function both<T>(args: Record<string, string>, f: (port: number) => Promise<T>): Promise<[T, T]> {
  const redis = await startRedis(Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]), tmp());
  const amber = await startAmber({ dir: tmp(), save: '', ...args });
  try {
    return [await f(amber.port), await f(redis.port)];
  } finally {
    await amber.close();
    await redis.close();
  }
}

for (const preamble of ['yes', 'no']) {
  test(`DEBUG LOADAOF replies as Redis with AOF on (rdb preamble ${preamble}) and after it was switched off`, { skip }, async () => {
    const cmds = [
      ['SET', 'a', '1'], ['RPUSH', 'l', 'x', 'y'], ['SET', 't', 'v', 'EX', '1000'], ['SELECT', '2'], ['HSET', 'h', 'f', 'v'], ['SELECT', '0'],
      ['DEBUG', 'LOADAOF'], ['GET', 'a'], ['LRANGE', 'l', '0', '-1'], ['TTL', 't'], ['DBSIZE'], ['SELECT', '2'], ['HGETALL', 'h'], ['SELECT', '0'],
      ['DEBUG', 'LOADAOF', 'extra', 'arguments'], ['debug', 'loadaof'],
      ['CONFIG', 'SET', 'appendonly', 'no'], ['SET', 'lost', '1'], ['SET', 'a', '2'],
      ['DEBUG', 'LOADAOF'], ['EXISTS', 'lost'], ['GET', 'a'], ['DBSIZE'],
    ];
    const [amber, redis] = await both({ appendonly: 'yes', 'aof-use-rdb-preamble': preamble }, async (port) => {
      const [r] = await sameReplies(port, port, cmds);
      const c = await RawClient.connect(port);
      const info = await c.call('INFO', 'persistence');
      c.close();
      return [...r, /aof_enabled:\d/.exec(info)![0], /rdb_changes_since_last_save:\d+/.exec(info)![0]];
    });
    assert.deepEqual(amber, redis);
  });
}

test('DEBUG LOADAOF touches WATCHed keys and serves a client blocked on a key it brings back, as Redis', { skip }, async () => {
  const [amber, redis] = await both({ appendonly: 'yes' }, async (port) => {
    const a = await RawClient.connect(port);
    const b = await RawClient.connect(port);
    try {
      const out: string[] = [];
      out.push(...await b.pipeline([['SET', 'w', '1'], ['RPUSH', 'q', 'x'], ['CONFIG', 'SET', 'appendonly', 'no'], ['DEL', 'q']]));
      out.push(await a.call('WATCH', 'w'));
      out.push(await b.call('DEBUG', 'LOADAOF'));
      out.push(...await a.pipeline([['MULTI'], ['SET', 'w', '2'], ['EXEC']]));
      out.push(await b.call('DEL', 'q'));
      const popped = a.call('BLPOP', 'q', '0');
      await new Promise((x) => setTimeout(x, 100));
      out.push(await b.call('DEBUG', 'LOADAOF'));
      out.push(await popped, await b.call('EXISTS', 'q'));
      return out;
    } finally {
      a.close();
      b.close();
    }
  });
  assert.deepEqual(amber, redis);
});

test('DEBUG LOADAOF with appendonly no and no AOF on disk: the connection closes unanswered and the server exits with 1, as Redis', { skip }, async () => {
  const outcome = async (port: number, exited: Promise<number | null>): Promise<[string, number | null]> => {
    const c = await RawClient.connect(port);
    assert.equal(await c.call('SET', 'k', 'v'), '+OK\r\n');
    const reply = await c.call('DEBUG', 'LOADAOF').catch(() => 'closed');
    c.close();
    return [reply, await exited];
  };
  const redis = await startRedis(['--appendonly', 'no'], tmp());
  const amber = await spawnAmber(tmp(), { appendonly: 'no', 'enable-debug-command': 'yes' });
  try {
    const redisOut = await outcome(redis.port, new Promise((r) => redis.proc.once('exit', (code) => r(code))));
    const amberOut = await outcome(amber.port, new Promise((r) => amber.proc.once('exit', (code) => r(code))));
    assert.deepEqual(redisOut, ['closed', 1]);
    assert.deepEqual(amberOut, redisOut);
  } finally {
    await amber.kill();
    await redis.close();
  }
});

test('DEBUG LOADAOF on a torn incr tail: the file is cut and the server exits with 1, as Redis', { skip }, async () => {
  const outcome = async (port: number, dir: string, exited: Promise<number | null>): Promise<[string, number | null, boolean]> => {
    const c = await RawClient.connect(port);
    await c.pipeline([['SET', 'a', '1'], ['SET', 'b', '2']]);
    const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const complete = statSync(incr).size;
    await c.call('SET', 'torn', 'xxxxxxxx');
    truncateSync(incr, statSync(incr).size - 5);
    const reply = await c.call('DEBUG', 'LOADAOF').catch(() => 'closed');
    c.close();
    return [reply, await exited, statSync(incr).size === complete];
  };
  const args = { appendonly: 'yes', 'aof-use-rdb-preamble': 'no', appendfsync: 'always' };
  const redisDir = tmp();
  const amberDir = tmp();
  const redis = await startRedis(Object.entries(args).flatMap(([k, v]) => [`--${k}`, v]), redisDir);
  const amber = await spawnAmber(amberDir, { ...args, 'enable-debug-command': 'yes' });
  try {
    const redisOut = await outcome(redis.port, redisDir, new Promise((r) => redis.proc.once('exit', (code) => r(code))));
    const amberOut = await outcome(amber.port, amberDir, new Promise((r) => amber.proc.once('exit', (code) => r(code))));
    assert.deepEqual(redisOut, ['closed', 1, true]);
    assert.deepEqual(amberOut, redisOut);
  } finally {
    await amber.kill();
    await redis.close();
  }
});
