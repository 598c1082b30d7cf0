import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ZSet, ZADD_IN_GT, ZADD_IN_INCR, ZADD_IN_LT, ZADD_IN_NX, ZADD_IN_XX, ZADD_OUT_ADDED, ZADD_OUT_NAN,
  ZADD_OUT_NOP, ZADD_OUT_UPDATED, cmpKey, type LexRange, type ScoreRange,
} from '../../src/keyspace/types/zset.js';

const BIG = { entries: 128, value: 64 };

/** The model: a sorted array of [score, member]. */
type Model = Array<[number, string]>;

function modelSort(m: Model): void {
  m.sort((a, b) => cmpKey(a[0], a[1], b[0], b[1]));
}

function contents(z: ZSet): Model {
  const out: Model = [];
  z.forEach((m, s) => out.push([s, m]));
  return out;
}

const member = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'aa', 'ab', '', 'z', '\xff', '\x00'),
  fc.string({ maxLength: 4 }).map((s) => Buffer.from(s, 'utf8').toString('latin1')),
  fc.integer({ min: 0, max: 400 }).map((i) => 'm' + i),
);
const score = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(Infinity, -Infinity, 0.5, -0.5, 1e300),
  fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
);

type Op =
  | { t: 'add'; s: number; m: string }
  | { t: 'rem'; m: string }
  | { t: 'remrank'; a: number; b: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('add' as const), s: score, m: member }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('rem' as const), m: member }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remrank' as const), a: fc.integer({ min: 0, max: 300 }), b: fc.integer({ min: 0, max: 40 }) }) },
);

function checkAgainst(z: ZSet, model: Model): void {
  z.check();
  assert.equal(z.size, model.length);
  assert.deepEqual(contents(z), model);
  for (let r = 0; r < model.length; r += Math.max(1, model.length >> 4)) {
    const [s, m] = model[r]!;
    assert.equal(z.memberAt(r), m);
    assert.ok(Object.is(z.scoreAt(r), s));
    assert.equal(z.rank(m, false), r);
    assert.equal(z.rank(m, true), model.length - 1 - r);
    assert.ok(Object.is(z.score(m), s));
  }
}

function applyOps(z: ZSet, model: Model, ops: Op[]): void {
  for (const o of ops) {
    if (o.t === 'add') {
      const i = model.findIndex((e) => e[1] === o.m);
      const f = z.add(o.s, o.m, 0, BIG);
      if (i >= 0) {
        const changed = o.s !== model[i]![0];
        assert.equal(f, changed ? ZADD_OUT_UPDATED : 0);
        // a listpack stores -0 as 0, for an update as for an insert (updateScore)
        if (changed) model[i]![0] = z.listpack && o.s === 0 ? 0 : o.s;
      } else {
        assert.equal(f, ZADD_OUT_ADDED);
        model.push([z.listpack && o.s === 0 ? 0 : o.s, o.m]);
      }
      modelSort(model);
    } else if (o.t === 'rem') {
      const i = model.findIndex((e) => e[1] === o.m);
      assert.equal(z.remove(o.m), i >= 0);
      if (i >= 0) model.splice(i, 1);
    } else if (model.length > 0) {
      const a = o.a % model.length;
      const b = Math.min(model.length - 1, a + o.b);
      assert.equal(z.deleteRangeByRank(a, b), b - a + 1);
      model.splice(a, b - a + 1);
    }
  }
}

test('B+tree against a sorted-array model (both encodings)', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.boolean(), (ops, lp) => {
      const z = new ZSet(lp);
      const model: Model = [];
      applyOps(z, model, ops);
      checkAgainst(z, model);
    }),
    { numRuns: 150 },
  );
});

test('large sets keep counts, ranks and bounds through splits and merges', () => {
  const z = new ZSet(false);
  const model: Model = [];
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 20000; i++) {
    const m = 'k' + rnd(8000);
    const s = rnd(50) - 25;
    const j = model.findIndex((e) => e[1] === m);
    if (rnd(3) === 0) {
      z.remove(m);
      if (j >= 0) model.splice(j, 1);
    } else {
      z.add(s, m, 0, BIG);
      if (j >= 0) model[j]![0] = s;
      else model.push([s, m]);
    }
  }
  modelSort(model);
  checkAgainst(z, model);
  // delete most of it by rank, then by member
  z.deleteRangeByRank(100, model.length - 100);
  model.splice(100, model.length - 199);
  checkAgainst(z, model);
  for (const [, m] of model.slice(0, 150)) z.remove(m);
  model.splice(0, 150);
  checkAgainst(z, model);
});

test('score range queries match a linear scan', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: -20, max: 20 }), member), { maxLength: 300 }),
      fc.integer({ min: -22, max: 22 }), fc.integer({ min: -22, max: 22 }), fc.boolean(), fc.boolean(),
      (items, a, b, minex, maxex) => {
        const z = new ZSet(false);
        for (const [s, m] of items) z.add(s, m, 0, BIG);
        const model = contents(z);
        const r: ScoreRange = { min: a, max: b, minex, maxex };
        const inR = (s: number): boolean => (minex ? s > a : s >= a) && (maxex ? s < b : s <= b);
        const first = model.findIndex((e) => inR(e[0]));
        let last = -1;
        for (let i = model.length - 1; i >= 0; i--) if (inR(model[i]![0])) { last = i; break; }
        assert.equal(z.firstInRange(r), first);
        assert.equal(z.lastInRange(r), last);
      },
    ),
    { numRuns: 200 },
  );
});

test('lex range queries on equal scores match a linear scan', () => {
  const bound = fc.oneof(
    fc.constant({ s: '', inf: -1 as const, ex: true }),
    fc.constant({ s: '', inf: 1 as const, ex: true }),
    fc.record({ s: member, inf: fc.constant(0 as const), ex: fc.boolean() }),
  );
  fc.assert(
    fc.property(fc.array(member, { maxLength: 300 }), bound, bound, fc.boolean(), (ms, lo, hi, lp) => {
      const z = new ZSet(lp);
      for (const m of ms) z.add(0, m, 0, { entries: 100000, value: 100 });
      const model = contents(z).map((e) => e[1]);
      const r: LexRange = { min: lo.s, max: hi.s, minex: lo.ex, maxex: hi.ex, minInf: lo.inf, maxInf: hi.inf };
      const gte = (m: string): boolean => lo.inf === -1 || (lo.inf === 0 && (lo.ex ? m > lo.s : m >= lo.s));
      const lte = (m: string): boolean => hi.inf === 1 || (hi.inf === 0 && (hi.ex ? m < hi.s : m <= hi.s));
      const first = model.findIndex((m) => gte(m) && lte(m));
      let last = -1;
      for (let i = model.length - 1; i >= 0; i--) if (gte(model[i]!) && lte(model[i]!)) { last = i; break; }
      assert.equal(z.firstInLexRange(r), first);
      assert.equal(z.lastInLexRange(r), last);
    }),
    { numRuns: 200 },
  );
});

test('zsetAdd flags: NX, XX, GT, LT, INCR, NaN', () => {
  const z = new ZSet(true);
  assert.equal(z.add(1, 'a', ZADD_IN_XX, BIG), ZADD_OUT_NOP);
  assert.equal(z.add(1, 'a', ZADD_IN_NX, BIG), ZADD_OUT_ADDED);
  assert.equal(z.add(5, 'a', ZADD_IN_NX, BIG), ZADD_OUT_NOP);
  assert.equal(z.add(0, 'a', ZADD_IN_GT, BIG), ZADD_OUT_NOP);
  assert.equal(z.add(3, 'a', ZADD_IN_GT, BIG), ZADD_OUT_UPDATED);
  assert.equal(z.add(4, 'a', ZADD_IN_LT, BIG), ZADD_OUT_NOP);
  assert.equal(z.add(2, 'a', ZADD_IN_LT | ZADD_IN_INCR, BIG), ZADD_OUT_NOP);
  assert.equal(z.add(-2, 'a', ZADD_IN_LT | ZADD_IN_INCR, BIG), ZADD_OUT_UPDATED);
  assert.equal(z.lastScore, 1);
  assert.equal(z.add(Infinity, 'a', ZADD_IN_INCR, BIG), ZADD_OUT_UPDATED);
  assert.equal(z.add(-Infinity, 'a', ZADD_IN_INCR, BIG), ZADD_OUT_NAN);
  assert.equal(z.score('a'), Infinity);
  assert.equal(z.add(NaN, 'b', 0, BIG), ZADD_OUT_NAN);
  assert.equal(z.size, 1);
});

test('encoding follows zset-max-listpack-entries/value and never goes back', () => {
  const z = new ZSet(true);
  const lim = { entries: 3, value: 5 };
  for (const m of ['a', 'b', 'c']) z.add(1, m, 0, lim);
  assert.equal(z.encoding(), 'listpack');
  z.add(1, 'd', 0, lim);
  assert.equal(z.encoding(), 'skiplist');
  z.remove('d');
  z.remove('c');
  assert.equal(z.encoding(), 'skiplist');
  const y = new ZSet(true);
  y.add(1, 'abcdef', 0, lim);
  assert.equal(y.encoding(), 'skiplist');
  const w = new ZSet(true);
  w.add(-0, 'x', 0, lim);
  assert.ok(Object.is(w.score('x'), 0), 'a listpack stores -0 as 0');
  w.convertToSkiplist();
  w.add(-0, 'y', 0, lim);
  assert.ok(Object.is(w.score('y'), -0));
  const c = w.clone();
  assert.equal(c.encoding(), 'skiplist');
  assert.deepEqual(contents(c), contents(w));
  const f = new ZSet(false);
  f.add(1, 'a', 0, lim);
  f.convertToListpackIfFits(lim);
  assert.equal(f.encoding(), 'listpack');
});

test('ScoreDict scan visits every member across growth', () => {
  const z = new ZSet(false);
  for (let i = 0; i < 3000; i++) z.add(i, 'm' + i, 0, BIG);
  const seen = new Set<string>();
  let cursor = 0;
  let steps = 0;
  do {
    cursor = z.dict!.scanStep(cursor, (m) => seen.add(m));
    // grow while scanning: members present from the start must still all be seen
    if (steps++ < 20) for (let k = 0; k < 200; k++) z.add(0, `n${steps}_${k}`, 0, BIG);
  } while (cursor !== 0);
  for (let i = 0; i < 3000; i++) assert.ok(seen.has('m' + i), 'm' + i);
});

test('bulkLoad and large rank deletions rebuild a valid tree', () => {
  for (const n of [0, 1, 47, 48, 49, 3000, 5000]) {
    for (const lp of [false, true]) {
      const z = new ZSet(lp);
      const ms: string[] = [];
      const ss: number[] = [];
      for (let i = 0; i < n; i++) {
        ms.push('m' + String(i).padStart(5, '0'));
        ss.push(Math.floor(i / 3));
      }
      z.bulkLoad(ms, ss);
      z.check();
      assert.equal(z.size, n);
      const c = z.clone();
      c.check();
      assert.deepEqual(contents(c), contents(z));
      if (n > 1000) {
        z.deleteRangeByRank(100, n - 200);
        z.check();
        assert.equal(z.size, 299);
        assert.equal(z.memberAt(100), ms[n - 199]);
        z.add(-1, 'new', 0, BIG);
        z.remove(ms[0]!);
        z.check();
      }
    }
  }
});
