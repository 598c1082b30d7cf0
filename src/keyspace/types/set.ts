import { RObject, changeCapture } from './object.js';
import { SetDict } from './dict.js';
import { parseInteger } from '../../util/number.js';

/** An int64 in canonical form: a number when |v| <= 2^53-1, else a bigint. */
export type IntMember = number | bigint;

/** Limit Redis puts on intset length whatever set-max-intset-entries says (setTypeAdd). */
const INTSET_HARD_MAX = 1 << 30;

/**
 * A set value (t_set.c of Redis 7.0). Two forms, as Redis's two encodings of 7.0, so that OBJECT
 * ENCODING reports what Redis would:
 * - 'intset': {@link is}, the members as sorted integers, while every member is an int64 in
 *   canonical form (string2ll) and there are at most `set-max-intset-entries` of them. Like
 *   Redis's intset it iterates in ascending order, which SMEMBERS and SUNION show.
 * - 'hashtable': {@link ht}, a segmented {@link SetDict}. A set never goes back to intset except
 *   when a command builds a new set (SPOP with a large count, *STORE), as in Redis.
 *
 * Integers are kept as JS numbers when they fit exactly, else as bigints: JS compares the two
 * kinds exactly with `<`, and the canonical choice makes `===` a correct equality.
 */
export class RedisSet extends RObject {
  /** intset form, ascending; null once converted */
  is: IntMember[] | null;
  /** hashtable form, or null while in intset form */
  ht: SetDict | null;

  /** An empty set in intset form (createIntsetObject) or hashtable form (createSetObject). */
  constructor(intset = true) {
    super();
    if (intset) {
      this.is = [];
      this.ht = null;
    } else {
      this.is = null;
      this.ht = new SetDict();
    }
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
    return this.is !== null ? this.is.length : this.ht!.size;
  }

  /** setTypeIsMember. */
  has(member: string): boolean {
    const is = this.is;
    if (is !== null) {
      const v = parseInteger(member);
      return v !== null && search(is, v) >= 0;
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
        const i = search(is, v);
        if (i >= 0) return false;
        is.splice(-i - 1, 0, v);
        if (is.length > (maxIntset >= INTSET_HARD_MAX ? INTSET_HARD_MAX : maxIntset)) this.convert();
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
      const i = search(is, v);
      if (i < 0) return false;
      is.splice(i, 1);
      return true;
    }
    return this.ht!.delete(member);
  }

  /** setTypeConvert(OBJ_ENCODING_HT): moves to the hashtable form (no-op when there). */
  convert(): void {
    const is = this.is;
    if (is === null) return;
    const ht = new SetDict();
    for (let i = 0; i < is.length; i++) ht.add(String(is[i]));
    this.ht = ht;
    this.is = null;
  }

  /** A uniformly random member (setTypeRandomElement); the set must not be empty. */
  random(): string {
    const is = this.is;
    if (is !== null) return String(is[Math.floor(Math.random() * is.length)]);
    return this.ht!.random();
  }

  /** Removes and returns a uniformly random member; the set must not be empty. */
  pop(): string {
    const is = this.is;
    if (is !== null) {
      const i = Math.floor(Math.random() * is.length);
      const v = is[i]!;
      if (this.ldb !== 0) changeCapture.recorder?.element(this, String(v));
      is.splice(i, 1);
      return String(v);
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
    const is = this.is;
    if (is !== null) {
      for (let i = 0; i < is.length; i++) fn(ctx, String(is[i]));
      return;
    }
    for (const seg of this.ht!.segs) for (const m of seg) fn(ctx, m);
  }

  /** Every member as a string (intset: ascending), for RDB/AOF rewrite and tests. */
  *members(): IterableIterator<string> {
    const is = this.is;
    if (is !== null) {
      for (let i = 0; i < is.length; i++) yield String(is[i]);
      return;
    }
    for (const seg of this.ht!.segs) yield* seg;
  }

  /** The members of an intset-form set as ascending bigints (for the RDB intset blob). */
  intsetValues(): bigint[] {
    if (this.is === null) throw new Error('intsetValues: set is not in intset form');
    return this.is.map((v) => BigInt(v));
  }

  clone(): RedisSet {
    const s = new RedisSet(this.is !== null);
    if (this.is !== null) s.is = this.is.slice();
    else for (const seg of this.ht!.segs) for (const m of seg) s.ht!.add(m);
    return s;
  }
}

/** Binary search in an ascending intset: the index of `v`, or -(insertion point) - 1. */
function search(a: IntMember[], v: IntMember): number {
  let lo = 0;
  let hi = a.length - 1;
  // fast paths for appends and prepends, as intsetSearch has
  if (hi >= 0) {
    if (v > a[hi]!) return -(hi + 1) - 1;
    if (v < a[0]!) return -1;
  }
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = a[mid]!;
    if (m < v) lo = mid + 1;
    else if (m > v) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}
