/**
 * Model-based test: random sequences of hash, set and generic commands over a few shared keys
 * (so WRONGTYPE, deletion of emptied keys and encoding conversions all happen) run on Amber and
 * on redis-server 7.0.15; every reply must be the same bytes, after sorting the elements of
 * replies whose order is a hashtable's. Small encoding limits make conversions frequent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, replyEnd, type RedisChild } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';
import { assertAccounting } from '../helpers/accounting.js';

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;
let ca: RawClient;
let cr: RawClient;

const LIMITS = ['hash-max-listpack-entries', '4', 'hash-max-listpack-value', '16', 'set-max-intset-entries', '4'];

before(async () => {
  if (skip) return;
  // maxmemory far above what the sequences use: the dataset accounting runs and is checked
  amber = await startAmber({ maxmemory: '1gb' });
  redis = await startRedis();
  ca = await RawClient.connect(amber.port);
  cr = await RawClient.connect(redis.port);
  for (const c of [ca, cr]) {
    for (let i = 0; i < LIMITS.length; i += 2) assert.equal(await c.call('CONFIG', 'SET', LIMITS[i]!, LIMITS[i + 1]!), '+OK\r\n');
  }
});
after(async () => {
  ca?.close();
  cr?.close();
  await amber?.close();
  await redis?.close();
});

const key = fc.constantFrom('k1', 'k2', 'k3');
const field = fc.oneof(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', '', 'x'.repeat(17)), fc.integer({ min: 0, max: 9 }).map(String));
const value = fc.oneof(
  fc.constantFrom('v', '', '0', '-1', '10', '1.5', 'y'.repeat(17), '9223372036854775807', ' 1'),
  fc.integer({ min: -1000, max: 1000 }).map(String),
);
const member = fc.oneof(
  fc.integer({ min: -3, max: 12 }).map(String),
  fc.constantFrom('a', 'b', 'c', '007', '-0', '9223372036854775807', '-9223372036854775808', '9223372036854775808', ''),
);
const count = fc.constantFrom('0', '1', '2', '5', '100', '-1', 'x');
const keys = fc.array(key, { minLength: 1, maxLength: 3 });

/** A command and how its reply is compared: exactly, or as a multiset ('sort') or of pairs. */
type Cmd = { argv: string[]; norm?: 'sort' | 'pairs' };
const exact = (argv: string[]): Cmd => ({ argv });
const unordered = (argv: string[]): Cmd => ({ argv, norm: 'sort' });

/** Writes that grow collections come more often, so that conversions happen. */
const grow = <T>(arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ arbitrary, weight: 6 });

const command: fc.Arbitrary<Cmd> = fc.oneof(
  grow(fc.tuple(key, fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 4 })).map(([k, ps]) => exact(['HSET', k, ...ps.flat()]))),
  fc.tuple(key, field, value).map(([k, f, v]) => exact(['HSETNX', k, f, v])),
  fc.tuple(key, field).map(([k, f]) => exact(['HGET', k, f])),
  fc.tuple(key, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, fs]) => exact(['HMGET', k, ...fs])),
  fc.tuple(key, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, fs]) => exact(['HDEL', k, ...fs])),
  key.map((k) => exact(['HLEN', k])),
  fc.tuple(key, field).map(([k, f]) => exact(['HSTRLEN', k, f])),
  fc.tuple(key, field).map(([k, f]) => exact(['HEXISTS', k, f])),
  fc.tuple(key, field, fc.constantFrom('1', '-5', '100', 'x', '9223372036854775807')).map(([k, f, n]) => exact(['HINCRBY', k, f, n])),
  fc.tuple(key, field, fc.constantFrom('1.5', '-0.1', '1e3', 'x', 'inf', '3')).map(([k, f, n]) => exact(['HINCRBYFLOAT', k, f, n])),
  key.map((k): Cmd => ({ argv: ['HGETALL', k], norm: 'pairs' })),
  key.map((k) => unordered(['HKEYS', k])),
  key.map((k) => unordered(['HVALS', k])),
  grow(fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 4 })).map(([k, ms]) => exact(['SADD', k, ...ms]))),
  fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, ms]) => exact(['SREM', k, ...ms])),
  fc.tuple(key, member).map(([k, m]) => exact(['SISMEMBER', k, m])),
  fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, ms]) => exact(['SMISMEMBER', k, ...ms])),
  key.map((k) => exact(['SCARD', k])),
  key.map((k) => unordered(['SMEMBERS', k])),
  keys.map((ks) => unordered(['SINTER', ...ks])),
  keys.map((ks) => unordered(['SUNION', ...ks])),
  keys.map((ks) => unordered(['SDIFF', ...ks])),
  fc.tuple(key, keys).map(([d, ks]) => exact(['SINTERSTORE', d, ...ks])),
  fc.tuple(key, keys).map(([d, ks]) => exact(['SUNIONSTORE', d, ...ks])),
  fc.tuple(key, keys).map(([d, ks]) => exact(['SDIFFSTORE', d, ...ks])),
  fc.tuple(keys, count).map(([ks, n]) => exact(['SINTERCARD', String(ks.length), ...ks, 'LIMIT', n])),
  fc.tuple(key, key, member).map(([a, b, m]) => exact(['SMOVE', a, b, m])),
  // deterministic forms of the random commands: the whole collection, or nothing
  fc.tuple(key, fc.constantFrom('0', '100', '-1x')).map(([k, n]) => unordered(['SPOP', k, n])),
  fc.tuple(key, fc.constantFrom('0', '100')).map(([k, n]) => unordered(['SRANDMEMBER', k, n])),
  fc.tuple(key, fc.constantFrom('0', '100')).map(([k, n]): Cmd => ({ argv: ['HRANDFIELD', k, n, 'WITHVALUES'], norm: 'pairs' })),
  { arbitrary: key.map((k) => exact(['OBJECT', 'ENCODING', k])), weight: 4 },
  key.map((k) => exact(['TYPE', k])),
  key.map((k) => exact(['DEL', k])),
  fc.constant(exact(['SET', 'k3', 'str'])),
);

function normalize(reply: string, norm: 'sort' | 'pairs' | undefined): string {
  if (norm === undefined || !'*~%'.includes(reply[0]!)) return reply;
  const buf = Buffer.from(reply, 'latin1');
  const nl = reply.indexOf('\r\n');
  const items: string[] = [];
  for (let p = nl + 2; p < buf.length; ) {
    const e = replyEnd(buf, p);
    items.push(reply.slice(p, e));
    p = e;
  }
  if (norm === 'pairs') {
    const pairs: string[] = [];
    for (let i = 0; i < items.length; i += 2) pairs.push(items[i]! + items[i + 1]!);
    return reply.slice(0, nl + 2) + pairs.sort().join('');
  }
  return reply.slice(0, nl + 2) + items.sort().join('');
}

test('random hash/set command sequences reply as redis-server does', { skip, timeout: 60000 }, async () => {
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (cmds) => {
      await ca.call('FLUSHALL');
      await cr.call('FLUSHALL');
      const ra = await ca.pipeline(cmds.map((c) => c.argv));
      const rr = await cr.pipeline(cmds.map((c) => c.argv));
      for (let i = 0; i < cmds.length; i++) {
        const c = cmds[i]!;
        assert.equal(normalize(ra[i]!, c.norm), normalize(rr[i]!, c.norm), `${i}: ${c.argv.join(' ')}`);
      }
      assertAccounting(amber.server, `after ${cmds.map((c) => c.argv.join(' ')).join('; ')}`);
    }),
    { numRuns: 1000, interruptAfterTimeLimit: 20000 },
  );
  assert.ok(Date.now() - started < 60000, 'Date.now() - started < 60000');
});
