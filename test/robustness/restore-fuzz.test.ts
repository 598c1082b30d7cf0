/**
 * Corrupt RESTORE payloads, bounded in time (about 8 s) and seeded so a failure reproduces:
 * `FUZZ_SEED=<n> node test/run.mjs robustness/restore-fuzz`.
 *
 * DUMP payloads of every type and encoding (listpack, intset, hashtable, skiplist, quicklist,
 * streams with a consumer group and pending entries, an HLL, an LZF-compressed string) are
 * mutated (random bytes, bit flips, boundary bytes, truncation) and restored with the checksum
 * check off (DEBUG SET-SKIP-CHECKSUM-VALIDATION 1), so the payload validation itself is what
 * stands between corrupt bytes and the keyspace. A refused payload must get Redis's
 * "Bad data format" (or the version/checksum error); an accepted one must be a sound value:
 * every read and write of its type answers without an internal error, DUMP and DEBUG
 * DIGEST-VALUE work on it, and DEBUG RELOAD (save and load of the whole keyspace) succeeds.
 *
 * Redis 7.0.15 with sanitize-dump-payload yes accepts a few corrupt payloads that Amber refuses
 * (an object that reads into the payload's 10-byte footer, an LZF string whose length is 0, a
 * stream listpack whose header count is wrong, a stream length or group id with an invalid
 * length encoding, which Redis's loader logs and reads as 62 or UINT64_MAX); Amber's payload
 * validation is always deep, so those are not compared here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, RawClient } from '../helpers/servers.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2147483647;
const RUN_MS = 8000;
const MAX_PAYLOADS = 20000;

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
      let p = Buffer.from(src);
      switch (ri(4)) {
        case 0:
          for (let i = 0, m = 1 + ri(3); i < m; i++) p[ri(body)] = ri(256);
          break;
        case 1:
          p[ri(body)]! ^= 1 << ri(8);
          break;
        case 2:
          p[1 + ri(body - 1)] = [0, 1, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff][ri(10)]!;
          break;
        default: {
          const cut = 1 + ri(body - 1);
          p = Buffer.concat([src.subarray(0, cut), src.subarray(body)]);
        }
      }
      const hex = p.toString('hex');
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
