/**
 * Hash commands compared byte for byte with redis-server 7.0.15, in RESP2 and RESP3: every
 * command, its errors (wrong type, arity, syntax, ranges, overflow, float errors), OBJECT ENCODING
 * transitions, the long double results of HINCRBYFLOAT, HRANDFIELD's deterministic cases and the
 * shape of its random ones, HSCAN, keyspace notifications, dirty counts and propagation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient, replyEnd } from '../helpers/servers.js';
import { respCommands } from '../helpers/resp.js';
import { compatPair, collectNotifications } from '../helpers/compat.js';

const pair = compatPair({ clients: 'none', redis: ['--appendonly', 'yes', '--appendfsync', 'always'] });
const { skip } = pair;

/** How a reply is compared: exactly, as a multiset of elements, of pairs, or by shape only. */
type Norm = 'sort' | 'pairs' | 'shape';
type Step = string[] | [Norm, string[]];

/** Splits an aggregate reply into its header and its top-level elements' raw bytes. */
function split(reply: string): [string, string[]] {
  const buf = Buffer.from(reply, 'latin1');
  const nl = reply.indexOf('\r\n');
  const header = reply.slice(0, nl + 2);
  const items: string[] = [];
  let p = nl + 2;
  while (p < buf.length) {
    const e = replyEnd(buf, p);
    items.push(reply.slice(p, e));
    p = e;
  }
  return [header, items];
}

function normalize(reply: string, norm: Norm): string {
  if (norm === 'shape' && reply[0] === '$') return '$?';
  if (!'*~%'.includes(reply[0]!)) return reply;
  const [header, items] = split(reply);
  // RESP3 nests pairs (HRANDFIELD WITHVALUES): then each item is a pair already
  if (norm === 'sort' || (norm === 'pairs' && items[0]?.[0] === '*')) return header + items.sort().join('');
  if (norm === 'pairs') {
    const pairs: string[] = [];
    for (let i = 0; i < items.length; i += 2) pairs.push(items[i]! + items[i + 1]!);
    return header + pairs.sort().join('');
  }
  return header + items.map((it) => (it[0] === '$' ? '$?' : '[' + normalize(it, 'shape') + ']')).join('');
}

async function run(port: number, steps: Step[], resp3: boolean): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    await c.call('FLUSHALL');
    if (resp3) await c.call('HELLO', '3');
    const out: string[] = [];
    for (const s of steps) {
      const [norm, argv] = typeof s[0] === 'string' && Array.isArray(s[1]) ? (s as [Norm, string[]]) : [null, s as string[]];
      const r = await c.call(...argv);
      out.push(`${argv.join(' ').slice(0, 80)} -> ${norm ? normalize(r, norm) : r}`);
    }
    return out;
  } finally {
    c.close();
  }
}

/** Runs `steps` on both servers after FLUSHALL and compares the replies (RESP2, then RESP3). */
async function same(steps: Step[], both = true): Promise<void> {
  assert.deepEqual(await run(pair.amber.port, steps, false), await run(pair.redis.port, steps, false));
  if (both) assert.deepEqual(await run(pair.amber.port, steps, true), await run(pair.redis.port, steps, true));
}

const long = (n: number, ch = 'x'): string => ch.repeat(n);

test('HSET, HMSET, HSETNX, HGET, HMGET, HLEN, HSTRLEN, HEXISTS, HDEL', { skip }, async () => {
  await same([
    ['HSET', 'h', 'f1', 'v1'], ['HSET', 'h', 'f1', 'v1b', 'f2', 'v2', 'f3', ''], ['HSET', 'h', 'f2', 'x', 'f2', 'y'],
    ['HGET', 'h', 'f2'], ['HGET', 'h', 'nope'], ['HGET', 'nokey', 'f'],
    ['HMSET', 'h', 'a', '1', 'b', '2'], ['HMGET', 'h', 'a', 'zz', 'f1', 'f3'], ['HMGET', 'nokey', 'a', 'b'],
    ['HSETNX', 'h', 'a', 'new'], ['HSETNX', 'h', 'c', 'new'], ['HSETNX', 'h2', 'c', 'v'], ['HGET', 'h', 'c'],
    ['HLEN', 'h'], ['HLEN', 'nokey'], ['HSTRLEN', 'h', 'f1'], ['HSTRLEN', 'h', 'f3'], ['HSTRLEN', 'h', 'nope'], ['HSTRLEN', 'nokey', 'f'],
    ['HEXISTS', 'h', 'a'], ['HEXISTS', 'h', 'nope'], ['HEXISTS', 'nokey', 'a'],
    ['HSET', 'n', 'i', '12345', 'neg', '-7', 'big', '9223372036854775807'], ['HSTRLEN', 'n', 'i'], ['HGET', 'n', 'big'],
    ['HDEL', 'h', 'a', 'a', 'zz'], ['HDEL', 'h', 'zz'], ['HDEL', 'nokey', 'a'], ['HGETALL', 'h'],
    ['HDEL', 'h', 'f1', 'f2', 'f3', 'b', 'c', 'f1'], ['EXISTS', 'h'], ['HDEL', 'h2', 'c'], ['EXISTS', 'h2'],
    ['HSET', 'bin', '\x00\xff\r\n', '\x00v\xfe'], ['HGETALL', 'bin'], ['HSTRLEN', 'bin', '\x00\xff\r\n'],
    ['HSET', 'e', '', ''], ['HGETALL', 'e'], ['HEXISTS', 'e', ''],
  ]);
});

test('HGETALL, HKEYS, HVALS: maps in RESP3, empty replies, insertion order of listpacks', { skip }, async () => {
  await same([
    ['HGETALL', 'nokey'], ['HKEYS', 'nokey'], ['HVALS', 'nokey'],
    ['HSET', 'h', 'z', '1', 'a', '2', 'm', '3'], ['HSET', 'h', 'a', '22'],
    ['HGETALL', 'h'], ['HKEYS', 'h'], ['HVALS', 'h'],
    ['HSET', 'big', 'f', long(100)], ['HSET', 'big', 'g', '1', 'h', '2'],
    ['pairs', ['HGETALL', 'big']], ['sort', ['HKEYS', 'big']], ['sort', ['HVALS', 'big']],
  ]);
});

test('errors: wrong type, arity, syntax, integers and floats', { skip }, async () => {
  await same([
    ['SET', 's', 'x'],
    ['HSET', 's', 'f', 'v'], ['HMSET', 's', 'f', 'v'], ['HSETNX', 's', 'f', 'v'], ['HGET', 's', 'f'], ['HMGET', 's', 'f'],
    ['HDEL', 's', 'f'], ['HLEN', 's'], ['HSTRLEN', 's', 'f'], ['HEXISTS', 's', 'f'], ['HGETALL', 's'], ['HKEYS', 's'],
    ['HVALS', 's'], ['HINCRBY', 's', 'f', '1'], ['HINCRBYFLOAT', 's', 'f', '1'], ['HRANDFIELD', 's'],
    ['HRANDFIELD', 's', '2'], ['HRANDFIELD', 's', '0'], ['HRANDFIELD', 's', '-2', 'WITHVALUES'], ['HSCAN', 's', '0'],
    ['HSET', 'h', 'f'], ['HSET', 'h', 'f', 'v', 'g'], ['HMSET', 'h', 'f', 'v', 'g'], ['HSET', 'h'], ['HGET', 'h'],
    ['HSETNX', 'h', 'f'], ['HDEL', 'h'], ['HMGET', 'h'], ['HLEN'], ['HGETALL', 'h', 'x'], ['HRANDFIELD'],
    ['HINCRBY', 'h', 'f'], ['HINCRBYFLOAT', 'h', 'f', '1', '2'], ['HSCAN', 'h'], ['EXISTS', 'h'],
    ['HSET', 'h', 'str', 'abc', 'int', '10', 'sp', ' 1', 'fl', '1.5', 'max', '9223372036854775807', 'min', '-9223372036854775808'],
    ['HINCRBY', 'h', 'int', 'x'], ['HINCRBY', 'h', 'int', '1.5'], ['HINCRBY', 'h', 'int', '9223372036854775808'],
    ['HINCRBY', 'h', 'int', ''], ['HINCRBY', 'h', 'int', ' 1'], ['HINCRBY', 'nokey', 'f', 'x'], ['EXISTS', 'nokey'],
    ['HINCRBY', 'h', 'str', '1'], ['HINCRBY', 'h', 'sp', '1'], ['HINCRBY', 'h', 'fl', '1'],
    ['HINCRBY', 'h', 'max', '1'], ['HINCRBY', 'h', 'max', '0'], ['HINCRBY', 'h', 'min', '-1'], ['HINCRBY', 'h', 'min', '1'],
    ['HINCRBY', 'h', 'max', '-9223372036854775808'], ['HINCRBY', 'h', 'int', '-20'], ['HINCRBY', 'h', 'new', '-5'],
    ['HINCRBY', 'h', 'int', '9223372036854775807'], ['HINCRBY', 'h', 'int', '9223372036854775807'],
    ['HINCRBYFLOAT', 'h', 'int', 'abc'], ['HINCRBYFLOAT', 'h', 'int', 'nan'], ['HINCRBYFLOAT', 'h', 'int', 'inf'],
    ['HINCRBYFLOAT', 'h', 'int', '-infinity'], ['HINCRBYFLOAT', 'h', 'int', ''], ['HINCRBYFLOAT', 'h', 'int', ' 1'],
    ['HINCRBYFLOAT', 'h', 'str', '1'], ['HINCRBYFLOAT', 'h', 'sp', '1'], ['HINCRBYFLOAT', 'nokey', 'f', 'inf'], ['EXISTS', 'nokey'],
    ['HSET', 'h', 'huge', '1e4932'], ['HINCRBYFLOAT', 'h', 'huge', '1e4932'], ['HSET', 'h', 'infv', 'inf'],
    ['HINCRBYFLOAT', 'h', 'infv', '1'], ['HGETALL', 'h'],
  ]);
});

test('HINCRBYFLOAT: long double arithmetic and formatting', { skip }, async () => {
  const steps: Step[] = [
    ['HINCRBYFLOAT', 'h', 'a', '10.5'], ['HINCRBYFLOAT', 'h', 'a', '0.1'], ['HINCRBYFLOAT', 'h', 'a', '5.0e3'],
    ['HINCRBYFLOAT', 'h', 'b', '3'], ['HINCRBYFLOAT', 'h', 'b', '-3'], ['HINCRBYFLOAT', 'h', 'c', '1.1e-20'],
    ['HINCRBYFLOAT', 'h', 'd', '123456789012345678901234567890'], ['HINCRBYFLOAT', 'h', 'e', '-0.0'],
    ['HINCRBYFLOAT', 'h', 'f', '0x10'], ['HINCRBYFLOAT', 'h', 'g', '1e-5'], ['HINCRBYFLOAT', 'h', 'g', '.5'],
    ['HSET', 'h', 'i', '9223372036854775807'], ['HINCRBYFLOAT', 'h', 'i', '1'], ['HINCRBYFLOAT', 'h', 'i', '0.25'],
    ['HGETALL', 'h'],
  ];
  for (let i = 0; i < 40; i++) {
    const v = (Math.random() * 2000 - 1000).toFixed(Math.floor(Math.random() * 8));
    steps.push(['HINCRBYFLOAT', 'r', 'f', v]);
  }
  await same(steps, false);
});

test('OBJECT ENCODING: listpack to hashtable by entries, value length, field length; never back', { skip }, async () => {
  const steps: Step[] = [
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '4'],
    ['HSET', 'a', '1', '1', '2', '2', '3', '3', '4', '4'], ['OBJECT', 'ENCODING', 'a'],
    ['HSET', 'a', '1', 'x'], ['OBJECT', 'ENCODING', 'a'], ['HSET', 'a', '5', '5'], ['OBJECT', 'ENCODING', 'a'],
    ['HDEL', 'a', '1', '2', '3', '4'], ['OBJECT', 'ENCODING', 'a'], ['HGETALL', 'a'],
    ['HSET', 'b', 'f', long(64)], ['OBJECT', 'ENCODING', 'b'], ['HSET', 'b', 'g', long(65)], ['OBJECT', 'ENCODING', 'b'],
    ['HSET', 'c', long(65), 'v'], ['OBJECT', 'ENCODING', 'c'],
    ['HSET', 'd', 'f', 'v'], ['HSETNX', 'd', 'f', long(70)], ['OBJECT', 'ENCODING', 'd'],
    ['HSETNX', 'd', 'g', long(70)], ['OBJECT', 'ENCODING', 'd'],
    ['HSET', 'e', 'f', '1'], ['HINCRBY', 'e', long(70, 'y'), '1'], ['OBJECT', 'ENCODING', 'e'],
    ['HSET', 'g', 'f', '1'], ['HINCRBYFLOAT', 'g', long(70, 'y'), '1.5'], ['OBJECT', 'ENCODING', 'g'],
    ['HSET', 'i', 'f', '1'], ['HINCRBY', 'i', 'f', '1'], ['OBJECT', 'ENCODING', 'i'],
    ['CONFIG', 'SET', 'hash-max-ziplist-value', '3'], ['CONFIG', 'GET', 'hash-max-listpack-value'],
    ['HSET', 'j', 'f', '999'], ['OBJECT', 'ENCODING', 'j'], ['HINCRBY', 'j', 'f', '1'], ['OBJECT', 'ENCODING', 'j'],
    ['HSET', 'k', 'f', '1'], ['HINCRBYFLOAT', 'k', 'f', '0.5'], ['OBJECT', 'ENCODING', 'k'],
    ['CONFIG', 'SET', 'hash-max-ziplist-entries', '0'], ['CONFIG', 'GET', 'hash-max-ziplist-entries'],
    ['HSET', 'l', 'f', 'v'], ['OBJECT', 'ENCODING', 'l'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'], ['CONFIG', 'SET', 'hash-max-listpack-value', '64'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '-1'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '1k'],
    ['CONFIG', 'SET', 'hash-max-listpack-value', '-1'], ['CONFIG', 'SET', 'hash-max-listpack-value', '1kb'],
    ['CONFIG', 'GET', 'hash-max-listpack-value'], ['CONFIG', 'SET', 'hash-max-listpack-value', '64'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '9223372036854775807'], ['CONFIG', 'GET', 'hash-max-listpack-entries'],
    ['CONFIG', 'SET', 'hash-max-listpack-entries', '9223372036854775808'], ['CONFIG', 'SET', 'hash-max-listpack-entries', '512'],
  ];
  const fill: string[] = ['HSET', 'm'];
  for (let i = 0; i < 512; i++) fill.push('f' + i, 'v');
  steps.push(fill, ['OBJECT', 'ENCODING', 'm'], ['HSET', 'm', 'f0', 'w'], ['OBJECT', 'ENCODING', 'm'],
    ['HSET', 'm', 'f512', 'v'], ['OBJECT', 'ENCODING', 'm'], ['HLEN', 'm']);
  await same(steps, false);
});

test('HRANDFIELD: errors, deterministic cases exactly, random cases by shape', { skip }, async () => {
  const fields: string[] = ['HSET', 'h'];
  for (let i = 0; i < 5; i++) fields.push('f' + i, 'v' + i);
  const big: string[] = ['HSET', 'big'];
  for (let i = 0; i < 600; i++) big.push('f' + i, 'v' + i);
  await same([
    fields, big, ['HSET', 'one', 'only', 'val'],
    ['HRANDFIELD', 'nokey'], ['HRANDFIELD', 'nokey', '5'], ['HRANDFIELD', 'nokey', '-5', 'WITHVALUES'], ['HRANDFIELD', 'nokey', '0'],
    ['HRANDFIELD', 'h', 'x'], ['HRANDFIELD', 'h', '1.5'], ['HRANDFIELD', 'h', '-9223372036854775808'],
    ['HRANDFIELD', 'h', '9223372036854775808'], ['HRANDFIELD', 'h', '5', 'foo'], ['HRANDFIELD', 'h', '5', 'withvalues', 'x'],
    ['HRANDFIELD', 'h', '4611686018427387904', 'WITHVALUES'], ['HRANDFIELD', 'h', '-4611686018427387904', 'WITHVALUES'],
    ['HRANDFIELD', 'nokey', '4611686018427387904', 'WITHVALUES'], ['HRANDFIELD', 'nokey', '9223372036854775807'],
    ['HRANDFIELD', 'h', '0'], ['HRANDFIELD', 'h', '0', 'WITHVALUES'],
    ['HRANDFIELD', 'h', '5'], ['HRANDFIELD', 'h', '10', 'WITHVALUES'], ['HRANDFIELD', 'h', '9223372036854775807'],
    ['HRANDFIELD', 'one'], ['HRANDFIELD', 'one', '-3'], ['HRANDFIELD', 'one', '-3', 'WITHVALUES'], ['HRANDFIELD', 'one', '1', 'withvalues'],
    ['shape', ['HRANDFIELD', 'h']], ['shape', ['HRANDFIELD', 'h', '3']], ['shape', ['HRANDFIELD', 'h', '-12']],
    ['shape', ['HRANDFIELD', 'h', '3', 'WITHVALUES']], ['shape', ['HRANDFIELD', 'h', '-12', 'WITHVALUES']],
    ['shape', ['HRANDFIELD', 'big', '1']], ['shape', ['HRANDFIELD', 'big', '-700', 'WITHVALUES']],
    ['shape', ['HRANDFIELD', 'big', '100', 'WITHVALUES']], ['shape', ['HRANDFIELD', 'big', '500']],
    ['pairs', ['HRANDFIELD', 'big', '600', 'WITHVALUES']], ['sort', ['HRANDFIELD', 'big', '1000']],
  ]);
});

/** Parses a RESP2/RESP3 reply of leaves and aggregates into nested arrays of strings. */
function parse(reply: string): unknown {
  const [v] = parseAt(reply, 0);
  return v;
}
function parseAt(s: string, p: number): [unknown, number] {
  const nl = s.indexOf('\r\n', p);
  const t = s[p]!;
  const line = s.slice(p + 1, nl);
  if (t === '$') {
    const n = Number(line);
    return n < 0 ? [null, nl + 2] : [s.slice(nl + 2, nl + 2 + n), nl + 4 + n];
  }
  if ('*~%>'.includes(t)) {
    const n = Number(line) * (t === '%' ? 2 : 1);
    const out: unknown[] = [];
    let q = nl + 2;
    for (let i = 0; i < n; i++) {
      const [v, e] = parseAt(s, q);
      out.push(v);
      q = e;
    }
    return [out, q];
  }
  return [line, nl + 2];
}

test('HRANDFIELD: random replies hold real fields, distinct when count is positive', { skip }, async () => {
  const c = await RawClient.connect(pair.amber.port);
  try {
    for (const n of [5, 600]) {
      await c.call('DEL', 'h');
      const argv = ['HSET', 'h'];
      for (let i = 0; i < n; i++) argv.push('f' + i, 'v' + i);
      await c.call(...argv);
      for (const count of [1, 2, 3, Math.floor(n / 2), n - 1, 250]) {
        const flat = parse(await c.call('HRANDFIELD', 'h', String(count), 'WITHVALUES')) as string[];
        assert.equal(flat.length, 2 * Math.min(count, n));
        const fs = new Set<string>();
        for (let i = 0; i < flat.length; i += 2) {
          assert.equal(flat[i + 1], 'v' + flat[i]!.slice(1));
          fs.add(flat[i]!);
        }
        assert.equal(fs.size, Math.min(count, n), 'distinct');
        if (n === 5) {
          // listpack: a subsequence of the hash's order
          const idx = [...fs].map((f) => Number(f.slice(1)));
          assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
        }
      }
      const rep = parse(await c.call('HRANDFIELD', 'h', '-50')) as string[];
      assert.equal(rep.length, 50);
      for (const f of rep) assert.match(f, /^f\d+$/);
    }
    await c.call('HELLO', '3');
    const nested = parse(await c.call('HRANDFIELD', 'h', '-3', 'WITHVALUES')) as string[][];
    assert.equal(nested.length, 3);
    for (const [f, v] of nested) assert.equal(v, 'v' + f!.slice(1));
  } finally {
    c.close();
  }
});

test('HSCAN: errors, listpack whole, hashtable by cursor with MATCH and COUNT', { skip }, async () => {
  await same([
    ['HSET', 'h', 'a1', '1', 'b1', '2', 'a2', '3'],
    ['HSCAN', 'h', '0'], ['HSCAN', 'h', '123'], ['HSCAN', 'h', '0', 'MATCH', 'a*'], ['HSCAN', 'h', '0', 'match', '*', 'count', '1'],
    ['HSCAN', 'h', ''], ['HSCAN', 'h', '+0'], ['HSCAN', 'h', '-1'], ['HSCAN', 'h', '007'],
    ['HSCAN', 'h', 'x'], ['HSCAN', 'h', ' 0'], ['HSCAN', 'h', '0 '], ['HSCAN', 'h', '18446744073709551616'], ['HSCAN', 'h', '-'],
    ['HSCAN', 'h', '0', 'COUNT', '0'], ['HSCAN', 'h', '0', 'COUNT', 'x'], ['HSCAN', 'h', '0', 'COUNT'], ['HSCAN', 'h', '0', 'FOO', 'bar'],
    ['HSCAN', 'h', '0', 'TYPE', 'string'], ['HSCAN', 'h', '0', 'COUNT', '-1'],
    ['HSCAN', 'nokey', '0'], ['HSCAN', 'nokey', '0', 'COUNT', '0'], ['HSCAN', 'nokey', 'x'],
  ]);
  // a hashtable: a full iteration returns every field once at least, with its value
  for (const port of [pair.amber.port, pair.redis.port]) {
    const c = await RawClient.connect(port);
    try {
      await c.call('DEL', 'big');
      const argv = ['HSET', 'big'];
      for (let i = 0; i < 1000; i++) argv.push('f' + i, 'v' + i);
      await c.call(...argv);
      assert.equal(await c.call('OBJECT', 'ENCODING', 'big'), '$9\r\nhashtable\r\n');
      for (const [opts, expect] of [[[], 1000], [['COUNT', '100'], 1000], [['MATCH', 'f1*'], 111]] as Array<[string[], number]>) {
        const seen = new Map<string, string>();
        let cursor = '0';
        let calls = 0;
        do {
          const [next, items] = parse(await c.call('HSCAN', 'big', cursor, ...opts)) as [string, string[]];
          for (let i = 0; i < items.length; i += 2) seen.set(items[i]!, items[i + 1]!);
          cursor = next;
          calls++;
        } while (cursor !== '0');
        assert.equal(seen.size, expect);
        for (const [f, v] of seen) assert.equal(v, 'v' + f.slice(1));
        assert.ok(calls > 1, 'a hashtable is scanned in several calls');
      }
    } finally {
      c.close();
    }
  }
});

test('keyspace notifications', { skip }, async () => {
  const steps = [
    ['HSET', 'h', 'a', '1', 'b', '2'], ['HMSET', 'h', 'c', '3'], ['HSETNX', 'h', 'a', 'x'], ['HSETNX', 'h', 'd', '4'],
    ['HINCRBY', 'h', 'a', '2'], ['HINCRBYFLOAT', 'h', 'a', '0.5'], ['HINCRBY', 'h', 'b', 'x'], ['HDEL', 'h', 'zz'],
    ['HDEL', 'h', 'a', 'b'], ['HDEL', 'h', 'c', 'd'], ['HDEL', 'nokey', 'x'], ['HINCRBY', 'h2', 'f', '1'],
    ['HINCRBYFLOAT', 'h3', 'f', '1'], ['HGET', 'nokey', 'f'], ['HSET', 'h', long(100), 'v'],
  ];
  const theirs = await collectNotifications(pair.redis.port, steps);
  assert.ok(theirs.length > 20, 'theirs.length > 20');
  assert.deepEqual(await collectNotifications(pair.amber.port, steps), theirs);
});

/** rdb_changes_since_last_save after each step. */
async function dirtyCounts(port: number, steps: string[][]): Promise<number[]> {
  const c = await RawClient.connect(port);
  try {
    await c.call('FLUSHALL');
    const out: number[] = [];
    const dirty = async (): Promise<number> => Number(/rdb_changes_since_last_save:(\d+)/.exec(await c.call('INFO', 'persistence'))![1]);
    let before = await dirty();
    for (const s of steps) {
      await c.call(...s);
      const now = await dirty();
      out.push(now - before);
      before = now;
    }
    return out;
  } finally {
    c.close();
  }
}

test('dirty counts (rdb_changes_since_last_save) as Redis', { skip }, async () => {
  const steps = [
    ['HSET', 'h', 'a', '1', 'b', '2', 'c', '3'], ['HSET', 'h', 'a', '1'], ['HMSET', 'h', 'd', '1', 'e', '2'],
    ['HSETNX', 'h', 'a', '1'], ['HSETNX', 'h', 'z', '1'], ['HINCRBY', 'h', 'a', '1'], ['HINCRBYFLOAT', 'h', 'a', '1'],
    ['HDEL', 'h', 'a', 'b', 'nope'], ['HDEL', 'h', 'nope'], ['HDEL', 'h', 'c', 'd', 'e', 'z'], ['HSET', 'n', 'f', 'v'],
    ['HINCRBY', 'n2', 'f', '1'], ['HINCRBY', 'n', 'f', '1'],
  ];
  assert.deepEqual(await dirtyCounts(pair.amber.port, steps), await dirtyCounts(pair.redis.port, steps));
});

/** The commands of Redis's AOF incr file written since `from` bytes, as argv arrays. */
function readAof(dir: string, from: number): [string[][], number] {
  const adir = join(dir, 'appendonlydir');
  const f = readdirSync(adir).find((n) => n.endsWith('.incr.aof'))!;
  const all = readFileSync(join(adir, f), 'latin1');
  return [respCommands(all.slice(from)), all.length];
}

test('propagation: HINCRBYFLOAT as HSET with the result, failed and no-op writes not at all', { skip }, async () => {
  const steps = [
    ['HSET', 'h', 'a', '1'], ['HINCRBYFLOAT', 'h', 'a', '0.1'], ['HINCRBYFLOAT', 'h', 'b', '1e2'], ['HINCRBY', 'h', 'a', '1'],
    ['HSETNX', 'h', 'a', 'x'], ['HDEL', 'h', 'zz'], ['HDEL', 'h', 'a', 'b'], ['HINCRBYFLOAT', 'h', 'c', 'x'],
    // inside a transaction the rewritten effects keep their place
    ['SADD', 's', 'a', 'b'], ['MULTI'], ['HINCRBYFLOAT', 'h', 'x', '2.5'], ['SPOP', 's', '5'], ['HSET', 'h', 'y', '1'], ['EXEC'],
  ];
  const effects: string[][] = [];
  const unsub = pair.amber.server.effects.subscribe((_db, argv) => effects.push(argv));
  const c = await RawClient.connect(pair.amber.port);
  const cr = await RawClient.connect(pair.redis.port);
  try {
    await cr.call('SELECT', '0');
    const [, start] = readAof(pair.redis.dir, 0);
    for (const s of steps) {
      await c.call(...s);
      await cr.call(...s);
    }
    const [theirs] = readAof(pair.redis.dir, start);
    const norm = (l: string[][]): string[] => l.filter((a) => a[0]!.toUpperCase() !== 'SELECT').map((a) => [a[0]!.toUpperCase(), ...a.slice(1)].join(' '));
    assert.ok(theirs.length >= 10, 'theirs.length >= 10');
    assert.deepEqual(norm(effects), norm(theirs));
  } finally {
    unsub();
    c.close();
    cr.close();
  }
});
