/**
 * Lists built by the load path (ListLoader: RDB types 18 with PACKED and PLAIN nodes, 14, 10, 1,
 * and ListObject.fromArrayPacked for LevelDB): every page packed, the head and tail pages
 * included, without one string per element. Checked against a plain array model: every list
 * operation at both ends (LPUSH/RPUSH/LPOP/RPOP with counts, LINSERT, LSET, LREM, LTRIM, LMOVE,
 * LRANGE, LINDEX, LPOS) with fast-check, internal invariants after each step; and what must not
 * change: re-saved RDB bytes, AOF rewrite, quicklist nodes, OBJECT ENCODING.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseBulks } from '../helpers/list.js';
import { ListObject, listLoader } from '../../src/keyspace/types/list.js';
import { QuicklistLayout, listpackBytesOf } from '../../src/keyspace/types/quicklist-layout.js';
import { RdbWriter, dumpPayload, DEFAULT_SAVE_OPTIONS, type RdbSaveOptions } from '../../src/persistence/rdb/encoder.js';
import { RdbReader, RdbError } from '../../src/persistence/rdb/reader.js';
import { loadObject } from '../../src/persistence/rdb/decoder.js';
import { DEFAULT_LIMITS } from '../../src/persistence/rdb/values.js';
import { lpEncode } from '../../src/persistence/rdb/listpack.js';
import { zlEncode } from '../../src/persistence/rdb/ziplist.js';
import { rewriteValue } from '../../src/persistence/aof/base-resp.js';
import * as C from '../../src/persistence/rdb/constants.js';

// ---- building loaded lists ----------------------------------------------------------------

/** The ways a list reaches the loader. */
type Via = 'ql2' | 'ql2-fill3-lzf' | 'ql2-plain' | 'ql14' | 'zl10' | 'list1' | 'leveldb';
const VIAS: Via[] = ['ql2', 'ql2-fill3-lzf', 'ql2-plain', 'ql14', 'zl10', 'list1', 'leveldb'];

/** An RDB value (type byte excluded) written by `fn`, as one buffer. */
function rdbBytes(fn: (w: RdbWriter) => void, opts: RdbSaveOptions = { ...DEFAULT_SAVE_OPTIONS, compression: false }): Buffer {
  const chunks: Buffer[] = [];
  const w = new RdbWriter((c) => chunks.push(c), opts, true);
  fn(w);
  w.flush();
  return Buffer.concat(chunks);
}

/** Decodes one value of `type` from `body`, checking that all of it was read. */
function decode(type: number, body: Buffer): ListObject | null {
  const r = new RdbReader(body);
  const v = loadObject(r, type, DEFAULT_LIMITS);
  assert.equal(r.offset, body.length);
  if (v === null) return null;
  assert.ok(v instanceof ListObject);
  return v;
}

/** Cuts `items` into chunks of 1..`max` elements (deterministic). */
function chunks<T>(items: T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0, k = 1; i < items.length; k = (k % max) + 1) {
    out.push(items.slice(i, i + k));
    i += k;
  }
  return out;
}

/** A list of `items` built through the load path `via`. */
function loaded(items: string[], via: Via): ListObject {
  let l: ListObject | null;
  switch (via) {
    case 'ql2': {
      const p = dumpPayload(ListObject.from(items));
      l = decode(p[0]!, p.subarray(1, p.length - 10));
      break;
    }
    case 'ql2-fill3-lzf': {
      // nodes of 3 elements, inner ones LZF-compressed (list-compress-depth 1)
      const opts: RdbSaveOptions = { ...DEFAULT_SAVE_OPTIONS, compression: true, limits: { ...DEFAULT_LIMITS, listFill: 3, listCompressDepth: 1 } };
      const p = dumpPayload(ListObject.from(items), opts);
      l = decode(p[0]!, p.subarray(1, p.length - 10));
      break;
    }
    case 'ql2-plain': {
      // PACKED nodes and PLAIN nodes (one element each) mixed, as DEBUG QUICKLIST-PACKED-THRESHOLD makes
      const nodes = chunks(items, 5);
      l = decode(C.RDB_TYPE_LIST_QUICKLIST_2, rdbBytes((w) => {
        w.len(nodes.length);
        for (let i = 0; i < nodes.length; i++) {
          const n = nodes[i]!;
          if (n.length === 1 && i % 2 === 0 && n[0]!.length > 0) {
            w.len(C.QUICKLIST_NODE_CONTAINER_PLAIN);
            w.blob(Buffer.from(n[0]!, 'latin1'));
          } else {
            w.len(C.QUICKLIST_NODE_CONTAINER_PACKED);
            w.blob(lpEncode(n));
          }
        }
      }));
      break;
    }
    case 'ql14': {
      const nodes = chunks(items, 7);
      l = decode(C.RDB_TYPE_LIST_QUICKLIST, rdbBytes((w) => {
        w.len(nodes.length);
        for (const n of nodes) w.blob(zlEncode(n));
      }));
      break;
    }
    case 'zl10':
      l = decode(C.RDB_TYPE_LIST_ZIPLIST, rdbBytes((w) => w.blob(zlEncode(items))));
      break;
    case 'list1':
      l = decode(C.RDB_TYPE_LIST, rdbBytes((w) => {
        w.len(items.length);
        for (const s of items) w.string(s);
      }));
      break;
    case 'leveldb':
      l = ListObject.fromArrayPacked(items);
      break;
  }
  assert.ok(l !== null, `empty list from ${via}`);
  return l;
}

// ---- elements -----------------------------------------------------------------------------

const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

/** Elements of every listpack and ziplist encoding, and strings that look like integers but are not. */
const element: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', '', '0', '1', '-1', '127', '128', '-4096', '4095', '32767', '-32768', '8388607', '-8388608', '2147483647', '-2147483648', '1000000000000', INT64_MAX, INT64_MIN, '9223372036854775808', '-0', '007', ' 1', 'x\r\n$3\r\n', '$1\r\n') },
  { weight: 2, arbitrary: fc.integer({ min: -(2 ** 53), max: 2 ** 53 }).map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('latin1')) },
  { weight: 2, arbitrary: fc.string({ maxLength: 70 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')) },
  { weight: 1, arbitrary: fc.constantFrom('L'.repeat(65), 'M'.repeat(200), 'N'.repeat(4097), 'O'.repeat(5000), 'P'.repeat(16384)) },
);

/** A list of one of the interesting lengths (page edges), or any short length. */
const list: fc.Arbitrary<string[]> = fc.oneof(
  fc.constantFrom(1, 2, 127, 128, 129, 255, 256, 257, 300).chain((n) => fc.array(element, { minLength: n, maxLength: n })),
  fc.array(element, { minLength: 1, maxLength: 40 }),
);

// ---- operations ---------------------------------------------------------------------------

type Op =
  | { t: 'lpush' | 'rpush'; v: string[] }
  | { t: 'lpop' | 'rpop'; n: number; count: boolean }
  | { t: 'set'; i: number; v: string }
  | { t: 'trim'; a: number; b: number }
  | { t: 'insert'; pivot: number; v: string; after: boolean }
  | { t: 'remove'; at: number; count: number }
  | { t: 'range'; a: number; b: number; rev: boolean }
  | { t: 'index'; i: number }
  | { t: 'pos'; at: number; fromTail: boolean; maxlen: number }
  | { t: 'move'; from: 'head' | 'tail'; to: 'head' | 'tail'; self: boolean }
  | { t: 'clone' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('lpush' as const, 'rpush' as const), v: fc.array(element, { minLength: 1, maxLength: 140 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constantFrom('lpop' as const, 'rpop' as const), n: fc.integer({ min: 1, max: 140 }), count: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('set' as const), i: fc.nat(400), v: element }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('trim' as const), a: fc.integer({ min: -400, max: 400 }), b: fc.integer({ min: -400, max: 400 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('insert' as const), pivot: fc.nat(400), v: element, after: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove' as const), at: fc.nat(400), count: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('range' as const), a: fc.integer({ min: -400, max: 400 }), b: fc.integer({ min: -400, max: 400 }), rev: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('index' as const), i: fc.integer({ min: -400, max: 400 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('pos' as const), at: fc.nat(400), fromTail: fc.boolean(), maxlen: fc.nat(200) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('move' as const), from: fc.constantFrom('head' as const, 'tail' as const), to: fc.constantFrom('head' as const, 'tail' as const), self: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clone' as const) }) },
);

/** Redis's index normalization: negative from the end. */
function norm(i: number, n: number): number {
  return i < 0 ? n + i : i;
}

/** An element of the model to search for: one present (picked by `at`) or, on an empty list, 'absent'. */
function pick(m: string[], at: number): string {
  return m.length === 0 ? 'absent' : m[at % m.length]!;
}

/** The pair of lists an operation works on: the loaded list and a second loaded list (LMOVE). */
interface State {
  l: ListObject;
  m: string[];
  other: ListObject;
  om: string[];
}

function apply(s: State, o: Op): void {
  const { l, m } = s;
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
    case 'rpop': {
      const head = o.t === 'lpop';
      if (!o.count) {
        // one by one, as LPOP without a count and the blocking pops do
        for (let i = 0; i < o.n; i++) assert.equal(head ? l.popHead() : l.popTail(), head ? m.shift() : m.pop());
        break;
      }
      // LPOP/RPOP key count: the reply, then a trim (popRangeReply of commands/lists.ts)
      const n = Math.min(o.n, m.length);
      if (n === 0) break;
      const len = l.length;
      const reply = head ? l.rangeReply(0, n - 1) : l.rangeReply(len - n, len - 1, true);
      const want = head ? m.splice(0, n) : m.splice(m.length - n, n).reverse();
      assert.deepEqual(parseBulks(reply), want);
      if (head) l.trim(n, 0);
      else l.trim(0, n);
      break;
    }
    case 'set':
      if (m.length > 0) {
        const i = o.i % m.length;
        l.set(i, o.v);
        m[i] = o.v;
      }
      break;
    case 'trim': {
      // LTRIM start stop (ltrimCommand's arithmetic)
      const len = m.length;
      let a = norm(o.a, len);
      let b = norm(o.b, len);
      if (a < 0) a = 0;
      let lt: number;
      let rt: number;
      if (a > b || a >= len) {
        lt = len;
        rt = 0;
      } else {
        if (b >= len) b = len - 1;
        lt = a;
        rt = len - b - 1;
      }
      l.trim(lt, rt);
      m.splice(0, lt);
      m.splice(m.length - rt, rt);
      break;
    }
    case 'insert': {
      const pivot = pick(m, o.pivot);
      const i = m.indexOf(pivot);
      assert.equal(l.insert(pivot, o.v, o.after), i >= 0);
      if (i >= 0) m.splice(i + (o.after ? 1 : 0), 0, o.v);
      break;
    }
    case 'remove': {
      const v = pick(m, o.at);
      let quota = o.count === 0 ? Infinity : Math.abs(o.count);
      const idx = o.count < 0 ? [...m.keys()].reverse() : [...m.keys()];
      const drop = new Set<number>();
      for (const i of idx) {
        if (quota > 0 && m[i] === v) {
          drop.add(i);
          quota--;
        }
      }
      assert.equal(l.remove(v, o.count), drop.size);
      const kept = m.filter((_, i) => !drop.has(i));
      m.length = 0;
      m.push(...kept);
      break;
    }
    case 'range': {
      // LRANGE start stop
      const len = m.length;
      let a = norm(o.a, len);
      let b = norm(o.b, len);
      if (a < 0) a = 0;
      if (b >= len) b = len - 1;
      if (a > b || a >= len) break;
      const want = m.slice(a, b + 1);
      assert.deepEqual(l.range(a, b), want);
      if (o.rev) want.reverse();
      assert.deepEqual(parseBulks(l.rangeReply(a, b, o.rev)), want);
      break;
    }
    case 'index': {
      const i = norm(o.i, m.length);
      if (i >= 0 && i < m.length) assert.equal(l.get(i), m[i]);
      break;
    }
    case 'pos': {
      const v = pick(m, o.at);
      const got: number[] = [];
      l.scan(v, o.fromTail, o.maxlen, (i) => {
        got.push(i);
        return true;
      });
      const want: number[] = [];
      const limit = o.maxlen > 0 ? Math.min(o.maxlen, m.length) : m.length;
      for (let k = 0; k < limit; k++) {
        const i = o.fromTail ? m.length - 1 - k : k;
        if (m[i] === v) want.push(i);
      }
      assert.deepEqual(got, want);
      break;
    }
    case 'move': {
      // LMOVE src dst from to: pop at one end, push at an end of the other list (or the same one)
      if (m.length === 0) break;
      const dst = o.self ? l : s.other;
      const dm = o.self ? m : s.om;
      const v = o.from === 'head' ? l.popHead() : l.popTail();
      assert.equal(v, o.from === 'head' ? m.shift() : m.pop());
      if (o.to === 'head') {
        dst.pushHead(v!);
        dm.unshift(v!);
      } else {
        dst.pushTail(v!);
        dm.push(v!);
      }
      break;
    }
    case 'clone': {
      const c = l.clone();
      c.check();
      assert.deepEqual(c.toArray(), m);
      // the clone is independent: changing it leaves the original alone
      if (c.length > 0) c.popHead();
      c.pushTail('clone-only');
      assert.deepEqual(l.toArray(), m);
      break;
    }
  }
}

/** Whole-list comparisons after a run. */
function same(l: ListObject, m: string[]): void {
  l.check();
  assert.equal(l.length, m.length);
  assert.deepEqual(l.toArray(), m);
  assert.deepEqual([...l], m);
  const fe: string[] = [];
  l.forEach((v) => fe.push(v));
  assert.deepEqual(fe, m);
  if (m.length > 0) {
    assert.deepEqual(parseBulks(l.rangeReply(0, m.length - 1)), m);
    assert.deepEqual(parseBulks(l.rangeReply(0, m.length - 1, true)), [...m].reverse());
  }
}

// ---- tests --------------------------------------------------------------------------------

test('every load path gives the elements in order, all pages packed (head and tail included)', () => {
  for (const via of VIAS) {
    for (const n of [1, 2, 127, 128, 129, 300, 1000]) {
      const items = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? String(i * 7919 - 5000) : i % 4 === 1 ? '' : i % 4 === 2 ? `item:${i}` : '\x00\xff\r\n' + i));
      const l = loaded(items, via);
      same(l, items);
      const st = l.stats();
      assert.equal(st.pages, Math.ceil(n / 128), `${via} ${n}: ${JSON.stringify(st)}`);
      assert.equal(st.packed, st.pages, `${via} ${n}: ${JSON.stringify(st)}`);
      assert.equal(l.encoding(), 'quicklist');
    }
  }
});

test('a quicklist of listpack nodes stays in its nodes until first used; iteration, clone and saving read them in place', () => {
  const items = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? String(i * 1000003) : `item:${i}`));
  for (const via of ['ql2', 'ql2-fill3-lzf'] as const) {
    const l = loaded(items, via);
    assert.equal(l.isPackedNodes, true, via);
    assert.equal(l.length, 300);
    assert.equal(l.encoding(), 'quicklist');
    // read-only walks (a memory sample, LevelDB's import, DEBUG DIGEST) leave the nodes as they are
    assert.deepEqual([...l], items);
    const seen: string[] = [];
    l.forEach((v) => seen.push(v));
    assert.deepEqual(seen, items);
    // saved in the nodes it was loaded with, as Redis keeps a loaded list's nodes (whatever the
    // fill of now), still unpacked after
    const ref = fileNodes(items, via);
    assert.deepEqual(dumpPayload(l), dumpPayload(ref));
    assert.deepEqual(l.quicklistNodes(-2), ref.quicklistNodes(-2));
    assert.equal(l.isPackedNodes, true);
    const c = l.clone();
    assert.equal(c.isPackedNodes, true);
    assert.equal(l.isPackedNodes, true);
    // the first use builds the pages; the clone keeps its own nodes
    assert.equal(l.get(299), items[299]);
    assert.equal(l.isPackedNodes, false);
    same(l, items);
    assert.equal(c.isPackedNodes, true);
    same(c, items);
  }
  // a PLAIN node among them, and ziplist nodes: the elements go into pages as before
  assert.equal(loaded(items, 'ql2-plain').isPackedNodes, false);
  assert.equal(loaded(items, 'ql14').isPackedNodes, false);
  // an LTRIM that drops every element before any read leaves an empty list, not the loaded nodes
  const t = loaded(['only'], 'ql2');
  t.trim(1, 0);
  assert.equal(t.length, 0);
  t.check();
  assert.deepEqual([...t], []);
});

test('integers of every listpack and ziplist encoding load as their decimal text', () => {
  const ints = ['0', '1', '12', '127', '128', '-1', '-128', '4095', '-4096', '4096', '32767', '-32768', '32768', '8388607', '-8388608', '8388608',
    '2147483647', '-2147483648', '2147483648', '9007199254740991', '-9007199254740991', '9007199254740993', INT64_MAX, INT64_MIN];
  // and strings that are not canonical integers: they stay strings
  const notInts = ['-0', '01', '+1', '1 ', '9223372036854775808', '-9223372036854775809', '1e3', '0x10'];
  const items = [...ints, ...notInts];
  for (const via of VIAS) same(loaded(items, via), items);
});

test('long elements: pages over 32 KB stay open, the others packed; both behave alike', () => {
  const big = 'B'.repeat(5000);
  const items = Array.from({ length: 300 }, (_, i) => (i < 10 ? big + i : i >= 290 ? 'C'.repeat(70000) : String(i)));
  for (const via of VIAS) {
    const l = loaded(items, via);
    same(l, items);
    const st = l.stats();
    assert.equal(st.pages, 3);
    // page 0 holds 10 x 5 KB (50 KB): open; page 1 small: packed; page 2 holds 10 x 70 KB: open
    assert.equal(st.packed, 1, `${via}: ${JSON.stringify(st)}`);
  }
});

test('loaded lists match an array model under random operations at both ends (fast-check)', () => {
  fc.assert(
    fc.property(list, fc.constantFrom(...VIAS), fc.array(op, { minLength: 1, maxLength: 25 }), (items, via, ops) => {
      const s: State = { l: loaded(items, via), m: [...items], other: loaded(['o1', '2', 'o3'], via), om: ['o1', '2', 'o3'] };
      for (const o of ops) {
        apply(s, o);
        s.l.check();
        s.other.check();
        assert.equal(s.l.length, s.m.length);
      }
      same(s.l, s.m);
      same(s.other, s.om);
    }),
    { numRuns: 250 },
  );
});

test('a packed end page opens once: later pushes and pops there leave the other pages packed', () => {
  const items = Array.from({ length: 300 }, (_, i) => 'e' + i);
  const l = loaded(items, 'ql2');
  assert.deepEqual(l.stats(), { pages: 3, packed: 3, length: 300 });
  // the tail page (44 elements) opens at the first push; the next ones go into it
  l.pushTail('t');
  assert.deepEqual(l.stats(), { pages: 3, packed: 2, length: 301 });
  l.pushTail('t2');
  assert.equal(l.popTail(), 't2');
  assert.deepEqual(l.stats(), { pages: 3, packed: 2, length: 301 });
  // the full head page opens at the first pop; a push then fits in it
  assert.equal(l.popHead(), 'e0');
  l.pushHead('h');
  assert.equal(l.popHead(), 'h');
  assert.equal(l.popHead(), 'e1');
  assert.deepEqual(l.stats(), { pages: 3, packed: 1, length: 299 });
  // a push at a full packed end page starts a new page and leaves it packed
  const f = loaded(items.slice(0, 128), 'ql2');
  f.pushHead('h');
  assert.deepEqual(f.stats(), { pages: 2, packed: 1, length: 129 });
  same(f, ['h', ...items.slice(0, 128)]);
  same(l, [...items.slice(2), 't']);
  // LTRIM / LPOP count cut packed pages without opening them
  const t = loaded(items, 'ql2');
  t.trim(5, 7);
  assert.deepEqual(t.stats(), { pages: 3, packed: 3, length: 288 });
  same(t, items.slice(5, 293));
  t.trim(130, 0);
  assert.deepEqual(t.stats(), { pages: 2, packed: 2, length: 158 });
  same(t, items.slice(135, 293));
  // reads open nothing
  const r = loaded(items, 'ql2');
  r.rangeReply(0, 299);
  r.rangeReply(0, 299, true);
  r.get(0);
  r.get(299);
  r.scan('e5', true, 0, () => true);
  assert.deepEqual(r.stats(), { pages: 3, packed: 3, length: 300 });
});

/**
 * `items` as a list that saves like one loaded `via`: in the nodes of the file for the quicklist
 * forms (a QuicklistLayout, as Redis keeps them: listpack nodes as they are, each ziplist node as
 * one listpack node); else, as pushed item by item with the fill of the save.
 */
function fileNodes(items: string[], via: Via): ListObject {
  const ref = ListObject.from(items);
  if (items.length > 0 && (via === 'ql2' || via === 'ql2-fill3-lzf')) ref.ql = QuicklistLayout.ofTailPushes(via === 'ql2' ? -2 : 3, items);
  if (items.length > 0 && via === 'ql14') {
    const nodes = chunks(items, 7);
    ref.ql = QuicklistLayout.fromNodes(DEFAULT_LIMITS.listFill, nodes.map((n) => n.length), nodes.map((n) => listpackBytesOf(n)));
  }
  if (items.length > 0 && via === 'ql2-plain') {
    // the chunks of `loaded`; when none went in a PLAIN node, the list keeps them as its nodes
    const nodes = chunks(items, 5);
    if (!nodes.some((n, i) => n.length === 1 && i % 2 === 0 && n[0]!.length > 0)) {
      ref.ql = QuicklistLayout.fromNodes(DEFAULT_LIMITS.listFill, nodes.map((n) => n.length), nodes.map((n) => listpackBytesOf(n)));
    }
  }
  return ref;
}

test('re-saved RDB bytes, AOF rewrite, quicklist nodes and clone are those of the list as loaded: its file nodes, or pushed item by item', () => {
  fc.assert(
    fc.property(list, fc.constantFrom(...VIAS), fc.constantFrom(-2, -1, 3, 128), (items, via, fill) => {
      const l = loaded(items, via);
      const ref = fileNodes(items, via);
      const opts: RdbSaveOptions = { ...DEFAULT_SAVE_OPTIONS, limits: { ...DEFAULT_LIMITS, listFill: fill } };
      assert.deepEqual(dumpPayload(l, opts), dumpPayload(ref, opts));
      assert.equal(rewriteValue('k', l), rewriteValue('k', ref));
      assert.deepEqual(l.quicklistNodes(fill), ref.quicklistNodes(fill));
      assert.ok(l.memoryUsage() > 0);
      const c = l.clone();
      c.check();
      assert.deepEqual(dumpPayload(c, opts), dumpPayload(ref, opts));
    }),
    { numRuns: 60 },
  );
});

test('the loader is reusable and reset by start(); an empty list finishes as null', () => {
  const b = listLoader();
  assert.equal(b.finish(), null);
  b.start();
  b.addString('left over');
  const c = listLoader(); // the same loader, started again
  c.addInt(-42);
  c.addInt(2n ** 63n - 1n);
  c.addBytes(Buffer.from('xyz'), 1, 2);
  const l = c.finish()!;
  same(l, ['-42', INT64_MAX, 'yz']);
  // a quicklist of empty listpacks is an empty key (rdbLoadObject skips it)
  const body = rdbBytes((w) => {
    w.len(2);
    w.len(C.QUICKLIST_NODE_CONTAINER_PACKED);
    w.blob(lpEncode([]));
    w.len(C.QUICKLIST_NODE_CONTAINER_PACKED);
    w.blob(lpEncode([]));
  });
  assert.equal(decode(C.RDB_TYPE_LIST_QUICKLIST_2, body), null);
});

test('corrupt nodes are still refused with the offset and reason, and leave the loader usable', () => {
  const lp = lpEncode(['a', 'b', '123', 'c'.repeat(100)]);
  const bad = Buffer.from(lp);
  bad[bad.length - 2] ^= 0x01; // the last back-length
  const body = rdbBytes((w) => {
    w.len(2);
    w.len(C.QUICKLIST_NODE_CONTAINER_PACKED);
    w.blob(lp);
    w.len(C.QUICKLIST_NODE_CONTAINER_PACKED);
    w.blob(bad);
  });
  assert.throws(() => decode(C.RDB_TYPE_LIST_QUICKLIST_2, body), (e: unknown) => e instanceof RdbError && /Listpack integrity check failed/.test(e.message));
  const zl = zlEncode(['a', 'b']);
  zl[zl.length - 1] = 0; // no terminator
  assert.throws(() => decode(C.RDB_TYPE_LIST_ZIPLIST, rdbBytes((w) => w.blob(zl))), (e: unknown) => e instanceof RdbError && /List ziplist integrity check failed/.test(e.message));
  // the next list loads whole, nothing of the failed one mixed in
  same(loaded(['x', 'y'], 'ql2'), ['x', 'y']);
});
