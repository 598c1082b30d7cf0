/**
 * Zsets loaded from a listpack (RDB_TYPE_ZSET_LISTPACK, also LevelDB's inline blobs) stay packed
 * until first used (ZSet.fromPackedListpack): the load checks what the eager load checks
 * (duplicates refused, integer-encoded members and oversized zsets loaded eagerly), a packed
 * zset saves and DUMPs as its own bytes, and every command on it answers as on a zset built by
 * ZADD (each command below meets a key nobody touched since the load).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ZSet } from '../../src/keyspace/types/zset.js';
import { RdbWriter, DEFAULT_SAVE_OPTIONS } from '../../src/persistence/rdb/encoder.js';
import { RdbReader, RdbError } from '../../src/persistence/rdb/reader.js';
import { loadObject } from '../../src/persistence/rdb/decoder.js';
import { DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import { lpEncode } from '../../src/persistence/rdb/listpack.js';
import * as C from '../../src/persistence/rdb/constants.js';
import { rewriteValue } from '../../src/persistence/aof/base-resp.js';
import { withLoadedTwin, sameReplies, RawClient } from '../helpers/servers.js';

/** Decodes a zset listpack value made of `entries` (member, score, ...). */
function decodeListpack(entries: string[], limits = DEFAULT_LIMITS): ZSet {
  const chunks: Buffer[] = [];
  const w = new RdbWriter((c) => chunks.push(Buffer.from(c)), { ...DEFAULT_SAVE_OPTIONS, compression: false }, true);
  w.blob(lpEncode(entries));
  w.flush();
  const body = Buffer.concat(chunks);
  const r = new RdbReader(body);
  const v = loadObject(r, C.RDB_TYPE_ZSET_LISTPACK, limits);
  assert.equal(r.offset, body.length);
  assert.ok(v instanceof ZSet);
  return v;
}

function pairs(z: ZSet): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  z.forEach((m, s) => out.push([m, s]));
  return out;
}

test('a listpack zset loads packed, unpacks in zset order at first use; duplicates, integer members and oversized ones load as before', () => {
  const z = decodeListpack(['b', '2', 'a', '1', 'c', '1.5']);
  assert.notEqual(z.packedListpack, null);
  assert.equal(z.size, 3);
  assert.equal(z.encoding(), 'listpack');
  // forEach reads the packed bytes in zset order and leaves them packed (a LevelDB import)
  assert.deepEqual(pairs(z), [['a', 1], ['c', 1.5], ['b', 2]]);
  assert.notEqual(z.packedListpack, null);
  // the tree's first use builds it, in the same order
  assert.deepEqual(z.head.m, ['a', 'c', 'b']);
  assert.equal(z.packedListpack, null);
  assert.deepEqual(pairs(z), [['a', 1], ['c', 1.5], ['b', 2]]);
  // a member twice: refused, as before
  assert.throws(() => decodeListpack(['a', '1', 'b', '2', 'a', '3']), (e: unknown) => e instanceof RdbError && /Zset listpack integrity check failed/.test(e.reason));
  // an integer-encoded member: compared as text by the eager load (here '7' twice is a duplicate)
  assert.throws(() => decodeListpack(['7', '1', 'x', '2', '7', '3']), RdbError);
  const ints = decodeListpack(['7', '1', '8', '2']);
  assert.equal(ints.packedListpack, null);
  assert.deepEqual(pairs(ints), [['7', 1], ['8', 2]]);
  // more pairs than zset-max-listpack-entries: converted at load, as Redis does
  const big = decodeListpack(['a', '1', 'b', '2', 'c', '3'], { ...DEFAULT_LIMITS, zsetEntries: 2 });
  assert.equal(big.packedListpack, null);
  assert.equal(big.encoding(), 'skiplist');
  // a score stored as the text -0 reads as 0, packed (read-only iteration) and unpacked alike
  const nz = decodeListpack(['a', '-0', 'b', '1']);
  assert.ok(Object.is([...nz.entries()][0]![1], 0));
  assert.notEqual(nz.packedListpack, null);
  assert.ok(Object.is(pairs(nz)[0]![1], 0));
  // clone of a packed zset shares the bytes and stays packed; both unpack alike
  const p = decodeListpack(['m1', '-1', 'm2', 'inf']);
  const c = p.clone();
  assert.equal(c.packedListpack, p.packedListpack);
  assert.deepEqual(pairs(c), pairs(p));
});

test('packed zsets match eager ones (fast-check): members, scores, order, ranks', () => {
  const member = fc.oneof(fc.string({ maxLength: 12 }).map((s) => 'm' + s), fc.constantFrom('', 'a', 'b', 'zz'));
  const score = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true }), fc.constantFrom(0, 1.5, Infinity, -Infinity));
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(member, score), { selector: (t) => t[0], minLength: 1, maxLength: 60 }), (ps) => {
      const entries = ps.flatMap(([m, s]) => [m, String(s === Infinity ? 'inf' : s === -Infinity ? '-inf' : s)]);
      const packed = decodeListpack(entries);
      const eager = new ZSet(true);
      for (const [m, s] of ps) eager.insertNew(s === 0 ? 0 : s, m);
      if (packed.packedListpack === null) return; // an all-digits member went the eager way
      // the AOF rewrite reads a packed zset without unpacking it, and writes what it writes for the tree
      assert.equal(rewriteValue('k', packed), rewriteValue('k', eager));
      assert.notEqual(packed.packedListpack, null);
      assert.equal(packed.size, eager.size);
      const m0 = ps[0]![0];
      assert.equal(packed.rank(m0, false), eager.rank(m0, false));
      assert.deepEqual(pairs(packed), pairs(eager));
    }),
    { numRuns: 200 },
  );
});

test('every zset command on a zset loaded packed answers as on one built by ZADD (DUMP: the same bytes)', async () => {
  const tests: Array<(k: string) => string[]> = [
    (k) => ['ZRANGE', k, '0', '-1', 'WITHSCORES'],
    (k) => ['ZREVRANGE', k, '2', '7', 'WITHSCORES'],
    (k) => ['ZSCORE', k, 'member:7'],
    (k) => ['ZMSCORE', k, 'member:3', 'nope', 'hi'],
    (k) => ['ZRANK', k, 'member:9'],
    (k) => ['ZREVRANK', k, 'lo'],
    (k) => ['ZCARD', k],
    (k) => ['ZCOUNT', k, '(5', '15'],
    (k) => ['ZLEXCOUNT', k, '-', '+'],
    (k) => ['ZRANGEBYSCORE', k, '-inf', '10', 'WITHSCORES', 'LIMIT', '1', '4'],
    (k) => ['ZREVRANGEBYSCORE', k, '+inf', '(3'],
    (k) => ['ZRANGEBYLEX', k, '-', '[member:5'],
    (k) => ['ZADD', k, '3.5', 'new', '99', 'member:1'],
    (k) => ['ZADD', k, 'NX', 'CH', '1', 'member:2', '2', 'another'],
    (k) => ['ZINCRBY', k, '2.5', 'member:4'],
    (k) => ['ZREM', k, 'member:0', 'member:19', 'absent'],
    (k) => ['ZPOPMIN', k, '3'],
    (k) => ['ZPOPMAX', k],
    (k) => ['ZREMRANGEBYRANK', k, '1', '3'],
    (k) => ['ZREMRANGEBYSCORE', k, '0', '10'],
    (k) => ['ZREMRANGEBYLEX', k, '[member:1', '[member:3'],
    (k) => ['ZSCAN', k, '0', 'COUNT', '100'],
    // a count over the size: the whole zset, in its order (deterministic)
    (k) => ['ZRANDMEMBER', k, '100', 'WITHSCORES'],
    (k) => ['OBJECT', 'ENCODING', k],
    (k) => ['TYPE', k],
    (k) => ['DUMP', k],
    (k) => ['ZUNIONSTORE', `${k}:u`, '2', k, k],
    (k) => ['ZINTER', '1', k, 'WITHSCORES'],
    (k) => ['ZRANGESTORE', `${k}:r`, k, '0', '4'],
    (k) => ['SORT', k, 'ALPHA', 'LIMIT', '0', '5'],
    (k) => ['COPY', k, `${k}:c`],
    (k) => ['RENAME', k, `${k}:n`],
    (k) => ['EXPIRE', k, '1000'],
    (k) => ['ZDIFF', '1', k],
  ];
  const fill = (key: string): string[] => {
    const args = ['ZADD', key];
    for (let i = 0; i < 20; i++) args.push(String(i % 5 === 0 ? i : i * 1.25), `member:${i}`);
    args.push('-inf', 'lo', 'inf', 'hi');
    return args;
  };
  // geo: a zset whose scores are geohashes
  const prepare = async (c: RawClient): Promise<string[]> => {
    await c.call('GEOADD', 'geo', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania');
    return ['geo'];
  };
  const isPacked = (v: unknown): boolean => v instanceof ZSet && v.packedListpack !== null;
  await withLoadedTwin({ prefix: 'z:', fill, tests: tests.map((t) => (k: string) => [t(k)]), isPacked, prepare }, async ({ eager, loaded, cmds, keys }) => {
    cmds.push(['GEOSEARCH', 'geo', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'ASC', 'WITHDIST']);
    cmds.push(['GEOPOS', 'geo', 'Palermo']);
    // the eager side: its zsets were built by ZADD (trees from the start)
    const [a, b] = await sameReplies(eager.port, loaded.port, cmds);
    assert.deepEqual(b, a);
    // and afterwards, the zsets the commands left and made
    const all: string[][] = [];
    for (const k of keys) all.push(['ZRANGE', k, '0', '-1', 'WITHSCORES'], ['ZRANGE', `${k}:c`, '0', '-1', 'WITHSCORES'], ['ZRANGE', `${k}:n`, '0', '-1', 'WITHSCORES']);
    const [a2, b2] = await sameReplies(eager.port, loaded.port, all);
    assert.deepEqual(b2, a2);
  });
});
