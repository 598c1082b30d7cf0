/**
 * The hash commands, following t_hash.c of Redis 7.0.15: same replies in RESP2 and RESP3, same
 * errors, same encoding conversions, same keyspace notifications, dirty counts and propagation
 * (HINCRBYFLOAT propagates as HSET with the result).
 */
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR, arityError } from '../server/dispatch.js';
import { Hash } from '../keyspace/types/hash.js';
import { NOTIFY_HASH, NOTIFY_GENERIC } from '../keyspace/notify.js';
import { parseInteger, parseInt64, INT64_MIN, INT64_MAX } from '../util/number.js';
import { parseLongDouble, addLongDouble, formatLongDoubleHuman, type LongDouble } from '../util/longdouble.js';
import { stringMatch } from '../util/glob.js';

/** LONG_MAX / 2 (HRANDFIELD WITHVALUES bound). */
const HALF_LONG_MAX = 4611686018427387903n;
/** Case 3 of HRANDFIELD: copy and remove when count * 3 > size (HRANDFIELD_SUB_STRATEGY_MUL). */
const SUB_STRATEGY_MUL = 3;
const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, inf: false };

function maxEntries(c: Client): number {
  return c.server.config.get<number>('hash-max-listpack-entries');
}
function maxValue(c: Client): number {
  return c.server.config.get<number>('hash-max-listpack-value');
}

/**
 * The hash at `key` for reading: the Hash, undefined when missing, or null after replying
 * WRONGTYPE.
 */
function readHash(c: Client, key: string): Hash | undefined | null {
  const o = c.db.lookupRead(key);
  if (o === undefined) return undefined;
  if (!(o instanceof Hash)) {
    c.addError(ERR.wrongType);
    return null;
  }
  return o;
}

/** The hash at `key` for writing, undefined when missing, or null after replying WRONGTYPE. */
function writeHash(c: Client, key: string): Hash | undefined | null {
  const o = c.db.lookupWrite(key);
  if (o === undefined) return undefined;
  if (!(o instanceof Hash)) {
    c.addError(ERR.wrongType);
    return null;
  }
  return o;
}

/**
 * Records a successful write of `changes` dirty changes to the hash `o` at `key`: a new hash is
 * added to the keyspace now (hashTypeLookupWriteOrCreate's dbAdd, done last so that a failing
 * command leaves nothing behind), an existing one is signalled as modified.
 */
function commit(c: Client, key: string, o: Hash, created: boolean, changes: number): void {
  if (created) {
    c.db.setKey(key, o);
    if (changes > 1) c.db.ks.dirty += changes - 1;
  } else {
    c.db.modified(key, changes);
  }
}

/** HSET key field value [field value ...] and HMSET (hsetCommand). */
function hset(c: Client): void {
  const argv = c.argv;
  if (argv.length % 2 === 1) {
    c.addError(arityError(c.cmd!));
    return;
  }
  const key = argv[1]!;
  let o = writeHash(c, key);
  if (o === null) return;
  const created = o === undefined;
  if (o === undefined) o = new Hash();
  const me = maxEntries(c);
  const mv = maxValue(c);
  o.tryConversion(argv, 2, argv.length - 1, mv);
  const added = o.setMany(argv, 2, me, mv);
  // HMSET (deprecated) and HSET differ only in the reply
  const name = argv[0]!;
  if (name.charCodeAt(1) === 115 || name.charCodeAt(1) === 83) c.addInt(added);
  else c.addOk();
  commit(c, key, o, created, (argv.length - 2) >> 1);
  c.db.ks.notify(NOTIFY_HASH, 'hset', key, c.db.id);
}

/** HSETNX key field value. */
function hsetnx(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  let o = writeHash(c, key);
  if (o === null) return;
  const created = o === undefined;
  if (o === undefined) o = new Hash();
  if (o.has(argv[2]!)) {
    c.addInt(0);
    return;
  }
  const mv = maxValue(c);
  o.tryConversion(argv, 2, 3, mv);
  o.set(argv[2]!, argv[3]!, maxEntries(c), mv);
  c.addInt(1);
  commit(c, key, o, created, 1);
  c.db.ks.notify(NOTIFY_HASH, 'hset', key, c.db.id);
}

/** HGET key field. */
function hget(c: Client): void {
  const o = readHash(c, c.argv[1]!);
  if (o === null) return;
  const v = o === undefined ? undefined : o.get(c.argv[2]!);
  if (v === undefined) c.addNull();
  else c.addBulk(v);
}

/** HMGET key field [field ...]: a missing key is an empty hash. */
function hmget(c: Client): void {
  const argv = c.argv;
  const o = readHash(c, argv[1]!);
  if (o === null) return;
  c.addArrayLen(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const v = o === undefined ? undefined : o.get(argv[i]!);
    if (v === undefined) c.addNull();
    else c.addBulk(v);
  }
}

/** HDEL key field [field ...]: deletes the key when it becomes empty. */
function hdel(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  const o = writeHash(c, key);
  if (o === null) return;
  if (o === undefined) {
    c.addInt(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let i = 2; i < argv.length; i++) {
    if (o.delete(argv[i]!)) {
      deleted++;
      if (o.size === 0) {
        keyRemoved = true;
        break;
      }
    }
  }
  if (deleted > 0) {
    if (keyRemoved) {
      c.db.deleteKey(key);
      if (deleted > 1) c.db.ks.dirty += deleted - 1;
    } else {
      c.db.modified(key, deleted);
    }
    c.db.ks.notify(NOTIFY_HASH, 'hdel', key, c.db.id);
    if (keyRemoved) c.db.ks.notify(NOTIFY_GENERIC, 'del', key, c.db.id);
  }
  c.addInt(deleted);
}

/** HLEN key. */
function hlen(c: Client): void {
  const o = readHash(c, c.argv[1]!);
  if (o === null) return;
  c.addInt(o === undefined ? 0 : o.size);
}

/** HSTRLEN key field. */
function hstrlen(c: Client): void {
  const o = readHash(c, c.argv[1]!);
  if (o === null) return;
  const v = o === undefined ? undefined : o.get(c.argv[2]!);
  c.addInt(v === undefined ? 0 : v.length);
}

/** HEXISTS key field. */
function hexists(c: Client): void {
  const o = readHash(c, c.argv[1]!);
  if (o === null) return;
  c.addInt(o !== undefined && o.has(c.argv[2]!) ? 1 : 0);
}

const KEYS = 1;
const VALUES = 2;

function emitField(c: Client, f: string, _v: string): void {
  c.addBulk(f);
}
function emitValue(c: Client, _f: string, v: string): void {
  c.addBulk(v);
}
function emitPair(c: Client, f: string, v: string): void {
  c.addBulk(f);
  c.addBulk(v);
}

/** HGETALL / HKEYS / HVALS (genericHgetallCommand): a map for HGETALL in RESP3. */
function genericHgetall(c: Client, flags: number): void {
  const o = readHash(c, c.argv[1]!);
  if (o === null) return;
  const both = flags === (KEYS | VALUES);
  const n = o === undefined ? 0 : o.size;
  if (both) c.addMapLen(n);
  else c.addArrayLen(n);
  if (o === undefined) return;
  o.forEach(both ? emitPair : flags === KEYS ? emitField : emitValue, c);
}

/** HINCRBY key field increment. */
function hincrby(c: Client): void {
  const argv = c.argv;
  const incr = parseInteger(argv[3]!);
  if (incr === null) {
    c.addError(ERR.notInteger);
    return;
  }
  const key = argv[1]!;
  let o = writeHash(c, key);
  if (o === null) return;
  const created = o === undefined;
  if (o === undefined) o = new Hash();
  const field = argv[2]!;
  const cur = o.get(field);
  let value: number | bigint = 0;
  if (cur !== undefined) {
    const v = parseInteger(cur);
    if (v === null) {
      c.addError('ERR hash value is not an integer');
      return;
    }
    value = v;
  }
  let result: number | bigint;
  if (typeof value === 'number' && typeof incr === 'number' && Number.isSafeInteger(value + incr)) {
    result = value + incr;
  } else {
    const r = BigInt(value) + BigInt(incr);
    if (r < INT64_MIN || r > INT64_MAX) {
      c.addError(ERR.overflow);
      return;
    }
    result = r;
  }
  o.set(field, String(result), maxEntries(c), maxValue(c));
  c.addInt(result);
  commit(c, key, o, created, 1);
  c.db.ks.notify(NOTIFY_HASH, 'hincrby', key, c.db.id);
}

/**
 * HINCRBYFLOAT key field increment: long double arithmetic and formatting as Redis on x86-64;
 * propagated as HSET key field <result>.
 */
function hincrbyfloat(c: Client): void {
  const argv = c.argv;
  const incr = parseLongDouble(argv[3]!);
  if (incr === null) {
    c.addError(ERR.notFloat);
    return;
  }
  if (incr.inf) {
    c.addError('ERR value is NaN or Infinity');
    return;
  }
  const key = argv[1]!;
  let o = writeHash(c, key);
  if (o === null) return;
  const created = o === undefined;
  if (o === undefined) o = new Hash();
  const field = argv[2]!;
  const cur = o.get(field);
  let value = LD_ZERO;
  if (cur !== undefined) {
    const v = parseLongDouble(cur);
    if (v === null) {
      c.addError('ERR hash value is not a float');
      return;
    }
    value = v;
  }
  const sum = addLongDouble(value, incr);
  if (sum === null) {
    c.addError('ERR increment would produce NaN or Infinity');
    return;
  }
  const text = formatLongDoubleHuman(sum);
  o.set(field, text, maxEntries(c), maxValue(c));
  c.addBulk(text);
  commit(c, key, o, created, 1);
  c.db.ks.notify(NOTIFY_HASH, 'hincrbyfloat', key, c.db.id);
  c.server.effects.rewrite(['HSET', key, field, text]);
}

/** Writes one HRANDFIELD element: the field, or with values a pair (nested in RESP3). */
function randReply(c: Client, f: string, v: string, withValues: boolean): void {
  if (withValues) {
    if (c.resp > 2) c.addArrayLen(2);
    c.addBulk(f);
    c.addBulk(v);
  } else {
    c.addBulk(f);
  }
}

function randPair(c: Client, f: string, v: string): void {
  randReply(c, f, v, true);
}
function randField(c: Client, f: string): void {
  c.addBulk(f);
}

/** HRANDFIELD key [count [WITHVALUES]] (hrandfieldCommand, hrandfieldWithCountCommand). */
function hrandfield(c: Client): void {
  const argv = c.argv;
  if (argv.length >= 3) {
    const l = parseInt64(argv[2]!);
    if (l === null) {
      c.addError(ERR.notInteger);
      return;
    }
    if (l === INT64_MIN) {
      c.addError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
      return;
    }
    let withValues = false;
    if (argv.length > 4 || (argv.length === 4 && argv[3]!.toLowerCase() !== 'withvalues')) {
      c.addError(ERR.syntax);
      return;
    } else if (argv.length === 4) {
      withValues = true;
      if (l < -HALF_LONG_MAX || l > HALF_LONG_MAX) {
        c.addError('ERR value is out of range');
        return;
      }
    }
    hrandfieldWithCount(c, l, withValues);
    return;
  }
  const o = readHash(c, argv[1]!);
  if (o === null) return;
  if (o === undefined) {
    c.addNull();
    return;
  }
  c.addBulk(o.random()[0]);
}

function hrandfieldWithCount(c: Client, l: bigint, withValues: boolean): void {
  const o = readHash(c, c.argv[1]!);
  if (o === null) return;
  if (o === undefined) {
    c.addArrayLen(0);
    return;
  }
  const size = o.size;
  const uniq = l >= 0n;
  const countBig = uniq ? l : -l;
  if (countBig === 0n) {
    c.addArrayLen(0);
    return;
  }
  // CASE 1: negative count (repeats allowed) or a single element: sample independently
  if (!uniq || countBig === 1n) {
    const count = Number(countBig);
    c.addArrayLen(withValues && c.resp === 2 ? count * 2 : count);
    if (o.isListpack()) {
      // unpack once instead of walking the listpack for every sample (lpRandomPairs)
      const all = Array.from(o.pairs());
      for (let i = 0; i < count; i++) {
        const [f, v] = all[Math.floor(Math.random() * all.length)]!;
        randReply(c, f, v, withValues);
      }
    } else {
      for (let i = 0; i < count; i++) {
        const [f, v] = o.random();
        randReply(c, f, v, withValues);
      }
    }
    return;
  }
  // CASE 2: count >= size: the whole hash, in its order
  if (countBig >= BigInt(size)) {
    c.addArrayLen(withValues && c.resp === 2 ? size * 2 : size);
    o.forEach(withValues ? randPair : randField, c);
    return;
  }
  const count = Number(countBig);
  c.addArrayLen(withValues && c.resp === 2 ? count * 2 : count);
  if (o.isListpack()) {
    // CASE 2.5 (listpack): unique pairs in listpack order (lpRandomPairsUnique, selection sampling)
    let need = count;
    let left = size;
    for (const [f, v] of o.pairs()) {
      if (Math.random() * left-- < need) {
        randReply(c, f, v, withValues);
        if (--need === 0) break;
      }
    }
    return;
  }
  if (count * SUB_STRATEGY_MUL > size) {
    // CASE 3: copy everything, drop random elements until count remain
    const all = Array.from(o.pairs());
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (all.length - i));
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
      randReply(c, all[i]![0], all[i]![1], withValues);
    }
    return;
  }
  // CASE 4: add random elements until count distinct ones are collected
  const picked = new Map<string, string>();
  while (picked.size < count) {
    const [f, v] = o.random();
    picked.set(f, v);
  }
  for (const [f, v] of picked) randReply(c, f, v, withValues);
}

/** The reply to a SCAN-family command on a missing key (shared.emptyscan). */
export const EMPTY_SCAN = '*2\r\n$1\r\n0\r\n*0\r\n';

/**
 * Parses a SCAN cursor as parseScanCursorOrReply (src/db.c): C's strtoul in base 10 over the
 * string up to its first NUL, refusing a leading space, trailing characters and overflow. So
 * "" is 0, "+5" is 5, "007" is 7 and "-1" wraps to 2^64-1, as in Redis.
 * @returns the cursor (0 .. 2^64-1), or null for 'ERR invalid cursor'
 */
export function parseScanCursor(s: string): bigint | null {
  const z = s.indexOf('\0');
  if (z >= 0) s = s.slice(0, z);
  if (s.length === 0) return 0n;
  const c0 = s.charCodeAt(0);
  if (c0 === 32 || (c0 >= 9 && c0 <= 13)) return null;
  let i = 0;
  const neg = c0 === 45;
  if (neg || c0 === 43) i = 1;
  if (i === s.length) return null;
  for (let j = i; j < s.length; j++) {
    const d = s.charCodeAt(j);
    if (d < 48 || d > 57) return null;
  }
  const v = BigInt(s.slice(i));
  if (v > 0xffffffffffffffffn) return null;
  return neg ? (0x10000000000000000n - v) & 0xffffffffffffffffn : v;
}

/** Options of HSCAN/SSCAN/ZSCAN: COUNT (default 10) and MATCH (null when absent or "*"). */
export interface ScanOptions {
  count: number;
  pattern: string | null;
}

/**
 * Parses SCAN options from argv[start] on, as step 1 of scanGenericCommand (src/db.c), replying
 * the error and returning null on a bad option: a non-integer COUNT gets "ERR value is not an
 * integer or out of range", COUNT < 1 and unknown options "ERR syntax error".
 */
export function parseScanOptions(c: Client, start: number): ScanOptions | null {
  const argv = c.argv;
  let count = 10;
  let pattern: string | null = null;
  for (let i = start; i < argv.length; ) {
    const more = argv.length - i;
    const opt = argv[i]!.toLowerCase();
    if (opt === 'count' && more >= 2) {
      const v = parseInteger(argv[i + 1]!);
      if (v === null) {
        c.addError(ERR.notInteger);
        return null;
      }
      if (v < 1) {
        c.addError(ERR.syntax);
        return null;
      }
      count = Number(v);
      i += 2;
    } else if (opt === 'match' && more >= 2) {
      const p = argv[i + 1]!;
      pattern = p === '*' ? null : p;
      i += 2;
    } else {
      c.addError(ERR.syntax);
      return null;
    }
  }
  return { count, pattern };
}

interface ScanAcc {
  out: string[];
  opts: ScanOptions;
}

function collectPair(acc: ScanAcc, f: string, v: string): void {
  const pat = acc.opts.pattern;
  if (pat !== null && !stringMatch(pat, f, false)) return;
  acc.out.push(f, v);
}

/** HSCAN key cursor [MATCH pattern] [COUNT count] (hscanCommand + scanGenericCommand). */
function hscan(c: Client): void {
  const argv = c.argv;
  const cursor = parseScanCursor(argv[2]!);
  if (cursor === null) {
    c.addError('ERR invalid cursor');
    return;
  }
  const o = readHash(c, argv[1]!);
  if (o === null) return;
  if (o === undefined) {
    c.addRaw(EMPTY_SCAN);
    return;
  }
  const opts = parseScanOptions(c, 3);
  if (opts === null) return;
  const acc: ScanAcc = { out: [], opts };
  let next = 0;
  if (o.lp !== null) {
    // a listpack is returned whole, whatever the cursor
    o.forEach(collectPair, acc);
  } else {
    const count = opts.count * 2; // fields and values
    let maxIterations = count * 10;
    let cur = Number(cursor & 0xffffffffn);
    do {
      cur = o.ht!.scan(cur, collectPairRaw, acc);
    } while (cur !== 0 && maxIterations-- > 0 && acc.out.length < count);
    next = cur;
    if (opts.pattern !== null) filterPairs(acc);
  }
  c.addArrayLen(2);
  c.addBulk(String(next));
  c.addBulkArray(acc.out);
}

/** Collects unfiltered pairs (the filter runs after the steps, as COUNT counts before it). */
function collectPairRaw(acc: ScanAcc, f: string, v: string): void {
  acc.out.push(f, v);
}

function filterPairs(acc: ScanAcc): void {
  const pat = acc.opts.pattern!;
  const src = acc.out;
  const out: string[] = [];
  for (let i = 0; i < src.length; i += 2) {
    if (stringMatch(pat, src[i]!, false)) out.push(src[i]!, src[i + 1]!);
  }
  acc.out = out;
}

/** Handlers of the hashes command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const hashesCommands: Record<string, Handler> = {
  hset,
  hmset: hset,
  hsetnx,
  hget,
  hmget,
  hdel,
  hlen,
  hstrlen,
  hexists,
  hgetall: (c) => genericHgetall(c, KEYS | VALUES),
  hkeys: (c) => genericHgetall(c, KEYS),
  hvals: (c) => genericHgetall(c, VALUES),
  hincrby,
  hincrbyfloat,
  hrandfield,
  hscan,
};
