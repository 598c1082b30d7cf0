import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, startRedis, RawClient } from '../helpers/servers.js';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair({ clients: 'none' });
const { skip } = pair;

/** Runs a script of steps on two connections per server: [connection index, argv]. */
async function script(port: number, steps: Array<[number, string[]]>, resp3 = false): Promise<string[]> {
  const conns = [await RawClient.connect(port), await RawClient.connect(port)];
  try {
    for (const c of conns) {
      await c.call('FLUSHALL');
      if (resp3) await c.call('HELLO', '3');
    }
    const out: string[] = [];
    for (const [i, argv] of steps) {
      // ['SLEEP', ms] pauses the script (expiry scenarios)
      if (argv[0] === 'SLEEP') await new Promise((r) => setTimeout(r, Number(argv[1])));
      else out.push(await conns[i]!.call(...argv));
    }
    return out;
  } finally {
    for (const c of conns) c.close();
  }
}

async function same(steps: Array<[number, string[]]>, resp3 = false): Promise<void> {
  const a = await script(pair.amber.port, steps, resp3);
  const r = await script(pair.redis.port, steps, resp3);
  assert.deepEqual(a, r);
}

test('MULTI/EXEC queues and runs, errors at run time do not stop the others', { skip }, async () => {
  await same([
    [0, ['MULTI']], [0, ['SET', 'a', '1']], [0, ['INCR', 'a']], [0, ['LPUSH', 'a', 'x']], [0, ['GET', 'a']], [0, ['EXEC']],
    [0, ['EXEC']], [0, ['DISCARD']], [0, ['MULTI']], [0, ['MULTI']], [0, ['WATCH', 'a']], [0, ['DISCARD']],
  ]);
});

test('queue-time errors abort EXEC with EXECABORT', { skip }, async () => {
  await same([
    [0, ['MULTI']], [0, ['SET', 'a', '1']], [0, ['NOSUCHCMD']], [0, ['GET']], [0, ['EXEC']], [0, ['GET', 'a']],
  ]);
});

test('WATCH is broken by another client, by expiry, FLUSHDB, SWAPDB and RENAME', { skip }, async () => {
  await same([
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [1, ['SET', 'k', '2']], [0, ['MULTI']], [0, ['SET', 'k', '3']], [0, ['EXEC']], [0, ['GET', 'k']],
    [0, ['WATCH', 'k']], [1, ['FLUSHDB']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['SET', 'r', '1']], [0, ['WATCH', 'r']], [1, ['RENAME', 'r', 's']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['WATCH', 'nokey']], [1, ['DEL', 'nokey']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
    [0, ['WATCH', 'x']], [0, ['UNWATCH']], [1, ['SET', 'x', '1']], [0, ['MULTI']], [0, ['PING']], [0, ['EXEC']],
  ]);
});

test('EXEC null reply in RESP3 and commands refused inside MULTI', { skip }, async () => {
  await same([
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [1, ['SET', 'k', '2']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['WATCH', 'k']], [0, ['EXEC']],
  ], true);
});

test('a watched key that expires before EXEC aborts the transaction', { skip }, async () => {
  const steps: Array<[number, string[]]> = [[0, ['SET', 'k', '1', 'PX', '300']], [0, ['WATCH', 'k']]];
  const run = async (port: number): Promise<string[]> => {
    const c = await RawClient.connect(port);
    try {
      await c.call('FLUSHALL');
      const out: string[] = [];
      for (const [, argv] of steps) out.push(await c.call(...argv));
      await new Promise((r) => setTimeout(r, 500));
      out.push(await c.call('MULTI'), await c.call('PING'), await c.call('EXEC'));
      return out;
    } finally {
      c.close();
    }
  };
  assert.deepEqual(await run(pair.amber.port), await run(pair.redis.port));
});

test('WATCH races: writes by another client inside its own MULTI/EXEC, no-op writes, other dbs', { skip }, async () => {
  await same([
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k', 'w']], [1, ['MULTI']], [1, ['SET', 'w', '1']], [1, ['EXEC']],
    [0, ['MULTI']], [0, ['GET', 'w']], [0, ['EXEC']],
    // failed or no-op writes and reads by others do not touch the key
    [0, ['WATCH', 'k']], [1, ['SET', 'k', '2', 'NX']], [1, ['LPUSH', 'k', 'x']], [1, ['GET', 'k']], [1, ['PERSIST', 'k']],
    [1, ['EXPIRE', 'k', '100', 'XX']], [1, ['SETRANGE', 'k', '0', '']], [1, ['MULTI']], [1, ['GET', 'k']], [1, ['EXEC']],
    [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    // a TTL change, PERSIST of a TTL, the watcher's own write
    [0, ['WATCH', 'k']], [1, ['EXPIRE', 'k', '100']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ['PERSIST', 'k']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [0, ['SET', 'k', 'mine']], [0, ['MULTI']], [0, ['GET', 'k']], [0, ['EXEC']],
    // a write of the same key name in another db, a failing MOVE, SWAPDB of other dbs
    [0, ['WATCH', 'k']], [1, ['SELECT', '1']], [1, ['SET', 'k', 'x']], [1, ['SELECT', '0']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ['MOVE', 'k', '1']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ['SWAPDB', '1', '2']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['SELECT', '3']], [0, ['WATCH', 'q']], [0, ['SELECT', '0']], [1, ['SWAPDB', '3', '1']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['SELECT', '3']], [0, ['WATCH', 'k']], [0, ['SELECT', '0']], [1, ['SWAPDB', '3', '2']], [0, ['MULTI']], [0, ['EXEC']],
    // a write after MULTI, before EXEC, still aborts
    [0, ['WATCH', 'k']], [0, ['MULTI']], [1, ['SET', 'k', '0']], [0, ['SET', 'k', '7']], [0, ['EXEC']], [0, ['GET', 'k']],
    // FLUSHALL touches keys that exist only
    [0, ['WATCH', 'nothere']], [1, ['FLUSHALL']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [1, ['FLUSHALL']], [0, ['MULTI']], [0, ['EXEC']],
  ]);
});

test('DISCARD, UNWATCH, RESET interplay and nested MULTI', { skip }, async () => {
  await same([
    [0, ['SET', 'k', '1']], [0, ['WATCH', 'k']], [0, ['RESET']], [1, ['SET', 'k', '2']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [0, ['MULTI']], [0, ['SET', 'k', '5']], [0, ['RESET']], [1, ['SET', 'k', '6']], [0, ['EXEC']], [0, ['GET', 'k']],
    [0, ['WATCH', 'k']], [0, ['MULTI']], [0, ['DISCARD']], [1, ['SET', 'k', '7']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['WATCH', 'k']], [1, ['SET', 'k', '8']], [0, ['MULTI']], [0, ['EXEC']], [1, ['SET', 'k', '9']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['UNWATCH']], [0, ['SET', 'a', '1']], [0, ['MULTI']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['SET', 'a', '2']], [0, ['MULTI']], [0, ['MULTI']], [0, ['EXEC']], [0, ['GET', 'a']],
    [0, ['MULTI']], [0, ['WATCH', 'a']], [0, ['INCR', 'a']], [0, ['EXEC']],
    [0, ['DISCARD']], [0, ['UNWATCH']], [0, ['WATCH', 'a', 'a', 'b']], [0, ['UNWATCH']], [0, ['UNWATCH']],
  ]);
});

test('refused while queueing, and EXEC refused by dispatch (arity) answers EXECABORT with the reason', { skip }, async () => {
  await same([
    [0, ['EXEC', 'x']], [0, ['MULTI']], [0, ['SET', 'a', '1']], [0, ['EXEC', 'x']], [0, ['EXEC']], [0, ['GET', 'a']],
    [0, ['MULTI']], [0, ['DISCARD', 'x']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['MULTI', 'x']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['SAVE']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['SHUTDOWN']], [0, ['SET', 'a', '1']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['CONFIG', 'NOSUCH']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['WATCH']], [0, ['WATCH', 'a']], [0, ['SET', 'a', '3']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['UNWATCH', 'x']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['SET', 'a', 'x']], [0, ['INCR', 'a']], [0, ['GET', 'a']], [0, ['EXEC']],
  ]);
});

test('BGSAVE inside EXEC is scheduled, not started', { skip }, async () => {
  await same([[0, ['SET', 'a', '1']], [0, ['MULTI']], [0, ['BGSAVE']], [0, ['EXEC']]]);
  // let the scheduled saves finish before later tests
  for (const port of [pair.amber.port, pair.redis.port]) {
    const c = await RawClient.connect(port);
    for (let i = 0; i < 100 && !/rdb_bgsave_in_progress:0[^]*rdb_saves:[1-9]/.test(await c.call('INFO', 'persistence')); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    c.close();
  }
});

test('blocking commands inside MULTI do not block', { skip }, async () => {
  const steps: Array<[number, string[]]> = [
    [0, ['MULTI']], [0, ['BLPOP', 'l', '0']], [0, ['BRPOP', 'l', '1']], [0, ['BLMOVE', 'l', 'm', 'LEFT', 'LEFT', '0']],
    [0, ['BRPOPLPUSH', 'l', 'm', '0']], [0, ['BLMPOP', '0', '1', 'l', 'LEFT']], [0, ['BZPOPMIN', 'z', '0']],
    [0, ['BZPOPMAX', 'z', '0']], [0, ['BZMPOP', '0', '1', 'z', 'MIN']], [0, ['EXEC']],
    [0, ['RPUSH', 'l', 'a']], [0, ['ZADD', 'z', '1', 'a']],
    [0, ['MULTI']], [0, ['BLPOP', 'l', '0']], [0, ['BLPOP', 'l', '0']], [0, ['BZPOPMIN', 'z', '0']], [0, ['BZPOPMIN', 'z', '0']], [0, ['EXEC']],
  ];
  await same(steps);
  await same(steps, true);
});

test('SUBSCRIBE and PSUBSCRIBE run inside EXEC, SSUBSCRIBE is refused (RESP2 and RESP3)', { skip }, async () => {
  for (const resp3 of [false, true]) {
    const run = async (port: number): Promise<string[]> => {
      const c = await RawClient.connect(port);
      const p = await RawClient.connect(port);
      try {
        if (resp3) await c.call('HELLO', '3');
        const out: string[] = [];
        for (const cmd of [['MULTI'], ['SUBSCRIBE', 'a'], ['PSUBSCRIBE', 'b*'], ['SSUBSCRIBE', 's'], ['EXEC'], ['PING']]) out.push(await c.call(...cmd));
        out.push(await p.call('PUBLISH', 'a', 'x'));
        out.push(...(await c.read(1)));
        out.push(await c.call('GET', 'x'), await c.call('MULTI'));
        out.push(...(await c.sendRaw(RawClient.encode(['UNSUBSCRIBE']), 1)));
        out.push(...(await c.sendRaw(RawClient.encode(['PUNSUBSCRIBE']), 1)));
        out.push(await c.call('MULTI'), await c.call('EXEC'));
        return out;
      } finally {
        c.close();
        p.close();
      }
    };
    assert.deepEqual(await run(pair.amber.port), await run(pair.redis.port));
  }
});

test('RESP3 replies inside EXEC: maps, sets, doubles, null arrays, push frames', { skip }, async () => {
  await same([
    [0, ['HSET', 'h', 'f', 'v', 'g', 'w']], [0, ['ZADD', 'z', '1.5', 'a']], [0, ['SADD', 's', 'x']],
    [0, ['MULTI']], [0, ['HGETALL', 'h']], [0, ['ZRANGE', 'z', '0', '-1', 'WITHSCORES']], [0, ['ZSCORE', 'z', 'a']],
    [0, ['SMEMBERS', 's']], [0, ['GET', 'nokey']], [0, ['CONFIG', 'GET', 'maxmemory']], [0, ['LPOP', 'nol', '2']],
    [0, ['ZINCRBY', 'z', '1', 'a']], [0, ['SISMEMBER', 's', 'x']], [0, ['EXEC']],
    [0, ['WATCH', 'h']], [1, ['HDEL', 'h', 'f']], [0, ['MULTI']], [0, ['HGETALL', 'h']], [0, ['EXEC']],
    [0, ['MULTI']], [0, ['NOSUCH']], [0, ['EXEC']],
  ], true);
});

test('EXEC with a write on a MISCONF server is refused as a whole; PING is refused too', { skip }, async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const aDir = mkdtempSync(join(tmpdir(), 'amber-misconf-'));
  const rDir = mkdtempSync(join(tmpdir(), 'redis-misconf-'));
  const a = await startAmber({ dir: aDir, save: '3600 1' });
  const r = await startRedis(['--save', '3600 1'], rDir);
  try {
    const run = async (port: number, dir: string): Promise<string[]> => {
      const c = await RawClient.connect(port);
      const admin = await RawClient.connect(port);
      const out: string[] = [];
      try {
        await c.call('SET', 'k', 'v');
        out.push(await c.call('MULTI'), await c.call('SET', 'k', 'w'), await c.call('GET', 'k'));
        // the dir disappears: the next background save fails and writes are refused
        rmSync(dir, { recursive: true, force: true });
        await admin.call('BGSAVE');
        for (let i = 0; ; i++) {
          const info = await admin.call('INFO', 'persistence');
          if (info.includes('rdb_last_bgsave_status:err') && !info.includes('rdb_bgsave_in_progress:1')) break;
          if (i > 200) throw new Error('BGSAVE did not fail');
          await new Promise((res) => setTimeout(res, 20));
        }
        await admin.call('CONFIG', 'RESETSTAT');
        // a RESP2 subscriber: MISCONF is checked before the subscribed context
        const subscriber = await RawClient.connect(port);
        await subscriber.sendRaw(RawClient.encode(['SUBSCRIBE', 'x']), 1);
        out.push(await subscriber.call('SET', 'a', 'b'), await subscriber.call('GET', 'a'), await subscriber.call('PING'));
        subscriber.close();
        for (const cmd of [
          ['EXEC'], ['EXEC'], ['GET', 'k'], ['PING'], ['PING', 'x'], ['SET', 'a', 'b'],
          ['MULTI'], ['GET', 'k'], ['EXEC'],
          ['MULTI'], ['GET', 'k'], ['PING'], ['SET', 'k', 'v'], ['EXEC'],
          ['MULTI'], ['GET', 'k'], ['DISCARD'],
          ['INFO', 'errorstats'],
          ['CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no'], ['SET', 'k', 'x'], ['PING'],
        ]) out.push(await c.call(...cmd));
        return out;
      } finally {
        c.close();
        admin.close();
      }
    };
    assert.deepEqual(await run(a.port, aDir), await run(r.port, rDir));
  } finally {
    await a.close();
    await r.close();
    rmSync(aDir, { recursive: true, force: true });
    rmSync(rDir, { recursive: true, force: true });
  }
});

test('RESP3: pub/sub, tracking and keyspace pushes produced inside EXEC land where Redis 7.0 puts them', { skip }, async () => {
  const run = async (port: number): Promise<string> => {
    const c = await RawClient.connect(port);
    try {
      await c.call('FLUSHALL');
      await c.call('HELLO', '3');
      await c.sendRaw(RawClient.encode(['SUBSCRIBE', 'a']), 1);
      const cmds = [
        ['MULTI'], ['PUBLISH', 'a', 'x'], ['PING'], ['EXEC'],
        ['CLIENT', 'TRACKING', 'ON'], ['GET', 'k'], ['MULTI'], ['SET', 'k', '1'], ['PUBLISH', 'a', 'z'], ['EXEC'],
        ['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'], ['PSUBSCRIBE', '__key*'], ['MULTI'], ['SET', 'k', '3'], ['DEL', 'k'], ['EXEC'],
        ['CONFIG', 'SET', 'notify-keyspace-events', ''], ['PING', 'end'],
      ];
      // read the whole byte stream up to the final PONG: frames may nest pushes in EXEC's array
      const replies = await c.sendRaw(cmds.map(RawClient.encode).join(''), 1);
      let all = replies.join('');
      while (!all.endsWith('$3\r\nend\r\n')) all += (await c.read(1))[0];
      return all;
    } finally {
      c.close();
    }
  };
  assert.equal(await run(pair.amber.port), await run(pair.redis.port));
});

test('WATCH of a key already expired at WATCH time: its deletion is no change (7.0), FLUSHDB/SWAPDB cases', { skip }, async () => {
  const expiredK = (conn: number): Array<[number, string[]]> => [[conn, ['SET', 'k', 'v', 'PX', '10']], [0, ['SLEEP', '30']]];
  const execPing: Array<[number, string[]]> = [[0, ['MULTI']], [0, ['PING']], [0, ['EXEC']]];
  await same([
    [0, ['DEBUG', 'SET-ACTIVE-EXPIRE', '0']],
    // lazy deletion by another client's read: no abort; a write after it: abort
    ...expiredK(0), [0, ['WATCH', 'k']], [1, ['GET', 'k']], ...execPing,
    ...expiredK(0), [0, ['WATCH', 'k']], [1, ['GET', 'k']], [1, ['SET', 'k', '1']], ...execPing,
    ...expiredK(0), [0, ['WATCH', 'k']], [1, ['SET', 'k', '2']], ...execPing,
    // FLUSHDB of a db holding only the expired key
    [0, ['FLUSHALL']], ...expiredK(0), [0, ['WATCH', 'k']], [1, ['FLUSHDB']], ...execPing,
    // SWAPDB: expired <-> nothing, nothing <-> expired, expired <-> valid, valid <-> expired, expired <-> expired
    [1, ['SELECT', '1']],
    [0, ['FLUSHALL']], ...expiredK(0), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], ...execPing,
    [0, ['FLUSHALL']], ...expiredK(1), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], ...execPing,
    [0, ['FLUSHALL']], ...expiredK(1), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], [1, ['GET', 'k']], ...execPing,
    [0, ['FLUSHALL']], ...expiredK(1), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], [1, ['SELECT', '0']], [1, ['SET', 'k', '1']], [1, ['SELECT', '1']], ...execPing,
    [0, ['FLUSHALL']], [1, ['SET', 'k', 'v']], ...expiredK(0), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], ...execPing,
    [0, ['FLUSHALL']], [0, ['SET', 'k', 'v']], ...expiredK(1), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], ...execPing,
    [0, ['FLUSHALL']], [1, ['SET', 'k', 'v', 'PX', '10']], ...expiredK(0), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], ...execPing,
    [0, ['FLUSHALL']], ...expiredK(0), [0, ['WATCH', 'k']], [1, ['SWAPDB', '0', '1']], [1, ['SWAPDB', '0', '1']], ...execPing,
    // active expiry deleting it
    [0, ['FLUSHALL']], ...expiredK(0), [0, ['WATCH', 'k']], [0, ['DEBUG', 'SET-ACTIVE-EXPIRE', '1']], [0, ['SLEEP', '300']], ...execPing,
    [0, ['DEBUG', 'SET-ACTIVE-EXPIRE', '1']],
  ]);
});
