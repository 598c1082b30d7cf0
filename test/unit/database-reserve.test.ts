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
