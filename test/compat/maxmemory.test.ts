/**
 * maxmemory and the MEMORY command against redis-server 7.0.15.
 *
 * Covered: the OOM error for denyoom commands over the limit (and which commands still run), OOM
 * inside MULTI and EXEC's refusal of a transaction holding a denyoom command, the OOM counters
 * of INFO errorstats/commandstats, eviction by the volatile-* policies and by allkeys-random with
 * its `evicted` keyspace notifications and evicted_keys, the eviction fields of INFO, and MEMORY
 * USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP; RESP2 and RESP3 where reply types matter.
 *
 * No memory figure is compared: Amber's are estimates of the V8 heap (src/keyspace/memory.ts,
 * src/server/maxmemory.ts), Redis's are malloc's. So MEMORY USAGE is compared by reply type,
 * MEMORY STATS by field names, MALLOC-STATS by reply type, INFO eviction fields by presence.
 * Amber does not count its start-up footprint (and the in-process, embedded server here counts
 * only its keyspace estimate), so with an empty keyspace it counts ~0 where Redis counts ~1 MB:
 * every OOM scenario therefore first writes k1..k10 (100-byte values) to both servers and then
 * sets `maxmemory 1`, so both are over the limit by the keyspace alone. For the same reason no
 * test uses an allkeys-* policy with `maxmemory 1` (Redis would evict every key and still refuse;
 * Amber, emptied, accepts), and allkeys-random eviction runs with a limit 256 KB above Redis's
 * used_memory and a fixed 200 KB for Amber.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/servers.js';
import { compatPair } from '../helpers/compat.js';
import { decode, type Decoded } from '../helpers/resp.js';

const pair = compatPair();
const { skip } = pair;

const OOM = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
const V100 = 'v'.repeat(100);
const TEN_KEYS = Array.from({ length: 10 }, (_, i) => ['SET', `k${i + 1}`, V100]);

/** Both servers back to: no limit, noeviction, no notifications, empty, stats zeroed. */
async function resetState(): Promise<void> {
  const cmds = [
    ['RESET'], ['CONFIG', 'SET', 'maxmemory', '0'], ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    ['CONFIG', 'SET', 'notify-keyspace-events', ''], ['FLUSHALL'], ['CONFIG', 'RESETSTAT'],
  ];
  await Promise.all([pair.ca.pipeline(cmds), pair.cr.pipeline(cmds)]);
  // the RESP3 connections stay RESP3 (RESET would switch them back): only leave any MULTI
  await Promise.all([pair.ca3.call('DISCARD'), pair.cr3.call('DISCARD')]);
}

/**
 * Writes k1..k10 and runs `setup` on both servers, then sets `policy` and `maxmemory 1`: both are
 * then over the limit (see the header for why keys come first).
 */
async function overLimit(policy = 'noeviction', setup: string[][] = []): Promise<void> {
  await resetState();
  await pair.same([
    ...TEN_KEYS, ...setup, ['CONFIG', 'RESETSTAT'],
    ['CONFIG', 'SET', 'maxmemory-policy', policy], ['CONFIG', 'SET', 'maxmemory', '1'],
  ]);
}

/** `name:value` lines of an INFO reply, by name. */
function infoFields(raw: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of raw.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#') && !line.startsWith('$')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** INFO `section` of both servers, as fields: [Amber's, Redis's]. */
async function infoBoth(section: string): Promise<[Map<string, string>, Map<string, string>]> {
  const [a, r] = await Promise.all([pair.ca.call('INFO', section), pair.cr.call('INFO', section)]);
  return [infoFields(a), infoFields(r)];
}

/** Raw replies of `cmds` on both servers over the given pair of connections: [Amber's, Redis's]. */
function both(cmds: string[][], a: RawClient, r: RawClient): Promise<[string[], string[]]> {
  return Promise.all([a.pipeline(cmds), r.pipeline(cmds)]);
}

/** The next `n` unsolicited frames of `c`, or a failure after `ms` (no endless wait). */
async function readFrames(c: RawClient, n: number, ms = 10000): Promise<string[]> {
  const p = c.read(n);
  p.catch(() => undefined); // a close after the timeout rejects it: not an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`no ${n} frame(s) within ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Frames of `sub` up to (not including) the first one containing `marker`; at most `max`. */
async function framesUntil(sub: RawClient, marker: string, max: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i <= max; i++) {
    const [f] = await readFrames(sub, 1);
    if (f!.includes(marker)) return out;
    out.push(f!);
  }
  throw new Error(`more than ${max} frames before ${marker}`);
}

// ---- MEMORY ----------------------------------------------------------------------------------

// First in the file: Amber judges "empty" on memory above its start-up footprint, which stays
// small only while this test process has done little.
test('MEMORY DOCTOR on an empty instance, HELP, PURGE, unknown subcommands and arity errors', { skip }, async () => {
  await resetState();
  const cmds = [
    ['MEMORY', 'DOCTOR'], ['MEMORY', 'HELP'], ['memory', 'help'], ['MEMORY', 'PURGE'],
    ['MEMORY'], ['MEMORY', 'NOPE'], ['MEMORY', 'nope', 'x'], ['MEMORY', 'HELP', 'x'], ['MEMORY', 'PURGE', 'x'],
    ['MEMORY', 'STATS', 'x'], ['MEMORY', 'DOCTOR', 'x'], ['MEMORY', 'MALLOC-STATS', 'x'], ['MEMORY', 'USAGE'],
  ];
  await pair.same(cmds);
  const r3 = await pair.same(cmds, true);
  assert.match(r3[0]!, /^=\d+\r\ntxt:Hi Sam, this instance is empty/);
});

test('MEMORY USAGE: errors and nulls byte for byte, sizes as integers for every type', { skip }, async () => {
  await resetState();
  await pair.same([
    ['RPUSH', 'l', 'a', 'b'], ['HSET', 'h', 'f', 'v'], ['SADD', 's', 'a'], ['SADD', 'si', '1', '2'],
    ['ZADD', 'z', '1', 'a'], ['XADD', 'x', '1-1', 'f', 'v'], ['PFADD', 'p', 'a'], ['SET', 'i', '12345'],
    ['SET', 'str', V100], ['SELECT', '1'], ['SET', 'other', 'v'], ['SELECT', '0'],
  ]);
  for (const resp3 of [false, true]) {
    // arity, syntax, integer parsing and missing keys: identical replies
    await pair.same([
      ['MEMORY', 'USAGE'], ['MEMORY', 'USAGE', 'nokey'], ['MEMORY', 'USAGE', 'other'],
      ['MEMORY', 'USAGE', 'str', 'SAMPLES'], ['MEMORY', 'USAGE', 'str', 'SAMPLES', '-1'],
      ['MEMORY', 'USAGE', 'str', 'SAMPLES', 'x'], ['MEMORY', 'USAGE', 'str', 'SAMPLES', '1.5'],
      ['MEMORY', 'USAGE', 'str', 'SAMPLES', '9999999999999999999999'], ['MEMORY', 'USAGE', 'str', 'FOO'],
      ['MEMORY', 'USAGE', 'str', 'SAMPLES', '1', 'FOO'], ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', 'x'],
      ['MEMORY', 'USAGE', 'nokey', 'FOO'], ['MEMORY', 'USAGE', 'nokey', 'SAMPLES', '-5'],
      ['MEMORY', 'USAGE', 'a', 'b', 'c', 'd', 'e'],
    ], resp3);
    // sizes: both an integer (the numbers are each server's own measure)
    const sized = [
      ['MEMORY', 'USAGE', 'l'], ['MEMORY', 'USAGE', 'h'], ['MEMORY', 'USAGE', 's'], ['MEMORY', 'USAGE', 'si'],
      ['MEMORY', 'USAGE', 'z'], ['MEMORY', 'USAGE', 'x'], ['MEMORY', 'USAGE', 'p'], ['MEMORY', 'USAGE', 'i'],
      ['MEMORY', 'USAGE', 'str'], ['memory', 'usage', 'str', 'samples', '0'], ['MEMORY', 'USAGE', 'l', 'SAMPLES', '1'],
      ['MEMORY', 'USAGE', 'l', 'SAMPLES', '99999999999999'], ['MEMORY', 'USAGE', 'l', 'SAMPLES', '1', 'SAMPLES', '2'],
    ];
    const [a, r] = await both(sized, resp3 ? pair.ca3 : pair.ca, resp3 ? pair.cr3 : pair.cr);
    for (let i = 0; i < sized.length; i++) {
      const what = `${resp3 ? 'RESP3 ' : ''}${sized[i]!.join(' ')}`;
      assert.match(a[i]!, /^:\d+\r\n$/, `Amber ${what}`);
      assert.match(r[i]!, /^:\d+\r\n$/, `Redis ${what}`);
    }
  }
});

test('MEMORY USAGE of an expired key not yet removed: a size on both, the key stays', { skip }, async () => {
  await resetState();
  try {
    await pair.same([['DEBUG', 'SET-ACTIVE-EXPIRE', '0'], ['SET', 'e', 'v', 'PX', '1']]);
    await new Promise((r) => setTimeout(r, 20));
    // MEMORY USAGE looks the key up without expiring it (a plain dictFind in Redis 7.0)
    const [a, r] = await both([['MEMORY', 'USAGE', 'e'], ['DBSIZE']], pair.ca, pair.cr);
    assert.match(a[0]!, /^:\d+\r\n$/);
    assert.match(r[0]!, /^:\d+\r\n$/);
    assert.equal(a[1], r[1]);
    await pair.same([['EXISTS', 'e'], ['DBSIZE']]);
  } finally {
    await pair.same([['DEBUG', 'SET-ACTIVE-EXPIRE', '1']]);
  }
});

test('MEMORY MALLOC-STATS: a bulk string in RESP2, a verbatim txt string in RESP3', { skip }, async () => {
  await resetState();
  const [a, r] = await both([['MEMORY', 'MALLOC-STATS']], pair.ca, pair.cr);
  const [a3, r3] = await both([['MEMORY', 'MALLOC-STATS']], pair.ca3, pair.cr3);
  for (const [who, raw] of [['Amber', a[0]!], ['Redis', r[0]!]] as const) {
    assert.match(raw, /^\$\d+\r\n[^]+\r\n$/, `${who} RESP2`);
  }
  for (const [who, raw] of [['Amber', a3[0]!], ['Redis', r3[0]!]] as const) {
    assert.match(raw, /^=\d+\r\ntxt:[^]+\r\n$/, `${who} RESP3`);
  }
  // the connections are still in step
  await pair.same([['PING']]);
  await pair.same([['PING']], true);
});

/**
 * MEMORY STATS on a fresh connection (RESP3 when asked): the field names of the top-level map in
 * order, each db.N entry as [name, reply type, nested names], and the raw reply to a PING sent
 * right after it (a wrong map length leaves bytes that answer the PING).
 */
async function memoryStats(port: number, resp3: boolean): Promise<{ type: string; names: string[]; dbs: unknown[]; next: string }> {
  const c = await RawClient.connect(port);
  try {
    if (resp3) await c.call('HELLO', '3');
    const [raw, next] = await c.pipeline([['MEMORY', 'STATS'], ['PING']]);
    const flat = decode(raw!) as Decoded[];
    const names: string[] = [];
    const dbs: unknown[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i] as string;
      names.push(name);
      if (/^db\.\d+$/.test(name)) {
        const nested = flat[i + 1] as Decoded[];
        // the type byte of the nested map: '*' in RESP2, '%' in RESP3
        const at = raw!.indexOf(`$${name.length}\r\n${name}\r\n`) + `$${name.length}\r\n${name}\r\n`.length;
        dbs.push([name, raw![at], nested.filter((_, j) => j % 2 === 0)]);
      }
    }
    return { type: raw![0]!, names, dbs, next: next! };
  } finally {
    c.close();
  }
}

test('MEMORY STATS: reply type and db.N entries (nested maps of 3 fields) as Redis, with and without keys', { skip }, async () => {
  for (const withKeys of [false, true]) {
    await resetState();
    if (withKeys) await pair.same([['SET', 'a', '1'], ['SET', 'b', '2', 'EX', '100'], ['SELECT', '3'], ['SET', 'c', '3'], ['SELECT', '0']]);
    for (const resp3 of [false, true]) {
      const a = await memoryStats(pair.amber.port, resp3);
      const r = await memoryStats(pair.redis.port, resp3);
      const what = `${resp3 ? 'RESP3' : 'RESP2'}${withKeys ? ' with keys' : ' empty'}`;
      assert.equal(a.type, r.type, what);
      assert.deepEqual(a.dbs, r.dbs, what);
      assert.equal(a.dbs.length, withKeys ? 2 : 0, what);
    }
  }
});

// The PING after MEMORY STATS catches a map length that disagrees with the fields sent (until
// adc5253 Amber declared 26 entries and sent 27: fragmentation.bytes answered the next command).
test('MEMORY STATS: the same field names in order, and the connection stays in step', { skip }, async () => {
  for (const withKeys of [false, true]) {
    await resetState();
    if (withKeys) await pair.same([['SET', 'a', '1'], ['SET', 'b', '2', 'EX', '100']]);
    for (const resp3 of [false, true]) {
      const a = await memoryStats(pair.amber.port, resp3);
      const r = await memoryStats(pair.redis.port, resp3);
      const what = `${resp3 ? 'RESP3' : 'RESP2'}${withKeys ? ' with keys' : ' empty'}`;
      assert.deepEqual(a.names, r.names, what);
      assert.equal(a.next, '+PONG\r\n', `${what}: reply to the PING after MEMORY STATS`);
      assert.equal(a.next, r.next, what);
    }
  }
});

// ---- INFO ------------------------------------------------------------------------------------

test('INFO: eviction fields present in stats and memory; maxmemory lines as Redis', { skip }, async () => {
  await resetState();
  for (const max of ['0', '1000', '204800', '1073741824', '3gb']) {
    for (const policy of ['noeviction', 'allkeys-lru', 'volatile-ttl']) {
      // Redis is over the smaller limits (its own ~1 MB), but CONFIG and INFO are not denyoom
      await pair.same([['CONFIG', 'SET', 'maxmemory', max], ['CONFIG', 'SET', 'maxmemory-policy', policy]]);
      const [am, rm] = await infoBoth('memory');
      for (const f of ['maxmemory', 'maxmemory_human', 'maxmemory_policy']) {
        assert.equal(am.get(f), rm.get(f), `INFO memory ${f} with maxmemory ${max} ${policy}`);
      }
      assert.ok(am.has('mem_not_counted_for_evict') && rm.has('mem_not_counted_for_evict'), 'mem_not_counted_for_evict');
    }
  }
  await pair.same([['CONFIG', 'SET', 'maxmemory', '0'], ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']]);
  const [as, rs] = await infoBoth('stats');
  for (const f of ['evicted_keys', 'evicted_clients', 'total_eviction_exceeded_time', 'current_eviction_exceeded_time']) {
    assert.ok(rs.has(f), `Redis INFO stats ${f}`);
    assert.ok(as.has(f), `Amber INFO stats ${f}`);
    assert.match(as.get(f)!, /^\d+$/, f);
  }
  assert.equal(as.get('evicted_keys'), rs.get('evicted_keys'));
  // the order of the eviction fields within INFO stats
  const order = (raw: string): string[] => raw.split('\r\n').map((l) => l.split(':')[0]!).filter((n) => /evict/.test(n));
  const [ra, rr] = await Promise.all([pair.ca.call('INFO', 'stats'), pair.cr.call('INFO', 'stats')]);
  assert.deepEqual(order(ra), order(rr));
});

// resetServerStats zeroes stat_total_eviction_exceeded_time and stat_last_eviction_exceeded_time
// (an exceeded period still running is forgotten); Amber does so since adc5253.
test('CONFIG RESETSTAT zeroes total_eviction_exceeded_time and current_eviction_exceeded_time', { skip }, async () => {
  await overLimit();
  await pair.same([['SET', 'x', 'y'], ['CONFIG', 'SET', 'maxmemory', '0'], ['CONFIG', 'RESETSTAT']]);
  await new Promise((r) => setTimeout(r, 30));
  const [as, rs] = await infoBoth('stats');
  for (const f of ['evicted_keys', 'total_eviction_exceeded_time', 'current_eviction_exceeded_time']) {
    assert.equal(rs.get(f), '0', `Redis ${f}`);
    assert.equal(as.get(f), rs.get(f), `Amber ${f}`);
  }
});

// ---- OOM -------------------------------------------------------------------------------------

/** Commands under noeviction over the limit: denyoom ones get OOM, the others run. */
const OOM_CASES: string[][] = [
  ['SET', 'a', 'b'], ['GET', 'k1'], ['INCR', 'n'], ['LPUSH', 'l', 'x'], ['RPUSHX', 'l', 'x'], ['LPOP', 'l'],
  ['EXPIRE', 'k2', '100'], ['PERSIST', 'k2'], ['APPEND', 'k3', 'x'], ['SETNX', 'z', '1'], ['MSET', 'a', '1'],
  ['SET', 'a', 'b', 'NX'], ['SETRANGE', 'k3', '0', 'y'], ['SETBIT', 'b', '1', '1'], ['INCRBYFLOAT', 'k9', '1'],
  ['HSET', 'h', 'f', 'v'], ['HINCRBY', 'h', 'f', '1'], ['HDEL', 'h', 'f'], ['SADD', 's', 'm'], ['SMOVE', 's', 't', 'm'],
  ['SPOP', 's'], ['ZADD', 'z', '1', 'm'], ['ZINCRBY', 'z', '1', 'm'], ['XADD', 'st', '*', 'f', 'v'],
  ['XGROUP', 'CREATE', 'st', 'g', '$', 'MKSTREAM'], ['PFADD', 'p', 'a'], ['PFMERGE', 'p'], ['PFCOUNT', 'p'],
  ['GEOADD', 'g', '1', '1', 'm'], ['GETSET', 'k4', 'v'], ['GETDEL', 'k5'], ['GETEX', 'k6', 'EX', '100'],
  ['COPY', 'k1', 'k1c'], ['RENAME', 'k7', 'k7r'], ['MOVE', 'k8', '1'], ['SWAPDB', '0', '1'], ['SWAPDB', '0', '1'],
  ['SORT', 'l', 'ALPHA', 'STORE', 'ls'], ['SORT', 'l', 'ALPHA'], ['BITOP', 'AND', 'd', 'k1'], ['SUNIONSTORE', 'd', 's'],
  ['LINSERT', 'l', 'BEFORE', 'a', 'q'], ['LSET', 'l', '0', 'q'], ['LMOVE', 'l', 'l2', 'LEFT', 'LEFT'],
  ['RPOPLPUSH', 'l', 'l'], ['BLPOP', 'l', '0.01'], ['BLMOVE', 'l', 'l2', 'LEFT', 'LEFT', '0.01'],
  ['RESTORE', 'rk', '0', 'x'], ['DEL', 'k10'], ['UNLINK', 'nokey'], ['PUBLISH', 'ch', 'm'], ['PING'], ['ECHO', 'x'],
  ['DBSIZE'], ['EXISTS', 'k1'], ['TTL', 'k2'], ['TOUCH', 'k1'], ['OBJECT', 'ENCODING', 'k1'], ['SELECT', '0'],
  ['CONFIG', 'GET', 'maxmemory'], ['MEMORY', 'USAGE', 'nokey'], ['NOPE'], ['SET', 'a'], ['GET'],
  ['SET', 'a', 'b'], ['DBSIZE'],
];

test('noeviction over the limit: denyoom commands get OOM, reads and other writes run (RESP2, RESP3)', { skip }, async () => {
  for (const resp3 of [false, true]) {
    await overLimit('noeviction', [['RPUSH', 'l', 'a', 'b', 'c']]);
    const replies = await pair.same(OOM_CASES, resp3);
    assert.equal(replies[0], OOM, 'SET is refused');
    assert.equal(replies.filter((r) => r === OOM).length > 20, true, 'many refusals');
  }
});

test('OOM refusals count in INFO errorstats and as rejected_calls in commandstats', { skip }, async () => {
  await overLimit();
  await pair.same([['SET', 'a', 'b'], ['SET', 'a', 'b'], ['INCR', 'n'], ['GET', 'k1'], ['MULTI'], ['GET', 'k1'], ['EXEC']]);
  const [ae, re] = await infoBoth('errorstats');
  assert.deepEqual([...ae], [...re], 'INFO errorstats');
  const [ac, rc] = await infoBoth('commandstats');
  for (const cmd of ['cmdstat_set', 'cmdstat_incr', 'cmdstat_get', 'cmdstat_multi', 'cmdstat_exec']) {
    const counts = (v: string | undefined): string => (v ?? '').replace(/usec=\d+,usec_per_call=[\d.]+,/, '');
    assert.equal(counts(ac.get(cmd)), counts(rc.get(cmd)), cmd);
  }
});

test('MULTI over the limit: every queued command but EXEC/DISCARD gets OOM, EXEC answers EXECABORT', { skip }, async () => {
  for (const resp3 of [false, true]) {
    await overLimit();
    await pair.same([
      ['MULTI'], ['SET', 'a', 'b'], ['GET', 'a'], ['PING'], ['DEL', 'k1'], ['EXEC'], ['GET', 'k1'],
      ['MULTI'], ['GET', 'a'], ['DISCARD'], ['EXEC'],
      ['MULTI'], ['NOPE'], ['EXEC'],
      ['MULTI'], ['MULTI'], ['WATCH', 'x'], ['EXEC'],
    ], resp3);
  }
  // QUIT ends a transaction over the limit too (on connections of its own: it closes them)
  const [qa, qr] = await Promise.all([RawClient.connect(pair.amber.port), RawClient.connect(pair.redis.port)]);
  try {
    await pair.sameOn([['MULTI'], ['GET', 'k1'], ['QUIT']], qa, qr);
  } finally {
    qa.close();
    qr.close();
  }
});

test('MULTI over the limit then RESET: the transaction ends, commands run again', { skip }, async () => {
  await overLimit();
  await pair.same([['MULTI'], ['SET', 'a', 'b'], ['RESET'], ['GET', 'k1'], ['SET', 'a', 'b'], ['EXEC']]);
});

test('EXEC after the limit dropped under a queued transaction (RESP2, RESP3)', { skip }, async () => {
  const [adminA, adminR] = await Promise.all([RawClient.connect(pair.amber.port), RawClient.connect(pair.redis.port)]);
  try {
    for (const resp3 of [false, true]) {
      const [a, r] = resp3 ? [pair.ca3, pair.cr3] : [pair.ca, pair.cr];
      const lower = (): Promise<string[]> => pair.sameOn([['CONFIG', 'SET', 'maxmemory', '1']], adminA, adminR, 'admin ');
      const raise = [['CONFIG', 'SET', 'maxmemory', '0']];
      await resetState();
      await pair.same(TEN_KEYS, resp3);
      // only reads and a non-denyoom write queued: EXEC runs them
      await pair.sameOn([['MULTI'], ['GET', 'k1'], ['DEL', 'k2'], ['EXPIRE', 'k3', '100'], ['LPOP', 'nolist']], a, r);
      await lower();
      const ran = await pair.sameOn([['EXEC'], ['SET', 'x', 'y'], ['DBSIZE']], a, r);
      assert.match(ran[0]!, /^\*4\r\n\$100\r\n/);
      assert.equal(ran[1], OOM);
      // a queued denyoom command: EXEC is refused and the transaction discarded
      await pair.sameOn([...raise, ['MULTI'], ['GET', 'k1'], ['SET', 'k1', 'new'], ['INCR', 'n']], a, r);
      await lower();
      const refused = await pair.sameOn([['EXEC'], ['GET', 'k1'], ['EXISTS', 'n'], ['EXEC'], ['DISCARD']], a, r);
      assert.equal(refused[0], "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n");
      // WATCH still applies first: a touched key aborts the EXEC with a null reply
      await pair.sameOn([...raise, ['WATCH', 'k1'], ['MULTI'], ['GET', 'k1']], a, r);
      await pair.sameOn([['CONFIG', 'SET', 'maxmemory', '1'], ['EXPIRE', 'k1', '100']], adminA, adminR, 'admin ');
      await pair.sameOn([['EXEC'], ['MULTI'], ['EXEC']], a, r);
      // the limit set inside the transaction itself: queued before it applies, so all of it runs
      await pair.sameOn([...raise, ['MULTI'], ['SET', 'a', 'b'], ['CONFIG', 'SET', 'maxmemory', '1'], ['SET', 'c', 'd'], ['EXEC'], ['GET', 'c'], ['SET', 'e', 'f']], a, r);
    }
  } finally {
    adminA.close();
    adminR.close();
  }
});

// ---- eviction --------------------------------------------------------------------------------

/** TTLs given by volatileRun, in this order: not the order of the keys nor of the expire times. */
const TTLS3: Array<[string, string]> = [['k3', '300'], ['k1', '100'], ['k2', '200']];
const TTLS5: Array<[string, string]> = [['k5', '500'], ['k3', '300'], ['k1', '100'], ['k4', '400'], ['k2', '200']];

/**
 * k1..k10 with the TTLs of `ttls` (set in that order), `policy`, notifications of `evicted` (KEe)
 * on a PSUBSCRIBEd connection, then `maxmemory 1`: the replies to the commands over the limit
 * (identical on both), each server's notification frames and evicted_keys.
 */
async function volatileRun(policy: string, ttls = TTLS3): Promise<{ replies: string[]; fa: string[]; fr: string[]; evicted: [string?, string?] }> {
  await resetState();
  const [subA, subR] = await Promise.all([RawClient.connect(pair.amber.port), RawClient.connect(pair.redis.port)]);
  try {
    await pair.same([
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KEe'], ...TEN_KEYS,
      ...ttls.map(([k, s]) => ['EXPIRE', k, s]), ['CONFIG', 'SET', 'maxmemory-policy', policy],
    ]);
    await pair.sameOn([['PSUBSCRIBE', '__key*@0__:*']], subA, subR);
    const replies = await pair.same([
      ['CONFIG', 'SET', 'maxmemory', '1'], ['SET', 'x', 'y'], ['DBSIZE'], ['EXISTS', ...ttls.map(([k]) => k)], ['GET', 'k10'],
      ['SET', 'x', 'y'], ['CONFIG', 'SET', 'maxmemory', '0'], ['PUBLISH', '__keyevent@0__:zz-end', 'x'],
    ]);
    const [fa, fr] = await Promise.all([framesUntil(subA, 'zz-end', 20), framesUntil(subR, 'zz-end', 20)]);
    const [as, rs] = await infoBoth('stats');
    return { replies, fa, fr, evicted: [as.get('evicted_keys'), rs.get('evicted_keys')] };
  } finally {
    subA.close();
    subR.close();
  }
}

test('volatile-* policies over the limit evict every key with a TTL, then refuse', { skip }, async () => {
  for (const policy of ['volatile-ttl', 'volatile-lru', 'volatile-lfu', 'volatile-random']) {
    const { replies, fa, fr, evicted } = await volatileRun(policy);
    assert.equal(replies[1], OOM, policy);
    assert.equal(replies[2], ':7\r\n', policy);
    assert.equal(fr.length, 6, `Redis ${policy}: keyspace and keyevent frames for k1, k2, k3`);
    // the same frames; the order of the evictions is compared below for volatile-ttl only
    assert.deepEqual([...fa].sort(), [...fr].sort(), policy);
    assert.equal(evicted[0], evicted[1], `${policy} evicted_keys`);
    assert.equal(evicted[1], '3');
  }
});

// With no more keys with a TTL than maxmemory-samples (5), Redis's dictGetSomeKeys on the
// expires dict returns every one of them, so volatile-ttl evicts k1..k5 by expire time, always.
// Amber samples such a small set whole too (sampleTtl in src/keyspace/evict.ts); random draws
// with replacement missed k1 about one round in three. 30 rounds (bounded, each a few
// milliseconds) make a regression near certain to show.
test('volatile-ttl evicts in expire-time order when every key with a TTL fits in one sample', { skip }, async () => {
  for (let round = 0; round < 30; round++) {
    const { fa, fr } = await volatileRun('volatile-ttl', TTLS5);
    assert.equal(fr.length, 10, 'Redis: k1..k5 evicted');
    assert.deepEqual(fa, fr, `round ${round}`);
  }
});

interface EvictionRun {
  written: number;
  replies: Set<string>;
  evicted: number;
  dbsize: number;
  /** the `evicted` notification frames, in order */
  frames: string[];
  /** the keys the keyevent frames name */
  keys: string[];
  /** EXISTS of up to 100 of those keys */
  exists: string;
}

const KEY_RE = /key:\d{6}/g;
const VALUE_1K = 'x'.repeat(1000);

/**
 * allkeys-random with a limit under the data on the server at `port`: `limit(usedMemory)` gives
 * maxmemory from INFO's used_memory. Writes 1000-byte values under key:000000, key:000001... in
 * batches of 100 until at least 2000 keys are written and keys were evicted (at most 8000), with
 * a subscriber (RESP3 when asked) on the `evicted` events of `flags`; then lifts the limit and
 * collects the evicted notifications up to a PUBLISH marker.
 */
async function evictionRun(port: number, limit: (used: number) => number, flags: string, resp3: boolean): Promise<EvictionRun> {
  const cmd = await RawClient.connect(port);
  const sub = await RawClient.connect(port);
  try {
    await cmd.pipeline([
      ['CONFIG', 'SET', 'notify-keyspace-events', flags], ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random'], ['CONFIG', 'RESETSTAT'],
    ]);
    if (resp3) await sub.call('HELLO', '3');
    const pattern = flags.includes('K');
    await sub.sendRaw(RawClient.encode(pattern ? ['PSUBSCRIBE', '__key*@0__:*'] : ['SUBSCRIBE', '__keyevent@0__:evicted']), 1);
    const used = Number(infoFields(await cmd.call('INFO', 'memory')).get('used_memory'));
    await cmd.call('CONFIG', 'SET', 'maxmemory', String(limit(used)));
    const replies = new Set<string>();
    let written = 0;
    let evicted = 0;
    while (written < 8000 && (written < 2000 || evicted === 0)) {
      const batch: string[][] = [];
      for (let i = 0; i < 100; i++, written++) batch.push(['SET', `key:${String(written).padStart(6, '0')}`, VALUE_1K]);
      for (const r of await cmd.pipeline(batch)) replies.add(r);
      evicted = Number(infoFields(await cmd.call('INFO', 'stats')).get('evicted_keys'));
    }
    // no more eviction from here on: the counts below hold still
    await cmd.call('CONFIG', 'SET', 'maxmemory', '0');
    evicted = Number(infoFields(await cmd.call('INFO', 'stats')).get('evicted_keys'));
    const dbsize = Number((await cmd.call('DBSIZE')).slice(1, -2));
    await cmd.call('PUBLISH', pattern ? '__keyevent@0__:zz-end' : '__keyevent@0__:evicted', 'zz-end');
    const all = await framesUntil(sub, 'zz-end', 4 * written + 10);
    const frames = all.filter((f) => f.includes('evicted'));
    const keys = frames.filter((f) => f.includes('__keyevent@0__:evicted')).map((f) => f.match(KEY_RE)![0]);
    const exists = keys.length ? await cmd.call('EXISTS', ...keys.slice(0, 100)) : ':0\r\n';
    return { written, replies, evicted, dbsize, frames, keys, exists };
  } finally {
    await cmd.pipeline([['CONFIG', 'SET', 'maxmemory', '0'], ['CONFIG', 'SET', 'notify-keyspace-events', ''], ['FLUSHALL']]);
    cmd.close();
    sub.close();
  }
}

for (const [flags, resp3] of [['Ee', false], ['KEA', true]] as const) {
  test(`allkeys-random under the data evicts keys with ${flags} notifications (${resp3 ? 'RESP3' : 'RESP2'} subscriber)`, { skip, timeout: 120000 }, async () => {
    await resetState();
    // Redis: a little above what it uses now; Amber: a fixed 200 KB (its measure leaves out the
    // start-up footprint, see the header)
    const a = await evictionRun(pair.amber.port, () => 200 * 1024, flags, resp3);
    const r = await evictionRun(pair.redis.port, (used) => used + 256 * 1024, flags, resp3);
    for (const [who, run] of [['Amber', a], ['Redis', r]] as const) {
      assert.deepEqual([...run.replies], ['+OK\r\n'], `${who}: every SET accepted`);
      assert.ok(run.evicted > 0, `${who}: evicted_keys > 0`);
      assert.equal(run.dbsize + run.evicted, run.written, `${who}: DBSIZE + evicted_keys = keys written`);
      assert.equal(run.keys.length, run.evicted, `${who}: one keyevent notification per evicted key`);
      assert.equal(new Set(run.keys).size, run.keys.length, `${who}: each key evicted once`);
      assert.equal(run.exists, ':0\r\n', `${who}: notified keys are gone`);
      // keyspace + keyevent pairs for the same key (K), or keyevent frames alone
      assert.equal(run.frames.length, flags.includes('K') ? 2 * run.evicted : run.evicted, `${who}: frames`);
    }
    // the frames' shape: identical once the key's digits are masked
    const mask = (f: string): string => f.replace(KEY_RE, 'key:NNNNNN');
    assert.equal(mask(a.frames[0]!), mask(r.frames[0]!), 'first frame');
    if (flags.includes('K')) assert.equal(mask(a.frames[1]!), mask(r.frames[1]!), 'second frame');
    const shapes = (run: EvictionRun): string[] => [...new Set(run.frames.map(mask))].sort();
    assert.deepEqual(shapes(a), shapes(r), 'every frame shape');
  });
}
