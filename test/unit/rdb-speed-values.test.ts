/**
 * The shortcuts of issue 5 in the value codecs, each against the general path it bypasses:
 * zset scores read from listpack bytes without a string, short strings written without the
 * integer test when they cannot be integers (RDB strings and listpack entries), and the zset
 * listpack written from the leaf chain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ZSet } from '../../src/keyspace/types/zset.js';
import { ListObject } from '../../src/keyspace/types/list.js';
import { RdbWriter, dumpPayload, d2string, DEFAULT_SAVE_OPTIONS } from '../../src/persistence/rdb/encoder.js';
import { ListpackWriter, LP_HDR_SIZE, lpValidate } from '../../src/persistence/rdb/listpack.js';
import { shortDecimalAt, listpackScore, zsetFromListpack, DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import { parseInteger } from '../../src/util/number.js';
import { RdbReader } from '../../src/persistence/rdb/reader.js';
import { loadObject } from '../../src/persistence/rdb/decoder.js';
import * as C from '../../src/persistence/rdb/constants.js';

const decimalish = fc.oneof(
  fc.string({ unit: fc.constantFrom('0', '1', '5', '9', '.', '-', '+', 'e', 'E', ' ', 'x', 'i', 'n', 'f'), maxLength: 24 }),
  fc.double({ noNaN: false }).map((d) => d2string(d)),
  fc.double().map((d) => String(d)),
  fc.tuple(fc.boolean(), fc.string({ unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'), maxLength: 18 }), fc.nat(18))
    .map(([neg, digits, at]) => `${neg ? '-' : ''}${digits.slice(0, at)}${at <= digits.length ? '.' : ''}${digits.slice(at)}`),
);

test('shortDecimalAt reads what listpackScore (strtod) reads, or declines with NaN', () => {
  fc.assert(fc.property(decimalish, (s) => {
    const buf = Buffer.from(`ab${s}cd`, 'latin1');
    const v = shortDecimalAt(buf, 2, s.length);
    if (Number.isNaN(v)) return;
    assert.ok(Object.is(v, listpackScore(s)), `${JSON.stringify(s)}: ${v} vs ${listpackScore(s)}`);
  }), { numRuns: 5000 });
  for (const [s, want] of [['1.5', 1.5], ['-0', -0], ['0.1', 0.1], ['.5', 0.5], ['7.', 7], ['123456789012345', 123456789012345], ['-0.00000000000001', -1e-14], ['0.000000000000001', NaN]] as const) {
    // NaN: more than 15 digits, the general path's business
    assert.ok(Object.is(shortDecimalAt(Buffer.from(s), 0, s.length), want), s);
  }
  for (const s of ['', '-', '.', '1.2.3', '+1', '1e5', '1234567890123456', 'inf', 'nan', ' 1']) {
    assert.ok(Number.isNaN(shortDecimalAt(Buffer.from(s), 0, s.length)), s);
  }
});

/** rdbSaveRawString as specified: int8/16/32 for canonical integers of <= 11 chars, else raw (no LZF at <= 20). */
function refRawString(s: string): Buffer {
  const n = s.length;
  const v = n > 0 && n <= 11 ? parseInteger(s) : null;
  if (typeof v === 'number') {
    if (v >= -128 && v <= 127) return Buffer.from([(C.RDB_ENCVAL << 6) | C.RDB_ENC_INT8, v & 0xff]);
    if (v >= -32768 && v <= 32767) {
      const b = Buffer.alloc(3);
      b[0] = (C.RDB_ENCVAL << 6) | C.RDB_ENC_INT16;
      b.writeInt16LE(v, 1);
      return b;
    }
    if (v >= -2147483648 && v <= 2147483647) {
      const b = Buffer.alloc(5);
      b[0] = (C.RDB_ENCVAL << 6) | C.RDB_ENC_INT32;
      b.writeInt32LE(v, 1);
      return b;
    }
  }
  return Buffer.concat([Buffer.from([n]), Buffer.from(s, 'latin1')]);
}

const shortString = fc.oneof(
  fc.string({ unit: fc.constantFrom('0', '1', '9', '-', '+', 'a', ' ', '\u00ff', '\u0000'), maxLength: 20 }),
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
  fc.string({ maxLength: 20 }).map((s) => Buffer.from(s, 'utf8').toString('latin1').slice(0, 20)),
);

test('RdbWriter.string of strings up to 20 chars: integer encodings exactly when Redis uses them', () => {
  fc.assert(fc.property(shortString, (s) => {
    const chunks: Buffer[] = [];
    const w = new RdbWriter((c) => chunks.push(c), { ...DEFAULT_SAVE_OPTIONS, checksum: false });
    w.string(s);
    w.flush();
    assert.deepEqual(Buffer.concat(chunks), refRawString(s), JSON.stringify(s));
  }), { numRuns: 5000 });
});

test('ListpackWriter.appendRange: integers exactly when the string is a canonical int64', () => {
  fc.assert(fc.property(shortString, fc.string({ maxLength: 3 }), (s, pad) => {
    const got = new ListpackWriter().appendRange(pad + s + pad, pad.length, s.length).finish();
    const iv = parseInteger(s);
    const want = iv !== null ? new ListpackWriter().appendInteger(iv).finish() : null;
    if (want !== null) assert.deepEqual(got, want, JSON.stringify(s));
    else assert.equal(got[LP_HDR_SIZE], 0x80 | s.length, JSON.stringify(s)); // a 6-bit string entry
  }), { numRuns: 5000 });
});

test('zset listpack from the leaf chain: the listpack of forEach order, and back', () => {
  // members: integers, short strings, strings of 64 bytes and more (12-bit lengths); scores:
  // 7-bit and wider integers, decimals, exponent forms
  const limits = { entries: 1000, value: 1000 };
  for (const n of [1, 2, 63, 64, 65, 128, 200]) {
    const z = new ZSet(true);
    for (let i = 0; i < n; i++) z.add(i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? -i / 7 : 1e20 + i, i % 5 === 0 ? String(i) : i % 7 === 0 ? `long-${'m'.repeat(60 + i)}` : `member-${i}`, 0, limits);
    // the listpack written element by element from forEach, as before
    const lp = new ListpackWriter();
    z.forEach((m, s) => {
      lp.appendString(m);
      if (Number.isInteger(s) && Math.abs(s) < 4503599627370496 && !Object.is(s, -0)) lp.appendInteger(s);
      else lp.appendString(d2string(s));
    });
    const want = lp.finish();
    const payload = dumpPayload(z);
    assert.equal(payload[0], C.RDB_TYPE_ZSET_LISTPACK);
    const r = new RdbReader(payload, 1);
    const blob = r.readBlob();
    assert.deepEqual(Buffer.from(blob.buf.subarray(blob.start, blob.end)), want, `n ${n}`);
    const back = loadObject(new RdbReader(payload, 1), C.RDB_TYPE_ZSET_LISTPACK, { ...DEFAULT_LIMITS, zsetEntries: 1000 }) as ZSet;
    const a: Array<[string, number]> = [];
    const b: Array<[string, number]> = [];
    z.forEach((m, s) => a.push([m, s]));
    back.forEach((m, s) => b.push([m, s]));
    assert.deepEqual(b, a);
    const direct = zsetFromListpack(want, 0, want.length, n * 2, { ...DEFAULT_LIMITS, zsetEntries: 1000 })!;
    const c: Array<[string, number]> = [];
    direct.forEach((m, s) => c.push([m, s]));
    assert.deepEqual(c, a);
  }
});

test('quicklist nodes read in place: every entry kind comes back', () => {
  fc.assert(fc.property(fc.array(fc.oneof(
    fc.string({ maxLength: 70 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')),
    fc.integer().map(String),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
    fc.constantFrom('', '0', '-0', '127', '128', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(5000)),
  ), { minLength: 1, maxLength: 300 }), (items) => {
    const l = ListObject.fromArray(items);
    const back = loadObject(new RdbReader(dumpPayload(l), 1), C.RDB_TYPE_LIST_QUICKLIST_2, DEFAULT_LIMITS) as ListObject;
    assert.deepEqual(back.toArray(), items);
  }), { numRuns: 300 });
});

/** lpValidateIntegrity(deep) entry by entry as lpValidateNext does (no shortcut for small entries). */
function refLpValidate(buf: Buffer, start: number, size: number): number {
  if (size < LP_HDR_SIZE + 1 || start + size > buf.length || buf.readUInt32LE(start) !== size) return -1;
  const end = start + size - 1;
  if (buf[end] !== 0xff) return -1;
  const numele = buf.readUInt16LE(start + 4);
  let count = 0;
  let p = start + LP_HDR_SIZE;
  while (p <= end && buf[p] !== 0xff) {
    const b = buf[p]!;
    let hdr = 1;
    let entry: number;
    if (b < 0x80) entry = 1;
    else if (b < 0xc0) entry = 1 + (b & 0x3f);
    else if (b < 0xe0) entry = 2;
    else if (b < 0xf0) {
      hdr = 2;
      if (p + hdr > end) return -1;
      entry = 2 + (((b & 0x0f) << 8) | buf[p + 1]!);
    } else if (b === 0xf0) {
      hdr = 5;
      if (p + hdr > end) return -1;
      entry = 5 + buf.readUInt32LE(p + 1);
    } else if (b <= 0xf4) entry = [3, 4, 5, 9][b - 0xf1]!;
    else return -1;
    if (p + hdr > end) return -1;
    const bl = entry <= 127 ? 1 : entry < 16383 ? 2 : entry < 2097151 ? 3 : entry < 268435455 ? 4 : 5;
    const next = p + entry + bl;
    if (next > end) return -1;
    let q = next - 1;
    let val = 0;
    let shift = 0;
    for (;;) {
      const c = buf[q]!;
      val += (c & 127) * 2 ** shift;
      if (!(c & 128)) break;
      shift += 7;
      q--;
      if (shift > 28) return -1;
    }
    if (val !== entry) return -1;
    count++;
    p = next;
  }
  if (p !== end) return -1;
  return numele !== 65535 && numele !== count ? -1 : count;
}

test('lpValidate with its small-entry shortcut agrees with entry-by-entry validation on damaged listpacks', () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.string({ maxLength: 70 }), fc.integer().map(String), fc.constantFrom('0', '127', '128', '-1')), { minLength: 1, maxLength: 40 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
    (els, hits) => {
      const w = new ListpackWriter();
      for (const e of els) w.appendString(Buffer.from(e, 'utf8').toString('latin1'));
      const lp = w.finish();
      assert.equal(lpValidate(lp, 0, lp.length), refLpValidate(lp, 0, lp.length));
      const bad = Buffer.from(lp);
      for (const [at, v] of hits) bad[LP_HDR_SIZE + (at % (bad.length - LP_HDR_SIZE))] = v;
      assert.equal(lpValidate(bad, 0, bad.length), refLpValidate(bad, 0, bad.length));
      // a back-length with a continuation bit over a zero byte: accepted by both, as by Redis
      if (bad.length > LP_HDR_SIZE + 2) {
        const alt = Buffer.from(lp);
        const first = alt[LP_HDR_SIZE]!;
        if (first < 0xc0) {
          const e1 = first < 0x80 ? 1 : 1 + (first & 0x3f);
          alt[LP_HDR_SIZE + e1] = 0x80 | e1;
          assert.equal(lpValidate(alt, 0, alt.length), refLpValidate(alt, 0, alt.length));
        }
      }
    },
  ), { numRuns: 3000 });
});
