/**
 * Corrupt persisted data, bounded in time (about 8 + 6 s) and seeded so a failure reproduces:
 * `FUZZ_SEED=<n> node test/run.mjs robustness/corrupt-data-fuzz`.
 *
 * 1. RESTORE: DUMP payloads of every type and encoding (listpack, intset, hashtable, skiplist,
 *    quicklist, streams with a consumer group and pending entries, an HLL, an LZF-compressed
 *    string) are mutated (random bytes, bit flips, boundary bytes, truncation) and restored with
 *    the checksum check off (DEBUG SET-SKIP-CHECKSUM-VALIDATION 1), so the payload validation
 *    itself is what stands between corrupt bytes and the keyspace. A refused payload must get
 *    Redis's "Bad data format" (or the version/checksum error); an accepted one must be a sound
 *    value: every read and write of its type answers without an internal error, DUMP and DEBUG
 *    DIGEST-VALUE work on it, and DEBUG RELOAD (save and load of the whole keyspace) succeeds.
 * 2. dump.rdb: a file of every type in two dbs, with a TTL, saved without its CRC
 *    (rdbchecksum no), is mutated the same ways and loaded with DEBUG RELOAD NOSAVE. A refused
 *    file must leave the keyspace as it was (DEBUG DIGEST unchanged: the load stages the data set
 *    and swaps it in only when the whole file decoded); a loaded one must be readable key by key
 *    and save again.
 *
 * Redis 7.0.15 with sanitize-dump-payload yes accepts a few corrupt payloads that Amber refuses
 * (an object that reads into the payload's 10-byte footer, an LZF string whose length is 0, a
 * stream listpack whose header count is wrong, a stream length or group id with an invalid
 * length encoding, which Redis's loader logs and reads as 62 or UINT64_MAX); Amber's payload
 * validation is always deep, so those are not compared here. On a corrupt file, Redis's DEBUG
 * RELOAD exits the process; Amber answers an error and keeps its keyspace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAmber, RawClient, tempDirs } from '../helpers/servers.js';
import { prng } from '../helpers/prng.js';

const tmp = tempDirs('amber-corrupt-fuzz-');

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2147483647;
const RUN_MS = 8000;
const RDB_RUN_MS = 6000;
const MAX_PAYLOADS = 20000;


/** The values dumped, one per type and encoding. */
const SOURCES: string[][] = [
  ['RPUSH', 'l1', 'a', 'b', '1', '2', '300000', 'x'.repeat(70)],
  ['RPUSH', 'l2', ...Array.from({ length: 300 }, (_, i) => `item${i}`)],
  ['SADD', 's1', '1', '2', '3', '-5', '100000'],
  ['SADD', 's2', 'a', 'b', 'c', 'dd'],
  ['SADD', 's3', ...Array.from({ length: 200 }, (_, i) => `m${i}`)],
  ['ZADD', 'z1', '1', 'a', '2.5', 'b', 'inf', 'c', '-3', 'd'],
  ['ZADD', 'z2', ...Array.from({ length: 300 }, (_, i) => [String(i / 3), `m${i}`]).flat()],
  ['HSET', 'h1', 'f1', 'v1', 'f2', '2', 'f3', 'x'.repeat(30)],
  ['HSET', 'h2', ...Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
  ['XADD', 'x1', '1-1', 'a', '1', 'b', '2'],
  ['XADD', 'x1', '2-1', 'a', '3'],
  ['XADD', 'x1', '3-1', 'c', '4', 'd', '5'],
  ['XGROUP', 'CREATE', 'x1', 'g1', '0'],
  ['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '2', 'STREAMS', 'x1', '>'],
  ['PFADD', 'hll', 'a', 'b', 'c'],
  ['SET', 'str', 'a long string that compresses compresses compresses compresses'],
];
const KEYS = ['l1', 'l2', 's1', 's2', 's3', 'z1', 'z2', 'h1', 'h2', 'x1', 'hll', 'str'];

/** Commands run on an accepted value, by TYPE; `K` is the key. */
const USES: Record<string, string[][]> = {
  list: [['LRANGE', 'K', '0', '-1'], ['LPUSH', 'K', 'new'], ['LINSERT', 'K', 'BEFORE', 'a', 'z'], ['LPOS', 'K', 'b'], ['RPOP', 'K'], ['LTRIM', 'K', '1', '-2']],
  set: [['SMEMBERS', 'K'], ['SADD', 'K', 'new', '77'], ['SISMEMBER', 'K', 'a'], ['SPOP', 'K'], ['SRANDMEMBER', 'K', '-5']],
  zset: [['ZRANGE', 'K', '0', '-1', 'WITHSCORES'], ['ZADD', 'K', '5', 'new'], ['ZSCORE', 'K', 'a'], ['ZRANGEBYSCORE', 'K', '-inf', '+inf'], ['ZRANK', 'K', 'b'], ['ZPOPMIN', 'K']],
  hash: [['HGETALL', 'K'], ['HSET', 'K', 'new', 'v'], ['HGET', 'K', 'f1'], ['HDEL', 'K', 'f2'], ['HRANDFIELD', 'K', '-3', 'WITHVALUES']],
  stream: [['XRANGE', 'K', '-', '+'], ['XINFO', 'STREAM', 'K', 'FULL'], ['XADD', 'K', '*', 'n', 'v'], ['XPENDING', 'K', 'g1'],
    ['XREADGROUP', 'GROUP', 'g1', 'bob', 'STREAMS', 'K', '>'], ['XDEL', 'K', '2-1'], ['XAUTOCLAIM', 'K', 'g1', 'bob', '0', '0-0'], ['XTRIM', 'K', 'MAXLEN', '1']],
  string: [['GET', 'K'], ['PFCOUNT', 'K'], ['APPEND', 'K', 'x'], ['PFADD', 'K', 'q'], ['STRLEN', 'K']],
};

/** The bulk string of a raw `$n` reply, as bytes. */
function bulkBytes(reply: string): Buffer {
  const m = /^\$(\d+)\r\n/.exec(reply);
  assert.ok(m, `a bulk reply: ${JSON.stringify(reply.slice(0, 40))}`);
  return Buffer.from(reply.slice(m[0].length, m[0].length + Number(m[1])), 'latin1');
}

test(`RESTORE fuzz: corrupt payloads are refused with Redis's error or restore sound values (seed ${SEED})`, { timeout: 60_000 }, async (t) => {
  const rnd = prng(SEED);
  const ri = (n: number): number => Math.floor(rnd() * n);
  const s = await startAmber({ save: '' });
  const c = await RawClient.connect(s.port);
  try {
    await c.pipeline(SOURCES);
    assert.equal(await c.call('DEBUG', 'SET-SKIP-CHECKSUM-VALIDATION', '1'), '+OK\r\n');
    const payloads: Buffer[] = [];
    for (const k of KEYS) payloads.push(bulkBytes(await c.call('DUMP', k)));
    let accepted = 0;
    let refused = 0;
    let n = 0;
    const deadline = Date.now() + RUN_MS;
    for (; n < MAX_PAYLOADS && Date.now() < deadline; n++) {
      const src = payloads[ri(payloads.length)]!;
      const body = src.length - 10; // the 2-byte RDB version and the CRC64 stay
      const p = mutate(src, ri, 0, body);
      const hex = show(p);
      const r = await c.call('RESTORE', 'fz', '0', p.toString('latin1'), 'REPLACE');
      if (r !== '+OK\r\n') {
        assert.ok(r === '-ERR Bad data format\r\n' || r === '-ERR DUMP payload version or checksum are wrong\r\n', `RESTORE of ${hex}: ${r}`);
        refused++;
        continue;
      }
      accepted++;
      const type = (await c.call('TYPE', 'fz')).slice(1).trim();
      const cmds = [['DEBUG', 'DIGEST-VALUE', 'fz'], ['OBJECT', 'ENCODING', 'fz'], ['MEMORY', 'USAGE', 'fz'], ['DUMP', 'fz'],
        ...(USES[type] ?? []).map((cmd) => cmd.map((x) => (x === 'K' ? 'fz' : x)))];
      const replies = await c.pipeline(cmds);
      for (let i = 0; i < replies.length; i++) {
        assert.ok(!replies[i]!.includes('internal error'), `${cmds[i]!.join(' ')} on the ${type} restored from ${hex}: ${replies[i]}`);
      }
      // the whole keyspace, this value included, saves and loads again
      if (accepted % 100 === 0) assert.equal(await c.call('DEBUG', 'RELOAD'), '+OK\r\n', `DEBUG RELOAD after restoring ${hex}`);
    }
    assert.equal(await c.call('DEBUG', 'RELOAD'), '+OK\r\n');
    assert.equal(await c.call('PING'), '+PONG\r\n');
    t.diagnostic(`seed ${SEED}: ${n} payloads, ${accepted} accepted, ${refused} refused`);
    assert.ok(accepted > 0 && refused > 0, 'the mutations produce both outcomes');
  } finally {
    c.close();
    await s.close();
  }
});

/** Bytes for a failure message: whole when short, else their start (the seed reproduces them). */
function show(p: Buffer): string {
  return p.length <= 256 ? p.toString('hex') : `${p.toString('hex', 0, 128)}... (${p.length} bytes)`;
}

/** A mutation of `src` (random bytes, a bit flip, a boundary byte, a truncation) from `from` on. */
function mutate(src: Buffer, ri: (n: number) => number, from: number, end = src.length): Buffer {
  const p = Buffer.from(src);
  const span = end - from;
  switch (ri(4)) {
    case 0:
      for (let i = 0, m = 1 + ri(3); i < m; i++) p[from + ri(span)] = ri(256);
      return p;
    case 1:
      p[from + ri(span)]! ^= 1 << ri(8);
      return p;
    case 2:
      p[from + ri(span)] = [0, 1, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff][ri(14)]!;
      return p;
    default:
      return Buffer.concat([src.subarray(0, from + ri(span)), src.subarray(end)]);
  }
}

test(`dump.rdb fuzz: a corrupt file is refused leaving the keyspace as it was, or loads a sound one (seed ${SEED})`, { timeout: 60_000 }, async (t) => {
  const rnd = prng(SEED ^ 0x5bd1e995);
  const ri = (n: number): number => Math.floor(rnd() * n);
  const dir = tmp();
  const s = await startAmber({ dir, save: '', rdbchecksum: 'no' });
  const c = await RawClient.connect(s.port);
  try {
    await c.pipeline([...SOURCES, ['SET', 'ttl', 'v', 'PX', '100000000'], ['SELECT', '3'], ['SET', 'in3', 'v'], ['SELECT', '0']]);
    assert.equal(await c.call('SAVE'), '+OK\r\n');
    const file = join(dir, 'dump.rdb');
    const orig = readFileSync(file);
    const digest = await c.call('DEBUG', 'DIGEST');
    let loaded = 0;
    let refused = 0;
    let n = 0;
    const deadline = Date.now() + RDB_RUN_MS;
    for (; n < MAX_PAYLOADS && Date.now() < deadline; n++) {
      const p = mutate(orig, ri, 9); // the REDIS0010 magic stays
      writeFileSync(file, p);
      const r = await c.call('DEBUG', 'RELOAD', 'NOSAVE');
      const hex = show(p);
      if (r !== '+OK\r\n') {
        assert.equal(r, '-ERR Error trying to load the RDB dump\r\n', `DEBUG RELOAD NOSAVE of ${hex}`);
        assert.equal(await c.call('DEBUG', 'DIGEST'), digest, `a refused file changed the keyspace: ${hex}`);
        refused++;
        continue;
      }
      loaded++;
      for (let db = 0; db < 16; db++) {
        await c.call('SELECT', String(db));
        const keys = await c.call('KEYS', '*');
        for (const key of keys.split('\r\n').filter((_, i) => i > 0 && i % 2 === 0)) {
          const type = (await c.call('TYPE', key)).slice(1).trim();
          const cmds = [['DUMP', key], ...(USES[type] ?? []).slice(0, 1).map((cmd) => cmd.map((x) => (x === 'K' ? key : x)))];
          for (const reply of await c.pipeline(cmds)) assert.ok(!reply.includes('internal error'), `${type} ${key} loaded from ${hex}: ${reply}`);
        }
      }
      await c.call('SELECT', '0');
      assert.equal(await c.call('SAVE'), '+OK\r\n', `SAVE after loading ${hex}`);
      // back to the original data set for the next round
      writeFileSync(file, orig);
      assert.equal(await c.call('DEBUG', 'RELOAD', 'NOSAVE'), '+OK\r\n');
    }
    assert.equal(await c.call('DEBUG', 'DIGEST'), digest);
    t.diagnostic(`seed ${SEED}: ${n} files, ${loaded} loaded, ${refused} refused`);
    assert.ok(loaded > 0 && refused > 0, 'the mutations produce both outcomes');
  } finally {
    c.close();
    await s.close();
  }
});
