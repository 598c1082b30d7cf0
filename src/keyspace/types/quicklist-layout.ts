/**
 * The quicklist node layout of a list as Redis 7.0 would hold it (src/quicklist.c of 7.0): how
 * many elements each listpack node has and its size in bytes, kept beside Amber's own pages
 * (list.ts) so that DUMP, RDB files and DEBUG OBJECT cut a list into the nodes Redis would have
 * after the same commands: pushes at either end, pops, LSET, LINSERT (with its splits and
 * merges), LREM and range deletions (LTRIM, LPOP/RPOP count, LMPOP).
 *
 * A node's bytes are its listpack's lpBytes: LP_HDR_SIZE (6), its entries with their
 * back-lengths ({@link listpackEntrySize}) and the terminator. The fill (list-max-listpack-size)
 * is the one the list was created with, as Redis sets quicklist->fill at creation only.
 *
 * Elements of packed_threshold (1 GB) or more go to PLAIN nodes in Redis; the layout does not
 * model them: the list drops its layout ({@link QuicklistLayout.accepts}) and is then cut as if
 * pushed at the tail, which is what any list without a layout gets (see ListObject.quicklistNodes).
 */
import { listpackEntrySize, LP_HDR_SIZE } from './listpack-size.js';

/** FILL_MAX of quicklist.c: list-max-listpack-size is clamped to -5..32767. */
const FILL_MAX = 32767;
/** SIZE_ESTIMATE_OVERHEAD of quicklist.c: the per-entry overestimate of _quicklistNodeAllowInsert. */
export const SIZE_ESTIMATE_OVERHEAD = 8;
/** SIZE_SAFETY_LIMIT of quicklist.c: byte cap of count-limited nodes. */
const SIZE_SAFETY_LIMIT = 8192;
/** optimization_level of quicklist.c: bytes per node for fill -1..-5. */
const OPTIMIZATION_LEVEL: readonly number[] = [4096, 8192, 16384, 32768, 65536];
/** Bytes of an empty listpack: header and terminator. */
const LP_EMPTY = LP_HDR_SIZE + 1;
/** packed_threshold of quicklist.c: elements this long go in PLAIN nodes. */
export const PACKED_THRESHOLD = 1 << 30;

/** quicklistSetFill: list-max-listpack-size clamped to -5..FILL_MAX. */
function clampFill(fill: number): number {
  return fill > FILL_MAX ? FILL_MAX : fill < -5 ? -5 : fill;
}

/**
 * _quicklistNodeSizeMeetsOptimizationRequirement, then sizeMeetsSafetyLimit and the count test:
 * may a node of `sz` estimated bytes hold `count` elements under `fill`? `countOk` is the count
 * test itself (insert: count < fill; merge: count <= fill). The one copy of the rule: the layout
 * here and the RDB encoder's cutting of lists without one (encoder.ts) both use it.
 */
export function nodeFits(sz: number, fill: number, countOk: boolean): boolean {
  if (fill < 0 && -fill - 1 < OPTIMIZATION_LEVEL.length && sz <= OPTIMIZATION_LEVEL[-fill - 1]!) return true;
  if (sz > SIZE_SAFETY_LIMIT) return false;
  return countOk;
}

/** Listpack bytes of elements [start, start + count) of the list (LP_HDR_SIZE, entries, terminator). */
export type RangeBytes = (start: number, count: number) => number;

/**
 * The nodes of one list, head first. Every method mirrors one quicklist.c operation; the caller
 * applies the same change to the elements. A list of one node, the common case, is held in two
 * fields; from two nodes on, in one array of [count, bytes] pairs.
 */
export class QuicklistLayout {
  /** the only node's elements (0: no node) and bytes, while {@link n} is null */
  private c0 = 0;
  private b0 = 0;
  /** two nodes or more: node i has n[2i] elements in n[2i+1] listpack bytes */
  private n: number[] | null = null;
  /** list-max-listpack-size when the list was created (clamped as quicklistSetFill) */
  readonly fill: number;

  constructor(fill: number) {
    this.fill = clampFill(fill);
  }

  /** The layout of nodes read from a file (quicklistAppendListpack per node). */
  static fromNodes(fill: number, counts: readonly number[], bytes: readonly number[]): QuicklistLayout {
    const l = new QuicklistLayout(fill);
    for (let i = 0; i < counts.length; i++) l.appendNode(counts[i]!, bytes[i]!);
    return l;
  }

  /** The layout of `items` pushed at the tail in order into a new list; null for a 1 GB element. */
  static ofTailPushes(fill: number, items: readonly string[]): QuicklistLayout | null {
    return items.every(QuicklistLayout.accepts) ? QuicklistLayout.tailPushes(fill, items) : null;
  }

  /**
   * The layout of `items` pushed at the tail in order, an element of 1 GB or more counted as a
   * packed one (the cut of a list that kept no layout: ListObject.quicklistNodes).
   */
  static tailPushes(fill: number, items: Iterable<string>): QuicklistLayout {
    const l = new QuicklistLayout(fill);
    for (const v of items) l.pushTail(v);
    return l;
  }

  /** quicklistAppendListpack: a node of `count` elements in `bytes` listpack bytes at the tail. */
  appendNode(count: number, bytes: number): void {
    this.addNode(this.length, count, bytes);
  }

  /** quicklistDup: the same nodes and fill. */
  clone(): QuicklistLayout {
    const l = new QuicklistLayout(this.fill);
    l.c0 = this.c0;
    l.b0 = this.b0;
    l.n = this.n === null ? null : this.n.slice();
    return l;
  }

  /** Number of nodes. */
  get length(): number {
    return this.n !== null ? this.n.length >> 1 : this.c0 > 0 ? 1 : 0;
  }

  private cnt(i: number): number {
    return this.n !== null ? this.n[2 * i]! : this.c0;
  }

  private byt(i: number): number {
    return this.n !== null ? this.n[2 * i + 1]! : this.b0;
  }

  private put(i: number, count: number, bytes: number): void {
    if (this.n !== null) {
      this.n[2 * i] = count;
      this.n[2 * i + 1] = bytes;
    } else {
      this.c0 = count;
      this.b0 = bytes;
    }
  }

  /** Element counts of the nodes, head first. */
  counts(): number[] {
    const out = new Array<number>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.cnt(i);
    return out;
  }

  /** The nodes, head first: elements and listpack bytes of each. */
  nodes(): Array<{ count: number; bytes: number }> {
    const out: Array<{ count: number; bytes: number }> = [];
    for (let i = 0; i < this.length; i++) out.push({ count: this.cnt(i), bytes: this.byt(i) });
    return out;
  }

  /** Elements over all nodes. */
  total(): number {
    let t = 0;
    for (let i = 0; i < this.length; i++) t += this.cnt(i);
    return t;
  }

  /** False for an element the layout does not model (a PLAIN node's). */
  static accepts(v: string): boolean {
    return v.length < PACKED_THRESHOLD;
  }

  /** _quicklistNodeAllowInsert of node `i` (none: -1 or past the end) for an element of `sz` bytes. */
  private allowInsert(i: number, sz: number): boolean {
    if (i < 0 || i >= this.length) return false;
    return nodeFits(this.byt(i) + sz + SIZE_ESTIMATE_OVERHEAD, this.fill, this.cnt(i) < this.fill);
  }

  /** _quicklistNodeAllowMerge of nodes `a` and `b`. */
  private allowMerge(a: number, b: number): boolean {
    const len = this.length;
    if (a < 0 || b < 0 || a >= len || b >= len) return false;
    return nodeFits(this.byt(a) + this.byt(b) - 11, this.fill, this.cnt(a) + this.cnt(b) <= this.fill);
  }

  /** Adds `count` elements of `bytes` entry bytes to node `i`. */
  private grow(i: number, count: number, bytes: number): void {
    this.put(i, this.cnt(i) + count, this.byt(i) + bytes);
  }

  /** A new node of `count` elements in `bytes` listpack bytes at index `at`. */
  private addNode(at: number, count: number, bytes: number): void {
    if (this.n !== null) this.n.splice(2 * at, 0, count, bytes);
    else if (this.c0 === 0) this.put(0, count, bytes);
    else {
      this.n = at === 0 ? [count, bytes, this.c0, this.b0] : [this.c0, this.b0, count, bytes];
      this.c0 = this.b0 = 0;
    }
  }

  private dropNodes(at: number, nodes: number): void {
    const n = this.n;
    if (n === null) {
      this.c0 = this.b0 = 0;
      return;
    }
    n.splice(2 * at, 2 * nodes);
    if (n.length <= 2) {
      this.n = null;
      this.c0 = n.length === 2 ? n[0]! : 0;
      this.b0 = n.length === 2 ? n[1]! : 0;
    }
  }

  /** quicklistPushHead. */
  pushHead(v: string): void {
    if (this.allowInsert(0, v.length)) this.grow(0, 1, listpackEntrySize(v));
    else this.addNode(0, 1, LP_EMPTY + listpackEntrySize(v));
  }

  /** quicklistPushTail. */
  pushTail(v: string): void {
    const t = this.length - 1;
    if (this.allowInsert(t, v.length)) this.grow(t, 1, listpackEntrySize(v));
    else this.addNode(t + 1, 1, LP_EMPTY + listpackEntrySize(v));
  }

  /** quicklistDelIndex of element `v` in node `i`: the node goes with its last element. */
  private deleteIn(i: number, v: string): void {
    if (this.cnt(i) === 1) this.dropNodes(i, 1);
    else this.grow(i, -1, -listpackEntrySize(v));
  }

  /** Pop of the head element `v`. */
  popHead(v: string): void {
    if (this.length > 0) this.deleteIn(0, v);
  }

  /** Pop of the tail element `v`. */
  popTail(v: string): void {
    if (this.length > 0) this.deleteIn(this.length - 1, v);
  }

  /** Node holding element `index` and the element's offset in it; [-1, 0] past the end. */
  private locate(index: number): [number, number] {
    let acc = 0;
    for (let i = 0; i < this.length; i++) {
      const c = this.cnt(i);
      if (index < acc + c) return [i, index - acc];
      acc += c;
    }
    return [-1, 0];
  }

  /** quicklistReplaceEntry (LSET): `old` at `index` becomes `v`, in place (lpReplace). */
  set(index: number, old: string, v: string): void {
    const [i] = this.locate(index);
    if (i >= 0) this.grow(i, 0, listpackEntrySize(v) - listpackEntrySize(old));
  }

  /**
   * _quicklistInsert (LINSERT): `v` goes before (or `after`) element `index`, whose node may
   * take it, pass it to a neighbour at its edge, get a new node beside it, or be split at the
   * element (then the nodes around are merged where they fit, _quicklistMergeNodes). `range`
   * measures elements of the list as it is before the insert.
   */
  insert(index: number, after: boolean, v: string, range: RangeBytes): void {
    const [i, off] = this.locate(index);
    if (i < 0) return;
    const sz = v.length;
    const count = this.cnt(i);
    const full = !this.allowInsert(i, sz);
    const atTail = after && off === count - 1;
    const atHead = !after && off === 0;
    const availNext = atTail && this.allowInsert(i + 1, sz);
    const availPrev = atHead && this.allowInsert(i - 1, sz);
    const entry = listpackEntrySize(v);
    if (!full) {
      this.grow(i, 1, entry);
    } else if (atTail && availNext) {
      this.grow(i + 1, 1, entry);
    } else if (atHead && availPrev) {
      this.grow(i - 1, 1, entry);
    } else if (atTail || atHead) {
      this.addNode(after ? i + 1 : i, 1, LP_EMPTY + entry);
    } else {
      // _quicklistSplitNode: after, the node keeps [0, off] and the new one the rest, with v at
      // its head; before, the new one takes [0, off) with v at its tail and the node the rest
      const keep = after ? off + 1 : count - off;
      const keepBytes = after ? range(index - off, keep) : range(index, keep);
      const movedBytes = this.byt(i) - keepBytes + LP_EMPTY;
      this.put(i, keep, keepBytes);
      this.addNode(after ? i + 1 : i, count - keep + 1, movedBytes + entry);
      this.mergeAround(after ? i : i + 1);
    }
  }

  /** _quicklistListpackMerge of adjacent nodes `a` and `a + 1`: one node of both. */
  private merge(a: number): void {
    this.grow(a, this.cnt(a + 1), this.byt(a + 1) - LP_EMPTY);
    this.dropNodes(a + 1, 1);
  }

  /**
   * _quicklistMergeNodes around node `c`: (prev_prev, prev), (next, next_next), then (prev,
   * center) and (center or the merged node, next), each merged when _quicklistNodeAllowMerge.
   */
  private mergeAround(c: number): void {
    if (this.allowMerge(c - 1, c - 2)) {
      this.merge(c - 2);
      c--;
    }
    if (this.allowMerge(c + 1, c + 2)) this.merge(c + 1);
    let target = c;
    if (this.allowMerge(c, c - 1)) {
      this.merge(c - 1);
      target = c - 1;
    }
    if (this.allowMerge(target, target + 1)) this.merge(target);
  }

  /**
   * Deletions one by one (LREM, quicklistDelEntry): elements at the ascending `indexes` of the
   * list before any of them goes, each of `entrySize` bytes; a node goes with its last element.
   */
  removeAt(indexes: readonly number[], entrySize: number): void {
    let k = 0;
    let acc = 0;
    for (let i = 0; i < this.length && k < indexes.length; ) {
      const c = this.cnt(i);
      let gone = 0;
      while (k < indexes.length && indexes[k]! < acc + c) {
        gone++;
        k++;
      }
      acc += c;
      if (gone === c) {
        this.dropNodes(i, 1);
        continue;
      }
      this.grow(i, -gone, -gone * entrySize);
      i++;
    }
  }

  /**
   * quicklistDelRange from the head (`ltrim` elements) and from the tail (`rtrim`), as LTRIM and
   * the counted pops do: whole nodes go, a node cut in part keeps the rest. Called after the
   * list lost them: `range` measures the list as it is now.
   */
  trimmed(ltrim: number, rtrim: number, range: RangeBytes): void {
    let headCut = false;
    let tailCut = false;
    let rest = ltrim;
    let drop = 0;
    while (drop < this.length && rest >= this.cnt(drop)) rest -= this.cnt(drop++);
    if (drop > 0) this.dropNodes(0, drop);
    if (rest > 0 && this.length > 0) {
      this.grow(0, -rest, 0);
      headCut = true;
    }
    rest = rtrim;
    let keep = this.length;
    while (keep > 0 && rest >= this.cnt(keep - 1)) rest -= this.cnt(--keep);
    if (keep < this.length) this.dropNodes(keep, this.length - keep);
    if (rest > 0 && keep > 0) {
      this.grow(keep - 1, -rest, 0);
      tailCut = true;
    }
    // the bytes of a node cut in part, measured once both ends are cut (it may be both ends)
    const last = this.length - 1;
    if (headCut && last >= 0) this.put(0, this.cnt(0), range(0, this.cnt(0)));
    if (tailCut && last >= 0) this.put(last, this.cnt(last), range(this.total() - this.cnt(last), this.cnt(last)));
  }
}

/** Listpack bytes of `items` as one node (LP_HDR_SIZE, their entries, the terminator). */
export function listpackBytesOf(items: Iterable<string>): number {
  let n = LP_EMPTY;
  for (const v of items) n += listpackEntrySize(v);
  return n;
}
