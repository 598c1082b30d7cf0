/**
 * A check of the maxmemory dataset accounting (src/keyspace/memory.ts, Database.memBytes) for
 * tests that run command sequences with maxmemory set: every database's running total equals the
 * sum of what it recorded per key, and every collection's recorded estimate is current: exactly
 * for small ones (sampled again at every change of size), within 1/16 for big ones (sampled again
 * once their size moved by 1/16). A missed re-estimate, i.e. a command that changes a collection
 * in place without Database.modified, shows up here.
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
      const fresh = objectBytes(v);
      const what = `${label}: db ${db.id} key ${JSON.stringify(k)} (${v.type}) estimate`;
      if (v.memCount <= 16) assert.equal(v.mem, fresh, what);
      else assert.ok(Math.abs(v.mem - fresh) <= fresh / 16, `${what}: ${v.mem} vs ${fresh}`);
    }
    assert.equal(db.memBytes, sum, `${label}: db ${db.id} running total`);
  }
}
