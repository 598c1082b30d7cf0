import { RObject, changeCapture } from './object.js';
import { QuicklistLayout, listpackBytesOf } from './quicklist-layout.js';
import { listpackEntrySize, LP_HDR_SIZE } from './listpack-size.js';

/**
 * Gives a fresh list the pages head..tail holding `length` elements. Set by ListObject's static
 * block, so that {@link ListLoader} can hand its pages over while the page links stay private.
 */
let adoptPages: (l: ListObject, head: Page, tail: Page, length: number) => void;

/**
 * The list type: a deque of pages, each holding up to {@link PAGE_MAX} elements (latin1 strings).
 *
 * Layout (the role of Redis's quicklist, src/quicklist.c):
 * - pages form a doubly linked list; the list keeps its length and the head and tail pages;
 * - a page is either *open*: a ring buffer (JS array used circularly, grown by doubling up to
 *   PAGE_MAX) so that pushes and pops at either end of the page are O(1); or *packed*: one latin1
 *   string holding its elements as RESP bulk strings (`$3\r\nfoo\r\n...`), about the size of
 *   Redis's listpack (RESP framing instead of listpack headers) and with no per-element object;
 * - any page may be packed, the head and tail pages included: lists loaded from RDB or LevelDB
 *   are built packed page by page ({@link ListLoader}). A push or pop at an end whose page is
 *   packed first opens that page (once: later pushes and pops at that end are O(1) again);
 * - lists built by commands pack a page when pushes leave it two pages away from the end that
 *   grows (and not next to the other end), so a push or pop never packs or unpacks more than
 *   once per PAGE_MAX operations at the same end;
 * - LRANGE and friends copy packed pages into replies as substrings, since they are already in
 *   reply format.
 *
 * Costs: push and pop at both ends O(1) (amortized over page changes); LINDEX, LSET O(n / PAGE_MAX
 * + PAGE_MAX); LRANGE O(start / PAGE_MAX + range); LINSERT, LREM, LPOS O(n) like Redis; LTRIM
 * O(pages dropped + PAGE_MAX). A huge range never allocates more than the reply it writes.
 *
 * OBJECT ENCODING is 'quicklist' for every list: Redis 7.0 creates lists as quicklists and never
 * converts them (the listpack encoding of small lists arrived in 7.2). The node boundaries Redis
 * 7.0 has after the same commands are kept beside the pages ({@link ql}, quicklist-layout.ts) for
 * DUMP, RDB files and DEBUG OBJECT ({@link quicklistNodes}).
 */
export class ListObject extends RObject {
  readonly type = 'list' as const;
  /** number of elements */
  length = 0;
  private _head: Page | null = null;
  private _tail: Page | null = null;
  /**
   * The quicklist nodes of a list loaded from RDB (latin1 bytes of Redis listpacks, each validated
   * and non-empty), kept until the list is first used ({@link fromPackedNodes}); else null.
   */
  private nodes: string[] | null = null;
  /**
   * The quicklist nodes Redis 7.0 would hold after the same commands (quicklist-layout.ts), kept
   * from the list's creation by a command or its load from an RDB payload; null when unknown
   * (loaded from LevelDB or an old RDB type, or after an element of 1 GB): the list is then cut
   * as if pushed at the tail ({@link quicklistNodes}).
   */
  ql: QuicklistLayout | null = null;

  // Every page access goes through head and tail: a list still in its loaded nodes builds its
  // pages at the first one, a write included (LTRIM may drop every page before reading one: the
  // nodes must not come back after it).
  private get head(): Page | null {
    if (this.nodes !== null) this.unpackNodes();
    return this._head;
  }

  private set head(p: Page | null) {
    if (this.nodes !== null) this.unpackNodes();
    this._head = p;
  }

  private get tail(): Page | null {
    if (this.nodes !== null) this.unpackNodes();
    return this._tail;
  }

  private set tail(p: Page | null) {
    if (this.nodes !== null) this.unpackNodes();
    this._tail = p;
  }

  /**
   * A list of `length` elements held in `nodes` (latin1 bytes of Redis listpacks, validated by the
   * caller, none empty), left as they are until first used: an RDB load does not turn every
   * element into a page entry for lists nobody reads. Iteration reads the nodes in place.
   */
  static fromPackedNodes(nodes: string[], length: number): ListObject {
    const l = new ListObject();
    l.nodes = nodes;
    l.length = length;
    return l;
  }

  /** Builds the pages from {@link nodes} (no change capture: the value is the same). */
  private unpackNodes(): void {
    const nodes = this.nodes!;
    this.nodes = null;
    if (listNodesReader === null) throw new Error('ListObject: packed quicklist nodes but no listpack reader is registered');
    const b = listLoader();
    for (const n of nodes) listNodesReader.addNode(b, n);
    const built = b.finish();
    this._head = built?._head ?? null;
    this._tail = built?._tail ?? null;
  }

  /** True while the list is still in the quicklist nodes it was loaded with. */
  get isPackedNodes(): boolean {
    return this.nodes !== null;
  }

  static {
    adoptPages = (l, head, tail, length) => {
      l.head = head;
      l.tail = tail;
      l.length = length;
    };
  }

  /**
   * An empty list created by a command, with the quicklist layout of a new Redis list under
   * list-max-listpack-size `fill` (createQuicklistObject + quicklistSetOptions).
   */
  static created(fill: number): ListObject {
    const l = new ListObject();
    l.ql = new QuicklistLayout(fill);
    return l;
  }

  /**
   * The layout ({@link ql}) to record the arrival of element `v` in; null when the list has none,
   * or drops it now because `v` is an element it does not model (QuicklistLayout.accepts).
   */
  private layoutFor(v: string): QuicklistLayout | null {
    if (this.ql !== null && !QuicklistLayout.accepts(v)) this.ql = null;
    return this.ql;
  }

  /** Listpack bytes of elements [start, start + count), as one quicklist node would hold them. */
  private rangeBytes(start: number, count: number): number {
    return count <= 0 ? LP_HDR_SIZE + 1 : listpackBytesOf(this.range(start, Math.min(start + count, this.length) - 1));
  }

  /** Always 'quicklist' (Redis 7.0 has no other list encoding it creates). */
  encoding(): string {
    return 'quicklist';
  }

  /** A list with `items` in order (RDB loading, tests). */
  static from(items: Iterable<string>): ListObject {
    const l = new ListObject();
    for (const s of items) l.pushTail(s);
    return l;
  }

  /**
   * A list of the strings in `items`, head first (RDB loading): pages cut straight from the
   * array and packed as pushing every item at the tail would leave them. `items` is not kept.
   */
  static fromArray(items: readonly string[]): ListObject {
    const l = new ListObject();
    const n = items.length;
    for (let i = 0; i < n; i += PAGE_MAX) {
      const p = new Page();
      // a full ring: the next push grows it as any ring grows
      p.ring = items.slice(i, i + PAGE_MAX);
      p.count = p.ring.length;
      l.linkTail(p);
    }
    l.length = n;
    for (let p = l.head; p !== null; p = p.next) l.maybePack(p);
    return l;
  }

  /**
   * A list of the strings in `items`, head first, every page packed ({@link ListLoader}; LevelDB
   * loading, where the elements come as strings): the element strings are not kept.
   */
  static fromArrayPacked(items: readonly string[]): ListObject {
    const b = listLoader();
    for (let i = 0; i < items.length; i++) b.addString(items[i]!);
    return b.finish() ?? new ListObject();
  }

  /** A deep copy (COPY): packed pages are immutable strings and are shared. */
  clone(): ListObject {
    const l = this.nodes !== null ? ListObject.fromPackedNodes(this.nodes.slice(), this.length) : this.clonePages();
    l.ql = this.ql === null ? null : this.ql.clone();
    return l;
  }

  private clonePages(): ListObject {
    const l = new ListObject();
    for (let p = this.head; p !== null; p = p.next) {
      const q = new Page();
      q.count = p.count;
      if (p.packed !== null) q.packed = p.packed;
      else {
        q.ring = linear(p);
        q.start = 0;
      }
      l.linkTail(q);
    }
    l.length = this.length;
    return l;
  }

  // ---- ends --------------------------------------------------------------------------------

  /** LPUSH one element. */
  pushHead(v: string): void {
    if (this.ldb !== 0) changeCapture.recorder?.listPush(this, true);
    this.layoutFor(v)?.pushHead(v);
    const h = this.head;
    if (h !== null && h.count < PAGE_MAX) {
      if (h.packed !== null) unpack(h);
      ringPushHead(h, v);
    } else {
      const p = new Page();
      p.ring = [v];
      p.count = 1;
      this.linkHead(p);
      // the page now two away from the head leaves the hot zone
      if (h !== null && h.next !== null) this.maybePack(h.next);
    }
    this.length++;
  }

  /** RPUSH one element. */
  pushTail(v: string): void {
    if (this.ldb !== 0) changeCapture.recorder?.listPush(this, false);
    this.layoutFor(v)?.pushTail(v);
    const t = this.tail;
    if (t !== null && t.count < PAGE_MAX) {
      if (t.packed !== null) unpack(t);
      ringPushTail(t, v);
    } else {
      const p = new Page();
      p.ring = [v];
      p.count = 1;
      this.linkTail(p);
      if (t !== null && t.prev !== null) this.maybePack(t.prev);
    }
    this.length++;
  }

  /** LPOP one element; undefined when empty. */
  popHead(): string | undefined {
    const h = this.head;
    if (h === null) return undefined;
    if (this.ldb !== 0) changeCapture.recorder?.listPop(this, true, 1);
    if (h.packed !== null) unpack(h);
    const ring = h.ring!;
    const v = ring[h.start]!;
    ring[h.start] = undefined;
    h.cache = null;
    h.start = h.start + 1 === ring.length ? 0 : h.start + 1;
    this.length--;
    if (--h.count === 0) this.setHead(h.next);
    this.ql?.popHead(v);
    return v;
  }

  /** RPOP one element; undefined when empty. */
  popTail(): string | undefined {
    const t = this.tail;
    if (t === null) return undefined;
    if (this.ldb !== 0) changeCapture.recorder?.listPop(this, false, 1);
    if (t.packed !== null) unpack(t);
    const ring = t.ring!;
    let i = t.start + t.count - 1;
    if (i >= ring.length) i -= ring.length;
    const v = ring[i]!;
    ring[i] = undefined;
    t.cache = null;
    this.length--;
    if (--t.count === 0) this.setTail(t.prev);
    this.ql?.popTail(v);
    return v;
  }

  // ---- by index ----------------------------------------------------------------------------

  /** The element at `index` (0 <= index < length; the caller normalizes negative indexes). */
  get(index: number): string {
    const p = this.locate(index);
    return pageGet(p, locOff);
  }

  /** Replaces the element at `index` (0 <= index < length). */
  set(index: number, v: string): void {
    if (this.ldb !== 0) changeCapture.recorder?.listSet(this, index);
    const p = this.locate(index);
    const off = locOff;
    this.layoutFor(v)?.set(index, pageGet(p, off), v);
    if (p.packed === null) {
      const ring = p.ring!;
      let i = p.start + off;
      if (i >= ring.length) i -= ring.length;
      ring[i] = v;
      p.cache = null;
      return;
    }
    const s = p.packed;
    const a = bulkPos(s, 0, off);
    const b = nextBulk(s, a);
    const packed = s.slice(0, a) + bulk(v) + s.slice(b);
    if (packed.length <= PACK_MAX_BYTES) p.packed = packed;
    else {
      const items = linear(p);
      items[off] = v;
      p.ring = items;
      p.start = 0;
      p.packed = null;
      p.cache = null;
    }
  }

  /**
   * The RESP bulk strings of elements start..end (inclusive, 0 <= start <= end < length), in
   * order, or from end down to start when `reverse`. Packed pages are copied as substrings.
   */
  rangeReply(start: number, end: number, reverse = false): string {
    let out = '';
    if (!reverse) {
      let p = this.locate(start);
      let off = locOff;
      let left = end - start + 1;
      while (left > 0) {
        const n = Math.min(p.count - off, left);
        if (p.packed !== null) {
          const s = p.packed;
          const a = off === 0 ? 0 : bulkPos(s, 0, off);
          const b = off + n === p.count ? s.length : bulkPos(s, a, n);
          out += a === 0 && b === s.length ? s : s.slice(a, b);
        } else if (p.cache !== null || (n >= 8 && n * 2 >= p.count)) {
          const s = p.cache ?? (p.cache = respOf(p));
          const a = off === 0 ? 0 : bulkPos(s, 0, off);
          const b = off + n === p.count ? s.length : bulkPos(s, a, n);
          out += a === 0 && b === s.length ? s : s.slice(a, b);
        } else {
          const ring = p.ring!;
          const cap = ring.length;
          let i = p.start + off;
          if (i >= cap) i -= cap;
          for (let k = 0; k < n; k++) {
            const v = ring[i]!;
            out += bulkHeader(v.length) + v + '\r\n';
            if (++i === cap) i = 0;
          }
        }
        left -= n;
        off = 0;
        p = p.next!;
      }
      return out;
    }
    let p: Page | null = this.locate(end);
    let off = locOff; // walking down from here
    let left = end - start + 1;
    while (p !== null && left > 0) {
      const n = Math.min(off + 1, left);
      if (p.packed !== null) {
        const s = p.packed;
        const pos = bulkOffsets(s, off + 1);
        for (let k = off; k > off - n; k--) out += s.slice(pos[k], pos[k + 1]);
      } else {
        const ring = p.ring!;
        const cap = ring.length;
        let i = p.start + off;
        if (i >= cap) i -= cap;
        for (let k = 0; k < n; k++) {
          const v = ring[i]!;
          out += bulkHeader(v.length) + v + '\r\n';
          if (--i < 0) i = cap - 1;
        }
      }
      left -= n;
      p = p.prev;
      if (p !== null) off = p.count - 1;
    }
    return out;
  }

  /** Elements start..end inclusive as an array (clamped to the list). */
  range(start = 0, end = this.length - 1): string[] {
    const out: string[] = [];
    if (start < 0) start = 0;
    if (end >= this.length) end = this.length - 1;
    if (start > end) return out;
    let p: Page | null = this.locate(start);
    let off = locOff;
    let left = end - start + 1;
    while (p !== null && left > 0) {
      for (; off < p.count && left > 0; off++, left--) out.push(pageGet(p, off));
      off = 0;
      p = p.next;
    }
    return out;
  }

  // ---- bulk removal ------------------------------------------------------------------------

  /**
   * Removes `ltrim` elements from the head and `rtrim` from the tail (LTRIM, LPOP/RPOP count);
   * whole pages are dropped without being decoded.
   */
  trim(ltrim: number, rtrim: number): void {
    this.trimPages(ltrim, rtrim);
    this.ql?.trimmed(ltrim, rtrim, (a, n) => this.rangeBytes(a, n));
  }

  private trimPages(ltrim: number, rtrim: number): void {
    if (this.ldb !== 0 && changeCapture.recorder !== null) {
      const r = changeCapture.recorder;
      if (ltrim + rtrim >= this.length) r.listPop(this, true, this.length);
      else {
        if (ltrim > 0) r.listPop(this, true, ltrim);
        if (rtrim > 0) r.listPop(this, false, rtrim);
      }
    }
    if (ltrim + rtrim >= this.length) {
      this.head = this.tail = null;
      this.length = 0;
      return;
    }
    if (ltrim > 0) {
      let p = this.head!;
      let n = ltrim;
      while (n >= p.count) {
        n -= p.count;
        p = p.next!;
      }
      this.setHead(p);
      if (n > 0 && p.packed !== null) {
        // a packed page loses its first n bulks as one substring: no element is decoded
        p.packed = p.packed.slice(bulkPos(p.packed, 0, n));
        p.count -= n;
        n = 0;
      }
      if (n > 0) p.cache = null;
      for (; n > 0; n--) {
        const ring = p.ring!;
        ring[p.start] = undefined;
        p.start = p.start + 1 === ring.length ? 0 : p.start + 1;
        p.count--;
      }
      this.length -= ltrim;
    }
    if (rtrim > 0) {
      let p = this.tail!;
      let n = rtrim;
      while (n >= p.count) {
        n -= p.count;
        p = p.prev!;
      }
      this.setTail(p);
      if (n > 0 && p.packed !== null) {
        p.packed = p.packed.slice(0, bulkPos(p.packed, 0, p.count - n));
        p.count -= n;
        n = 0;
      }
      if (n > 0) p.cache = null;
      for (; n > 0; n--) {
        const ring = p.ring!;
        let i = p.start + p.count - 1;
        if (i >= ring.length) i -= ring.length;
        ring[i] = undefined;
        p.count--;
      }
      this.length -= rtrim;
    }
  }

  // ---- search ------------------------------------------------------------------------------

  /**
   * Calls `fn(index)` for each element equal to `v`, from the head (or from the tail when
   * `fromTail`), looking at no more than `maxlen` elements (0 = all); stops when `fn` returns
   * false. Compares packed elements in place. LPOS.
   */
  scan(v: string, fromTail: boolean, maxlen: number, fn: (index: number) => boolean): void {
    const limit = maxlen > 0 ? Math.min(maxlen, this.length) : this.length;
    if (!fromTail) {
      let idx = 0;
      for (let p = this.head; p !== null && idx < limit; p = p.next) {
        const n = Math.min(p.count, limit - idx);
        if (p.packed !== null) {
          const s = p.packed;
          let pos = 0;
          for (let k = 0; k < n; k++) {
            const d = dataStart(s, pos);
            const len = scanLen;
            if (len === v.length && s.startsWith(v, d) && !fn(idx + k)) return;
            pos = d + len + 2;
          }
        } else {
          const ring = p.ring!;
          const cap = ring.length;
          let i = p.start;
          for (let k = 0; k < n; k++) {
            if (ring[i] === v && !fn(idx + k)) return;
            if (++i === cap) i = 0;
          }
        }
        idx += p.count;
      }
      return;
    }
    let seen = 0;
    let idx = this.length - 1;
    for (let p = this.tail; p !== null && seen < limit; p = p.prev) {
      const n = Math.min(p.count, limit - seen);
      if (p.packed !== null) {
        const s = p.packed;
        const pos = bulkOffsets(s, p.count);
        for (let k = 0; k < n; k++) {
          const at = pos[p.count - 1 - k]!;
          const d = dataStart(s, at);
          if (scanLen === v.length && s.startsWith(v, d) && !fn(idx - k)) return;
        }
      } else {
        const ring = p.ring!;
        const cap = ring.length;
        let i = p.start + p.count - 1;
        if (i >= cap) i -= cap;
        for (let k = 0; k < n; k++) {
          if (ring[i] === v && !fn(idx - k)) return;
          if (--i < 0) i = cap - 1;
        }
      }
      idx -= p.count;
      seen += n;
    }
  }

  /**
   * LINSERT: inserts `v` before (or `after`) the first element equal to `pivot`, searching from
   * the head. Returns false when the pivot is not found (nothing changes).
   */
  insert(pivot: string, v: string, after: boolean): boolean {
    let found = -1;
    this.scan(pivot, false, 0, (i) => {
      found = i;
      return false;
    });
    if (found < 0) return false;
    const at = found + (after ? 1 : 0);
    if (at === 0) {
      this.pushHead(v);
      return true;
    }
    if (at === this.length) {
      this.pushTail(v);
      return true;
    }
    if (this.ldb !== 0) changeCapture.recorder?.whole(this);
    this.layoutFor(v)?.insert(found, after, v, (a, n) => this.rangeBytes(a, n));
    const p = this.locate(found);
    const items = linear(p);
    items.splice(locOff + (after ? 1 : 0), 0, v);
    this.length++;
    if (items.length <= PAGE_MAX) {
      this.replaceItems(p, items);
      return true;
    }
    // split a full page in two halves
    const half = items.length >> 1;
    const q = new Page();
    q.ring = items.slice(half);
    q.count = q.ring.length;
    items.length = half;
    q.prev = p;
    q.next = p.next;
    if (p.next !== null) p.next.prev = q;
    else this.tail = q;
    p.next = q;
    this.replaceItems(p, items);
    if (q !== this.tail) this.maybePack(q);
    return true;
  }

  /**
   * LREM: removes elements equal to `v`: the first `count` from the head when count > 0, the
   * last -count from the tail when count < 0, all when 0. Returns how many were removed.
   */
  remove(v: string, count: number): number {
    const fromTail = count < 0;
    let quota = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    // with a layout: the indexes LREM deletes, as they were before any went (quicklistDelEntry
    // one by one), found in the same pass
    const q = this.ql;
    const at: number[] | null = q !== null ? [] : null;
    // index of the page's first element (from the head) or one past its last (from the tail)
    let edge = fromTail ? this.length : 0;
    let p = fromTail ? this.tail : this.head;
    while (p !== null && quota > 0) {
      const next: Page | null = fromTail ? p.prev : p.next;
      const base = fromTail ? edge - p.count : edge;
      edge = fromTail ? base : edge + p.count;
      if (pageHas(p, v)) {
        const items = linear(p);
        const kept: string[] = [];
        if (!fromTail) {
          for (let i = 0; i < items.length; i++) {
            if (quota > 0 && items[i] === v) {
              quota--;
              removed++;
              at?.push(base + i);
            } else kept.push(items[i]!);
          }
        } else {
          for (let i = items.length - 1; i >= 0; i--) {
            if (quota > 0 && items[i] === v) {
              quota--;
              removed++;
              at?.push(base + i);
            } else kept.push(items[i]!);
          }
          kept.reverse();
        }
        this.length -= items.length - kept.length;
        if (kept.length === 0) this.unlink(p);
        else this.replaceItems(p, kept);
      }
      p = next;
    }
    if (at !== null && at.length > 0) {
      if (fromTail) at.reverse();
      q!.removeAt(at, listpackEntrySize(v));
    }
    if (removed > 0) {
      if (this.ldb !== 0) changeCapture.recorder?.whole(this);
      this.compact();
    }
    return removed;
  }

  // ---- iteration (RDB encoder, DEBUG, tests) -----------------------------------------------

  /** Elements from head to tail (a list still in its loaded nodes is read in place). */
  *[Symbol.iterator](): IterableIterator<string> {
    if (this.nodes !== null) {
      for (const n of this.nodes) yield* listNodesReader!.entries(n);
      return;
    }
    for (let p = this.head; p !== null; p = p.next) {
      if (p.packed !== null) {
        const s = p.packed;
        let pos = 0;
        for (let k = 0; k < p.count; k++) {
          const d = dataStart(s, pos);
          const n = scanLen;
          yield s.slice(d, d + n);
          pos = d + n + 2;
        }
      } else {
        const ring = p.ring!;
        const cap = ring.length;
        let i = p.start;
        for (let k = 0; k < p.count; k++) {
          yield ring[i]!;
          if (++i === cap) i = 0;
        }
      }
    }
  }

  /** Calls fn for each element from head to tail (no generator overhead). */
  forEach(fn: (v: string, index: number) => void): void {
    let idx = 0;
    if (this.nodes !== null) {
      for (const n of this.nodes) for (const v of listNodesReader!.entries(n)) fn(v, idx++);
      return;
    }
    for (let p = this.head; p !== null; p = p.next) {
      if (p.packed !== null) {
        // walk the packed page once (pageGet per offset would rescan it from its start)
        const s = p.packed;
        let pos = 0;
        for (let k = 0; k < p.count; k++) {
          const d = dataStart(s, pos);
          const n = scanLen;
          fn(s.slice(d, d + n), idx++);
          pos = d + n + 2;
        }
        continue;
      }
      for (let k = 0; k < p.count; k++) fn(pageGet(p, k), idx++);
    }
  }

  /**
   * Calls `fn(ctx, s, start, len)` for each element from head to tail, the element being the
   * range [start, start+len) of `s` (a packed page's string, or the element itself), so that an
   * encoder can copy its bytes without slicing it out.
   */
  forEachRange<C>(fn: (ctx: C, s: string, start: number, len: number) => void, ctx: C): void {
    if (this.nodes !== null) {
      // a save of a list still in its loaded nodes: cut into nodes again by the current fill
      for (const n of this.nodes) for (const v of listNodesReader!.entries(n)) fn(ctx, v, 0, v.length);
      return;
    }
    for (let p = this.head; p !== null; p = p.next) {
      if (p.packed !== null) {
        const s = p.packed;
        let pos = 0;
        for (let k = 0; k < p.count; k++) {
          const d = dataStart(s, pos);
          const n = scanLen;
          fn(ctx, s, d, n);
          pos = d + n + 2;
        }
        continue;
      }
      const ring = p.ring!;
      let i = p.start;
      for (let k = 0; k < p.count; k++) {
        const v = ring[i]!;
        fn(ctx, v, 0, v.length);
        if (++i === ring.length) i = 0;
      }
    }
  }

  /** All elements as an array. */
  toArray(): string[] {
    return this.range(0, this.length - 1);
  }

  /**
   * The quicklist nodes Redis 7.0 holds for this list: those of its layout ({@link ql}) when it
   * kept one; else those of the elements pushed at the tail in order with
   * `list-max-listpack-size` = `fill` (_quicklistNodeAllowInsert in quicklist.c: estimate `node
   * bytes + element length + 8` against the size level for a negative fill, or 8192 bytes and
   * `fill` entries for a positive one). Each node: its element count and its listpack size in
   * bytes (header, entries with back-lengths, terminator).
   */
  quicklistNodes(fill: number): Array<{ count: number; bytes: number }> {
    return (this.layout() ?? QuicklistLayout.tailPushes(fill, this)).nodes();
  }

  /** {@link ql} when it covers the list's elements (the one its saves and DEBUG OBJECT follow), else null. */
  layout(): QuicklistLayout | null {
    const q = this.ql;
    return q !== null && q.total() === this.length ? q : null;
  }

  /** Approximate heap bytes used (MEMORY USAGE): pages, rings, element strings, packed pages. */
  memoryUsage(): number {
    let bytes = 48;
    for (let p = this.head; p !== null; p = p.next) {
      bytes += 64;
      if (p.packed !== null) bytes += 24 + p.packed.length;
      else {
        bytes += 16 + 8 * p.ring!.length;
        const ring = p.ring!;
        for (let i = 0; i < ring.length; i++) {
          const v = ring[i];
          if (v !== undefined) bytes += 16 + ((v.length + 7) & ~7);
        }
      }
    }
    return bytes;
  }

  /** Page count, open page count and element count, for tests and DEBUG. */
  stats(): { pages: number; packed: number; length: number } {
    let pages = 0;
    let packed = 0;
    for (let p = this.head; p !== null; p = p.next) {
      pages++;
      if (p.packed !== null) packed++;
    }
    return { pages, packed, length: this.length };
  }

  /**
   * Verifies the internal invariants (tests): counts add up, packed pages hold exactly their
   * count of well-formed bulks, rings hold exactly their elements, links are consistent. Throws
   * on the first violation.
   */
  check(): void {
    let n = 0;
    let prev: Page | null = null;
    for (let p = this.head; p !== null; p = p.next) {
      if (p.prev !== prev) throw new Error('bad prev link');
      if (p.count <= 0 || p.count > PAGE_MAX) throw new Error(`bad page count ${p.count}`);
      if (p.packed !== null) {
        if (p.ring !== null || p.cache !== null) throw new Error('packed page with a ring or cache');
        checkPacked(p.packed, p.count);
      } else {
        const ring = p.ring!;
        if (p.count > ring.length) throw new Error('ring overflow');
        let live = 0;
        for (let i = 0; i < ring.length; i++) if (ring[i] !== undefined) live++;
        if (live !== p.count) throw new Error(`ring holds ${live} strings for ${p.count} elements`);
        if (p.cache !== null && p.cache !== respOf(p)) throw new Error('stale RESP cache');
      }
      n += p.count;
      prev = p;
    }
    if (prev !== this.tail) throw new Error('bad tail');
    if (n !== this.length) throw new Error(`length ${this.length} but pages hold ${n}`);
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The page holding `index`; its offset in the page is left in `locOff`. */
  private locate(index: number): Page {
    if (index * 2 < this.length) {
      let p = this.head!;
      while (index >= p.count) {
        index -= p.count;
        p = p.next!;
      }
      locOff = index;
      return p;
    }
    let back = this.length - 1 - index;
    let p = this.tail!;
    while (back >= p.count) {
      back -= p.count;
      p = p.prev!;
    }
    locOff = p.count - 1 - back;
    return p;
  }

  private linkHead(p: Page): void {
    p.prev = null;
    p.next = this.head;
    if (this.head !== null) this.head.prev = p;
    else this.tail = p;
    this.head = p;
  }

  private linkTail(p: Page): void {
    p.next = null;
    p.prev = this.tail;
    if (this.tail !== null) this.tail.next = p;
    else this.head = p;
    this.tail = p;
  }

  /**
   * Makes `p` the head (dropping the pages before it). A packed page stays packed: the next push
   * or pop at the head opens it, a trim or a read does not need to.
   */
  private setHead(p: Page | null): void {
    this.head = p;
    if (p === null) {
      this.tail = null;
      return;
    }
    p.prev = null;
  }

  /** Makes `p` the tail (dropping the pages after it); a packed page stays packed (see setHead). */
  private setTail(p: Page | null): void {
    this.tail = p;
    if (p === null) {
      this.head = null;
      return;
    }
    p.next = null;
  }

  private unlink(p: Page): void {
    if (p === this.head) {
      this.setHead(p.next);
      return;
    }
    if (p === this.tail) {
      this.setTail(p.prev);
      return;
    }
    p.prev!.next = p.next;
    p.next!.prev = p.prev;
  }

  /** Packs an open page that is neither an end page nor next to one. */
  private maybePack(p: Page): void {
    if (p.packed !== null || p === this.head || p === this.tail || p.prev === this.head || p.next === this.tail) return;
    pack(p);
  }

  /** Gives page `p` new contents (1..PAGE_MAX elements) after a middle edit. */
  private replaceItems(p: Page, items: string[]): void {
    const wasPacked = p.packed !== null;
    p.ring = items;
    p.start = 0;
    p.count = items.length;
    p.packed = null;
    p.cache = null;
    if (wasPacked) this.maybePack(p);
  }

  /** Merges runs of small neighbouring pages left by LREM, keeping pages reasonably full. */
  private compact(): void {
    let p = this.head;
    while (p !== null && p.next !== null) {
      const q: Page = p.next;
      if (p.count + q.count <= PAGE_MAX && (p.count < PAGE_MAX / 4 || q.count < PAGE_MAX / 4)) {
        const wasPacked = p.packed !== null || q.packed !== null;
        const items = linear(p).concat(linear(q));
        p.ring = items;
        p.start = 0;
        p.count = items.length;
        p.packed = null;
        p.cache = null;
        p.next = q.next;
        if (q.next !== null) q.next.prev = p;
        else this.tail = p;
        if (wasPacked) this.maybePack(p);
        continue; // p may absorb its new neighbour too
      }
      p = q;
    }
  }
}

/**
 * Builds a list page by page from encoded elements (RDB and LevelDB loading) with no string per
 * element: each page's RESP bulks (`$<len>\r\n<bytes>\r\n`, integers in decimal as their
 * element string would be) are written into a scratch buffer and become one latin1 string.
 * Pages are cut every PAGE_MAX elements, as {@link ListObject.fromArray} cuts them; a page whose
 * elements add up to more than PACK_MAX_BYTES (by {@link pack}'s estimate) stays open, as pack()
 * would leave it. Use: {@link listLoader} (or {@link start}), one add* per element head first,
 * then {@link finish}. Not reentrant: one list at a time.
 */
export class ListLoader {
  /** the current page's bulks while it can still be packed (at most PACK_MAX_BYTES) */
  private readonly scratch = Buffer.allocUnsafe(PACK_MAX_BYTES);
  /** bytes used in scratch */
  private pos = 0;
  /** pack()'s size estimate of the current page: element bytes + 16 each */
  private est = 0;
  /** elements in the current page */
  private n = 0;
  /** the current page's elements once it is known to stay open */
  private open: string[] | null = null;
  private head: Page | null = null;
  private tail: Page | null = null;
  private length = 0;

  /** Forgets any list under construction. */
  start(): this {
    this.pos = this.est = this.n = this.length = 0;
    this.open = null;
    this.head = this.tail = null;
    return this;
  }

  /** Appends the element made of bytes [start, start+len) of `src`. */
  addBytes(src: Buffer, start: number, len: number): void {
    if (this.open === null && this.est + len + 16 <= PACK_MAX_BYTES) {
      const pos = this.header(len);
      const b = this.scratch;
      // a native copy costs more than a short loop for the usual small elements
      if (len <= 32) for (let i = 0; i < len; i++) b[pos + i] = src[start + i]!;
      else src.copy(b, pos, start, start + len);
      this.endBulk(pos + len, len);
    } else {
      this.openPage().push(src.latin1Slice(start, start + len));
    }
    if (++this.n === PAGE_MAX) this.endPage();
  }

  /** Appends an element given as a (latin1) string. */
  addString(v: string): void {
    const len = v.length;
    if (this.open === null && this.est + len + 16 <= PACK_MAX_BYTES) {
      const pos = this.header(len);
      const b = this.scratch;
      if (len <= 32) for (let i = 0; i < len; i++) b[pos + i] = v.charCodeAt(i);
      else b.latin1Write(v, pos, len);
      this.endBulk(pos + len, len);
    } else {
      this.openPage().push(v);
    }
    if (++this.n === PAGE_MAX) this.endPage();
  }

  /**
   * Appends an integer element (a listpack or ziplist integer entry): its decimal text, as
   * String(v) (ll2string) would write it.
   */
  addInt(v: number | bigint): void {
    if (typeof v !== 'number') {
      this.addString(String(v));
      return;
    }
    // digits from the last, into DIGITS (numbers here are safe integers: exact arithmetic)
    const d = DIGITS;
    let k = 0;
    let x = v < 0 ? -v : v;
    do {
      const q = Math.floor(x / 10);
      d[k++] = 48 + (x - q * 10);
      x = q;
    } while (x > 0);
    if (v < 0) d[k++] = 45;
    const len = k;
    if (this.open === null && this.est + len + 16 <= PACK_MAX_BYTES) {
      let pos = this.header(len);
      const b = this.scratch;
      while (k > 0) b[pos++] = d[--k]!;
      this.endBulk(pos, len);
    } else {
      this.openPage().push(String(v));
    }
    if (++this.n === PAGE_MAX) this.endPage();
  }

  /** The list built since {@link start}, or null when no element was added. The loader is reset. */
  finish(): ListObject | null {
    this.endPage();
    const head = this.head;
    const tail = this.tail;
    const length = this.length;
    this.start();
    if (head === null || tail === null) return null;
    const l = new ListObject();
    adoptPages(l, head, tail, length);
    return l;
  }

  /** Ends the bulk whose `len` data bytes end at `pos`: its CRLF, and pack()'s size estimate. */
  private endBulk(pos: number, len: number): void {
    const b = this.scratch;
    b[pos] = 13;
    b[pos + 1] = 10;
    this.pos = pos + 2;
    this.est += len + 16;
  }

  /** Writes `$<len>\r\n` at pos; returns where the data goes. */
  private header(len: number): number {
    const b = this.scratch;
    let pos = this.pos;
    b[pos++] = 36;
    if (len < 10) b[pos++] = 48 + len;
    else if (len < 100) {
      const q = (len / 10) | 0;
      b[pos++] = 48 + q;
      b[pos++] = 48 + len - q * 10;
    } else {
      let digits = 3;
      for (let m = 1000; len >= m; m *= 10) digits++;
      pos += digits;
      let x = len;
      for (let i = 1; i <= digits; i++) {
        const q = Math.floor(x / 10);
        b[pos - i] = 48 + (x - q * 10);
        x = q;
      }
    }
    b[pos++] = 13;
    b[pos++] = 10;
    return pos;
  }

  /** The current page as element strings (it will stay open): the bulks so far are decoded. */
  private openPage(): string[] {
    if (this.open !== null) return this.open;
    const open: string[] = [];
    const b = this.scratch;
    let pos = 0;
    while (pos < this.pos) {
      let i = pos + 1;
      let len = 0;
      for (let c = b[i]!; c !== 13; c = b[++i]!) len = len * 10 + (c - 48);
      open.push(b.latin1Slice(i + 2, i + 2 + len));
      pos = i + 4 + len;
    }
    this.pos = 0;
    this.est = 0;
    this.open = open;
    return open;
  }

  /** Links the current page (if any element) at the tail. */
  private endPage(): void {
    if (this.n === 0) return;
    const p = new Page();
    if (this.open !== null) {
      p.ring = this.open;
      this.open = null;
    } else {
      p.packed = this.scratch.latin1Slice(0, this.pos);
    }
    p.count = this.n;
    p.prev = this.tail;
    if (this.tail !== null) this.tail.next = p;
    else this.head = p;
    this.tail = p;
    this.length += this.n;
    this.n = this.pos = this.est = 0;
  }
}

/**
 * Reads the quicklist nodes of a list loaded packed ({@link ListObject.fromPackedNodes}): `addNode`
 * appends a node's elements to a loader, `entries` lists them. Registered by the RDB layer, which
 * owns the listpack format (rdb/values.ts).
 */
export interface ListNodesReader {
  addNode(b: ListLoader, node: string): void;
  entries(node: string): string[];
}
let listNodesReader: ListNodesReader | null = null;

/** Registers the reader of packed quicklist nodes (once, by rdb/values.ts). */
export function setListNodesReader(r: ListNodesReader): void {
  listNodesReader = r;
}

/** Decimal digits of addInt, last first (sign included). */
const DIGITS = new Uint8Array(24);

let sharedLoader: ListLoader | null = null;

/** The module's {@link ListLoader}, started (its scratch buffer is reused from list to list). */
export function listLoader(): ListLoader {
  return (sharedLoader ??= new ListLoader()).start();
}

/**
 * Checks that `s` is exactly `count` well-formed RESP bulks (`$<len>\r\n<len chars>\r\n`);
 * throws otherwise (check()).
 */
function checkPacked(s: string, count: number): void {
  let pos = 0;
  for (let k = 0; k < count; k++) {
    if (s.charCodeAt(pos) !== 36) throw new Error(`packed bulk ${k}: no '$' at ${pos}`);
    const nl = s.indexOf('\r\n', pos);
    const digits = s.slice(pos + 1, nl);
    if (nl < 0 || !/^(0|[1-9][0-9]*)$/.test(digits)) throw new Error(`packed bulk ${k}: bad length`);
    const end = nl + 2 + Number(digits);
    if (s.slice(end, end + 2) !== '\r\n') throw new Error(`packed bulk ${k}: no CRLF after the data`);
    pos = end + 2;
  }
  if (pos !== s.length) throw new Error(`packed page holds more than its ${count} elements`);
}

/** Elements per page. */
const PAGE_MAX = 128;
/** A page whose RESP form would exceed this many bytes stays open (no giant strings). */
const PACK_MAX_BYTES = 32 * 1024;

/** One page; see {@link ListObject}. */
class Page {
  prev: Page | null = null;
  next: Page | null = null;
  /** open page: ring buffer; elements at (start + i) % ring.length, other slots undefined */
  ring: Array<string | undefined> | null = null;
  start = 0;
  /** packed page: the elements as consecutive RESP bulk strings */
  packed: string | null = null;
  /**
   * open page: its elements in RESP form, built by a range read covering most of the page and
   * dropped by the next change to the page (repeated LRANGE of a list's ends copies substrings)
   */
  cache: string | null = null;
  count = 0;
}

/** Offset within the page found by the last locate(). */
let locOff = 0;
/** Length of the bulk whose data start dataStart() returned last. */
let scanLen = 0;

function ringPushHead(p: Page, v: string): void {
  p.cache = null;
  let ring = p.ring!;
  if (p.count === ring.length) ring = grow(p);
  p.start = p.start === 0 ? ring.length - 1 : p.start - 1;
  ring[p.start] = v;
  p.count++;
}

function ringPushTail(p: Page, v: string): void {
  p.cache = null;
  let ring = p.ring!;
  if (p.count === ring.length) ring = grow(p);
  let i = p.start + p.count;
  if (i >= ring.length) i -= ring.length;
  ring[i] = v;
  p.count++;
}

/** Doubles a full ring (capped at PAGE_MAX), laying the elements out from slot 0. */
function grow(p: Page): Array<string | undefined> {
  const old = p.ring!;
  const cap = Math.min(PAGE_MAX, Math.max(4, old.length * 2));
  const ring = new Array<string | undefined>(cap);
  let i = p.start;
  for (let k = 0; k < p.count; k++) {
    ring[k] = old[i];
    if (++i === old.length) i = 0;
  }
  p.ring = ring;
  p.start = 0;
  return ring;
}

function pageGet(p: Page, off: number): string {
  if (p.packed === null) {
    const ring = p.ring!;
    let i = p.start + off;
    if (i >= ring.length) i -= ring.length;
    return ring[i]!;
  }
  const s = p.packed;
  const d = dataStart(s, bulkPos(s, 0, off));
  return s.slice(d, d + scanLen);
}

/** The elements of a page in order, as a fresh array. */
function linear(p: Page): string[] {
  const out = new Array<string>(p.count);
  if (p.packed !== null) {
    const s = p.packed;
    let pos = 0;
    for (let k = 0; k < p.count; k++) {
      const d = dataStart(s, pos);
      out[k] = s.slice(d, d + scanLen);
      pos = d + scanLen + 2;
    }
    return out;
  }
  const ring = p.ring!;
  let i = p.start;
  for (let k = 0; k < p.count; k++) {
    out[k] = ring[i]!;
    if (++i === ring.length) i = 0;
  }
  return out;
}

function unpack(p: Page): void {
  p.ring = linear(p);
  p.start = 0;
  p.packed = null;
  p.cache = null;
}

function pack(p: Page): void {
  const ring = p.ring!;
  let bytes = 0;
  for (let k = 0, i = p.start; k < p.count; k++) {
    bytes += ring[i]!.length + 16;
    if (++i === ring.length) i = 0;
  }
  if (bytes > PACK_MAX_BYTES) return;
  p.packed = p.cache ?? respOf(p);
  p.ring = null;
  p.start = 0;
  p.cache = null;
}

function bulk(v: string): string {
  return bulkHeader(v.length) + v + '\r\n';
}

/** `$<n>\r\n` for small lengths, pre-built (number formatting dominated range replies). */
const BULK_HEADERS: string[] = Array.from({ length: 1024 }, (_, n) => '$' + n + '\r\n');

function bulkHeader(n: number): string {
  return n < 1024 ? BULK_HEADERS[n]! : '$' + n + '\r\n';
}

/** The elements of an open page as one flat string of RESP bulks. */
function respOf(p: Page): string {
  const ring = p.ring!;
  const parts = new Array<string>(p.count);
  for (let k = 0, i = p.start; k < p.count; k++) {
    const v = ring[i]!;
    parts[k] = bulkHeader(v.length) + v + '\r\n';
    if (++i === ring.length) i = 0;
  }
  // join builds one flat string: no rope of small pieces stays behind
  return parts.join('');
}

/** Data offset of the bulk at `pos`; its length goes to scanLen. */
function dataStart(s: string, pos: number): number {
  let i = pos + 1;
  let n = 0;
  let c = s.charCodeAt(i);
  while (c !== 13) {
    n = n * 10 + (c - 48);
    c = s.charCodeAt(++i);
  }
  scanLen = n;
  return i + 2;
}

function nextBulk(s: string, pos: number): number {
  const d = dataStart(s, pos);
  return d + scanLen + 2;
}

/** Offset of the bulk `k` bulks after the one at `pos`. */
function bulkPos(s: string, pos: number, k: number): number {
  for (; k > 0; k--) pos = nextBulk(s, pos);
  return pos;
}

/** Offsets of the first `n` bulks and the end of the n-th (n + 1 numbers). */
function bulkOffsets(s: string, n: number): number[] {
  const pos = new Array<number>(n + 1);
  let at = 0;
  for (let k = 0; k < n; k++) {
    pos[k] = at;
    at = nextBulk(s, at);
  }
  pos[n] = at;
  return pos;
}

function pageHas(p: Page, v: string): boolean {
  if (p.packed !== null) {
    const s = p.packed;
    let pos = 0;
    for (let k = 0; k < p.count; k++) {
      const d = dataStart(s, pos);
      if (scanLen === v.length && s.startsWith(v, d)) return true;
      pos = d + scanLen + 2;
    }
    return false;
  }
  const ring = p.ring!;
  let i = p.start;
  for (let k = 0; k < p.count; k++) {
    if (ring[i] === v) return true;
    if (++i === ring.length) i = 0;
  }
  return false;
}
