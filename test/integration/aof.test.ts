import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, cpSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, spawnAmber, keyspaceDump, fixturesDir, CI,
} from '../helpers/servers.js';
import { AofWriter } from '../../src/persistence/aof/writer.js';
import { AofManifest } from '../../src/persistence/aof/manifest.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'amber-aof-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A mixed workload touching every type the build has, with TTLs, db changes and a transaction. */
const WORKLOAD: string[][] = [
  ['SET', 'str', 'hello'], ['SET', 'bin', '\x00\xff\r\n'], ['INCR', 'counter'], ['INCRBY', 'counter', '41'],
  ['SET', 'ttl', 'v', 'EX', '1000'], ['INCRBYFLOAT', 'float', '10.5'], ['APPEND', 'str', ' world'],
  ['RPUSH', 'list', 'a', 'b', 'c'], ['LPUSH', 'list', 'z'], ['HSET', 'hash', 'f1', 'v1', 'f2', 'v2'],
  ['SADD', 'set', 'x', 'y', '1'], ['ZADD', 'zset', '1.5', 'a', '-inf', 'b', '3', 'c'],
  ['SELECT', '2'], ['SET', 'db2key', 'v'], ['SELECT', '0'],
  ['MULTI'], ['SET', 'tx1', '1'], ['INCR', 'tx1'], ['EXEC'],
  ['DEL', 'str'], ['EXPIRE', 'list', '5000'], ['SET', 'gone', 'x', 'PX', '1'],
];

async function runWorkload(port: number, cmds = WORKLOAD): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (const cmd of cmds) await c.call(...cmd);
  } finally {
    c.close();
  }
}

for (const preamble of ['no', 'yes']) {
  test(`AOF (rdb preamble ${preamble}) survives restart with rewrites in between`, async (t) => {
    const dir = tmp();
    const directives = { dir, appendonly: 'yes', 'aof-use-rdb-preamble': preamble, appendfsync: 'always' };
    let s;
    try {
      s = await startAmber(directives);
    } catch (e) {
      if (!CI && /RDB encoder is not available/.test((e as Error).message)) {
        t.skip('RDB encoder not available for the preamble yet');
        return;
      }
      throw e;
    }
    await runWorkload(s.port, WORKLOAD.slice(0, 12));
    const c = await RawClient.connect(s.port);
    const r = await c.call('BGREWRITEAOF');
    assert.equal(r, '+Background append only file rewriting started\r\n');
    for (let i = 0; i < 50 && (await c.call('INFO', 'persistence')).includes('aof_rewrite_in_progress:1'); i++) await new Promise((x) => setTimeout(x, 20));
    c.close();
    await runWorkload(s.port, WORKLOAD.slice(12));
    await new Promise((x) => setTimeout(x, 5));
    const before = await keyspaceDump(s.port);
    await s.close();
    const files = readdirSync(join(dir, 'appendonlydir')).sort();
    assert.deepEqual(files, [`appendonly.aof.2.base.${preamble === 'yes' ? 'rdb' : 'aof'}`, 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
    s = await startAmber(directives);
    await s.server.startup();
    assert.equal(await keyspaceDump(s.port), before);
    await s.close();
  });
}

test('a torn last command is cut at every byte offset; garbage in the middle is refused', async () => {
  const dir = tmp();
  const directives = { dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no' };
  const s = await startAmber(directives);
  await s.server.startup();
  await runWorkload(s.port, [['SET', 'a', '1'], ['SET', 'b', '2'], ['RPUSH', 'l', 'x', 'y']]);
  const before = await keyspaceDump(s.port);
  await runWorkload(s.port, [['SET', 'last', 'command-value']]);
  await s.close();
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  const full = readFileSync(incr);
  const lastCmd = Buffer.from('*3\r\n$3\r\nSET\r\n$4\r\nlast\r\n$13\r\ncommand-value\r\n', 'latin1');
  const start = full.length - lastCmd.length;
  assert.ok(full.subarray(start).equals(lastCmd));
  for (let cut = start; cut < full.length; cut++) {
    writeFileSync(incr, full.subarray(0, cut));
    const s2 = await startAmber(directives);
    await s2.server.startup();
    assert.equal(await keyspaceDump(s2.port), before, `cut at ${cut}`);
    await s2.close();
    assert.equal(statSync(incr).size, start, 'file truncated at the last complete command');
  }
  // garbage in the middle: refused with the offset, nothing served from a half-loaded dataset
  writeFileSync(incr, Buffer.concat([full.subarray(0, 20), Buffer.from('garbage!'), full.subarray(20)]));
  await assert.rejects(() => startAmber(directives), /Bad file format reading the append only file .*offset/s);
});

test('an unfinished MULTI at the end is rolled back', async () => {
  const dir = tmp();
  const directives = { dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no' };
  const s = await startAmber(directives);
  await s.server.startup();
  await runWorkload(s.port, [['SET', 'a', '1']]);
  await s.close();
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  writeFileSync(incr, readFileSync(incr, 'latin1') + '*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n', 'latin1');
  const s2 = await startAmber(directives);
  await s2.server.startup();
  const c = await RawClient.connect(s2.port);
  assert.deepEqual(await c.pipeline([['GET', 'a'], ['EXISTS', 'b']]), ['$1\r\n1\r\n', ':0\r\n']);
  c.close();
  await s2.close();
});

test('the manifest grammar round-trips and rejects what Redis rejects', () => {
  const text = 'file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n';
  assert.equal(AofManifest.parse(text, 'm').format(), text);
  const m = AofManifest.parse('# comment\nfile "a b" seq 1 type b newkey x\n', 'm');
  assert.equal(m.format(), 'file "a b" seq 1 type b\n');
  assert.throws(() => AofManifest.parse('', 'm'), /Found an empty AOF manifest/);
  assert.throws(() => AofManifest.parse('file x seq 1\n', 'm'), /Invalid AOF manifest file format/);
  assert.throws(() => AofManifest.parse('file ../x seq 1 type b\n', 'm'), /can't be a path/);
  assert.throws(() => AofManifest.parse('file a seq 2 type i\nfile b seq 1 type i\n', 'm'), /non-monotonic/);
  assert.throws(() => AofManifest.parse('file a seq 1 type b\nfile b seq 2 type b\n', 'm'), /duplicate base/);
  assert.throws(() => AofManifest.parse('file a seq 1 type x\n', 'm'), /Unknown AOF file type/);
});

test('disk errors: writes get MISCONF while the disk fails and are accepted again after', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no', appendfsync: 'everysec' });
  await s.server.startup();
  const c = await RawClient.connect(s.port);
  assert.equal(await c.call('SET', 'ok1', 'v'), '+OK\r\n');
  let failing = true;
  AofWriter.faultInjector = () => (failing ? Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }) : null);
  try {
    await c.call('SET', 'during', 'v'); // executed; its effect is kept in the buffer for retry
    await new Promise((x) => setTimeout(x, 30));
    assert.equal(await c.call('SET', 'refused', 'v'), '-MISCONF Errors writing to the AOF file: No space left on device\r\n');
    assert.match(await c.call('INFO', 'persistence'), /aof_last_write_status:err/);
    failing = false;
    for (let i = 0; i < 40 && (await c.call('SET', 'probe', 'v')).startsWith('-MISCONF'); i++) await new Promise((x) => setTimeout(x, 100));
    assert.equal(await c.call('SET', 'after', 'v'), '+OK\r\n');
    assert.match(await c.call('INFO', 'persistence'), /aof_last_write_status:ok/);
  } finally {
    AofWriter.faultInjector = null;
    c.close();
    await s.close();
  }
  const s2 = await startAmber({ dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no' });
  await s2.server.startup();
  const c2 = await RawClient.connect(s2.port);
  assert.deepEqual(await c2.pipeline([['EXISTS', 'ok1', 'during', 'after'], ['EXISTS', 'refused']]), [':3\r\n', ':0\r\n']);
  c2.close();
  await s2.close();
});

test('crash consistency under appendfsync always: every acknowledged write survives kill -9', { timeout: 120000 }, async () => {
  const dir = tmp();
  const deadline = Date.now() + 30000;
  const acked = new Map<string, number>();
  let rounds = 0;
  let port: number | undefined;
  while (rounds < 30 && Date.now() < deadline) {
    const srv = await spawnAmber(dir, { appendonly: 'yes', appendfsync: 'always', 'aof-use-rdb-preamble': 'no' }, port);
    port = srv.port;
    // check everything acknowledged so far is there
    const check = await RawClient.connect(srv.port);
    const keys = [...acked.keys()];
    if (keys.length) {
      const got = await check.pipeline(keys.map((k) => ['GET', k]));
      keys.forEach((k, i) => {
        const v = Number(got[i]!.split('\r\n')[1]);
        assert.ok(v >= acked.get(k)!, `round ${rounds}: ${k} is ${v}, acknowledged ${acked.get(k)}`);
        acked.set(k, v);
      });
    }
    check.close();
    // several clients increment their counters; kill at a random moment
    const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(srv.port)));
    let stop = false;
    const loops = clients.map(async (c, i) => {
      const key = `counter:${i}`;
      while (!stop) {
        try {
          const r = await c.call('INCR', key);
          acked.set(key, Number(r.slice(1, -2)));
        } catch {
          return;
        }
      }
    });
    await new Promise((x) => setTimeout(x, 20 + Math.random() * 150));
    await srv.kill();
    stop = true;
    await Promise.all(loops);
    for (const c of clients) c.close();
    rounds++;
  }
  assert.ok(rounds >= (CI ? 10 : 3), `only ${rounds} crash rounds ran`);
});

test('fixtures: Redis 7.0.15 appendonlydirs and the legacy single file load to their keyspace', async (t) => {
  const fx = fixturesDir();
  if (fx === null) {
    t.skip('../shared/fixtures is absent');
    return;
  }
  const cases: Array<[string, string, string | null]> = [
    ['appendonlydir-resp', 'aof-resp.expected.jsonl', 'appendonlydir'],
    ['appendonlydir-preamble', 'aof-preamble.expected.jsonl', 'appendonlydir'],
    ['legacy-appendonly.aof', 'legacy-appendonly.expected.jsonl', null],
  ];
  for (const [src, expected, asDir] of cases) {
    const dir = tmp();
    const from = join(fx, 'redis-7.0.15', src);
    if (asDir) cpSync(from, join(dir, asDir), { recursive: true });
    else cpSync(from, join(dir, 'appendonly.aof'));
    let s;
    try {
      s = await startAmber({ dir, appendonly: 'yes' });
    } catch (e) {
      if (/RDB loader is available|RDB encoder is not available/.test((e as Error).message) && !CI) {
        t.diagnostic(`${src}: skipped, RDB codec not wired yet`);
        continue;
      }
      throw e;
    }
    const got = await keyspaceDump(s.port);
    await s.close();
    assert.equal(got, readFileSync(join(fx, 'redis-7.0.15', expected), 'latin1'), src);
    if (!asDir) {
      // upgraded into an appendonlydir as Redis 7.0 does
      assert.ok(existsSync(join(dir, 'appendonlydir', 'appendonly.aof')));
      assert.ok(!existsSync(join(dir, 'appendonly.aof')));
      assert.match(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1'), /^file appendonly\.aof seq 1 type b\nfile appendonly\.aof\.1\.incr\.aof seq 1 type i\n$/);
    }
  }
});

test("Amber's appendonlydir passes redis-check-aof and redis-server loads it to the same keyspace", { skip: !redisAvailable() && NO_REDIS }, async () => {
  for (const preamble of ['no', 'yes']) {
    const dir = tmp();
    let s;
    try {
      s = await startAmber({ dir, appendonly: 'yes', 'aof-use-rdb-preamble': preamble });
    } catch (e) {
      if (!CI && /RDB/.test((e as Error).message)) continue;
      throw e;
    }
    await runWorkload(s.port);
    const c = await RawClient.connect(s.port);
    await c.call('BGREWRITEAOF');
    for (let i = 0; i < 50 && (await c.call('INFO', 'persistence')).includes('aof_rewrite_in_progress:1'); i++) await new Promise((x) => setTimeout(x, 20));
    await c.call('SET', 'after-rewrite', '1');
    c.close();
    const expected = await keyspaceDump(s.port);
    await s.close();
    const check = spawnSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /is valid/);
    const r = await startRedis(['--appendonly', 'yes'], dir);
    try {
      assert.equal(await keyspaceDump(r.port), expected);
    } finally {
      await r.close();
    }
  }
});

test('amber-check-aof reports a torn tail with its offset and --fix truncates it', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no' });
  await runWorkload(s.port, [['SET', 'a', '1'], ['SET', 'b', '2']]);
  await s.close();
  const manifest = join(dir, 'appendonlydir', 'appendonly.aof.manifest');
  const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
  const good = readFileSync(incr);
  writeFileSync(incr, Buffer.concat([good, Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nc')]));
  const repo = join(import.meta.dirname, '..', '..');
  const tool = ['--import', 'tsx', join(repo, 'src', 'bin', 'amber-check-aof.ts')];
  const bad = spawnSync(process.execPath, [...tool, manifest], { encoding: 'utf8', cwd: repo });
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, new RegExp(`ok_up_to=${good.length}`));
  assert.match(bad.stdout, /is not valid/);
  const fixed = spawnSync(process.execPath, [...tool, '--fix', '--yes', manifest], { encoding: 'utf8', cwd: repo });
  assert.equal(fixed.status, 0, fixed.stdout + fixed.stderr);
  assert.equal(statSync(incr).size, good.length);
  const again = spawnSync('redis-check-aof', [manifest], { encoding: 'utf8' });
  if (again.status !== null && redisAvailable()) assert.equal(again.status, 0, again.stdout);
});

test('CONFIG SET appendonly yes at run time writes a base from a snapshot, then appends; no switches it off', async () => {
  const dir = tmp();
  const s = await startAmber({ dir, appendonly: 'no', 'aof-use-rdb-preamble': 'no', 'aof-timestamp-enabled': 'yes' });
  const c = await RawClient.connect(s.port);
  await c.pipeline([['SET', 'before', '1'], ['RPUSH', 'l', 'a', 'b']]);
  assert.equal(await c.call('CONFIG', 'SET', 'appendonly', 'yes'), '+OK\r\n');
  await c.call('SET', 'during', '2');
  for (let i = 0; i < 100 && !/aof_enabled:1[\s\S]*aof_rewrite_in_progress:0/.test(await c.call('INFO', 'persistence')); i++) await new Promise((x) => setTimeout(x, 20));
  await c.call('SET', 'after', '3');
  const manifest = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
  assert.match(manifest, /^file appendonly\.aof\.1\.base\.aof seq 1 type b\nfile appendonly\.aof\.1\.incr\.aof seq 1 type i\n$/);
  const incr = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'latin1');
  assert.match(incr, /^#TS:\d+\r\n/);
  const expected = await keyspaceDump(s.port);
  assert.equal(await c.call('CONFIG', 'SET', 'appendonly', 'no'), '+OK\r\n');
  await c.call('SET', 'not-logged', '4');
  c.close();
  await s.close();
  const s2 = await startAmber({ dir, appendonly: 'yes' });
  assert.equal(await keyspaceDump(s2.port), expected);
  await s2.close();
});
