/**
 * A script past `busy-reply-threshold` (server/suspend.ts) stays atomic for everything Amber
 * persists and everything else on the server, while other clients get -BUSY: amber-server
 * children on a temp dir.
 *
 * - kill -9 during a busy script that wrote: neither the AOF (appendfsync always) nor LevelDB
 *   (leveldb-sync always) holds any of its writes after the restart; writes acknowledged before it
 *   are there. SHUTDOWN NOSAVE during it: the same on LevelDB (its close writes nothing of the
 *   script). A script that ends is persisted whole.
 * - SIGTERM during a busy script waits for its end, then saves (save points), as Redis serves
 *   the signal in serverCron after the script.
 * - The keyspace does not move under the script: active expiry does not delete a key it reads
 *   (its clock is frozen, and the cron's expiry waits), and a client blocked on a list it pushes to
 *   is served with what the script left, not with its first push.
 *
 * The replies themselves (BUSY texts, SCRIPT KILL, FUNCTION KILL, FUNCTION STATS, SHUTDOWN) are
 * compared with redis-server in test/compat/busy-scripts.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, spawnAmber, tempDirs, type AmberChild } from '../helpers/servers.js';

const tmp = tempDirs('amber-busy-scripts-');

const BUSY = '-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n';

/** A Lua snippet that spins until `ms` milliseconds of TIME have passed (bounded by the clock). */
const spin = (ms: number): string =>
  `local t0 = redis.call('time') local s0 = t0[1] * 1000000 + t0[2] ` +
  `while true do local t = redis.call('time') if t[1] * 1000000 + t[2] - s0 > ${ms * 1000} then break end ` +
  `for i = 1, 10000 do end end`;

/** Polls with PING on `c` until the server answers BUSY (at most ~5 s). */
async function waitBusy(c: RawClient): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await c.call('PING')) === BUSY) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail('the server never became busy');
}

/** Runs `fn` with a server and two clients: A runs the script, B watches. */
async function withServer(dir: string, directives: Record<string, string>, fn: (s: AmberChild, a: RawClient, b: RawClient) => Promise<void>): Promise<void> {
  const s = await spawnAmber(dir, { 'busy-reply-threshold': '50', ...directives });
  const a = await RawClient.connect(s.port);
  const b = await RawClient.connect(s.port);
  try {
    await fn(s, a, b);
  } finally {
    a.close();
    b.close();
    await s.kill();
  }
}

for (const [engine, directives] of [
  ['the AOF', { appendonly: 'yes', appendfsync: 'always' }],
  ['LevelDB', { leveldb: 'yes', 'leveldb-sync': 'always' }],
] as const) {
  test(`kill -9 during a busy script that wrote: ${engine} holds none of its writes, and all of one that ended`, async () => {
    const dir = tmp();
    await withServer(dir, directives, async (s, a, b) => {
      assert.equal(await a.call('SET', 'before', '1'), '+OK\r\n');
      // a script that writes, spins for long, writes again
      const pending = a.call('EVAL', `redis.call('set', 'x', '1') ${spin(60000)} redis.call('set', 'y', '2') return 1`, '0');
      pending.catch(() => undefined);
      await waitBusy(b);
      assert.equal(await b.call('GET', 'x'), BUSY, 'no client sees the half-done script');
      await s.kill();
    });
    await withServer(dir, directives, async (_s, a) => {
      assert.equal(await a.call('GET', 'before'), '$1\r\n1\r\n');
      assert.equal(await a.call('EXISTS', 'x', 'y'), ':0\r\n', `${engine} kept a write of the unfinished script`);
      // a busy script that ends is persisted whole
      assert.equal(await a.call('EVAL', `redis.call('set', 'x', '1') ${spin(300)} redis.call('set', 'y', '2') return 1`, '0'), ':1\r\n');
    });
    await withServer(dir, directives, async (_s, a) => {
      assert.equal(await a.call('EXISTS', 'x', 'y'), ':2\r\n');
    });
  });
}

test('SHUTDOWN NOSAVE during a busy script: LevelDB keeps nothing of it', async () => {
  const dir = tmp();
  const directives = { leveldb: 'yes', 'leveldb-sync': 'everysec' };
  await withServer(dir, directives, async (s, a, b) => {
    assert.equal(await a.call('SET', 'before', '1'), '+OK\r\n');
    const pending = a.call('EVAL', `redis.call('set', 'x', '1') ${spin(60000)} return 1`, '0');
    pending.catch(() => undefined);
    await waitBusy(b);
    assert.equal(await b.call('SHUTDOWN'), BUSY, 'SHUTDOWN without NOSAVE is refused');
    b.sock.write('*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n');
    const code = await new Promise<number | null>((r) => {
      if (s.proc.exitCode !== null) r(s.proc.exitCode);
      else s.proc.once('exit', (c) => r(c));
    });
    assert.equal(code, 0);
  });
  await withServer(dir, directives, async (_s, a) => {
    assert.equal(await a.call('GET', 'before'), '$1\r\n1\r\n');
    assert.equal(await a.call('EXISTS', 'x'), ':0\r\n');
  });
});

test('SIGTERM during a busy script waits for its end, then saves it whole', async () => {
  const dir = tmp();
  const directives = { save: '3600 1' };
  await withServer(dir, directives, async (s, a, b) => {
    const reply = a.call('EVAL', `redis.call('set', 'x', '1') ${spin(1500)} redis.call('set', 'y', '2') return 'done'`, '0');
    await waitBusy(b);
    const exited = new Promise<number | null>((r) => s.proc.once('exit', (c) => r(c)));
    s.proc.kill('SIGTERM');
    assert.equal(await reply, '$4\r\ndone\r\n', 'the script ran to its end');
    assert.equal(await exited, 0);
    assert.match(s.log(), /the shutdown waits for its end/);
  });
  await withServer(dir, {}, async (_s, a) => {
    assert.equal(await a.call('EXISTS', 'x', 'y'), ':2\r\n');
  });
});

test('nothing moves the keyspace under a busy script: active expiry waits, blocked clients are served after it', async () => {
  await withServer(tmp(), { hz: '100' }, async (s, a, b) => {
    assert.equal(await a.call('SET', 'k', 'v', 'PX', '100'), '+OK\r\n');
    // the key's TTL passes while the script runs: the script still sees it, and the cron's
    // active expiry does not delete it under the script
    assert.equal(await a.call('EVAL', `${spin(400)} return redis.call('exists', 'k')`, '0'), ':1\r\n');
    assert.equal(await a.call('EXISTS', 'k'), ':0\r\n');

    const c = await RawClient.connect(s.port);
    try {
      const popped = c.call('BLPOP', 'list', '0');
      // wait until the client is blocked
      for (let i = 0; i < 200 && !/blocked_clients:1/.test(await b.call('INFO', 'clients')); i++) await new Promise((r) => setTimeout(r, 10));
      const done = a.call('EVAL', `redis.call('lpush', 'list', 'first') ${spin(400)} redis.call('lpush', 'list', 'last') return 1`, '0');
      await waitBusy(b);
      assert.equal(await done, ':1\r\n');
      assert.equal(await popped, '*2\r\n$4\r\nlist\r\n$4\r\nlast\r\n', 'served once, with what the script left');
      assert.equal(await a.call('LRANGE', 'list', '0', '-1'), '*1\r\n$5\r\nfirst\r\n');
    } finally {
      c.close();
    }
  });
});
