import { RObject, changeCapture } from './object.js';
import { hashKey } from '../database.js';
import { formatDouble } from '../../util/number.js';
import { nextScanCursor } from '../scan-cursor.js';

/**
 * The sorted set type (Redis's OBJ_ZSET, src/t_zset.c).
 *
 * Elements are ordered by score, then by member compared as bytes (memcmp, shorter prefix
 * first), which for latin1 strings is JS's `<` on strings. The order lives in a counted B+tree
 * ({@link ZSet.root}): leaves hold parallel arrays of members and scores (scores stay unboxed
 * doubles in V8), inner nodes hold per-child element counts and an upper-bound key per child.
 * That gives Redis's skiplist operations — insert, delete, rank, element by rank, first/last in
 * a score or lex range — in O(log n), with far less memory per element than a node per element.
 *
 * The encoding Redis 7.0 would use is tracked exactly ({@link ZSet.encoding}): `listpack` while
 * small (no member index: lookups scan, as zzlFind does), `skiplist` once a member or the count
 * went past zset-max-listpack-value / -entries, never back (zsetAdd and zsetConvert in
 * t_zset.c), except for results built fresh by the *STORE commands. In skiplist encoding a
 * member -> score index ({@link ScoreDict}) answers ZSCORE in O(1) and serves ZSCAN cursors.
 *
 * Behaviour that depends on the encoding follows Redis: a listpack stores -0 as 0 (d2string),
 * lex ranges over a listpack are found by a linear scan (zzlFirstInLexRange), which only matters
 * when the scores differ (an undefined case in Redis too).
 */

/** ZADD input flags (ZADD_IN_* in server.h). */
export const ZADD_IN_INCR = 1;
export const ZADD_IN_NX = 2;
export const ZADD_IN_XX = 4;
export const ZADD_IN_GT = 8;
export const ZADD_IN_LT = 16;
/** ZADD output flags (ZADD_OUT_*). */
export const ZADD_OUT_NOP = 1;
export const ZADD_OUT_NAN = 2;
export const ZADD_OUT_ADDED = 4;
export const ZADD_OUT_UPDATED = 8;

/** zset-max-listpack-entries / zset-max-listpack-value, read by the caller from the config. */
export interface ZsetLimits {
  /** most elements a listpack-encoded zset may hold */
  entries: number;
  /** longest member (bytes) a listpack-encoded zset may hold */
  value: number;
}

/** A score interval (zrangespec): `min`/`max` with exclusive flags, as ZRANGEBYSCORE parses it. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/**
 * A lex interval (zlexrangespec). `minInf`/`maxInf` mark Redis's shared.minstring ('-', -1) and
 * shared.maxstring ('+', 1); 0 means the string bound in `min`/`max`.
 */
export interface LexRange {
  min: string;
  max: string;
  minex: boolean;
  maxex: boolean;
  minInf: -1 | 0 | 1;
  maxInf: -1 | 0 | 1;
}

/** zslValueGteMin */
export function scoreGteMin(v: number, r: ScoreRange): boolean {
  return r.minex ? v > r.min : v >= r.min;
}
/** zslValueLteMax */
export function scoreLteMax(v: number, r: ScoreRange): boolean {
  return r.maxex ? v < r.max : v <= r.max;
}

/** sdscmplex(value, bound): compares a member with a lex bound that may be '-' or '+'. */
function cmpLexBound(v: string, bound: string, inf: number): number {
  if (inf === -1) return 1;
  if (inf === 1) return -1;
  return v < bound ? -1 : v > bound ? 1 : 0;
}
/** zslLexValueGteMin */
export function lexGteMin(v: string, r: LexRange): boolean {
  const c = cmpLexBound(v, r.min, r.minInf);
  return r.minex ? c > 0 : c >= 0;
}
/** zslLexValueLteMax */
export function lexLteMax(v: string, r: LexRange): boolean {
  const c = cmpLexBound(v, r.max, r.maxInf);
  return r.maxex ? c < 0 : c <= 0;
}

/** True when the score range can contain nothing (the first test of zslIsInRange). */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** True when the lex range can contain nothing (first test of zslIsInLexRange). */
export function lexRangeEmpty(r: LexRange): boolean {
  let c: number;
  // sdscmplex(min, max) with the shared min/max strings compared by identity
  if (r.minInf !== 0 && r.minInf === r.maxInf) c = 0;
  else if (r.minInf === -1 || r.maxInf === 1) c = -1;
  else if (r.minInf === 1 || r.maxInf === -1) c = 1;
  else c = r.min < r.max ? -1 : r.min > r.max ? 1 : 0;
  return c > 0 || (c === 0 && (r.minex || r.maxex));
}

/**
 * How a listpack stores a score (zzlInsertAt): an integer when double2ll accepts it (integral
 * and within +-LLONG_MAX/2, so -0 becomes 0), else d2string's text (%.17g, "inf", "-inf").
 * ZSCAN of a listpack shows this text, and the RDB encoder writes it.
 */
export function listpackScoreString(score: number): string {
  if (Number.isInteger(score) && score >= -4611686018427387904 && score <= 4611686018427387904) {
    return Number.isSafeInteger(score) ? String(score === 0 ? 0 : score) : BigInt(score).toString();
  }
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  return formatDouble(score);
}

/** Compares (s1, m1) with (s2, m2) in zset order. */
export function cmpKey(s1: number, m1: string, s2: number, m2: string): number {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  return m1 < m2 ? -1 : m1 > m2 ? 1 : 0;
}

// ---- the counted B+tree ---------------------------------------------------------------------

const LEAF_MAX = 64;
const INNER_MAX = 64;
/** a node below this size tries to merge with a sibling after a delete */
const LEAF_MERGE = 16;
const INNER_MERGE = 16;

/** A leaf: members and scores in order, linked to its neighbours for range walks. */
export class ZLeaf {
  m: string[];
  s: number[];
  prev: ZLeaf | null = null;
  next: ZLeaf | null = null;
  constructor(m: string[], s: number[]) {
    this.m = m;
    this.s = s;
  }
}

/**
 * An inner node: children with their element counts and an upper bound (score, member) of each
 * child. A bound is the child's greatest key when set and may go stale after deletes; it stays a
 * valid separator: every key of child i is <= bound i < every key of child i+1.
 */
class ZInner {
  kids: Array<ZLeaf | ZInner>;
  cnt: number[];
  ks: number[];
  km: string[];
  constructor(kids: Array<ZLeaf | ZInner>, cnt: number[], ks: number[], km: string[]) {
    this.kids = kids;
    this.cnt = cnt;
    this.ks = ks;
    this.km = km;
  }
}

// Scratch path of the last descent (single-threaded, never re-entered).
const pathNode: ZInner[] = [];
const pathIdx: number[] = [];

function insertAt<T>(a: T[], pos: number, v: T): void {
  let j = a.length;
  a.push(v);
  for (; j > pos; j--) a[j] = a[j - 1]!;
  a[pos] = v;
}

function removeAt<T>(a: T[], pos: number): void {
  const n = a.length - 1;
  for (let j = pos; j < n; j++) a[j] = a[j + 1]!;
  a.pop();
}

/** Index of the first key of the leaf >= (s, m). */
function leafLowerBound(leaf: ZLeaf, s: number, m: string): number {
  const ls = leaf.s;
  const lm = leaf.m;
  let lo = 0;
  let hi = ls.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = ls[mid]!;
    if (x < s || (x === s && lm[mid]! < m)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first child whose bound is >= (s, m), or -1. */
function childFor(n: ZInner, s: number, m: string): number {
  const ks = n.ks;
  const km = n.km;
  let lo = 0;
  let hi = ks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = ks[mid]!;
    if (x < s || (x === s && km[mid]! < m)) lo = mid + 1;
    else hi = mid;
  }
  return lo === ks.length ? -1 : lo;
}

/** Predicates for {@link ZSet.lowerBound}: monotone over the zset order (false..., true...). */
const P_SCORE_GE = 0; // score >= a
const P_SCORE_GT = 1; // score > a
const P_LEX_GTE_MIN = 2; // lexGteMin(member, range)
const P_LEX_NOT_LTE_MAX = 3; // !lexLteMax(member, range)

function pred(kind: number, s: number, m: string, a: number, r: LexRange | null): boolean {
  switch (kind) {
    case P_SCORE_GE: return s >= a;
    case P_SCORE_GT: return s > a;
    case P_LEX_GTE_MIN: return lexGteMin(m, r!);
    default: return !lexLteMax(m, r!);
  }
}

/** A position in the zset: a leaf, an index in it, and the element's 0-based rank. */
export interface ZCursor {
  leaf: ZLeaf | null;
  i: number;
  rank: number;
}

/**
 * Reads a listpack zset's pairs ({@link ZSet.fromPackedListpack}): members and scores in zset
 * order, as the listpack encoding holds them (-0 as 0). Registered by the RDB layer, which owns
 * the listpack format (rdb/values.ts).
 */
export type ZsetListpackReader = (blob: string, n: number) => { members: string[]; scores: number[] };
let zsetListpackReader: ZsetListpackReader | null = null;

/** Registers the reader packed zsets are unpacked with (once, by rdb/values.ts). */
export function setZsetListpackReader(fn: ZsetListpackReader): void {
  zsetListpackReader = fn;
}

/**
 * A sorted set. See the module comment for the structure; the methods mirror the zsl* and zzl*
 * functions of t_zset.c and the zset* wrappers above them.
 */
export class ZSet extends RObject {
  readonly type = 'zset' as const;
  // The B+tree's fields are accessors: a zset loaded as a listpack keeps its listpack bytes
  // ({@link packedListpack}) and builds the tree at the first use of any of them.
  private _root!: ZLeaf | ZInner;
  private _height = 0;
  private _head!: ZLeaf;
  private _tail!: ZLeaf;
  /**
   * The listpack this zset was loaded from (latin1, RDB_TYPE_ZSET_LISTPACK's bytes, validated),
   * kept as is until the first use of the tree: a loaded zset costs one string instead of a
   * string per member and tree nodes (most of a big data set is never touched after a restart),
   * and saves back as those bytes, as Redis writes a listpack it loaded. Null once unpacked.
   */
  private packed: string | null = null;
  /** Length of the listpack this zset still keeps packed (see above), or -1 once unpacked. */
  get packedLength(): number {
    return this.packed === null ? -1 : this.packed.length;
  }
  /** root of the B+tree: a leaf when {@link height} is 0 */
  get root(): ZLeaf | ZInner {
    if (this.packed !== null) this.unpack();
    return this._root;
  }
  set root(v: ZLeaf | ZInner) {
    if (this.packed !== null) this.unpack();
    this._root = v;
  }
  get height(): number {
    if (this.packed !== null) this.unpack();
    return this._height;
  }
  set height(v: number) {
    if (this.packed !== null) this.unpack();
    this._height = v;
  }
  /** first leaf (the leaf chain holds every element in order) */
  get head(): ZLeaf {
    if (this.packed !== null) this.unpack();
    return this._head;
  }
  set head(v: ZLeaf) {
    if (this.packed !== null) this.unpack();
    this._head = v;
  }
  /** last leaf */
  get tail(): ZLeaf {
    if (this.packed !== null) this.unpack();
    return this._tail;
  }
  set tail(v: ZLeaf) {
    if (this.packed !== null) this.unpack();
    this._tail = v;
  }
  /** number of elements */
  size = 0;
  /** true while Redis would keep this zset as a listpack */
  listpack: boolean;
  /** member -> score, only in skiplist encoding */
  dict: ScoreDict | null;

  /** An empty zset in the given encoding (createZsetListpackObject / createZsetObject). */
  constructor(listpack = true) {
    super();
    const leaf = new ZLeaf([], []);
    this.root = leaf;
    this.head = leaf;
    this.tail = leaf;
    this.listpack = listpack;
    this.dict = listpack ? null : new ScoreDict();
  }

  /** OBJECT ENCODING as Redis 7.0 reports it. */
  encoding(): string {
    return this.listpack ? 'listpack' : 'skiplist';
  }

  /**
   * A listpack-encoded zset of the `n` pairs in `blob` (latin1 bytes of a listpack, validated by
   * the caller: well-formed, member/score pairs, no duplicate member, n within
   * zset-max-listpack-entries), left packed until first used ({@link packed}).
   */
  static fromPackedListpack(blob: string, n: number): ZSet {
    const z = new ZSet(true);
    z.packed = blob;
    z.size = n;
    return z;
  }

  /** The listpack bytes (latin1) while this zset is still as loaded, else null (RDB encoder). */
  get packedListpack(): string | null {
    return this.packed;
  }

  /** Builds the tree from {@link packed} (no change capture: the value is the same). */
  private unpack(): void {
    const blob = this.packed!;
    this.packed = null;
    if (zsetListpackReader === null) throw new Error('ZSet: a packed listpack zset but no listpack reader is registered');
    const { members, scores } = zsetListpackReader(blob, this.size);
    this.resetTree();
    this.fill(members, scores);
  }

  /** An empty tree (the fields themselves: no unpacking, no change capture). */
  private resetTree(): void {
    const l = new ZLeaf([], []);
    this._root = l;
    this._head = l;
    this._tail = l;
    this._height = 0;
    this.size = 0;
  }

  /** A copy with the same encoding and contents (zsetDup, for COPY). */
  clone(): ZSet {
    // the packed bytes are an immutable string: shared
    if (this.packed !== null) return ZSet.fromPackedListpack(this.packed, this.size);
    const z = new ZSet(this.listpack);
    const ms: string[] = [];
    const ss: number[] = [];
    this.forEach((m, s) => {
      ms.push(m);
      ss.push(s);
    });
    z.bulkLoad(ms, ss);
    return z;
  }

  /**
   * Replaces the contents with `members`/`scores`, which must be in zset order without
   * duplicates, in O(n): leaves are filled to 3/4 so that later inserts rarely split. Used by
   * clone, the *STORE commands, large range deletions and loaders.
   */
  bulkLoad(members: string[], scores: number[]): void {
    this.clearAll();
    this.fill(members, scores);
  }

  /** {@link bulkLoad} into an empty tree (no change capture). */
  private fill(members: string[], scores: number[]): void {
    const n = members.length;
    if (n === 0) return;
    const fill = (LEAF_MAX * 3) >>> 2;
    const lp = this.listpack;
    let level: Array<ZLeaf | ZInner> = [];
    let counts: number[] = [];
    let boundS: number[] = [];
    let boundM: string[] = [];
    let prev: ZLeaf | null = null;
    for (let i = 0; i < n; i += fill) {
      const m = members.slice(i, i + fill);
      const sc = scores.slice(i, i + fill);
      if (lp) for (let k = 0; k < sc.length; k++) if (sc[k] === 0) sc[k] = 0;
      const leaf = new ZLeaf(m, sc);
      leaf.prev = prev;
      if (prev !== null) prev.next = leaf;
      else this.head = leaf;
      prev = leaf;
      level.push(leaf);
      counts.push(m.length);
      boundS.push(sc[sc.length - 1]!);
      boundM.push(m[m.length - 1]!);
    }
    this.tail = prev!;
    let height = 0;
    const ifill = (INNER_MAX * 3) >>> 2;
    while (level.length > 1) {
      const up: Array<ZLeaf | ZInner> = [];
      const upCounts: number[] = [];
      const upS: number[] = [];
      const upM: string[] = [];
      for (let i = 0; i < level.length; i += ifill) {
        const node = new ZInner(level.slice(i, i + ifill), counts.slice(i, i + ifill), boundS.slice(i, i + ifill), boundM.slice(i, i + ifill));
        let total = 0;
        for (const c of node.cnt) total += c;
        up.push(node);
        upCounts.push(total);
        upS.push(node.ks[node.ks.length - 1]!);
        upM.push(node.km[node.km.length - 1]!);
      }
      level = up;
      counts = upCounts;
      boundS = upS;
      boundM = upM;
      height++;
    }
    this.root = level[0]!;
    this.height = height;
    this.size = n;
    if (this.dict !== null) {
      const d = this.dict;
      for (let i = 0; i < n; i++) d.set(members[i]!, scores[i]!);
    }
  }

  // ---- member index ---------------------------------------------------------------------

  /** Score of `member`, or undefined when absent (zsetScore). */
  score(member: string): number | undefined {
    if (this.dict !== null) return this.dict.get(member);
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      const i = l.m.indexOf(member);
      if (i >= 0) return l.s[i];
    }
    return undefined;
  }

  /** True when `member` is in the set. */
  has(member: string): boolean {
    return this.score(member) !== undefined;
  }

  // ---- encoding ---------------------------------------------------------------------------

  /** zsetConvert(OBJ_ENCODING_SKIPLIST): builds the member index. */
  convertToSkiplist(): void {
    if (!this.listpack) return;
    const d = new ScoreDict();
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) d.set(l.m[i]!, l.s[i]!);
    }
    this.dict = d;
    this.listpack = false;
  }

  /** zsetConvert(OBJ_ENCODING_LISTPACK): drops the index; -0 scores become 0 as in a listpack. */
  convertToListpack(): void {
    if (this.listpack) return;
    this.dict = null;
    this.listpack = true;
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      const s = l.s;
      for (let i = 0; i < s.length; i++) if (s[i] === 0) s[i] = 0;
    }
  }

  /**
   * zsetConvertToListpackIfNeeded: a freshly built result (ZUNIONSTORE, GEORADIUS STORE, RDB
   * load) becomes a listpack when it is small enough for the limits.
   */
  convertToListpackIfFits(limits: ZsetLimits): void {
    if (this.listpack || this.size > limits.entries) return;
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) if (l.m[i]!.length > limits.value) return;
    }
    this.convertToListpack();
  }

  /** A listpack that exceeds the limits becomes a skiplist (as RDB loading does). */
  convertToSkiplistIfNeeded(limits: ZsetLimits): void {
    if (!this.listpack) return;
    if (this.size > limits.entries) {
      this.convertToSkiplist();
      return;
    }
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) {
        if (l.m[i]!.length > limits.value) {
          this.convertToSkiplist();
          return;
        }
      }
    }
  }

  // ---- element changes ------------------------------------------------------------------

  /**
   * zsetAdd: adds `member` or updates its score according to `flags` (ZADD_IN_*), converting
   * the encoding first when a listpack would grow past `limits`. Returns the ZADD_OUT_* flags;
   * the resulting score is in {@link lastScore}. NaN (given or produced by INCR) returns
   * ZADD_OUT_NAN and changes nothing.
   */
  add(score: number, member: string, flags: number, limits: ZsetLimits): number {
    if (Number.isNaN(score)) return ZADD_OUT_NAN;
    const cur = this.score(member);
    if (cur !== undefined) {
      if (flags & ZADD_IN_NX) return ZADD_OUT_NOP;
      if (flags & ZADD_IN_INCR) {
        score += cur;
        if (Number.isNaN(score)) return ZADD_OUT_NAN;
      }
      if ((flags & ZADD_IN_LT && score >= cur) || (flags & ZADD_IN_GT && score <= cur)) return ZADD_OUT_NOP;
      this.lastScore = score;
      if (score !== cur) {
        this.updateScore(member, cur, score);
        return ZADD_OUT_UPDATED;
      }
      return 0;
    }
    if (flags & ZADD_IN_XX) return ZADD_OUT_NOP;
    if (this.listpack && (this.size + 1 > limits.entries || member.length > limits.value)) this.convertToSkiplist();
    this.insertNew(score, member);
    this.lastScore = score;
    return ZADD_OUT_ADDED;
  }
  /** the score after the last {@link add} that did not return NOP or NAN */
  lastScore = 0;

  /**
   * Inserts a member known to be absent, without encoding checks (loaders, STORE results).
   * In listpack encoding -0 is stored as 0.
   */
  insertNew(score: number, member: string): void {
    if (this.listpack && score === 0) score = 0;
    this.treeInsert(score, member);
    if (this.dict !== null) this.dict.set(member, score);
  }

  /** Changes the score of a present member from `cur` to `score` (zslUpdateScore). */
  updateScore(member: string, cur: number, score: number): void {
    if (this.listpack && score === 0) score = 0;
    this.treeDelete(cur, member);
    this.treeInsert(score, member);
    if (this.dict !== null) this.dict.set(member, score);
  }

  /** Removes `member`; true when it was there (zsetDel). */
  remove(member: string): boolean {
    const s = this.score(member);
    if (s === undefined) return false;
    this.treeDelete(s, member);
    if (this.dict !== null) this.dict.delete(member);
    return true;
  }

  /** Removes the elements of ranks [start, end] (0-based, inclusive, valid); returns how many. */
  deleteRangeByRank(start: number, end: number): number {
    const n = end - start + 1;
    if (n === this.size) {
      this.clearAll();
      return n;
    }
    if (n > 256 && n > this.size >>> 3) {
      // a large share goes: rebuild from the survivors in O(size) rather than n tree deletes
      const ms: string[] = [];
      const ss: number[] = [];
      const dict = this.dict;
      let r = 0;
      this.forEach((m, s) => {
        if (r < start || r > end) {
          ms.push(m);
          ss.push(s);
        } else if (dict !== null) dict.delete(m);
        r++;
      });
      const keep = this.dict;
      this.dict = null;
      this.bulkLoad(ms, ss);
      this.dict = keep;
      return n;
    }
    for (let k = 0; k < n; k++) {
      const c = this.cursorAt(start);
      const m = c.leaf!.m[c.i]!;
      this.treeDelete(c.leaf!.s[c.i]!, m);
      if (this.dict !== null) this.dict.delete(m);
    }
    return n;
  }

  /** Removes every element, keeping the encoding. */
  clearAll(): void {
    if (this.ldb !== 0) changeCapture.recorder?.whole(this);
    this.packed = null;
    this.resetTree();
    if (this.dict !== null) this.dict = new ScoreDict();
  }

  // ---- queries --------------------------------------------------------------------------

  /** 0-based rank of `member` (reverse: from the highest), or -1 (zsetRank). */
  rank(member: string, reverse: boolean): number {
    let r = -1;
    if (this.listpack) {
      let base = 0;
      for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
        const i = l.m.indexOf(member);
        if (i >= 0) {
          r = base + i;
          break;
        }
        base += l.m.length;
      }
    } else {
      const s = this.dict!.get(member);
      if (s !== undefined) r = this.rankOfKey(s, member);
    }
    if (r < 0) return -1;
    return reverse ? this.size - 1 - r : r;
  }

  /** 0-based rank of the present key (s, m). */
  rankOfKey(s: number, m: string): number {
    let node = this.root;
    let rank = 0;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const n = node as ZInner;
      let i = childFor(n, s, m);
      if (i < 0) i = n.kids.length - 1;
      for (let j = 0; j < i; j++) rank += n.cnt[j]!;
      node = n.kids[i]!;
    }
    return rank + leafLowerBound(node as ZLeaf, s, m);
  }

  /** The position of the element of 0-based rank `r` (leaf null when out of range). */
  cursorAt(r: number): ZCursor {
    if (r < 0 || r >= this.size) return { leaf: null, i: 0, rank: r };
    let node = this.root;
    const rank = r;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const n = node as ZInner;
      const cnt = n.cnt;
      let j = 0;
      while (r >= cnt[j]!) r -= cnt[j++]!;
      node = n.kids[j]!;
    }
    return { leaf: node as ZLeaf, i: r, rank };
  }

  /** Member of 0-based rank `r` (valid). */
  memberAt(r: number): string {
    const c = this.cursorAt(r);
    return c.leaf!.m[c.i]!;
  }

  /** Score of 0-based rank `r` (valid). */
  scoreAt(r: number): number {
    const c = this.cursorAt(r);
    return c.leaf!.s[c.i]!;
  }

  /**
   * Rank of the first element for which the monotone predicate `kind` holds (size if none),
   * found through the bounds of the inner nodes and a binary search in a leaf.
   */
  private lowerBound(kind: number, a: number, r: LexRange | null): number {
    let node = this.root;
    let rank = 0;
    for (let lvl = 0; lvl < this.height; lvl++) {
      const n = node as ZInner;
      const k = n.kids.length;
      let lo = 0;
      let hi = k;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (pred(kind, n.ks[mid]!, n.km[mid]!, a, r)) hi = mid;
        else lo = mid + 1;
      }
      // Every bound fails: so does every element below this node, and the answer is the
      // element after it.
      for (let j = 0; j < lo; j++) rank += n.cnt[j]!;
      if (lo === k) return rank;
      node = n.kids[lo]!;
    }
    const leaf = node as ZLeaf;
    let lo = 0;
    let hi = leaf.m.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(kind, leaf.s[mid]!, leaf.m[mid]!, a, r)) hi = mid;
      else lo = mid + 1;
    }
    return rank + lo;
  }

  /**
   * Rank of the first element in the score range, or -1 (zslFirstInRange / zzlFirstInRange).
   */
  firstInRange(range: ScoreRange): number {
    if (this.size === 0 || scoreRangeEmpty(range)) return -1;
    const r = this.lowerBound(range.minex ? P_SCORE_GT : P_SCORE_GE, range.min, null);
    if (r >= this.size) return -1;
    return scoreLteMax(this.scoreAt(r), range) ? r : -1;
  }

  /** Rank of the last element in the score range, or -1 (zslLastInRange). */
  lastInRange(range: ScoreRange): number {
    if (this.size === 0 || scoreRangeEmpty(range)) return -1;
    const r = this.lowerBound(range.maxex ? P_SCORE_GE : P_SCORE_GT, range.max, null) - 1;
    if (r < 0) return -1;
    return scoreGteMin(this.scoreAt(r), range) ? r : -1;
  }

  /** zslIsInLexRange / zzlIsInLexRange */
  private inLexRange(range: LexRange): boolean {
    if (this.size === 0 || lexRangeEmpty(range)) return false;
    if (!lexGteMin(this.tail.m[this.tail.m.length - 1]!, range)) return false;
    return lexLteMax(this.head.m[0]!, range);
  }

  /**
   * Rank of the first element in the lex range, or -1 (zslFirstInLexRange; for a listpack the
   * linear scan of zzlFirstInLexRange, which differs only when scores differ).
   */
  firstInLexRange(range: LexRange): number {
    if (!this.inLexRange(range)) return -1;
    let r: number;
    if (this.listpack) {
      r = 0;
      for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
        const m = l.m;
        for (let i = 0; i < m.length; i++, r++) {
          if (lexGteMin(m[i]!, range)) return lexLteMax(m[i]!, range) ? r : -1;
        }
      }
      return -1;
    }
    r = this.lowerBound(P_LEX_GTE_MIN, 0, range);
    if (r >= this.size) return -1;
    return lexLteMax(this.memberAt(r), range) ? r : -1;
  }

  /** Rank of the last element in the lex range, or -1 (zslLastInLexRange / zzlLastInLexRange). */
  lastInLexRange(range: LexRange): number {
    if (!this.inLexRange(range)) return -1;
    let r: number;
    if (this.listpack) {
      r = this.size - 1;
      for (let l: ZLeaf | null = this.tail; l !== null; l = l.prev) {
        const m = l.m;
        for (let i = m.length - 1; i >= 0; i--, r--) {
          if (lexLteMax(m[i]!, range)) return lexGteMin(m[i]!, range) ? r : -1;
        }
      }
      return -1;
    }
    r = this.lowerBound(P_LEX_NOT_LTE_MAX, 0, range) - 1;
    if (r < 0) return -1;
    return lexGteMin(this.memberAt(r), range) ? r : -1;
  }

  /**
   * Rank where zslDeleteRangeByLex starts deleting: the first element with lexGteMin, found by
   * the skiplist descent (no in-range pre-check), or for a listpack zzlFirstInLexRange.
   */
  deleteLexStart(range: LexRange): number {
    if (this.listpack) return this.firstInLexRange(range);
    const r = this.lowerBound(P_LEX_GTE_MIN, 0, range);
    return r >= this.size ? -1 : r;
  }

  /**
   * Rank where zslDeleteRangeByScore starts: the first element with score >= / > min (no
   * in-range pre-check on a skiplist; zzlFirstInRange on a listpack).
   */
  deleteScoreStart(range: ScoreRange): number {
    if (this.listpack) return this.firstInRange(range);
    const r = this.lowerBound(range.minex ? P_SCORE_GT : P_SCORE_GE, range.min, null);
    return r >= this.size ? -1 : r;
  }

  // ---- iteration (RDB encoder, AOF rewrite, DEBUG DIGEST) --------------------------------

  /** Calls fn(member, score) for every element in order (lowest score first). */
  forEach(fn: (member: string, score: number) => void): void {
    if (this.packed !== null && zsetListpackReader !== null) {
      // read-only, as entries(): a loaded zset stays packed (a LevelDB import writes it out)
      const { members, scores } = zsetListpackReader(this.packed, this.size);
      for (let i = 0; i < members.length; i++) fn(members[i]!, scores[i]!);
      return;
    }
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      const m = l.m;
      const s = l.s;
      for (let i = 0; i < m.length; i++) fn(m[i]!, s[i]!);
    }
  }

  /** Calls fn(member, score) for every element from the highest score down. */
  forEachReverse(fn: (member: string, score: number) => void): void {
    for (let l: ZLeaf | null = this.tail; l !== null; l = l.prev) {
      const m = l.m;
      const s = l.s;
      for (let i = m.length - 1; i >= 0; i--) fn(m[i]!, s[i]!);
    }
  }

  /** [member, score] pairs in order. */
  *entries(): IterableIterator<[string, number]> {
    if (this.packed !== null && zsetListpackReader !== null) {
      // read-only: straight from the packed bytes, which stay packed (an AOF rewrite of a loaded
      // data set must not unpack all of it)
      const { members, scores } = zsetListpackReader(this.packed, this.size);
      for (let i = 0; i < members.length; i++) yield [members[i]!, scores[i]!];
      return;
    }
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      for (let i = 0; i < l.m.length; i++) yield [l.m[i]!, l.s[i]!];
    }
  }

  /** Longest member length in bytes and total member bytes (maxelelen / totelelen). */
  memberLengths(): { max: number; total: number } {
    let max = 0;
    let total = 0;
    if (this.packed !== null && zsetListpackReader !== null) {
      // read-only, as entries(): a loaded zset stays packed
      for (const m of zsetListpackReader(this.packed, this.size).members) {
        if (m.length > max) max = m.length;
        total += m.length;
      }
      return { max, total };
    }
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      for (const m of l.m) {
        if (m.length > max) max = m.length;
        total += m.length;
      }
    }
    return { max, total };
  }

  /** Verifies the tree's invariants; for tests. Throws on a violation. */
  check(): void {
    const walk = (node: ZLeaf | ZInner, lvl: number, lo: [number, string] | null, hi: [number, string] | null): number => {
      if (lvl === this.height) {
        const l = node as ZLeaf;
        if (l.m.length !== l.s.length) throw new Error('leaf arrays differ');
        for (let i = 0; i < l.m.length; i++) {
          if (i > 0 && cmpKey(l.s[i - 1]!, l.m[i - 1]!, l.s[i]!, l.m[i]!) >= 0) throw new Error('leaf order');
          if (lo && cmpKey(l.s[i]!, l.m[i]!, lo[0], lo[1]) <= 0) throw new Error('below lower bound');
          if (hi && cmpKey(l.s[i]!, l.m[i]!, hi[0], hi[1]) > 0) throw new Error('above bound');
        }
        return l.m.length;
      }
      const n = node as ZInner;
      if (n.kids.length === 0) throw new Error('empty inner');
      let total = 0;
      for (let i = 0; i < n.kids.length; i++) {
        const c = walk(n.kids[i]!, lvl + 1, i > 0 ? [n.ks[i - 1]!, n.km[i - 1]!] : lo, [n.ks[i]!, n.km[i]!]);
        if (c !== n.cnt[i]) throw new Error(`count ${c} != ${n.cnt[i]}`);
        total += c;
      }
      return total;
    };
    const total = walk(this.root, 0, null, null);
    if (total !== this.size) throw new Error(`size ${this.size} != ${total}`);
    let n = 0;
    let prev: ZLeaf | null = null;
    for (let l: ZLeaf | null = this.head; l !== null; l = l.next) {
      if (l.prev !== prev) throw new Error('leaf chain prev');
      n += l.m.length;
      prev = l;
    }
    if (prev !== this.tail) throw new Error('tail');
    if (n !== this.size) throw new Error('chain size');
    if (this.dict !== null) {
      if (this.dict.size !== this.size) throw new Error('dict size');
      this.forEach((m, s) => {
        if (!Object.is(this.dict!.get(m), s)) throw new Error('dict score');
      });
    }
  }

  // ---- tree internals -------------------------------------------------------------------

  private treeInsert(s: number, m: string): void {
    if (this.ldb !== 0) changeCapture.recorder?.zsetInsert(this, m);
    let node = this.root;
    const h = this.height;
    for (let lvl = 0; lvl < h; lvl++) {
      const n = node as ZInner;
      let i = childFor(n, s, m);
      if (i < 0) {
        i = n.kids.length - 1;
        n.ks[i] = s;
        n.km[i] = m;
      }
      n.cnt[i]!++;
      pathNode[lvl] = n;
      pathIdx[lvl] = i;
      node = n.kids[i]!;
    }
    const leaf = node as ZLeaf;
    const pos = leafLowerBound(leaf, s, m);
    insertAt(leaf.m, pos, m);
    insertAt(leaf.s, pos, s);
    this.size++;
    if (leaf.m.length > LEAF_MAX) this.splitLeaf(leaf);
  }

  private splitLeaf(leaf: ZLeaf): void {
    const len = leaf.m.length;
    const half = len >>> 1;
    const right = new ZLeaf(leaf.m.slice(half), leaf.s.slice(half));
    leaf.m.length = half;
    leaf.s.length = half;
    right.next = leaf.next;
    if (right.next !== null) right.next.prev = right;
    else this.tail = right;
    leaf.next = right;
    right.prev = leaf;
    this.attachSplit(this.height - 1, leaf, right, half, len - half, leaf.s[half - 1]!, leaf.m[half - 1]!);
  }

  /**
   * After `left` (a child at path level `lvl` + 1) split off `right`, records the new child in
   * the parent (or grows a new root). `ls`/`lm`: the new bound of `left`.
   */
  private attachSplit(lvl: number, left: ZLeaf | ZInner, right: ZLeaf | ZInner, lc: number, rc: number, ls: number, lm: string): void {
    if (lvl < 0) {
      const rs = right instanceof ZLeaf ? right.s[right.s.length - 1]! : right.ks[right.ks.length - 1]!;
      const rm = right instanceof ZLeaf ? right.m[right.m.length - 1]! : right.km[right.km.length - 1]!;
      this.root = new ZInner([left, right], [lc, rc], [ls, rs], [lm, rm]);
      this.height++;
      return;
    }
    const p = pathNode[lvl]!;
    const i = pathIdx[lvl]!;
    insertAt(p.kids, i + 1, right);
    p.cnt[i] = lc;
    insertAt(p.cnt, i + 1, rc);
    insertAt(p.ks, i + 1, p.ks[i]!);
    insertAt(p.km, i + 1, p.km[i]!);
    p.ks[i] = ls;
    p.km[i] = lm;
    if (p.kids.length > INNER_MAX) {
      const len = p.kids.length;
      const half = len >>> 1;
      const r = new ZInner(p.kids.slice(half), p.cnt.slice(half), p.ks.slice(half), p.km.slice(half));
      p.kids.length = half;
      p.cnt.length = half;
      p.ks.length = half;
      p.km.length = half;
      let lsum = 0;
      for (const c of p.cnt) lsum += c;
      let rsum = 0;
      for (const c of r.cnt) rsum += c;
      this.attachSplit(lvl - 1, p, r, lsum, rsum, p.ks[half - 1]!, p.km[half - 1]!);
    }
  }

  private treeDelete(s: number, m: string): void {
    if (this.ldb !== 0) changeCapture.recorder?.zsetRemove(this, m, s);
    let node = this.root;
    const h = this.height;
    for (let lvl = 0; lvl < h; lvl++) {
      const n = node as ZInner;
      let i = childFor(n, s, m);
      if (i < 0) i = n.kids.length - 1;
      n.cnt[i]!--;
      pathNode[lvl] = n;
      pathIdx[lvl] = i;
      node = n.kids[i]!;
    }
    const leaf = node as ZLeaf;
    const pos = leafLowerBound(leaf, s, m);
    if (pos >= leaf.m.length || leaf.m[pos] !== m) throw new Error('zset tree: deleting a missing element');
    removeAt(leaf.m, pos);
    removeAt(leaf.s, pos);
    this.size--;
    if (this.size === 0) {
      const l = new ZLeaf([], []);
      this.root = l;
      this.head = l;
      this.tail = l;
      this.height = 0;
      return;
    }
    if (h === 0) return;
    if (leaf.m.length === 0) {
      this.unlinkLeaf(leaf);
      this.removeChild(h - 1);
    } else if (leaf.m.length < LEAF_MERGE) {
      this.mergeLeaf(leaf, h - 1);
    }
  }

  private unlinkLeaf(leaf: ZLeaf): void {
    if (leaf.prev !== null) leaf.prev.next = leaf.next;
    else this.head = leaf.next!;
    if (leaf.next !== null) leaf.next.prev = leaf.prev;
    else this.tail = leaf.prev!;
  }

  /** Removes child pathIdx[lvl] from pathNode[lvl], cascading up when a node empties. */
  private removeChild(lvl: number): void {
    const p = pathNode[lvl]!;
    const i = pathIdx[lvl]!;
    removeAt(p.kids, i);
    removeAt(p.cnt, i);
    removeAt(p.ks, i);
    removeAt(p.km, i);
    if (p.kids.length === 0) {
      if (lvl === 0) throw new Error('zset tree: empty root with elements');
      this.removeChild(lvl - 1);
      return;
    }
    if (lvl === 0) this.collapseRoot();
    else if (p.kids.length < INNER_MERGE) this.mergeInner(lvl);
  }

  private collapseRoot(): void {
    while (this.height > 0 && (this.root as ZInner).kids.length === 1) {
      this.root = (this.root as ZInner).kids[0]!;
      this.height--;
    }
  }

  /** Merges a small leaf with a sibling under the same parent when both fit in one leaf. */
  private mergeLeaf(leaf: ZLeaf, lvl: number): void {
    const p = pathNode[lvl]!;
    const i = pathIdx[lvl]!;
    let li: number;
    if (i + 1 < p.kids.length && (p.kids[i + 1] as ZLeaf).m.length + leaf.m.length <= LEAF_MAX) li = i;
    else if (i > 0 && (p.kids[i - 1] as ZLeaf).m.length + leaf.m.length <= LEAF_MAX) li = i - 1;
    else return;
    const a = p.kids[li] as ZLeaf;
    const b = p.kids[li + 1] as ZLeaf;
    for (let k = 0; k < b.m.length; k++) {
      a.m.push(b.m[k]!);
      a.s.push(b.s[k]!);
    }
    p.cnt[li]! += p.cnt[li + 1]!;
    p.ks[li] = p.ks[li + 1]!;
    p.km[li] = p.km[li + 1]!;
    this.unlinkLeaf(b);
    pathIdx[lvl] = li + 1;
    this.removeChild(lvl);
  }

  /** Merges the small inner node pathNode[lvl] with a sibling when both fit in one node. */
  private mergeInner(lvl: number): void {
    const p = pathNode[lvl - 1]!;
    const i = pathIdx[lvl - 1]!;
    const me = pathNode[lvl]!;
    let li: number;
    if (i + 1 < p.kids.length && (p.kids[i + 1] as ZInner).kids.length + me.kids.length <= INNER_MAX) li = i;
    else if (i > 0 && (p.kids[i - 1] as ZInner).kids.length + me.kids.length <= INNER_MAX) li = i - 1;
    else return;
    const a = p.kids[li] as ZInner;
    const b = p.kids[li + 1] as ZInner;
    for (let k = 0; k < b.kids.length; k++) {
      a.kids.push(b.kids[k]!);
      a.cnt.push(b.cnt[k]!);
      a.ks.push(b.ks[k]!);
      a.km.push(b.km[k]!);
    }
    p.cnt[li]! += p.cnt[li + 1]!;
    p.ks[li] = p.ks[li + 1]!;
    p.km[li] = p.km[li + 1]!;
    pathIdx[lvl - 1] = li + 1;
    this.removeChild(lvl - 1);
  }
}

// ---- member index of the skiplist encoding --------------------------------------------------

/** Average members per segment above which the index grows by one segment split. */
const DICT_SPLIT_LOAD = 32;

/**
 * member -> score for the skiplist encoding (the `dict` of Redis's `zset`). Segmented like the
 * Database (linear hashing over {@link hashKey}): no single Map grows past V8's limits or
 * rehashes a million entries at once, and ZSCAN gets a reverse-binary cursor over segments that
 * returns every member present for the whole scan at least once (dictScan's guarantee).
 */
export class ScoreDict {
  segs: Map<string, number>[] = [new Map()];
  private level = 0;
  private splitNext = 0;
  size = 0;

  private seg(m: string): Map<string, number> {
    const h = hashKey(m);
    const base = 1 << this.level;
    const i = h & (base - 1);
    return this.segs[i < this.splitNext ? h & (2 * base - 1) : i]!;
  }

  /** Score of member `m`, or undefined. */
  get(m: string): number | undefined {
    return this.seg(m).get(m);
  }

  /** Adds member `m` with score `s`, or updates its score. */
  set(m: string, s: number): void {
    const seg = this.seg(m);
    const before = seg.size;
    seg.set(m, s);
    if (seg.size !== before) {
      this.size++;
      if (this.size > this.segs.length * DICT_SPLIT_LOAD) this.splitOne();
    }
  }

  /** Removes member `m`; true when it was there. */
  delete(m: string): boolean {
    if (!this.seg(m).delete(m)) return false;
    this.size--;
    return true;
  }

  private splitOne(): void {
    const base = 1 << this.level;
    const i = this.splitNext;
    const old = this.segs[i]!;
    const hi = new Map<string, number>();
    // Only the members that change segment move (deleting while iterating a Map is safe).
    for (const [k, v] of old) {
      if (hashKey(k) & base) {
        hi.set(k, v);
        old.delete(k);
      }
    }
    this.segs.push(hi);
    this.splitNext++;
    if (this.splitNext === base) {
      this.level++;
      this.splitNext = 0;
    }
  }

  /**
   * One scan step (dictScan): calls fn for every member of the segments addressed by `cursor`
   * and returns the next cursor (0 when done).
   */
  scanStep(cursor: number, fn: (m: string, s: number) => void): number {
    const base = 1 << this.level;
    const mask = base - 1;
    const i = cursor & mask;
    for (const [k, v] of this.segs[i]!) fn(k, v);
    if (i < this.splitNext) for (const [k, v] of this.segs[i + base]!) fn(k, v);
    return nextScanCursor(i, mask);
  }
}
