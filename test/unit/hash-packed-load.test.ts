/**
 * Hashes loaded from a listpack (RDB_TYPE_HASH_LISTPACK, also LevelDB's inline blobs and RESTORE)
 * stay packed until first used (Hash.fromPackedListpack): the load checks what the eager load
 * checks (duplicate fields refused, integer-encoded fields and oversized hashes loaded eagerly),
 * a packed hash saves and DUMPs as its own bytes, and every command on it answers as on a hash
 * built by HSET (each command below meets a key nobody touched since the load).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Hash } from '../../src/keyspace/types/hash.js';
import { RdbWriter, DEFAULT_SAVE_OPTIONS, writeTypedValue } from '../../src/persistence/rdb/encoder.js';
import { RdbReader, RdbError } from '../../src/persistence/rdb/reader.js';
import { loadObject } from '../../src/persistence/rdb/decoder.js';
import { DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import { lpEncode } from '../../src/persistence/rdb/listpack.js';
import * as C from '../../src/persistence/rdb/constants.js';
import { objectBytes } from '../../src/keyspace/memory.js';
import { withLoadedTwin, sameReplies, RawClient } from '../helpers/servers.js';

/** The RDB body of a listpack hash value made of `entries` (field, value, ...). */
function listpackBody(entries: string[]): Buffer {
  const chunks: Buffer[] = [];
  const w = new RdbWriter((c) => chunks.push(Buffer.from(c)), { ...DEFAULT_SAVE_OPTIONS, compression: false }, true);
  w.blob(lpEncode(entries));
  w.flush();
  return Buffer.concat(chunks);
}

function decodeListpack(entries: string[], limits = DEFAULT_LIMITS): Hash {
  const body = listpackBody(entries);
  const r = new RdbReader(body);
  const v = loadObject(r, C.RDB_TYPE_HASH_LISTPACK, limits);
  assert.equal(r.offset, body.length);
  assert.ok(v instanceof Hash);
  return v;
}

/** The type byte and RDB body the encoder writes for `h` (a listpack hash: type 16). */
function encode(h: Hash): Buffer {
  const chunks: Buffer[] = [];
  const w = new RdbWriter((c) => chunks.push(Buffer.from(c)), { ...DEFAULT_SAVE_OPTIONS, compression: false }, true);
  writeTypedValue(w, h);
  w.flush();
  return Buffer.concat(chunks);
}

test('a listpack hash loads packed and unpacks at first use; duplicates, integer fields and oversized ones load as before', () => {
  const h = decodeListpack(['f1', 'v1', 'f2', '', 'f3', '12345']);
  assert.notEqual(h.packedListpack, null);
  assert.equal(h.size, 3);
  assert.equal(h.encoding(), 'listpack');
  assert.ok(h.isListpack());
  // a memory estimate and an RDB write read the packed bytes without unpacking them
  assert.ok(objectBytes(h) > 0);
  assert.deepEqual(encode(h), Buffer.concat([Buffer.from([C.RDB_TYPE_HASH_LISTPACK]), listpackBody(['f1', 'v1', 'f2', '', 'f3', '12345'])]));
  assert.notEqual(h.packedListpack, null);
  // a read-only walk (DEBUG DIGEST, an AOF rewrite, LevelDB's import) reads the packed bytes and
  // leaves them packed: the maxmemory accounting's estimate of the packed form stays true
  assert.deepEqual([...h.pairs()], [['f1', 'v1'], ['f2', ''], ['f3', '12345']]);
  const seen: string[] = [];
  h.forEach((acc, f, v) => acc.push(f, v), seen);
  assert.deepEqual(seen, ['f1', 'v1', 'f2', '', 'f3', '12345']);
  assert.notEqual(h.packedListpack, null);
  // the first lookup unpacks, fields in insertion order
  assert.equal(h.get('f3'), '12345');
  assert.equal(h.packedListpack, null);
  assert.deepEqual([...h.pairs()], [['f1', 'v1'], ['f2', ''], ['f3', '12345']]);
  // a field twice: refused, as before
  assert.throws(() => decodeListpack(['a', '1', 'b', '2', 'a', '3']), (e: unknown) => e instanceof RdbError && /Hash listpack integrity check failed/.test(e.reason));
  // an integer-encoded field: compared as text by the eager load
  assert.throws(() => decodeListpack(['7', '1', 'x', '2', '7', '3']), RdbError);
  const ints = decodeListpack(['7', '1', '8', '2']);
  assert.equal(ints.packedListpack, null);
  assert.deepEqual([...ints.pairs()], [['7', '1'], ['8', '2']]);
  // more pairs than hash-max-listpack-entries: converted at load, as Redis does
  const big = decodeListpack(['a', '1', 'b', '2', 'c', '3'], { ...DEFAULT_LIMITS, hashEntries: 2 });
  assert.equal(big.packedListpack, null);
  assert.equal(big.encoding(), 'hashtable');
  // clone of a packed hash shares the bytes and stays packed; both unpack alike
  const p = decodeListpack(['m1', 'x'.repeat(70), 'm2', 'y']);
  const c = p.clone();
  assert.equal(c.packedListpack, p.packedListpack);
  assert.deepEqual([...c.pairs()], [...p.pairs()]);
});

test('packed hashes match eager ones (fast-check): pairs, lookups, encoding written back', () => {
  const field = fc.oneof(fc.string({ maxLength: 70 }).map((s) => 'f' + s), fc.constantFrom('', 'a', 'zz', 'x'.repeat(64)));
  const value = fc.oneof(fc.string({ maxLength: 80 }), fc.integer().map(String), fc.constantFrom('', '-0', '12345678901234567890'));
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(field, value), { selector: (t) => t[0], minLength: 1, maxLength: 60 }), (ps) => {
      const entries = ps.flatMap(([f, v]) => [f, v]);
      const packed = decodeListpack(entries);
      const eager = Hash.fromPairs(entries, true);
      if (packed.packedListpack === null) return; // a field that reads as an integer went the eager way
      // written back: the listpack Amber's encoder makes for the same pairs
      assert.deepEqual(encode(packed), encode(eager));
      assert.equal(packed.size, eager.size);
      const f0 = ps[ps.length - 1]![0];
      assert.equal(packed.get(f0), eager.get(f0));
      assert.equal(packed.has('absent\u0000'), false);
      assert.deepEqual([...packed.pairs()], [...eager.pairs()]);
    }),
    { numRuns: 200 },
  );
});

test('every hash command on a hash loaded packed answers as on one built by HSET (DUMP: the same bytes)', async () => {
  const tests: Array<(k: string) => string[]> = [
    (k) => ['HGETALL', k],
    (k) => ['HGET', k, 'field:3'],
    (k) => ['HGET', k, 'absent'],
    (k) => ['HMGET', k, 'field:0', 'nope', 'empty'],
    (k) => ['HEXISTS', k, 'long'],
    (k) => ['HLEN', k],
    (k) => ['HSTRLEN', k, 'field:5'],
    (k) => ['HKEYS', k],
    (k) => ['HVALS', k],
    (k) => ['HSET', k, 'field:1', 'changed', 'newfield', 'n'],
    (k) => ['HSETNX', k, 'field:2', 'no'],
    (k) => ['HINCRBY', k, 'field:4', '5'],
    (k) => ['HINCRBYFLOAT', k, 'field:8', '0.5'],
    (k) => ['HDEL', k, 'field:0', 'field:19', 'absent'],
    (k) => ['HSCAN', k, '0', 'COUNT', '100'],
    // a count over the size: the whole hash, in its order (deterministic)
    (k) => ['HRANDFIELD', k, '100', 'WITHVALUES'],
    (k) => ['OBJECT', 'ENCODING', k],
    (k) => ['TYPE', k],
    (k) => ['DUMP', k],
    (k) => ['HSET', k, 'big', 'B'.repeat(100)],
    (k) => ['SORT', 'nosuchlist', 'BY', `${k}->field:*`],
    (k) => ['COPY', k, `${k}:c`],
    (k) => ['RENAME', k, `${k}:n`],
    (k) => ['EXPIRE', k, '1000'],
  ];
  const fill = (key: string): string[] => {
    const args = ['HSET', key];
    for (let i = 0; i < 20; i++) args.push(`field:${i}`, i % 4 === 0 ? String(i * 7) : `value-${i}`);
    args.push('empty', '', 'long', 'L'.repeat(60));
    return args;
  };
  const isPacked = (v: unknown): boolean => v instanceof Hash && v.packedListpack !== null;
  await withLoadedTwin({ prefix: 'h:', fill, tests: tests.map((t) => (k: string) => [t(k)]), isPacked, prepare: async (c) => {
    await c.call(...fill('mem'));
    return ['mem'];
  } }, async ({ eager, loaded, cmds, keys }) => {
    const [a, b] = await sameReplies(eager.port, loaded.port, cmds);
    assert.deepEqual(b, a);
    // MEMORY USAGE answers without unpacking (its figure is an estimate of the packed bytes)
    const rc = await RawClient.connect(loaded.port);
    assert.match(await rc.call('MEMORY', 'USAGE', 'mem', 'SAMPLES', '0'), /^:\d+\r\n$/);
    rc.close();
    assert.ok(isPacked(loaded.server.keyspace.dbs[0]!.peek('mem')));
    // and afterwards, the hashes the commands left and made
    const all: string[][] = [];
    for (const k of keys) all.push(['HGETALL', k], ['HGETALL', `${k}:c`], ['HGETALL', `${k}:n`]);
    const [a2, b2] = await sameReplies(eager.port, loaded.port, all);
    assert.deepEqual(b2, a2);
  });
});
