/**
 * QuicklistLayout kept by a list through random commands (no redis-server needed; the compat test
 * list-layout.test.ts compares the layouts with Redis's): the nodes always cover the list's
 * elements exactly, and each node's bytes are those of a listpack holding its elements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ListObject } from '../../src/keyspace/types/list.js';
import { QuicklistLayout, listpackBytesOf } from '../../src/keyspace/types/quicklist-layout.js';

// pivots often, so that LINSERT lands inside full nodes (splits, then merges around them)
const elem = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ minLength: 60, maxLength: 300 }), weight: 1 },
  { arbitrary: fc.integer({ min: -100000, max: 100000 }).map(String), weight: 1 },
  { arbitrary: fc.constantFrom('a', 'b', 'pivot', '0', '-0', '01'), weight: 4 },
);

type Op =
  | { op: 'lpush' | 'rpush'; items: string[] }
  | { op: 'lpop' | 'rpop' }
  | { op: 'lset'; index: number; v: string }
  | { op: 'linsert'; pivot: string; after: boolean; v: string }
  | { op: 'lrem'; count: number; v: string }
  | { op: 'trim'; ltrim: number; rtrim: number };

const ops: fc.Arbitrary<Op[]> = fc.array(fc.oneof(
  fc.record({ op: fc.constantFrom('lpush' as const, 'rpush' as const), items: fc.array(elem, { minLength: 1, maxLength: 40 }) }),
  fc.record({ op: fc.constantFrom('lpop' as const, 'rpop' as const) }),
  fc.record({ op: fc.constant('lset' as const), index: fc.nat(200), v: elem }),
  fc.record({ op: fc.constant('linsert' as const), pivot: fc.constantFrom('a', 'b', 'pivot'), after: fc.boolean(), v: elem }),
  fc.record({ op: fc.constant('linsert' as const), pivot: fc.constantFrom('a', 'pivot'), after: fc.boolean(), v: elem }),
  fc.record({ op: fc.constant('lrem' as const), count: fc.integer({ min: -3, max: 3 }), v: fc.constantFrom('a', 'b', 'pivot') }),
  fc.record({ op: fc.constant('trim' as const), ltrim: fc.nat(20), rtrim: fc.nat(20) }),
), { maxLength: 120 });

/** The layout's nodes cover the list, each with the bytes of a listpack of its elements. */
function checkLayout(l: ListObject, ql: QuicklistLayout): void {
  const items = [...l];
  const nodes = ql.nodes();
  assert.equal(nodes.reduce((n, x) => n + x.count, 0), items.length);
  let at = 0;
  for (const n of nodes) {
    assert.ok(n.count > 0, 'no empty node');
    assert.equal(n.bytes, listpackBytesOf(items.slice(at, at + n.count)), `node at element ${at}`);
    at += n.count;
  }
}

test('a list created by a command keeps a layout covering its elements, node bytes exact, through pushes, pops, LSET, LINSERT, LREM and trims', () => {
  fc.assert(
    fc.property(ops, fc.constantFrom(-1, -2, 1, 3, 8), (seq, fill) => {
      const l = ListObject.created(fill);
      for (const o of seq) {
        switch (o.op) {
          case 'lpush': for (const v of o.items) l.pushHead(v); break;
          case 'rpush': for (const v of o.items) l.pushTail(v); break;
          case 'lpop': l.popHead(); break;
          case 'rpop': l.popTail(); break;
          case 'lset': if (l.length > 0) l.set(o.index % l.length, o.v); break;
          case 'linsert': l.insert(o.pivot, o.v, o.after); break;
          case 'lrem': l.remove(o.v, o.count); break;
          case 'trim': if (o.ltrim + o.rtrim < l.length) l.trim(o.ltrim, o.rtrim); break;
        }
        checkLayout(l, l.ql!);
      }
      // a copy has its own layout
      const c = l.clone();
      c.pushHead('copy');
      checkLayout(c, c.ql!);
      checkLayout(l, l.ql!);
    }),
    { numRuns: 300 },
  );
});

test('a node holds what the fill allows: -2 caps a node near 8 KB, a positive fill counts elements', () => {
  const l = ListObject.created(-2);
  for (let i = 0; i < 1000; i++) l.pushHead('x'.repeat(50));
  const nodes = l.ql!.nodes();
  assert.ok(nodes.length > 1);
  for (const n of nodes) assert.ok(n.bytes <= 8192, `${n.bytes}`);
  const c = ListObject.created(3);
  for (let i = 0; i < 10; i++) c.pushTail(String(i));
  assert.deepEqual(c.ql!.counts(), [3, 3, 3, 1]);
  // an element of packed_threshold (1 GB) or more would be a PLAIN node: the layout is dropped
  assert.equal(QuicklistLayout.accepts('x'), true);
});
