import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR, getLongOrReply } from '../server/dispatch.js';
import { NOTIFY_GENERIC, NOTIFY_ZSET } from '../keyspace/notify.js';
import type { RObject, Value } from '../keyspace/types/object.js';
import {
  ZSet, ZADD_IN_GT, ZADD_IN_INCR, ZADD_IN_LT, ZADD_IN_NX, ZADD_IN_XX, ZADD_OUT_ADDED, ZADD_OUT_NAN,
  ZADD_OUT_NOP, ZADD_OUT_UPDATED, cmpKey, lexGteMin, listpackScoreString, lexLteMax, scoreGteMin, scoreLteMax,
  type LexRange, type ScoreRange, type ZLeaf, type ZsetLimits,
} from '../keyspace/types/zset.js';
import { RedisSet } from '../keyspace/types/set.js';
import { formatDouble, parseDouble, parseInt64 } from '../util/number.js';
import { stringMatch } from '../util/glob.js';
import { blockForKeys, isInMulti, parseTimeout, type BlockRequest } from '../server/blocking.js';

/**
 * The sorted-set commands of Redis 7.0.15 (src/t_zset.c): replies, errors, notifications,
 * propagation and encodings as Redis does them. The type itself is in keyspace/types/zset.ts;
 * the blocking pops wait through server/blocking.ts.
 */

// ---- shared helpers -----------------------------------------------------------------------

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/** The listpack limits from the config (zset-max-listpack-entries / -value). */
export function zsetLimits(c: Client): ZsetLimits {
  const cfg = c.server.config;
  return { entries: cfg.get<number>('zset-max-listpack-entries'), value: cfg.get<number>('zset-max-listpack-value') };
}

/**
 * The zset at `key` for a read: the ZSet, undefined when missing, or null when the key holds
 * another type (WRONGTYPE already replied).
 */
export function readZset(c: Client, key: string): ZSet | undefined | null {
  const v = c.db.lookupRead(key);
  if (v === undefined) return undefined;
  if (!(v instanceof ZSet)) {
    c.addError(ERR.wrongType);
    return null;
  }
  return v;
}

/** As {@link readZset} but for a command that may change the value in place (lookupKeyWrite). */
export function writeZset(c: Client, key: string): ZSet | undefined | null {
  const v = c.db.lookupWrite(key);
  if (v === undefined) return undefined;
  if (!(v instanceof ZSet)) {
    c.addError(ERR.wrongType);
    return null;
  }
  return v;
}

function notify(c: Client, type: number, event: string, key: string): void {
  c.server.keyspace.notify(type, event, key, c.db.id);
}

/**
 * After elements of the zset at `key` changed in place: counts `changes` dirty changes as Redis
 * does (server.dirty += n; its dbDelete counts nothing) and deletes the key when it emptied.
 * Returns true when the key was deleted.
 */
function afterChange(c: Client, key: string, zs: ZSet, changes: number): boolean {
  if (zs.size === 0) {
    if (changes > 1) c.db.modified(key, changes - 1);
    c.db.deleteKey(key);
    return true;
  }
  if (changes > 0) c.db.modified(key, changes);
  return false;
}

/** getRangeLongFromObjectOrReply */
function getRangeLong(c: Client, s: string, min: bigint, max: bigint, msg: string | null): number | null {
  const v = parseInt64(s);
  if (v === null) {
    c.addError(msg ?? ERR.notInteger);
    return null;
  }
  if (v < min || v > max) {
    c.addError(msg ?? `ERR value is out of range, value must between ${min} and ${max}`);
    return null;
  }
  return Number(v);
}

/** getPositiveLongFromObjectOrReply */
function getPositiveLong(c: Client, s: string, msg: string | null = null): number | null {
  return getRangeLong(c, s, 0n, LONG_MAX, msg ?? 'ERR value is out of range, must be positive');
}

/** The encoded double reply (addReplyDouble): RESP2 bulk, RESP3 `,`. */
function dbl(c: Client, d: number): string {
  const s = formatDouble(d);
  return c.resp === 3 ? ',' + s + '\r\n' : '$' + s.length + '\r\n' + s + '\r\n';
}

function bulk(s: string): string {
  return '$' + s.length + '\r\n' + s + '\r\n';
}

function eqi(a: string, lower: string): boolean {
  return a.length === lower.length && a.toLowerCase() === lower;
}

// ---- range parsing ------------------------------------------------------------------------

function isSpace(ch: number): boolean {
  return ch === 32 || (ch >= 9 && ch <= 13);
}

function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

function hexVal(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

/** Result of {@link strtod}: the value and the index where parsing stopped. */
let strtodEnd = 0;

/**
 * C's strtod (glibc, C locale) from index `i0`: skips leading white space, reads a decimal or
 * hexadecimal float, inf/infinity or nan[(...)], and sets {@link strtodEnd} to the index after
 * the number (`i0` when nothing was converted). Overflow gives +-inf, underflow 0 (the callers
 * that need strtod's ERANGE use parseDouble instead).
 */
export function strtod(s: string, i0: number): number {
  const n = s.length;
  let i = i0;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  let j = i;
  let neg = false;
  if (j < n && (s[j] === '+' || s[j] === '-')) {
    neg = s[j] === '-';
    j++;
  }
  const low = s.slice(j, j + 8).toLowerCase();
  if (low.startsWith('inf')) {
    strtodEnd = low === 'infinity' ? j + 8 : j + 3;
    return neg ? -Infinity : Infinity;
  }
  if (low.startsWith('nan')) {
    let e = j + 3;
    if (s[e] === '(') {
      let k = e + 1;
      while (k < n && /[A-Za-z0-9_]/.test(s[k]!)) k++;
      if (s[k] === ')') e = k + 1;
    }
    strtodEnd = e;
    return NaN;
  }
  if (s[j] === '0' && (s[j + 1] === 'x' || s[j + 1] === 'X')) {
    let k = j + 2;
    let mant = 0;
    let digits = 0;
    let fracDigits = 0;
    while (k < n && hexVal(s.charCodeAt(k)) >= 0) {
      mant = mant * 16 + hexVal(s.charCodeAt(k++));
      digits++;
    }
    if (s[k] === '.') {
      let q = k + 1;
      let fd = 0;
      while (q < n && hexVal(s.charCodeAt(q)) >= 0) {
        mant = mant * 16 + hexVal(s.charCodeAt(q++));
        fd++;
      }
      if (digits + fd > 0) {
        k = q;
        digits += fd;
        fracDigits = fd;
      }
    }
    if (digits === 0) {
      // "0x" without hex digits: strtod reads just the "0"
      strtodEnd = j + 1;
      return neg ? -0 : 0;
    }
    let exp = -4 * fracDigits;
    if ((s[k] === 'p' || s[k] === 'P')) {
      let q = k + 1;
      let eneg = false;
      if (s[q] === '+' || s[q] === '-') eneg = s[q++] === '-';
      if (q < n && isDigit(s.charCodeAt(q))) {
        let e = 0;
        while (q < n && isDigit(s.charCodeAt(q))) e = Math.min(e * 10 + (s.charCodeAt(q++) - 48), 100000);
        exp += eneg ? -e : e;
        k = q;
      }
    }
    strtodEnd = k;
    const v = mant * Math.pow(2, exp);
    return neg ? -v : v;
  }
  let k = j;
  let digits = 0;
  while (k < n && isDigit(s.charCodeAt(k))) {
    k++;
    digits++;
  }
  if (s[k] === '.') {
    k++;
    while (k < n && isDigit(s.charCodeAt(k))) {
      k++;
      digits++;
    }
  }
  if (digits === 0) {
    strtodEnd = i0;
    return 0;
  }
  if (s[k] === 'e' || s[k] === 'E') {
    let q = k + 1;
    if (s[q] === '+' || s[q] === '-') q++;
    if (q < n && isDigit(s.charCodeAt(q))) {
      while (q < n && isDigit(s.charCodeAt(q))) q++;
      k = q;
    }
  }
  strtodEnd = k;
  return Number(s.slice(i, k));
}

/** One bound of zslParseRange: strtod up to the end of the C string (a NUL ends it). */
function parseScoreBound(s: string, from: number): number | null {
  const v = strtod(s, from);
  const e = strtodEnd;
  if ((e < s.length && s.charCodeAt(e) !== 0) || Number.isNaN(v)) return null;
  return v;
}

/** zslParseRange: `(x` exclusive, strtod otherwise; null when invalid. */
export function parseScoreRange(min: string, max: string): ScoreRange | null {
  const minex = min.charCodeAt(0) === 40;
  const maxex = max.charCodeAt(0) === 40;
  const lo = parseScoreBound(min, minex ? 1 : 0);
  if (lo === null) return null;
  const hi = parseScoreBound(max, maxex ? 1 : 0);
  if (hi === null) return null;
  return { min: lo, max: hi, minex, maxex };
}

/** zslParseLexRange: `[x` / `(x` / `-` / `+`; null when invalid. */
export function parseLexRange(min: string, max: string): LexRange | null {
  const r: LexRange = { min: '', max: '', minex: false, maxex: false, minInf: 0, maxInf: 0 };
  const c0 = min.charCodeAt(0);
  if (c0 === 43 || c0 === 45) {
    if (min.length > 1 && min.charCodeAt(1) !== 0) return null;
    r.minex = true;
    r.minInf = c0 === 43 ? 1 : -1;
  } else if (c0 === 40 || c0 === 91) {
    r.minex = c0 === 40;
    r.min = min.slice(1);
  } else return null;
  const c1 = max.charCodeAt(0);
  if (c1 === 43 || c1 === 45) {
    if (max.length > 1 && max.charCodeAt(1) !== 0) return null;
    r.maxex = true;
    r.maxInf = c1 === 43 ? 1 : -1;
  } else if (c1 === 40 || c1 === 91) {
    r.maxex = c1 === 40;
    r.max = max.slice(1);
  } else return null;
  return r;
}

const ERR_MINMAX_FLOAT = 'ERR min or max is not a float';
const ERR_MINMAX_LEX = 'ERR min or max not valid string range item';

// ---- ZADD / ZINCRBY -------------------------------------------------------------------------

/** zaddGenericCommand: ZADD and ZINCRBY (flags ZADD_IN_INCR). */
function zaddGeneric(c: Client, flagsIn: number): void {
  const argv = c.argv;
  const key = argv[1]!;
  let flags = flagsIn;
  let ch = false;
  let scoreidx = 2;
  while (scoreidx < argv.length) {
    const opt = argv[scoreidx]!;
    if (opt.length > 4) break;
    const o = opt.toLowerCase();
    if (o === 'nx') flags |= ZADD_IN_NX;
    else if (o === 'xx') flags |= ZADD_IN_XX;
    else if (o === 'ch') ch = true;
    else if (o === 'incr') flags |= ZADD_IN_INCR;
    else if (o === 'gt') flags |= ZADD_IN_GT;
    else if (o === 'lt') flags |= ZADD_IN_LT;
    else break;
    scoreidx++;
  }
  const incr = (flags & ZADD_IN_INCR) !== 0;
  const nx = (flags & ZADD_IN_NX) !== 0;
  const xx = (flags & ZADD_IN_XX) !== 0;
  const gt = (flags & ZADD_IN_GT) !== 0;
  const lt = (flags & ZADD_IN_LT) !== 0;
  let elements = argv.length - scoreidx;
  if (elements % 2 !== 0 || elements === 0) {
    c.addError(ERR.syntax);
    return;
  }
  elements /= 2;
  if (nx && xx) {
    c.addError('ERR XX and NX options at the same time are not compatible');
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    c.addError('ERR GT, LT, and/or NX options at the same time are not compatible');
    return;
  }
  if (incr && elements > 1) {
    c.addError('ERR INCR option supports a single increment-element pair');
    return;
  }
  const scores = new Array<number>(elements);
  for (let j = 0; j < elements; j++) {
    const s = parseDouble(argv[scoreidx + j * 2]!);
    if (s === null) {
      c.addError(ERR.notFloat);
      return;
    }
    scores[j] = s;
  }
  let zs = writeZset(c, key);
  if (zs === null) return;
  let created = false;
  const limits = zsetLimits(c);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  let nan = false;
  if (zs === undefined) {
    if (xx) {
      replyZadd(c, incr, ch, processed, score, added, updated);
      return;
    }
    zs = new ZSet(!(limits.entries === 0 || limits.value < argv[scoreidx + 1]!.length));
    created = true;
  }
  for (let j = 0; j < elements; j++) {
    const f = zs.add(scores[j]!, argv[scoreidx + 1 + j * 2]!, flags, limits);
    if (f === ZADD_OUT_NAN) {
      c.addError('ERR resulting score is not a number (NaN)');
      nan = true;
      break;
    }
    if (f === ZADD_OUT_ADDED) added++;
    else if (f === ZADD_OUT_UPDATED) updated++;
    if (f !== ZADD_OUT_NOP) {
      processed++;
      score = zs.lastScore;
    }
  }
  if (!nan) replyZadd(c, incr, ch, processed, score, added, updated);
  if (created) {
    if (zs.size > 0) {
      c.db.setKey(key, zs);
      if (added + updated > 1) c.db.modified(key, added + updated - 1);
    }
  } else if (added + updated > 0) {
    c.db.modified(key, added + updated);
  }
  if (added || updated) notify(c, NOTIFY_ZSET, incr ? 'zincr' : 'zadd', key);
}

/**
 * Runs ZADD with `argv` as the command vector (replaceClientCommandVector + zaddCommand): GEOADD's
 * way of adding its encoded scores. The ZADD becomes the propagated effect when it changed
 * something; the client keeps its own argv (SLOWLOG and MONITOR show the GEOADD, as in Redis).
 */
export function zaddCommandWithArgv(c: Client, argv: string[]): void {
  const orig = c.argv;
  const d0 = c.db.ks.dirty;
  c.argv = argv;
  try {
    zaddGeneric(c, 0);
  } finally {
    c.argv = orig;
  }
  if (c.db.ks.dirty !== d0) c.server.effects.rewrite(argv);
}

function replyZadd(c: Client, incr: boolean, ch: boolean, processed: number, score: number, added: number, updated: number): void {
  if (incr) {
    if (processed) c.addRaw(dbl(c, score));
    else c.addNull();
  } else {
    c.addInt(ch ? added + updated : added);
  }
}

// ---- ZREM / ZREMRANGEBY* ----------------------------------------------------------------------

function zremCommand(c: Client): void {
  const key = c.argv[1]!;
  const zs = writeZset(c, key);
  if (zs === null) return;
  if (zs === undefined) {
    c.addInt(0);
    return;
  }
  let deleted = 0;
  for (let j = 2; j < c.argv.length; j++) {
    if (zs.remove(c.argv[j]!)) deleted++;
    if (zs.size === 0) break;
  }
  if (deleted) {
    notify(c, NOTIFY_ZSET, 'zrem', key);
    if (afterChange(c, key, zs, deleted)) notify(c, NOTIFY_GENERIC, 'del', key);
  }
  c.addInt(deleted);
}

const RANGE_RANK = 1;
const RANGE_SCORE = 2;
const RANGE_LEX = 3;

/** zremrangeGenericCommand: ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX. */
function zremrangeGeneric(c: Client, type: number): void {
  const key = c.argv[1]!;
  let start = 0;
  let end = 0;
  let srange: ScoreRange | null = null;
  let lrange: LexRange | null = null;
  let event: string;
  if (type === RANGE_RANK) {
    event = 'zremrangebyrank';
    const a = getLongOrReply(c, c.argv[2]!);
    if (a === null) return;
    const b = getLongOrReply(c, c.argv[3]!);
    if (b === null) return;
    start = a;
    end = b;
  } else if (type === RANGE_SCORE) {
    event = 'zremrangebyscore';
    srange = parseScoreRange(c.argv[2]!, c.argv[3]!);
    if (srange === null) {
      c.addError(ERR_MINMAX_FLOAT);
      return;
    }
  } else {
    event = 'zremrangebylex';
    lrange = parseLexRange(c.argv[2]!, c.argv[3]!);
    if (lrange === null) {
      c.addError(ERR_MINMAX_LEX);
      return;
    }
  }
  const zs = writeZset(c, key);
  if (zs === null) return;
  if (zs === undefined) {
    c.addInt(0);
    return;
  }
  const llen = zs.size;
  if (type === RANGE_RANK) {
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) {
      c.addInt(0);
      return;
    }
    if (end >= llen) end = llen - 1;
  } else if (type === RANGE_SCORE) {
    // zslDeleteRangeByScore / zzlDeleteRangeByScore: from the first >= min while <= max
    start = zs.deleteScoreStart(srange!);
    end = start < 0 ? -1 : countWhile(zs, start, srange, null) + start - 1;
  } else {
    start = zs.deleteLexStart(lrange!);
    end = start < 0 ? -1 : countWhile(zs, start, null, lrange) + start - 1;
  }
  const deleted = start >= 0 && end >= start ? zs.deleteRangeByRank(start, end) : 0;
  if (deleted) {
    notify(c, NOTIFY_ZSET, event, key);
    if (afterChange(c, key, zs, deleted)) notify(c, NOTIFY_GENERIC, 'del', key);
  }
  c.addInt(deleted);
}

/** How many elements from rank `from` on are <= the range's max (score or lex). */
function countWhile(zs: ZSet, from: number, sr: ScoreRange | null, lr: LexRange | null): number {
  const cur = zs.cursorAt(from);
  let leaf: ZLeaf | null = cur.leaf;
  let i = cur.i;
  let n = 0;
  while (leaf !== null) {
    if (sr !== null ? !scoreLteMax(leaf.s[i]!, sr) : !lexLteMax(leaf.m[i]!, lr!)) break;
    n++;
    if (++i >= leaf.m.length) {
      leaf = leaf.next;
      i = 0;
    }
  }
  return n;
}

// ---- simple reads -------------------------------------------------------------------------

function zcardCommand(c: Client): void {
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  c.addInt(zs === undefined ? 0 : zs.size);
}

function zscoreCommand(c: Client): void {
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  const s = zs === undefined ? undefined : zs.score(c.argv[2]!);
  if (s === undefined) c.addNull();
  else c.addRaw(dbl(c, s));
}

function zmscoreCommand(c: Client): void {
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  const n = c.argv.length - 2;
  let out = '*' + n + '\r\n';
  const nul = c.resp === 2 ? '$-1\r\n' : '_\r\n';
  for (let j = 2; j < c.argv.length; j++) {
    const s = zs === undefined ? undefined : zs.score(c.argv[j]!);
    out += s === undefined ? nul : dbl(c, s);
  }
  c.addRaw(out);
}

function zrankGeneric(c: Client, reverse: boolean): void {
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  if (zs === undefined) {
    c.addNull();
    return;
  }
  const r = zs.rank(c.argv[2]!, reverse);
  if (r >= 0) c.addInt(r);
  else c.addNull();
}

function zcountCommand(c: Client): void {
  const range = parseScoreRange(c.argv[2]!, c.argv[3]!);
  if (range === null) {
    c.addError(ERR_MINMAX_FLOAT);
    return;
  }
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  if (zs === undefined) {
    c.addInt(0);
    return;
  }
  const first = zs.firstInRange(range);
  if (first < 0) {
    c.addInt(0);
    return;
  }
  const last = zs.lastInRange(range);
  c.addInt(last >= 0 ? last - first + 1 : zs.size - first);
}

function zlexcountCommand(c: Client): void {
  const range = parseLexRange(c.argv[2]!, c.argv[3]!);
  if (range === null) {
    c.addError(ERR_MINMAX_LEX);
    return;
  }
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  if (zs === undefined) {
    c.addInt(0);
    return;
  }
  const first = zs.firstInLexRange(range);
  if (first < 0) {
    c.addInt(0);
    return;
  }
  if (zs.listpack) {
    // zlexcountCommand on a listpack counts from the first while <= max
    c.addInt(countWhile(zs, first, null, range));
    return;
  }
  const last = zs.lastInLexRange(range);
  c.addInt(last >= 0 ? last - first + 1 : zs.size - first);
}

// ---- ZRANGE family ------------------------------------------------------------------------

/**
 * Where a range goes (zrange_result_handler): the client's reply, or a new zset for
 * ZRANGESTORE. Elements are accumulated, then the reply is written with its length first.
 */
class RangeSink {
  body = '';
  n = 0;
  dst: ZSet | null = null;
  constructor(
    readonly c: Client,
    readonly store: boolean,
    readonly withscores: boolean,
    readonly limits: ZsetLimits | null,
  ) {
    if (store) this.dst = new ZSet(true);
  }

  emit(m: string, s: number): void {
    this.n++;
    if (this.dst !== null) {
      this.dst.add(s, m, 0, this.limits!);
      return;
    }
    const c = this.c;
    if (this.withscores) {
      if (c.resp === 3) this.body += '*2\r\n' + bulk(m) + dbl(c, s);
      else this.body += bulk(m) + dbl(c, s);
    } else {
      this.body += bulk(m);
    }
  }

  /** zrangeResultFinalizeClient / zrangeResultFinalizeStore */
  finish(dstkey: string | null): void {
    const c = this.c;
    if (this.dst === null) {
      c.addArrayLen(this.withscores && c.resp === 2 ? this.n * 2 : this.n);
      if (this.body.length) c.addRaw(this.body);
      return;
    }
    const key = dstkey!;
    if (this.n > 0) {
      c.db.setKey(key, this.dst);
      c.addInt(this.n);
      notify(c, NOTIFY_ZSET, 'zrangestore', key);
    } else {
      c.addInt(0);
      if (c.db.deleteKey(key)) notify(c, NOTIFY_GENERIC, 'del', key);
    }
  }
}

/** Emits `count` elements from rank `from`, forward or backward. */
function emitRanks(sink: RangeSink, zs: ZSet, from: number, count: number, reverse: boolean): void {
  const cur = zs.cursorAt(from);
  let leaf: ZLeaf | null = cur.leaf;
  let i = cur.i;
  while (count-- > 0 && leaf !== null) {
    sink.emit(leaf.m[i]!, leaf.s[i]!);
    if (reverse) {
      if (--i < 0) {
        leaf = leaf.prev;
        if (leaf !== null) i = leaf.m.length - 1;
      }
    } else if (++i >= leaf.m.length) {
      leaf = leaf.next;
      i = 0;
    }
  }
}

/**
 * zrangeGenericCommand: ZRANGE, ZRANGESTORE and the older ZRANGEBYSCORE, ZREVRANGEBYSCORE,
 * ZRANGEBYLEX, ZREVRANGEBYLEX, ZREVRANGE. `argStart` is the index of the source key.
 * `rangetype` 0 = from the arguments (BYSCORE/BYLEX), `dir` 0 = from the arguments (REV).
 */
function zrangeGeneric(c: Client, argStart: number, store: boolean, rangetypeIn: number, dirIn: number): void {
  const argv = c.argv;
  const key = argv[argStart]!;
  let minidx = argStart + 1;
  let maxidx = argStart + 2;
  let rangetype = rangetypeIn;
  let dir = dirIn; // 1 forward, -1 reverse
  let withscores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const a = argv[j]!;
    if (!store && eqi(a, 'withscores')) {
      withscores = true;
    } else if (eqi(a, 'limit') && left >= 2) {
      const o = getLongOrReply(c, argv[j + 1]!);
      if (o === null) return;
      const l = getLongOrReply(c, argv[j + 2]!);
      if (l === null) return;
      offset = o;
      limit = l;
      j += 2;
    } else if (dir === 0 && eqi(a, 'rev')) {
      dir = -1;
    } else if (rangetype === 0 && eqi(a, 'bylex')) {
      rangetype = RANGE_LEX;
    } else if (rangetype === 0 && eqi(a, 'byscore')) {
      rangetype = RANGE_SCORE;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  if (dir === 0) dir = 1;
  if (rangetype === 0) rangetype = RANGE_RANK;
  if (limit !== -1 && rangetype === RANGE_RANK) {
    c.addError('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    return;
  }
  if (withscores && rangetype === RANGE_LEX) {
    c.addError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    return;
  }
  if (dir === -1 && rangetype !== RANGE_RANK) {
    const t = maxidx;
    maxidx = minidx;
    minidx = t;
  }
  let start = 0;
  let end = 0;
  let srange: ScoreRange | null = null;
  let lrange: LexRange | null = null;
  if (rangetype === RANGE_RANK) {
    const a = getLongOrReply(c, argv[minidx]!);
    if (a === null) return;
    const b = getLongOrReply(c, argv[maxidx]!);
    if (b === null) return;
    start = a;
    end = b;
  } else if (rangetype === RANGE_SCORE) {
    srange = parseScoreRange(argv[minidx]!, argv[maxidx]!);
    if (srange === null) {
      c.addError(ERR_MINMAX_FLOAT);
      return;
    }
  } else {
    lrange = parseLexRange(argv[minidx]!, argv[maxidx]!);
    if (lrange === null) {
      c.addError(ERR_MINMAX_LEX);
      return;
    }
  }
  const zs = readZset(c, key);
  if (zs === null) return;
  const sink = new RangeSink(c, store, withscores || store, store ? zsetLimits(c) : null);
  const dstkey = store ? argv[1]! : null;
  if (zs === undefined) {
    if (store) sink.finish(dstkey);
    else c.addArrayLen(0);
    return;
  }
  const reverse = dir === -1;
  if (rangetype === RANGE_RANK) {
    const llen = zs.size;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (!(start > end || start >= llen)) {
      if (end >= llen) end = llen - 1;
      const n = end - start + 1;
      emitRanks(sink, zs, reverse ? llen - 1 - start : start, n, reverse);
    }
  } else if (rangetype === RANGE_SCORE) {
    // genericZrangebyscoreCommand
    if (!(offset > 0 && offset >= zs.size)) {
      const first = reverse ? zs.lastInRange(srange!) : zs.firstInRange(srange!);
      if (first >= 0) emitWhile(sink, zs, first, offset, limit, reverse, srange, null);
    }
  } else {
    const first = reverse ? zs.lastInLexRange(lrange!) : zs.firstInLexRange(lrange!);
    if (first >= 0) emitWhile(sink, zs, first, offset, limit, reverse, null, lrange);
  }
  sink.finish(dstkey);
}

/**
 * The loops of genericZrangebyscore/bylex: skip `offset` elements (a negative offset skips
 * everything, as the C `while (ln && offset--)` does), then emit up to `limit` (negative:
 * unlimited) while the element is still in range on the far side.
 */
function emitWhile(sink: RangeSink, zs: ZSet, from: number, offset: number, limit: number, reverse: boolean, sr: ScoreRange | null, lr: LexRange | null): void {
  let pos: number;
  if (offset < 0) return;
  if (reverse) {
    pos = from - offset;
    if (pos < 0) return;
  } else {
    pos = from + offset;
    if (pos >= zs.size) return;
  }
  const cur = zs.cursorAt(pos);
  let leaf: ZLeaf | null = cur.leaf;
  let i = cur.i;
  while (leaf !== null && limit-- !== 0) {
    const s = leaf.s[i]!;
    const m = leaf.m[i]!;
    if (sr !== null) {
      if (reverse ? !scoreGteMin(s, sr) : !scoreLteMax(s, sr)) break;
    } else if (reverse ? !lexGteMin(m, lr!) : !lexLteMax(m, lr!)) break;
    sink.emit(m, s);
    if (reverse) {
      if (--i < 0) {
        leaf = leaf.prev;
        if (leaf !== null) i = leaf.m.length - 1;
      }
    } else if (++i >= leaf.m.length) {
      leaf = leaf.next;
      i = 0;
    }
  }
}

// ---- ZPOP / ZMPOP -----------------------------------------------------------------------

/**
 * genericZpopCommand: pops from the first existing key of `keys`. `emitkey`: the reply names
 * the key (BZPOP*, ZMPOP); `count` -1 for a plain single pop; `nested`: pairs as arrays;
 * `nilWhenEmpty`: null array instead of an empty one. Returns true when something was popped
 * (the zset key and count are then in {@link lastPop}).
 */
export function genericZpop(c: Client, keys: string[], max: boolean, emitkey: boolean, countIn: number, nested: boolean, nilWhenEmpty: boolean): boolean {
  let key = '';
  let zs: ZSet | undefined | null;
  for (let idx = 0; idx < keys.length; idx++) {
    key = keys[idx]!;
    zs = writeZset(c, key);
    if (zs === null) return false;
    if (zs !== undefined) break;
  }
  if (zs === undefined || zs === null) {
    if (nilWhenEmpty) c.addNullArray();
    else c.addArrayLen(0);
    return false;
  }
  if (countIn === 0) {
    c.addArrayLen(0);
    return false;
  }
  const count = countIn === -1 ? 1 : countIn;
  const llen = zs.size;
  const rangelen = count > llen ? llen : count;
  let out: string;
  if (!nested && !emitkey) out = '*' + rangelen * 2 + '\r\n';
  else if (nested && !emitkey) out = '*' + rangelen + '\r\n';
  else if (!nested && emitkey) out = '*' + (rangelen * 2 + 1) + '\r\n' + bulk(key);
  else out = '*2\r\n' + bulk(key) + '*' + rangelen + '\r\n';
  for (let k = 0; k < rangelen; k++) {
    const r = max ? zs.size - 1 : 0;
    const cur = zs.cursorAt(r);
    const m = cur.leaf!.m[cur.i]!;
    const s = cur.leaf!.s[cur.i]!;
    zs.remove(m);
    if (k === 0) notify(c, NOTIFY_ZSET, max ? 'zpopmax' : 'zpopmin', key);
    if (nested) out += '*2\r\n';
    out += bulk(m) + dbl(c, s);
  }
  c.addRaw(out);
  if (afterChange(c, key, zs, rangelen)) notify(c, NOTIFY_GENERIC, 'del', key);
  lastPop.key = key;
  lastPop.count = rangelen;
  return true;
}

/** Key and element count of the last successful {@link genericZpop}, for propagation. */
export const lastPop = { key: '', count: 0 };

function zpopMinMax(c: Client, max: boolean): void {
  if (c.argv.length > 3) {
    c.addError(ERR.syntax);
    return;
  }
  let count = -1;
  if (c.argv.length === 3) {
    const n = getPositiveLong(c, c.argv[2]!);
    if (n === null) return;
    count = n;
  }
  genericZpop(c, [c.argv[1]!], max, false, count, c.resp > 2 && count !== -1, false);
}

/**
 * The parsed arguments of ZMPOP / BZMPOP (zmpopGenericCommand), or null after an error reply.
 */
export function parseZmpop(c: Client, numkeysIdx: number): { keys: string[]; max: boolean; count: number } | null {
  const argv = c.argv;
  const numkeys = getRangeLong(c, argv[numkeysIdx]!, 1n, LONG_MAX, 'ERR numkeys should be greater than 0');
  if (numkeys === null) return null;
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.addError(ERR.syntax);
    return null;
  }
  const w = argv[whereIdx]!;
  let max: boolean;
  if (eqi(w, 'min')) max = false;
  else if (eqi(w, 'max')) max = true;
  else {
    c.addError(ERR.syntax);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && eqi(argv[j]!, 'count') && more) {
      j++;
      const n = getRangeLong(c, argv[j]!, 1n, LONG_MAX, 'ERR count should be greater than 0');
      if (n === null) return null;
      count = n;
    } else {
      c.addError(ERR.syntax);
      return null;
    }
  }
  if (count === -1) count = 1;
  return { keys: argv.slice(numkeysIdx + 1, numkeysIdx + 1 + numkeys), max, count };
}

function zmpopCommand(c: Client): void {
  const p = parseZmpop(c, 1);
  if (p === null) return;
  if (genericZpop(c, p.keys, p.max, true, p.count, true, true)) {
    // Always replicated as ZPOP[MIN|MAX] with COUNT (genericZpopCommand)
    c.server.effects.rewrite([p.max ? 'ZPOPMAX' : 'ZPOPMIN', lastPop.key, String(lastPop.count)]);
  }
}

// ---- BZPOPMIN / BZPOPMAX / BZMPOP ----------------------------------------------------------

/**
 * A client blocked by BZPOPMIN/BZPOPMAX/BZMPOP (serveClientsBlockedOnSortedSetKey in blocked.c):
 * pops for it when one of its keys holds a zset again, and propagates the plain ZPOP.
 */
class ZsetWait implements BlockRequest {
  readonly type = 'zset' as const;
  constructor(
    readonly keys: string[],
    readonly deadline: number,
    readonly max: boolean,
    /** -1 for BZPOPMIN/BZPOPMAX, BZMPOP's count otherwise */
    readonly count: number,
    /** BZMPOP's reply shape: [key, [[member, score], ...]] */
    readonly nested: boolean,
  ) {}

  serve(c: Client, key: string, value: RObject): boolean {
    if (!(value instanceof ZSet) || value.size === 0) return false;
    if (!genericZpop(c, [key], this.max, true, this.count, this.nested, this.nested)) return false;
    const argv = [this.max ? 'ZPOPMAX' : 'ZPOPMIN', key];
    if (this.count !== -1) argv.push(String(lastPop.count));
    c.server.effects.propagate(c.db.id, argv);
    return true;
  }
}

/** blockingGenericZpopCommand */
function blockingZpop(c: Client, keys: string[], max: boolean, timeoutArg: string, count: number, nested: boolean): void {
  const deadline = parseTimeout(c, timeoutArg);
  if (deadline === null) return;
  for (const key of keys) {
    const zs = writeZset(c, key);
    if (zs === null) return;
    if (zs === undefined || zs.size === 0) continue;
    genericZpop(c, [key], max, true, count, nested, nested);
    // replicated as ZPOP[MIN|MAX] (with COUNT for BZMPOP)
    const argv = [max ? 'ZPOPMAX' : 'ZPOPMIN', key];
    if (count !== -1) argv.push(String(lastPop.count));
    c.server.effects.rewrite(argv);
    return;
  }
  if (isInMulti(c)) {
    c.addNullArray();
    return;
  }
  blockForKeys(c, new ZsetWait(keys, deadline, max, count, nested));
}

function bzpopMinMax(c: Client, max: boolean): void {
  const argv = c.argv;
  blockingZpop(c, argv.slice(1, argv.length - 1), max, argv[argv.length - 1]!, -1, false);
}

function bzmpopCommand(c: Client): void {
  const p = parseZmpop(c, 2);
  if (p === null) return;
  blockingZpop(c, p.keys, p.max, c.argv[1]!, p.count, true);
}

// ---- ZRANDMEMBER ----------------------------------------------------------------------------

/**
 * Reply size (bytes) above which a negative-count ZRANDMEMBER is refused: Redis would stream
 * the reply until memory runs out; Amber builds replies as strings, which V8 limits to 512 MB.
 */
const ZRANDMEMBER_MAX_REPLY_BYTES = 256 * 1024 * 1024;

function zrandmemberCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length >= 3) {
    const l = getRangeLong(c, argv[2]!, -LONG_MAX, LONG_MAX, null);
    if (l === null) return;
    if (argv.length > 4 || (argv.length === 4 && !eqi(argv[3]!, 'withscores'))) {
      c.addError(ERR.syntax);
      return;
    }
    zrandmemberWithCount(c, l, argv.length === 4);
    return;
  }
  const zs = readZset(c, argv[1]!);
  if (zs === null) return;
  if (zs === undefined) {
    c.addNull();
    return;
  }
  c.addBulk(zs.memberAt(Math.floor(Math.random() * zs.size)));
}

function zrandmemberWithCount(c: Client, l: number, withscores: boolean): void {
  const zs = readZset(c, c.argv[1]!);
  if (zs === null) return;
  if (zs === undefined) {
    c.addArrayLen(0);
    return;
  }
  const size = zs.size;
  const uniq = l >= 0;
  let count = uniq ? l : -l;
  if (count === 0) {
    c.addArrayLen(0);
    return;
  }
  const pair = (m: string, s: number): string =>
    withscores ? (c.resp > 2 ? '*2\r\n' + bulk(m) + dbl(c, s) : bulk(m) + dbl(c, s)) : bulk(m);
  // CASE 1: negative count (or 1): N random picks, repetitions allowed
  if (!uniq || count === 1) {
    if (count > 1000) {
      // estimate the reply from a sample of members (bulk header, member, score)
      let longest = 0;
      for (let k = 0; k < 16; k++) longest = Math.max(longest, zs.memberAt(Math.floor(Math.random() * size)).length);
      if (count * (longest + 16 + (withscores ? 32 : 0)) > ZRANDMEMBER_MAX_REPLY_BYTES) {
        c.addError('ERR reply too large: ZRANDMEMBER count exceeds the reply size limit');
        return;
      }
    }
    c.addArrayLen(withscores && c.resp === 2 ? count * 2 : count);
    let out = '';
    while (count-- > 0) {
      const cur = zs.cursorAt(Math.floor(Math.random() * size));
      out += pair(cur.leaf!.m[cur.i]!, cur.leaf!.s[cur.i]!);
      if (out.length > 65536) {
        c.addRaw(out);
        out = '';
      }
    }
    c.addRaw(out);
    return;
  }
  const replySize = count < size ? count : size;
  c.addArrayLen(withscores && c.resp === 2 ? replySize * 2 : replySize);
  let out = '';
  // CASE 2: the whole set, in zuiNext's order (from the highest score down)
  if (count >= size) {
    zs.forEachReverse((m, s) => {
      out += pair(m, s);
    });
    c.addRaw(out);
    return;
  }
  // CASE 3 and 4: `count` distinct random ranks
  const picked = new Set<number>();
  if (count * 3 > size) {
    const all: number[] = [];
    for (let i = 0; i < size; i++) all.push(i);
    for (let i = size - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
    }
    for (let i = 0; i < count; i++) picked.add(all[i]!);
  } else {
    while (picked.size < count) picked.add(Math.floor(Math.random() * size));
  }
  for (const r of picked) {
    const cur = zs.cursorAt(r);
    out += pair(cur.leaf!.m[cur.i]!, cur.leaf!.s[cur.i]!);
  }
  c.addRaw(out);
}

// ---- ZUNION / ZINTER / ZDIFF ------------------------------------------------------------

const OP_UNION = 0;
const OP_INTER = 1;
const OP_DIFF = 2;
const AGGR_SUM = 0;
const AGGR_MIN = 1;
const AGGR_MAX = 2;

/** A source of zunionInterDiffGenericCommand: a zset, a set (scores 1.0) or nothing. */
interface OpSrc {
  obj: ZSet | RedisSet | null;
  weight: number;
  len: number;
}

/** zunionInterAggregate */
function aggregate(target: number, val: number, aggr: number): number {
  if (aggr === AGGR_SUM) {
    const r = target + val;
    // +inf + -inf is NaN: Redis keeps the convention that the result is 0
    return Number.isNaN(r) ? 0 : r;
  }
  if (aggr === AGGR_MIN) return val < target ? val : target;
  return val > target ? val : target;
}

/** zuiFind: the score of `m` in a source (1.0 for a set member), or undefined. */
function srcFind(src: OpSrc, m: string): number | undefined {
  const o = src.obj;
  if (o === null) return undefined;
  if (o instanceof ZSet) return o.score(m);
  return o.has(m) ? 1 : undefined;
}

/**
 * Iterates a source as zuiNext does: a zset from its highest score down, a set in its own
 * order. `fn` returns true to stop.
 */
function srcForEach(src: OpSrc, fn: (m: string, s: number) => boolean | void): void {
  const o = src.obj;
  if (o === null) return;
  if (o instanceof ZSet) {
    for (let l: ZLeaf | null = o.tail; l !== null; l = l.prev) {
      const ms = l.m;
      const ss = l.s;
      for (let i = ms.length - 1; i >= 0; i--) if (fn(ms[i]!, ss[i]!) === true) return;
    }
    return;
  }
  // a set cannot stop early through forEach; the callers only stop on zsets' and sets' limits
  let stop = false;
  o.forEach((f, m) => {
    if (!stop && f(m, 1) === true) stop = true;
  }, fn);
}

/**
 * zunionInterDiffGenericCommand: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD.
 * `dstkey` for the STORE forms; `numkeysIdx` the index of numkeys.
 */
function zsetOpGeneric(c: Client, dstkey: string | null, numkeysIdx: number, op: number, cardinalityOnly: boolean): void {
  const argv = c.argv;
  const setnum = getLongOrReply(c, argv[numkeysIdx]!);
  if (setnum === null) return;
  if (setnum < 1) {
    c.addError(`ERR at least 1 input key is needed for '${c.cmd!.fullName}' command`);
    return;
  }
  if (setnum > argv.length - (numkeysIdx + 1)) {
    c.addError(ERR.syntax);
    return;
  }
  const src: OpSrc[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v: Value | undefined = c.db.lookupRead(argv[j]!);
    if (v === undefined) {
      src.push({ obj: null, weight: 1, len: 0 });
      continue;
    }
    if (v instanceof ZSet) src.push({ obj: v, weight: 1, len: v.size });
    else if (v instanceof RedisSet) src.push({ obj: v, weight: 1, len: v.size });
    else {
      c.addError(ERR.wrongType);
      return;
    }
  }
  let aggr = AGGR_SUM;
  let withscores = false;
  let limit = 0;
  let remaining = argv.length - j;
  while (remaining > 0) {
    const a = argv[j]!;
    if (op !== OP_DIFF && !cardinalityOnly && remaining >= setnum + 1 && eqi(a, 'weights')) {
      j++;
      remaining--;
      for (let i = 0; i < setnum; i++, j++, remaining--) {
        const w = parseDouble(argv[j]!);
        if (w === null) {
          c.addError('ERR weight value is not a float');
          return;
        }
        src[i]!.weight = w;
      }
    } else if (op !== OP_DIFF && !cardinalityOnly && remaining >= 2 && eqi(a, 'aggregate')) {
      j++;
      remaining--;
      const v = argv[j]!;
      if (eqi(v, 'sum')) aggr = AGGR_SUM;
      else if (eqi(v, 'min')) aggr = AGGR_MIN;
      else if (eqi(v, 'max')) aggr = AGGR_MAX;
      else {
        c.addError(ERR.syntax);
        return;
      }
      j++;
      remaining--;
    } else if (remaining >= 1 && dstkey === null && !cardinalityOnly && eqi(a, 'withscores')) {
      j++;
      remaining--;
      withscores = true;
    } else if (cardinalityOnly && remaining >= 2 && eqi(a, 'limit')) {
      j++;
      remaining--;
      const l = getPositiveLong(c, argv[j]!, "ERR LIMIT can't be negative");
      if (l === null) return;
      limit = l;
      j++;
      remaining--;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  // sort by cardinality, smallest first (qsort in glibc 2.36 is a stable merge sort here)
  if (op !== OP_DIFF) src.sort((a, b) => a.len - b.len);

  let result: Map<string, number> | null = null;
  let cardinality = 0;
  if (op === OP_INTER) {
    result = new Map();
    const s0 = src[0]!;
    if (s0.len > 0) {
      const n = src.length;
      // a closure per command, not per element
      const visit = (m: string, zscore: number): boolean => {
        let score = s0.weight * zscore;
        if (Number.isNaN(score)) score = 0;
        let k = 1;
        for (; k < n; k++) {
          const sk = src[k]!;
          let value: number | undefined;
          if (sk.obj === s0.obj) value = zscore * sk.weight;
          else {
            value = srcFind(sk, m);
            if (value === undefined) break;
            value *= sk.weight;
          }
          score = aggregate(score, value, aggr);
        }
        if (k === n) {
          if (cardinalityOnly) {
            cardinality++;
            // stop the search once the limit is reached
            if (limit && cardinality >= limit) return true;
          } else result!.set(m, score);
        }
        return false;
      };
      srcForEach(s0, visit);
    }
  } else if (op === OP_UNION) {
    const acc = new Map<string, number>();
    for (const s of src) {
      if (s.len === 0) continue;
      srcForEach(s, (m, zscore) => {
        let score = s.weight * zscore;
        if (Number.isNaN(score)) score = 0;
        const prev = acc.get(m);
        acc.set(m, prev === undefined ? score : aggregate(prev, score, aggr));
      });
    }
    result = acc;
  } else {
    result = new Map();
    const s0 = src[0]!;
    if (s0.len > 0) {
      let same = false;
      for (let k = 1; k < src.length; k++) if (src[k]!.obj === s0.obj) same = true;
      if (!same) {
        srcForEach(s0, (m, zscore) => {
          for (let k = 1; k < src.length; k++) if (srcFind(src[k]!, m) !== undefined) return;
          result!.set(m, zscore);
        });
      }
    }
  }

  if (cardinalityOnly) {
    c.addInt(cardinality);
    return;
  }
  const dst = new ZSet(false);
  const entries = Array.from(result);
  entries.sort((a, b) => cmpKey(a[1], a[0], b[1], b[0]));
  const ms = new Array<string>(entries.length);
  const ss = new Array<number>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    ms[i] = entries[i]![0];
    ss[i] = entries[i]![1];
  }
  dst.bulkLoad(ms, ss);
  if (dstkey !== null) {
    if (dst.size > 0) {
      dst.convertToListpackIfFits(zsetLimits(c));
      c.db.setKey(dstkey, dst);
      c.addInt(dst.size);
      notify(c, NOTIFY_ZSET, op === OP_UNION ? 'zunionstore' : op === OP_INTER ? 'zinterstore' : 'zdiffstore', dstkey);
    } else {
      c.addInt(0);
      if (c.db.deleteKey(dstkey)) notify(c, NOTIFY_GENERIC, 'del', dstkey);
    }
    return;
  }
  c.addArrayLen(withscores && c.resp === 2 ? dst.size * 2 : dst.size);
  let out = '';
  dst.forEach((m, s) => {
    if (withscores) out += (c.resp > 2 ? '*2\r\n' : '') + bulk(m) + dbl(c, s);
    else out += bulk(m);
  });
  c.addRaw(out);
}

// ---- ZSCAN ----------------------------------------------------------------------------------

/**
 * parseScanCursorOrReply: strtoul rules (leading white space refused, a sign accepted and
 * wrapped, overflow refused). Returns the cursor, or null after replying the error.
 */
export function parseScanCursor(c: Client, s: string): bigint | null {
  const z = s.indexOf('\0');
  const str = z >= 0 ? s.slice(0, z) : s;
  const bad = (): null => {
    c.addError('ERR invalid cursor');
    return null;
  };
  if (s.length > 0 && isSpace(s.charCodeAt(0))) return bad();
  let i = 0;
  let neg = false;
  if (str[0] === '+' || str[0] === '-') {
    neg = str[0] === '-';
    i = 1;
  }
  if (i === str.length) {
    // strtoul converted nothing: only the empty string ends there
    return str.length === 0 ? 0n : bad();
  }
  for (let k = i; k < str.length; k++) if (!isDigit(str.charCodeAt(k))) return bad();
  if (str.length !== s.length) return bad();
  let v = BigInt(str.slice(i));
  if (v > 18446744073709551615n) return bad();
  if (neg) v = BigInt.asUintN(64, -v);
  return v;
}

function zscanCommand(c: Client): void {
  const argv = c.argv;
  const cursor = parseScanCursor(c, argv[2]!);
  if (cursor === null) return;
  const zs = readZset(c, argv[1]!);
  if (zs === null) return;
  if (zs === undefined) {
    c.addRaw('*2\r\n$1\r\n0\r\n*0\r\n');
    return;
  }
  let count = 10;
  let pat: string | null = null;
  for (let i = 3; i < argv.length;) {
    const left = argv.length - i;
    const a = argv[i]!;
    if (eqi(a, 'count') && left >= 2) {
      const n = getLongOrReply(c, argv[i + 1]!);
      if (n === null) return;
      if (n < 1) {
        c.addError(ERR.syntax);
        return;
      }
      count = n;
      i += 2;
    } else if (eqi(a, 'match') && left >= 2) {
      pat = argv[i + 1]!;
      if (pat === '*') pat = null;
      i += 2;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  const items: string[] = [];
  let next = 0;
  if (zs.dict === null) {
    zs.forEach((m, s) => {
      if (pat === null || stringMatch(pat, m)) items.push(m, listpackScoreString(s));
    });
  } else {
    let cur = Number(cursor & 0xffffffffn);
    let maxIterations = count * 10;
    let found = 0;
    const add = (m: string, s: number): void => {
      found += 2; // Redis counts the member and the score in the list it compares with COUNT
      if (pat === null || stringMatch(pat, m)) items.push(m, formatDouble(s));
    };
    do {
      cur = zs.dict.scanStep(cur, add);
    } while (cur !== 0 && maxIterations-- > 0 && found < count);
    next = cur;
  }
  let out = '*2\r\n' + bulk(String(next)) + '*' + items.length + '\r\n';
  for (const it of items) out += bulk(it);
  c.addRaw(out);
}

// ---- the table ------------------------------------------------------------------------------

/** Handlers of the zsets command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const zsetsCommands: Record<string, Handler> = {
  zadd: (c) => zaddGeneric(c, 0),
  zincrby: (c) => zaddGeneric(c, ZADD_IN_INCR),
  zrem: zremCommand,
  zremrangebyrank: (c) => zremrangeGeneric(c, RANGE_RANK),
  zremrangebyscore: (c) => zremrangeGeneric(c, RANGE_SCORE),
  zremrangebylex: (c) => zremrangeGeneric(c, RANGE_LEX),
  zcard: zcardCommand,
  zscore: zscoreCommand,
  zmscore: zmscoreCommand,
  zrank: (c) => zrankGeneric(c, false),
  zrevrank: (c) => zrankGeneric(c, true),
  zcount: zcountCommand,
  zlexcount: zlexcountCommand,
  zrange: (c) => zrangeGeneric(c, 1, false, 0, 0),
  zrangestore: (c) => zrangeGeneric(c, 2, true, 0, 0),
  zrevrange: (c) => zrangeGeneric(c, 1, false, RANGE_RANK, -1),
  zrangebyscore: (c) => zrangeGeneric(c, 1, false, RANGE_SCORE, 1),
  zrevrangebyscore: (c) => zrangeGeneric(c, 1, false, RANGE_SCORE, -1),
  zrangebylex: (c) => zrangeGeneric(c, 1, false, RANGE_LEX, 1),
  zrevrangebylex: (c) => zrangeGeneric(c, 1, false, RANGE_LEX, -1),
  zpopmin: (c) => zpopMinMax(c, false),
  zpopmax: (c) => zpopMinMax(c, true),
  zmpop: zmpopCommand,
  bzpopmin: (c) => bzpopMinMax(c, false),
  bzpopmax: (c) => bzpopMinMax(c, true),
  bzmpop: bzmpopCommand,
  zrandmember: zrandmemberCommand,
  zunion: (c) => zsetOpGeneric(c, null, 1, OP_UNION, false),
  zinter: (c) => zsetOpGeneric(c, null, 1, OP_INTER, false),
  zdiff: (c) => zsetOpGeneric(c, null, 1, OP_DIFF, false),
  zunionstore: (c) => zsetOpGeneric(c, c.argv[1]!, 2, OP_UNION, false),
  zinterstore: (c) => zsetOpGeneric(c, c.argv[1]!, 2, OP_INTER, false),
  zdiffstore: (c) => zsetOpGeneric(c, c.argv[1]!, 2, OP_DIFF, false),
  zintercard: (c) => zsetOpGeneric(c, null, 1, OP_INTER, true),
  zscan: zscanCommand,
};
