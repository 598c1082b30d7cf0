/**
 * Transactions through real clients against Amber: ioredis `.multi()...exec()` and node-redis v5
 * `.multi()` (RESP2 and RESP3), WATCH/UNWATCH optimistic locking with both, queue-time errors,
 * run-time errors inside EXEC, and a contended counter incremented by concurrent WATCH loops.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient, WatchError } from 'redis';
import { startAmber } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

let amber: RunningServer;

before(async () => {
  amber = await startAmber({ save: '' });
});

after(async () => {
  await amber?.close();
});

function ioredis(): Redis {
  return new Redis({ port: amber.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
}

function nodeRedis(resp: 2 | 3): ReturnType<typeof createClient> {
  const c = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: resp });
  c.on('error', () => undefined);
  return c as ReturnType<typeof createClient>;
}

test('ioredis multi/exec: results, run-time errors in place, queue-time errors abort', async () => {
  const c = ioredis();
  try {
    await c.del('tx:a', 'tx:l');
    const res = await c.multi().set('tx:a', '1').incr('tx:a').lpush('tx:a', 'x').get('tx:a').rpush('tx:l', 'p', 'q').lrange('tx:l', 0, -1).exec();
    assert.ok(res);
    assert.deepEqual(res.map(([e]) => (e ? (e as Error).message : null)), [
      null, null, 'WRONGTYPE Operation against a key holding the wrong kind of value', null, null, null,
    ]);
    assert.deepEqual(res.map(([, v]) => v), ['OK', 2, undefined, '2', 2, ['p', 'q']]);
    // a command the server refuses while queueing: EXEC answers EXECABORT
    const m = c.multi().set('tx:a', 'never');
    (m as unknown as { call(...a: string[]): unknown }).call('NOSUCHCOMMAND', 'x');
    await assert.rejects(m.exec(), /EXECABORT Transaction discarded because of previous errors/);
    assert.equal(await c.get('tx:a'), '2');
    // MULTI sent on its own (not pipelined), QUEUED replies, DISCARD
    assert.equal(await c.multi({ pipeline: false }), 'OK');
    assert.equal(await c.set('tx:a', 'discarded'), 'QUEUED');
    assert.equal(await c.discard(), 'OK');
    assert.equal(await c.get('tx:a'), '2');
    // pipeline-style multi: blocking pops do not block inside a transaction
    const b = await c.multi().blpop('tx:none', 0).brpoplpush('tx:none', 'tx:dst', 0).exec();
    assert.deepEqual(b, [[null, null], [null, null]]);
  } finally {
    c.disconnect();
  }
});

test('ioredis WATCH: a write by another client aborts EXEC (null), UNWATCH and untouched keys let it run', async () => {
  const a = ioredis();
  const b = ioredis();
  try {
    await a.set('w:k', '1');
    assert.equal(await a.watch('w:k'), 'OK');
    await b.set('w:k', '2');
    assert.equal(await a.multi().set('w:k', 'from-a').exec(), null);
    assert.equal(await a.get('w:k'), '2');
    // another client's write inside its own transaction breaks the watch too
    await a.watch('w:k');
    await b.multi().incr('w:k').exec();
    assert.equal(await a.multi().set('w:k', 'from-a').exec(), null);
    // UNWATCH, and a watch on a key nobody touches
    await a.watch('w:k');
    await a.unwatch();
    await b.set('w:k', '9');
    assert.deepEqual(await a.multi().get('w:k').exec(), [[null, '9']]);
    await a.watch('w:other');
    await b.set('w:k', '10');
    assert.deepEqual(await a.multi().get('w:k').exec(), [[null, '10']]);
    // expiry of a watched key aborts
    await a.set('w:e', '1', 'PX', 200);
    await a.watch('w:e');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await a.multi().get('w:e').exec(), null);
  } finally {
    a.disconnect();
    b.disconnect();
  }
});

test('ioredis: concurrent WATCH/MULTI increment loops never lose an update', async () => {
  const clients = [ioredis(), ioredis(), ioredis(), ioredis()];
  try {
    await clients[0]!.set('w:counter', '0');
    let aborted = 0;
    const per = 40;
    await Promise.all(clients.map(async (c) => {
      for (let i = 0; i < per;) {
        await c.watch('w:counter');
        const v = Number(await c.get('w:counter'));
        const r = await c.multi().set('w:counter', String(v + 1)).exec();
        if (r === null) aborted++;
        else i++;
      }
    }));
    assert.equal(await clients[0]!.get('w:counter'), String(per * clients.length));
    assert.ok(aborted >= 0);
  } finally {
    for (const c of clients) c.disconnect();
  }
});

for (const resp of [2, 3] as const) {
  test(`node-redis RESP${resp} multi: exec results, execAsPipeline, WatchError`, async () => {
    const a = nodeRedis(resp);
    const b = nodeRedis(resp);
    await a.connect();
    await b.connect();
    try {
      await a.del(['nr:a', 'nr:h', 'nr:z']);
      const r = await a.multi().set('nr:a', '1').incrBy('nr:a', 5).hSet('nr:h', { f: 'v', g: 'w' }).hGetAll('nr:h')
        .zAdd('nr:z', [{ score: 1.5, value: 'm' }]).zScore('nr:z', 'm').get('nr:none').exec();
      assert.deepEqual(r.slice(0, 3), ['OK', 6, 2]);
      assert.deepEqual({ ...(r[3] as object) }, { f: 'v', g: 'w' });
      assert.equal(r[4], 1);
      assert.equal(Number(r[5]), 1.5);
      assert.equal(r[6], null);
      // a run-time error comes back in place of its reply
      const withErr = await a.multi().set('nr:s', 'x').lPush('nr:s', 'y').get('nr:s').exec().catch((e: unknown) => e);
      if (withErr instanceof Error) {
        // node-redis 5 rejects the whole EXEC with a MultiErrorReply carrying the replies
        const replies = (withErr as unknown as { replies: unknown[] }).replies;
        assert.equal(replies[0], 'OK');
        assert.match(String((replies[1] as Error).message ?? replies[1]), /WRONGTYPE/);
        assert.equal(replies[2], 'x');
      } else {
        assert.equal((withErr as unknown[])[2], 'x');
      }
      assert.deepEqual(await a.multi().ping().echo('e').execAsPipeline(), ['PONG', 'e']);
      // WATCH: another client's write makes exec() reject with WatchError
      await a.watch('nr:a');
      await b.set('nr:a', 'changed');
      await assert.rejects(a.multi().set('nr:a', 'mine').exec(), (e: unknown) => e instanceof WatchError);
      assert.equal(await a.get('nr:a'), 'changed');
      await a.watch('nr:a');
      await a.unwatch();
      await b.set('nr:a', 'again');
      assert.deepEqual(await a.multi().get('nr:a').exec(), ['again']);
    } finally {
      a.destroy();
      b.destroy();
    }
  });
}

test('node-redis: WATCH on an isolated connection races a plain client', async () => {
  const a = nodeRedis(3);
  const b = nodeRedis(3);
  await a.connect();
  await b.connect();
  try {
    await b.set('iso:k', '10');
    let tries = 0;
    for (;;) {
      tries++;
      await a.watch('iso:k');
      const v = Number(await a.get('iso:k'));
      if (tries === 1) await b.incr('iso:k'); // the race: first attempt must fail
      try {
        await a.multi().set('iso:k', String(v * 2)).exec();
        break;
      } catch (e) {
        assert.ok(e instanceof WatchError);
      }
    }
    assert.equal(tries, 2);
    assert.equal(await b.get('iso:k'), '22');
  } finally {
    a.destroy();
    b.destroy();
  }
});
