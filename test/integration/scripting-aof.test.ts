/**
 * Propagation of scripts to the AOF (Redis 7.0 replicates scripts by their effects): an
 * amber-server child with `appendonly yes`, `appendfsync always` runs scripts, and the incr AOF file
 * must hold the write commands they ran (in the database each ran in, wrapped in MULTI/EXEC when a
 * script made more than one, EXPIRE as PEXPIREAT, SET EX as SET PXAT, INCRBYFLOAT as SET KEEPTTL),
 * never EVAL, EVALSHA or SCRIPT themselves; reads, failed writes and writes switched off by
 * redis.set_repl add nothing. A script that fails half-way keeps (and propagates) the writes it made
 * before the error, as Redis does not roll back. After kill -9 and a restart on the same directory
 * the keyspace is what the scripts left (minus the writes kept out of the AOF).
 *
 * The expected effects are what redis-server 7.0.15 writes to its own AOF for the same scripts
 * (checked by hand with `--appendonly yes --aof-use-rdb-preamble no`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient, spawnAmber, tempDirs, keyspaceDump, type AmberChild } from '../helpers/servers.js';

const tmp = tempDirs('amber-scripting-aof-');

const DIRECTIVES = { appendonly: 'yes', appendfsync: 'always' };

/** The RESP commands in `text` (latin1); `#...` annotation lines are skipped. */
function parseCommands(text: string): string[][] {
  const out: string[][] = [];
  let p = 0;
  const line = (): string => {
    const nl = text.indexOf('\r\n', p);
    assert.ok(nl >= 0, `a complete line at offset ${p}`);
    const l = text.slice(p, nl);
    p = nl + 2;
    return l;
  };
  while (p < text.length) {
    if (text[p] === '#') {
      line();
      continue;
    }
    const head = line();
    assert.match(head, /^\*\d+$/, `a multibulk header at offset ${p}`);
    const argv: string[] = [];
    for (let i = 0, n = Number(head.slice(1)); i < n; i++) {
      const len = line();
      assert.match(len, /^\$\d+$/);
      argv.push(text.slice(p, p + Number(len.slice(1))));
      p += Number(len.slice(1)) + 2;
    }
    out.push(argv);
  }
  return out;
}

/** The incr files of the AOF in `dir`, in the manifest's order. */
function incrFiles(dir: string): string[] {
  const aofDir = join(dir, 'appendonlydir');
  const manifest = readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1');
  const files: string[] = [];
  for (const l of manifest.split('\n')) {
    const m = /^file (\S+) seq \d+ type i$/.exec(l.trim());
    if (m) files.push(join(aofDir, m[1]!));
  }
  assert.ok(files.length > 0, `an incr file in ${manifest}`);
  return files;
}

/**
 * The commands of the incr files as `db NAME args...` items (MULTI and EXEC without a db): SELECT
 * sets the db of the commands after it and is not an item itself, so a redundant SELECT does not
 * matter, only the database each write lands in. Absolute expiry times in [lo, hi] become `T`.
 */
function effects(dir: string, lo: number, hi: number): string[] {
  let db = 0;
  const out: string[] = [];
  for (const f of incrFiles(dir)) {
    if (!existsSync(f)) continue;
    for (const argv of parseCommands(readFileSync(f, 'latin1'))) {
      const name = argv[0]!.toUpperCase();
      if (name === 'SELECT') {
        db = Number(argv[1]);
        continue;
      }
      if (name === 'MULTI' || name === 'EXEC') {
        out.push(name);
        continue;
      }
      const args = argv.slice(1).map((a, i, all) => {
        const isTime = (name === 'PEXPIREAT' && i === 1) || (i > 0 && /^PXAT$/i.test(all[i - 1]!));
        if (!isTime) return a;
        assert.ok(Number(a) >= lo && Number(a) <= hi, `${name} time ${a} within [${lo}, ${hi}]`);
        return 'T';
      });
      out.push([String(db), name, ...args].join(' '));
    }
  }
  return out;
}

/** Runs commands on `c`, each followed by the effects it added to the AOF. */
function recorder(c: RawClient, dir: string, ttlMs: number): (argv: string[]) => Promise<{ reply: string; added: string[] }> {
  let seen = 0;
  return async (argv) => {
    const reply = await c.call(...argv);
    // appendfsync always: the effects are in the file before the reply
    const now = Date.now();
    const all = effects(dir, now - 60000 + ttlMs, now + ttlMs + 1000);
    const added = all.slice(seen);
    seen = all.length;
    return { reply, added };
  };
}

async function restart(dir: string, srv: AmberChild): Promise<AmberChild> {
  await srv.kill();
  return spawnAmber(dir, DIRECTIVES, srv.port);
}

test('scripts are propagated to the AOF by their effects (MULTI/EXEC, SELECT, expiries, set_repl), never as EVAL; they survive kill -9', { timeout: 120000 }, async () => {
  const dir = tmp();
  let srv = await spawnAmber(dir, DIRECTIVES);
  const c = await RawClient.connect(srv.port);
  try {
    const run = recorder(c, dir, 1000 * 1000);
    const ev = (body: string, ...args: string[]): string[] => ['EVAL', body, ...(args.length ? args : ['0'])];

    // several writes: one MULTI/EXEC block; the script's SELECT moves only the later writes
    let r = await run(ev([
      "redis.call('set','a','1')", "redis.call('incr','n')", "redis.call('select','3')", "redis.call('set','b','2')",
      "redis.call('expire','b','1000')", "redis.call('set','c','3','EX','1000')", "return redis.call('get','b')",
    ].join('\n')));
    assert.equal(r.reply, '$1\r\n2\r\n');
    assert.deepEqual(r.added, ['MULTI', '0 SET a 1', '0 INCR n', '3 SET b 2', '3 PEXPIREAT b T', '3 SET c 3 PXAT T', 'EXEC']);
    // the caller's database is still 0
    r = await run(['SET', 'caller', 'x']);
    assert.deepEqual(r.added, ['0 SET caller x']);

    // one write: no MULTI/EXEC
    r = await run(ev("redis.call('set','only','1')"));
    assert.equal(r.reply, '$-1\r\n');
    assert.deepEqual(r.added, ['0 SET only 1']);
    // INCRBYFLOAT is propagated as SET KEEPTTL, inside a script too
    r = await run(ev("return redis.call('incrbyfloat','fl','1.5')"));
    assert.equal(r.reply, '$3\r\n1.5\r\n');
    assert.deepEqual(r.added, ['0 SET fl 1.5 KEEPTTL']);

    // reads, no-op writes, failed writes, read-only scripts, SCRIPT LOAD / FLUSH: nothing
    for (const argv of [
      ev("return redis.call('get','only')"), ev("redis.call('del','nokey'); return redis.pcall('lpush','only','x')"),
      ['EVAL_RO', "return redis.call('get','only')", '0'], ev("#!lua flags=no-writes\nreturn redis.call('exists','only')"),
      ['SCRIPT', 'LOAD', "redis.call('incr','n'); redis.call('incr','n')"], ['SCRIPT', 'FLUSH'],
      ['SCRIPT', 'LOAD', "redis.call('incr','n'); redis.call('incr','n')"], ['SCRIPT', 'EXISTS', 'x'],
    ]) {
      r = await run(argv);
      assert.deepEqual(r.added, [], JSON.stringify(argv));
    }

    // EVALSHA: the effects, as for EVAL
    const load = await c.call('SCRIPT', 'LOAD', "redis.call('incr','n'); return redis.call('incr','n')");
    const sha = load.split('\r\n')[1]!;
    r = await run(['EVALSHA', sha, '0']);
    assert.equal(r.reply, ':3\r\n');
    assert.deepEqual(r.added, ['MULTI', '0 INCR n', '0 INCR n', 'EXEC']);

    // a script from another database, switching back to 0 inside; the caller stays in 5
    assert.equal(await c.call('SELECT', '5'), '+OK\r\n');
    r = await run(ev("redis.call('set','in5','1'); redis.call('select','0'); redis.call('set','in0','1')"));
    assert.deepEqual(r.added, ['MULTI', '5 SET in5 1', '0 SET in0 1', 'EXEC']);
    r = await run(['SET', 'after5', 'x']);
    assert.deepEqual(r.added, ['5 SET after5 x']);
    assert.equal(await c.call('SELECT', '0'), '+OK\r\n');

    // a script inside MULTI/EXEC: one block for the whole transaction
    assert.equal(await c.call('MULTI'), '+OK\r\n');
    assert.equal(await c.call(...ev("redis.call('set','m1','1'); redis.call('set','m2','2')")), '+QUEUED\r\n');
    assert.equal(await c.call('SET', 'z', '1'), '+QUEUED\r\n');
    r = await run(['EXEC']);
    assert.equal(r.reply, '*2\r\n$-1\r\n+OK\r\n');
    assert.deepEqual(r.added, ['MULTI', '0 SET m1 1', '0 SET m2 2', '0 SET z 1', 'EXEC']);

    // redis.set_repl: REPL_NONE writes stay out of the AOF, REPL_AOF ones go in; without replicas
    // (nor a backlog) a REPL_REPLICA write is propagated nowhere
    r = await run(ev([
      "redis.call('set','sr_a','1')", 'redis.set_repl(redis.REPL_NONE)', "redis.call('set','sr_b','2')",
      'redis.set_repl(redis.REPL_AOF)', "redis.call('set','sr_c','3')", 'redis.set_repl(redis.REPL_ALL)', "redis.call('set','sr_d','4')",
    ].join('\n')));
    assert.deepEqual(r.added, ['MULTI', '0 SET sr_a 1', '0 SET sr_c 3', '0 SET sr_d 4', 'EXEC']);
    r = await run(ev("redis.set_repl(redis.REPL_REPLICA); redis.call('set','sr_f','1'); redis.set_repl(redis.REPL_ALL); redis.call('set','sr_g','1')"));
    assert.deepEqual(r.added, ['0 SET sr_g 1']);
    r = await run(ev("redis.set_repl(redis.REPL_NONE); redis.call('set','sr_e','1')"));
    assert.deepEqual(r.added, []);

    // nothing in the file is a script command
    const all = effects(dir, 0, Number.MAX_SAFE_INTEGER);
    for (const e of all) assert.doesNotMatch(e, /^\d+ (EVAL|EVALSHA|EVAL_RO|EVALSHA_RO|SCRIPT|FUNCTION|FCALL)\b/, e);

    const before = await keyspaceDump(srv.port);
    c.close();
    srv = await restart(dir, srv);
    const after = await keyspaceDump(srv.port);
    // the keys set with REPL_NONE / REPL_REPLICA existed only in memory
    const expected = before.split('\n').filter((l) => !/"key":"sr_[bef]"/.test(l)).join('\n');
    assert.notEqual(expected, before, 'sr_b, sr_e and sr_f were there before the kill');
    assert.equal(after, expected);
    const c2 = await RawClient.connect(srv.port);
    try {
      assert.deepEqual(await c2.pipeline([['GET', 'a'], ['GET', 'n'], ['GET', 'fl'], ['GET', 'in0'], ['MGET', 'sr_a', 'sr_b', 'sr_c', 'sr_d', 'sr_e', 'sr_f', 'sr_g']]),
        ['$1\r\n1\r\n', '$1\r\n3\r\n', '$3\r\n1.5\r\n', '$1\r\n1\r\n', '*7\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n$1\r\n4\r\n$-1\r\n$-1\r\n$1\r\n1\r\n']);
      assert.deepEqual(await c2.pipeline([['SELECT', '3'], ['GET', 'b'], ['GET', 'c'], ['TTL', 'b'], ['SELECT', '5'], ['MGET', 'in5', 'after5']]).then((x) => x.map((v, i) => (i === 3 ? String(Number(v.slice(1, -2)) > 900) : v))),
        ['+OK\r\n', '$1\r\n2\r\n', '$1\r\n3\r\n', 'true', '+OK\r\n', '*2\r\n$1\r\n1\r\n$1\r\nx\r\n']);
    } finally {
      c2.close();
    }
  } finally {
    c.close();
    await srv.kill();
  }
});

test('a script failing half-way keeps and propagates the writes made before the error; they survive kill -9', { timeout: 120000 }, async () => {
  const dir = tmp();
  let srv = await spawnAmber(dir, DIRECTIVES);
  const c = await RawClient.connect(srv.port);
  try {
    const run = recorder(c, dir, 0);
    // a failing redis.call after two writes: the error is the script's reply, the writes stay
    let r = await run(['EVAL', "redis.call('set','before','1')\nredis.call('incr','cnt')\nredis.call('nosuch')\nredis.call('set','never','1')", '0']);
    assert.match(r.reply, /^-ERR Unknown Redis command called from script script: [0-9a-f]{40}, on @user_script:3\.\r\n$/);
    assert.deepEqual(r.added, ['MULTI', '0 SET before 1', '0 INCR cnt', 'EXEC']);
    // error() after one write: that write alone, no MULTI/EXEC
    r = await run(['EVAL', "redis.call('set','x1','1'); error('boom')", '0']);
    assert.match(r.reply, /^-ERR user_script:1: boom script: /);
    assert.deepEqual(r.added, ['0 SET x1 1']);
    // a runtime error in a nested function after writes to two databases
    r = await run(['EVAL', "local function f() redis.call('select','2'); redis.call('lpush','l2','a','b'); local t = nil; return t.x end\nredis.call('rpush','l0','z')\nf()", '0']);
    assert.match(r.reply, /^-ERR user_script:1: attempt to index local 't' \(a nil value\) script: /);
    assert.deepEqual(r.added, ['MULTI', '0 RPUSH l0 z', '2 LPUSH l2 a b', 'EXEC']);
    // a write refused inside a script (WRONGTYPE through redis.call) after a write
    r = await run(['EVAL', "redis.call('incr','cnt'); redis.call('lpush','before','x'); redis.call('set','never','2')", '0']);
    assert.match(r.reply, /^-WRONGTYPE Operation against a key holding the wrong kind of value script: /);
    assert.deepEqual(r.added, ['0 INCR cnt']);
    // an error before any write: nothing
    r = await run(['EVAL', "error('first')", '0']);
    assert.deepEqual(r.added, []);
    // an error reply returned (not raised) after a write: the write stays
    r = await run(['EVAL', "redis.call('set','x2','2'); return redis.error_reply('MYERR returned')", '0']);
    assert.equal(r.reply, '-MYERR returned\r\n');
    assert.deepEqual(r.added, ['0 SET x2 2']);

    const before = await keyspaceDump(srv.port);
    c.close();
    srv = await restart(dir, srv);
    assert.equal(await keyspaceDump(srv.port), before);
    const c2 = await RawClient.connect(srv.port);
    try {
      assert.deepEqual(await c2.pipeline([['MGET', 'before', 'cnt', 'x1', 'x2', 'never'], ['LRANGE', 'l0', '0', '-1'], ['SELECT', '2'], ['LRANGE', 'l2', '0', '-1']]), [
        '*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n', '*1\r\n$1\r\nz\r\n', '+OK\r\n', '*2\r\n$1\r\nb\r\n$1\r\na\r\n',
      ]);
    } finally {
      c2.close();
    }
  } finally {
    c.close();
    await srv.kill();
  }
});
