/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE against redis-server 7.0.15: the same dataset gives the same
 * 40 hex digits in both, for every type and encoding (listpack and hashtable forms, intsets,
 * skiplist zsets with scores whose %.17g differs from the shortest form, streams), TTLs, several
 * databases, binary keys and values; random datasets (fast-check) too. Also the argument errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compatPair } from '../helpers/compat.js';

const pair = compatPair({ clients: 'resp2' });
const { skip } = pair;

test('DEBUG DIGEST and DIGEST-VALUE equal Redis for every type, encoding, TTL and db', { skip }, async () => {
  await pair.reset();
  const bigZ: string[] = [];
  const bigH: string[] = [];
  for (let i = 0; i < 200; i++) bigZ.push(String(i / 3), `m${i}`), bigH.push(`f${i}`, `v${i}`);
  await pair.same([
    ['DEBUG', 'DIGEST'],
    ['DEBUG', 'DIGEST-VALUE', 'missing'],
    ['SET', 's', 'hello'], ['SET', 'n', '12345'], ['SET', 'bin\x00\xff', '\r\n\x00\x80'],
    ['RPUSH', 'l', 'a', 'b', 'c', '1', '2'], ['RPUSH', 'bigl', ...Array.from({ length: 300 }, (_, i) => `item${i}`)],
    ['SADD', 'iset', '1', '2', '3', '-100'], ['SADD', 'set', 'x', 'y', 'z', ''],
    ['ZADD', 'z', '1.5', 'a', '0.1', 'b', '-inf', 'c', '3', 'd', '1e300', 'e', '-0', 'f'], ['ZADD', 'bigz', ...bigZ],
    ['HSET', 'h', 'f1', 'v1', 'f2', '', 'f3', '3'], ['HSET', 'bigh', ...bigH],
    ['XADD', 'st', '1-1', 'a', '1', 'b', '2'], ['XADD', 'st', '2-5', 'c', '3'], ['XADD', 'empty', '1-1', 'x', 'y'], ['XDEL', 'empty', '1-1'],
    ['EXPIRE', 's', '1000'], ['PEXPIRE', 'bigz', '100000'],
    ['SELECT', '3'], ['SET', 'other', 'x'], ['SELECT', '0'],
    ['DEBUG', 'DIGEST'],
    ['DEBUG', 'DIGEST-VALUE', 's', 'n', 'bin\x00\xff', 'l', 'bigl', 'iset', 'set', 'z', 'bigz', 'h', 'bigh', 'st', 'empty', 'missing'],
    ['DEBUG', 'DIGEST-VALUE'],
    ['DEBUG', 'DIGEST', 'extra'],
  ]);
  const [digest] = await pair.same([['DEBUG', 'DIGEST']]);
  assert.match(digest!, /^\+[0-9a-f]{40}\r\n$/);
  assert.notEqual(digest, `+${'0'.repeat(40)}\r\n`);
});

test('DEBUG DIGEST equals Redis on random datasets', { skip }, async () => {
  const member = fc.string({ unit: 'binary-ascii', maxLength: 12 });
  const cmd = fc.oneof(
    fc.tuple(fc.constant('SET'), member, member),
    fc.tuple(fc.constant('RPUSH'), member, member, member),
    fc.tuple(fc.constant('SADD'), member, member),
    fc.tuple(fc.constant('SADD'), member, fc.integer({ min: -1000, max: 1000 }).map(String)),
    fc.tuple(fc.constant('HSET'), member, member, member),
    fc.tuple(fc.constant('ZADD'), member, fc.double({ noNaN: true }).map((d) => (d === Infinity ? 'inf' : d === -Infinity ? '-inf' : String(d))), member),
    fc.tuple(fc.constant('PEXPIRE'), member, fc.constant('1000000')),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(cmd, { maxLength: 60 }), fc.integer({ min: 0, max: 3 }), async (cmds, db) => {
      await pair.reset();
      const run = [['SELECT', String(db)], ...cmds.map((c) => [...c])];
      const ra = await pair.ca.pipeline(run);
      const rr = await pair.cr.pipeline(run);
      // a key may hold another type already: both answer WRONGTYPE alike
      assert.deepEqual(ra, rr);
      const [a, r] = [await pair.ca.call('DEBUG', 'DIGEST'), await pair.cr.call('DEBUG', 'DIGEST')];
      assert.equal(a, r, JSON.stringify(run));
      await pair.same([['SELECT', '0']]);
    }),
    { numRuns: 40 },
  );
});
