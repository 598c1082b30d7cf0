/**
 * The LevelDB key layout (src/persistence/leveldb/layout.ts): the order-preserving score encoding
 * (on-disk byte order equals numeric order for every double, -0 before +0, infinities,
 * subnormals), exact decoding, varints, metadata records, and keys of any length and bytes.
 * Orders are checked on the bytes LevelDB compares: the UTF-8 form of the byte strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as L from '../../src/persistence/leveldb/layout.js';

/** What LevelDB stores and compares for a byte string. */
const disk = (s: string): Buffer => Buffer.from(s, 'utf8');
const cmpDisk = (a: string, b: string): number => Math.sign(Buffer.compare(disk(a), disk(b)));

/** Numeric order with -0 before +0 (the order the encoding promises). */
function cmpNum(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (Object.is(a, -0) && Object.is(b, 0)) return -1;
  if (Object.is(a, 0) && Object.is(b, -0)) return 1;
  return 0;
}

/** Ascending, distinct. */
const SPECIAL = [
  -Infinity, -Number.MAX_VALUE, -1e300, -2.5, -1, -2.2250738585072014e-308, -2.225073858507201e-308, -1e-320,
  -Number.MIN_VALUE, -0, 0, Number.MIN_VALUE, 1e-320, 2.225073858507201e-308, 2.2250738585072014e-308, 1e-300, 0.5, 1,
  2.5, 2 ** 53, 1e300, Number.MAX_VALUE, Infinity,
];

test('score encoding: on-disk order is numeric order for special doubles (-0 < +0, subnormals, infinities)', () => {
  for (const a of SPECIAL) {
    for (const b of SPECIAL) assert.equal(cmpDisk(L.encodeScore(a), L.encodeScore(b)), cmpNum(a, b), `${a} vs ${b}`);
  }
  for (let i = 1; i < SPECIAL.length; i++) assert.equal(cmpDisk(L.encodeScore(SPECIAL[i - 1]!), L.encodeScore(SPECIAL[i]!)), -1);
  for (const d of SPECIAL) {
    const e = L.encodeScore(d);
    assert.equal(e.length, 8);
    assert.ok(Object.is(L.decodeScore('xx' + e, 2), d), `round trip of ${d}`);
  }
});

test('score encoding: on-disk order is numeric order and decoding is exact for any double', () => {
  const dbl = fc.double({ noNaN: true });
  fc.assert(
    fc.property(dbl, dbl, (a, b) => {
      assert.equal(cmpDisk(L.encodeScore(a), L.encodeScore(b)), cmpNum(a, b));
      assert.ok(Object.is(L.decodeScore(L.encodeScore(a), 0), a));
      assert.ok(Object.is(L.readF64be(L.f64be(a), 0), a));
    }),
    { numRuns: 20000 },
  );
});

test('zset index keys sort on disk by score, then member bytes', () => {
  const pairs: Array<[number, string]> = [[-Infinity, 'z'], [-1, 'a'], [-1, '\xff'], [-0, 'b'], [0, 'a'], [5e-324, ''], [1, ''], [1, '\x00'], [1, '\x7f'], [1, '\x80'], [Infinity, 'a']];
  const keys = pairs.map(([s, m]) => L.zindexKey(7, s, m));
  assert.deepEqual([...keys].sort(cmpDisk), keys);
});

test('varints and u64 round-trip; metadata keys keep big and binary key names exactly', () => {
  for (const v of [0, 1, 127, 128, 255, 16383, 16384, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
    assert.equal(L.readVarint('x' + L.varint(v), 1), v);
    assert.equal(L.readU64('yy' + L.u64(v), 2), v);
  }
  const big = 'k'.repeat(1 << 20) + '\x00\xff';
  const bin = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  for (const ns of [1, 300, 2 ** 40]) {
    for (const k of ['', 'a', bin, big]) {
      const mk = L.metaKey(ns, k);
      // what LevelDB gives back is the UTF-8 it was given, decoded
      const back = disk(mk).toString('utf8');
      assert.equal(back, mk);
      assert.equal(L.metaKeyNs(back), ns);
      assert.equal(L.metaKeyName(back, ns), k);
      const [lo, hi] = L.metaRange(ns);
      assert.ok(cmpDisk(mk, lo) >= 0 && cmpDisk(mk, hi) < 0, 'key inside its namespace range');
    }
  }
  // namespaces are prefix-free: a key of namespace 128 is outside namespace 1's range
  const [lo1, hi1] = L.metaRange(1);
  const k128 = L.metaKey(128, 'x');
  assert.ok(cmpDisk(k128, lo1) < 0 || cmpDisk(k128, hi1) >= 0);
});

test('metadata records round-trip for every type, with and without expire time', () => {
  for (const exp of [-1, 0, 1795222750790, 2 ** 52]) {
    const s = disk(L.stringMeta('v\x00\xff', exp)).toString('utf8');
    const m = L.decodeMeta(s);
    assert.equal(m.type, L.T_STRING);
    assert.equal(m.expireAt, exp);
    assert.equal(s.slice(m.body), 'v\x00\xff');
    for (const t of [L.T_LIST, L.T_SET, L.T_ZSET, L.T_HASH]) {
      const c = L.decodeMeta(L.collectionMeta(t, exp, 2 ** 40 + 3, 12345, L.LIST_START - 7));
      assert.equal(c.type, t);
      assert.equal(c.expireAt, exp);
      assert.equal(c.version, 2 ** 40 + 3);
      assert.equal(c.size, 12345);
      assert.equal(c.head, t === L.T_LIST ? L.LIST_START - 7 : 0);
    }
  }
  assert.throws(() => L.decodeMeta('\x09\x00'), /unknown value type/);
  assert.throws(() => L.decodeMeta('\x04\x00\x01'), /too short/);
});

test('inline collection records (format 2): the flag, the expire time and the blob offset; bad flags are refused', () => {
  const blob = '\x10\x05\x00\xff\x80blob';
  for (const exp of [-1, 1795222750790]) {
    for (const t of [L.T_LIST, L.T_SET, L.T_ZSET, L.T_HASH]) {
      const s = disk(L.inlineMeta(t, blob, exp)).toString('utf8');
      const m = L.decodeMeta(s);
      assert.equal(m.type, t);
      assert.ok(m.inline);
      assert.equal(m.expireAt, exp);
      assert.equal(m.version, 0, 'no version: nothing to reclaim');
      assert.equal(s.slice(m.body), blob);
    }
    // format-1 records are not inline
    assert.ok(!L.decodeMeta(L.collectionMeta(L.T_HASH, exp, 9, 1, 0)).inline);
    assert.ok(!L.decodeMeta(L.stringMeta('v', exp)).inline);
    assert.ok(!L.decodeMeta(L.blobMeta(L.T_STREAM, blob, exp)).inline);
  }
  assert.throws(() => L.decodeMeta('\x00\x02value'), /inline flag on a value of type 0/);
  assert.throws(() => L.decodeMeta('\x05\x02blob'), /inline flag on a value of type 5/);
  assert.throws(() => L.decodeMeta('\x04\x02'), /too short for an inline/);
  assert.throws(() => L.decodeMeta('\x04\x04blob'), /unknown metadata flags/);
  // key count records: one per namespace, outside every other range
  assert.equal(L.readVarint(L.countKey(300), 1), 300);
  assert.equal(L.countKey(300)[0], L.P_COUNT);
  assert.notEqual(L.FORMAT, L.FORMAT_1);
});

test('list element keys sort by position; version ranges hold exactly their subkeys', () => {
  const ks = [0, 1, 255, 256, L.LIST_START - 2, L.LIST_START - 1, L.LIST_START, L.LIST_START + 1, 2 ** 48].map((p) => L.listKey(5, p));
  assert.deepEqual([...ks].sort(cmpDisk), ks);
  const [lo, hi] = L.versionRange(5);
  for (const k of [...ks, L.subKey(5, L.K_HASH, '\xff\xff'), L.zindexKey(5, Infinity, '\xff')]) {
    assert.ok(cmpDisk(k, lo) >= 0 && cmpDisk(k, hi) < 0);
  }
  assert.ok(cmpDisk(L.subKey(6, L.K_HASH, ''), hi) >= 0);
  // version 255 -> 256 carries into the next byte: ranges stay ordered
  const [lo255, hi255] = L.versionRange(255);
  assert.ok(cmpDisk(L.subKey(255, L.K_LIST, '\xff'), hi255) < 0 && cmpDisk(lo255, L.subKey(255, L.K_HASH, '')) <= 0);
  assert.ok(cmpDisk(hi255, L.subKey(256, L.K_HASH, '')) <= 0);
});

test('the function libraries record (F): codes of any bytes and length round-trip in order; a cut or padded value is refused', () => {
  const codes = ['#!lua name=a\nredis.register_function("f", function() return 1 end)', '', '\x00\xff\r\n'.repeat(50), 'x'.repeat(200_000)];
  assert.deepEqual(L.decodeFunctions(L.functionsValue(codes)), codes);
  assert.deepEqual(L.decodeFunctions(L.functionsValue([])), []);
  fc.assert(fc.property(fc.array(fc.string({ unit: 'binary-ascii', maxLength: 300 }), { maxLength: 6 }), (cs) => {
    assert.deepEqual(L.decodeFunctions(L.functionsValue(cs)), cs);
  }));
  const v = L.functionsValue(codes.slice(0, 2));
  assert.throws(() => L.decodeFunctions(v.slice(0, -3)), /library 1 of 2 is \d+ bytes, past the end/);
  assert.throws(() => L.decodeFunctions(v + 'zz'), /2 bytes after the last of its 2 libraries/);
  assert.throws(() => L.decodeFunctions(L.varint(3)), /ends before library 1 of 3/);
  assert.throws(() => L.decodeFunctions(''), /truncated varint/);
  // its own prefix: none of the ranges a load scans or reclaim deletes reaches it
  for (const p of [L.P_INFO, L.P_COUNTERS, L.P_DB, L.P_COUNT, L.P_META, L.P_SUB, L.P_GARBAGE_VERSION, L.P_GARBAGE_NS, 'W']) assert.notEqual(p, L.P_FUNCTIONS);
  assert.ok(cmpDisk(L.P_FUNCTIONS, L.prefixEnd(L.P_DB)) >= 0 && cmpDisk(L.P_FUNCTIONS, L.P_COUNT) < 0);
});
