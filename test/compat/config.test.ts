/**
 * CONFIG GET / SET / RESETSTAT / REWRITE / HELP compared with redis-server 7.0.15: byte for byte
 * for single names and errors; as sorted name/value pairs for patterns (Redis lists matches in its
 * hash table's order); CONFIG REWRITE by the file it writes (appended lines compared as a set, and
 * without the `user` line Amber does not write).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, sameReplies, freePort, type RedisChild } from '../helpers/servers.js';
import { startServer, type RunningServer } from '../../src/index.js';

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;
const cwd = process.cwd();

before(async () => {
  if (skip) return;
  amber = await startAmber({ save: '' }); // as startRedis starts redis-server
  redis = await startRedis();
});

after(async () => {
  await amber?.close();
  await redis?.close();
  process.chdir(cwd);
});

async function both(cmds: string[][], hello3 = false): Promise<void> {
  const [a, r] = await sameReplies(amber.port, redis.port, cmds, hello3);
  assert.deepEqual(a, r);
}

/** The bulk strings of a flat RESP2 array reply. */
function bulks(raw: string): string[] {
  const out: string[] = [];
  let p = raw.indexOf('\r\n') + 2;
  while (p < raw.length) {
    const nl = raw.indexOf('\r\n', p);
    const len = Number(raw.slice(p + 1, nl));
    out.push(raw.slice(nl + 2, nl + 2 + len));
    p = nl + 2 + len + 2;
  }
  return out;
}

/** CONFIG GET reply -> sorted "name=value" lines. */
function pairs(raw: string): string[] {
  const b = bulks(raw);
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 2) out.push(`${b[i]}=${b[i + 1]}`);
  return out.sort();
}

async function call(port: number, ...argv: string[]): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return await c.call(...argv);
  } finally {
    c.close();
  }
}

/** Directives whose values differ by how the two test servers were started. */
const ENV_DEPENDENT = new Set(['port', 'dir']);

test('CONFIG GET of every Redis directive by its name equals Redis, RESP2 and RESP3', { skip }, async () => {
  const names = bulks(await call(redis.port, 'CONFIG', 'GET', '*')).filter((_, i) => i % 2 === 0);
  assert.ok(names.length >= 190);
  const cmds = names.filter((n) => !ENV_DEPENDENT.has(n)).map((n) => ['CONFIG', 'GET', n]);
  await both(cmds);
  await both(cmds.slice(0, 20), true);
  // hidden directives: by exact name only
  await both([['CONFIG', 'GET', 'rdb-key-save-delay'], ['CONFIG', 'GET', 'use-exit-on-panic'], ['CONFIG', 'GET', 'LOADING-PROCESS-EVENTS-INTERVAL-BYTES']]);
});

test('CONFIG GET patterns match the same names and values', { skip }, async () => {
  const patterns = [
    ['*'], ['*max*'], ['HASH-MAX-*'], ['*ziplist*'], ['rdb-key*'], ['use-exit*'], ['[pb]ind'], ['maxmemory?policy'],
    ['zset-max-ziplist-entries', 'zset-max-*-entries'], ['nonexistent'], ['port', 'PORT', 'Port'], ['p?rt', 'port'],
    ['slave*'], ['*[^a-z-]*'], ['tls-*'], ['lazyfree-*', 'lazyfree-lazy-user-del'], ['save', 'appendonly', 'nosuch'],
  ];
  for (const p of patterns) {
    const [a, r] = await Promise.all([call(amber.port, 'CONFIG', 'GET', ...p), call(redis.port, 'CONFIG', 'GET', ...p)]);
    const clean = (raw: string): string[] => pairs(raw).filter((x) => !ENV_DEPENDENT.has(x.slice(0, x.indexOf('=')).toLowerCase()));
    assert.deepEqual(clean(a), clean(r), `CONFIG GET ${p.join(' ')}`);
    assert.equal(a.slice(0, a.indexOf('\r\n')), r.slice(0, r.indexOf('\r\n')), `reply length of CONFIG GET ${p.join(' ')}`);
  }
  await both([['CONFIG', 'GET', 'maxmemory', 'MAXMEMORY'], ['CONFIG', 'GET', 'nosuch'], ['CONFIG', 'GET']], true);
});

test('CONFIG SET values and errors equal Redis byte for byte', { skip }, async () => {
  const cmds: string[][] = [
    ['CONFIG', 'SET', 'maxmemory', '-1'],
    ['CONFIG', 'SET', 'maxmemory', '99999999999999999999'],
    ['CONFIG', 'GET', 'maxmemory'],
    ['CONFIG', 'SET', 'maxmemory', '18446744073709551615gb'],
    ['CONFIG', 'GET', 'maxmemory'],
    ['CONFIG', 'SET', 'maxmemory', '1.5mb'],
    ['CONFIG', 'SET', 'maxmemory', '1KB'],
    ['CONFIG', 'GET', 'maxmemory'],
    ['CONFIG', 'SET', 'maxmemory', ''],
    ['CONFIG', 'GET', 'maxmemory'],
    ['CONFIG', 'SET', 'maxclients', '-1'],
    ['CONFIG', 'SET', 'maxclients', '0'],
    ['CONFIG', 'SET', 'hz', '-1'],
    ['CONFIG', 'SET', 'hz', '01'],
    ['CONFIG', 'SET', 'hz', '9223372036854775808'],
    ['CONFIG', 'SET', 'hz', '1000'],
    ['CONFIG', 'GET', 'hz'],
    ['CONFIG', 'SET', 'hz', '10'],
    ['CONFIG', 'SET', 'maxmemory-clients', '10%'],
    ['CONFIG', 'GET', 'maxmemory-clients'],
    ['CONFIG', 'SET', 'maxmemory-clients', '101%'],
    ['CONFIG', 'SET', 'maxmemory-clients', '-0%'],
    ['CONFIG', 'SET', 'maxmemory-clients', '0'],
    ['CONFIG', 'SET', 'list-max-listpack-size', '-2147483649'],
    ['CONFIG', 'SET', 'loglevel', 'foo'],
    ['CONFIG', 'SET', 'loglevel', 'VERBOSE'],
    ['CONFIG', 'GET', 'loglevel'],
    ['CONFIG', 'SET', 'loglevel', 'notice'],
    ['CONFIG', 'SET', 'protected-mode', 'maybe'],
    ['CONFIG', 'SET', 'daemonize', 'yes'],
    ['CONFIG', 'SET', 'dir', '/nonexistent'],
    ['CONFIG', 'SET', 'dbfilename', 'x.rdb'],
    ['CONFIG', 'SET', 'foo', 'bar'],
    ['CONFIG', 'SET', 'port'],
    ['CONFIG', 'SET', 'port', '1', 'hz'],
    ['CONFIG', 'SET', 'hz', '1', 'HZ', '2'],
    ['CONFIG', 'SET', 'hz', '1', 'foo', '2', 'daemonize', 'no'],
    ['CONFIG', 'SET', 'daemonize', 'no', 'foo', '2'],
    ['CONFIG', 'SET', 'hash-max-ziplist-entries', '1', 'hash-max-listpack-entries', '2'],
    ['CONFIG', 'SET', 'list-max-ziplist-size', '5'],
    ['CONFIG', 'GET', 'list-max-listpack-size'],
    ['CONFIG', 'SET', 'list-max-ziplist-size', '-2'],
    ['CONFIG', 'SET', 'tcp-keepalive', '99999999999'],
    ['CONFIG', 'SET', 'slowlog-max-len', '-1'],
    ['CONFIG', 'SET', 'slowlog-log-slower-than', '-2'],
    ['CONFIG', 'SET', 'proto-max-bulk-len', '10'],
    ['CONFIG', 'SET', 'repl-backlog-size', '18446744073709551615'],
    ['CONFIG', 'SET', 'unixsocketperm', '777'],
    ['CONFIG', 'SET', 'active-defrag-ignore-bytes', '0'],
    ['CONFIG', 'SET', 'activedefrag', 'yes'],
    ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '1 2 x'],
    ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '101'],
    ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '99 99.99'],
    ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
    ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'],
    ['CONFIG', 'SET', 'shutdown-on-sigint', 'nosave now'],
    ['CONFIG', 'GET', 'shutdown-on-sigint'],
    ['CONFIG', 'SET', 'shutdown-on-sigint', 'save nosave'],
    ['CONFIG', 'SET', 'shutdown-on-sigint', ''],
    ['CONFIG', 'SET', 'shutdown-on-sigint', 'now  nosave'],
    ['CONFIG', 'SET', 'shutdown-on-sigint', 'default'],
    ['CONFIG', 'SET', 'save', '100 10 3600 1'],
    ['CONFIG', 'GET', 'save'],
    ['CONFIG', 'SET', 'save', '100 10 3600'],
    ['CONFIG', 'SET', 'save', '0 10'],
    ['CONFIG', 'SET', 'save', '100  10'],
    ['CONFIG', 'SET', 'save', ''],
    ['CONFIG', 'GET', 'save'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'master 1 1 1'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 1'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal x 1 1'],
    ['CONFIG', 'SET', 'oom-score-adj-values', '1 2'],
    ['CONFIG', 'SET', 'oom-score-adj-values', '1 2 3000'],
    ['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'],
    ['CONFIG', 'GET', 'notify-keyspace-events'],
    ['CONFIG', 'SET', 'notify-keyspace-events', 'KEq'],
    ['CONFIG', 'SET', 'notify-keyspace-events', 'Kx'],
    ['CONFIG', 'GET', 'notify-keyspace-events'],
    ['CONFIG', 'SET', 'notify-keyspace-events', ''],
    ['CONFIG', 'SET', 'replicaof', 'no one'],
    ['CONFIG', 'SET', 'appendfilename', 'x'],
    ['CONFIG', 'SET', 'proc-title-template', '{foo}'],
    ['CONFIG', 'SET', 'proc-title-template', '{title}'],
    ['CONFIG', 'SET', 'cluster-announce-hostname', 'a_b'],
    ['CONFIG', 'SET', 'maxmemory-policy', 'ALLKEYS-LRU'],
    ['CONFIG', 'GET', 'maxmemory-policy'],
    ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    ['CONFIG', 'SET', 'appendonly', 'maybe'],
    ['CONFIG', 'SET', 'repl-diskless-load', 'foo'],
    ['CONFIG', 'SET', 'tls-port', 'abc'],
    ['CONFIG', 'SET', 'maxmemory', '10mb', 'hz', 'abc'],
    ['CONFIG', 'GET', 'maxmemory'],
    ['CONFIG', 'SET', 'maxmemory', '0', 'timeout', '0'],
    ['CONFIG', 'SET', 'requirepass', ''],
    ['CONFIG', 'GET', 'requirepass'],
    ['CONFIG', 'SET', 'ignore-warnings', 'a"b c\n'],
    ['CONFIG', 'GET', 'ignore-warnings'],
    ['CONFIG', 'SET', 'ignore-warnings', ''],
    // long long bounds past 2^53: kept and shown exactly
    ['CONFIG', 'SET', 'auto-aof-rewrite-min-size', '9223372036854775807'],
    ['CONFIG', 'GET', 'auto-aof-rewrite-min-size'],
    ['CONFIG', 'SET', 'auto-aof-rewrite-min-size', '9223372036854775808'],
    ['CONFIG', 'SET', 'auto-aof-rewrite-min-size', '9007199254740993'],
    ['CONFIG', 'GET', 'auto-aof-rewrite-min-size'],
    ['CONFIG', 'SET', 'auto-aof-rewrite-min-size', '64mb'],
  ];
  await both(cmds);
  await both([['CONFIG', 'SET', 'hz', 'x'], ['CONFIG', 'GET', 'hz']], true);
});

test('CONFIG SET of every settable directive, by name or alias in any case, with good and bad values: the replies and CONFIG GET equal Redis', { skip }, async () => {
  const names = bulks(await call(redis.port, 'CONFIG', 'GET', '*')).filter((_, i) => i % 2 === 0);
  // left out: what would move, lock out, stop or redirect the test servers, or fill their disk
  const unsafe = /^(port|bind|bind-source-addr|dir|dbfilename|logfile|unixsocket|unixsocketperm|daemonize|pidfile|requirepass|masterauth|masteruser|replicaof|slaveof|tls-|appendonly|appenddirname|appendfilename|shutdown-|protected-mode|aclfile|oom-score-adj|supervised|syslog|enable-|rename-command|cluster-|io-threads|always-show-logo|ignore-warnings|locale-collate|client-output-buffer-limit|maxclients|set-proc-title|proc-title-template|save|latency-tracking-info-percentiles|sanitize-dump-payload)/;
  const values = ['', 'yes', 'no', '0', '-1', '1', 'abc', '1gb', '100%', '2147483648', '-2147483649', '1k', '99999999999999999999', ' 1', '1.5', 'allkeys-lru', 'everysec', '0 0 0'];
  const a = await RawClient.connect(amber.port);
  const r = await RawClient.connect(redis.port);
  try {
    for (const name of names) {
      if (unsafe.test(name)) continue;
      const current = bulks(await r.call('CONFIG', 'GET', name))[1]!;
      // upper case (Redis names the directive as registered in its errors: the alias if given),
      // and with a second pair, so that a failure must restore both
      const cmds = [...values, current].flatMap((v) => [['CONFIG', 'SET', name.toUpperCase(), v, 'hz', '5'], ['CONFIG', 'GET', name], ['CONFIG', 'GET', 'hz']]);
      const ra = await a.pipeline(cmds);
      const rr = await r.pipeline(cmds);
      for (let i = 0; i < cmds.length; i++) assert.equal(ra[i], rr[i], JSON.stringify(cmds[i]));
      await a.call('CONFIG', 'SET', name, current);
      await r.call('CONFIG', 'SET', name, current);
    }
  } finally {
    a.close();
    r.close();
  }
});

test('CONFIG HELP, RESETSTAT, REWRITE without a file, bad subcommands', { skip }, async () => {
  await both([
    ['CONFIG', 'HELP'],
    ['CONFIG', 'help'],
    ['CONFIG', 'RESETSTAT'],
    ['CONFIG', 'REWRITE'],
    ['CONFIG', 'foo'],
    ['CONFIG'],
    ['CONFIG', 'GET'],
    ['CONFIG', 'RESETSTAT', 'x'],
    ['CONFIG', 'HELP', 'x'],
  ]);
});

test('CONFIG RESETSTAT resets the INFO stats, commandstats and errorstats', { skip }, async () => {
  const c = await RawClient.connect(amber.port);
  try {
    await c.call('SET', 'k', 'v');
    await c.call('GET', 'k');
    await c.call('NOSUCHCMD');
    assert.equal(await c.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
    const info = await c.call('INFO', 'commandstats');
    assert.doesNotMatch(info, /cmdstat_get:/);
    const stats = await c.call('INFO', 'stats');
    assert.match(stats, /total_error_replies:0\r\n/);
    assert.match(stats, /keyspace_hits:0\r\n/);
  } finally {
    c.close();
  }
});

/** A redis-server child started with only a config file (startRedis adds options first). */
async function redisWithConfig(file: string, port: number): Promise<{ close(): Promise<void> }> {
  const proc = spawn('redis-server', [file], { stdio: 'ignore' });
  const deadline = Date.now() + 10000;
  for (;;) {
    try {
      if (/^(\+PONG|-NOAUTH)/.test(await call(port, 'PING'))) break;
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 30));
  }
  return {
    close: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
      }
    },
  };
}

test('CONFIG REWRITE writes the file Redis writes', { skip }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'amber-rewrite-'));
  const [pa, pr] = [await freePort(), await freePort()];
  const content = (port: number, dir: string): string => `# Amber/Redis config
port ${port}
bind 127.0.0.1
dir ${dir}

save 100 1
save 200 2
save 300 3
# a comment between
hash-max-ziplist-entries 100
HZ 20
maxmemory-policy allkeys-lru
list-max-ziplist-entries 5
loglevel notice
requirepass foo
client-output-buffer-limit pubsub 64mb 16mb 90
`;
  const da = join(base, 'a');
  const dr = join(base, 'r');
  const fa = join(base, 'amber.conf');
  const fr = join(base, 'redis.conf');
  writeFileSync(fa, content(pa, da));
  writeFileSync(fr, content(pr, dr));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dr);
  const a = await startServer({ configFile: fa });
  const r = await redisWithConfig(fr, pr);
  try {
    const sets = [
      ['save', '50 5'], ['maxmemory-policy', 'noeviction'], ['hz', '10'], ['timeout', '30'], ['maxmemory', '2mb'],
      ['notify-keyspace-events', 'Kx'], ['requirepass', ''], ['maxmemory-clients', '5%'], ['shutdown-on-sigint', 'nosave now'],
      ['ignore-warnings', 'a"b c\n'], ['client-output-buffer-limit', 'normal 1mb 2kb 3 pubsub 32mb 8mb 60'],
      ['proto-max-bulk-len', '1025kb'], ['slave-priority', '5'], ['hash-max-ziplist-value', '1kb'], ['oom-score-adj-values', '0 200 801'],
    ];
    for (const port of [a.port, pr]) {
      const c = await RawClient.connect(port);
      try {
        await c.call('AUTH', 'foo');
        for (const [k, v] of sets) assert.equal(await c.call('CONFIG', 'SET', k!, v!), '+OK\r\n', `CONFIG SET ${k} ${v}`);
        assert.equal(await c.call('CONFIG', 'REWRITE'), '+OK\r\n');
      } finally {
        c.close();
      }
    }
    const norm = (text: string): { head: string[]; tail: string[] } => {
      const lines = text
        .split('\n')
        .filter((l) => !l.startsWith('user '))
        .map((l) => l.replace(/^port \d+$/, 'port P').replace(/^dir .*$/, 'dir D'));
      const sig = lines.indexOf('# Generated by CONFIG REWRITE');
      return { head: lines.slice(0, sig), tail: lines.slice(sig).sort() };
    };
    assert.deepEqual(norm(readFileSync(fa, 'latin1')), norm(readFileSync(fr, 'latin1')));
    // the rewritten file loads again
    const again = await startServer({ configFile: fa, port: 0 });
    await again.close();
  } finally {
    await a.close();
    await r.close();
    process.chdir(cwd);
    rmSync(base, { recursive: true, force: true });
  }
});

test('CONFIG SET port moves the listener; a port in use is refused and the old one kept, as in Redis', { skip }, async () => {
  const s = await startServer({ directives: { save: '' } });
  const blocker = net.createServer();
  try {
    const next = await freePort();
    const c = await RawClient.connect(s.port);
    assert.equal(await c.call('CONFIG', 'SET', 'port', String(next)), '+OK\r\n');
    assert.equal(await c.call('CONFIG', 'GET', 'port'), `*2\r\n$4\r\nport\r\n$${String(next).length}\r\n${next}\r\n`);
    const c2 = await RawClient.connect(next);
    assert.equal(await c2.call('PING'), '+PONG\r\n');
    await assert.rejects(RawClient.connect(s.port));
    // a port that cannot be bound: Redis's error, the value and the listener stay
    const busy = await freePort();
    await new Promise<void>((r) => blocker.listen(busy, '127.0.0.1', () => r()));
    const errA = await c2.call('CONFIG', 'SET', 'port', String(busy), 'maxmemory', '5mb');
    assert.equal(errA, "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.\r\n");
    assert.equal(await c2.call('CONFIG', 'GET', 'maxmemory'), '*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n');
    const c3 = await RawClient.connect(next);
    assert.equal(await c3.call('PING'), '+PONG\r\n');
    const rc = await RawClient.connect(redis.port);
    const rBusy = await freePort();
    const blocker2 = net.createServer();
    await new Promise<void>((r) => blocker2.listen(rBusy, '127.0.0.1', () => r()));
    assert.equal(await rc.call('CONFIG', 'SET', 'port', String(rBusy), 'maxmemory', '5mb'), errA);
    blocker2.close();
    rc.close();
    c.close();
    c2.close();
    c3.close();
  } finally {
    blocker.close();
    await s.close();
  }
});
