/**
 * The list type (src/keyspace/types/list.ts) against a plain array model: random sequences of
 * every operation with fast-check, internal invariants checked after each step, packed and open
 * pages both exercised (lists long enough to pack), quicklist node emulation against numbers
 * measured on redis-server 7.0.15, and a memory measurement printed for the record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseBulks } from '../helpers/list.js';
import { ListObject } from '../../src/keyspace/types/list.js';
import { listpackEntrySize } from '../../src/keyspace/types/listpack-size.js';

type Op =
  | { t: 'lpush' | 'rpush'; v: string[] }
  | { t: 'lpop' | 'rpop'; n: number }
  | { t: 'set'; i: number; v: string }
  | { t: 'trim'; l: number; r: number }
  | { t: 'insert'; pivot: string; v: string; after: boolean }
  | { t: 'remove'; v: string; count: number }
  | { t: 'range'; a: number; b: number; rev: boolean }
  | { t: 'scan'; v: string; fromTail: boolean; maxlen: number }
  | { t: 'clone' };

// few distinct values, so that LREM, LINSERT and LPOS find matches; some long ones
const value = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c', '', '12', '-7', 'x\r\n$3\r\n') },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('L'.repeat(300), 'M'.repeat(5000)) },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constantFrom('lpush' as const, 'rpush' as const), v: fc.array(value, { minLength: 1, maxLength: 200 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('lpop' as const, 'rpop' as const), n: fc.integer({ min: 1, max: 150 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('set' as const), i: fc.nat(2000), v: value }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('trim' as const), l: fc.nat(200), r: fc.nat(200) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('insert' as const), pivot: value, v: value, after: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove' as const), v: value, count: fc.integer({ min: -50, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('range' as const), a: fc.nat(2000), b: fc.nat(2000), rev: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('scan' as const), v: value, fromTail: fc.boolean(), maxlen: fc.nat(300) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clone' as const) }) },
);

function apply(l: ListObject, m: string[], o: Op): ListObject {
  switch (o.t) {
    case 'lpush':
      for (const v of o.v) {
        l.pushHead(v);
        m.unshift(v);
      }
      break;
    case 'rpush':
      for (const v of o.v) {
        l.pushTail(v);
        m.push(v);
      }
      break;
    case 'lpop':
      for (let i = 0; i < o.n; i++) assert.equal(l.popHead(), m.shift());
      break;
    case 'rpop':
      for (let i = 0; i < o.n; i++) assert.equal(l.popTail(), m.pop());
      break;
    case 'set':
      if (m.length > 0) {
        const i = o.i % m.length;
        l.set(i, o.v);
        m[i] = o.v;
      }
      break;
    case 'trim': {
      const lt = Math.min(o.l, m.length);
      const rt = Math.min(o.r, m.length - lt);
      l.trim(lt, rt);
      m.splice(0, lt);
      m.splice(m.length - rt, rt);
      break;
    }
    case 'insert': {
      const i = m.indexOf(o.pivot);
      assert.equal(l.insert(o.pivot, o.v, o.after), i >= 0);
      if (i >= 0) m.splice(i + (o.after ? 1 : 0), 0, o.v);
      break;
    }
    case 'remove': {
      let quota = o.count === 0 ? Infinity : Math.abs(o.count);
      let removed = 0;
      const idx = o.count < 0 ? [...m.keys()].reverse() : [...m.keys()];
      const drop = new Set<number>();
      for (const i of idx) {
        if (quota > 0 && m[i] === o.v) {
          drop.add(i);
          quota--;
          removed++;
        }
      }
      assert.equal(l.remove(o.v, o.count), removed);
      const kept = m.filter((_, i) => !drop.has(i));
      m.length = 0;
      m.push(...kept);
      break;
    }
    case 'range':
      if (m.length > 0) {
        const a = o.a % m.length;
        const b = a + (o.b % (m.length - a));
        const want = m.slice(a, b + 1);
        if (o.rev) want.reverse();
        assert.deepEqual(parseBulks(l.rangeReply(a, b, o.rev)), want);
        assert.deepEqual(l.range(a, b), m.slice(a, b + 1));
      }
      break;
    case 'scan': {
      const got: number[] = [];
      l.scan(o.v, o.fromTail, o.maxlen, (i) => {
        got.push(i);
        return true;
      });
      const want: number[] = [];
      const limit = o.maxlen > 0 ? Math.min(o.maxlen, m.length) : m.length;
      for (let k = 0; k < limit; k++) {
        const i = o.fromTail ? m.length - 1 - k : k;
        if (m[i] === o.v) want.push(i);
      }
      assert.deepEqual(got, want);
      break;
    }
    case 'clone': {
      const c = l.clone();
      c.check();
      assert.deepEqual(c.toArray(), m);
      return c;
    }
  }
  return l;
}

test('ListObject: random operations match an array model (fast-check)', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
      let l = new ListObject();
      const m: string[] = [];
      for (const o of ops) {
        l = apply(l, m, o);
        // builds the RESP caches of open pages, so the next operations must keep them right
        if (m.length > 0) l.rangeReply(0, m.length - 1);
        l.check();
        assert.equal(l.length, m.length);
      }
      assert.deepEqual(l.toArray(), m);
      assert.deepEqual([...l], m);
      for (let i = 0; i < m.length; i += Math.max(1, m.length >> 4)) assert.equal(l.get(i), m[i]);
      if (m.length > 0) assert.deepEqual(parseBulks(l.rangeReply(0, m.length - 1)), m);
    }),
    { numRuns: 300 },
  );
});

test('ListObject: long lists pack interior pages and still answer everything', () => {
  const l = new ListObject();
  const m: string[] = [];
  for (let i = 0; i < 5000; i++) {
    l.pushTail('v' + i);
    m.push('v' + i);
  }
  for (let i = 0; i < 3000; i++) {
    l.pushHead('h' + i);
    m.unshift('h' + i);
  }
  l.check();
  const st = l.stats();
  assert.ok(st.packed > st.pages - 6, `most pages packed: ${JSON.stringify(st)}`);
  assert.equal(l.get(4000), m[4000]);
  l.set(4000, 'changed');
  m[4000] = 'changed';
  assert.deepEqual(parseBulks(l.rangeReply(3900, 4100)), m.slice(3900, 4101));
  assert.deepEqual(parseBulks(l.rangeReply(10, 7000, true)), m.slice(10, 7001).reverse());
  assert.equal(l.insert('v2500', 'ins', false), true);
  m.splice(m.indexOf('v2500'), 0, 'ins');
  assert.equal(l.remove('v100', 0), 1);
  m.splice(m.indexOf('v100'), 1);
  l.check();
  assert.deepEqual(l.toArray(), m);
  // draining from one end opens packed pages as they become the head
  while (l.length > 0) assert.equal(l.popHead(), m.shift());
  l.check();
});

test('ListObject: LREM of most elements merges the small pages left behind', () => {
  const l = new ListObject();
  for (let i = 0; i < 20000; i++) l.pushTail(i % 100 === 0 ? 'keep' : 'drop');
  assert.equal(l.remove('drop', 0), 19800);
  l.check();
  assert.equal(l.length, 200);
  assert.ok(l.stats().pages <= 4, `pages after LREM: ${l.stats().pages}`);
});

test('ListObject: trimming a huge list drops pages without decoding them', () => {
  const l = new ListObject();
  for (let i = 0; i < 200000; i++) l.pushTail('e' + i);
  const t0 = performance.now();
  l.trim(100000, 99990);
  const ms = performance.now() - t0;
  l.check();
  assert.deepEqual(l.toArray(), Array.from({ length: 10 }, (_, i) => 'e' + (100000 + i)));
  assert.ok(ms < 50, `trim took ${ms} ms`);
});

test('listpackEntrySize follows listpack encodings', () => {
  assert.equal(listpackEntrySize('a'), 3); // 1 header + 1 byte + 1 backlen
  assert.equal(listpackEntrySize('1'), 2); // 7-bit uint + backlen
  assert.equal(listpackEntrySize('127'), 2);
  assert.equal(listpackEntrySize('128'), 3); // 13-bit int
  assert.equal(listpackEntrySize('-4096'), 3);
  assert.equal(listpackEntrySize('40000'), 5); // 24-bit
  assert.equal(listpackEntrySize('1000000000000'), 10); // 64-bit
  assert.equal(listpackEntrySize('01'), 4); // not canonical: a string
  assert.equal(listpackEntrySize('x'.repeat(100)), 103);
  assert.equal(listpackEntrySize('x'.repeat(200)), 204); // 2-byte backlen past 127
  assert.equal(listpackEntrySize('99999999999999999999'), 22); // beyond int64: a string
});

test('quicklistNodes matches DEBUG OBJECT of redis-server 7.0.15 for RPUSHed lists', () => {
  // measured: 1000 x "1".."1000" at fill -2 -> 1 node of 2880 bytes
  const a = ListObject.from(Array.from({ length: 1000 }, (_, i) => String(i + 1)));
  assert.deepEqual(a.quicklistNodes(-2), [{ count: 1000, bytes: 2880 }]);
  // 816 x 1000000000000 at fill -1 -> 3 nodes, 8181 bytes; 817 -> 8191 bytes
  const b = ListObject.from(Array.from({ length: 816 }, () => '1000000000000'));
  const nb = b.quicklistNodes(-1);
  assert.equal(nb.length, 3);
  assert.equal(nb.reduce((s, n) => s + n.bytes, 0), 8181);
  assert.deepEqual(nb.map((n) => n.count), [407, 407, 2]);
  // fill 5, 12 elements -> 3 nodes
  const c = ListObject.from(Array.from({ length: 12 }, (_, i) => String(i)));
  assert.deepEqual(c.quicklistNodes(5).map((n) => n.count), [5, 5, 2]);
  assert.deepEqual(c.quicklistNodes(0).map((n) => n.count), Array(12).fill(1));
});

test('memory per element (printed): packed pages vs open arrays', () => {
  const n = 200000;
  const l = new ListObject();
  for (let i = 0; i < n; i++) l.pushTail('value:' + (i % 1000).toString().padStart(4, '0'));
  const per = l.memoryUsage() / n;
  // 10-byte elements: Redis 7.0 listpack ~12 B + quicklist overhead; packed RESP ~17 B
  console.log(`# list of ${n} 10-byte elements: ~${per.toFixed(1)} bytes/element (estimate)`);
  assert.ok(per < 24, `bytes per element ${per}`);
});
