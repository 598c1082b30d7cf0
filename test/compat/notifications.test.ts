/**
 * Keyspace notifications against redis-server 7.0.15: for every command family, the same command
 * sequence runs on Amber and on Redis with a PSUBSCRIBE '__key*__:*' subscriber, and the replies
 * and the exact notification stream (channel, event, order) must be byte-identical. A sentinel
 * PUBLISH on '__key__:sentinel' marks the end of each sequence's stream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAmber, startRedis, redisAvailable, NO_REDIS, RawClient, type RedisChild } from '../helpers/servers.js';
import type { RunningServer } from '../../src/index.js';

const skip = !redisAvailable() && NO_REDIS;
let amber: RunningServer;
let redis: RedisChild;
let sortImplemented = true;

before(async () => {
  if (skip) return;
  amber = await startAmber();
  redis = await startRedis();
  const c = await RawClient.connect(amber.port);
  const r = await c.call('SORT', 'nokey');
  sortImplemented = r === '*0\r\n';
  c.close();
});
after(async () => {
  await amber?.close();
  await redis?.close();
});

/**
 * A step: a command on the main connection; `{ on, argv }` a command on connection `on` (1..3);
 * `{ on, argv, async: true }` sends without waiting (a blocking command), `{ collect: on }` waits
 * for that pending reply; `{ sleep: ms }` pauses.
 */
type Step = string[] | { on: number; argv: string[]; async?: boolean } | { collect: number } | { sleep: number };

/** DUMP of the string 'x' from Redis 7.0 (RDB version 10). */
const DUMP_X = '\x00\x01x\n\x00"\x80\x86_\xbd\xe8H\xd0';

const SENTINEL = '__key__:sentinel';

/** Runs `steps` on a server; returns the replies then the notifications, each as raw RESP. */
async function run(port: number, flags: string, steps: Step[]): Promise<{ replies: string[]; events: string[] }> {
  const conns = [await RawClient.connect(port), await RawClient.connect(port), await RawClient.connect(port), await RawClient.connect(port)];
  const sub = await RawClient.connect(port);
  try {
    const main = conns[0]!;
    await main.call('FLUSHALL');
    await main.call('CONFIG', 'SET', 'notify-keyspace-events', flags);
    await sub.sendRaw(RawClient.encode(['PSUBSCRIBE', '__key*__:*']), 1);
    const replies: string[] = [];
    const pending = new Map<number, Promise<string[]>>();
    for (const s of steps) {
      if (Array.isArray(s)) replies.push(mask(s, await main.call(...s)));
      else if ('sleep' in s) await new Promise((r) => setTimeout(r, s.sleep));
      else if ('collect' in s) replies.push(...(await pending.get(s.collect)!));
      else if (s.async) {
        pending.set(s.on, conns[s.on]!.sendRaw(RawClient.encode(s.argv), 1));
        // let the server see the blocking command before the next step
        await new Promise((r) => setTimeout(r, 30));
      } else replies.push(await conns[s.on]!.call(...s.argv));
    }
    await main.call('PUBLISH', SENTINEL, 'end');
    const events: string[] = [];
    for (;;) {
      const [m] = await sub.read(1);
      if (m!.includes(SENTINEL)) break;
      events.push(m!);
      if (events.length > 5000) throw new Error('runaway notification stream');
    }
    await main.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    await main.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    return { replies, events };
  } finally {
    for (const c of conns) c.close();
    sub.close();
  }
}

/** Commands whose reply is random: only the reply's first line (type and size) is compared. */
const RANDOM = new Set(['SPOP', 'SRANDMEMBER', 'HRANDFIELD', 'ZRANDMEMBER', 'RANDOMKEY']);
function mask(argv: string[], reply: string): string {
  return RANDOM.has(argv[0]!.toUpperCase()) ? reply.slice(0, reply.indexOf('\r\n')) : reply;
}

/** Decodes `*4 pmessage pattern channel payload` messages into "channel payload" for messages. */
function readable(events: string[]): string[] {
  return events.map((e) => {
    const parts = e.split('\r\n');
    return `${parts[6]} ${parts[8]}`;
  });
}

async function same(flags: string, steps: Step[], minEvents = 1): Promise<void> {
  const a = await run(amber.port, flags, steps);
  const r = await run(redis.port, flags, steps);
  if (process.env.NOTIFY_DEBUG) console.log(flags, r.events.length, readable(r.events).join(' | '));
  assert.ok(r.events.length >= minEvents, `the sequence produced only ${r.events.length} notifications`);
  assert.deepEqual(a.replies, r.replies, 'replies differ');
  // readable first for a legible diff, then the bytes
  assert.deepEqual(readable(a.events), readable(r.events), 'notification streams differ');
  assert.deepEqual(a.events, r.events);
}

const strings: Step[] = [
  ['SET', 's', 'v'], ['SET', 's', 'v2', 'NX'], ['SET', 's', 'v3', 'XX', 'GET'], ['SET', 's', 'v4', 'EX', '100'],
  ['SET', 's', 'v5', 'KEEPTTL'], ['SET', 's', 'v6', 'PX', '100000', 'GET'], ['SETNX', 's', 'x'], ['SETNX', 's2', 'x'],
  ['SETEX', 's3', '100', 'x'], ['PSETEX', 's4', '100000', 'x'], ['SETEX', 's3', '0', 'x'],
  ['MSET', 'm1', '1', 'm2', '2'], ['MSETNX', 'm1', '1', 'm3', '3'], ['MSETNX', 'm4', '1', 'm5', '3'],
  ['APPEND', 'a', 'x'], ['APPEND', 'a', 'y'], ['SETRANGE', 'r', '2', 'x'], ['SETRANGE', 'r', '0', ''], ['SETRANGE', 'nor', '0', ''],
  ['INCR', 'n'], ['INCRBY', 'n', '5'], ['DECR', 'n'], ['DECRBY', 'n', '2'], ['INCRBYFLOAT', 'f', '1.5'], ['INCR', 's'],
  ['GETSET', 'g', '1'], ['GETSET', 'g', '2'], ['GETDEL', 'g'], ['GETDEL', 'g'],
  ['GETEX', 'm1', 'EX', '100'], ['GETEX', 'm1', 'PERSIST'], ['GETEX', 'm1'], ['GETEX', 'm1', 'PX', '0'], ['GETEX', 'm2', 'EXAT', '1'],
  ['GET', 'm2'], ['STRLEN', 's'], ['GETRANGE', 's', '0', '1'], ['LCS', 'm3', 's'],
  ['SET', 'e', 'v', 'EX', '0'], ['SET', 'e', 'v', 'PXAT', '1'], ['EXISTS', 'e'],
];

const bitmaps: Step[] = [
  ['SETBIT', 'b', '7', '1'], ['SETBIT', 'b', '7', '1'], ['SETBIT', 'b', '100', '0'], ['GETBIT', 'b', '7'],
  ['SET', 'c', 'ab'], ['BITOP', 'AND', 'd', 'b', 'c'], ['BITOP', 'OR', 'd', 'b', 'c'], ['BITOP', 'NOT', 'd2', 'b'],
  ['BITOP', 'AND', 'd', 'nx1', 'nx2'], ['BITOP', 'XOR', 'd3', 'nx1'],
  ['BITFIELD', 'bf', 'SET', 'u8', '0', '255', 'GET', 'u8', '0'], ['BITFIELD', 'bf', 'INCRBY', 'u8', '0', '10'],
  ['BITFIELD', 'bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '1000'], ['BITFIELD', 'bf', 'GET', 'u8', '0'],
  ['BITFIELD_RO', 'bf', 'GET', 'u8', '0'], ['BITCOUNT', 'b'], ['BITPOS', 'b', '1'], ['BITFIELD', 'nx', 'GET', 'u8', '0'],
];

const keys: Step[] = [
  ['SET', 'k1', 'v'], ['SET', 'k2', 'v'], ['RPUSH', 'l', 'a'],
  ['DEL', 'k1', 'nokey', 'k2'], ['UNLINK', 'l', 'nokey'],
  ['SET', 'a', '1'], ['RENAME', 'a', 'b'], ['RENAME', 'b', 'b'], ['RENAMENX', 'b', 'c'], ['SET', 'd', '1'], ['RENAMENX', 'c', 'd'],
  ['RENAME', 'c', 'd'], ['RENAME', 'nokey', 'x'],
  ['SET', 'mv', '1'], ['MOVE', 'mv', '1'], ['SET', 'mv', '2'], ['MOVE', 'mv', '1'], ['SELECT', '1'], ['DEL', 'mv'], ['SELECT', '0'],
  ['SET', 'src', 'x'], ['COPY', 'src', 'dst'], ['COPY', 'src', 'dst'], ['COPY', 'src', 'dst', 'REPLACE'], ['COPY', 'src', 'dst', 'DB', '2'],
  ['HSET', 'h', 'f', 'v'], ['COPY', 'h', 'hcopy'],
  ['SWAPDB', '0', '2'], ['SWAPDB', '0', '2'], ['EXISTS', 'dst'], ['TOUCH', 'dst'], ['TYPE', 'dst'],
  ['RESTORE', 'rs', '0', DUMP_X], ['DUMP', 'nokey'],
  ['RESTORE', 'rs', '0', DUMP_X, 'REPLACE'], ['RESTORE', 'rs', '0', DUMP_X],
  ['SET', 'mx', '1'], ['SELECT', '1'], ['SET', 'mx', '2'], ['SELECT', '0'], ['MOVE', 'mx', '1'],
  ['SET', 'vol', '1', 'EX', '100'], ['RENAME', 'vol', 'vol2'], ['SADD', 'set', 'a'], ['SMOVE', 'set', 'vol2', 'a'],
  ['SET', 'dx', '1', 'PX', '1'], { sleep: 10 }, ['DEL', 'dx'], ['SET', 'dx', '1', 'PX', '1'], { sleep: 10 }, ['RENAME', 'dx', 'dy'],
  ['SELECT', '2'], ['DEL', 'dst'], ['SELECT', '0'], ['FLUSHDB'], ['SET', 'z', '1'], ['FLUSHALL'],
];

const expiry: Step[] = [
  ['SET', 'k', 'v'], ['EXPIRE', 'k', '100'], ['PEXPIRE', 'k', '100000'], ['EXPIREAT', 'k', '99999999999'],
  ['PEXPIREAT', 'k', '99999999999000'], ['EXPIRE', 'k', '100', 'NX'], ['EXPIRE', 'k', '200', 'GT'], ['EXPIRE', 'k', '50', 'GT'],
  ['PERSIST', 'k'], ['PERSIST', 'k'], ['EXPIRE', 'nokey', '10'],
  ['EXPIRE', 'k', '0'], ['EXISTS', 'k'], ['SET', 'k', 'v'], ['EXPIREAT', 'k', '1'], ['SET', 'k', 'v'], ['PEXPIRE', 'k', '-1'],
  ['SET', 'k', 'v'], ['EXPIRE', 'k', '-5'],
];

const lazyExpiry: Step[] = [
  ['DEBUG', 'SET-ACTIVE-EXPIRE', '0'],
  ['SET', 'a', 'v', 'PX', '30'], ['HSET', 'h', 'f', 'v'], ['PEXPIRE', 'h', '30'], ['SET', 'c', 'v', 'PX', '30'],
  ['SET', 'd', 'v', 'PX', '30'], ['SET', 'e', 'v', 'PX', '30'], ['RPUSH', 'l', 'x'], ['PEXPIRE', 'l', '30'],
  // replaced without a lookup of their own: the key still expires first (setKey's lookupKeyWrite)
  ['SET', 'm1', 'v', 'PX', '30'], ['SET', 'm2', 'v', 'PX', '30'], ['SET', 'sx', 'v', 'PX', '30'], ['SET', 'gs', 'v', 'PX', '30'],
  { sleep: 80 },
  ['GET', 'a'], ['HGET', 'h', 'f'], ['EXISTS', 'c'], ['SET', 'd', 'new'], ['TTL', 'e'], ['LPUSH', 'l', 'y'],
  ['MSET', 'm1', 'new', 'm2', 'new'], ['SETEX', 'sx', '100', 'new'], ['GETSET', 'gs', 'new'],
  ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'],
];

const activeExpiry: Step[] = [
  ['SET', 'a', 'v', 'PX', '20'], { sleep: 400 }, ['DBSIZE'],
];

const lists: Step[] = [
  ['LPUSH', 'l', 'a', 'b'], ['RPUSH', 'l', 'c'], ['LPUSHX', 'l', 'x'], ['LPUSHX', 'nol', 'x'], ['RPUSHX', 'l', 'y'],
  ['LINSERT', 'l', 'BEFORE', 'a', 'i'], ['LINSERT', 'l', 'AFTER', 'zz', 'i'], ['LSET', 'l', '0', 'S'], ['LREM', 'l', '0', 'i'],
  ['LREM', 'l', '0', 'nothing'], ['LTRIM', 'l', '0', '3'], ['LTRIM', 'l', '0', '-1'], ['LPOP', 'l'], ['RPOP', 'l', '2'],
  ['LPOS', 'l', 'a'], ['LRANGE', 'l', '0', '-1'], ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'], ['LMOVE', 'l2', 'l2', 'LEFT', 'LEFT'],
  ['RPOPLPUSH', 'l2', 'l3'], ['LMPOP', '2', 'nol', 'l3', 'LEFT', 'COUNT', '5'], ['LPOP', 'l'], ['LTRIM', 'l2', '1', '0'],
  ['RPUSH', 'big', '1', '2', '3', '4'], ['LTRIM', 'big', '1', '2'], ['LPOP', 'big', '5'], ['LPOP', 'nol'],
  ['BLPOP', 'nol', 'big', '0.01'], ['RPUSH', 'bb', 'x'], ['BLMOVE', 'bb', 'bc', 'LEFT', 'LEFT', '0'], ['BRPOPLPUSH', 'bc', 'bd', '0'],
  ['BLMPOP', '0.01', '1', 'bd', 'RIGHT'], ['RPUSH', 'r', 'a', 'a', 'b'], ['LREM', 'r', '-1', 'a'], ['LREM', 'r', '0', 'a'],
  ['LREM', 'r', '0', 'b'], ['RPUSH', 'r', 'x'], ['LSET', 'r', '5', 'y'], ['LPOP', 'r', '0'], ['SET', 'str', 'v'], ['LPUSH', 'str', 'x'],
  ['LMOVE', 'r', 'str', 'LEFT', 'LEFT'], ['LRANGE', 'r', '0', '-1'],
];

const blockingLists: Step[] = [
  { on: 1, argv: ['BLPOP', 'q', '0'], async: true },
  ['RPUSH', 'q', 'a', 'b'], { collect: 1 },
  { on: 1, argv: ['BLMOVE', 'q2', 'dest', 'LEFT', 'RIGHT', '0'], async: true },
  { on: 2, argv: ['BRPOP', 'q2', '0'], async: true },
  ['LPUSH', 'q2', 'x', 'y', 'z'], { collect: 1 }, { collect: 2 },
  { on: 3, argv: ['BLMPOP', '0', '1', 'q3', 'LEFT', 'COUNT', '2'], async: true },
  ['RPUSH', 'q3', '1'], { collect: 3 },
  { on: 1, argv: ['BLPOP', 'q4', '0'], async: true },
  ['MULTI'], ['RPUSH', 'q4', 'a'], ['LPOP', 'q4'], ['RPUSH', 'q4', 'b'], ['EXEC'], { collect: 1 },
  { on: 2, argv: ['BRPOPLPUSH', 'q5', 'q5', '0'], async: true },
  ['LMOVE', 'q', 'q5', 'LEFT', 'LEFT'], { collect: 2 },
];

const hashes: Step[] = [
  ['HSET', 'h', 'a', '1', 'b', '2'], ['HSET', 'h', 'a', '1'], ['HSETNX', 'h', 'a', 'x'], ['HSETNX', 'h', 'c', 'x'],
  ['HMSET', 'h', 'd', '4'], ['HINCRBY', 'h', 'a', '5'], ['HINCRBYFLOAT', 'h', 'b', '0.5'], ['HDEL', 'h', 'a', 'zz'],
  ['HDEL', 'h', 'zz'], ['HGET', 'h', 'b'], ['HGETALL', 'nokey'], ['HINCRBY', 'h', 'c', '1'],
  ['HDEL', 'h', 'b', 'c', 'd'], ['EXISTS', 'h'], ['HINCRBYFLOAT', 'h2', 'f', '1'], ['HRANDFIELD', 'h2'], ['HSTRLEN', 'h2', 'f'],
];

const sets: Step[] = [
  ['SADD', 's', 'a', 'b', 'c'], ['SADD', 's', 'a'], ['SREM', 's', 'zz'], ['SREM', 's', 'a'], ['SMOVE', 's', 's2', 'b'],
  ['SMOVE', 's', 's2', 'zz'], ['SMOVE', 's', 's', 'c'], ['SMOVE', 's', 's2', 'c'], ['SADD', 's', '1', '2', '3', '4'],
  ['SPOP', 's'], ['SPOP', 's', '0'], ['SPOP', 's', '2'], ['SPOP', 's', '10'], ['SPOP', 'nos'], ['SPOP', 'nos', '3'],
  ['SADD', 'x', '1', '2', '3'], ['SADD', 'y', '2', '3', '4'],
  ['SINTERSTORE', 'd', 'x', 'y'], ['SUNIONSTORE', 'd', 'x', 'y'], ['SDIFFSTORE', 'd', 'x', 'y'], ['SINTERSTORE', 'd', 'x', 'nos'],
  ['SDIFFSTORE', 'd2', 'nos', 'x'], ['SUNIONSTORE', 'd', 'd', 'x'], ['SINTERCARD', '2', 'x', 'y'], ['SISMEMBER', 'x', '1'],
  ['SMISMEMBER', 'x', '1', '9'], ['SRANDMEMBER', 'nos'], ['SMEMBERS', 'nos'], ['SCARD', 'x'], ['SREM', 'x', '1', '2', '3'],
  ['SADD', 'big', ...Array.from({ length: 200 }, (_, i) => String(i))], ['SPOP', 'big', '150'], ['SPOP', 'big', '100'],
];

const zsets: Step[] = [
  ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZADD', 'z', '1', 'a'], ['ZADD', 'z', 'XX', '5', 'a'], ['ZADD', 'z', 'NX', '5', 'a'],
  ['ZADD', 'z', 'INCR', '1', 'a'], ['ZADD', 'z', 'GT', 'CH', '0', 'a'], ['ZINCRBY', 'z', '2', 'b'], ['ZREM', 'z', 'zz'],
  ['ZREM', 'z', 'a'], ['ZADD', 'z', '1', 'x', '2', 'y', '3', 'w'], ['ZREMRANGEBYSCORE', 'z', '0', '1'], ['ZREMRANGEBYRANK', 'z', '0', '0'],
  ['ZREMRANGEBYLEX', 'z', '-', '+'], ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd'], ['ZPOPMIN', 'z'], ['ZPOPMAX', 'z', '2'],
  ['ZPOPMIN', 'z', '5'], ['ZPOPMIN', 'noz'], ['ZADD', 'p', '1', 'a', '2', 'b'], ['ZADD', 'q', '2', 'b', '3', 'c'],
  ['ZUNIONSTORE', 'u', '2', 'p', 'q'], ['ZINTERSTORE', 'i', '2', 'p', 'q', 'WEIGHTS', '1', '2'], ['ZDIFFSTORE', 'df', '2', 'p', 'q'],
  ['ZINTERSTORE', 'i', '2', 'p', 'noz'], ['ZDIFFSTORE', 'df', '1', 'noz'], ['ZUNIONSTORE', 'u', '1', 'noz'],
  ['ZRANGESTORE', 'rs', 'p', '0', '-1'], ['ZRANGESTORE', 'rs', 'p', '5', '10'], ['ZRANGESTORE', 'rs', 'p', '0', '0'],
  ['ZMPOP', '2', 'noz', 'p', 'MIN', 'COUNT', '5'], ['BZPOPMIN', 'q', '0'], ['BZPOPMAX', 'q', '0'], ['BZMPOP', '0.01', '1', 'noz', 'MAX'],
  ['ZSCORE', 'u', 'a'], ['ZRANGE', 'u', '0', '-1'], ['ZRANDMEMBER', 'u'], ['ZINTERCARD', '2', 'u', 'p'], ['ZMSCORE', 'noz', 'a'],
];

const blockingZsets: Step[] = [
  { on: 1, argv: ['BZPOPMIN', 'bz', '0'], async: true },
  ['ZADD', 'bz', '1', 'a', '2', 'b'], { collect: 1 },
  { on: 2, argv: ['BZMPOP', '0', '1', 'bz2', 'MAX', 'COUNT', '3'], async: true },
  ['ZADD', 'bz2', '1', 'a'], { collect: 2 },
];

const geo: Step[] = [
  ['GEOADD', 'g', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'], ['GEOADD', 'g', 'NX', '13', '38', 'Palermo'],
  ['GEOADD', 'g', 'XX', 'CH', '13', '38', 'Palermo'], ['GEODIST', 'g', 'Palermo', 'Catania'], ['GEOPOS', 'g', 'Palermo'],
  ['GEOSEARCHSTORE', 'gs', 'g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'ASC'],
  ['GEOSEARCHSTORE', 'gs', 'g', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'ASC', 'STOREDIST'],
  ['GEOSEARCHSTORE', 'gs', 'g', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'km'],
  ['GEORADIUS', 'g', '15', '37', '200', 'km', 'STORE', 'gr'], ['GEORADIUSBYMEMBER', 'g', 'Palermo', '500', 'km', 'STOREDIST', 'gr2'],
  ['GEORADIUS', 'g', '0', '0', '1', 'km', 'STORE', 'gr'], ['GEOSEARCH', 'g', 'FROMMEMBER', 'Palermo', 'BYBOX', '400', '400', 'km'],
];

const hll: Step[] = [
  ['PFADD', 'h', 'a', 'b'], ['PFADD', 'h', 'a'], ['PFADD', 'h2'], ['PFADD', 'h2'], ['PFCOUNT', 'h'], ['PFADD', 'h3', 'c'],
  ['PFMERGE', 'hm', 'h', 'h3'], ['PFMERGE', 'hm'], ['PFMERGE', 'hm2', 'nokey'], ['PFCOUNT', 'h', 'h3'],
];

const sort: Step[] = [
  ['RPUSH', 'l', '3', '1', '2'], ['SORT', 'l', 'STORE', 'd'], ['SORT', 'nol', 'STORE', 'd'], ['SORT', 'l', 'STORE', 'd2'],
  ['SORT', 'nol', 'STORE', 'nod'], ['SORT_RO', 'l'],
];

const keymiss: Step[] = [
  ['GET', 'nokey'], ['SET', 'k', 'v'], ['GET', 'k'], ['HGET', 'noh', 'f'], ['LRANGE', 'nol', '0', '-1'], ['MGET', 'a', 'k', 'b'],
  ['EXISTS', 'nokey'], ['TYPE', 'nokey'], ['TTL', 'nokey'], ['SMEMBERS', 'nos'], ['ZSCORE', 'noz', 'a'], ['STRLEN', 'nokey'],
  ['GETRANGE', 'nokey', '0', '1'], ['DUMP', 'nokey'], ['OBJECT', 'ENCODING', 'nokey'], ['SUNION', 'nos', 'k2'], ['BITCOUNT', 'nob'],
  ['PFCOUNT', 'nohll'], ['GETDEL', 'nokey'], ['LINDEX', 'nol', '0'], ['HGETALL', 'noh'], ['COPY', 'nokey', 'x'], ['RENAME', 'nokey', 'y'],
  ['INCR', 'newnum'], ['APPEND', 'newapp', 'x'], ['LPUSH', 'nl', 'x'], ['RPOP', 'nol'], ['GETEX', 'nokey'], ['SRANDMEMBER', 'nos'],
  ['ZRANGE', 'noz', '0', '-1'], ['HSTRLEN', 'noh', 'f'], ['GEOPOS', 'nog', 'm'], ['SINTERCARD', '1', 'nos'], ['LCS', 'nokey', 'k'],
];

const newKeys: Step[] = [
  ['SET', 'a', '1'], ['SET', 'a', '2'], ['HSET', 'h', 'f', 'v'], ['RPUSH', 'l', 'x'], ['SADD', 's', 'm'], ['ZADD', 'z', '1', 'm'],
  ['INCR', 'n'], ['APPEND', 'ap', 'x'], ['SETBIT', 'b', '1', '1'], ['PFADD', 'p', 'x'], ['MSET', 'm1', '1', 'm2', '2'],
  ['RENAME', 'a', 'b'], ['COPY', 'b', 'c'], ['SUNIONSTORE', 'su', 's'], ['ZUNIONSTORE', 'zu', '1', 'z'], ['LMOVE', 'l', 'l2', 'LEFT', 'LEFT'],
  ['SMOVE', 's', 's2', 'm'], ['GEOADD', 'g', '1', '1', 'x'], ['SET', 'x', 'v', 'EX', '100'], ['RESTORE', 'rs', '0', DUMP_X],
  ['BITOP', 'OR', 'bo', 'b'], ['HINCRBY', 'h2', 'f', '1'], ['SETRANGE', 'sr', '1', 'x'], ['GETSET', 'gs', 'x'], ['PFMERGE', 'pm', 'p'],
];

const transactions: Step[] = [
  ['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['LPUSH', 'l', 'x'], ['DEL', 'a'], ['EXPIRE', 'l', '100'], ['EXEC'],
];

const families: Record<string, Step[]> = {
  strings, bitmaps, keys, expiry, 'lazy expiry': lazyExpiry, 'active expiry': activeExpiry, lists,
  'blocking lists served by a push': blockingLists, hashes, sets, zsets, 'blocking zsets': blockingZsets, geo,
  hyperloglog: hll, transactions,
};

for (const [name, steps] of Object.entries(families)) {
  test(`KEA notifications: ${name}`, { skip }, async () => {
    await same('KEA', steps);
  });
}

test('KEA notifications: SORT STORE', { skip }, async (t) => {
  if (!sortImplemented) {
    t.skip('SORT is not implemented in Amber yet');
    return;
  }
  await same('KEA', sort);
});

test('selective classes: Kl, Eh$, Exe, Kg, Ez, Ks, E, A', { skip }, async () => {
  const mixed: Step[] = [...sets.slice(0, 10), ...strings.slice(0, 12), ...lists.slice(0, 14), ...hashes.slice(0, 8), ...expiry.slice(0, 14), ...zsets.slice(0, 10),
    ['SET', 'ex', 'v', 'PX', '1'], { sleep: 30 }, ['GET', 'ex'], ['DEL', 'l']];
  for (const flags of ['Kl', 'Eh$', 'Exe', 'Kg', 'Ez', 'Ks', 'K$lshzxeg']) await same(flags, mixed);
  // a channel type without a class, or a class without a channel type, publishes nothing
  await same('E', mixed, 0);
  await same('A', mixed, 0);
});

test('keymiss events (KEm) and new-key events (KEn, En)', { skip }, async () => {
  await same('KEm', keymiss);
  await same('KEn', newKeys);
  await same('En', newKeys);
  await same('KEA', keymiss); // A does not include m
  await same('AKEmn', [...keymiss.slice(0, 8), ...newKeys.slice(0, 8)]);
});

test('notifications in db 3 and under CONFIG GET round trip', { skip }, async () => {
  await same('KEA', [['SELECT', '3'], ['SET', 'k', 'v'], ['LPUSH', 'l', 'a'], ['MOVE', 'k', '0'], ['SWAPDB', '3', '0'], ['SELECT', '0']]);
  const a = await RawClient.connect(amber.port);
  const r = await RawClient.connect(redis.port);
  try {
    for (const f of ['KEA', 'Kl', 'Eh$', 'Exe', 'KEm', 'KEn', 'gK', 'AKE', 'x', 'AKEmn', '', 'z$lshgxeKEt', 'KEA?']) {
      const cmds = [['CONFIG', 'SET', 'notify-keyspace-events', f], ['CONFIG', 'GET', 'notify-keyspace-events']];
      for (const cmd of cmds) assert.equal(await a.call(...cmd), await r.call(...cmd), f);
    }
    await a.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    await r.call('CONFIG', 'SET', 'notify-keyspace-events', '');
  } finally {
    a.close();
    r.close();
  }
});
