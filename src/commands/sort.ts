/**
 * SORT and SORT_RO (src/sort.c of Redis 7.0.15) over lists, sets and sorted sets: BY (a `*`
 * pattern, `key->field` hash patterns, a constant pattern such as `nosort` that skips sorting),
 * LIMIT, GET (`#` and patterns, several), ASC/DESC, ALPHA, STORE (SORT only).
 *
 * The order is Redis's to the element:
 * - sortCompare: numeric sort by double, ties broken by binary comparison of the elements; ALPHA
 *   compares with strcoll, which in the C/C.UTF-8 locale Redis runs in is strcmp (bytes up to the
 *   first NUL), or with binary comparison under STORE; BY patterns that name no value sort first.
 * - Redis sorts with the C library's qsort, which glibc implements as a stable merge sort: a
 *   stable merge sort here (on element ids, one comparison function, no closure per call) gives
 *   the same order. With BY and a LIMIT narrower than the whole, Redis uses its own partial
 *   quicksort (pqsort.c, from NetBSD), which is not stable: src/util/pqsort.ts ports it step for
 *   step so ties come out the same.
 * - A constant BY keeps the native order of lists and sorted sets (with Redis's direct LIMIT
 *   paths), and forces an ALPHA sort of a set under STORE.
 * - SORT on a listpack sorted set converts it to skiplist, as Redis does (OBJECT ENCODING shows it).
 *
 * Deviation: a set in hashtable form iterates in Amber's order, not Redis's dict order, so
 * `BY nosort` on such a set (without STORE), and ties between elements of a set or sorted set under
 * an ALPHA BY pattern, may come out in another order than Redis's.
 */
import type { Handler } from './spec.js';
import type { Client } from '../server/client.js';
import type { Database } from '../keyspace/database.js';
import type { Value } from '../keyspace/types/object.js';
import type { RedisSet } from '../keyspace/types/set.js';
import type { ZSet, ZLeaf } from '../keyspace/types/zset.js';
import type { Hash } from '../keyspace/types/hash.js';
import { ListObject } from '../keyspace/types/list.js';
import { QuicklistLayout } from '../keyspace/types/quicklist-layout.js';
import { ERR } from '../server/dispatch.js';
import { NOTIFY_GENERIC, NOTIFY_LIST } from '../keyspace/notify.js';
import { parseLong } from '../util/number.js';
import { pqsort } from '../util/pqsort.js';

const SCORE_ERR = "ERR One or more scores can't be converted into double";
const EMPTY_SCORES = new Float64Array(0);

/** A string as C's string functions see it: up to the first NUL. */
function cstr(s: string): string {
  const z = s.indexOf('\0');
  return z < 0 ? s : s.slice(0, z);
}

/**
 * lookupKeyByPattern: the value `pattern` names for element `subst` ('#': the element itself;
 * the first '*' replaced by the element; `key->field` reads a hash field), or null when the
 * pattern has no '*', the key is missing or of the wrong type. Keys are read with lookupRead, so
 * hits and misses count as in Redis.
 */
function lookupKeyByPattern(db: Database, pattern: string, subst: string): string | null {
  const cp = cstr(pattern);
  if (cp === '#') return subst;
  const p = cp.indexOf('*');
  if (p < 0) return null;
  const f = cp.indexOf('->', p + 1);
  let v: Value | undefined;
  if (f >= 0 && f + 2 < cp.length) {
    v = db.lookupRead(pattern.slice(0, p) + subst + pattern.slice(p + 1, f));
    if (v === undefined || typeof v === 'string' || v.type !== 'hash') return null;
    const fv = (v as Hash).get(pattern.slice(f + 2));
    return fv === undefined ? null : fv;
  }
  v = db.lookupRead(pattern.slice(0, p) + subst + pattern.slice(p + 1));
  return typeof v === 'string' ? v : null;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Set by {@link sortScore} when the value is not a valid double for SORT. */
let scoreError = false;

/**
 * The numeric weight of a value as sortCommandGeneric computes it: strtod over the C string, an
 * error (scoreError) unless it consumed everything, when errno is ERANGE (overflow, or a nonzero
 * value that underflows to zero or a subnormal) or when the result is NaN. An empty string is 0.
 */
function sortScore(s0: string): number {
  const s = s0.length > 0 && s0.indexOf('\0') >= 0 ? cstr(s0) : s0;
  const n = s.length;
  // fast path: a short plain integer
  if (n > 0 && n < 16) {
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    if (i < n) {
      let v = 0;
      for (; i < n; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === n) return s.charCodeAt(0) === 45 ? -v : v;
    }
  }
  let i = 0;
  while (i < n && isSpace(s.charCodeAt(i))) i++;
  const numStart = i;
  let neg = false;
  if (i < n && (s[i] === '+' || s[i] === '-')) {
    neg = s[i] === '-';
    i++;
  }
  const rest = s.slice(i, i + 8).toLowerCase();
  if (rest.startsWith('inf')) {
    const e = rest === 'infinity' ? i + 8 : i + 3;
    if (e !== n) scoreError = true;
    return neg ? -Infinity : Infinity;
  }
  if (rest.startsWith('nan')) {
    scoreError = true;
    return 0;
  }
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) return hexScore(s, i + 2, neg);
  let k = i;
  let digits = 0;
  let nonzero = false;
  while (k < n && isDigit(s.charCodeAt(k))) {
    if (s.charCodeAt(k) !== 48) nonzero = true;
    k++;
    digits++;
  }
  if (k < n && s[k] === '.') {
    k++;
    while (k < n && isDigit(s.charCodeAt(k))) {
      if (s.charCodeAt(k) !== 48) nonzero = true;
      k++;
      digits++;
    }
  }
  if (digits === 0) {
    // nothing converted: strtod leaves the end pointer at the start of the string
    if (n !== 0) scoreError = true;
    return 0;
  }
  if (k < n && (s[k] === 'e' || s[k] === 'E')) {
    let q = k + 1;
    if (q < n && (s[q] === '+' || s[q] === '-')) q++;
    if (q < n && isDigit(s.charCodeAt(q))) {
      while (q < n && isDigit(s.charCodeAt(q))) q++;
      k = q;
    }
  }
  if (k !== n) scoreError = true;
  const v = Number(s.slice(numStart, k));
  rangeCheck(v, nonzero);
  return v;
}

/** strtod's ERANGE: overflow to infinity, or a nonzero input that lands on zero or a subnormal. */
function rangeCheck(v: number, nonzero: boolean): void {
  if (!Number.isFinite(v)) scoreError = true;
  else if (nonzero && Math.abs(v) < 2.2250738585072014e-308) scoreError = true;
}

/** strtod's hexadecimal form after "0x": hex digits, optional fraction, optional p exponent. */
function hexScore(s: string, i: number, neg: boolean): number {
  const n = s.length;
  let k = i;
  let mant = 0;
  let digits = 0;
  let exp = 0;
  let nonzero = false;
  const hexVal = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);
  while (k < n && hexVal(s.charCodeAt(k)) >= 0) {
    const d = hexVal(s.charCodeAt(k++));
    if (d !== 0) nonzero = true;
    mant = mant * 16 + d;
    digits++;
  }
  if (k < n && s[k] === '.') {
    let q = k + 1;
    let fd = 0;
    while (q < n && hexVal(s.charCodeAt(q)) >= 0) {
      const d = hexVal(s.charCodeAt(q++));
      if (d !== 0) nonzero = true;
      mant = mant * 16 + d;
      fd++;
    }
    if (digits + fd > 0) {
      k = q;
      digits += fd;
      exp -= 4 * fd;
    }
  }
  if (digits === 0) {
    // "0x" without digits: strtod converts the "0" and stops at the 'x'
    scoreError = true;
    return 0;
  }
  if (k < n && (s[k] === 'p' || s[k] === 'P')) {
    let q = k + 1;
    let eneg = false;
    if (q < n && (s[q] === '+' || s[q] === '-')) eneg = s[q++] === '-';
    if (q < n && isDigit(s.charCodeAt(q))) {
      let e = 0;
      while (q < n && isDigit(s.charCodeAt(q))) e = Math.min(e * 10 + (s.charCodeAt(q++) - 48), 100000);
      exp += eneg ? -e : e;
      k = q;
    }
  }
  if (k !== n) scoreError = true;
  const v = mant * Math.pow(2, exp);
  rangeCheck(v, nonzero);
  return neg ? -v : v;
}

// ---- comparison and sorting ------------------------------------------------------------------

/** The comparison of the running sort (module state, so the sort loops call one function). */
const CMP_NUMERIC = 0;
const CMP_KEYS = 1;
let cMode = CMP_NUMERIC;
let cDesc = false;
let cScores: Float64Array = new Float64Array(0);
let cObjs: string[] = [];
let cKeys: Array<string | null> = [];

/**
 * sortCompare on element ids: by score then binary element order (numeric), or by compare keys
 * where a missing key (null) sorts first (ALPHA); negated for DESC.
 */
function cmpIds(x: number, y: number): number {
  let c: number;
  if (cMode === CMP_NUMERIC) {
    const a = cScores[x]!;
    const b = cScores[y]!;
    if (a > b) c = 1;
    else if (a < b) c = -1;
    else {
      const p = cObjs[x]!;
      const q = cObjs[y]!;
      c = p < q ? -1 : p > q ? 1 : 0;
    }
  } else {
    const a = cKeys[x]!;
    const b = cKeys[y]!;
    if (a === null || b === null) c = a === b ? 0 : a === null ? -1 : 1;
    else c = a < b ? -1 : a > b ? 1 : 0;
  }
  return cDesc ? -c : c;
}

/**
 * The ids 0..n-1 in the order of a stable sort under {@link cmpIds}, as glibc's qsort (msort:
 * a merge sort that takes the left element on ties) leaves them: any stable sort gives the same
 * order for the same comparison. Insertion-sorted runs, then bottom-up merges.
 */
function stableOrder(n: number): Int32Array {
  let a = new Int32Array(n);
  for (let j = 0; j < n; j++) a[j] = j;
  if (n < 2) return a;
  const RUN = 16;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const v = a[i]!;
      let j = i - 1;
      while (j >= lo && cmpIds(a[j]!, v) > 0) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = v;
    }
  }
  if (n <= RUN) return a;
  let b = new Int32Array(n);
  for (let w = RUN; w < n; w *= 2) {
    for (let lo = 0; lo < n; lo += 2 * w) {
      const mid = Math.min(lo + w, n);
      const hi = Math.min(lo + 2 * w, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (cmpIds(a[i]!, a[j]!) <= 0) b[k++] = a[i++]!;
        else b[k++] = a[j++]!;
      }
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
    }
    const t = a;
    a = b;
    b = t;
  }
  return a;
}

// ---- the command ------------------------------------------------------------------------------

/** The elements of a sorted set from rank `start`, `count` of them, ascending or descending. */
function zsetRange(z: ZSet, start: number, count: number, desc: boolean): string[] {
  const out = new Array<string>(count);
  if (count === 0) return out;
  const cur = z.cursorAt(desc ? z.size - 1 - start : start);
  let leaf: ZLeaf | null = cur.leaf;
  let i = cur.i;
  for (let k = 0; k < count && leaf !== null; k++) {
    out[k] = leaf.m[i]!;
    if (desc) {
      if (--i < 0) {
        leaf = leaf.prev;
        if (leaf !== null) i = leaf.m.length - 1;
      }
    } else if (++i >= leaf.m.length) {
      leaf = leaf.next;
      i = 0;
    }
  }
  return out;
}

/**
 * `count` elements of a list from index `from`. A large share is read with the list's iterator,
 * which decodes each packed page once; a small range with range(), which seeks to it.
 */
function listSlice(l: ListObject, from: number, count: number): string[] {
  if (count * 2 < l.length) return l.range(from, from + count - 1);
  const out = new Array<string>(count);
  let i = 0;
  let k = 0;
  for (const v of l) {
    if (i++ < from) continue;
    out[k++] = v;
    if (k === count) break;
  }
  return out;
}

/** sortCommandGeneric: SORT (readonly false) and SORT_RO (readonly true). */
function sortGeneric(c: Client, readonly: boolean): void {
  const argv = c.argv;
  const argc = argv.length;
  const db = c.db;
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storekey: string | null = null;
  const getops: string[] = [];

  for (let j = 2; j < argc; j++) {
    const leftargs = argc - j - 1;
    const opt = cstr(argv[j]!).toLowerCase();
    if (opt === 'asc') {
      desc = false;
    } else if (opt === 'desc') {
      desc = true;
    } else if (opt === 'alpha') {
      alpha = true;
    } else if (opt === 'limit' && leftargs >= 2) {
      const s = parseLong(argv[j + 1]!);
      if (s === null) return c.addError(ERR.notInteger);
      const n = parseLong(argv[j + 2]!);
      if (n === null) return c.addError(ERR.notInteger);
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && opt === 'store' && leftargs >= 1) {
      storekey = argv[++j]!;
    } else if (opt === 'by' && leftargs >= 1) {
      sortby = argv[++j]!;
      // a constant pattern: nothing to sort nor to look up
      if (cstr(sortby).indexOf('*') < 0) dontsort = true;
    } else if (opt === 'get' && leftargs >= 1) {
      getops.push(argv[++j]!);
    } else {
      return c.addError(ERR.syntax);
    }
  }

  const key = argv[1]!;
  const sortval = db.lookupRead(key);
  if (sortval !== undefined && (typeof sortval === 'string' || (sortval.type !== 'list' && sortval.type !== 'set' && sortval.type !== 'zset'))) {
    return c.addError(ERR.wrongType);
  }
  const type = sortval === undefined ? 'list' : sortval.type;

  // a set has no native order: under STORE sort it, so the result is the same everywhere
  if (dontsort && type === 'set' && storekey !== null) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }

  // destructively convert a listpack sorted set, as Redis does
  if (type === 'zset' && (sortval as ZSet).listpack) {
    db.lookupWrite(key);
    (sortval as ZSet).convertToSkiplist();
  }

  let vectorlen = sortval === undefined ? 0 : type === 'list' ? (sortval as ListObject).length : type === 'set' ? (sortval as RedisSet).size : (sortval as ZSet).size;

  // LIMIT sanity checks, clamped to the object size
  let start = Math.min(Math.max(limitStart, 0), vectorlen);
  limitCount = Math.min(Math.max(limitCount, -1), vectorlen);
  let end = limitCount < 0 ? vectorlen - 1 : start + limitCount - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;

  // lists and sorted sets in native order load only the range asked for
  if ((type === 'zset' || type === 'list') && dontsort && (start !== 0 || end !== vectorlen - 1)) {
    vectorlen = end - start + 1;
  }

  let objs: string[];
  if (sortval === undefined) {
    objs = [];
  } else if (type === 'list' && dontsort) {
    const l = sortval as ListObject;
    if (end >= start) {
      const from = desc ? l.length - start - vectorlen : start;
      objs = listSlice(l, from, vectorlen);
      if (desc) objs.reverse();
      end -= start;
      start = 0;
    } else {
      objs = [];
    }
  } else if (type === 'list') {
    objs = listSlice(sortval as ListObject, 0, (sortval as ListObject).length);
  } else if (type === 'set') {
    objs = [];
    (sortval as RedisSet).forEach((out, m) => out.push(m), objs);
  } else if (dontsort) {
    objs = zsetRange(sortval as ZSet, start, vectorlen, desc);
    end -= start;
    start = 0;
  } else {
    objs = [];
    (sortval as ZSet).forEach((m) => objs.push(m));
  }
  const n = objs.length;

  scoreError = false;
  let order: Int32Array | null = null;
  if (!dontsort) {
    const store = storekey !== null;
    if (!alpha) {
      const scores = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let byval: string | null;
        if (sortby !== null) {
          byval = lookupKeyByPattern(db, sortby, objs[j]!);
          if (byval === null) continue;
        } else {
          byval = objs[j]!;
        }
        scores[j] = sortScore(byval);
      }
      cMode = CMP_NUMERIC;
      cScores = scores;
      cObjs = objs;
    } else if (sortby !== null) {
      const keys = new Array<string | null>(n);
      for (let j = 0; j < n; j++) {
        const byval = lookupKeyByPattern(db, sortby, objs[j]!);
        // strcoll sees C strings; a binary comparison (STORE) sees every byte
        keys[j] = byval === null ? null : store ? byval : cstr(byval);
      }
      cMode = CMP_KEYS;
      cKeys = keys;
    } else {
      cMode = CMP_KEYS;
      cKeys = store ? objs : objs.map(cstr);
    }
    cDesc = desc;
    if (sortby !== null && (start !== 0 || end !== n - 1)) {
      order = new Int32Array(n);
      for (let j = 0; j < n; j++) order[j] = j;
      pqsort(order, cmpIds, start, end);
    } else {
      order = stableOrder(n);
    }
    // drop the references held for the comparison
    cScores = EMPTY_SCORES;
    cObjs = [];
    cKeys = [];
  }

  const count = end - start + 1;
  const outputlen = getops.length > 0 ? getops.length * count : count;
  if (scoreError) return c.addError(SCORE_ERR);

  if (storekey === null) {
    // one string for the whole reply: a large result is joined once, not appended piece by piece
    const parts: string[] = ['*' + outputlen + '\r\n'];
    const nil = c.resp === 3 ? '_\r\n' : '$-1\r\n';
    for (let j = start; j <= end; j++) {
      const obj = objs[order === null ? j : order[j]!]!;
      if (getops.length === 0) parts.push('$' + obj.length + '\r\n' + obj + '\r\n');
      for (const pat of getops) {
        const val = lookupKeyByPattern(db, pat, obj);
        parts.push(val === null ? nil : '$' + val.length + '\r\n' + val + '\r\n');
      }
    }
    c.addRaw(parts.join(''));
    return;
  }

  const items: string[] = [];
  for (let j = start; j <= end; j++) {
    const obj = objs[order === null ? j : order[j]!]!;
    if (getops.length === 0) {
      items.push(obj);
    } else {
      for (const pat of getops) items.push(lookupKeyByPattern(db, pat, obj) ?? '');
    }
  }
  if (outputlen > 0) {
    // sortCommandGeneric's createQuicklistObject keeps quicklist's default fill (-2), not the
    // configured list-max-listpack-size
    const l = ListObject.from(items);
    l.ql = QuicklistLayout.ofTailPushes(-2, items);
    db.setKey(storekey, l);
    db.ks.notify(NOTIFY_LIST, 'sortstore', storekey, db.id);
    // Redis adds outputlen to dirty; setKey counted one
    db.ks.dirty += outputlen - 1;
  } else if (db.deleteKey(storekey)) {
    db.ks.notify(NOTIFY_GENERIC, 'del', storekey, db.id);
  }
  c.addInt(outputlen);
}

/** Handlers of the sort command family, by lower-case Redis command name ('x' or 'x|sub'). */
export const sortCommands: Record<string, Handler> = {
  sort: (c) => sortGeneric(c, false),
  sort_ro: (c) => sortGeneric(c, true),
};
