import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { Snapshot, runSliced, snapshotShare, type SnapshotOutput } from '../../src/persistence/snapshot.js';
import { recorder, dumpNow, Bag, showBag } from '../helpers/snapshot.js';

const show = showBag;

const op = fc.oneof(
  fc.record({ op: fc.constantFrom('set', 'bag', 'push', 'del', 'expire', 'persist', 'rename', 'move', 'flush', 'swap'),
    db: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: 0, max: 120 }), k2: fc.integer({ min: 0, max: 120 }), v: fc.string({ maxLength: 4 }) }),
);

test('per-key copy-on-write: collections changed in place, renamed, moved, re-expired keep their start-time contents', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 120 }), fc.boolean(), fc.string({ maxLength: 4 })), { minLength: 50, maxLength: 400 }),
      fc.array(op, { minLength: 100, maxLength: 400 }),
      (initial, ops) => {
        const ks = new Keyspace(3);
        for (const [db, k, bag, v] of initial) {
          ks.dbs[db]!.setKey('k' + k, bag ? new Bag([v, v]) : v, k % 5 === 0 ? 9e15 + k : undefined);
        }
        const expected = dumpNow(ks, show);
        const r = recorder(show);
        const snap = new Snapshot(ks, r.format, r.sink);
        snap.start();
        let i = 0;
        while (!snap.step(0)) {
          for (let n = 0; n < 25 && i < ops.length; n++, i++) {
            const o = ops[i]!;
            const db = ks.dbs[o.db]!;
            const key = 'k' + o.k;
            switch (o.op) {
              case 'set': db.setKey(key, o.v); break;
              case 'bag': db.setKey(key, new Bag([o.v])); break;
              case 'push': {
                const v = db.lookupWrite(key);
                if (v instanceof Bag) {
                  v.items.push(o.v);
                  db.modified(key);
                }
                break;
              }
              case 'del': db.deleteKey(key); break;
              case 'expire': if (db.exists(key)) db.setExpire(key, 8e15 + o.k2); break;
              case 'persist': db.removeExpire(key); break;
              case 'rename': case 'move': {
                // the value object moves without lookupWrite, so a later in-place change of it
                // under the new name must find the preimage still referencing it
                const dst = o.op === 'move' ? ks.dbs[(o.db + 1) % 3]! : db;
                const v = db.peek(key);
                const to = 'k' + o.k2;
                if (v === undefined || (dst === db && to === key)) break;
                const t = db.getExpire(key);
                db.deleteKey(key);
                dst.setKey(to, v, t === -1 ? undefined : t);
                const again = dst.lookupWrite(to);
                if (again instanceof Bag) again.items.push('moved');
                break;
              }
              case 'flush': db.clear(); break;
              case 'swap': db.swapWith(ks.dbs[o.k % 3]!); break;
            }
          }
        }
        const got = r.out.filter((l) => !l.startsWith('DB ')).sort();
        assert.deepEqual(got, expected);
        assert.equal(ks.guard, null);
        assert.equal(ks.growthBlocked, false);
        assert.equal(snap.retainedBytes, 0);
      },
    ),
    { numRuns: 80 },
  );
});

test('a write serializes nothing early: each start-time key is serialized once, in its database', () => {
  const ks = new Keyspace(2);
  const n = 20000;
  for (let i = 0; i < n; i++) ks.dbs[i % 2]!.setKey('k' + i, 'v' + i);
  const r = recorder(show);
  const snap = new Snapshot(ks, r.format, r.sink);
  snap.start();
  // overwrite every key of db 1 before the iteration reaches it: no segment is forced
  for (let i = 1; i < n; i += 2) ks.dbs[1]!.setKey('k' + i, 'new');
  assert.equal(r.entries(), 0);
  assert.equal(r.out.length, 0);
  assert.ok(snap.retainedBytes > 0);
  while (!snap.step(0));
  assert.equal(r.entries(), n);
  const db1 = r.out.slice(r.out.indexOf(`DB 1 ${n / 2} 0`) + 1);
  assert.equal(db1.length, n / 2);
  assert.ok(db1.every((l) => JSON.parse(l)[0] === 1 && JSON.parse(l)[2] !== 'new'));
  assert.equal(snap.retainedBytes, 0);
  assert.ok(snap.forcedBytesTotal >= (n / 2) * 'v1'.length);
});

test('a collection changed in place is copied once, at its first change', () => {
  const ks = new Keyspace(1);
  for (let i = 0; i < 1000; i++) ks.dbs[0]!.setKey('k' + i, 'x');
  const bag = new Bag(['a']);
  ks.dbs[0]!.setKey('bag', bag);
  const r = recorder(show);
  const snap = new Snapshot(ks, r.format, r.sink);
  snap.start();
  for (let i = 0; i < 5; i++) {
    const v = ks.dbs[0]!.lookupWrite('bag') as Bag;
    v.items.push(String(i));
  }
  assert.equal(r.entries(), 1);
  while (!snap.step(0));
  assert.ok(r.out.includes(JSON.stringify([0, 'bag', 'bag[a]', -1])));
  assert.equal(r.entries(), 1001);
});

test('runSliced: a paused output waits for drained, the clients keep the event loop', async () => {
  const ks = new Keyspace(1);
  for (let i = 0; i < 50000; i++) ks.dbs[0]!.setKey('k' + i, 'v');
  const r = recorder(show);
  let queued = 0;
  let drains = 0;
  const output: SnapshotOutput = {
    beginDb: () => undefined,
    entry: () => {
      queued++;
    },
    raw: () => undefined,
    paused: () => queued >= 5000,
  };
  const snap = new Snapshot(ks, r.format, output);
  snap.start();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  let total = 0;
  await runSliced(snap, output, {
    drained: async () => {
      drains++;
      await new Promise((res) => setTimeout(res, 1));
      total += queued;
      queued = 0;
    },
  });
  clearInterval(timer);
  total += queued;
  assert.equal(total, 50000);
  assert.ok(drains >= 9, `drains ${drains}`);
  assert.ok(ticks > 0);
  assert.ok(snap.done);
});

test('snapshotShare: a quarter of the time, rising to all of it as memory grows 3% to 6%', () => {
  assert.equal(snapshotShare(0), 0.25);
  assert.equal(snapshotShare(-0.2), 0.25);
  assert.equal(snapshotShare(0.03), 0.25);
  assert.ok(Math.abs(snapshotShare(0.045) - 0.625) < 1e-9);
  assert.equal(snapshotShare(0.06), 1);
  assert.equal(snapshotShare(0.5), 1);
});

test('runSliced: memory growth under a busy server gives the snapshot more of the time', async () => {
  const run = async (growth: number): Promise<{ maxShare: number; workMs: number }> => {
    const ks = new Keyspace(1);
    for (let i = 0; i < 200000; i++) ks.dbs[0]!.setKey('k' + i, 'v' + i);
    const r = recorder(show);
    const snap = new Snapshot(ks, r.format, r.sink);
    snap.start();
    let reads = 0;
    // a busy server: client work between slices, and activity every turn
    const busy = setInterval(() => {
      reads++;
      const t = performance.now();
      while (performance.now() - t < 2);
    }, 0);
    let calls = 0;
    const stats = await runSliced(snap, { paused: () => false }, {
      drained: async () => undefined,
      activity: () => reads,
      rss: () => (calls++ === 0 ? 1000 : 1000 * (1 + growth)),
    });
    clearInterval(busy);
    assert.ok(snap.done);
    return stats;
  };
  const calm = await run(0);
  assert.equal(calm.maxShare, 0.25);
  const pressed = await run(0.1);
  assert.equal(pressed.maxShare, 1);
});
