/**
 * A check of the maxmemory dataset accounting (src/keyspace/memory.ts, Database.memBytes) for
 * tests that run command sequences with maxmemory set: every database's running total equals the
 * sum of what it recorded per key, and every collection's recorded estimate is current: exactly
 * for small ones (sampled again at every change of size) and for those still in a load's packed
 * form; for big ones (sampled again once their size moved by 1/16), the size they were sampled at
 * is within 1/16 of their size now (the estimate itself may move by more than 1/16 between
 * samples: its first elements, the sample, change as well). A missed re-estimate, i.e. a command
 * that changes a collection in place without Database.modified, shows up here.
 */
import assert from 'node:assert/strict';
import type { Server } from '../../src/server/server.js';
import { keyBytes, objectBytes, stringBytes, elementCount, EXPIRE_ENTRY } from '../../src/keyspace/memory.js';

export function assertAccounting(server: Server, label: string): void {
  const ks = server.keyspace;
  assert.ok(ks.accounting, 'the server runs with maxmemory set');
  // what every reader of the count (datasetBytes) does first: values looked up in an RDB load's
  // packed form are estimated again once their first use unpacked them
  ks.settlePacked();
  for (const db of ks.dbs) {
    let sum = db.expires.size * EXPIRE_ENTRY;
    for (const [k, v] of db.entries()) {
      if (typeof v === 'string') {
        sum += keyBytes(k) + stringBytes(v.length);
        continue;
      }
      sum += keyBytes(k) + v.mem;
      const what = `${label}: db ${db.id} key ${JSON.stringify(k)} (${v.type}) estimate`;
      if (v.memCount <= 16) {
        assert.equal(v.mem, objectBytes(v), what);
      } else {
        const n = elementCount(v);
        assert.ok(Math.abs(n - v.memCount) * 16 < v.memCount, `${what}: sampled at ${v.memCount} elements, ${n} now`);
      }
    }
    assert.equal(db.memBytes, sum, `${label}: db ${db.id} running total`);
  }
}
