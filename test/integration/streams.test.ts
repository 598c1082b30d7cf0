/**
 * Stream commands through real clients (ioredis, node-redis in RESP2 and RESP3) against an
 * in-process Amber: a BullMQ-style job queue (producers XADD, workers XREADGROUP BLOCK / XACK, a
 * crashed worker's jobs recovered with XAUTOCLAIM) must process every job exactly once; the
 * parsed shapes of XINFO, XPENDING, XAUTOCLAIM and XREAD in both protocols; and the AOF round trip
 * of streams (RESP rewrite with groups, consumers and pending entries, then restart), compared
 * with keyspaceDump, XINFO STREAM FULL and, when redis-server is installed, with the commands
 * Redis's own BGREWRITEAOF writes for the same data.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startAmber, startRedis, redisAvailable, RawClient, keyspaceDump } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

let amber: RunningServer;
let io: Redis;
type NodeRedis = ReturnType<typeof createClient>;
let nr2: NodeRedis;
let nr3: NodeRedis;
const dirs: string[] = [];

before(async () => {
  amber = await startAmber();
  io = new Redis({ port: amber.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await io.connect();
  nr2 = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false } });
  await nr2.connect();
  nr3 = createClient({ socket: { port: amber.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: 3 });
  await nr3.connect();
});

after(async () => {
  io?.disconnect();
  await nr2?.close();
  await nr3?.close();
  await amber?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const flush = () => amber.server.keyspace.flushAll();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ioredis: a job queue with workers, a crashed worker and XAUTOCLAIM recovery processes every job once', async () => {
  flush();
  const N = 300;
  const opts = { port: amber.port, host: '127.0.0.1', maxRetriesPerRequest: 0 };
  await io.xgroup('CREATE', 'jobs', 'workers', '$', 'MKSTREAM');
  const processed = new Map<string, string>();
  const stop = { done: false };
  // a worker that reads 3 jobs and dies without acknowledging them
  const crashed = new Redis(opts);
  // workers: block for new jobs, "process" them, acknowledge
  const worker = async (name: string): Promise<void> => {
    const r = new Redis(opts);
    try {
      while (!stop.done) {
        const res = (await r.xreadgroup('GROUP', 'workers', name, 'COUNT', 7, 'BLOCK', 50, 'STREAMS', 'jobs', '>')) as
          Array<[string, Array<[string, string[]]>]> | null;
        if (res === null) continue;
        for (const [, entries] of res) {
          for (const [id, fields] of entries) {
            assert.equal(processed.has(id), false, `job ${id} processed twice`);
            processed.set(id, `${name}:${fields[1]}`);
            assert.equal(await r.xack('jobs', 'workers', id), 1);
          }
        }
      }
    } finally {
      r.disconnect();
    }
  };
  const producer = new Redis(opts);
  for (let i = 0; i < 5; i++) await producer.xadd('jobs', '*', 'job', String(i));
  const got = (await crashed.xreadgroup('GROUP', 'workers', 'dead', 'COUNT', 3, 'STREAMS', 'jobs', '>')) as Array<[string, Array<[string, string[]]>]>;
  assert.equal(got[0]![1].length, 3);
  crashed.disconnect();
  const workers = [worker('w1'), worker('w2'), worker('w3')];
  for (let i = 5; i < N; i++) await producer.xadd('jobs', '*', 'job', String(i));
  // wait for the live workers to drain the queue
  for (let i = 0; i < 200; i++) {
    const [pendingCount] = (await io.xpending('jobs', 'workers')) as [number, ...unknown[]];
    const info = (await io.xinfo('GROUPS', 'jobs')) as unknown[][];
    const lag = info[0]![info[0]!.indexOf('lag') + 1];
    if (lag === 0 && processed.size + pendingCount >= N) break;
    await sleep(20);
  }
  // recovery: claim what the dead worker left (idle for more than 30 ms), process, acknowledge
  await sleep(40);
  const recovered: string[] = [];
  let cursor = '0-0';
  do {
    const [next, claimed, deleted] = (await io.xautoclaim('jobs', 'workers', 'recovery', 30, cursor, 'COUNT', 2)) as [string, Array<[string, string[]]>, string[]];
    assert.deepEqual(deleted, []);
    for (const [id, fields] of claimed) {
      assert.equal(processed.has(id), false);
      processed.set(id, `recovery:${fields[1]}`);
      recovered.push(id);
      await io.xack('jobs', 'workers', id);
    }
    cursor = next;
  } while (cursor !== '0-0');
  stop.done = true;
  await Promise.all(workers);
  producer.disconnect();
  assert.equal(processed.size, N);
  assert.equal(recovered.length, 3);
  const jobsSeen = new Set([...processed.values()].map((v) => v.split(':')[1]));
  assert.equal(jobsSeen.size, N);
  assert.deepEqual(await io.xpending('jobs', 'workers'), [0, null, null, null]);
  const consumers = (await io.xinfo('CONSUMERS', 'jobs', 'workers')) as unknown[][];
  const names = consumers.map((c) => c[1]).sort();
  assert.deepEqual(names, ['dead', 'recovery', 'w1', 'w2', 'w3']);
  assert.equal(await io.xlen('jobs'), N);
  // trimming acknowledged history
  assert.equal(await io.xtrim('jobs', 'MAXLEN', 100), N - 100);
  assert.equal(await io.xlen('jobs'), 100);
});

test('ioredis: parsed shapes of XRANGE, XREAD, XINFO, XPENDING, XCLAIM and errors', async () => {
  flush();
  assert.equal(await io.xadd('s', '1-1', 'a', '1', 'b', '2'), '1-1');
  assert.equal(await io.xadd('s', '2-*', 'c', '3'), '2-0');
  assert.equal(await io.xadd('s', 'NOMKSTREAM', '3-1', 'd', '4'), '3-1');
  assert.equal(await io.xadd('nokey', 'NOMKSTREAM', '*', 'd', '4'), null);
  assert.deepEqual(await io.xrange('s', '-', '+'), [['1-1', ['a', '1', 'b', '2']], ['2-0', ['c', '3']], ['3-1', ['d', '4']]]);
  assert.deepEqual(await io.xrevrange('s', '+', '-', 'COUNT', 1), [['3-1', ['d', '4']]]);
  assert.deepEqual(await io.xread('COUNT', 1, 'STREAMS', 's', '1-1'), [['s', [['2-0', ['c', '3']]]]]);
  assert.equal(await io.xread('STREAMS', 's', '$'), null);
  await assert.rejects(io.xadd('s', '1-1', 'x', 'y'), /ERR The ID specified in XADD is equal or smaller than the target stream top item/);
  await assert.rejects(io.xreadgroup('GROUP', 'nog', 'c', 'STREAMS', 's', '>'), /NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option/);
  assert.equal(await io.xgroup('CREATE', 's', 'g', '0'), 'OK');
  await assert.rejects(io.xgroup('CREATE', 's', 'g', '0'), /BUSYGROUP Consumer Group name already exists/);
  const read = await io.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 2, 'STREAMS', 's', '>');
  assert.deepEqual(read, [['s', [['1-1', ['a', '1', 'b', '2']], ['2-0', ['c', '3']]]]]);
  const summary = await io.xpending('s', 'g');
  assert.deepEqual(summary, [2, '1-1', '2-0', [['alice', '2']]]);
  const ext = (await io.xpending('s', 'g', '-', '+', 10)) as Array<[string, string, number, number]>;
  assert.deepEqual(ext.map((e) => [e[0], e[1], e[3]]), [['1-1', 'alice', 1], ['2-0', 'alice', 1]]);
  assert.deepEqual(await io.xclaim('s', 'g', 'bob', 0, '1-1', 'JUSTID'), ['1-1']);
  assert.deepEqual(await io.xclaim('s', 'g', 'bob', 0, '2-0'), [['2-0', ['c', '3']]]);
  assert.deepEqual(await io.xautoclaim('s', 'g', 'carol', 0, '0', 'COUNT', 1, 'JUSTID'), ['2-0', ['1-1'], []]);
  assert.equal(await io.xack('s', 'g', '1-1', '2-0', '9-9'), 2);
  assert.equal(await io.xdel('s', '1-1', '9-9'), 1);
  const info = (await io.xinfo('STREAM', 's')) as unknown[];
  const m = new Map<string, unknown>();
  for (let i = 0; i < info.length; i += 2) m.set(info[i] as string, info[i + 1]);
  assert.equal(m.get('length'), 2);
  assert.equal(m.get('last-generated-id'), '3-1');
  assert.equal(m.get('max-deleted-entry-id'), '1-1');
  assert.equal(m.get('entries-added'), 3);
  assert.equal(m.get('recorded-first-entry-id'), '2-0');
  assert.equal(m.get('groups'), 1);
  assert.deepEqual(m.get('first-entry'), ['2-0', ['c', '3']]);
  assert.deepEqual(m.get('last-entry'), ['3-1', ['d', '4']]);
  const groups = (await io.xinfo('GROUPS', 's')) as unknown[][];
  assert.deepEqual(groups, [['name', 'g', 'consumers', 3, 'pending', 0, 'last-delivered-id', '2-0', 'entries-read', 2, 'lag', 1]]);
  assert.equal(await io.xsetid('s', '10-1', 'ENTRIESADDED', 5, 'MAXDELETEDID', '9-0'), 'OK');
  await assert.rejects(io.xsetid('s', '1-1'), /ERR The ID specified in XSETID is smaller than the target stream top item/);
  assert.equal(await io.xgroup('DESTROY', 's', 'g'), 1);
});

test('ioredis: XREAD BLOCK is served by an XADD from another client; timeouts give null', async () => {
  flush();
  const opts = { port: amber.port, host: '127.0.0.1', maxRetriesPerRequest: 0 };
  const b1 = new Redis(opts);
  const b2 = new Redis(opts);
  try {
    await io.xadd('s', '1-1', 'a', '1');
    const p1 = b1.xread('BLOCK', 0, 'STREAMS', 's', '$');
    await sleep(30);
    const p2 = b2.xread('BLOCK', 0, 'STREAMS', 's', '$');
    await sleep(30);
    await io.xadd('s', '2-1', 'b', '2');
    assert.deepEqual(await p1, [['s', [['2-1', ['b', '2']]]]]);
    assert.deepEqual(await p2, [['s', [['2-1', ['b', '2']]]]]);
    assert.equal(await b1.xread('BLOCK', 30, 'STREAMS', 's', '$'), null);
  } finally {
    b1.disconnect();
    b2.disconnect();
  }
});

test('node-redis RESP2 and RESP3: the same queue operations parse', async () => {
  flush();
  for (const [nr, key] of [[nr2, 'q2'], [nr3, 'q3']] as const) {
    assert.equal(await nr.xAdd(key, '1-1', { job: 'a' }), '1-1');
    assert.equal(await nr.xAdd(key, '2-1', { job: 'b' }), '2-1');
    assert.equal(await nr.xLen(key), 2);
    assert.equal(await nr.xGroupCreate(key, 'g', '0'), 'OK');
    const blocker = nr.duplicate();
    await blocker.connect();
    try {
      const r = await blocker.xReadGroup('g', 'c1', { key, id: '>' }, { COUNT: 1 });
      if (nr === nr2) {
        assert.equal(JSON.stringify(r), JSON.stringify([{ name: key, messages: [{ id: '1-1', message: { job: 'a' } }] }]));
      } else {
        assert.ok(r !== null && JSON.stringify(r).includes('1-1'));
      }
      const pending = await nr.xPending(key, 'g');
      assert.equal(pending.pending, 1);
      assert.equal(pending.firstId, '1-1');
      assert.deepEqual(pending.consumers, [{ name: 'c1', deliveriesCounter: 1 }]);
      const claimed = await nr.xAutoClaim(key, 'g', 'c2', 0, '0-0');
      assert.equal(claimed.nextId, '0-0');
      assert.deepEqual(claimed.messages.map((x) => x?.id), ['1-1']);
      assert.deepEqual(claimed.deletedMessages, []);
      assert.equal(await nr.xAck(key, 'g', '1-1'), 1);
      const groups = await nr.xInfoGroups(key);
      assert.equal(groups.length, 1);
      assert.equal(groups[0]!.name, 'g');
      assert.equal(groups[0]!.pending, 0);
      assert.equal(groups[0]!['last-delivered-id'], '1-1');
      const consumers = await nr.xInfoConsumers(key, 'g');
      assert.deepEqual(consumers.map((c) => c.name), ['c1', 'c2']);
      // 2-1 is there already; the next read blocks until 3-1 comes
      const first = await blocker.xReadGroup('g', 'c1', { key, id: '>' }, { BLOCK: 0 });
      assert.ok(first !== null && JSON.stringify(first).includes('2-1'));
      const waiting = blocker.xReadGroup('g', 'c1', { key, id: '>' }, { BLOCK: 0 });
      await sleep(30);
      assert.equal(await nr.xAdd(key, '3-1', { job: 'c' }), '3-1');
      const got = await waiting;
      assert.ok(got !== null && JSON.stringify(got).includes('3-1') && !JSON.stringify(got).includes('2-1'));
      assert.deepEqual((await nr.xRange(key, '-', '+')).map((e) => e.id), ['1-1', '2-1', '3-1']);
      assert.equal(await nr.xTrim(key, 'MAXLEN', 1), 2);
      assert.equal(await nr.xDel(key, '3-1'), 1);
      const info = await nr.xInfoStream(key);
      assert.equal(info.length, 0);
      assert.equal(info['last-generated-id'], '3-1');
    } finally {
      await blocker.close();
    }
  }
});

/** A workload leaving streams in every state the AOF rewrite must rebuild. */
const AOF_WORKLOAD: string[][] = [
  ['XADD', 's', '1-1', 'a', '1', 'b', '2'], ['XADD', 's', '2-1', 'a', '3'], ['XADD', 's', '3-1', 'f\x00\r\n', '\xff'], ['XADD', 's', '4-1', 'x', 'y'],
  ['XDEL', 's', '2-1'], ['XGROUP', 'CREATE', 's', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 's', '>'], ['XACK', 's', 'g', '4-1'], ['XGROUP', 'CREATECONSUMER', 's', 'g', 'idle'],
  ['XCLAIM', 's', 'g', 'carol', '0', '3-1', 'TIME', '1700000000000', 'RETRYCOUNT', '9'], ['XGROUP', 'CREATE', 's', 'h', '$', 'ENTRIESREAD', '3'],
  ['XREADGROUP', 'GROUP', 'h', 'x', 'NOACK', 'STREAMS', 's', '0'],
  ['XADD', 'e', '5-5', 'a', 'b'], ['XDEL', 'e', '5-5'], ['XGROUP', 'CREATE', 'e', 'g', '$'],
  ['XGROUP', 'CREATE', 'empty', 'g', '$', 'MKSTREAM'], ['XGROUP', 'CREATECONSUMER', 'empty', 'g', 'c'],
  ['XADD', 'trimmed', 'MAXLEN', '2', '1-0', 'a', 'b'], ['XADD', 'trimmed', 'MAXLEN', '2', '2-0', 'a', 'b'], ['XADD', 'trimmed', 'MAXLEN', '2', '3-0', 'a', 'b'],
  ['XSETID', 'trimmed', '9-9', 'ENTRIESADDED', '20', 'MAXDELETEDID', '1-0'],
];

/**
 * What must survive a restart: keyspaceDump plus XINFO STREAM FULL. Masked: seen-times (consumers
 * are re-created at load), the node layout (the rewrite re-adds entries one by one, so a reload
 * has no tombstones), and entries-read / lag, which Redis 7.0 does not propagate with the XCLAIMs
 * of an XREADGROUP without NOACK (compared with Redis's own reload in the next test).
 */
async function streamState(port: number): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    let out = await keyspaceDump(port);
    for (const k of ['s', 'e', 'empty', 'trimmed', 'big']) {
      out += (await c.call('XINFO', 'STREAM', k, 'FULL', 'COUNT', '0'))
        .replace(/(\$9\r\nseen-time\r\n):\d+/g, '$1:T')
        .replace(/(radix-tree-(keys|nodes)\r\n):\d+/g, '$1:N')
        .replace(/(entries-read\r\n)(:\d+|\$-1)(\r\n\$3\r\nlag\r\n)(:\d+|\$-1)/g, '$1R$3L');
    }
    return out;
  } finally {
    c.close();
  }
}

/** Writes AOF_WORKLOAD plus the post-rewrite commands; returns XINFO GROUPS of every stream. */
async function aofScript(c: RawClient): Promise<void> {
  for (const cmd of AOF_WORKLOAD) await c.call(...cmd);
  for (let i = 0; i < 250; i++) await c.call('XADD', 'big', `${i + 1}-0`, 'n', String(i));
  assert.equal(await c.call('BGREWRITEAOF'), '+Background append only file rewriting started\r\n');
  for (let i = 0; i < 100 && (await c.call('INFO', 'persistence')).includes('aof_rewrite_in_progress:1'); i++) await sleep(20);
  await sleep(20);
  // more changes after the rewrite, in the incr file
  await c.call('XADD', 's', '5-1', 'after', 'rewrite');
  await c.call('XREADGROUP', 'GROUP', 'g', 'dave', 'STREAMS', 's', '>');
  await c.call('XTRIM', 'big', 'MAXLEN', '~', '100');
}

async function groupsInfo(port: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const out: string[] = [];
    for (const k of ['s', 'e', 'empty', 'trimmed', 'big']) out.push(await c.call('XINFO', 'GROUPS', k));
    return out;
  } finally {
    c.close();
  }
}

test('AOF (RESP base) with streams survives BGREWRITEAOF and restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-streams-aof-'));
  dirs.push(dir);
  const directives = { dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no', appendfsync: 'always' };
  let s = await startAmber(directives);
  await s.server.startup();
  const c = await RawClient.connect(s.port);
  await aofScript(c);
  c.close();
  const before = await streamState(s.port);
  await s.close();
  const files = readdirSync(join(dir, 'appendonlydir')).sort();
  assert.deepEqual(files, ['appendonly.aof.2.base.aof', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
  const base = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.2.base.aof'), 'latin1');
  assert.match(base, /XSETID/);
  assert.match(base, /XCLAIM/);
  s = await startAmber(directives);
  await s.server.startup();
  const afterRestart = await streamState(s.port);
  const amberGroups = await groupsInfo(s.port);
  await s.close();
  if (redisAvailable()) {
    // entries-read and lag after a reload are what Redis's own reload gives
    const redis = await startRedis(['--appendonly', 'yes', '--aof-use-rdb-preamble', 'no', '--appendfsync', 'always']);
    try {
      const rc = await RawClient.connect(redis.port);
      await aofScript(rc);
      assert.equal(await rc.call('DEBUG', 'LOADAOF'), '+OK\r\n');
      rc.close();
      assert.deepEqual(amberGroups, await groupsInfo(redis.port));
    } finally {
      await redis.close();
    }
  }
  if (afterRestart !== before) {
    // show the first differing line rather than two pages of protocol
    const a = afterRestart.split('\n');
    const b = before.split('\n');
    const i = a.findIndex((l, j) => l !== b[j]);
    assert.fail(`state differs after restart at line ${i}: ${JSON.stringify(a.slice(Math.max(0, i - 3), i + 3))} vs ${JSON.stringify(b.slice(Math.max(0, i - 3), i + 3))}`);
  }
});

test('the RESP rewrite of streams writes the commands Redis writes', { skip: !redisAvailable() && 'redis-server 7.0 not installed: compatibility test skipped' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amber-streams-aof-'));
  dirs.push(dir);
  const redis = await startRedis(['--appendonly', 'yes', '--aof-use-rdb-preamble', 'no']);
  const s = await startAmber({ dir, appendonly: 'yes', 'aof-use-rdb-preamble': 'no' });
  await s.server.startup();
  try {
    const bases: Array<Map<string, string[]>> = [];
    for (const [port, d] of [[s.port, dir], [redis.port, redis.dir]] as const) {
      const c = await RawClient.connect(port);
      for (const cmd of AOF_WORKLOAD) await c.call(...cmd);
      await c.call('BGREWRITEAOF');
      for (let i = 0; i < 100 && (await c.call('INFO', 'persistence')).includes('aof_rewrite_in_progress:1'); i++) await sleep(20);
      await sleep(50);
      c.close();
      const adir = join(d, 'appendonlydir');
      const base = readdirSync(adir).find((f) => f.includes('.base.'))!;
      bases.push(commandsByKey(readFileSync(join(adir, base), 'latin1')));
    }
    assert.deepEqual([...bases[0]!.keys()].sort(), [...bases[1]!.keys()].sort());
    for (const [k, cmds] of bases[1]!) assert.deepEqual(bases[0]!.get(k), cmds, `commands rebuilding ${k}`);
  } finally {
    await s.close();
    await redis.close();
  }
});

/** A RESP AOF's commands grouped by the key they rebuild, TIME values of fresh deliveries masked. */
function commandsByKey(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\r\n', pos);
    const n = Number(text.slice(pos + 1, nl));
    pos = nl + 2;
    const argv: string[] = [];
    for (let i = 0; i < n; i++) {
      const l = text.indexOf('\r\n', pos);
      const len = Number(text.slice(pos + 1, l));
      argv.push(text.slice(l + 2, l + 2 + len));
      pos = l + 2 + len + 2;
    }
    if (argv[0] === 'SELECT') continue;
    const key = argv[0] === 'XGROUP' ? argv[2]! : argv[1]!;
    const line = JSON.stringify(argv).replace(/"TIME","(?!1700000000000)\d+"/, '"TIME","T"');
    const list = out.get(key) ?? [];
    list.push(line);
    out.set(key, list);
  }
  return out;
}
