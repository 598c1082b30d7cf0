/**
 * A check of the maxmemory dataset accounting (src/keyspace/memory.ts, Database.memBytes) for
 * tests that run command sequences with maxmemory set: every database's running total equals the
 * sum of what it recorded per key, and every small collection's recorded estimate is current
 * (small ones are sampled again at every change of size; a missed re-estimate, i.e. a command
 * that changes a collection in place without Database.modified, shows up here).
 */
import assert from 'node:assert/strict';
import type { Server } from '../../src/server/server.js';
import { keyBytes, objectBytes, stringBytes, EXPIRE_ENTRY } from '../../src/keyspace/memory.js';

export function assertAccounting(server: Server, label: string): void {
  const ks = server.keyspace;
  assert.ok(ks.accounting, 'the server runs with maxmemory set');
  for (const db of ks.dbs) {
    let sum = db.expires.size * EXPIRE_ENTRY;
    for (const [k, v] of db.entries()) {
      if (typeof v === 'string') {
        sum += keyBytes(k) + stringBytes(v.length);
        continue;
      }
      sum += keyBytes(k) + v.mem;
      if (v.memCount <= 16) assert.equal(v.mem, objectBytes(v), `${label}: db ${db.id} key ${JSON.stringify(k)} (${v.type}) estimate`);
    }
    assert.equal(db.memBytes, sum, `${label}: db ${db.id} running total`);
  }
}
