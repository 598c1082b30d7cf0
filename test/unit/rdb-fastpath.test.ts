// The fast paths of the RDB codec (issue 5): each must give exactly what the general path gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { d2string, dumpPayload, rdbSnapshotFormat, RdbFileEncoder, DEFAULT_SAVE_OPTIONS } from '../../src/persistence/rdb/encoder.js';
import type { Value } from '../../src/keyspace/types/object.js';
import { formatG, parseInteger } from '../../src/util/number.js';
import { lzfCompress, lzfCompressInto, lzfDecompress, lzfDecompressInto, LZF_SLACK } from '../../src/persistence/rdb/lzf.js';
import { Crc64, crc64 } from '../../src/persistence/rdb/crc64.js';
import { ListpackWriter, lpDecode, lpValidate, lpRead, lpEntry, LP_HDR_SIZE } from '../../src/persistence/rdb/listpack.js';
import { rangeToInt64 } from '../../src/persistence/rdb/intconv.js';
import { hashFromListpack, zsetFromListpack, buildZSet, buildSet, buildHash, listpackScore, DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import { RdbReader } from '../../src/persistence/rdb/reader.js';
import { loadObject } from '../../src/persistence/rdb/decoder.js';
import { Hash, LP_LONG_HEADER } from '../../src/keyspace/types/hash.js';
import { ListObject } from '../../src/keyspace/types/list.js';
import { SetDict, HashDict } from '../../src/keyspace/types/dict.js';

test('d2string: the exact-decimal fast path and the cache agree with %.17g (formatG)', () => {
  const check = (v: number): void => {
    if (!Number.isFinite(v) || v === 0) return;
    const want = v > -4503599627370495 && v < 4503599627370496 && Number.isInteger(v) ? String(v) : formatG(v, 17);
    assert.equal(d2string(v), want, `d2string(${v})`);
    assert.equal(d2string(v), want, `d2string(${v}) from the cache`);
  };
  for (const v of [1.5, -2.25, 0.1, 0.0001, 0.00011, 1e-5, 123456.789, 1 / 3, 1e15 + 0.5, 1234567890123456.2, 2 ** 60, 1.7976931348623157e308, 5e-324, 99.99, 0.3]) check(v);
  for (let i = 0; i < 2000; i++) check(i * 1.5 - 700);
  fc.assert(fc.property(fc.double({ noNaN: true }), (v) => check(v)), { numRuns: 3000 });
  fc.assert(fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 12 }), (n, f) => check(n / 10 ** f)), { numRuns: 3000 });
});

test('lzfCompressInto/lzfDecompressInto at offsets give the bytes of lzfCompress/lzfDecompress', () => {
  const data = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 3000 }),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 800 }))
      .map(([unit, n]) => Uint8Array.from({ length: unit.length * n }, (_, i) => unit[i % unit.length]!)),
  );
  fc.assert(fc.property(data, fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), (d, pre, outAt) => {
    const input = Buffer.concat([Buffer.alloc(pre, 7), Buffer.from(d)]);
    const n = d.length;
    const ref = lzfCompress(Buffer.from(d), n + 64);
    const out = Buffer.alloc(outAt + n + 64 + LZF_SLACK, 0xee);
    const clen = lzfCompressInto(input, pre, n, out, outAt, n + 64);
    assert.ok(ref !== null && clen === ref.length);
    assert.deepEqual(out.subarray(outAt, outAt + clen), ref);
    const back = Buffer.alloc(outAt + n, 0xee);
    lzfDecompressInto(out, outAt, outAt + clen, back, outAt, n);
    assert.deepEqual(back.subarray(outAt), Buffer.from(d));
    assert.deepEqual(lzfDecompress(ref, n), Buffer.from(d));
    // Redis's budget for strings (len - 4): refused or the same bytes as lzfCompress
    const tight = lzfCompress(Buffer.from(d), n - 4);
    const t2 = n > 4 ? lzfCompressInto(input, pre, n, out, outAt, n - 4) : 0;
    assert.equal(t2, tight === null ? 0 : tight.length);
  }), { numRuns: 400 });
});

test('crc64 over any split into update() calls equals the one-shot value, buffers up to megabytes', () => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 13);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  const whole = crc64(big);
  const c = new Crc64();
  let at = 0;
  for (const step of [1, 15, 16, 17, 100, 65536, 65537, 1 << 20]) {
    c.update(big, at, Math.min(big.length, at + step));
    at = Math.min(big.length, at + step);
  }
  c.update(big, at);
  assert.equal(c.value(), whole);
  // a view at an odd byte offset of its ArrayBuffer (the word reads are unaligned)
  const view = new Uint8Array(big.buffer, big.byteOffset + 3, 1000);
  assert.equal(crc64(view), crc64(Buffer.from(view)));
});

test('lpValidate + lpRead read what lpDecode reads, and refuse what it refuses', () => {
  const el = fc.oneof(fc.string({ maxLength: 80 }), fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.string({ minLength: 4000, maxLength: 4200 }));
  fc.assert(fc.property(fc.array(el, { maxLength: 40 }), (els) => {
    const w = new ListpackWriter();
    for (const e of els) {
      if (typeof e === 'string') w.appendString(e);
      else w.appendInteger(e);
    }
    const lp = w.finish();
    const n = lpValidate(lp, 0, lp.length);
    const dec = lpDecode(lp, 0, lp.length)!;
    assert.equal(n, dec.length);
    let p = LP_HDR_SIZE;
    for (let i = 0; i < n; i++) {
      p = lpRead(lp, p);
      const got = lpEntry.isStr ? lp.latin1Slice(lpEntry.start, lpEntry.start + lpEntry.len) : lpEntry.int;
      assert.equal(got, dec[i]);
    }
    assert.equal(p, lp.length - 1);
    // a corrupted byte makes both refuse or both accept
    if (lp.length > 7) {
      const bad = Buffer.from(lp);
      bad[7 + (lp.length % (lp.length - 7))] ^= 0x5a;
      assert.equal(lpValidate(bad, 0, bad.length) < 0, lpDecode(bad, 0, bad.length) === null);
    }
  }), { numRuns: 300 });
});

test('rangeToInt64 and appendRange agree with parseInteger and appendString on slices', () => {
  fc.assert(fc.property(fc.string({ maxLength: 30 }), fc.oneof(fc.integer().map(String), fc.constant('-0'), fc.constant('007'), fc.bigInt().map(String)), fc.string({ maxLength: 5 }),
    (pre, mid, post) => {
      const s = pre + mid + post;
      assert.equal(rangeToInt64(s, pre.length, mid.length), parseInteger(mid));
      const a = new ListpackWriter().appendRange(s, pre.length, mid.length).finish();
      const b = new ListpackWriter().appendString(mid).finish();
      assert.deepEqual(a, b);
    }), { numRuns: 1000 });
});

test('ListpackWriter.appendFlat of a Hash flat string equals appendString of each field and value', () => {
  const el = fc.oneof(fc.string({ maxLength: 70 }), fc.integer().map(String), fc.bigInt().map(String), fc.constantFrom('-0', '007', '-', '', '18446744073709551616'),
    fc.string({ minLength: 250, maxLength: 5000 }));
  fc.assert(fc.property(fc.uniqueArray(el, { minLength: 1, maxLength: 40 }), fc.array(el, { minLength: 40, maxLength: 40 }), (fields, vals) => {
    const h = new Hash();
    fields.forEach((f, i) => h.set(f, vals[i]!, 512, 1 << 20));
    const a = new ListpackWriter().appendString('x').appendFlat(h.lp!, LP_LONG_HEADER).finish();
    const w = new ListpackWriter().appendString('x');
    for (const [f, v] of h.pairs()) w.appendString(f).appendString(v);
    assert.deepEqual(a, w.finish());
  }), { numRuns: 300 });
});

test('hashFromListpack builds the hash buildHash builds, and refuses duplicated fields', () => {
  const field = fc.oneof(fc.string({ maxLength: 20 }), fc.integer({ min: -100000, max: 100000 }).map(String), fc.string({ minLength: 250, maxLength: 300 }));
  fc.assert(fc.property(fc.uniqueArray(field, { minLength: 1, maxLength: 60 }), fc.array(field, { minLength: 60, maxLength: 60 }), (fields, vals) => {
    const flat: string[] = [];
    fields.forEach((f, i) => flat.push(f, vals[i]!));
    const w = new ListpackWriter();
    for (const s of flat) w.appendString(s);
    const lp = w.finish();
    const h = hashFromListpack(lp, 0, lpValidate(lp, 0, lp.length))!;
    const ref = buildHash(flat, 'listpack', DEFAULT_LIMITS)!;
    assert.equal(h.encoding(), 'listpack');
    assert.deepEqual([...h.pairs()], [...ref.pairs()]);
    assert.equal(h.size, fields.length);
    for (const f of fields) assert.equal(h.get(f), ref.get(f));
    assert.deepEqual(dumpPayload(h), dumpPayload(ref));
    if (fields.length > 1) {
      const dup = new ListpackWriter();
      for (const s of [...flat, fields[fields.length - 1]!, 'x']) dup.appendString(s);
      const d = dup.finish();
      assert.equal(hashFromListpack(d, 0, lpValidate(d, 0, d.length)), null);
    }
  }), { numRuns: 200 });
});

test('zsets load the same whatever the element order in the file; duplicates are refused', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 200 }), fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true }), fc.constant(-0)), { minLength: 200, maxLength: 200 }), (members, sc) => {
    const scores = members.map((_, i) => sc[i]!);
    const order = members.map((_, i) => i).sort((a, b) => (scores[a]! - scores[b]! || (members[a]! < members[b]! ? -1 : 1)));
    const want = order.map((i) => [members[i], scores[i] === 0 ? 0 : scores[i]]);
    for (const from of ['skiplist', 'listpack'] as const) {
      const z = buildZSet([...members], [...scores], from, DEFAULT_LIMITS)!;
      z.check();
      const got = [...z.entries()].map(([m, s]) => [m, s === 0 ? 0 : s]);
      assert.deepEqual(got, want);
      assert.equal(z.encoding(), members.length <= 128 ? 'listpack' : 'skiplist');
      // a duplicated member (other score) is refused
      assert.equal(buildZSet([...members, members[0]!], [...scores, 12345], from, DEFAULT_LIMITS), null);
    }
  }), { numRuns: 200 });
  // listpack bytes: members sliced from one string, scores from integers and text
  const w = new ListpackWriter();
  for (const [m, s] of [['b', '2'], ['a', '1.5'], ['c', 'inf'], ['d', '-3e2']] as const) w.appendString(m).appendString(s);
  const lp = w.finish();
  const z = zsetFromListpack(lp, 0, lp.length, lpValidate(lp, 0, lp.length), DEFAULT_LIMITS)!;
  assert.deepEqual([...z.entries()], [['d', -300], ['a', 1.5], ['b', 2], ['c', Infinity]]);
  assert.equal(listpackScore('1e+20'), 1e20);
  assert.equal(listpackScore('-inf'), -Infinity);
  assert.equal(listpackScore('12abc'), 12);
});

test('presized sets and hashes: same members, duplicates found, SCAN and random still work', () => {
  const members = Array.from({ length: 3000 }, (_, i) => `m${i}`);
  const s = buildSet(members, DEFAULT_LIMITS)!;
  assert.equal(s.size, 3000);
  assert.deepEqual([...s.members()].sort(), [...members].sort());
  assert.equal(buildSet([...members, 'm7'], DEFAULT_LIMITS), null);
  assert.equal(buildSet(['1', '2', '3'], DEFAULT_LIMITS)!.encoding(), 'intset');
  assert.equal(buildSet(['1', '2', '2'], DEFAULT_LIMITS), null);
  const d = new SetDict();
  d.reserve(5000);
  for (const m of members) d.add(m);
  const seen = new Set<string>();
  let cursor = 0;
  do cursor = d.scan(cursor, (acc: Set<string>, m) => acc.add(m), seen);
  while (cursor !== 0);
  assert.equal(seen.size, 3000);
  assert.ok(members.includes(d.random()));
  for (const m of members.slice(0, 2990)) assert.ok(d.delete(m));
  assert.equal(d.size, 10);
  const flat = members.flatMap((m) => [m, m.toUpperCase()]);
  const h = buildHash(flat, 'hashtable', DEFAULT_LIMITS)!;
  assert.equal(h.encoding(), 'hashtable');
  assert.equal(h.get('m2999'), 'M2999');
  assert.equal(buildHash([...flat, 'm1', 'x'], 'hashtable', DEFAULT_LIMITS), null);
  const hd = new HashDict();
  hd.reserve(100);
  hd.set('a', '1');
  assert.equal(hd.get('a'), '1');
});

test('ListObject.forEachRange and forEach visit the elements in order', () => {
  const items = Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? String(i) : `item-${i}-${'x'.repeat(i % 50)}`));
  const l = ListObject.from(items);
  const got: string[] = [];
  l.forEachRange((acc: string[], s, a, n) => acc.push(s.slice(a, a + n)), got);
  assert.deepEqual(got, items);
  const got2: string[] = [];
  l.forEach((v, i) => {
    assert.equal(i, got2.length);
    got2.push(v);
  });
  assert.deepEqual(got2, items);
});

test('ListObject.fromArray equals pushing every item at the tail, pages and packing included', () => {
  for (const n of [0, 1, 127, 128, 129, 300, 1000, 5000]) {
    const items = Array.from({ length: n }, (_, i) => (i % 3 ? `v${i}` : 'w'.repeat(i % 400)));
    const a = ListObject.fromArray(items);
    const b = ListObject.from(items);
    a.check();
    assert.deepEqual(a.toArray(), items);
    assert.deepEqual(a.stats(), b.stats());
    // still a working list at both ends
    a.pushHead('h');
    a.pushTail('t');
    assert.equal(a.popHead(), 'h');
    assert.equal(a.popTail(), 't');
    assert.equal(a.length, n);
    a.check();
  }
});

test('LZF-compressed listpacks decode through the reused scratch buffer, one after another', () => {
  // two compressible hash listpacks back to back: the second must not disturb the first's value
  const mk = (tag: string): Hash => {
    const h = new Hash();
    for (let i = 0; i < 50; i++) h.set(`field-${i}`, `${tag}-${'y'.repeat(30)}-${i}`, 512, 64);
    return h;
  };
  const a = mk('a');
  const b = mk('b');
  const buf = Buffer.concat([dumpPayload(a).subarray(1, -10), dumpPayload(b).subarray(1, -10)]);
  const r = new RdbReader(buf);
  const ga = loadObject(r, 16, DEFAULT_LIMITS) as Hash;
  const gb = loadObject(r, 16, DEFAULT_LIMITS) as Hash;
  assert.deepEqual([...ga.pairs()], [...a.pairs()]);
  assert.deepEqual([...gb.pairs()], [...b.pairs()]);
});

test('the snapshot format reuses one writer across entries: big and small values come out right', () => {
  const fmt = rdbSnapshotFormat(DEFAULT_SAVE_OPTIONS);
  const rnd = Buffer.alloc(300 * 1024);
  for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 2654435761) >>> 24;
  const values: Array<[string, Value]> = [['small', 'v'], ['big', rnd.latin1Slice()], ['after', 'x'.repeat(100)], ['h', (() => {
    const h = new Hash();
    h.set('f', '1', 512, 64);
    return h;
  })()]];
  for (const [k, v] of values) {
    const chunks: Buffer[] = [];
    const e = new RdbFileEncoder((c) => chunks.push(c));
    e.key(k, v);
    e.w.flush();
    assert.deepEqual(fmt.snapshot.entry(0, k, v, -1), Buffer.concat(chunks), k);
  }
});
