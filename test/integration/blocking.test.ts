/**
 * Blocking list commands with several clients, as scenarios replayed on Amber and on
 * redis-server 7.0.15 with the same replies expected: FIFO service, several keys, serving after
 * the pushing command (and after EXEC), wake-up by LMOVE/BLMOVE chains and pushes from other
 * clients, values of another type, BLMOVE onto a wrong-type key, disconnects, CLIENT UNBLOCK,
 * pipelined requests behind a blocked one, SWAPDB. Timeouts with fractions are timed on Amber.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, type RedisChild } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';
import { blockedClientCount } from '../../src/server/blocking.js';

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;

before(async () => {
  if (skip) return;
  amber = await startAmber();
  redis = await startRedis();
});

after(async () => {
  if (skip) return;
  await amber?.close();
  await redis?.close();
});

type Step =
  | { c: string; cmd: string } // send and wait for the reply, recorded
  | { c: string; quietly: string } // send and wait for the reply, not recorded (HELLO: ids differ)
  | { c: string; send: string } // send without waiting (a blocking command)
  | { c: string; recv: true } // the reply of the client's pending command (or '(no reply)')
  | { c: string; quiet: number } // nothing arrives for that many ms: '(nothing)' recorded
  | { c: string; raw: string; replies: number } // raw bytes, replies awaited later with recv
  | { c: string; unblock: string; mode?: string } // CLIENT UNBLOCK <id of client `unblock`>
  | { c: string; close: true }
  | { sleep: number };

interface Conn {
  rc: RawClient;
  id: string;
  pending: Promise<string[]> | null;
  done: string[] | null;
}

/** Replays `steps` on the server at `port`; returns the recorded replies. */
async function play(port: number, steps: Step[]): Promise<string[]> {
  const conns = new Map<string, Conn>();
  const out: string[] = [];
  const conn = async (name: string): Promise<Conn> => {
    let c = conns.get(name);
    if (c === undefined) {
      const rc = await RawClient.connect(port);
      const id = (await rc.call('CLIENT', 'ID')).slice(1, -2);
      c = { rc, id, pending: null, done: null };
      conns.set(name, c);
    }
    return c;
  };
  const track = (c: Conn, p: Promise<string[]>): void => {
    c.done = null;
    c.pending = p;
    p.then((r) => { c.done = r; }, () => { c.done = ['(closed)']; });
  };
  try {
    for (const s of steps) {
      if ('sleep' in s) {
        await new Promise((r) => setTimeout(r, s.sleep));
        continue;
      }
      const c = await conn(s.c);
      if ('cmd' in s) out.push(`${s.c}: ${(await c.rc.pipeline([s.cmd.split(' ')]))[0]}`);
      else if ('quietly' in s) await c.rc.call(...s.quietly.split(' '));
      else if ('send' in s) {
        track(c, c.rc.pipeline([s.send.split(' ')]));
        await new Promise((r) => setTimeout(r, 40)); // let the server block it before the next step
      } else if ('raw' in s) {
        track(c, c.rc.sendRaw(s.raw, s.replies));
        await new Promise((r) => setTimeout(r, 40));
      } else if ('recv' in s) {
        const r = await Promise.race([c.pending!, new Promise<string[]>((res) => setTimeout(() => res(['(no reply)']), 3000))]);
        out.push(`${s.c}: ${r.join('')}`);
        c.pending = null;
      } else if ('quiet' in s) {
        await new Promise((r) => setTimeout(r, s.quiet));
        out.push(`${s.c}: ${c.done === null ? '(nothing)' : c.done.join('')}`);
      } else if ('unblock' in s) {
        const target = await conn(s.unblock);
        const argv = ['CLIENT', 'UNBLOCK', target.id, ...(s.mode ? [s.mode] : [])];
        out.push(`${s.c}: ${await c.rc.call(...argv)}`);
      } else if ('close' in s) {
        c.rc.close();
        conns.delete(s.c);
        await new Promise((r) => setTimeout(r, 40));
      }
    }
  } finally {
    for (const c of conns.values()) c.rc.close();
  }
  return out;
}

async function sameScenario(steps: Step[]): Promise<string[]> {
  const fl = [{ c: 'z', cmd: 'FLUSHALL' }];
  await play(amber.port, fl);
  await play(redis.port, fl);
  const a = await play(amber.port, steps);
  const r = await play(redis.port, steps);
  assert.deepEqual(a, r);
  return a;
}

test('clients blocked on one key are served in the order they blocked', { skip }, async () => {
  const out = await sameScenario([
    { c: 'a', send: 'BLPOP k 0' }, { c: 'b', send: 'BLPOP k 0' }, { c: 'c', send: 'BRPOP k 0' },
    { c: 'd', cmd: 'RPUSH k 1 2' }, { c: 'a', recv: true }, { c: 'b', recv: true }, { c: 'c', quiet: 100 },
    { c: 'd', cmd: 'LPUSH k x y z' }, { c: 'c', recv: true }, { c: 'd', cmd: 'LRANGE k 0 -1' },
  ]);
  assert.match(out[1]!, /\$1\r\n1\r\n$/);
});

test('several keys, several pops, BLMPOP with COUNT, RESP3 replies', { skip }, async () => {
  await sameScenario([
    { c: 'a', send: 'BLPOP k1 k2 0' }, { c: 'b', send: 'BLMPOP 0 2 k1 k2 RIGHT COUNT 2' }, { c: 'd', cmd: 'RPUSH k2 1 2 3 4' },
    { c: 'a', recv: true }, { c: 'b', recv: true }, { c: 'd', cmd: 'LRANGE k2 0 -1' },
    { c: 'e', quietly: 'HELLO 3' }, { c: 'e', send: 'BLPOP k3 0' }, { c: 'f', send: 'BLMPOP 0 1 k3 LEFT COUNT 5' },
    { c: 'd', cmd: 'RPUSH k3 x y z' }, { c: 'e', recv: true }, { c: 'f', recv: true }, { c: 'd', cmd: 'EXISTS k3' },
  ]);
});

test('served right after the pushing command, before its pipelined next one', { skip }, async () => {
  await sameScenario([
    { c: 'a', send: 'BLPOP k 0' }, { c: 'd', raw: RawClient.encode(['RPUSH', 'k', 'x']) + RawClient.encode(['LLEN', 'k']), replies: 2 },
    { c: 'd', recv: true }, { c: 'a', recv: true },
  ]);
});

test('a push inside MULTI serves after EXEC; push then pop inside EXEC serves nobody', { skip }, async () => {
  await sameScenario([
    { c: 'a', send: 'BLPOP k 0' }, { c: 'd', cmd: 'MULTI' }, { c: 'd', cmd: 'RPUSH k x' }, { c: 'd', cmd: 'LLEN k' },
    { c: 'd', cmd: 'EXEC' }, { c: 'a', recv: true }, { c: 'd', cmd: 'LLEN k' },
    { c: 'b', send: 'BLPOP j 0' }, { c: 'd', cmd: 'MULTI' }, { c: 'd', cmd: 'RPUSH j x' }, { c: 'd', cmd: 'LPOP j' },
    { c: 'd', cmd: 'EXEC' }, { c: 'b', quiet: 100 }, { c: 'd', cmd: 'RPUSH j y' }, { c: 'b', recv: true },
  ]);
});

test('woken by LMOVE, by a BLMOVE chain, and by a push from another client', { skip }, async () => {
  await sameScenario([
    { c: 'a', send: 'BLPOP dst 0' }, { c: 'd', cmd: 'RPUSH src x y' }, { c: 'd', cmd: 'LMOVE src dst LEFT RIGHT' }, { c: 'a', recv: true },
    { c: 'b', send: 'BLMOVE k1 k2 LEFT LEFT 0' }, { c: 'c', send: 'BLPOP k2 0' }, { c: 'e', send: 'BRPOPLPUSH k3 k1 0' },
    { c: 'd', cmd: 'RPUSH k3 v' }, { c: 'e', recv: true }, { c: 'b', recv: true }, { c: 'c', recv: true },
    { c: 'd', cmd: 'EXISTS k1 k2 k3' },
  ]);
});

test('a key of another type leaves clients waiting; BLMOVE onto a wrong-type key fails', { skip }, async () => {
  const steps: Step[] = [
    { c: 'a', send: 'BLPOP k 0' }, { c: 'd', cmd: 'SET k str' }, { c: 'a', quiet: 80 }, { c: 'd', cmd: 'DEL k' },
    { c: 'd', cmd: 'RPUSH k v' }, { c: 'a', recv: true },
    { c: 'd', cmd: 'SET dst str' }, { c: 'b', send: 'BLMOVE src dst LEFT LEFT 0' }, { c: 'c', send: 'BLPOP src 0' },
    { c: 'd', cmd: 'RPUSH src 1 2' }, { c: 'b', recv: true }, { c: 'c', recv: true }, { c: 'd', cmd: 'LRANGE src 0 -1' },
    { c: 'b', cmd: 'PING' },
  ];
  if (amber.server.commands.has('zadd')) {
    steps.push({ c: 'e', send: 'BLPOP z 0' }, { c: 'd', cmd: 'ZADD z 1 m' }, { c: 'e', quiet: 80 }, { c: 'd', cmd: 'DEL z' },
      { c: 'd', cmd: 'LPUSH z w' }, { c: 'e', recv: true });
  }
  await sameScenario(steps);
});

test('a disconnected blocked client is forgotten; blocked clients do not block others', { skip }, async () => {
  await sameScenario([
    { c: 'a', send: 'BLPOP k 0' }, { c: 'b', send: 'BLPOP k 0' }, { c: 'd', cmd: 'PING' }, { c: 'a', close: true },
    { c: 'd', cmd: 'RPUSH k x y' }, { c: 'b', recv: true }, { c: 'd', cmd: 'LRANGE k 0 -1' },
  ]);
  assert.equal(blockedClientCount(amber.server), 0);
});

test('requests pipelined behind a blocking one run once it is served', { skip }, async () => {
  await sameScenario([
    { c: 'a', raw: RawClient.encode(['BLPOP', 'k', '0']) + RawClient.encode(['PING']) + RawClient.encode(['LLEN', 'k']), replies: 3 },
    { c: 'a', quiet: 80 }, { c: 'd', cmd: 'RPUSH k x y' }, { c: 'a', recv: true },
  ]);
});

test('CLIENT UNBLOCK: TIMEOUT and ERROR replies, unknown or unblocked ids', { skip }, async () => {
  if (!amber.server.commands.has('client')) return;
  await sameScenario([
    { c: 'a', send: 'BLPOP k 0' }, { c: 'd', unblock: 'a' }, { c: 'a', recv: true },
    { c: 'a', send: 'BLMOVE k j LEFT LEFT 0' }, { c: 'd', unblock: 'a', mode: 'ERROR' }, { c: 'a', recv: true },
    { c: 'a', send: 'BLMPOP 0 1 k LEFT' }, { c: 'd', unblock: 'a', mode: 'timeout' }, { c: 'a', recv: true },
    { c: 'd', unblock: 'a' }, { c: 'd', unblock: 'a', mode: 'foo' }, { c: 'd', cmd: 'CLIENT UNBLOCK 999999' },
    { c: 'd', cmd: 'CLIENT UNBLOCK abc' }, { c: 'd', cmd: 'RPUSH k x' }, { c: 'd', cmd: 'LLEN k' },
  ]);
});

test('SWAPDB serves clients waiting on keys that now exist', { skip }, async () => {
  if (!amber.server.commands.has('swapdb')) return;
  await sameScenario([
    { c: 'a', send: 'BLPOP k 0' }, { c: 'd', cmd: 'SELECT 1' }, { c: 'd', cmd: 'RPUSH k x' }, { c: 'd', cmd: 'SWAPDB 0 1' },
    { c: 'a', recv: true }, { c: 'd', cmd: 'LLEN k' }, { c: 'd', cmd: 'SELECT 0' }, { c: 'd', cmd: 'LLEN k' },
  ]);
});

test('timeouts with fractions of a second (Amber timed)', { skip }, async () => {
  const c = await RawClient.connect(amber.port);
  const c2 = await RawClient.connect(amber.port);
  try {
    for (const [arg, ms] of [['0.2', 200], ['0.05', 50], ['.3', 300], ['0x1p-3', 125]] as const) {
      const t0 = performance.now();
      assert.equal(await c.call('BLPOP', 'nokey', arg), '*-1\r\n');
      const dt = performance.now() - t0;
      assert.ok(dt >= ms - 5 && dt < ms + 250, `timeout ${arg}: ${dt.toFixed(0)} ms`);
    }
    // another client keeps working meanwhile, and the timed-out client is not served later
    const p = c.call('BRPOP', 'k', '0.15');
    assert.equal(await c2.call('PING'), '+PONG\r\n');
    assert.equal(await p, '*-1\r\n');
    assert.equal(await c2.call('RPUSH', 'k', 'x'), ':1\r\n');
    assert.equal(await c2.call('LLEN', 'k'), ':1\r\n');
    assert.equal(blockedClientCount(amber.server), 0);
    await c2.call('DEL', 'k');
  } finally {
    c.close();
    c2.close();
  }
});
