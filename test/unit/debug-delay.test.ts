/**
 * debugDelay's arithmetic (rdb-key-save-delay, key-load-delay) and the snapshot under a save
 * delay: key by key from segment copies, still exactly the data set at its start, paced by
 * runSliced on timers and stopped promptly by an abort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { Keyspace } from '../../src/keyspace/keyspace.js';
import { Snapshot, runSliced } from '../../src/persistence/snapshot.js';
import { keyDelayUs, DelayDebt, USLEEP_SLACK_US, DELAY_QUANTUM_US } from '../../src/persistence/debug-delay.js';
import { recorder, dumpNow, Bag, showBag } from '../helpers/snapshot.js';

const show = showBag;

test('debugDelay: usec > 0 sleeps usec, 0 nothing, usec < 0 one microsecond with probability 1/-usec', () => {
  assert.equal(keyDelayUs(0), 0);
  assert.equal(keyDelayUs(250), 250 + USLEEP_SLACK_US);
  for (let i = 0; i < 100; i++) assert.equal(keyDelayUs(-1), 1 + USLEEP_SLACK_US);
  const N = 40_000;
  let sleeps = 0;
  for (let i = 0; i < N; i++) sleeps += keyDelayUs(-4) > 0 ? 1 : 0;
  assert.ok(Math.abs(sleeps / N - 0.25) < 0.02, `${sleeps} sleeps in ${N} at -4`);
  let none = 0;
  for (let i = 0; i < N; i++) none += keyDelayUs(-1_000_000);
  assert.ok(none <= 2 * (1 + USLEEP_SLACK_US));
});

test('a blocking payment sleeps the debt off and keeps what a sleep overshot', () => {
  const d = new DelayDebt();
  for (let i = 0; i < 20; i++) d.add(1000);
  assert.equal(d.us, 20 * (1000 + USLEEP_SLACK_US));
  assert.ok(d.due);
  const t0 = performance.now();
  d.paySync();
  const ms = performance.now() - t0;
  assert.ok(ms >= 20 && ms < 1000, `slept ${ms} ms`);
  assert.ok(d.us <= 0 && !d.due);
});

test('under rdb-key-save-delay a snapshot goes key by key and still equals the keyspace at its start', () => {
  const op = fc.record({ op: fc.constantFrom('set', 'push', 'del', 'expire', 'flush'), db: fc.integer({ min: 0, max: 1 }),
    k: fc.integer({ min: 0, max: 300 }), v: fc.string({ maxLength: 3 }) });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 300 }), fc.boolean(), fc.string({ maxLength: 3 })), { minLength: 50, maxLength: 400 }),
      fc.array(op, { minLength: 50, maxLength: 400 }),
      (initial, ops) => {
        const ks = new Keyspace(2);
        for (const [db, k, bag, v] of initial) ks.dbs[db]!.setKey('k' + k, bag ? new Bag([v]) : v, k % 5 === 0 ? 9e15 + k : undefined);
        const expected = dumpNow(ks, show);
        const keys = ks.dbs[0]!.size + ks.dbs[1]!.size;
        const r = recorder(show);
        const snap = new Snapshot(ks, r.format, r.sink);
        snap.keySaveDelay = 1000;
        snap.start();
        let i = 0;
        let steps = 0;
        let before = 0;
        while (!snap.step(1000)) {
          steps++;
          // a step ends once a millisecond is owed: one key at 1000 µs
          assert.equal(snap.keysWritten - before, 1);
          before = snap.keysWritten;
          assert.ok(snap.delay.due);
          snap.delay.us = 0;
          // writes between two keys of the same segment
          for (let n = 0; n < 2 && i < ops.length; n++, i++) {
            const o = ops[i]!;
            const db = ks.dbs[o.db]!;
            const key = 'k' + o.k;
            if (o.op === 'set') db.setKey(key, o.v);
            else if (o.op === 'del') db.deleteKey(key);
            else if (o.op === 'expire') {
              if (db.exists(key)) db.setExpire(key, 8e15);
            } else if (o.op === 'flush') db.clear();
            else {
              const v = db.lookupWrite(key);
              if (v instanceof Bag) {
                v.items.push(o.v);
                db.modified(key);
              }
            }
          }
        }
        assert.equal(snap.keysWritten, keys);
        assert.ok(steps >= keys - 1);
        assert.deepEqual(r.out.filter((l) => !l.startsWith('DB ')).sort(), expected);
        assert.equal(ks.guard, null);
        assert.equal(snap.retainedBytes, 0);
      },
    ),
    { numRuns: 40 },
  );
});

test('runSliced waits out rdb-key-save-delay on timers: about keys x delay, the event loop free meanwhile', async () => {
  const ks = new Keyspace(1);
  for (let i = 0; i < 200; i++) ks.dbs[0]!.setKey('k' + i, 'v');
  const r = recorder();
  const snap = new Snapshot(ks, r.format, r.sink);
  snap.keySaveDelay = 1000;
  snap.start();
  // a timer every 5 ms: it fires on time only if the event loop is not held
  let ticks = 0;
  let worstLate = 0;
  let next = performance.now() + 5;
  const timer = setInterval(() => {
    worstLate = Math.max(worstLate, performance.now() - next);
    next = performance.now() + 5;
    ticks++;
  }, 5);
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  try {
    await runSliced(snap, { paused: () => false }, { drained: async () => undefined });
  } finally {
    clearInterval(timer);
  }
  // the waits are idle time of the event loop, not a thread asleep in JavaScript
  const busy = performance.eventLoopUtilization(elu0).utilization;
  assert.ok(busy < 0.5, `the event loop was busy ${(busy * 100).toFixed(0)}% of the save`);
  const ms = performance.now() - t0;
  const expect = (200 * (1000 + USLEEP_SLACK_US)) / 1000;
  assert.ok(ms >= expect * 0.95 && ms < expect * 2.5, `${ms} ms for an expected ${expect} ms`);
  assert.ok(snap.delay.us <= 0);
  // a save that slept on the thread would let no tick through for its whole length; under a
  // loaded machine (the suite runs files in parallel) a tick may still come tens of ms late
  assert.ok(ticks >= ms / 5 / 4 && worstLate < expect / 2, `${ticks} ticks in ${ms} ms, the latest ${worstLate} ms late`);
  assert.equal(r.out.length, 201);
});

test('an abort stops a snapshot slowed to a second per key within one wait', async () => {
  const ks = new Keyspace(1);
  for (let i = 0; i < 50; i++) ks.dbs[0]!.setKey('k' + i, 'v');
  const r = recorder();
  const snap = new Snapshot(ks, r.format, r.sink);
  snap.keySaveDelay = 1_000_000;
  snap.start();
  let aborted = false;
  const run = runSliced(snap, { paused: () => false }, {
    drained: async () => undefined,
    check: () => {
      if (aborted) throw new Error('aborted');
    },
  });
  await new Promise((res) => setTimeout(res, 50));
  assert.ok(snap.delay.us > DELAY_QUANTUM_US);
  const t0 = performance.now();
  aborted = true;
  snap.abort();
  await assert.rejects(run, /aborted/);
  assert.ok(performance.now() - t0 < 100);
});
