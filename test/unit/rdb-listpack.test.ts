import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ListpackWriter, lpDecode, lpEncode, lpElementSize } from '../../src/persistence/rdb/listpack.js';
import { zlDecode, zlEncode } from '../../src/persistence/rdb/ziplist.js';
import { intsetDecode, intsetEncode, intsetEncodeStrings } from '../../src/persistence/rdb/intset.js';
import { zipmapDecode } from '../../src/persistence/rdb/zipmap.js';
import { elementToString } from '../../src/persistence/rdb/intconv.js';
import { parseInteger } from '../../src/util/number.js';

const latin1 = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a).toString('latin1'));
const intStr = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const element = fc.oneof(latin1, intStr, fc.integer({ min: -70000, max: 70000 }).map(String),
  fc.constantFrom('', '0', '-0', '01', '+1', ' 1', '9223372036854775808', '-9223372036854775809'));

test('listpack: canonical integers are integer-encoded, everything decodes back as written', () => {
  fc.assert(fc.property(fc.array(element, { maxLength: 60 }), (els) => {
    const lp = lpEncode(els);
    assert.equal(lp.readUInt32LE(0), lp.length);
    assert.equal(lp.readUInt16LE(4), els.length);
    assert.equal(lp[lp.length - 1], 0xff);
    const back = lpDecode(lp, 0, lp.length);
    assert.ok(back !== null);
    assert.deepEqual(back.map(elementToString), els);
    let size = 7;
    for (const e of els) size += lpElementSize(e);
    assert.equal(size, lp.length);
  }), { numRuns: 300 });
});

test('listpack: exact bytes of each encoding (lpEncodeIntegerGetType / string lengths)', () => {
  const hex = (els: Array<string | number | bigint>): string => {
    const w = new ListpackWriter();
    for (const e of els) w.append(e);
    return w.finish().subarray(6, -1).toString('hex');
  };
  assert.equal(hex([0]), '0001');
  assert.equal(hex([127]), '7f01');
  assert.equal(hex([128]), 'c08002'); // 13-bit
  assert.equal(hex([-1]), 'dfff02');
  assert.equal(hex([-4096]), 'd00002');
  assert.equal(hex([4096]), 'f1001003'); // 16-bit
  assert.equal(hex([-32769]), 'f2ff7fff04'); // 24-bit
  assert.equal(hex([8388608]), 'f30000800005'); // 32-bit
  assert.equal(hex([2147483648]), 'f4000000800000000009'); // 64-bit
  assert.equal(hex(['a']), '816102');
  assert.equal(hex(['x'.repeat(64)]), 'e040' + '78'.repeat(64) + '42');
  assert.equal(hex(['y'.repeat(4096)]).slice(0, 10), 'f000100000');
  // backlen of a 4101-byte entry: two bytes, big end first with continuation bits
  assert.equal(hex(['y'.repeat(4096)]).slice(-4), '2085');
});

test('listpack: the Redis 7.0 hash listpack of hash:small', () => {
  // from the DUMP payload of hash:small (Redis 7.0.15): f1 v1 f2 2 f3 ""
  const lp = Buffer.from('1b00000006008266310382763103826632030201826633038001ff', 'hex');
  const els = lpDecode(lp, 0, lp.length);
  assert.deepEqual(els?.map(elementToString), ['f1', 'v1', 'f2', '2', 'f3', '']);
  assert.deepEqual(lpEncode(['f1', 'v1', 'f2', '2', 'f3', '']), lp);
});

test('listpack validation refuses corrupt data without throwing', () => {
  const lp = lpEncode(['hello', '123', 'x'.repeat(100), '-5', '9223372036854775807']);
  const bad = (b: Buffer): void => assert.equal(lpDecode(b, 0, b.length), null);
  const b1 = Buffer.from(lp); b1.writeUInt32LE(lp.length + 1, 0); bad(b1); // size field
  const b2 = Buffer.from(lp); b2[b2.length - 1] = 0; bad(b2); // terminator
  const b3 = Buffer.from(lp); b3.writeUInt16LE(4, 4); bad(b3); // count
  const b4 = Buffer.from(lp); b4[6] = 0xf7; bad(b4); // unknown encoding
  const b5 = Buffer.from(lp); b5[6 + 6] = 9; bad(b5); // wrong backlen of the first entry
  const unknownCount = Buffer.from(lp); unknownCount.writeUInt16LE(65535, 4);
  assert.equal(lpDecode(unknownCount, 0, unknownCount.length)?.length, 5);
  fc.assert(fc.property(fc.nat(lp.length - 1), fc.integer({ min: 1, max: 255 }), (pos, x) => {
    const b = Buffer.from(lp);
    b[pos] ^= x;
    const r = lpDecode(b, 0, b.length);
    assert.ok(r === null || Array.isArray(r));
  }), { numRuns: 500 });
  assert.equal(lpDecode(Buffer.alloc(3), 0, 3), null);
});

test('ziplist: encode/decode round trip and validation', () => {
  fc.assert(fc.property(fc.array(element, { maxLength: 40 }), (els) => {
    const zl = zlEncode(els);
    const back = zlDecode(zl, 0, zl.length);
    assert.ok(back !== null);
    assert.deepEqual(back.map(elementToString), els.map((e) => {
      const v = parseInteger(e);
      return v === null ? e : String(v);
    }));
  }), { numRuns: 200 });
  const zl = zlEncode(['a', 'bb', '300', 'x'.repeat(300), '7']);
  fc.assert(fc.property(fc.nat(zl.length - 1), fc.integer({ min: 1, max: 255 }), (pos, x) => {
    const b = Buffer.from(zl);
    b[pos] ^= x;
    const r = zlDecode(b, 0, b.length);
    assert.ok(r === null || Array.isArray(r));
  }), { numRuns: 500 });
  const badTail = Buffer.from(zl); badTail.writeUInt32LE(11, 4);
  assert.equal(zlDecode(badTail, 0, badTail.length), null);
});

test('intset: encode picks the smallest width, decode validates order and size', () => {
  const enc = (vals: bigint[]): Buffer => intsetEncode(vals);
  assert.equal(enc([1n, 2n]).readUInt32LE(0), 2);
  assert.equal(enc([1n, 40000n]).readUInt32LE(0), 4);
  assert.equal(enc([-(2n ** 63n), 2n ** 63n - 1n]).readUInt32LE(0), 8);
  fc.assert(fc.property(fc.uniqueArray(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: 1, maxLength: 50 }), (vals) => {
    const sorted = [...vals].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const blob = enc(sorted);
    assert.deepEqual(intsetDecode(blob, 0, blob.length), sorted.map(String));
    assert.deepEqual(intsetEncodeStrings(vals.map(String)), blob);
  }), { numRuns: 200 });
  assert.equal(intsetEncodeStrings(['1', 'a']), null);
  const blob = enc([1n, 2n, 3n]);
  const dup = Buffer.from(blob); dup.writeInt16LE(1, 10);
  assert.equal(intsetDecode(dup, 0, dup.length), null); // not strictly ascending
  assert.equal(intsetDecode(blob, 0, blob.length - 1), null); // size mismatch
  const empty = Buffer.alloc(8); empty.writeUInt32LE(2, 0);
  assert.equal(intsetDecode(empty, 0, 8), null); // empty intset
  const badEnc = Buffer.from(blob); badEnc.writeUInt32LE(3, 0);
  assert.equal(intsetDecode(badEnc, 0, badEnc.length), null);
});

test('zipmap: decode of a Redis 2.x zipmap and validation', () => {
  // zmlen 2, "f1" -> "v1", "f2" -> "v2" (from hash-zipmap.rdb), plus a value with free bytes
  const zm = Buffer.from([2, 2, 0x66, 0x31, 2, 0, 0x76, 0x31, 2, 0x66, 0x32, 2, 0, 0x76, 0x32, 0xff]);
  assert.deepEqual(zipmapDecode(zm, 0, zm.length), ['f1', 'v1', 'f2', 'v2']);
  const free = Buffer.from([1, 1, 0x61, 1, 2, 0x62, 0, 0, 0xff]);
  assert.deepEqual(zipmapDecode(free, 0, free.length), ['a', 'b']);
  assert.equal(zipmapDecode(Buffer.from([0, 0xff]), 0, 2), null); // empty
  const badCount = Buffer.from(zm); badCount[0] = 3;
  assert.equal(zipmapDecode(badCount, 0, badCount.length), null);
  fc.assert(fc.property(fc.nat(zm.length - 1), fc.integer({ min: 1, max: 255 }), (pos, x) => {
    const b = Buffer.from(zm);
    b[pos] ^= x;
    const r = zipmapDecode(b, 0, b.length);
    assert.ok(r === null || Array.isArray(r));
  }), { numRuns: 300 });
});
