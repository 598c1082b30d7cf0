/**
 * String commands (src/t_string.c of Redis 7.0.15): GET, SET and its variants, GETEX, GETDEL,
 * MGET/MSET, APPEND, STRLEN, INCR family, INCRBYFLOAT, GETRANGE/SUBSTR, SETRANGE, LCS.
 *
 * Values are latin1 JS strings (one char per byte). Integers keep exact signed 64-bit semantics:
 * small values go through JS numbers, anything near 2^53 through BigInt. INCRBYFLOAT computes in
 * an emulated x87 long double (util/longdouble.ts) as Redis does.
 */
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import { ERR } from '../server/dispatch.js';
import { STR_RAW, STR_NOINT } from '../keyspace/database.js';
import { NOTIFY_GENERIC, NOTIFY_STRING } from '../keyspace/notify.js';
import { INT64_MAX, INT64_MIN, parseInteger } from '../util/number.js';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble, type LongDouble } from '../util/longdouble.js';
import { constants as bufferConstants } from 'node:buffer';

/** The longest string V8 can hold; a value beyond it cannot exist in Amber (see checkStringLength). */
const MAX_JS_STRING = bufferConstants.MAX_STRING_LENGTH;

const OK = '+OK\r\n';
const CZERO = ':0\r\n';
const CONE = ':1\r\n';
const EMPTY_BULK = '$0\r\n\r\n';

// Flags of parseExtendedStringArgumentsOrReply (OBJ_* in t_string.c).
const F_NX = 1 << 0;
const F_XX = 1 << 1;
const F_EX = 1 << 2;
const F_PX = 1 << 3;
const F_KEEPTTL = 1 << 4;
const F_GET = 1 << 5;
const F_EXAT = 1 << 6;
const F_PXAT = 1 << 7;
const F_PERSIST = 1 << 8;

/** Lower-cased C-string view of an argument: Redis compares options with strcasecmp, which stops at a NUL. */
export function cstrLower(s: string): string {
  const z = s.indexOf('\0');
  return (z < 0 ? s : s.slice(0, z)).toLowerCase();
}

/** `ERR value is not an integer or out of range` unless `s` is an int64 (string2ll). */
function intArg(c: Client, s: string): number | bigint | null {
  const v = parseInteger(s);
  if (v === null) c.addError(ERR.notInteger);
  return v;
}

// Results of parseExtended / getExpireMs, kept in module scope so the parse allocates nothing.
let pFlags = 0;
let pExpire: string | null = null;
let pUnitMs = false;
let expMs = 0;
let expMsStr: string | null = null;

/**
 * parseExtendedStringArgumentsOrReply of t_string.c: SET options (NX XX GET KEEPTTL EX PX EXAT
 * PXAT) from argv[3], or GETEX options (PERSIST EX PX EXAT PXAT) from argv[2]. Sets pFlags,
 * pExpire, pUnitMs; on a bad combination replies `ERR syntax error` and returns false.
 */
function parseExtended(c: Client, isSet: boolean): boolean {
  const argv = c.argv;
  let flags = 0;
  let expire: string | null = null;
  let unitMs = false;
  for (let j = isSet ? 3 : 2; j < argv.length; j++) {
    const opt = cstrLower(argv[j]!);
    const hasNext = j !== argv.length - 1;
    if (opt === 'nx' && !(flags & F_XX) && isSet) {
      flags |= F_NX;
    } else if (opt === 'xx' && !(flags & F_NX) && isSet) {
      flags |= F_XX;
    } else if (opt === 'get' && isSet) {
      flags |= F_GET;
    } else if (opt === 'keepttl' && !(flags & (F_PERSIST | F_EX | F_EXAT | F_PX | F_PXAT)) && isSet) {
      flags |= F_KEEPTTL;
    } else if (opt === 'persist' && !isSet && !(flags & (F_EX | F_EXAT | F_PX | F_PXAT | F_KEEPTTL))) {
      flags |= F_PERSIST;
    } else if (opt === 'ex' && !(flags & (F_KEEPTTL | F_PERSIST | F_EXAT | F_PX | F_PXAT)) && hasNext) {
      flags |= F_EX;
      expire = argv[++j]!;
    } else if (opt === 'px' && !(flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PXAT)) && hasNext) {
      flags |= F_PX;
      unitMs = true;
      expire = argv[++j]!;
    } else if (opt === 'exat' && !(flags & (F_KEEPTTL | F_PERSIST | F_EX | F_PX | F_PXAT)) && hasNext) {
      flags |= F_EXAT;
      expire = argv[++j]!;
    } else if (opt === 'pxat' && !(flags & (F_KEEPTTL | F_PERSIST | F_EX | F_EXAT | F_PX)) && hasNext) {
      flags |= F_PXAT;
      unitMs = true;
      expire = argv[++j]!;
    } else {
      c.addError(ERR.syntax);
      return false;
    }
  }
  pFlags = flags;
  pExpire = expire;
  pUnitMs = unitMs;
  return true;
}

/**
 * getExpireMillisecondsOrReply of t_string.c: the absolute expire time in Unix ms of an
 * EX/PX/EXAT/PXAT argument, into expMs (and expMsStr, its exact decimal form, when it is beyond
 * 2^53). Replies `ERR invalid expire time in '<cmd>' command` for values <= 0 and on int64
 * overflow, as Redis does.
 */
function getExpireMs(c: Client, s: string, flags: number, unitMs: boolean): boolean {
  const v = parseInteger(s);
  if (v === null) {
    c.addError(ERR.notInteger);
    return false;
  }
  const relative = (flags & (F_EX | F_PX)) !== 0;
  if (typeof v === 'number' && v > 0 && v < 9e12) {
    // v*1000 + now stays far below 2^53: plain numbers are exact
    expMs = (unitMs ? v : v * 1000) + (relative ? c.server.keyspace.now() : 0);
    expMsStr = null;
    return true;
  }
  let b = BigInt(v);
  if (b <= 0n || (!unitMs && b > INT64_MAX / 1000n)) {
    c.addError(expireTimeError(c));
    return false;
  }
  if (!unitMs) b *= 1000n;
  if (relative) b = BigInt.asIntN(64, b + BigInt(c.server.keyspace.now())); // wraps like C
  if (b <= 0n) {
    c.addError(expireTimeError(c));
    return false;
  }
  expMs = Number(b);
  expMsStr = b.toString();
  return true;
}

function expireTimeError(c: Client): string {
  return `ERR invalid expire time in '${c.cmd?.fullName ?? c.argv[0]!.toLowerCase()}' command`;
}

/** getGenericCommand: replies with the value or null; false (after WRONGTYPE) for a non-string. */
function getGeneric(c: Client): boolean {
  const v = c.db.lookupRead(c.argv[1]!);
  if (v === undefined) {
    c.addNull();
    return true;
  }
  if (typeof v !== 'string') {
    c.addError(ERR.wrongType);
    return false;
  }
  c.out += '$' + v.length + '\r\n' + v + '\r\n';
  return true;
}

function notify(c: Client, type: number, event: string, key: string): void {
  c.server.keyspace.notify(type, event, key, c.db.id);
}

/**
 * setGenericCommand of t_string.c, for SET, SETNX, SETEX, PSETEX. `okReply`/`abortReply` are raw
 * replies (null: +OK / the null bulk). Propagates a relative expire as `SET key val PXAT ms`, and
 * SET ... GET without its GET tokens, as Redis 7.0 does.
 */
function setGeneric(c: Client, flags: number, key: string, val: string, expire: string | null, unitMs: boolean, okReply: string | null, abortReply: string | null): void {
  if (expire !== null && !getExpireMs(c, expire, flags, unitMs)) return;
  if (flags & F_GET && !getGeneric(c)) return;
  const db = c.db;
  const found = db.lookupWrite(key) !== undefined;
  if ((flags & F_NX && found) || (flags & F_XX && !found)) {
    if (!(flags & F_GET)) {
      if (abortReply === null) c.addNull();
      else c.out += abortReply;
    }
    return;
  }
  db.setKey(key, val, expire !== null ? expMs : flags & F_KEEPTTL ? 'keep' : undefined);
  notify(c, NOTIFY_STRING, 'set', key);
  const effects = c.server.effects;
  if (expire !== null) {
    if (!(flags & F_PXAT) && effects.active) effects.rewrite(['SET', key, val, 'PXAT', expMsStr ?? String(expMs)]);
    notify(c, NOTIFY_GENERIC, 'expire', key);
  }
  if (!(flags & F_GET)) c.out += okReply ?? OK;
  if (flags & F_GET && expire === null && effects.active) {
    const argv = c.argv;
    const out: string[] = [];
    for (let j = 0; j < argv.length; j++) {
      if (j >= 3 && cstrLower(argv[j]!) === 'get') continue;
      out.push(argv[j]!);
    }
    effects.rewrite(out);
  }
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
function setCommand(c: Client): void {
  const argv = c.argv;
  if (argv.length === 3) {
    // hot path: plain SET. lookupKeyWrite's only effect here is expiring a stale key first.
    const db = c.db;
    const key = argv[1]!;
    if (db.expires.size > 0) db.expireIfNeeded(key);
    db.setKey(key, argv[2]!);
    c.server.keyspace.notify(NOTIFY_STRING, 'set', key, db.id);
    c.out += OK;
    return;
  }
  if (!parseExtended(c, true)) return;
  setGeneric(c, pFlags, argv[1]!, argv[2]!, pExpire, pUnitMs, null, null);
}

/** GET key */
function getCommand(c: Client): void {
  const v = c.db.lookupRead(c.argv[1]!);
  if (v === undefined) c.addNull();
  else if (typeof v === 'string') c.out += '$' + v.length + '\r\n' + v + '\r\n';
  else c.addError(ERR.wrongType);
}

/** GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]: propagated as PEXPIREAT, DEL/UNLINK or PERSIST. */
function getexCommand(c: Client): void {
  if (!parseExtended(c, false)) return;
  const flags = pFlags;
  const expire = pExpire;
  const key = c.argv[1]!;
  const db = c.db;
  const o = db.lookupRead(key);
  if (o === undefined) {
    c.addNull();
    return;
  }
  if (typeof o !== 'string') {
    c.addError(ERR.wrongType);
    return;
  }
  if (expire !== null && !getExpireMs(c, expire, flags, pUnitMs)) return;
  c.out += '$' + o.length + '\r\n' + o + '\r\n';
  const ks = c.server.keyspace;
  if (flags & (F_PXAT | F_EXAT) && expMs <= ks.now() && !ks.loading) {
    // an absolute time already past: the key goes now (checkAlreadyExpired)
    db.deleteKey(key);
    c.server.effects.rewrite([c.server.config.get<boolean>('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]);
    notify(c, NOTIFY_GENERIC, 'del', key);
  } else if (expire !== null) {
    db.setExpire(key, expMs);
    c.server.effects.rewrite(['PEXPIREAT', key, expMsStr ?? String(expMs)]);
    notify(c, NOTIFY_GENERIC, 'expire', key);
  } else if (flags & F_PERSIST) {
    if (db.removeExpire(key)) {
      c.server.effects.rewrite(['PERSIST', key]);
      notify(c, NOTIFY_GENERIC, 'persist', key);
    }
  }
}

/** GETDEL key: propagated as DEL (UNLINK under lazyfree-lazy-user-del). */
function getdelCommand(c: Client): void {
  if (!getGeneric(c)) return;
  const key = c.argv[1]!;
  if (c.db.deleteKey(key)) {
    c.server.effects.rewrite([c.server.config.get<boolean>('lazyfree-lazy-user-del') ? 'UNLINK' : 'DEL', key]);
    notify(c, NOTIFY_GENERIC, 'del', key);
  }
}

/** GETSET key value: propagated as SET key value. */
function getsetCommand(c: Client): void {
  if (!getGeneric(c)) return;
  const argv = c.argv;
  const key = argv[1]!;
  c.db.setKey(key, argv[2]!);
  notify(c, NOTIFY_STRING, 'set', key);
  if (c.server.effects.active) c.server.effects.rewrite(['SET', key, argv[2]!]);
}

/** MGET key [key ...]: a non-string counts as missing. */
function mgetCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  const nullBulk = c.resp === 2 ? '$-1\r\n' : '_\r\n';
  let out = '*' + (argv.length - 1) + '\r\n';
  for (let j = 1; j < argv.length; j++) {
    const v = db.lookupRead(argv[j]!);
    out += typeof v === 'string' ? '$' + v.length + '\r\n' + v + '\r\n' : nullBulk;
  }
  c.out += out;
}

/** msetGenericCommand: MSET and MSETNX (all or nothing). */
function msetGeneric(c: Client, nx: boolean): void {
  const argv = c.argv;
  if (argv.length % 2 === 0) {
    c.addError(`ERR wrong number of arguments for '${c.cmd?.fullName ?? argv[0]!.toLowerCase()}' command`);
    return;
  }
  const db = c.db;
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (db.lookupWrite(argv[j]!) !== undefined) {
        c.out += CZERO;
        return;
      }
    }
  }
  for (let j = 1; j < argv.length; j += 2) {
    db.setKey(argv[j]!, argv[j + 1]!);
    notify(c, NOTIFY_STRING, 'set', argv[j]!);
  }
  c.out += nx ? CONE : OK;
}

/**
 * checkStringLength of t_string.c: refuses a result longer than proto-max-bulk-len with Redis's
 * error. A JS string cannot exceed buffer.constants.MAX_STRING_LENGTH (2^29-24 on 64-bit V8,
 * 24 bytes under Redis's default 512 MB): such a result gets the same error.
 */
function checkStringLength(c: Client, size: number, append: number): boolean {
  const total = size + append;
  if (total > c.server.config.get<number>('proto-max-bulk-len') || total > MAX_JS_STRING) {
    c.addError('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    return false;
  }
  return true;
}

/** APPEND key value */
function appendCommand(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  const add = argv[2]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  let len: number;
  if (o === undefined) {
    db.setKey(key, add);
    len = add.length;
  } else {
    if (typeof o !== 'string') {
      c.addError(ERR.wrongType);
      return;
    }
    if (!checkStringLength(c, o.length, add.length)) return;
    const nv = o + add;
    db.setKey(key, nv, 'keep');
    // dbUnshareStringValue then sdscatlen: a raw string, whatever it holds
    db.markStringEncoding(key, STR_RAW);
    len = nv.length;
  }
  notify(c, NOTIFY_STRING, 'append', key);
  c.out += ':' + len + '\r\n';
}

/** STRLEN key */
function strlenCommand(c: Client): void {
  const v = c.db.lookupRead(c.argv[1]!);
  if (v === undefined) c.out += CZERO;
  else if (typeof v === 'string') c.out += ':' + v.length + '\r\n';
  else c.addError(ERR.wrongType);
}

/**
 * incrDecrCommand of t_string.c: adds `incr` to the int64 in the key (0 when missing), keeping
 * its TTL. `ERR increment or decrement would overflow` beyond int64.
 */
function incrDecr(c: Client, incr: number | bigint): void {
  const key = c.argv[1]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  let v: number | bigint = 0;
  if (o !== undefined) {
    if (typeof o !== 'string') {
      c.addError(ERR.wrongType);
      return;
    }
    const p = parseInteger(o);
    if (p === null) {
      c.addError(ERR.notInteger);
      return;
    }
    v = p;
  }
  let s: string;
  if (typeof v === 'number' && typeof incr === 'number' && Number.isSafeInteger(v + incr)) {
    s = String(v + incr);
  } else {
    const r = BigInt(v) + BigInt(incr);
    if (r > INT64_MAX || r < INT64_MIN) {
      c.addError(ERR.overflow);
      return;
    }
    s = r.toString();
  }
  db.setKey(key, s, 'keep');
  notify(c, NOTIFY_STRING, 'incrby', key);
  c.out += ':' + s + '\r\n';
}

function incrbyCommand(c: Client): void {
  const incr = intArg(c, c.argv[2]!);
  if (incr !== null) incrDecr(c, incr);
}

function decrbyCommand(c: Client): void {
  const incr = intArg(c, c.argv[2]!);
  if (incr === null) return;
  if (incr === INT64_MIN) {
    c.addError('ERR decrement would overflow');
    return;
  }
  incrDecr(c, -incr);
}

const LD_ZERO: LongDouble = { neg: false, m: 0n, e: 0, inf: false };

/**
 * INCRBYFLOAT key increment: long double arithmetic and "%.17Lf" formatting as Redis on x86-64;
 * the TTL is kept; propagated as `SET key <result> KEEPTTL`.
 */
function incrbyfloatCommand(c: Client): void {
  const argv = c.argv;
  const key = argv[1]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  if (o !== undefined && typeof o !== 'string') {
    c.addError(ERR.wrongType);
    return;
  }
  const value = o === undefined ? LD_ZERO : parseLongDouble(o);
  const incr = value === null ? null : parseLongDouble(argv[2]!);
  if (value === null || incr === null) {
    c.addError(ERR.notFloat);
    return;
  }
  const sum = addLongDouble(value, incr);
  if (sum === null) {
    c.addError('ERR increment would produce NaN or Infinity');
    return;
  }
  const s = formatLongDoubleHuman(sum);
  db.setKey(key, s, 'keep');
  // createStringObjectFromLongDouble: a plain string, never int-encoded ("3" reads embstr)
  db.markStringEncoding(key, STR_NOINT);
  notify(c, NOTIFY_STRING, 'incrbyfloat', key);
  c.out += '$' + s.length + '\r\n' + s + '\r\n';
  if (c.server.effects.active) c.server.effects.rewrite(['SET', key, s, 'KEEPTTL']);
}

/** GETRANGE key start end (and SUBSTR): inclusive, negative from the end, clamped. */
function getrangeCommand(c: Client): void {
  const argv = c.argv;
  const s0 = intArg(c, argv[2]!);
  if (s0 === null) return;
  const e0 = intArg(c, argv[3]!);
  if (e0 === null) return;
  const o = c.db.lookupRead(argv[1]!);
  if (o === undefined) {
    c.out += EMPTY_BULK;
    return;
  }
  if (typeof o !== 'string') {
    c.addError(ERR.wrongType);
    return;
  }
  // compared exactly (number or bigint) before offsets beyond 2^53 stop mattering
  if (s0 < 0 && e0 < 0 && s0 > e0) {
    c.out += EMPTY_BULK;
    return;
  }
  const len = o.length;
  let start = Number(s0);
  let end = Number(e0);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) c.out += EMPTY_BULK;
  else c.addBulk(o.slice(start, end + 1));
}

/** SETRANGE key offset value: zero-pads; replies with the new length. */
function setrangeCommand(c: Client): void {
  const argv = c.argv;
  const off = intArg(c, argv[2]!);
  if (off === null) return;
  if (off < 0) {
    c.addError('ERR offset is out of range');
    return;
  }
  const offset = Number(off);
  const key = argv[1]!;
  const value = argv[3]!;
  const db = c.db;
  const o = db.lookupWrite(key);
  let nv: string;
  if (o === undefined) {
    if (value.length === 0) {
      c.out += CZERO;
      return;
    }
    if (!checkStringLength(c, offset, value.length)) return;
    nv = '\0'.repeat(offset) + value;
    db.setKey(key, nv);
    db.markStringEncoding(key, STR_RAW);
  } else {
    if (typeof o !== 'string') {
      c.addError(ERR.wrongType);
      return;
    }
    if (value.length === 0) {
      c.out += ':' + o.length + '\r\n';
      return;
    }
    if (!checkStringLength(c, offset, value.length)) return;
    if (offset >= o.length) nv = o + '\0'.repeat(offset - o.length) + value;
    else nv = o.slice(0, offset) + value + o.slice(offset + value.length);
    db.setKey(key, nv, 'keep');
    db.markStringEncoding(key, STR_RAW);
  }
  notify(c, NOTIFY_STRING, 'setrange', key);
  c.out += ':' + nv.length + '\r\n';
}

/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] (lcsCommand of t_string.c): the
 * dynamic-programming table, then the backward walk that emits matches from the end. IDX replies
 * with a map {matches, len} (a flat array in RESP2).
 */
function lcsCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  const oa = db.lookupRead(argv[1]!);
  const ob = db.lookupRead(argv[2]!);
  if ((oa !== undefined && typeof oa !== 'string') || (ob !== undefined && typeof ob !== 'string')) {
    c.addError('ERR The specified keys must contain string values');
    return;
  }
  const a = (oa as string | undefined) ?? '';
  const b = (ob as string | undefined) ?? '';
  let getlen = false;
  let getidx = false;
  let withmatchlen = false;
  let minmatchlen: number | bigint = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = cstrLower(argv[j]!);
    const moreargs = argv.length - 1 - j;
    if (opt === 'idx') getidx = true;
    else if (opt === 'len') getlen = true;
    else if (opt === 'withmatchlen') withmatchlen = true;
    else if (opt === 'minmatchlen' && moreargs > 0) {
      const v = intArg(c, argv[j + 1]!);
      if (v === null) return;
      minmatchlen = v < 0 ? 0 : v;
      j++;
    } else {
      c.addError(ERR.syntax);
      return;
    }
  }
  if (getidx && getlen) {
    c.addError('ERR If you want both the length and indexes, please just use IDX.');
    return;
  }
  const alen = a.length;
  const blen = b.length;
  const w = blen + 1;
  const cells = (alen + 1) * w;
  if (cells * 4 > c.server.config.get<number>('proto-max-bulk-len')) {
    c.addError('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
    return;
  }
  let lcs: Uint16Array | Uint32Array;
  try {
    // an LCS length never exceeds the shorter string: 16-bit cells halve the memory when they fit
    lcs = Math.min(alen, blen) < 0xffff ? new Uint16Array(cells) : new Uint32Array(cells);
  } catch {
    c.addError('ERR Insufficient memory, failed allocating transient memory for LCS');
    return;
  }
  for (let i = 1; i <= alen; i++) {
    const ca = a.charCodeAt(i - 1);
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= blen; j++) {
      if (ca === b.charCodeAt(j - 1)) {
        lcs[row + j] = lcs[prev + j - 1]! + 1;
      } else {
        const l1 = lcs[prev + j]!;
        const l2 = lcs[row + j - 1]!;
        lcs[row + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  let idx = lcs[alen * w + blen]!;
  const total = idx;
  const computelcs = getidx || !getlen;
  const result: number[] | null = computelcs ? new Array<number>(idx) : null;
  let matches = '';
  let arraylen = 0;
  let arangeStart = alen; // alen: no range open
  let arangeEnd = 0;
  let brangeStart = 0;
  let brangeEnd = 0;
  let i = alen;
  let j = blen;
  while (computelcs && i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      result![idx - 1] = a.charCodeAt(i - 1);
      if (arangeStart === alen) {
        arangeStart = i - 1;
        arangeEnd = i - 1;
        brangeStart = j - 1;
        brangeEnd = j - 1;
      } else if (arangeStart === i && brangeStart === j) {
        arangeStart--;
        brangeStart--;
      } else {
        emit = true;
      }
      if (arangeStart === 0 || brangeStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const l1 = lcs[(i - 1) * w + j]!;
      const l2 = lcs[i * w + j - 1]!;
      if (l1 > l2) i--;
      else j--;
      if (arangeStart !== alen) emit = true;
    }
    const matchLen = arangeEnd - arangeStart + 1;
    if (emit) {
      if (minmatchlen === 0 || matchLen >= minmatchlen) {
        if (getidx) {
          matches += '*' + (withmatchlen ? 3 : 2) + '\r\n*2\r\n:' + arangeStart + '\r\n:' + arangeEnd +
            '\r\n*2\r\n:' + brangeStart + '\r\n:' + brangeEnd + '\r\n';
          if (withmatchlen) matches += ':' + matchLen + '\r\n';
          arraylen++;
        }
      }
      arangeStart = alen;
    }
  }
  if (getidx) {
    c.addMapLen(2);
    c.addBulk('matches');
    c.out += '*' + arraylen + '\r\n' + matches;
    c.addBulk('len');
    c.addInt(total);
  } else if (getlen) {
    c.addInt(idx);
  } else {
    c.addBulk(result!.length === 0 ? '' : latin1FromCodes(result!));
  }
}

function latin1FromCodes(codes: number[]): string {
  let s = '';
  for (let k = 0; k < codes.length; k += 8192) s += String.fromCharCode.apply(null, codes.slice(k, k + 8192));
  return s;
}

/** Handlers of the strings command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const stringsCommands: Record<string, Handler> = {
  get: getCommand,
  set: setCommand,
  setnx: (c) => setGeneric(c, F_NX, c.argv[1]!, c.argv[2]!, null, false, CONE, CZERO),
  setex: (c) => setGeneric(c, F_EX, c.argv[1]!, c.argv[3]!, c.argv[2]!, false, null, null),
  psetex: (c) => setGeneric(c, F_PX, c.argv[1]!, c.argv[3]!, c.argv[2]!, true, null, null),
  getex: getexCommand,
  getdel: getdelCommand,
  getset: getsetCommand,
  mget: mgetCommand,
  mset: (c) => msetGeneric(c, false),
  msetnx: (c) => msetGeneric(c, true),
  append: appendCommand,
  strlen: strlenCommand,
  incr: (c) => incrDecr(c, 1),
  decr: (c) => incrDecr(c, -1),
  incrby: incrbyCommand,
  decrby: decrbyCommand,
  incrbyfloat: incrbyfloatCommand,
  getrange: getrangeCommand,
  substr: getrangeCommand,
  setrange: setrangeCommand,
  lcs: lcsCommand,
};
