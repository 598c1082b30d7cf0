import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { Snapshot } from '../../src/persistence/snapshot.js';
import { recorder, dumpNow } from '../helpers/snapshot.js';
import type { Value } from '../../src/keyspace/types/object.js';


test('a snapshot equals the keyspace at its start whatever writes, deletes, flushes and swaps follow', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3000 }), fc.string()), { minLength: 200, maxLength: 3000 }),
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('set'), db: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: 0, max: 4000 }), v: fc.string() }),
          fc.record({ op: fc.constant('del'), db: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: 0, max: 4000 }), v: fc.constant('') }),
          fc.record({ op: fc.constant('expire'), db: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: 0, max: 4000 }), v: fc.constant('') }),
          fc.record({ op: fc.constant('flush'), db: fc.integer({ min: 0, max: 2 }), k: fc.constant(0), v: fc.constant('') }),
          fc.record({ op: fc.constant('swap'), db: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: 0, max: 2 }), v: fc.constant('') }),
        ),
        { minLength: 50, maxLength: 300 },
      ),
      (initial, ops) => {
        const ks = new Keyspace(3);
        for (const [db, k, v] of initial) ks.dbs[db]!.setKey('k' + k, v, k % 7 === 0 ? 9e15 : undefined);
        const expected = dumpNow(ks);
        const r = recorder();
        const snap = new Snapshot(ks, r.format, r.sink);
        snap.start();
        let i = 0;
        while (!snap.step(0)) {
          // interleave a few mutations per slice
          for (let n = 0; n < 3 && i < ops.length; n++, i++) {
            const o = ops[i]!;
            const db = ks.dbs[o.db]!;
            if (o.op === 'set') db.setKey('k' + o.k, o.v);
            else if (o.op === 'del') db.deleteKey('k' + o.k);
            else if (o.op === 'expire') {
              if (db.exists('k' + o.k)) db.setExpire('k' + o.k, 1);
            } else if (o.op === 'flush') db.clear();
            else db.swapWith(ks.dbs[o.k]!);
          }
        }
        const got = r.out.filter((l) => !l.startsWith('DB ')).sort();
        assert.deepEqual(got, expected);
        assert.equal(ks.guard, null);
        assert.equal(ks.growthBlocked, false);
      },
    ),
    { numRuns: 60 },
  );
});

test('database headers come once per non-empty db, in order, with start-time sizes', () => {
  const ks = new Keyspace(4);
  for (let i = 0; i < 500; i++) ks.dbs[i % 2 ? 3 : 1]!.setKey('k' + i, 'v');
  ks.dbs[3]!.setExpire('k1', 9e15);
  const r = recorder();
  const snap = new Snapshot(ks, r.format, r.sink);
  snap.start();
  // force a segment of db 3 early, before the iteration reaches it
  ks.dbs[3]!.setKey('k1', 'changed');
  while (!snap.step(0));
  const headers = r.out.filter((l) => l.startsWith('DB '));
  assert.deepEqual(headers, ['DB 1 250 0', 'DB 3 250 1']);
  const db3 = r.out.slice(r.out.indexOf('DB 3 250 1') + 1);
  assert.equal(db3.length, 250);
  assert.ok(db3.includes(JSON.stringify([3, 'k1', 'v', 9e15])));
  const v: Value | undefined = ks.dbs[3]!.lookupRead('k1');
  assert.equal(v, 'changed');
});
