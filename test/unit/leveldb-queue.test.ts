/**
 * The LevelDB engine's ordered write queue (src/persistence/leveldb/queue.ts) against a fake
 * store: one batch in flight at a time, later records grouped into the next batch, the barrier
 * BACKUP uses, `always` durability promises, and a failed batch retried, in order, before
 * anything written after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteQueue, type BatchTarget, type ChainedBatchTarget } from '../../src/persistence/leveldb/queue.js';

class FakeStore implements BatchTarget {
  /** batches as submitted: [record names, sync] */
  submitted: Array<{ names: string[]; sync: boolean }> = [];
  /** committed record names, in order */
  committed: string[] = [];
  private pending: Array<{ names: string[]; ok: () => void; fail: (e: Error) => void }> = [];
  failNext = false;

  batch(): ChainedBatchTarget {
    const names: string[] = [];
    return {
      _put: (k) => names.push(k),
      _del: (k) => names.push('-' + k),
      _write: (options) => {
        this.submitted.push({ names, sync: options.sync });
        return new Promise((resolve, reject) => {
          this.pending.push({
            names,
            ok: () => {
              this.committed.push(...names);
              resolve();
            },
            fail: reject,
          });
        });
      },
      close: async () => undefined,
    };
  }

  get inFlight(): number {
    return this.pending.length;
  }

  /** Completes the oldest in-flight batch (or fails it when failNext). */
  async complete(): Promise<void> {
    const p = this.pending.shift();
    assert.ok(p, 'a batch is in flight');
    if (this.failNext) {
      this.failNext = false;
      p.fail(new Error('IO error: disk full'));
    } else {
      p.ok();
    }
    await new Promise((r) => setImmediate(r));
  }
}

const key = (name: string): string => name;
const E = '';

function queue(store: FakeStore, policy: 'always' | 'everysec' | 'no' = 'no') {
  const events = { errors: [] as string[], recovered: 0 };
  const q = new WriteQueue(store, policy, {
    error: (m) => events.errors.push(m),
    recovered: () => events.recovered++,
    syncOp: () => [key('C'), E],
  });
  return { q, events };
}

test('one batch in flight; records of later turns go out together, in order', async () => {
  const store = new FakeStore();
  const { q } = queue(store);
  q.open.put(key('a1'), E);
  q.open.put(key('a2'), E);
  q.kick();
  q.open.put(key('b1'), E);
  q.kick();
  q.open.put(key('c1'), E);
  q.kick();
  assert.equal(store.inFlight, 1, 'a second batch waits for the first');
  await store.complete();
  assert.deepEqual(store.submitted.map((s) => s.names), [['a1', 'a2'], ['b1', 'c1']]);
  await store.complete();
  assert.deepEqual(store.committed, ['a1', 'a2', 'b1', 'c1']);
  assert.equal(q.busy, false);
  assert.equal(q.batches, 2);
  assert.equal(q.records, 4);
});

test('always: every batch is synced and durable() resolves only after its batch commits', async () => {
  const store = new FakeStore();
  const { q } = queue(store, 'always');
  assert.equal(q.durable(), undefined, 'nothing to wait for');
  q.open.put(key('a'), E);
  const d1 = q.durable()!;
  q.kick();
  let done = false;
  void d1.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  q.open.put(key('b'), E);
  const d2 = q.durable()!;
  q.kick();
  await store.complete();
  assert.equal(done, true);
  await store.complete();
  await d2;
  assert.ok(store.submitted.every((s) => s.sync));
});

test('everysec and no: durable() resolves once the batch is written (not synced); a failed batch releases its replies and is retried', async () => {
  for (const policy of ['everysec', 'no'] as const) {
    const store = new FakeStore();
    const { q, events } = queue(store, policy);
    q.open.put(key('a'), E);
    const d = q.durable();
    assert.ok(d !== undefined, `${policy}: a turn's replies wait for its batch`);
    q.kick();
    let done = false;
    void d.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, `${policy}: not before LevelDB has the batch (a kill -9 would lose it)`);
    await store.complete();
    assert.equal(done, true);
    // a failed batch: its replies go out (records kept and retried first), as Redis after a
    // failed AOF write under everysec/no
    q.open.put(key('b'), E);
    const d2 = q.durable()!;
    q.kick();
    store.failNext = true;
    await store.complete();
    await d2;
    assert.equal(events.errors.length, 1);
    q.tick(Date.now() + 2000);
    await store.complete();
    assert.deepEqual(store.committed, ['a', 'b']);
  }
  // always: a failed batch's replies are not released before a retry commits it
  const store = new FakeStore();
  const { q } = queue(store, 'always');
  q.open.put(key('a'), E);
  const d = q.durable()!;
  q.kick();
  let done = false;
  void d.then(() => (done = true));
  store.failNext = true;
  await store.complete();
  assert.equal(done, false);
  q.tick(Date.now() + 2000);
  await store.complete();
  assert.equal(done, true);
});

test('the barrier runs after every earlier record commits and before any later one', async () => {
  const store = new FakeStore();
  const { q } = queue(store);
  q.open.put(key('a'), E);
  q.kick();
  q.open.put(key('b'), E);
  let seen: string[] | null = null;
  q.atBarrier(() => {
    seen = [...store.committed];
  });
  q.open.put(key('c'), E);
  q.kick();
  await store.complete();
  assert.equal(seen, null);
  await store.complete();
  assert.deepEqual(seen, ['a', 'b']);
  await store.complete();
  assert.deepEqual(store.committed, ['a', 'b', 'c']);
  // idle queue: at once
  let now = false;
  q.atBarrier(() => (now = true));
  assert.equal(now, true);
});

test('a failed batch is reported, retried first, and recovery is reported', async () => {
  const store = new FakeStore();
  const { q, events } = queue(store);
  q.open.put(key('a'), E);
  store.failNext = true;
  q.kick();
  await store.complete();
  assert.deepEqual(events.errors, ['IO error: disk full']);
  assert.equal(q.inError, true);
  q.open.put(key('b'), E);
  q.kick();
  assert.equal(store.inFlight, 0, 'nothing is written while in error');
  q.tick(Date.now() + 5000);
  assert.equal(store.inFlight, 1);
  assert.deepEqual(store.submitted[1]!.names, ['a', 'b'], 'the failed records first, then the later ones');
  await store.complete();
  assert.equal(events.recovered, 1);
  assert.equal(q.inError, false);
  assert.deepEqual(store.committed, ['a', 'b']);
});

test('everysec: an idle store with unsynced batches is synced by the cron', async () => {
  const store = new FakeStore();
  const { q } = queue(store, 'everysec');
  q.open.put(key('a'), E);
  q.kick();
  await store.complete();
  const first = store.submitted[0]!.sync;
  q.tick(Date.now() + 2000);
  if (!first) {
    assert.equal(store.inFlight, 1);
    assert.deepEqual(store.submitted[1], { names: ['C'], sync: true });
    await store.complete();
  }
  await q.drain(false);
});
