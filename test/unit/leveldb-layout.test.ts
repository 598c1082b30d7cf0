/**
 * The LevelDB key layout (src/persistence/leveldb/layout.ts): the order-preserving score encoding
 * (byte order equals numeric order for every double, -0 before +0, infinities, subnormals), exact
 * decoding, varints, metadata records, and keys of any length and bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as L from '../../src/persistence/leveldb/layout.js';

function enc(d: number): Buffer {
  const b = Buffer.alloc(8);
  L.encodeScore(b, 0, d);
  return b;
}

/** Numeric order with -0 before +0 (the order the encoding promises). */
function cmpNum(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (Object.is(a, -0) && Object.is(b, 0)) return -1;
  if (Object.is(a, 0) && Object.is(b, -0)) return 1;
  return 0;
}

const SPECIAL = [
  -Infinity, -Number.MAX_VALUE, -1e300, -2.5, -1, -2.2250738585072014e-308,
  -2.225073858507201e-308, -1e-320, -Number.MIN_VALUE, -0, 0, Number.MIN_VALUE, 1e-320, 2.225073858507201e-308,
  2.2250738585072014e-308, 1e-300, 0.5, 1, 2.5, 2 ** 53, 1e300, Number.MAX_VALUE, Infinity,
];

test('score encoding: byte order is numeric order for special doubles (-0 < +0, subnormals, infinities)', () => {
  for (let i = 0; i < SPECIAL.length; i++) {
    for (let j = 0; j < SPECIAL.length; j++) {
      const a = SPECIAL[i]!;
      const b = SPECIAL[j]!;
      assert.equal(Math.sign(Buffer.compare(enc(a), enc(b))), cmpNum(a, b), `${a} vs ${b}`);
    }
  }
  // the list above is ascending: encodings must be strictly ascending too
  for (let i = 1; i < SPECIAL.length; i++) assert.equal(Buffer.compare(enc(SPECIAL[i - 1]!), enc(SPECIAL[i]!)), -1);
});

test('score encoding: byte order is numeric order and decoding is exact for any double', () => {
  const dbl = fc.double({ noNaN: true });
  fc.assert(
    fc.property(dbl, dbl, (a, b) => {
      assert.equal(Math.sign(Buffer.compare(enc(a), enc(b))), cmpNum(a, b));
      assert.ok(Object.is(L.decodeScore(enc(a), 0), a));
    }),
    { numRuns: 20000 },
  );
  for (const d of SPECIAL) assert.ok(Object.is(L.decodeScore(enc(d), 0), d), `round trip of ${d}`);
});

test('zset index keys sort by score, then member bytes', () => {
  const pairs: Array<[number, string]> = [[-Infinity, 'z'], [-1, 'a'], [-1, '\xff'], [-0, 'b'], [0, 'a'], [5e-324, ''], [1, ''], [1, '\x00'], [Infinity, 'a']];
  const keys = pairs.map(([s, m]) => L.zindexKey(7, s, m));
  const sorted = [...keys].sort(Buffer.compare);
  assert.deepEqual(sorted, keys);
});

test('varints and u64 round-trip; metadata keys keep big and binary key names exactly', () => {
  for (const v of [0, 1, 127, 128, 255, 16383, 16384, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
    const b = Buffer.alloc(L.varintLength(v));
    assert.equal(L.writeVarint(b, 0, v), b.length);
    assert.equal(L.readVarint(b, 0), v);
    const u = Buffer.alloc(8);
    L.writeU64(u, 0, v);
    assert.equal(L.readU64(u, 0), v);
  }
  const big = 'k'.repeat(1 << 20) + '\x00\xff';
  const bin = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  for (const ns of [1, 300, 2 ** 40]) {
    for (const k of ['', 'a', bin, big]) {
      const mk = L.metaKey(ns, k);
      assert.equal(L.metaKeyNs(mk), ns);
      assert.equal(L.metaKeyName(mk, ns), k);
      const [lo, hi] = L.metaRange(ns);
      assert.ok(Buffer.compare(mk, lo) >= 0 && Buffer.compare(mk, hi) < 0, 'key inside its namespace range');
    }
  }
  // namespaces are prefix-free: no key of namespace 1 falls into namespace 128's range or back
  const [lo1, hi1] = L.metaRange(1);
  const k128 = L.metaKey(128, 'x');
  assert.ok(Buffer.compare(k128, lo1) < 0 || Buffer.compare(k128, hi1) >= 0);
});

test('metadata records round-trip for every type, with and without expire time', () => {
  for (const exp of [-1, 0, 1795222750790, 2 ** 52]) {
    const s = L.stringMeta('v\x00\xff', exp);
    const m = L.decodeMeta(s);
    assert.equal(m.type, L.T_STRING);
    assert.equal(m.expireAt, exp);
    assert.equal(s.latin1Slice(m.body, s.length), 'v\x00\xff');
    for (const t of [L.T_LIST, L.T_SET, L.T_ZSET, L.T_HASH]) {
      const c = L.decodeMeta(L.collectionMeta(t, exp, 2 ** 40 + 3, 12345, L.LIST_START - 7));
      assert.equal(c.type, t);
      assert.equal(c.expireAt, exp);
      assert.equal(c.version, 2 ** 40 + 3);
      assert.equal(c.size, 12345);
      assert.equal(c.head, t === L.T_LIST ? L.LIST_START - 7 : 0);
    }
  }
  assert.throws(() => L.decodeMeta(Buffer.from([9, 0])), /unknown value type/);
  assert.throws(() => L.decodeMeta(Buffer.from([L.T_HASH, 0, 1])), /too short/);
});

test('list element keys sort by position; version ranges hold exactly their subkeys', () => {
  const ks = [L.LIST_START - 2, L.LIST_START - 1, L.LIST_START, L.LIST_START + 1, 2 ** 48].map((p) => L.listKey(5, p));
  assert.deepEqual([...ks].sort(Buffer.compare), ks);
  const [lo, hi] = L.versionRange(5);
  for (const k of [...ks, L.subKey(5, L.K_HASH, '\xff\xff'), L.zindexKey(5, Infinity, '\xff')]) {
    assert.ok(Buffer.compare(k, lo) >= 0 && Buffer.compare(k, hi) < 0);
  }
  assert.ok(Buffer.compare(L.subKey(6, L.K_HASH, ''), hi) >= 0);
});
