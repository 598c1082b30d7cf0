/**
 * Server and CLIENT commands compared with redis-server 7.0.15: byte for byte where the reply is
 * deterministic (errors, HELP texts, CLIENT REPLY/SETNAME/GETNAME/NO-EVICT/PAUSE/KILL/UNBLOCK
 * errors, SLOWLOG shapes, DEBUG errors and PROTOCOL, SHUTDOWN errors, WAIT, LOLWUT's fixed art,
 * LATENCY's errors, HELP and reports), and by structure where values differ (INFO section and
 * field names, CLIENT LIST field names, MONITOR lines with the time and port masked, TIME,
 * LOLWUT's random art, LATENCY's samples with their timing masked, LATENCY HISTOGRAM).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, sameReplies, type RedisChild } from '../helpers/servers.js';
import { decode, type Decoded } from '../helpers/resp.js';
import { maskMonitorLine } from '../helpers/compat.js';
import type { RunningServer } from '../../src/index.js';

/** No RDB save points: these servers must not write dump.rdb into the working directory on close. */
const NO_SAVE = { save: '' };

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;

before(async () => {
  if (skip) return;
  amber = await startAmber(NO_SAVE);
  redis = await startRedis();
});

after(async () => {
  await amber?.close();
  await redis?.close();
});

async function both(cmds: string[][], hello3 = false): Promise<void> {
  const [a, r] = await sameReplies(amber.port, redis.port, cmds, hello3);
  assert.deepEqual(a, r);
}

/** Runs `fn` on a fresh connection to each server and returns both results. */
async function onBoth<T>(fn: (c: RawClient, port: number) => Promise<T>): Promise<[T, T]> {
  const out: T[] = [];
  for (const port of [amber.port, redis.port]) {
    const c = await RawClient.connect(port);
    try {
      out.push(await fn(c, port));
    } finally {
      c.close();
    }
  }
  return [out[0]!, out[1]!];
}

/** The bulk / verbatim payload of a raw reply. */
function payload(raw: string): string {
  const nl = raw.indexOf('\r\n');
  let body = raw.slice(nl + 2, raw.length - 2);
  if (raw[0] === '=') body = body.slice(4);
  return body;
}

/** INFO text -> [[section, [field names]]]. */
function infoShape(text: string): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) out.push([line.slice(2), []]);
    else if (line !== '') out[out.length - 1]![1].push(line.slice(0, line.indexOf(':')));
  }
  return out;
}

test('CLIENT subcommand errors and HELP', { skip }, async () => {
  await both([
    ['CLIENT', 'HELP'], ['CLIENT', 'help'], ['CLIENT'], ['CLIENT', 'FOO'], ['CLIENT', 'ID', 'x'], ['CLIENT', 'INFO', 'x'],
    ['CLIENT', 'LIST', 'x'], ['CLIENT', 'LIST', 'TYPE'], ['CLIENT', 'LIST', 'TYPE', 'foo'], ['CLIENT', 'LIST', 'ID'],
    ['CLIENT', 'LIST', 'ID', 'abc'], ['CLIENT', 'LIST', 'ID', '1', 'abc'], ['CLIENT', 'LIST', 'ID', '999999'],
    ['CLIENT', 'LIST', 'TYPE', 'master'], ['CLIENT', 'LIST', 'TYPE', 'replica'], ['CLIENT', 'LIST', 'TYPE', 'slave'],
    ['CLIENT', 'LIST', 'TYPE', 'pubsub'], ['CLIENT', 'LIST', 'TYPE', 'normal', 'x'],
    ['CLIENT', 'KILL'], ['CLIENT', 'KILL', '1.2.3.4:5'], ['CLIENT', 'KILL', 'ID', '0'], ['CLIENT', 'KILL', 'ID', 'abc'],
    ['CLIENT', 'KILL', 'ID', '-5'], ['CLIENT', 'KILL', 'USER', 'nouser'], ['CLIENT', 'KILL', 'foo', 'bar'],
    ['CLIENT', 'KILL', 'ID', '1', 'extra'], ['CLIENT', 'KILL', 'TYPE', 'bogus'], ['CLIENT', 'KILL', 'SKIPME', 'maybe'],
    ['CLIENT', 'KILL', 'ID', '999999'], ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'], ['CLIENT', 'KILL', 'LADDR', '1.2.3.4:5'],
    ['CLIENT', 'KILL', 'TYPE', 'master'], ['CLIENT', 'KILL', 'USER', 'default', 'TYPE', 'pubsub'],
    ['CLIENT', 'UNBLOCK'], ['CLIENT', 'UNBLOCK', 'abc'], ['CLIENT', 'UNBLOCK', '1', 'foo'], ['CLIENT', 'UNBLOCK', '1', 'ERROR', 'x'],
    ['CLIENT', 'UNBLOCK', '999999'], ['CLIENT', 'UNBLOCK', '999999', 'timeout'], ['CLIENT', 'UNBLOCK', '-1'],
    ['CLIENT', 'SETNAME'], ['CLIENT', 'SETNAME', 'a b'], ['CLIENT', 'SETNAME', 'a\nb'], ['CLIENT', 'SETNAME', '\x7f'],
    ['CLIENT', 'SETNAME', 'good-name'], ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', ''], ['CLIENT', 'GETNAME'],
    ['CLIENT', 'GETNAME', 'x'], ['CLIENT', 'REPLY', 'foo'], ['CLIENT', 'REPLY'], ['CLIENT', 'REPLY', 'ON'],
    ['CLIENT', 'NO-EVICT', 'foo'], ['CLIENT', 'NO-EVICT', 'on'], ['CLIENT', 'NO-EVICT', 'OFF'],
    ['CLIENT', 'PAUSE'], ['CLIENT', 'PAUSE', 'abc'], ['CLIENT', 'PAUSE', '-1'], ['CLIENT', 'PAUSE', '10', 'foo'],
    ['CLIENT', 'PAUSE', '1', '2', '3'], ['CLIENT', 'PAUSE', '9223372036854775807'], ['CLIENT', 'PAUSE', '0'],
    ['CLIENT', 'PAUSE', '0', 'WRITE'], ['CLIENT', 'UNPAUSE'], ['CLIENT', 'UNPAUSE', 'x'],
  ]);
  await both([['CLIENT', 'HELP'], ['CLIENT', 'GETNAME'], ['CLIENT', 'LIST', 'ID', '999999'], ['CLIENT', 'LIST', 'TYPE', 'master']], true);
});

test('CLIENT REPLY OFF and SKIP drop replies like Redis', { skip }, async () => {
  const cmds = [
    ['CLIENT', 'REPLY', 'SKIP'], ['PING', 'skipped'], ['PING', 'a'],
    ['CLIENT', 'REPLY', 'OFF'], ['PING', 'off'], ['CLIENT', 'REPLY', 'SKIP'], ['PING', 'still-off'],
    ['CLIENT', 'REPLY', 'ON'], ['PING', 'b'],
  ];
  const [a, r] = await onBoth((c) => c.sendRaw(cmds.map(RawClient.encode).join(''), 3));
  assert.deepEqual(a, r);
});

test('CLIENT ID, INFO and LIST line format', { skip }, async () => {
  const [a, r] = await onBoth(async (c) => {
    await c.call('CLIENT', 'SETNAME', 'fmt');
    await c.call('SELECT', '2');
    const info = payload(await c.call('CLIENT', 'INFO'));
    const list = payload(await c.call('CLIENT', 'LIST'));
    const id = await c.call('CLIENT', 'ID');
    return { info, list, id };
  });
  for (const x of [a, r]) {
    assert.match(x.id, /^:\d+\r\n$/);
    assert.ok(x.info.endsWith('\n') && !x.info.endsWith('\n\n'));
    assert.ok(x.list.split('\n').some((l) => l.startsWith(`id=${x.id.slice(1, -2)} `)));
  }
  const fields = (line: string): string[] => line.trim().split(' ').map((kv) => kv.slice(0, kv.indexOf('=')));
  assert.deepEqual(fields(a.info), fields(r.info));
  const pick = (line: string, names: string[]): string[] => line.trim().split(' ').filter((kv) => names.includes(kv.slice(0, kv.indexOf('='))));
  const same = ['name', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'argv-mem', 'multi-mem', 'obl', 'oll', 'omem', 'events', 'cmd', 'user', 'redir', 'resp'];
  assert.deepEqual(pick(a.info, same), pick(r.info, same));
});

test('CLIENT LIST reflects MULTI, pubsub and RESP3 like Redis', { skip }, async () => {
  const [a, r] = await onBoth(async (c, port) => {
    const other = await RawClient.connect(port);
    await other.call('HELLO', '3');
    await other.call('SUBSCRIBE', 'ch1', 'ch2');
    await other.call('PSUBSCRIBE', 'p*');
    const otherId = (await other.call('CLIENT', 'ID')).slice(1, -2);
    await c.call('MULTI');
    await c.call('SET', 'k', 'v');
    await c.call('GET', 'k');
    const mine = (await c.call('EXEC'), payload(await c.call('CLIENT', 'INFO')));
    const list = payload(await c.call('CLIENT', 'LIST', 'ID', otherId));
    const pubsub = payload(await c.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).split('\n').filter((l) => l).length;
    other.close();
    return { mine, list, pubsub };
  });
  const pick = (line: string, names: string[]): string[] => line.trim().split(' ').filter((kv) => names.includes(kv.slice(0, kv.indexOf('='))));
  const same = ['flags', 'sub', 'psub', 'ssub', 'multi', 'cmd', 'resp', 'db'];
  assert.deepEqual(pick(a.mine, same), pick(r.mine, same));
  assert.deepEqual(pick(a.list, same), pick(r.list, same));
  assert.equal(a.pubsub, r.pubsub);
});

test('SLOWLOG: errors, HELP, entry shape and argument truncation', { skip }, async () => {
  await both([
    ['SLOWLOG'], ['SLOWLOG', 'FOO'], ['SLOWLOG', 'HELP'], ['SLOWLOG', 'LEN', 'x'], ['SLOWLOG', 'RESET', 'x'],
    ['SLOWLOG', 'GET', '-2'], ['SLOWLOG', 'GET', 'abc'], ['SLOWLOG', 'GET', '1', '2'], ['SLOWLOG', 'GET', '1.5'],
  ]);
  const [a, r] = await onBoth(async (c) => {
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('SLOWLOG', 'RESET');
    await c.call('CLIENT', 'SETNAME', 'slowpoke');
    await c.call('SET', 'sl:k', 'x'.repeat(200));
    const many = ['HELLO', '2'];
    for (let i = 0; i < 20; i++) many.push('SETNAME', 'n' + i);
    await c.call(...many);
    await c.call('AUTH', 'default', 'pw');
    await c.call('HELLO', '2', 'AUTH', 'default', 'pw');
    await c.call('MULTI');
    await c.call('INCR', 'sl:n');
    await c.call('EXEC');
    const len = await c.call('SLOWLOG', 'LEN');
    const all = await c.call('SLOWLOG', 'GET', '-1');
    const two = await c.call('SLOWLOG', 'GET', '2');
    const zero = await c.call('SLOWLOG', 'GET', '0');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    const reset = await c.call('SLOWLOG', 'RESET');
    const after = await c.call('SLOWLOG', 'LEN');
    return { len, all, two, zero, reset, after };
  });
  // entries: *6 id time duration argv addr name; mask id, time, duration and the port
  const mask = (s: string): string => s.replace(/\*6\r\n:\d+\r\n:\d+\r\n:\d+\r\n/g, '*6\r\n:ID\r\n:T\r\n:D\r\n').replace(/127\.0\.0\.1:\d+/g, 'ADDR').replace(/\$\d+\r\nADDR/g, '$N\r\nADDR');
  assert.equal(a.len, r.len);
  assert.equal(mask(a.all), mask(r.all));
  assert.equal(mask(a.two), mask(r.two));
  assert.equal(a.zero, r.zero);
  assert.equal(a.reset, r.reset);
  assert.equal(a.after, r.after);
});

test('INFO: section headers and field names match Redis', { skip }, async () => {
  const [a, r] = await onBoth(async (c) => {
    await c.call('SET', 'info:k', 'v');
    await c.call('SET', 'info:e', 'v', 'EX', '100');
    await c.call('GET', 'info:k');
    await c.call('NOSUCHCOMMAND');
    const out: Record<string, string> = {};
    for (const args of [[], ['default'], ['all'], ['everything'], ['server'], ['SERVER', 'clients'], ['memory'], ['persistence'],
      ['stats'], ['replication'], ['cpu'], ['commandstats'], ['errorstats'], ['keyspace'], ['cluster'], ['modules'],
      ['foo'], ['server', 'foo', 'keyspace'], ['keyspace', 'server'], ['default', 'commandstats']]) {
      out[args.join(' ') || '(none)'] = payload(await c.call('INFO', ...args));
    }
    return out;
  });
  // Amber adds amber_version to the server section; commandstats and latencystats list the
  // commands run so far in hash order (compared below / as sorted sets).
  const normalize = (shape: Array<[string, string[]]>): Array<[string, string[]]> =>
    shape.map(([sec, fields]) => [sec, sec === 'Commandstats' ? []
      : sec === 'Latencystats' ? fields.filter((f) => f !== 'latency_percentiles_usec_ping').sort()
        : fields.filter((f) => f !== 'amber_version')]);
  // Amber's own sections (like a module's) appear in INFO everything only
  const REDIS_TITLES = /^(Server|Clients|Memory|Persistence|Stats|Replication|CPU|Modules|Errorstats|Cluster|Keyspace|Commandstats|Latencystats)$/;
  for (const k of Object.keys(r)) {
    const shapeA = infoShape(a[k]!).filter(([sec]) => k !== 'everything' || REDIS_TITLES.test(sec));
    assert.deepEqual(normalize(shapeA), normalize(infoShape(r[k]!)), `INFO ${k}`);
  }
  assert.equal(a['foo'], '');
  assert.match(a['all']!, /\r\nlatency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n/);
  assert.match(a['server']!, /\r\namber_version:/);
  const noTtl = (s: string): string => s.replace(/avg_ttl=\d+/g, 'avg_ttl=N');
  assert.equal(noTtl(a['keyspace']!), noTtl(r['keyspace']!));
  assert.match(a['keyspace']!, /^# Keyspace\r\ndb0:keys=\d+,expires=1,avg_ttl=\d+\r\n$/);
  // both servers ran the same commands so far: the same error counts
  assert.equal(a['errorstats'], r['errorstats']);
  // same calls / rejected_calls / failed_calls for every command Amber implements
  const counts = (text: string): Map<string, string> => {
    const m = new Map<string, string>();
    for (const line of text.split('\r\n')) {
      const mm = /^cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=\d+\.\d\d,(rejected_calls=\d+,failed_calls=\d+)$/.exec(line);
      if (mm) m.set(mm[1]!, `calls=${mm[2]},${mm[3]}`);
    }
    return m;
  };
  const ca = counts(a['commandstats']!);
  const cr = counts(r['commandstats']!);
  for (const [name, v] of cr) {
    const [top, sub] = name.split('|') as [string, string | undefined];
    const spec = amber.server.commands.get(top);
    if (spec === undefined || (sub !== undefined && !spec.subcommands?.has(sub))) continue;
    // startRedis asks redis-server INFO until it answers as its child (and older helpers PINGed)
    if (name === 'ping' || name === 'info') continue;
    assert.equal(ca.get(name), v, `cmdstat_${name}`);
  }
  assert.ok(a['(none)']!.endsWith('\r\n') && !a['(none)']!.endsWith('\r\n\r\n'));
});

test('INFO in RESP3 is a verbatim string', { skip }, async () => {
  const [a, r] = await onBoth(async (c) => {
    await c.call('HELLO', '3');
    return (await c.call('INFO', 'cluster'));
  });
  assert.equal(a, r);
});

test('TIME shape', { skip }, async () => {
  const [a] = await onBoth((c) => c.call('TIME'));
  assert.match(a, /^\*2\r\n\$10\r\n\d{10}\r\n\$\d\r\n\d{1,6}\r\n$/);
  await both([['TIME', 'x']]);
});

test('ROLE of a master without replicas, and its arity error', { skip }, async () => {
  const cmds = [['ROLE'], ['role'], ['ROLE', 'x']];
  await both(cmds);
  await both(cmds, true);
});

test('DEBUG: errors, HELP, PROTOCOL in both protocols, SLEEP 0, POPULATE', { skip }, async () => {
  const protocol = ['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push', 'verbatim', 'true', 'false', 'foo'];
  const cmds = [
    ['DEBUG'], ['DEBUG', 'HELP'], ['DEBUG', 'FOO'], ['DEBUG', 'JMAP'], ['DEBUG', 'SLEEP'], ['DEBUG', 'SLEEP', '0'],
    ['DEBUG', 'SLEEP', 'abc'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'], ['DEBUG', 'OBJECT', 'nokey'], ['DEBUG', 'ERROR', 'foo'],
    ['DEBUG', 'ERROR', 'MYERR some text'], ['DEBUG', 'POPULATE', '-1'], ['DEBUG', 'POPULATE', 'abc'],
    ['DEBUG', 'POPULATE', '2', 'pfx', '-1'], ['DEBUG', 'POPULATE', '2', 'pfx', '3', '4'], ['DEBUG', 'POPULATE', '3', 'dbgpop', '12'],
    ['GET', 'dbgpop:1'], ['DEBUG', 'POPULATE', '2'], ['GET', 'key:0'], ['DEBUG', 'LOG', 'hello'],
    ...protocol.map((t) => ['DEBUG', 'PROTOCOL', t]),
  ];
  await both(cmds);
  await both(protocol.map((t) => ['DEBUG', 'PROTOCOL', t]), true);
});

test('DEBUG OBJECT for strings', { skip }, async () => {
  const [a, r] = await onBoth(async (c) => {
    await c.call('SET', 'dbg:int', '123');
    await c.call('SET', 'dbg:emb', 'hello');
    await c.call('SET', 'dbg:big', '12345678901');
    const out: string[] = [];
    for (const k of ['dbg:int', 'dbg:emb', 'dbg:big']) out.push(await c.call('DEBUG', 'OBJECT', k));
    return out;
  });
  const mask = (s: string): string => s.replace(/Value at:0x[0-9a-f]+/, 'Value at:X').replace(/lru:\d+ lru_seconds_idle:\d+/, 'lru');
  assert.deepEqual(a.map(mask), r.map(mask));
});

test('DEBUG OBJECT: lists carry their quicklist fields, refcount follows OBJECT REFCOUNT, lru_seconds_idle counts', { skip }, async () => {
  const big = 'x'.repeat(3000);
  const [a, r] = await onBoth(async (c) => {
    const out: string[] = [];
    await c.call('RPUSH', 'dbg:l1', 'a', 'b', 'c');
    // 3 KB elements: three fit a node of 8 KB (fill -2), so 10 make 4 nodes
    await c.call('RPUSH', 'dbg:l2', ...Array.from({ length: 10 }, () => big));
    await c.call('RPUSH', 'dbg:l3', ...Array.from({ length: 9 }, (_, i) => `e${i}`));
    for (const k of ['dbg:l1', 'dbg:l2', 'dbg:l3']) out.push(await c.call('DEBUG', 'OBJECT', k));
    // 8 elements per node: 17 make 3 nodes, 5.67 each; serializedlength follows the node layout.
    // (Redis keeps the fill and compress depth a list was made with; Amber reports the
    // configuration's, so the list is inspected under the configuration it was made with.)
    await c.call('CONFIG', 'SET', 'list-max-listpack-size', '8');
    await c.call('CONFIG', 'SET', 'list-compress-depth', '1');
    await c.call('RPUSH', 'dbg:l4', ...Array.from({ length: 17 }, (_, i) => `e${i}`));
    out.push(await c.call('DEBUG', 'OBJECT', 'dbg:l4'));
    await c.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
    await c.call('CONFIG', 'SET', 'list-compress-depth', '0');
    // under an LRU policy with maxmemory Redis makes integers unshared: refcount 1 in both replies
    await c.call('CONFIG', 'SET', 'maxmemory', '1gb');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    await c.call('SET', 'dbg:n', '42');
    out.push(await c.call('OBJECT', 'REFCOUNT', 'dbg:n'), await c.call('DEBUG', 'OBJECT', 'dbg:n'));
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    return out;
  });
  const mask = (s: string): string => s.replace(/Value at:0x[0-9a-f]+/, 'Value at:X').replace(/ lru:\d+ /, ' lru:L ');
  assert.deepEqual(a.map(mask), r.map(mask));
  assert.match(a[0]!, / ql_nodes:1 ql_avg_node:3\.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:16\r\n$/);
  // idle time: a key left alone for 2 seconds
  const [ia, ir] = await onBoth(async (c) => {
    await c.call('SET', 'dbg:idle', 'v');
    await new Promise((res) => setTimeout(res, 2100));
    return c.call('DEBUG', 'OBJECT', 'dbg:idle');
  });
  // the access clock has whole seconds, updated by the cron (hz 10) on both servers: 2.1 s of
  // idleness reads 1 to 3 depending on where the seconds turn
  assert.match(ia, /lru_seconds_idle:[123]\r\n/);
  assert.match(ir, /lru_seconds_idle:[123]\r\n/);
});

test('SHUTDOWN argument errors (the server stays up)', { skip }, async () => {
  await both([
    ['SHUTDOWN', 'FOO'], ['SHUTDOWN', 'ABORT'], ['SHUTDOWN', 'SAVE', 'NOSAVE'], ['SHUTDOWN', 'ABORT', 'NOW'],
    ['SHUTDOWN', 'NOW', 'ABORT'], ['SHUTDOWN', 'abort', 'force'], ['PING'],
  ]);
});

test('MONITOR output matches Redis (time and ports masked)', { skip }, async () => {
  const [a, r] = await onBoth(async (mon, port) => {
    assert.equal(await mon.call('MONITOR'), '+OK\r\n');
    const c = await RawClient.connect(port);
    const cmds = [
      ['SELECT', '3'], ['SET', 'a', 'x\ty"z\x01\xff\\ \r\n'], ['GET'], ['NOSUCHCMD'], ['AUTH', 'x'], ['AUTH', 'a', 'b'],
      ['HELLO', '2', 'AUTH', 'default', 'x'], ['HELLO', '2', 'SETNAME', 'foo'], ['MULTI'], ['SET', 'b', '1'], ['INCR', 'b'], ['EXEC'],
      ['CLIENT', 'LIST'], ['CLIENT', 'SETNAME', 'x'], ['CONFIG', 'GET', 'maxclients'], ['SLOWLOG', 'LEN'], ['SET', 'a', 'x'],
      ['PING'], ['set', '', ''], ['DEBUG', 'SLEEP', '0'], ['ECHO', 'last'],
    ];
    for (const cmd of cmds) await c.call(...cmd);
    c.close();
    // one line per monitored command: count them from Redis's run (15)
    const lines = await mon.read(15);
    return lines.map(maskMonitorLine);
  });
  assert.deepEqual(a, r);
});

test('DEBUG refused unless enable-debug-command allows it', { skip }, async () => {
  const a = await startAmber({ ...NO_SAVE, 'enable-debug-command': 'no' });
  const r = await startRedis(['--enable-debug-command', 'no']);
  const l = await startAmber({ ...NO_SAVE, 'enable-debug-command': 'local' });
  try {
    const cmds = [['DEBUG', 'SLEEP', '0'], ['DEBUG', 'HELP'], ['MULTI'], ['DEBUG', 'SLEEP', '0'], ['PING'], ['EXEC'], ['INFO', 'errorstats']];
    const [ra, rr] = await sameReplies(a.port, r.port, cmds);
    assert.deepEqual(ra, rr);
    const c = await RawClient.connect(l.port);
    assert.equal(await c.call('DEBUG', 'SLEEP', '0'), '+OK\r\n');
    c.close();
  } finally {
    await a.close();
    await r.close();
    await l.close();
  }
});

test('WAIT without replicas: replies, errors and the timeout, like Redis', { skip }, async () => {
  await both([
    ['WAIT', '0', '0'], ['WAIT', '-1', '0'], ['WAIT', '0', '100'], ['WAIT', '1', '20'], ['WAIT', '1', '-1'],
    ['WAIT', 'x', '0'], ['WAIT', '1', 'x'], ['WAIT', '1', '1.5'], ['WAIT', '99999999999999999999', '10'],
    ['WAIT', '1', '99999999999999999999'], ['WAIT', '1'], ['WAIT', '1', '2', '3'],
    ['MULTI'], ['WAIT', '5', '0'], ['EXEC'],
  ]);
  await both([['WAIT', '0', '0'], ['WAIT', '2', '10']], true);
});

test('WAIT blocks until its timeout or CLIENT UNBLOCK: flags, counts and stats like Redis', { skip }, async () => {
  const [a, r] = await onBoth(async (c, port) => {
    const blocked = await RawClient.connect(port);
    try {
      await c.call('CONFIG', 'RESETSTAT');
      const id = (await blocked.call('CLIENT', 'ID')).slice(1, -2);
      const t0 = Date.now();
      const timedOut = await blocked.call('WAIT', '3', '60');
      const waitedMs = Date.now() - t0;
      const out: string[] = [];
      for (const mode of ['TIMEOUT', 'ERROR']) {
        const reply = blocked.call('WAIT', '1', '0');
        // the WAIT is in once CLIENT LIST shows it blocked
        let line = '';
        for (let i = 0; i < 200 && !/ flags=b /.test(line); i++) line = payload(await c.call('CLIENT', 'LIST', 'ID', id));
        out.push(/ flags=(\S+) /.exec(line)![1]!, / cmd=(\S+) /.exec(line)![1]!);
        out.push(/blocked_clients:\d+/.exec(await c.call('INFO', 'clients'))![0]);
        out.push(await c.call('CLIENT', 'UNBLOCK', id, mode), await reply);
      }
      out.push(/cmdstat_wait:calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)/.exec(await c.call('INFO', 'commandstats'))!.slice(1).join(' '));
      out.push(/blocked_clients:\d+/.exec(await c.call('INFO', 'clients'))![0]);
      return { timedOut, waited: waitedMs >= 55, out };
    } finally {
      blocked.close();
    }
  });
  assert.deepEqual(a, r);
  assert.deepEqual(a.out, ['b', 'wait', 'blocked_clients:1', ':1\r\n', ':0\r\n', 'b', 'wait', 'blocked_clients:1', ':1\r\n',
    '-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n', '3 0 2', 'blocked_clients:0']);
});

test('LOLWUT: the version text, errors and the deterministic art byte for byte, like Redis', { skip }, async () => {
  const cmds = [
    ['LOLWUT'], ['LOLWUT', 'VERSION'], ['LOLWUT', 'VERSION', 'x'], ['LOLWUT', 'VERSION', '4'], ['LOLWUT', '5'],
    ['LOLWUT', 'VERSION', '-1'], ['LOLWUT', 'VERSION', '5', 'x'], ['LOLWUT', 'VERSION', '6', '1', 'x'],
    // two rows of squares or fewer are drawn without randomness
    ['LOLWUT', 'VERSION', '5', '1', '1', '1'], ['LOLWUT', 'VERSION', '5', '7', '3', '2'],
    ['LOLWUT', 'VERSION', '5', '33', '5', '2'], ['LOLWUT', 'VERSION', '5', '2000', '300', '1'],
    ['LOLWUT', 'VERSION', '5', '0', '0', '0'], ['LOLWUT', 'VERSION', '4294967301', '9', '2', '1'],
  ];
  await both(cmds);
  await both(cmds, true);
});

test('LOLWUT VERSION 5 and 6: the random art has Redis\'s size, fixed parts and trailer', { skip }, async () => {
  const [a, r] = await onBoth(async (c) => {
    const v5 = payload(await c.call('LOLWUT', 'VERSION', '5'));
    const v5lines = Buffer.from(v5, 'latin1').toString('utf8').split('\n');
    const v6 = Buffer.from(payload(await c.call('LOLWUT', 'VERSION', '6', '30', '12')), 'latin1').toString('utf8').split('\n');
    const cells = v6.slice(0, 12).map((l) => l.split('\x1b[0m').length - 1);
    const colors = new Set(v6.slice(0, 12).join('').match(/\x1b\[[0-9;]+m /g));
    return {
      // the first two rows of squares are not turned: the first 7 text lines are fixed
      v5head: v5lines.slice(0, 7), v5lines: v5lines.length, v5widths: [...new Set(v5lines.slice(0, -3).map((l) => l.length))],
      v5tail: v5lines.slice(-3),
      v6lines: v6.length, v6cells: [...new Set(cells)], v6tail: v6.slice(12),
      v6colors: [...colors].every((e) => ['\x1b[0;30;40m ', '\x1b[0;90;100m ', '\x1b[0;37;47m ', '\x1b[0;97;107m '].includes(e)),
    };
  });
  assert.deepEqual(a, r);
  assert.deepEqual(a.v5widths, [66]);
  assert.deepEqual(a.v6cells, [30]);
});

// ---- LATENCY ---------------------------------------------------------------------------------

/** Waits for the start of the next wall-clock second (samples of one second are merged). */
async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}

test('LATENCY errors, HELP and the reports of a monitor that is off, like Redis', { skip }, async () => {
  const cmds = [
    ['CONFIG', 'SET', 'latency-monitor-threshold', '0'], ['LATENCY', 'RESET'],
    ['LATENCY'], ['LATENCY', 'FOO'], ['LATENCY', 'HISTORY'], ['LATENCY', 'HISTORY', 'a', 'b'], ['LATENCY', 'GRAPH'],
    ['LATENCY', 'LATEST', 'x'], ['LATENCY', 'DOCTOR', 'x'], ['LATENCY', 'HELP', 'x'],
    ['LATENCY', 'HELP'], ['latency', 'help'], ['LATENCY', 'LATEST'], ['LATENCY', 'HISTORY', 'command'],
    ['LATENCY', 'GRAPH', 'command'], ['LATENCY', 'DOCTOR'], ['LATENCY', 'RESET', 'command', 'nosuch'],
    ['CONFIG', 'SET', 'latency-monitor-threshold', '500'], ['LATENCY', 'DOCTOR'], ['LATENCY', 'LATEST'],
    ['CONFIG', 'SET', 'latency-monitor-threshold', '-1'], ['CONFIG', 'GET', 'latency-monitor-threshold'],
    ['CONFIG', 'SET', 'latency-monitor-threshold', '0'],
  ];
  await both(cmds);
  await both(cmds, true);
});

/** LATEST / HISTORY / GRAPH / DOCTOR after two slow commands a second apart, timing masked. */
async function spikes(c: RawClient, hello3: boolean): Promise<unknown[]> {
  if (hello3) await c.call('HELLO', '3');
  await c.call('LATENCY', 'RESET');
  await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '50');
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  const out: unknown[] = [];
  await nextSecond();
  const t0 = Math.floor(Date.now() / 1000);
  out.push(await c.call('DEBUG', 'SLEEP', '0.12'));
  out.push(await c.call('DEBUG', 'SLEEP', '0'));
  await nextSecond();
  out.push(await c.call('DEBUG', 'SLEEP', '0.06'));
  const latest = decode(await c.call('LATENCY', 'LATEST')) as Decoded[][];
  assert.equal(latest.length, 1);
  const [event, time, latency, max] = latest[0]!;
  out.push(event);
  assert.ok(Math.abs(Number((time as string).slice(1)) - t0 - 1) <= 1, `${String(time)} near ${t0 + 1}`);
  assert.ok(Number((latency as string).slice(1)) >= 60 && Number((latency as string).slice(1)) < 120, String(latency));
  assert.ok(Number((max as string).slice(1)) >= 120, String(max));
  const hist = decode(await c.call('LATENCY', 'HISTORY', 'command')) as Decoded[][];
  out.push(hist.length, hist.map((s) => Number((s[1] as string).slice(1)) >= 60));
  // the sparkline's shape does not depend on the exact ms, its labels' digits do (seconds ago)
  out.push((await c.call('LATENCY', 'GRAPH', 'command')).replace(/\d/g, 'N'));
  out.push((await c.call('LATENCY', 'DOCTOR')).replace(/\d+/g, 'N'));
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
  out.push((await c.call('LATENCY', 'DOCTOR')).replace(/average \d+ms, mean deviation \d+ms, period [\d.]+ sec\). Worst all time event \d+ms/, ''));
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '100000');
  out.push((await c.call('LATENCY', 'DOCTOR')).replace(/average \d+ms, mean deviation \d+ms, period [\d.]+ sec\). Worst all time event \d+ms/, ''));
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  out.push(await c.call('LATENCY', 'RESET', 'COMMAND'), await c.call('LATENCY', 'LATEST'), await c.call('LATENCY', 'DOCTOR'));
  await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  return out;
}

test('LATENCY LATEST, HISTORY, GRAPH and DOCTOR after slow commands, like Redis', { skip }, async () => {
  for (const hello3 of [false, true]) {
    const [a, r] = await onBoth((c) => spikes(c, hello3));
    assert.deepEqual(a, r);
  }
});

/**
 * LATENCY HISTOGRAM's reply with each distribution reduced to what does not depend on timing,
 * its entries sorted by name: a container's subcommands come in its subcommand table's order,
 * which in Redis is a dict's (hash) order.
 */
function histogramShape(raw: string): unknown {
  const d = decode(raw) as Decoded[];
  const out: unknown[] = [];
  for (let i = 0; i < d.length; i += 2) {
    const [callsKey, calls, histKey, hist] = d[i + 1] as Decoded[];
    const pairs = hist as string[];
    const usec = pairs.filter((_, j) => j % 2 === 0).map((v) => Number(v.slice(1)));
    const cumulative = pairs.filter((_, j) => j % 2 === 1).map((v) => Number(v.slice(1)));
    assert.ok(usec.every((v, j) => j === 0 || v > usec[j - 1]!), `ascending usec ${usec.join(',')}`);
    assert.ok(cumulative.every((v, j) => v > 0 && (j === 0 || v > cumulative[j - 1]!)), `growing counts ${cumulative.join(',')}`);
    out.push([d[i], callsKey, calls, histKey, cumulative.at(-1)]);
  }
  return out.sort((x, y) => String((x as string[])[0]).localeCompare(String((y as string[])[0])));
}

test('LATENCY HISTOGRAM: names, calls and cumulative distributions like Redis', { skip }, async () => {
  for (const hello3 of [false, true]) {
    const [a, r] = await onBoth(async (c) => {
      if (hello3) await c.call('HELLO', '3');
      await c.call('CONFIG', 'RESETSTAT');
      for (let i = 0; i < 5; i++) await c.call('SET', 'k' + i, 'v');
      for (let i = 0; i < 3; i++) await c.call('GET', 'k' + i);
      await c.call('CONFIG', 'GET', 'hz');
      await c.call('DEBUG', 'SLEEP', '0.003');
      const out: unknown[] = [];
      out.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'set', 'nosuch', 'get', 'config|get', 'CONFIG', 'debug')));
      out.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'config|set', 'a|b|c', 'lpush')));
      // every command that ran, in whatever order the server keeps its table
      const all = decode(await c.call('LATENCY', 'HISTOGRAM')) as Decoded[];
      out.push(all.filter((_, j) => j % 2 === 0).sort());
      await c.call('DEL', 'k0', 'k1', 'k2', 'k3', 'k4');
      return out;
    });
    assert.deepEqual(a, r);
  }
});

test('LATENCY HISTOGRAM is empty after CONFIG RESETSTAT and with latency-tracking off', { skip }, async () => {
  const [a, r] = await onBoth(async (c) => {
    const out: unknown[] = [];
    await c.call('CONFIG', 'SET', 'latency-tracking', 'no');
    await c.call('CONFIG', 'RESETSTAT');
    await c.call('SET', 'x', '1');
    out.push(await c.call('LATENCY', 'HISTOGRAM', 'set'));
    await c.call('CONFIG', 'SET', 'latency-tracking', 'yes');
    await c.call('SET', 'x', '1');
    out.push(histogramShape(await c.call('LATENCY', 'HISTOGRAM', 'set')));
    await c.call('DEL', 'x');
    return out;
  });
  assert.deepEqual(a, r);
});
