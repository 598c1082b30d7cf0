/**
 * The hashtable encoding of hashes and sets: a table of small JS Maps (or Sets) addressed by
 * linear hashing over {@link hashKey}, like the keyspace's own segments (see Database). A plain
 * JS Map would serve lookups as well, but it cannot give what Redis's dict gives besides:
 *
 * - a stateless SCAN cursor (HSCAN/SSCAN) that returns every element present for a whole
 *   iteration at least once, even while the table grows or shrinks: cursors walk the segments in
 *   reverse-binary order, as dictScan walks buckets (src/dict.c);
 * - a uniformly random element in O(segment) time (SPOP, SRANDMEMBER, HRANDFIELD), by rejection
 *   sampling over segments (a random segment, a random slot below the largest segment size).
 *
 * Segments hold about {@link LOAD} entries; one segment splits when the average load passes it
 * and the last split is undone when it falls below a quarter of it, so a shrinking collection
 * gives its memory back as Redis's dict resize does.
 */
import { hashKey } from '../database.js';
import { nextScanCursor } from '../scan-cursor.js';

/** Average entries per segment above which one segment splits. */
const LOAD = 32;

/**
 * Common part of {@link HashDict} and {@link SetDict}: segment addressing, growth, shrinking,
 * scanning and random sampling. `S` is the segment container: a Map (hash fields) or a Set.
 */
abstract class SegTable<S extends Map<string, string> | Set<string>> {
  /** the segments; a key's segment is {@link indexOf}(hashKey(key)) */
  segs: S[];
  private level = 0;
  private splitNext = 0;
  /** number of entries */
  size = 0;
  /** an upper bound of every segment's size, for rejection sampling */
  private maxSeg = 0;

  constructor(first: S) {
    this.segs = [first];
  }

  /**
   * Presizes an empty table for `n` entries: as many segments (a power of two) as growth to
   * `n` would have made, so that bulk inserts (RDB loading) never split a segment.
   */
  reserve(n: number): void {
    if (this.size !== 0 || this.segs.length !== 1) return;
    let level = 0;
    while ((1 << level) * LOAD < n && level < 24) level++;
    if (level === 0) return;
    const segs: S[] = [this.segs[0]!];
    for (let i = 1; i < 1 << level; i++) segs.push(this.newSeg());
    this.segs = segs;
    this.level = level;
    this.splitNext = 0;
  }

  protected abstract newSeg(): S;
  /**
   * Splits `from` by bit `bit` of its keys' hashes into two new segments [without, with]
   * (fresh Maps, not deletions from `from`, which would leave it full of holes).
   */
  protected abstract split(from: S, bit: number): [S, S];
  /** Moves every entry of `from` into `to`. */
  protected abstract mergeInto(from: S, to: S): void;

  /** Segment index for a key hash (linear hashing). */
  protected indexOf(h: number): number {
    const base = 1 << this.level;
    const i = h & (base - 1);
    return i < this.splitNext ? h & (2 * base - 1) : i;
  }

  /** The segment that holds (or would hold) `key`. */
  protected segOf(key: string): S {
    return this.segs.length === 1 ? this.segs[0]! : this.segs[this.indexOf(hashKey(key))]!;
  }

  /** Bookkeeping after an insertion into `seg`. */
  protected added(seg: S): void {
    this.size++;
    if (seg.size > this.maxSeg) this.maxSeg = seg.size;
    if (this.size > this.segs.length * LOAD) this.splitOne();
  }

  /** Bookkeeping after a removal. */
  protected removed(): void {
    this.size--;
    if (this.segs.length > 1 && this.size * 4 < this.segs.length * LOAD) this.mergeOne();
  }

  private splitOne(): void {
    const base = 1 << this.level;
    const i = this.splitNext;
    const [lo, hi] = this.split(this.segs[i]!, base);
    this.segs[i] = lo;
    this.segs.push(hi); // index i + base, since segs.length === base + splitNext
    if (++this.splitNext === base) {
      this.level++;
      this.splitNext = 0;
    }
  }

  /** Undoes the last split: the last segment goes back into its sibling. */
  private mergeOne(): void {
    if (this.splitNext === 0) {
      this.level--;
      this.splitNext = 1 << this.level;
    }
    this.splitNext--;
    const last = this.segs.pop()!;
    const sib = this.segs[this.splitNext]!;
    this.mergeInto(last, sib);
    if (sib.size > this.maxSeg) this.maxSeg = sib.size;
  }

  /**
   * One scan step (dictScan): visits every entry of the level bucket the cursor designates and
   * returns the next cursor, 0 when the iteration is complete. Cursors stay below 2^32.
   */
  protected scanSegs(cursor: number, visit: (seg: S) => void): number {
    const base = 1 << this.level;
    const mask = base - 1;
    const i = cursor & mask;
    visit(this.segs[i]!);
    if (i < this.splitNext) visit(this.segs[i + base]!);
    return nextScanCursor(i, mask);
  }

  /** A uniformly random non-empty segment and a slot index within it; size must be > 0. */
  protected randomSlot(): [S, number] {
    const segs = this.segs;
    for (let tries = 0; tries < 64; tries++) {
      const seg = segs[Math.floor(Math.random() * segs.length)]!;
      const j = Math.floor(Math.random() * this.maxSeg);
      if (j < seg.size) return [seg, j];
    }
    // The bound is far above the typical segment (after many deletions): fall back to a
    // random non-empty segment, slightly less fair.
    let k = Math.floor(Math.random() * segs.length);
    while (segs[k]!.size === 0) k = (k + 1) % segs.length;
    this.maxSeg = 0;
    for (const s of segs) if (s.size > this.maxSeg) this.maxSeg = s.size;
    const seg = segs[k]!;
    return [seg, Math.floor(Math.random() * seg.size)];
  }
}

/** Field -> value table: the 'hashtable' encoding of a hash. */
export class HashDict extends SegTable<Map<string, string>> {
  constructor() {
    super(new Map());
  }
  protected newSeg(): Map<string, string> {
    return new Map();
  }
  protected split(from: Map<string, string>, bit: number): [Map<string, string>, Map<string, string>] {
    const lo = new Map<string, string>();
    const hi = new Map<string, string>();
    from.forEach((v, k) => {
      if (hashKey(k) & bit) hi.set(k, v);
      else lo.set(k, v);
    });
    return [lo, hi];
  }
  protected mergeInto(from: Map<string, string>, to: Map<string, string>): void {
    from.forEach((v, k) => to.set(k, v));
  }

  get(field: string): string | undefined {
    return this.segOf(field).get(field);
  }
  has(field: string): boolean {
    return this.segOf(field).has(field);
  }
  /** Sets a field; true when it is new. */
  set(field: string, value: string): boolean {
    const seg = this.segOf(field);
    const had = seg.size;
    seg.set(field, value);
    if (seg.size === had) return false;
    this.added(seg);
    return true;
  }
  /** Removes a field; true when it existed. */
  delete(field: string): boolean {
    if (!this.segOf(field).delete(field)) return false;
    this.removed();
    return true;
  }
  /** A uniformly random [field, value]; the table must not be empty. */
  random(): [string, string] {
    const [seg, j] = this.randomSlot();
    let n = j;
    for (const e of seg) if (n-- === 0) return e;
    throw new Error('HashDict.random: slot out of range');
  }
  /** One HSCAN step: calls `fn(ctx, field, value)` for a bucket, returns the next cursor. */
  scan<C>(cursor: number, fn: (ctx: C, field: string, value: string) => void, ctx: C): number {
    return this.scanSegs(cursor, (seg) => {
      for (const [k, v] of seg) fn(ctx, k, v);
    });
  }
}

/** Member table: the 'hashtable' encoding of a set. */
export class SetDict extends SegTable<Set<string>> {
  constructor() {
    super(new Set());
  }
  protected newSeg(): Set<string> {
    return new Set();
  }
  protected split(from: Set<string>, bit: number): [Set<string>, Set<string>] {
    const lo = new Set<string>();
    const hi = new Set<string>();
    from.forEach((k) => {
      if (hashKey(k) & bit) hi.add(k);
      else lo.add(k);
    });
    return [lo, hi];
  }
  protected mergeInto(from: Set<string>, to: Set<string>): void {
    for (const k of from) to.add(k);
  }

  has(member: string): boolean {
    return this.segOf(member).has(member);
  }
  /** Adds a member; true when it is new. */
  add(member: string): boolean {
    const seg = this.segOf(member);
    const had = seg.size;
    seg.add(member);
    if (seg.size === had) return false;
    this.added(seg);
    return true;
  }
  /** Removes a member; true when it existed. */
  delete(member: string): boolean {
    if (!this.segOf(member).delete(member)) return false;
    this.removed();
    return true;
  }
  /** A uniformly random member; the table must not be empty. */
  random(): string {
    const [seg, j] = this.randomSlot();
    let n = j;
    for (const k of seg) if (n-- === 0) return k;
    throw new Error('SetDict.random: slot out of range');
  }
  /** One SSCAN step: calls `fn(ctx, member)` for a bucket, returns the next cursor. */
  scan<C>(cursor: number, fn: (ctx: C, member: string) => void, ctx: C): number {
    return this.scanSegs(cursor, (seg) => {
      for (const k of seg) fn(ctx, k);
    });
  }
}
