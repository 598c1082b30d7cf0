import { RObject, changeCapture } from './object.js';
import { SetDict } from './dict.js';
import { forEachRecord } from './hash.js';
import { parseInteger } from '../../util/number.js';

/** Limit Redis puts on intset length whatever set-max-intset-entries says (setTypeAdd). */
const INTSET_HARD_MAX = 1 << 30;
const TWO32 = 4294967296;

/**
 * A set value (t_set.c of Redis 7.0). Two forms, as Redis's two encodings of 7.0, so that OBJECT
 * ENCODING reports what Redis would:
 * - 'intset': {@link is}, while every member is an int64 in canonical form (string2ll) and there
 *   are at most `set-max-intset-entries` of them. Like Redis's intset it is one sorted block:
 *   a latin1 string of 8 chars per member (the value plus 2^63, big-endian, so that string order
 *   is numeric order), binary-searched; it iterates in ascending order, which SMEMBERS and SUNION
 *   show. 16 bytes plus 8 per member, where an array of numbers costs several times that.
 * - 'hashtable': {@link ht}, a segmented {@link SetDict}. A set never goes back to intset except
 *   when a command builds a new set (SPOP with a large count, *STORE), as in Redis.
 */
export class RedisSet extends RObject {
  /** intset form (see the class comment), or null once converted */
  is: string | null;
  private _ht: SetDict | null = null;
  /**
   * The members of a hashtable-encoded set as loaded (RDB, LevelDB), kept as one flat latin1
   * string of records ({@link packedMembers}: the flat format of a listpack-form Hash, lpHeader's
   * length then the bytes) until the first use of
   * {@link ht}: a loaded set costs one string instead of a string per member and a table of
   * JS Sets (most of a big data set is never touched after a restart). Null once unpacked.
   */
  private packed: string | null = null;
  private packedCount = 0;
  /** hashtable form, or null while in intset form (a packed set is unpacked on first use) */
  get ht(): SetDict | null {
    if (this.packed !== null) this.unpack();
    return this._ht;
  }
  set ht(v: SetDict | null) {
    if (this.packed !== null) this.unpack();
    this._ht = v;
  }

  /** An empty set in intset form (createIntsetObject) or hashtable form (createSetObject). */
  constructor(intset = true) {
    super();
    if (intset) {
      this.is = '';
      this.ht = null;
    } else {
      this.is = null;
      this.ht = new SetDict();
    }
  }

  /**
   * A hashtable-encoded set of the `n` members in `flat` (records as forEachRecord of hash.ts
   * reads them; distinct, checked by the caller), left packed until first used.
   */
  static fromPacked(flat: string, n: number): RedisSet {
    const s = new RedisSet(true);
    s.is = null;
    s.packed = flat;
    s.packedCount = n;
    return s;
  }

  /** The packed members (see {@link packed}) while the set is still as loaded, else null. */
  get packedMembers(): string | null {
    return this.packed;
  }

  private unpack(): void {
    const flat = this.packed!;
    this.packed = null;
    const ht = new SetDict();
    ht.reserve(this.packedCount);
    forEachRecord(flat, (s, start, len) => void ht.add(s.slice(start, start + len)));
    this._ht = ht;
  }

  /**
   * Presizes a new, empty hashtable-form set for `n` members (SADD of many members into a new
   * key, as setTypeCreate's size hint does in later Redis versions): the members then go in
   * without the segment splits that growth one by one makes (each split rehashes and copies a
   * segment: ~40% of an SADD of 100 members). No effect in intset form or when not empty.
   */
  reserve(n: number): void {
    if (this.packed === null && this._ht !== null && this._ht.size === 0) this._ht.reserve(n);
  }

  /** 'set', on the prototype rather than in every instance. */
  get type(): 'set' {
    return 'set';
  }

  /** setTypeCreate: an empty set in the form suited to its first member `value`. */
  static create(value: string): RedisSet {
    return new RedisSet(parseInteger(value) !== null);
  }

  /** OBJECT ENCODING: 'intset' or 'hashtable'. */
  encoding(): string {
    return this.is !== null ? 'intset' : 'hashtable';
  }

  /** True while in intset form (the RDB encoder writes an intset then). */
  isIntset(): boolean {
    return this.is !== null;
  }

  /** Number of members (setTypeSize). */
  get size(): number {
    if (this.packed !== null) return this.packedCount;
    return this.is !== null ? this.is.length >> 3 : this.ht!.size;
  }

  /** setTypeIsMember. */
  has(member: string): boolean {
    const is = this.is;
    if (is !== null) {
      const v = parseInteger(member);
      return v !== null && search(is, keyOf(v)) >= 0;
    }
    return this.ht!.has(member);
  }

  /**
   * setTypeAdd: adds `member`; true when it is new. An intset converts to hashtable when the
   * member is not an integer, or when the new length passes `maxIntset`.
   */
  add(member: string, maxIntset: number): boolean {
    if (this.ldb !== 0) changeCapture.recorder?.element(this, member);
    const is = this.is;
    if (is !== null) {
      const v = parseInteger(member);
      if (v !== null) {
        const k = keyOf(v);
        const i = search(is, k);
        if (i >= 0) return false;
        const at = (-i - 1) << 3;
        this.is = at === is.length ? flat(is + k) : flat(is.slice(0, at) + k + is.slice(at));
        if (this.is.length >> 3 > (maxIntset >= INTSET_HARD_MAX ? INTSET_HARD_MAX : maxIntset)) this.convert();
        return true;
      }
      this.convert();
    }
    return this.ht!.add(member);
  }

  /** setTypeRemove: true when `member` was there. */
  delete(member: string): boolean {
    if (this.ldb !== 0) changeCapture.recorder?.element(this, member);
    const is = this.is;
    if (is !== null) {
      const v = parseInteger(member);
      if (v === null) return false;
      const i = search(is, keyOf(v));
      if (i < 0) return false;
      this.removeAt(i);
      return true;
    }
    return this.ht!.delete(member);
  }

  private removeAt(i: number): void {
    const is = this.is!;
    const at = i << 3;
    this.is = is.length === 8 ? '' : flat(is.slice(0, at) + is.slice(at + 8));
  }

  /** setTypeConvert(OBJ_ENCODING_HT): moves to the hashtable form (no-op when there). */
  convert(): void {
    const is = this.is;
    if (is === null) return;
    const ht = new SetDict();
    for (let i = 0; i < is.length; i += 8) ht.add(valueAt(is, i));
    this.ht = ht;
    this.is = null;
  }

  /** A uniformly random member (setTypeRandomElement); the set must not be empty. */
  random(): string {
    const is = this.is;
    if (is !== null) return valueAt(is, Math.floor(Math.random() * (is.length >> 3)) << 3);
    return this.ht!.random();
  }

  /** Removes and returns a uniformly random member; the set must not be empty. */
  pop(): string {
    const is = this.is;
    if (is !== null) {
      const i = Math.floor(Math.random() * (is.length >> 3));
      const m = valueAt(is, i << 3);
      if (this.ldb !== 0) changeCapture.recorder?.element(this, m);
      this.removeAt(i);
      return m;
    }
    const m = this.ht!.random();
    if (this.ldb !== 0) changeCapture.recorder?.element(this, m);
    this.ht!.delete(m);
    return m;
  }

  /**
   * Calls `fn(ctx, member)` for every member: ascending for an intset, table order for a
   * hashtable. `ctx` lets callers pass state without allocating a closure per call.
   */
  forEach<C>(fn: (ctx: C, member: string) => void, ctx: C): void {
    const flat = this.packed;
    if (flat !== null) {
      // read-only: from the packed records, which stay packed (a LevelDB import of a loaded data
      // set must not build every set it writes out)
      forEachRecord(flat, (f, start, len) => fn(ctx, f.slice(start, start + len)));
      return;
    }
    const is = this.is;
    if (is !== null) {
      for (let i = 0; i < is.length; i += 8) fn(ctx, valueAt(is, i));
      return;
    }
    for (const seg of this.ht!.segs) for (const m of seg) fn(ctx, m);
  }

  /** Every member as a string (intset: ascending), for RDB/AOF rewrite and tests. */
  *members(): IterableIterator<string> {
    const flat = this.packed;
    if (flat !== null) {
      // read-only: from the packed records, which stay packed (an AOF rewrite of a loaded set)
      const out: string[] = [];
      forEachRecord(flat, (f, start, len) => void out.push(f.slice(start, start + len)));
      yield* out;
      return;
    }
    const is = this.is;
    if (is !== null) {
      for (let i = 0; i < is.length; i += 8) yield valueAt(is, i);
      return;
    }
    for (const seg of this.ht!.segs) yield* seg;
  }

  /** The members of an intset-form set as ascending bigints (for the RDB intset blob). */
  intsetValues(): bigint[] {
    const is = this.is;
    if (is === null) throw new Error('intsetValues: set is not in intset form');
    const out: bigint[] = [];
    for (let i = 0; i < is.length; i += 8) out.push(BigInt(valueAt(is, i)));
    return out;
  }

  clone(): RedisSet {
    // packed members are an immutable string: shared
    if (this.packed !== null) return RedisSet.fromPacked(this.packed, this.packedCount);
    const s = new RedisSet(this.is !== null);
    if (this.is !== null) s.is = this.is; // strings are immutable: sharing is a copy
    else for (const seg of this.ht!.segs) for (const m of seg) s.ht!.add(m);
    return s;
  }
}

/** The 8-char intset key of an int64: v + 2^63 as 8 big-endian bytes (order-preserving). */
function keyOf(v: number | bigint): string {
  let hi: number;
  let lo: number;
  if (typeof v === 'number') {
    hi = Math.floor(v / TWO32); // signed high word, exact for |v| < 2^53
    lo = v - hi * TWO32;
  } else {
    const u = BigInt.asUintN(64, v);
    hi = Number(u >> 32n) | 0;
    lo = Number(u & 0xffffffffn);
  }
  hi = (hi ^ 0x80000000) >>> 0;
  return String.fromCharCode(hi >>> 24, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255);
}

/** Decimal text of the intset member whose key starts at char `p`. */
function valueAt(s: string, p: number): string {
  const hi = ((s.charCodeAt(p) << 24) | (s.charCodeAt(p + 1) << 16) | (s.charCodeAt(p + 2) << 8) | s.charCodeAt(p + 3)) ^ 0x80000000;
  const lo = ((s.charCodeAt(p + 4) << 24) | (s.charCodeAt(p + 5) << 16) | (s.charCodeAt(p + 6) << 8) | s.charCodeAt(p + 7)) >>> 0;
  // hi is now the signed high word (int32 from the bit operators)
  if (hi >= -2097152 && hi < 2097152) return String(hi * TWO32 + lo);
  return String((BigInt(hi) << 32n) + BigInt(lo));
}

/** Compares the key at char `p` of `s` with the key `k`. */
function cmpAt(s: string, p: number, k: string): number {
  for (let j = 0; j < 8; j++) {
    const d = s.charCodeAt(p + j) - k.charCodeAt(j);
    if (d !== 0) return d;
  }
  return 0;
}

/** Binary search of key `k` in the intset `s`: its index, or -(insertion index) - 1. */
function search(s: string, k: string): number {
  const n = s.length >> 3;
  if (n === 0) return -1;
  // fast paths for appends and prepends, as intsetSearch has
  if (cmpAt(s, (n - 1) << 3, k) < 0) return -n - 1;
  if (cmpAt(s, 0, k) > 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const d = cmpAt(s, mid << 3, k);
    if (d < 0) lo = mid + 1;
    else if (d > 0) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/** Makes V8 flatten a concatenation now, so the stored intset is one sequential string. */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}
