/**
 * The built server's AOF rewrite with an RDB preamble: the base goes through the save worker
 * (LZF and CRC-64 off the main thread). After a kill -9 the server comes back with the keyspace
 * it had, base plus incr; redis-check-rdb accepts the base.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, spawnAmber, keyspaceDump, assertRedisCheckRdb } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'amber-aof-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('BGREWRITEAOF with an RDB preamble through the save worker: same keyspace after kill -9, a valid base', async () => {
  const directives = { appendonly: 'yes', 'aof-use-rdb-preamble': 'yes', 'auto-aof-rewrite-percentage': '0', appendfsync: 'always' };
  const child = await spawnAmber(dir, directives);
  let expected: string;
  try {
    const c = await RawClient.connect(child.port);
    const cmds: string[][] = [];
    for (let i = 0; i < 3000; i++) {
      cmds.push(['SET', `s:${i}`, 'abc'.repeat(3 + (i % 30))]);
      if (i % 10 === 0) cmds.push(['HSET', `h:${i % 50}`, `f${i}`, 'v'.repeat(i % 70)]);
      if (i % 10 === 1) cmds.push(['RPUSH', `l:${i % 20}`, `item-${i}-${'q'.repeat(i % 40)}`]);
      if (i % 10 === 2) cmds.push(['ZADD', `z:${i % 20}`, String(i / 3), `m${i}`]);
      if (i % 10 === 3) cmds.push(['SADD', `set:${i % 20}`, `member-${i}`]);
      if (i % 10 === 4) cmds.push(['PEXPIRE', `s:${i}`, '100000000']);
    }
    cmds.push(['SET', 'huge', 'z'.repeat(200000)]);
    await c.pipeline(cmds);
    assert.match(await c.call('BGREWRITEAOF'), /rewriting started/);
    let info = '';
    for (let i = 0; i < 300; i++) {
      info = await c.call('INFO', 'persistence');
      if (info.includes('aof_rewrite_in_progress:0') && !info.includes('aof_rewrite_scheduled:1')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(info, /aof_last_bgrewrite_status:ok/);
    // writes after the rewrite go to the new incr file
    await c.pipeline([['SET', 'after', 'x'.repeat(50)], ['HSET', 'h:0', 'late', '1'], ['DEL', 's:7']]);
    expected = await keyspaceDump(child.port);
    c.close();
  } finally {
    await child.kill();
  }
  const aofDir = join(dir, 'appendonlydir');
  const base = readdirSync(aofDir).find((f) => f.endsWith('.base.rdb'));
  assert.ok(base !== undefined, `no RDB base in ${readdirSync(aofDir).join(', ')}`);
  assertRedisCheckRdb(join(aofDir, base));
  const again = await spawnAmber(dir, directives);
  try {
    assert.equal(await keyspaceDump(again.port), expected);
  } finally {
    await again.kill();
  }
});
