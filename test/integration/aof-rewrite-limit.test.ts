/**
 * aofRewriteLimited: after three consecutive failed rewrites, the automatic rewrite backs off
 * (1, 2, 4... up to 60 minutes) while growth keeps asking for one; a BGREWRITEAOF from a user is
 * not limited, and its success resets the failure count. The rewrites fail because a directory
 * stands where the rewrite's temp file must be created.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAmber, RawClient } from '../helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'amber-aof-limit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const field = (info: string, name: string): string => new RegExp(`\\r\\n${name}:([^\\r]*)\\r\\n`).exec(info)?.[1] ?? '';

async function waitRewriteDone(c: RawClient): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const info = await c.call('INFO', 'persistence');
    if (field(info, 'aof_rewrite_in_progress') === '0' && field(info, 'aof_rewrite_scheduled') === '0') return info;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the rewrite did not end in 10 s');
}

test('three failed rewrites make the automatic rewrite back off; BGREWRITEAOF is not limited', async () => {
  const amber = await startAmber({ dir, appendonly: 'yes', save: '' });
  const c = await RawClient.connect(amber.port);
  // the temp file of an in-process server's rewrite is named after this process
  const blocker = join(dir, `temp-rewriteaof-bg-${process.pid}.aof`);
  try {
    await waitRewriteDone(c);
    mkdirSync(blocker);
    for (let n = 1; n <= 3; n++) {
      assert.match(await c.call('BGREWRITEAOF'), /^\+Background append only file rewriting/);
      const info = await waitRewriteDone(c);
      assert.equal(field(info, 'aof_last_bgrewrite_status'), 'err');
      assert.equal(field(info, 'aof_rewrites_consecutive_failures'), String(n));
    }
    const rewrites = field(await c.call('INFO', 'persistence'), 'aof_rewrites');
    // growth that asks for an automatic rewrite at every cron tick
    await c.call('CONFIG', 'SET', 'auto-aof-rewrite-min-size', '0', 'auto-aof-rewrite-percentage', '1');
    for (let i = 0; i < 200; i++) await c.call('SET', `k${i}`, 'x'.repeat(100));
    await new Promise((r) => setTimeout(r, 1000)); // ten cron ticks at hz 10
    const limited = await c.call('INFO', 'persistence');
    assert.equal(field(limited, 'aof_rewrite_in_progress'), '0');
    assert.equal(field(limited, 'aof_rewrites_consecutive_failures'), '3', 'an automatic rewrite ran despite the back-off');
    assert.equal(field(limited, 'aof_rewrites'), rewrites);
    // the user's BGREWRITEAOF still runs; once it succeeds the count is reset
    rmSync(blocker, { recursive: true });
    assert.match(await c.call('BGREWRITEAOF'), /^\+Background append only file rewriting/);
    const ok = await waitRewriteDone(c);
    assert.equal(field(ok, 'aof_last_bgrewrite_status'), 'ok');
    assert.equal(field(ok, 'aof_rewrites_consecutive_failures'), '0');
    assert.equal(await c.call('GET', 'k199'), `$100\r\n${'x'.repeat(100)}\r\n`);
  } finally {
    c.close();
    await amber.close();
  }
});
