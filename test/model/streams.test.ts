/**
 * Model-based comparison with redis-server 7.0.15: fast-check generates random sequences of
 * stream commands (XADD with explicit, partial and invalid IDs and every trimming form, XDEL,
 * XTRIM, ranges, XREAD, consumer groups with XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, XPENDING,
 * XSETID, XINFO, and a string key for WRONGTYPE paths) over a few keys and node sizes, runs each
 * on Amber and on redis-server, and requires identical replies (times masked) and the same final
 * XINFO STREAM FULL. Bounded: 40 runs of up to 40 commands (MODEL_RUNS=n runs more).
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

const KEYS = ['s', 't', 'str'];
const key = fc.constantFrom('s', 's', 's', 't', 'str');
const group = fc.constantFrom('g', 'g', 'h');
const consumer = fc.constantFrom('c1', 'c2', 'c3');
const ms = fc.integer({ min: 0, max: 40 });
const id = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(ms, fc.integer({ min: 0, max: 3 })).map(([m, s]) => `${m}-${s}`) },
  { weight: 1, arbitrary: ms.map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0-0', '18446744073709551615-18446744073709551615', 'x', '1-x', '(5-0') },
);
const rangeBound = fc.oneof({ weight: 4, arbitrary: id }, { weight: 1, arbitrary: fc.constantFrom('-', '+', '(3-1', '(0-0') });
const small = fc.constantFrom('0', '1', '2', '3', '5', '8', '-1', 'x');
const fields = fc.constantFrom(['f', 'v'], ['f', 'w'], ['f', '1'], ['a', 'b', 'c', 'd'], ['f', ''], ['n', '123456'], ['f', 'v'.repeat(70)]);
const trim = fc.oneof(
  { weight: 3, arbitrary: fc.constant<string[]>([]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom([], ['='], ['~']), small).map(([op, n]) => ['MAXLEN', ...op, n]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom([], ['='], ['~']), id).map(([op, i]) => ['MINID', ...op, i]) },
  { weight: 1, arbitrary: fc.tuple(small, small).map(([n, l]) => ['MAXLEN', '~', n, 'LIMIT', l]) },
);
const xaddId = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(ms, fc.integer({ min: 0, max: 3 })).map(([m, s]) => `${m}-${s}`) },
  { weight: 2, arbitrary: ms.map((m) => `${m}-*`) },
  { weight: 1, arbitrary: fc.constantFrom('0-0', '5', 'bad') },
);

const command: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(key, fc.boolean(), trim, xaddId, fields).map(([k, nomk, t, i, f]) => ['XADD', k, ...(nomk ? ['NOMKSTREAM'] : []), ...t, i, ...f]) },
  { weight: 2, arbitrary: fc.tuple(key, fc.array(id, { minLength: 1, maxLength: 3 })).map(([k, ids]) => ['XDEL', k, ...ids]) },
  { weight: 2, arbitrary: fc.tuple(key, trim).map(([k, t]) => ['XTRIM', k, ...(t.length ? t : ['MAXLEN', '~', '2'])]) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('XRANGE', 'XREVRANGE'), key, rangeBound, rangeBound, fc.option(small)).map(([c, k, a, b, n]) => [c, k, a, b, ...(n === null ? [] : ['COUNT', n])]) },
  { weight: 1, arbitrary: key.map((k) => ['XLEN', k]) },
  { weight: 1, arbitrary: fc.tuple(small, key, fc.constantFrom('0', '$', '3-0', '20')).map(([n, k, i]) => ['XREAD', 'COUNT', n, 'STREAMS', k, i]) },
  {
    weight: 2,
    arbitrary: fc.tuple(key, group, fc.constantFrom('0', '$', '5-0', 'x'), fc.boolean(), fc.option(fc.constantFrom('0', '3', '-1', '7'))).map(([k, g, i, mk, er]) =>
      ['XGROUP', 'CREATE', k, g, i, ...(mk ? ['MKSTREAM'] : []), ...(er === null ? [] : ['ENTRIESREAD', er])]),
  },
  { weight: 1, arbitrary: fc.tuple(key, group, fc.constantFrom('0', '$', '4-0', '+'), fc.option(fc.constantFrom('0', '2', '-1'))).map(([k, g, i, er]) => ['XGROUP', 'SETID', k, g, i, ...(er === null ? [] : ['ENTRIESREAD', er])]) },
  { weight: 1, arbitrary: fc.tuple(key, group).map(([k, g]) => ['XGROUP', 'DESTROY', k, g]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('CREATECONSUMER', 'DELCONSUMER'), key, group, consumer).map(([s, k, g, c]) => ['XGROUP', s, k, g, c]) },
  {
    weight: 5,
    arbitrary: fc.tuple(group, consumer, fc.option(small), fc.boolean(), key, fc.constantFrom('>', '>', '>', '0', '3-0')).map(([g, c, n, noack, k, i]) =>
      ['XREADGROUP', 'GROUP', g, c, ...(n === null ? [] : ['COUNT', n]), ...(noack ? ['NOACK'] : []), 'STREAMS', k, i]),
  },
  { weight: 3, arbitrary: fc.tuple(key, group, fc.array(id, { minLength: 1, maxLength: 3 })).map(([k, g, ids]) => ['XACK', k, g, ...ids]) },
  {
    weight: 3,
    arbitrary: fc.tuple(key, group, consumer, fc.array(id, { minLength: 1, maxLength: 3 }), fc.subarray([['JUSTID'], ['FORCE'], ['RETRYCOUNT', '4'], ['TIME', '1000'], ['LASTID', '9-0']]))
      .map(([k, g, c, ids, opts]) => ['XCLAIM', k, g, c, '0', ...ids, ...opts.flat()]),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(key, group, consumer, rangeBound, fc.option(fc.constantFrom('1', '2', '3', '0')), fc.boolean())
      .map(([k, g, c, st, n, j]) => ['XAUTOCLAIM', k, g, c, '0', st, ...(n === null ? [] : ['COUNT', n]), ...(j ? ['JUSTID'] : [])]),
  },
  { weight: 2, arbitrary: fc.tuple(key, group).map(([k, g]) => ['XPENDING', k, g]) },
  { weight: 2, arbitrary: fc.tuple(key, group, rangeBound, rangeBound, small, fc.option(consumer)).map(([k, g, a, b, n, c]) => ['XPENDING', k, g, a, b, n, ...(c === null ? [] : [c])]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.constantFrom('30-0', '45-0', '2-0'), fc.option(fc.constantFrom(['ENTRIESADDED', '50'], ['MAXDELETEDID', '1-0'], ['ENTRIESADDED', '0']))).map(([k, i, o]) => ['XSETID', k, i, ...(o ?? [])]) },
  { weight: 2, arbitrary: fc.tuple(key, fc.constantFrom([], ['FULL'], ['FULL', 'COUNT', '2'])).map(([k, o]) => ['XINFO', 'STREAM', k, ...o]) },
  { weight: 2, arbitrary: key.map((k) => ['XINFO', 'GROUPS', k]) },
  { weight: 1, arbitrary: fc.tuple(key, group).map(([k, g]) => ['XINFO', 'CONSUMERS', k, g]) },
  { weight: 1, arbitrary: key.map((k) => ['DEL', k]) },
);

/** Masks what depends on the clock: idle times, seen-times and delivery times. */
function mask(r: string): string {
  return r
    .replace(/(\$4\r\nidle\r\n):\d+/g, '$1:T')
    .replace(/(\$9\r\nseen-time\r\n):\d+/g, '$1:T')
    .replace(/(\*4\r\n\$\d+\r\n\d+-\d+\r\n\$\d+\r\n[^\r]*\r\n):\d+(\r\n:\d+\r\n)/g, '$1:T$2')
    .replace(/(\*3\r\n\$\d+\r\n\d+-\d+\r\n):\d+(\r\n:\d+\r\n)/g, '$1:T$2');
}

test('random stream command sequences reply like redis-server', { skip }, async () => {
  const t0 = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('100', '3', '5', '0'), fc.array(command, { minLength: 1, maxLength: 40 }), async (nodeEntries, cmds) => {
      const ca = await RawClient.connect(pair.amber.port);
      const cr = await RawClient.connect(pair.redis.port);
      try {
        for (const c of [ca, cr]) {
          await c.call('FLUSHALL');
          await c.call('SET', 'str', 'x');
          await c.call('CONFIG', 'SET', 'stream-node-max-entries', nodeEntries);
          await c.call('CONFIG', 'SET', 'stream-node-max-bytes', nodeEntries === '0' ? '150' : '4096');
        }
        const history: string[] = [`(stream-node-max-entries ${nodeEntries})`];
        const [ra, rr] = await Promise.all([ca.pipeline(cmds), cr.pipeline(cmds)]);
        for (let i = 0; i < cmds.length; i++) {
          history.push(`${cmds[i]!.join(' ').slice(0, 120)} -> ${JSON.stringify(rr[i]).slice(0, 300)}`);
          assert.equal(mask(ra[i]!), mask(rr[i]!), `after:\n${history.join('\n')}`);
        }
        for (const k of KEYS) {
          const q = ['XINFO', 'STREAM', k, 'FULL'];
          assert.equal(mask(await ca.call(...q)), mask(await cr.call(...q)), `final ${k} after:\n${history.join('\n')}`);
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
