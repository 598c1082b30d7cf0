import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { checkRdb } from '../../src/bin/amber-check-rdb.js';
import { fixturesDir } from '../helpers/servers.js';

const FIX = fixturesDir();
const skip = FIX === null && 'fixtures folder ../shared/fixtures absent';

function run(path: string, opts: { dump?: boolean } = {}): { ok: boolean; out: string[] } {
  const out: string[] = [];
  const ok = checkRdb(path, opts, (l) => out.push(l));
  return { ok, out };
}

test('amber-check-rdb on a valid file: aux fields, databases, checksum, summary per db and type', { skip }, () => {
  const { ok, out } = run(join(FIX!, 'redis-7.0.15', 'dump.rdb'));
  assert.ok(ok);
  assert.ok(out.includes("[offset 27] AUX FIELD redis-ver = '7.0.15'"));
  assert.ok(out.includes('[offset 82] Selecting DB ID 0'));
  assert.ok(out.includes('[offset 95655] Checksum OK'));
  assert.ok(out.includes('[offset 95655] \\o/ RDB looks OK! \\o/'));
  assert.ok(out.includes('[info] RDB version 10'));
  assert.ok(out.includes('[info] 34 keys read'));
  assert.ok(out.includes('[info] 2 expires'));
  assert.ok(out.includes('[info] db 0: 31 keys (hash 3, list 4, set 4, stream 2, string 13, zset 5)'));
  assert.ok(out.includes('[info] db 15: 1 keys (list 1)'));
});

test('amber-check-rdb reports the first error with its offset, as redis-check-rdb does', { skip }, () => {
  const { ok, out } = run(join(FIX!, 'redis-test-assets', 'corrupt_ziplist.rdb'));
  assert.ok(!ok);
  const i = out.indexOf('--- RDB ERROR DETECTED ---');
  assert.ok(i > 0);
  assert.deepEqual(out.slice(i + 1, i + 5), [
    '[offset 488] Hash ziplist integrity check failed.',
    '[additional info] While doing: read-object-value',
    "[additional info] Reading key 'key:000000000091'",
    '[additional info] Reading type 13 (hash-ziplist)',
  ]);
  assert.ok(out.includes('[info] 16 keys read'));
  const dir = mkdtempSync(join(tmpdir(), 'amber-check-'));
  try {
    const trunc = join(dir, 't.rdb');
    writeFileSync(trunc, readFileSync(join(FIX!, 'redis-7.0.15', 'dump.rdb')).subarray(0, 50000));
    const r = run(trunc);
    assert.ok(!r.ok);
    assert.ok(r.out.includes('[offset 41922] Unexpected EOF reading RDB file'));
    assert.ok(r.out.includes('[info] 29 keys read'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('amber-check-rdb --dump prints the keys as keyspace-dump lines', { skip }, () => {
  const { ok, out } = run(join(FIX!, 'redis-test-assets', 'hash-zipmap.rdb'), { dump: true });
  assert.ok(ok);
  assert.equal(out[out.length - 1], readFileSync(join(FIX!, 'redis-test-assets', 'hash-zipmap.expected.jsonl'), 'utf8').trim());
});
