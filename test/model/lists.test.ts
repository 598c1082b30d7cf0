/**
 * Model-based comparison with redis-server 7.0.15: fast-check generates random sequences of list
 * commands (every list command, blocking ones with short timeouts, bulk pushes long enough to
 * pack pages, a string key for WRONGTYPE paths) over a few keys, runs each on Amber and on
 * redis-server, and requires byte-identical replies and the same final lists.
 * Bounded: 40 runs of up to 40 commands (MODEL_RUNS=n runs more).
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

const KEYS = ['a', 'b', 'c', 's'];
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom('a', 'b', 'c', '1', '-1', '', 'x y', '127', '99999999999');
const index = fc.constantFrom('0', '1', '-1', '2', '-3', '5', '100', '-100', '130', '-200', 'x', '9223372036854775807', '-9223372036854775808');
const count = fc.constantFrom('0', '1', '-1', '2', '-2', '3', '200', 'x');
const side = fc.constantFrom('LEFT', 'RIGHT', 'left', 'middle');
const keys = fc.array(key, { minLength: 1, maxLength: 3 });
const values = fc.array(value, { minLength: 1, maxLength: 5 });
const lposOpts = fc.array(
  fc.constantFrom(['RANK', '1'], ['RANK', '-1'], ['RANK', '2'], ['RANK', '-3'], ['RANK', '0'], ['COUNT', '0'], ['COUNT', '2'],
    ['MAXLEN', '0'], ['MAXLEN', '3'], ['MAXLEN', '150'], ['COUNT', '-1'], ['FOO']),
  { maxLength: 3 },
).map((os) => os.flat());

const command: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX'), key, values).map(([c, k, vs]) => [c, k, ...vs]) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom('LPUSH', 'RPUSH'), key, fc.integer({ min: 100, max: 400 }), value)
      .map(([c, k, n, v]) => [c, k, ...Array.from({ length: n }, (_, i) => (i % 7 === 0 ? v : `${v}${i % 13}`))]),
  },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('LPOP', 'RPOP'), key, fc.option(count)).map(([c, k, n]) => (n === null ? [c, k] : [c, k, n])) },
  { weight: 1, arbitrary: key.map((k) => ['LLEN', k]) },
  { weight: 2, arbitrary: fc.tuple(key, index).map(([k, i]) => ['LINDEX', k, i]) },
  { weight: 2, arbitrary: fc.tuple(key, index, value).map(([k, i, v]) => ['LSET', k, i, v]) },
  { weight: 2, arbitrary: fc.tuple(key, index, index).map(([k, i, j]) => ['LRANGE', k, i, j]) },
  { weight: 1, arbitrary: fc.tuple(key, index, index).map(([k, i, j]) => ['LTRIM', k, i, j]) },
  { weight: 2, arbitrary: fc.tuple(key, count, value).map(([k, n, v]) => ['LREM', k, n, v]) },
  {
    weight: 2,
    arbitrary: fc.tuple(key, fc.constantFrom('BEFORE', 'AFTER', 'after', 'middle'), value, value).map(([k, w, p, v]) => ['LINSERT', k, w, p, v]),
  },
  { weight: 2, arbitrary: fc.tuple(key, value, lposOpts).map(([k, v, o]) => ['LPOS', k, v, ...o]) },
  { weight: 2, arbitrary: fc.tuple(key, key, side, side).map(([s, d, f, t]) => ['LMOVE', s, d, f, t]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([s, d]) => ['RPOPLPUSH', s, d]) },
  {
    weight: 2,
    arbitrary: fc.tuple(keys, side, fc.option(count)).map(([ks, w, n]) => ['LMPOP', String(ks.length), ...ks, w, ...(n === null ? [] : ['COUNT', n])]),
  },
  // blocking forms: they either pop at once or time out after a few ms
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('BLPOP', 'BRPOP'), keys).map(([c, ks]) => [c, ...ks, '0.01']) },
  { weight: 1, arbitrary: fc.tuple(key, key, side, side).map(([s, d, f, t]) => ['BLMOVE', s, d, f, t, '0.01']) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([s, d]) => ['BRPOPLPUSH', s, d, '0.01']) },
  {
    weight: 1,
    arbitrary: fc.tuple(keys, side, fc.option(count)).map(([ks, w, n]) => ['BLMPOP', '0.01', String(ks.length), ...ks, w, ...(n === null ? [] : ['COUNT', n])]),
  },
  { weight: 1, arbitrary: fc.tuple(key, value).map(([k, v]) => ['SET', k, v]) },
  { weight: 1, arbitrary: keys.map((ks) => ['DEL', ...ks]) },
  { weight: 1, arbitrary: key.map((k) => ['TYPE', k]) },
);

test('random list command sequences reply like redis-server', { skip }, async () => {
  const t0 = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (cmds) => {
      const ca = await RawClient.connect(pair.amber.port);
      const cr = await RawClient.connect(pair.redis.port);
      try {
        await ca.call('FLUSHALL');
        await cr.call('FLUSHALL');
        await ca.call('SET', 's', 'str');
        await cr.call('SET', 's', 'str');
        const history: string[] = [];
        for (const cmd of cmds) {
          const [ra, rr] = await Promise.all([ca.call(...cmd), cr.call(...cmd)]);
          history.push(`${cmd.join(' ').slice(0, 120)} -> ${JSON.stringify(rr).slice(0, 200)}`);
          assert.equal(ra, rr, `after:\n${history.join('\n')}`);
        }
        for (const k of KEYS) {
          const q = ['LRANGE', k, '0', '-1'];
          assert.equal(await ca.call(...q), await cr.call(...q), `final ${k} after:\n${history.join('\n')}`);
        }
        assertAccounting(pair.amber.server, `after:\n${history.join('\n')}`);
      } finally {
        ca.close();
        cr.close();
      }
    }),
    { numRuns: Number(process.env.MODEL_RUNS ?? 40) },
  );
  if (!process.env.MODEL_RUNS) assert.ok(Date.now() - t0 < 45000, 'model test took too long');
});
