import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SortedKeyMap, Stream, StreamConsumer, streamIdKey, streamIdFromKey, compareStreamId, formatStreamId,
  SCG_INVALID_ENTRIES_READ, type StreamNACK,
} from '../../src/keyspace/types/stream.js';

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const id = fc.record({ ms: u64, seq: u64 });

test('stream ID keys: 16 bytes, string order is ID order, decode back exactly', () => {
  fc.assert(fc.property(id, id, (a, b) => {
    const ka = streamIdKey(a);
    const kb = streamIdKey(b);
    assert.equal(ka.length, 16);
    assert.deepEqual(streamIdFromKey(ka), { ms: a.ms, seq: a.seq });
    const c = compareStreamId(a, b);
    assert.equal(Math.sign(ka < kb ? -1 : ka > kb ? 1 : 0), c);
  }), { numRuns: 500 });
  assert.equal(formatStreamId({ ms: 18446744073709551615n, seq: 0n }), '18446744073709551615-0');
});

test('SortedKeyMap behaves as a sorted map, ranges in both directions', () => {
  const key = fc.integer({ min: 0, max: 3000 }).map((n) => n.toString(36).padStart(3, '0'));
  const op = fc.oneof(
    fc.record({ t: fc.constant('set' as const), k: key, v: fc.nat() }),
    fc.record({ t: fc.constant('del' as const), k: key }),
    fc.record({ t: fc.constant('append' as const), n: fc.integer({ min: 1, max: 700 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 200 }), key, key, (ops, x, y) => {
    const m = new SortedKeyMap<number>();
    const model = new Map<string, number>();
    let next = 10000;
    for (const o of ops) {
      if (o.t === 'set') assert.equal(m.set(o.k, o.v), !model.has(o.k)), model.set(o.k, o.v);
      else if (o.t === 'del') assert.equal(m.delete(o.k), model.delete(o.k));
      else for (let i = 0; i < o.n; i++) {
        const k = 'z' + String(next++);
        m.set(k, i);
        model.set(k, i);
      }
    }
    const sorted = [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    assert.equal(m.size, sorted.length);
    assert.deepEqual([...m.entries()], sorted);
    const [lo, hi] = x < y ? [x, y] : [y, x];
    const inRange = sorted.filter(([k]) => k >= lo && k <= hi);
    assert.deepEqual([...m.range(lo, hi)], inRange);
    assert.deepEqual([...m.range(lo, hi, true)], inRange.slice().reverse());
    assert.deepEqual([...m.range(undefined, hi, true)], sorted.filter(([k]) => k <= hi).reverse());
    assert.deepEqual([...m.range(lo)], sorted.filter(([k]) => k >= lo));
    assert.equal(m.firstKey(), sorted[0]?.[0]);
    assert.equal(m.lastKey(), sorted[sorted.length - 1]?.[0]);
    for (const [k, v] of sorted.slice(0, 20)) assert.equal(m.get(k), v);
    assert.equal(m.get('~missing'), undefined);
  }), { numRuns: 150 });
});

test('Stream: append, groups, consumers, clone keeps shared NACKs', () => {
  const s = new Stream();
  s.appendEntry({ ms: 1n, seq: 0n }, ['a', '1']);
  s.appendEntry({ ms: 2n, seq: 0n }, ['b', '2']);
  assert.equal(s.length, 2);
  assert.deepEqual(s.firstId, { ms: 1n, seq: 0n });
  assert.deepEqual(s.lastId, { ms: 2n, seq: 0n });
  assert.equal(s.entriesAdded, 2);
  const g = s.createGroup('g', { ms: 0n, seq: 0n }, 0)!;
  assert.equal(s.createGroup('g', { ms: 0n, seq: 0n }, 0), null);
  const c = g.createConsumer('alice', 1000)!;
  const k = streamIdKey({ ms: 1n, seq: 0n });
  const n: StreamNACK = { deliveryTime: 5, deliveryCount: 1, consumer: c };
  g.pel.set(k, n);
  c.pel.set(k, n);
  const copy = s.clone();
  const g2 = copy.groups.get('g')!;
  const c2 = g2.consumers.get('alice')!;
  assert.notEqual(c2, c);
  assert.equal(g2.pel.get(k), c2.pel.get(k));
  assert.equal(g2.pel.get(k)!.consumer, c2);
  g.deleteConsumer(c);
  assert.equal(g.pel.size, 0);
  assert.equal(g2.pel.size, 1);
  assert.ok(s.removeEntry({ ms: 1n, seq: 0n }));
  assert.ok(!s.removeEntry({ ms: 1n, seq: 0n }));
  assert.equal(copy.length, 2);
  assert.ok(new StreamConsumer('x', 1).activeTime === -1);
});

test('estimateDistanceFromFirstEverEntry follows t_stream.c', () => {
  const s = new Stream();
  assert.equal(s.estimateDistanceFromFirstEverEntry({ ms: 5n, seq: 0n }), 0);
  for (let i = 1n; i <= 5n; i++) s.appendEntry({ ms: i, seq: 0n }, ['f', 'v']);
  assert.equal(s.estimateDistanceFromFirstEverEntry({ ms: 5n, seq: 0n }), 5);
  assert.equal(s.estimateDistanceFromFirstEverEntry({ ms: 6n, seq: 0n }), SCG_INVALID_ENTRIES_READ);
  assert.equal(s.estimateDistanceFromFirstEverEntry({ ms: 1n, seq: 0n }), 1);
  assert.equal(s.estimateDistanceFromFirstEverEntry({ ms: 0n, seq: 0n }), 0);
  assert.equal(s.estimateDistanceFromFirstEverEntry({ ms: 3n, seq: 0n }), SCG_INVALID_ENTRIES_READ);
});
