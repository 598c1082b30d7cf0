/**
 * Model-based comparison with redis-server 7.0.15: fast-check generates random sequences of
 * string, keyspace and expiry commands over a few keys and databases, runs each command on Amber
 * and on redis-server, and requires equal replies. Replies that legitimately differ between two
 * servers are normalized first: key order (KEYS sorts), random picks (RANDOMKEY), and remaining
 * times (TTL/PTTL/EXPIRETIME/PEXPIRETIME of relative TTLs compare by sign only).
 * Bounded: 50 runs of up to 40 commands (MODEL_RUNS=n runs more, for a longer search).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RawClient } from '../helpers/servers.js';
import { compatPair } from '../helpers/compat.js';
import { assertAccounting } from '../helpers/accounting.js';

// maxmemory far above what the sequences use: the dataset accounting runs and is checked
const pair = compatPair({ clients: 'none', amber: { maxmemory: '1gb' } });
const { skip } = pair;

const key = fc.constantFrom('a', 'b', 'c', 'n');
const value = fc.constantFrom('1', '-5', '0', 'abc', '', '10', '9223372036854775807', '3.5', 'hello world');
const int = fc.constantFrom('1', '-1', '0', '7', '100', '-9223372036854775808', 'x', '9223372036854775807');
const dbIndex = fc.constantFrom('0', '1', '2');
const ttlFlag = fc.constantFrom([], ['NX'], ['XX'], ['GT'], ['LT'], ['NX', 'XX'], ['GT', 'LT'], ['FOO']);
const seconds = fc.constantFrom('1000', '2000', '-1', '0', '50');
const ms = fc.constantFrom('1000000', '2000000', '-1', '0');
const FAR_S = fc.constantFrom('4000000000', '4000000100', '1');
const FAR_MS = fc.constantFrom('4000000000123', '4000000100000', '1');

/**
 * Collection commands that create keys of other types, so WRONGTYPE, TYPE, COPY and RENAME of
 * collections are exercised too; only those Amber implements are used (probed at run time).
 */
const COLLECTION_CMDS: Array<[string[], fc.Arbitrary<string[]>]> = [
  [['RPUSH', 'probe:l', 'x'], fc.tuple(key, value).map(([k, v]) => ['RPUSH', k, v])],
  [['LRANGE', 'probe:l', '0', '-1'], key.map((k) => ['LRANGE', k, '0', '-1'])],
  [['SADD', 'probe:s', 'x'], fc.tuple(key, value).map(([k, v]) => ['SADD', k, v])],
  [['SMEMBERS', 'probe:s'], key.map((k) => ['SCARD', k])],
  [['HSET', 'probe:h', 'f', 'x'], fc.tuple(key, value).map(([k, v]) => ['HSET', k, 'f', v])],
  [['HGET', 'probe:h', 'f'], key.map((k) => ['HGET', k, 'f'])],
];

/** The commands of the model: strings, generic keyspace and expiry. */
const baseCommand: fc.Arbitrary<string[]> = fc.oneof(
  // strings
  fc.tuple(key, value).map(([k, v]) => ['SET', k, v]),
  fc.tuple(key, value, fc.constantFrom(['NX'], ['XX'], ['GET'], ['EX', '1000'], ['PX', '100000'], ['KEEPTTL'],
    ['EXAT', '4000000000'], ['PXAT', '4000000000123'], ['NX', 'GET'], ['XX', 'KEEPTTL'], ['EX', '0'], ['EX', 'x'], ['NX', 'XX']))
    .map(([k, v, o]) => ['SET', k, v, ...o]),
  key.map((k) => ['GET', k]),
  fc.tuple(key, value).map(([k, v]) => ['SETNX', k, v]),
  fc.tuple(key, seconds, value).map(([k, s, v]) => ['SETEX', k, s, v]),
  fc.tuple(key, value).map(([k, v]) => ['GETSET', k, v]),
  key.map((k) => ['GETDEL', k]),
  fc.tuple(key, fc.constantFrom(['EX', '1000'], ['PERSIST'], [], ['PXAT', '4000000000123'])).map(([k, o]) => ['GETEX', k, ...o]),
  fc.tuple(key, value, key, value).map(([k1, v1, k2, v2]) => ['MSET', k1, v1, k2, v2]),
  fc.tuple(key, value, key, value).map(([k1, v1, k2, v2]) => ['MSETNX', k1, v1, k2, v2]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['MGET', ...ks]),
  key.map((k) => ['INCR', k]),
  key.map((k) => ['DECR', k]),
  fc.tuple(key, int).map(([k, n]) => ['INCRBY', k, n]),
  fc.tuple(key, int).map(([k, n]) => ['DECRBY', k, n]),
  fc.tuple(key, value).map(([k, v]) => ['APPEND', k, v]),
  key.map((k) => ['STRLEN', k]),
  fc.tuple(key, fc.constantFrom('0', '1', '-2', '5'), fc.constantFrom('-1', '2', '0', '100')).map(([k, s, e]) => ['GETRANGE', k, s, e]),
  fc.tuple(key, fc.constantFrom('0', '1', '3'), value).map(([k, o, v]) => ['SETRANGE', k, o, v]),
  // keyspace
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['DEL', ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['UNLINK', ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['EXISTS', ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['TOUCH', ...ks]),
  key.map((k) => ['TYPE', k]),
  fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]),
  fc.tuple(key, key).map(([a, b]) => ['RENAMENX', a, b]),
  fc.tuple(key, key, fc.constantFrom([], ['REPLACE'], ['DB', '1'], ['DB', '2', 'REPLACE'], ['DB', '0'])).map(([a, b, o]) => ['COPY', a, b, ...o]),
  fc.tuple(key, dbIndex).map(([k, d]) => ['MOVE', k, d]),
  fc.tuple(dbIndex, dbIndex).map(([a, b]) => ['SWAPDB', a, b]),
  dbIndex.map((d) => ['SELECT', d]),
  fc.constant<string[]>(['FLUSHDB']),
  fc.constant<string[]>(['DBSIZE']),
  fc.constant<string[]>(['KEYS', '*']),
  fc.constantFrom<string[]>(['KEYS', '[ab]'], ['KEYS', '?'], ['KEYS', 'n*']),
  fc.constant<string[]>(['RANDOMKEY']),
  // expiry
  fc.tuple(key, seconds, ttlFlag).map(([k, s, f]) => ['EXPIRE', k, s, ...f]),
  fc.tuple(key, ms, ttlFlag).map(([k, s, f]) => ['PEXPIRE', k, s, ...f]),
  fc.tuple(key, FAR_S, ttlFlag).map(([k, s, f]) => ['EXPIREAT', k, s, ...f]),
  fc.tuple(key, FAR_MS, ttlFlag).map(([k, s, f]) => ['PEXPIREAT', k, s, ...f]),
  key.map((k) => ['PERSIST', k]),
  key.map((k) => ['TTL', k]),
  key.map((k) => ['PTTL', k]),
  key.map((k) => ['EXPIRETIME', k]),
  key.map((k) => ['PEXPIRETIME', k]),
);

/** Makes replies comparable across two servers; see the file comment. */
function normalize(cmd: string[], reply: string): string {
  const name = cmd[0]!.toUpperCase();
  if (name === 'KEYS' && reply.startsWith('*')) {
    const parts = reply.split('\r\n');
    const items: string[] = [];
    for (let i = 2; i < parts.length; i += 2) items.push(parts[i]!);
    return `KEYS ${JSON.stringify(items.slice(0, Number(parts[0]!.slice(1))).sort())}`;
  }
  if (name === 'RANDOMKEY') return reply.startsWith('$') && reply !== '$-1\r\n' ? 'some key' : reply;
  if (['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME'].includes(name) && /^:[1-9]/.test(reply)) return ':+';
  return reply;
}

test('random string, keyspace and expiry command sequences reply like redis-server', { skip }, async () => {
  const probe = await RawClient.connect(pair.amber.port);
  const extra: fc.Arbitrary<string[]>[] = [];
  for (const [probeCmd, arb] of COLLECTION_CMDS) {
    if (!(await probe.call(...probeCmd)).startsWith('-ERR unknown command')) extra.push(arb);
  }
  await probe.call('FLUSHALL');
  probe.close();
  const command = extra.length ? fc.oneof({ arbitrary: baseCommand, weight: 8 }, ...extra.map((arbitrary) => ({ arbitrary, weight: 1 }))) : baseCommand;
  const t0 = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (cmds) => {
      const ca = await RawClient.connect(pair.amber.port);
      const cr = await RawClient.connect(pair.redis.port);
      try {
        await ca.call('FLUSHALL');
        await cr.call('FLUSHALL');
        const history: string[] = [];
        for (const cmd of cmds) {
          const ra = normalize(cmd, await ca.call(...cmd));
          const rr = normalize(cmd, await cr.call(...cmd));
          history.push(`${cmd.join(' ')} -> ${JSON.stringify(rr)}`);
          assert.equal(ra, rr, `after:\n${history.join('\n')}`);
        }
        // the final state of every database is the same
        for (const db of ['0', '1', '2']) {
          await ca.call('SELECT', db);
          await cr.call('SELECT', db);
          const ka = normalize(['KEYS'], await ca.call('KEYS', '*'));
          const kr = normalize(['KEYS'], await cr.call('KEYS', '*'));
          assert.equal(ka, kr, `db ${db} keys after:\n${history.join('\n')}`);
          for (const k of ['a', 'b', 'c', 'n']) {
            assert.equal(await ca.call('GET', k), await cr.call('GET', k), `db ${db} GET ${k}`);
            assert.equal(normalize(['TTL'], await ca.call('TTL', k)), normalize(['TTL'], await cr.call('TTL', k)), `db ${db} TTL ${k}`);
          }
        }
        assertAccounting(pair.amber.server, `after:\n${history.join('\n')}`);
      } finally {
        ca.close();
        cr.close();
      }
    }),
    { numRuns: Number(process.env.MODEL_RUNS ?? 50) },
  );
  if (!process.env.MODEL_RUNS) assert.ok(Date.now() - t0 < 30000, 'model test took too long');
});
