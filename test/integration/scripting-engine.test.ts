// The scripting engine's own behaviour, beyond what compat tests compare with redis-server: the
// Lua VM loaded by the first script command (the clients that need it held meanwhile, replies in
// order), an AOF written by Redis 6 with EVAL and SCRIPT LOAD in it, the expiry clock standing
// still while a script runs, and the slow-script warning.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAmber, spawnAmber, tempDirs, RawClient, type AmberChild } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

const tmp = tempDirs('amber-scripting-');

/** RESP of one command, as a client sends it. */
function resp(...argv: string[]): string {
  return `*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`;
}

describe('scripting engine', () => {
  const servers: RunningServer[] = [];
  const children: AmberChild[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    for (const c of children) await c.kill();
  });

  it('loads the VM on the first script command; held clients get their replies in order', async () => {
    const s = await startAmber();
    servers.push(s);
    const a = await RawClient.connect(s.port);
    const b = await RawClient.connect(s.port);
    try {
      const before = await a.call('INFO', 'memory');
      assert.match(before, /number_of_cached_scripts:0\r\n/);
      assert.match(before, /used_memory_vm_eval:0\r\n/);
      // two clients, each with a pipeline that starts with a script and goes on after it
      const pa = a.pipeline([['EVAL', "return redis.call('incr', KEYS[1])", '1', 'n'], ['SET', 'x', 'a'], ['GET', 'x'], ['EVAL', "return redis.call('incr', 'n')", '0']]);
      const pb = b.pipeline([['MULTI'], ['EVAL', "return redis.call('incr', 'n')", '0'], ['INCR', 'n'], ['EXEC']]);
      const [ra, rb] = await Promise.all([pa, pb]);
      assert.deepEqual(ra.slice(1, 3), ['+OK\r\n', '$1\r\na\r\n']);
      assert.deepEqual(rb.slice(0, 3), ['+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n']);
      // n went 1..4 in some interleaving of the two connections, each reply a distinct value
      const values = [ra[0], ra[3], ...(rb[3]!.match(/:\d+/g) ?? [])].map((r) => Number(/:(\d+)/.exec(r!)![1]));
      assert.deepEqual([...values].sort(), [1, 2, 3, 4]);
      const infoAfter = await a.call('INFO', 'memory');
      assert.match(infoAfter, /number_of_cached_scripts:2\r\n/);
      assert.doesNotMatch(infoAfter, /used_memory_vm_eval:0\r\n/);
    } finally {
      a.close();
      b.close();
    }
  });

  it('keeps the expiry clock still while a script runs (keys do not expire half-way)', async () => {
    const s = await startAmber();
    servers.push(s);
    const c = await RawClient.connect(s.port);
    try {
      const script =
        "redis.call('set', 'k', 'v', 'px', '5')\n" +
        "local t0 = redis.call('time')\n" +
        'local spins = 0\n' +
        'while true do\n' +
        "  local t = redis.call('time')\n" +
        '  spins = spins + 1\n' +
        '  if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 30000 or spins > 10000000 then break end\n' +
        'end\n' +
        "return {redis.call('get', 'k'), redis.call('pttl', 'k') > 0 and 1 or 0}";
      assert.equal(await c.call('EVAL', script, '0'), '*2\r\n$1\r\nv\r\n:1\r\n');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await c.call('GET', 'k'), '$-1\r\n');
    } finally {
      c.close();
    }
  });

  it('loads an AOF written by Redis 6 with EVAL and SCRIPT LOAD in it', async () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    // the legacy single-file AOF of Redis 6: scripts were propagated verbatim
    writeFileSync(join(dir, 'appendonly.aof'),
      resp('SELECT', '0') +
      resp('SCRIPT', 'LOAD', "return redis.call('set', KEYS[1], ARGV[1])") +
      resp('EVAL', "redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])", '2', 'a', 'n', 'hello') +
      resp('EVAL', "return redis.call('incr', KEYS[1])", '1', 'n'), 'latin1');
    const child = await spawnAmber(dir, { appendonly: 'yes' });
    children.push(child);
    const c = await RawClient.connect(child.port);
    try {
      assert.equal(await c.call('GET', 'a'), '$5\r\nhello\r\n');
      assert.equal(await c.call('GET', 'n'), '$1\r\n2\r\n');
      // the script SCRIPT LOAD cached is there for EVALSHA
      assert.equal(await c.call('SCRIPT', 'EXISTS', '55b22c0d0cedf3866879ce7c854970626dcef0c3'), '*1\r\n:1\r\n');
    } finally {
      c.close();
    }
  });

  it("writes a script's effects through to the LevelDB store (kill -9, restart from the store)", async () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    const directives = { leveldb: 'yes', 'leveldb-sync': 'always' };
    let child = await spawnAmber(dir, directives);
    let c = await RawClient.connect(child.port);
    const script =
      "redis.call('set', KEYS[1], ARGV[1]) redis.call('hset', KEYS[2], 'f', ARGV[1], 'g', '2') " +
      "redis.call('zadd', KEYS[3], 1.5, 'm') redis.call('pexpire', KEYS[1], 600000) redis.call('del', KEYS[4]) " +
      "redis.call('select', 3) redis.call('rpush', KEYS[5], 'a', 'b') return redis.call('llen', KEYS[5])";
    try {
      assert.equal(await c.call('SET', 'gone', 'x'), '+OK\r\n');
      assert.equal(await c.call('EVAL', script, '5', 's', 'h', 'z', 'gone', 'l', 'v1'), ':2\r\n');
    } finally {
      c.close();
    }
    await child.kill();
    child = await spawnAmber(dir, directives);
    children.push(child);
    c = await RawClient.connect(child.port);
    try {
      assert.equal(await c.call('GET', 's'), '$2\r\nv1\r\n');
      assert.match(await c.call('PTTL', 's'), /^:\d+\r\n$/);
      assert.equal(await c.call('HGET', 'h', 'f'), '$2\r\nv1\r\n');
      assert.equal(await c.call('ZSCORE', 'z', 'm'), '$3\r\n1.5\r\n');
      assert.equal(await c.call('EXISTS', 'gone'), ':0\r\n');
      assert.equal(await c.call('SELECT', '3'), '+OK\r\n');
      assert.equal(await c.call('LRANGE', 'l', '0', '-1'), '*2\r\n$1\r\na\r\n$1\r\nb\r\n');
    } finally {
      c.close();
    }
  });

  it('logs a script that runs past busy-reply-threshold, and still replies', async () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    const child = await spawnAmber(dir, { 'busy-reply-threshold': '20' });
    children.push(child);
    const c = await RawClient.connect(child.port);
    try {
      // plain Lua work (the count hook looks at the clock every 100,000 VM instructions)
      const script = "local t0 = redis.call('time') local n = 0 while true do for i = 1, 100000 do n = n + 1 end local t = redis.call('time') if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 100000 or n > 1e9 then break end end return 'done'";
      assert.equal(await c.call('EVAL', script, '0'), '$4\r\ndone\r\n');
      // the log line travels through the child's stdout pipe
      for (let i = 0; i < 100 && !/Slow script detected/.test(child.log()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(child.log(), /Slow script detected: still in execution after \d+ milliseconds/);
    } finally {
      c.close();
    }
  });
});
