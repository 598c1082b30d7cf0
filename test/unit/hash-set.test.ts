import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Hash } from '../../src/keyspace/types/hash.js';
import { RedisSet } from '../../src/keyspace/types/set.js';
import { HashDict, SetDict } from '../../src/keyspace/types/dict.js';

test('Hash: listpack until more than max entries, then hashtable for good', () => {
  const h = new Hash();
  assert.equal(h.encoding(), 'listpack');
  for (let i = 0; i < 4; i++) assert.equal(h.set('f' + i, 'v' + i, 4, 64), true);
  assert.equal(h.encoding(), 'listpack');
  assert.equal(h.set('f0', 'again', 4, 64), false);
  assert.equal(h.encoding(), 'listpack');
  assert.equal(h.set('f4', 'v4', 4, 64), true);
  assert.equal(h.encoding(), 'hashtable');
  assert.equal(h.size, 5);
  for (let i = 0; i < 4; i++) h.delete('f' + i);
  assert.equal(h.encoding(), 'hashtable', 'never converts back, as in Redis 7.0');
  assert.deepEqual([...h.pairs()], [['f4', 'v4']]);
});

test('Hash: a field or value longer than max value converts (set and tryConversion)', () => {
  const h = new Hash();
  h.set('f', 'x'.repeat(64), 512, 64);
  assert.equal(h.encoding(), 'listpack');
  h.set('g', 'x'.repeat(65), 512, 64);
  assert.equal(h.encoding(), 'hashtable');
  const h2 = new Hash();
  h2.set('a', '1', 512, 64);
  h2.tryConversion(['HSET', 'k', 'a', 'short', 'y'.repeat(65), 'v'], 2, 5, 64);
  assert.equal(h2.encoding(), 'hashtable');
  assert.equal(h2.get('a'), '1');
  const h3 = new Hash();
  h3.set('z'.repeat(65), '1', 512, 64);
  assert.equal(h3.encoding(), 'hashtable');
  const h4 = new Hash();
  h4.set('a', '1', 0, 64);
  assert.equal(h4.encoding(), 'hashtable', 'max entries 0: the first field converts');
});

test('Hash: listpack keeps insertion order; delete, get, has, clone', () => {
  const h = new Hash();
  for (const f of ['c', 'a', 'b']) h.set(f, f.toUpperCase(), 512, 64);
  h.set('a', 'A2', 512, 64);
  assert.deepEqual([...h.pairs()], [['c', 'C'], ['a', 'A2'], ['b', 'B']]);
  assert.equal(h.delete('a'), true);
  assert.equal(h.delete('a'), false);
  assert.equal(h.get('b'), 'B');
  assert.equal(h.has('c'), true);
  assert.equal(h.has('a'), false);
  const copy = h.clone();
  copy.set('x', 'y', 512, 64);
  assert.equal(h.size, 2);
  assert.equal(copy.size, 3);
  assert.equal(copy.encoding(), 'listpack');
  h.convert();
  const copy2 = h.clone();
  assert.equal(copy2.encoding(), 'hashtable');
  assert.deepEqual(new Map(copy2.pairs()), new Map([['c', 'C'], ['b', 'B']]));
});

test('RedisSet: intset while canonical int64 members and count <= max', () => {
  const s = RedisSet.create('5');
  assert.equal(s.encoding(), 'intset');
  for (const m of ['5', '-3', '9223372036854775807', '-9223372036854775808', '0', '10']) s.add(m, 512);
  assert.equal(s.encoding(), 'intset');
  assert.deepEqual([...s.members()], ['-9223372036854775808', '-3', '0', '5', '10', '9223372036854775807']);
  assert.deepEqual(s.intsetValues(), [-9223372036854775808n, -3n, 0n, 5n, 10n, 9223372036854775807n]);
  assert.equal(s.has('9223372036854775807'), true);
  assert.equal(s.has('007'), false);
  assert.equal(s.add('5', 512), false);
  for (const bad of ['007', '-0', '+1', '1.0', ' 1', '9223372036854775808', 'a']) {
    const t = RedisSet.create('1');
    t.add('1', 512);
    t.add(bad, 512);
    assert.equal(t.encoding(), 'hashtable', `'${bad}' is not a canonical int64`);
    assert.equal(t.has(bad), true);
    assert.equal(t.has('1'), true);
  }
  assert.equal(RedisSet.create('x').encoding(), 'hashtable');
});

test('RedisSet: intset converts past max entries and never goes back', () => {
  const s = RedisSet.create('1');
  for (let i = 0; i < 3; i++) s.add(String(i), 3);
  assert.equal(s.encoding(), 'intset');
  s.add('1', 3);
  assert.equal(s.encoding(), 'intset', 'an existing member adds nothing');
  s.add('3', 3);
  assert.equal(s.encoding(), 'hashtable');
  s.delete('3');
  assert.equal(s.encoding(), 'hashtable');
  const z = RedisSet.create('1');
  z.add('1', 0);
  assert.equal(z.encoding(), 'hashtable', 'max 0: the first member converts');
});

test('RedisSet: pop and random return members; delete from both forms', () => {
  for (const n of [10, 2000]) {
    const s = new RedisSet(true);
    for (let i = 0; i < n; i++) s.add(String(i * 7), 512);
    assert.equal(s.encoding(), n > 512 ? 'hashtable' : 'intset');
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const m = s.random();
      assert.ok(s.has(m), 's.has(m)');
      seen.add(m);
    }
    assert.ok(seen.size > 5, 'seen.size > 5');
    const popped = new Set<string>();
    while (s.size > 0) {
      const m = s.pop();
      assert.ok(!popped.has(m), '!popped.has(m)');
      assert.equal(s.has(m), false);
      popped.add(m);
    }
    assert.equal(popped.size, n);
  }
});

test('SetDict: SCAN returns every member present for the whole iteration, across growth and shrink', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3000 }),
      fc.array(fc.tuple(fc.constantFrom('add', 'del', 'del'), fc.integer({ min: 0, max: 5000 })), { maxLength: 4000 }),
      fc.integer({ min: 1, max: 300 }),
      (initial, ops, perStep) => {
        const d = new SetDict();
        for (let i = 0; i < initial; i++) d.add('m' + i);
        const stable = new Set<string>();
        for (let i = 0; i < initial; i++) stable.add('m' + i);
        const seen = new Set<string>();
        let cursor = 0;
        let k = 0;
        let steps = 0;
        do {
          cursor = d.scan(cursor, (acc: Set<string>, m: string) => void acc.add(m), seen);
          // mutate between steps
          for (let j = 0; j < perStep && k < ops.length; j++, k++) {
            const [t, i] = ops[k]!;
            const m = 'm' + i;
            if (t === 'add') d.add(m);
            else {
              d.delete(m);
              stable.delete(m);
            }
          }
          steps++;
        } while (cursor !== 0 && steps < 100000);
        for (const m of stable) if (d.has(m)) assert.ok(seen.has(m), `missed ${m}`);
      },
    ),
    { numRuns: 60 },
  );
});

test('HashDict: set/get/delete agree with a Map model, and random is roughly uniform', () => {
  const d = new HashDict();
  const model = new Map<string, string>();
  for (let i = 0; i < 20000; i++) {
    const f = 'f' + Math.floor(Math.random() * 3000);
    if (Math.random() < 0.6) {
      assert.equal(d.set(f, 'v' + i), !model.has(f));
      model.set(f, 'v' + i);
    } else {
      assert.equal(d.delete(f), model.delete(f));
    }
    assert.equal(d.size, model.size);
  }
  for (const [f, v] of model) assert.equal(d.get(f), v);
  const counts = new Map<string, number>();
  const small = new HashDict();
  for (let i = 0; i < 200; i++) small.set('k' + i, '');
  const N = 200000;
  for (let i = 0; i < N; i++) {
    const [f] = small.random();
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  assert.equal(counts.size, 200);
  for (const n of counts.values()) assert.ok(n > (N / 200) * 0.7 && n < (N / 200) * 1.3, `count ${n}`);
  // shrinking gives segments back
  for (let i = 0; i < 200; i++) small.delete('k' + i);
  assert.equal(small.size, 0);
  assert.equal(small.segs.length, 1);
});

test('Hash listpack string: long entries (5-byte headers), binary data, updates, deletes, conversion', () => {
  const model = new Map<string, string>();
  const h = new Hash();
  const mk = (n: number, seed: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode((seed * 31 + i * 7) & 255);
    return s;
  };
  for (let i = 0; i < 300; i++) {
    const f = mk(i % 7 === 0 ? 300 + i : i % 13, i % 50);
    const v = mk(i % 5 === 0 ? 254 + i : i % 3, i);
    assert.equal(h.set(f, v, 10000, 100000), !model.has(f));
    model.set(f, v);
    if (i % 4 === 0) {
      const del = [...model.keys()][i % model.size]!;
      assert.equal(h.delete(del), true);
      model.delete(del);
    }
    assert.equal(h.size, model.size);
  }
  assert.equal(h.encoding(), 'listpack');
  assert.deepEqual([...h.pairs()], [...model]);
  for (const [f, v] of model) assert.equal(h.get(f), v);
  for (let i = 0; i < 50; i++) {
    const [f, v] = h.random();
    assert.equal(model.get(f), v);
  }
  const copy = h.clone();
  h.convert();
  assert.equal(h.encoding(), 'hashtable');
  assert.deepEqual(new Map(h.pairs()), model);
  assert.deepEqual([...copy.pairs()], [...model]);
  assert.equal(copy.encoding(), 'listpack');
});

test('SetDict: SCAN while the table shrinks (merges) and grows again misses nothing stable', () => {
  for (let round = 0; round < 20; round++) {
    const d = new SetDict();
    const n = 2000 + Math.floor(Math.random() * 6000);
    for (let i = 0; i < n; i++) d.add('m' + i);
    const keep = new Set<string>();
    const doomed: string[] = [];
    for (let i = 0; i < n; i++) (Math.random() < 0.08 ? keep.add('m' + i) : doomed.push('m' + i));
    const segsBefore = d.segs.length;
    const seen = new Set<string>();
    let cursor = 0;
    let step = 0;
    do {
      cursor = d.scan(cursor, (acc: Set<string>, m: string) => void acc.add(m), seen);
      for (let j = 0; j < 150 && doomed.length > 0; j++) d.delete(doomed.pop()!);
      if (round % 2 === 1 && step % 7 === 3) for (let j = 0; j < 300; j++) d.add(`new${round}-${step}-${j}`);
      step++;
    } while (cursor !== 0);
    for (const m of keep) assert.ok(seen.has(m), `missed ${m} (round ${round})`);
    if (round % 2 === 0) assert.ok(d.segs.length < segsBefore, 'the table shrank during the scan');
  }
});

test('RedisSet intset: any int64 keeps numeric order and round-trips exactly', () => {
  const edge = [-(2n ** 63n), -(2n ** 53n) - 1n, -(2n ** 53n), -(2n ** 53n) + 1n, -(2n ** 32n) - 1n, -(2n ** 32n), -1n, 0n, 1n,
    2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(...edge), fc.bigInt({ min: -300n, max: 300n })), { maxLength: 80 }), (vals) => {
      const s = new RedisSet(true);
      const model = new Set<bigint>();
      for (const v of vals) {
        assert.equal(s.add(String(v), 1000), !model.has(v));
        model.add(v);
      }
      assert.equal(s.encoding(), 'intset');
      const sorted = [...model].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(s.intsetValues(), sorted);
      assert.deepEqual([...s.members()], sorted.map(String));
      for (const v of sorted) assert.equal(s.has(String(v)), true);
      for (const v of sorted.slice(0, 10)) {
        assert.equal(s.delete(String(v)), true);
        assert.equal(s.has(String(v)), false);
      }
    }),
    { numRuns: 200 },
  );
});

test('Hash.setMany: the same hash, pairs and count as set() pair by pair (duplicates, existing fields, conversions, long headers)', () => {
  const field = fc.constantFrom('a', 'b', 'c', 'field-0', 'field-1', 'x'.repeat(300), '', '7');
  const value = fc.oneof(fc.constantFrom('', '1', 'v', 'y'.repeat(300)), fc.string({ maxLength: 20 }));
  fc.assert(
    fc.property(
      fc.array(fc.tuple(field, value), { maxLength: 6 }),
      fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 0, max: 10 }),
      fc.constantFrom(16, 64, 1000),
      (before, pairs, maxEntries, maxValue) => {
        const a = new Hash();
        const b = new Hash();
        for (const [f, v] of before) {
          a.set(f, v, 1000, 1000);
          b.set(f, v, 1000, 1000);
        }
        const argv = ['HSET', 'k', ...pairs.flat()];
        let added = 0;
        for (let i = 2; i < argv.length; i += 2) if (a.set(argv[i]!, argv[i + 1]!, maxEntries, maxValue)) added++;
        assert.equal(b.setMany(argv, 2, maxEntries, maxValue), added);
        assert.equal(b.encoding(), a.encoding());
        assert.equal(b.size, a.size);
        // listpack order is insertion order in both; a hashtable's is its own
        if (a.encoding() === 'listpack') assert.deepEqual([...b.pairs()], [...a.pairs()]);
        else assert.deepEqual(new Map(b.pairs()), new Map(a.pairs()));
      },
    ),
    { numRuns: 400 },
  );
});

test('RedisSet.reserve: a presized new set holds and scans the same members', () => {
  const s = RedisSet.create('member-0');
  s.reserve(300);
  const model = new Set<string>();
  for (let i = 0; i < 300; i++) {
    assert.equal(s.add(`member-${i % 250}`, 512), !model.has(`member-${i % 250}`));
    model.add(`member-${i % 250}`);
  }
  assert.equal(s.size, 250);
  const seen = new Set<string>();
  let cursor = 0;
  do cursor = s.ht!.scan(cursor, (o: Set<string>, m) => void o.add(m), seen);
  while (cursor !== 0);
  assert.deepEqual(seen, model);
  const is = RedisSet.create('1');
  is.reserve(100);
  assert.equal(is.encoding(), 'intset', 'no effect in intset form');
});
