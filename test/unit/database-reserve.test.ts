/**
 * Database.reserve (RESIZEDB at load): a table sized up front must behave as one grown by splits:
 * every key found, SCAN returns each key once, and growth goes on past the reserved size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyspace } from '../../src/keyspace/keyspace.js';

function scanAll(db: Keyspace['dbs'][number]): string[] {
  const seen: string[] = [];
  let cursor = 0n;
  do cursor = db.scanStep(cursor, (k) => seen.push(k));
  while (cursor !== 0n);
  return seen;
}

for (const hint of [0, 1, 33, 1000, 12345, 100000]) {
  test(`reserve(${hint}) then fill past it: lookups and SCAN as without`, () => {
    const ks = new Keyspace(1);
    const db = ks.dbs[0]!;
    db.reserve(hint);
    const segs = db.segments.length;
    assert.equal(segs, Math.max(1, Math.ceil(hint / 32)));
    const n = hint * 2 + 50;
    for (let i = 0; i < n; i++) db.setKey(`key:${i}`, `v${i}`);
    assert.equal(db.size, n);
    for (let i = 0; i < n; i += 7) assert.equal(db.peek(`key:${i}`), `v${i}`);
    const seen = scanAll(db);
    assert.equal(seen.length, n);
    assert.equal(new Set(seen).size, n);
    assert.ok(db.segments.length >= segs);
  });
}

test('reserve does nothing on a database that holds keys', () => {
  const ks = new Keyspace(1);
  const db = ks.dbs[0]!;
  db.setKey('a', '1');
  db.reserve(100000);
  assert.equal(db.segments.length, 1);
  assert.equal(db.peek('a'), '1');
});

test('loadKey: adds without dirty, notifications or signals; reports duplicates; TTLs as given', () => {
  const ks = new Keyspace(1);
  const db = ks.dbs[0]!;
  const signals: string[] = [];
  ks.onKeyModified((_db, key) => signals.push(key));
  const events: string[] = [];
  ks.notifier = (_type, event, key) => events.push(`${event} ${key}`);
  db.reserve(5000);
  assert.ok(db.lruTable.length >= 5000, `lru table ${db.lruTable.length}`);
  for (let i = 0; i < 5000; i++) assert.equal(db.loadKey(`k${i}`, `v${i}`, i % 2 ? 9e15 : -1), true);
  assert.equal(db.size, 5000);
  assert.equal(ks.dirty, 0);
  assert.deepEqual(signals, []);
  assert.deepEqual(events, []);
  assert.equal(db.getExpire('k1'), 9e15);
  assert.equal(db.getExpire('k2'), -1);
  // a duplicate replaces value and TTL, and says so
  assert.equal(db.loadKey('k1', 'again', -1), false);
  assert.equal(db.peek('k1'), 'again');
  assert.equal(db.getExpire('k1'), -1);
  assert.equal(db.size, 5000);
});
