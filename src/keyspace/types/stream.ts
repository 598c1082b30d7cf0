import { RObject } from './object.js';
import { listpackIntSize, listpackIntEncodedSize, listpackEntrySize, LP_HDR_SIZE } from './listpack-size.js';

/**
 * The stream type (src/stream.h, src/t_stream.c of Redis 7.0): entries ordered by ID, the stream
 * metadata Redis keeps (last-id, first-id, max-deleted-entry-id, entries-added) and consumer
 * groups with their pending entries lists (PEL) and consumers — everything
 * RDB_TYPE_STREAM_LISTPACKS_2 stores.
 *
 * Redis keeps entries in listpacks inside a radix tree keyed by 128-bit big-endian IDs; Amber
 * keeps each entry as a flat [field, value, ...] array in a {@link SortedKeyMap} keyed by the same
 * 16-byte big-endian key (a latin1 string), so that string order is ID order and lookup by ID is
 * O(log n). The RDB encoder rebuilds Redis's listpack nodes from the entries.
 */

/** A stream entry ID: two unsigned 64-bit numbers. */
export interface StreamID {
  ms: bigint;
  seq: bigint;
}

const U64_MAX = 2n ** 64n - 1n;

/** The minimum ID 0-0. */
export const STREAM_ID_MIN: Readonly<StreamID> = Object.freeze({ ms: 0n, seq: 0n });
/** The maximum ID 18446744073709551615-18446744073709551615. */
export const STREAM_ID_MAX: Readonly<StreamID> = Object.freeze({ ms: U64_MAX, seq: U64_MAX });

/** Compares two IDs (streamCompareID): -1, 0 or 1. */
export function compareStreamId(a: StreamID, b: StreamID): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** `ms-seq`, as replies show an ID. */
export function formatStreamId(id: StreamID): string {
  return `${id.ms}-${id.seq}`;
}

/**
 * The 16-byte big-endian key of an ID (streamEncodeID), as a latin1 string: comparing keys as
 * strings orders them as IDs.
 */
export function streamIdKey(id: StreamID): string {
  return u64Key(id.ms) + u64Key(id.seq);
}

function u64Key(v: bigint): string {
  // two 32-bit halves avoid eight BigInt shifts
  const hi = Number(v >> 32n);
  const lo = Number(v & 0xffffffffn);
  return String.fromCharCode(hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff,
    lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
}

/** The ID of a 16-byte key made by {@link streamIdKey} (streamDecodeID). */
export function streamIdFromKey(k: string): StreamID {
  return { ms: keyU64(k, 0), seq: keyU64(k, 8) };
}

function keyU64(k: string, o: number): bigint {
  const hi = ((k.charCodeAt(o) << 24) | (k.charCodeAt(o + 1) << 16) | (k.charCodeAt(o + 2) << 8) | k.charCodeAt(o + 3)) >>> 0;
  const lo = ((k.charCodeAt(o + 4) << 24) | (k.charCodeAt(o + 5) << 16) | (k.charCodeAt(o + 6) << 8) | k.charCodeAt(o + 7)) >>> 0;
  if (hi < 0x200000) return BigInt(hi * 0x100000000 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** `ms-seq` of a 16-byte key. */
export function formatStreamKey(k: string): string {
  return formatStreamId(streamIdFromKey(k));
}

/**
 * An ordered map from string keys to values, with O(log n) lookup, insertion and deletion
 * amortized over chunks of at most {@link CHUNK_MAX} keys, and ordered iteration from any key
 * in both directions. Used for stream entries and PELs (Redis's rax), keyed by 16-byte IDs.
 */
export class SortedKeyMap<V> {
  private keys: string[][] = [];
  private vals: V[][] = [];
  size = 0;

  /** Index of the chunk that holds or would hold `k`: the first whose last key is >= k. */
  private chunkFor(k: string): number {
    const keys = this.keys;
    let lo = 0;
    let hi = keys.length - 1;
    if (hi < 0) return -1;
    const lastChunk = keys[hi]!;
    if (k > lastChunk[lastChunk.length - 1]!) return hi; // beyond the end: the last chunk
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ck = keys[mid]!;
      if (ck[ck.length - 1]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of the first key >= k inside chunk c. */
  private static lowerBound(arr: string[], k: string): number {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(k: string): V | undefined {
    const c = this.chunkFor(k);
    if (c < 0) return undefined;
    const arr = this.keys[c]!;
    const i = SortedKeyMap.lowerBound(arr, k);
    return i < arr.length && arr[i] === k ? this.vals[c]![i] : undefined;
  }

  has(k: string): boolean {
    return this.get(k) !== undefined;
  }

  /** Inserts or replaces; returns true when the key is new. */
  set(k: string, v: V): boolean {
    const keys = this.keys;
    if (keys.length === 0) {
      keys.push([k]);
      this.vals.push([v]);
      this.size++;
      return true;
    }
    const lastC = keys.length - 1;
    const last = keys[lastC]!;
    if (k > last[last.length - 1]!) {
      // append: the common case for stream entries
      if (last.length >= CHUNK_MAX) {
        keys.push([k]);
        this.vals.push([v]);
      } else {
        last.push(k);
        this.vals[lastC]!.push(v);
      }
      this.size++;
      return true;
    }
    const c = this.chunkFor(k);
    const arr = keys[c]!;
    const i = SortedKeyMap.lowerBound(arr, k);
    if (i < arr.length && arr[i] === k) {
      this.vals[c]![i] = v;
      return false;
    }
    arr.splice(i, 0, k);
    this.vals[c]!.splice(i, 0, v);
    this.size++;
    if (arr.length > CHUNK_MAX) {
      const half = arr.length >>> 1;
      keys.splice(c + 1, 0, arr.splice(half));
      this.vals.splice(c + 1, 0, this.vals[c]!.splice(half));
    }
    return true;
  }

  /** Removes a key; returns true when it existed. */
  delete(k: string): boolean {
    const c = this.chunkFor(k);
    if (c < 0) return false;
    const arr = this.keys[c]!;
    const i = SortedKeyMap.lowerBound(arr, k);
    if (i >= arr.length || arr[i] !== k) return false;
    if (i === 0 && arr.length > 1 && c === 0) {
      arr.shift();
      this.vals[c]!.shift();
    } else {
      arr.splice(i, 1);
      this.vals[c]!.splice(i, 1);
    }
    this.size--;
    if (arr.length === 0) {
      this.keys.splice(c, 1);
      this.vals.splice(c, 1);
    }
    return true;
  }

  clear(): void {
    this.keys = [];
    this.vals = [];
    this.size = 0;
  }

  /**
   * Removes the `n` smallest keys (all of them when n >= size) in O(n + chunks): stream trimming
   * always removes from the head. Returns how many were removed.
   */
  deleteFirst(n: number): number {
    const removed = Math.min(n, this.size);
    let left = removed;
    while (left > 0) {
      const arr = this.keys[0]!;
      if (arr.length <= left) {
        left -= arr.length;
        this.keys.shift();
        this.vals.shift();
      } else {
        arr.splice(0, left);
        this.vals[0]!.splice(0, left);
        left = 0;
      }
    }
    this.size -= removed;
    return removed;
  }

  /** Smallest key, or undefined when empty. */
  firstKey(): string | undefined {
    return this.keys.length ? this.keys[0]![0] : undefined;
  }

  /** Largest key, or undefined when empty. */
  lastKey(): string | undefined {
    if (!this.keys.length) return undefined;
    const arr = this.keys[this.keys.length - 1]!;
    return arr[arr.length - 1];
  }

  /**
   * Entries with from <= key <= to in ascending order (either bound may be omitted), or in
   * descending order when `reverse`. The map must not change during the iteration.
   */
  *range(from?: string, to?: string, reverse = false): IterableIterator<[string, V]> {
    const keys = this.keys;
    const vals = this.vals;
    if (keys.length === 0) return;
    if (!reverse) {
      let c = 0;
      let i = 0;
      if (from !== undefined) {
        c = this.chunkFor(from);
        i = SortedKeyMap.lowerBound(keys[c]!, from);
      }
      for (; c < keys.length; c++, i = 0) {
        const ka = keys[c]!;
        const va = vals[c]!;
        for (; i < ka.length; i++) {
          const k = ka[i]!;
          if (to !== undefined && k > to) return;
          yield [k, va[i]!];
        }
      }
    } else {
      let c = keys.length - 1;
      let i = keys[c]!.length - 1;
      if (to !== undefined) {
        c = this.chunkFor(to);
        const ka = keys[c]!;
        i = SortedKeyMap.lowerBound(ka, to);
        if (i >= ka.length || ka[i]! > to) i--;
        if (i < 0) {
          c--;
          if (c < 0) return;
          i = keys[c]!.length - 1;
        }
      }
      for (; c >= 0; c--, i = c >= 0 ? keys[c]!.length - 1 : 0) {
        const ka = keys[c]!;
        const va = vals[c]!;
        for (; i >= 0; i--) {
          const k = ka[i]!;
          if (from !== undefined && k < from) return;
          yield [k, va[i]!];
        }
      }
    }
  }

  /**
   * Appends to `keysOut` / `valsOut` the entries with from <= key <= to, ascending, or descending
   * when `reverse`, at most `limit` of them (0: no limit); returns how many. The same walk as
   * {@link range} without an iterator object per entry, for range replies.
   */
  collect(from: string, to: string, reverse: boolean, limit: number, keysOut: string[], valsOut: V[]): number {
    const keys = this.keys;
    const vals = this.vals;
    if (keys.length === 0 || from > to) return 0;
    let n = 0;
    if (!reverse) {
      let c = this.chunkFor(from);
      let i = SortedKeyMap.lowerBound(keys[c]!, from);
      for (; c < keys.length; c++, i = 0) {
        const ka = keys[c]!;
        const va = vals[c]!;
        for (; i < ka.length; i++) {
          const k = ka[i]!;
          if (k > to) return n;
          keysOut.push(k);
          valsOut.push(va[i]!);
          if (++n === limit) return n;
        }
      }
    } else {
      let c = this.chunkFor(to);
      let ka = keys[c]!;
      let i = SortedKeyMap.lowerBound(ka, to);
      if (i >= ka.length || ka[i]! > to) i--;
      for (;;) {
        if (i < 0) {
          if (--c < 0) return n;
          ka = keys[c]!;
          i = ka.length - 1;
        }
        const va = vals[c]!;
        for (; i >= 0; i--) {
          const k = ka[i]!;
          if (k < from) return n;
          keysOut.push(k);
          valsOut.push(va[i]!);
          if (++n === limit) return n;
        }
      }
    }
    return n;
  }

  /** All entries in ascending order. */
  entries(): IterableIterator<[string, V]> {
    return this.range();
  }
}

/** Keys per chunk of a {@link SortedKeyMap} before it splits. */
const CHUNK_MAX = 256;

/** A pending entry (streamNACK): delivered to a consumer, not yet acknowledged. */
export interface StreamNACK {
  /** last delivery time, Unix ms */
  deliveryTime: number;
  /** number of deliveries */
  deliveryCount: number;
  /** the consumer owning it; null only transiently while an RDB loads */
  consumer: StreamConsumer | null;
}

/** A consumer of a group (streamConsumer). */
export class StreamConsumer {
  readonly name: string;
  /** last time it was seen (read or claimed), Unix ms */
  seenTime: number;
  /**
   * last time it successfully read or claimed, Unix ms, -1 when never. Redis 7.0 keeps no such
   * field (7.2 does); here it starts as the seen-time, and RDB 10 does not store it.
   */
  activeTime: number;
  /** its pending entries, by 16-byte ID key, sharing the NACKs of the group PEL */
  readonly pel = new SortedKeyMap<StreamNACK>();

  constructor(name: string, seenTime: number, activeTime = -1) {
    this.name = name;
    this.seenTime = seenTime;
    this.activeTime = activeTime;
  }
}

/** entries_read of a group whose position cannot be computed (SCG_INVALID_ENTRIES_READ). */
export const SCG_INVALID_ENTRIES_READ = -1;

/** A consumer group (streamCG). */
export class StreamCG {
  readonly name: string;
  /** last delivered ID */
  lastId: StreamID;
  /** logical read counter, or {@link SCG_INVALID_ENTRIES_READ} */
  entriesRead: number;
  /** the group PEL, by 16-byte ID key */
  readonly pel = new SortedKeyMap<StreamNACK>();
  /** consumers by name; listed in name order (Redis's rax) with {@link sortedConsumers} */
  readonly consumers = new Map<string, StreamConsumer>();

  constructor(name: string, lastId: StreamID, entriesRead: number) {
    this.name = name;
    this.lastId = lastId;
    this.entriesRead = entriesRead;
  }

  /** Creates a consumer (streamCreateConsumer); null when the name is taken. */
  createConsumer(name: string, now: number): StreamConsumer | null {
    if (this.consumers.has(name)) return null;
    const c = new StreamConsumer(name, now, -1);
    this.consumers.set(name, c);
    return c;
  }

  /** Deletes a consumer and its pending entries from the group PEL (streamDelConsumer). */
  deleteConsumer(c: StreamConsumer): void {
    for (const [k] of c.pel.entries()) this.pel.delete(k);
    c.pel.clear();
    this.consumers.delete(c.name);
  }

  /** Consumers in the byte order of their names, as Redis's rax iterates them. */
  sortedConsumers(): StreamConsumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/**
 * A stream value. `entries` maps the 16-byte key of each ID ({@link streamIdKey}) to its flat
 * [field, value, ...] list. The metadata fields follow struct stream of Redis 7.0.
 */
export class Stream extends RObject {
  readonly type = 'stream' as const;
  readonly entries = new SortedKeyMap<string[]>();
  /** ID of the last entry ever added (XADD), even if since deleted */
  lastId: StreamID = { ms: 0n, seq: 0n };
  /** ID of the first entry (0-0 when empty) */
  firstId: StreamID = { ms: 0n, seq: 0n };
  /** largest ID ever deleted (tombstone), 0-0 when none */
  maxDeletedEntryId: StreamID = { ms: 0n, seq: 0n };
  /** count of all entries ever added */
  entriesAdded = 0;
  /** consumer groups by name; listed in name order with {@link sortedGroups} */
  readonly groups = new Map<string, StreamCG>();
  /**
   * Redis's listpack node layout of the entries ({@link StreamLayout}), kept by the stream
   * commands; null until first needed (then derived from the entries, see ensureStreamLayout).
   */
  layout: StreamLayout | null = null;

  /** Number of entries (XLEN). */
  get length(): number {
    return this.entries.size;
  }

  encoding(): string {
    return 'stream';
  }

  /** Groups in the byte order of their names, as Redis's rax iterates them. */
  sortedGroups(): StreamCG[] {
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Entry fields of an ID, or undefined. */
  getEntry(id: StreamID): string[] | undefined {
    return this.entries.get(streamIdKey(id));
  }

  /**
   * Appends an entry whose ID is greater than every present one (the storage part of
   * streamAppendItem): stores it, sets last-id, counts it in entries-added, and sets first-id
   * when the stream was empty. The caller checks the ID against last-id.
   */
  appendEntry(id: StreamID, fields: string[]): void {
    this.entries.set(streamIdKey(id), fields);
    this.lastId = { ms: id.ms, seq: id.seq };
    this.entriesAdded++;
    if (this.entries.size === 1) this.firstId = { ms: id.ms, seq: id.seq };
  }

  /**
   * Removes one entry (streamDeleteItem); true when it existed. The metadata (first-id,
   * max-deleted-entry-id) is the caller's: XDEL and XTRIM update it differently.
   */
  removeEntry(id: StreamID): boolean {
    return this.entries.delete(streamIdKey(id));
  }

  /** Creates a consumer group (streamCreateCG); null when the name is taken. */
  createGroup(name: string, lastId: StreamID, entriesRead: number): StreamCG | null {
    if (this.groups.has(name)) return null;
    const g = new StreamCG(name, { ms: lastId.ms, seq: lastId.seq }, entriesRead);
    this.groups.set(name, g);
    return g;
  }

  /**
   * streamEstimateDistanceFromFirstEverEntry (t_stream.c): the logical position (entries-read)
   * of `id`, or {@link SCG_INVALID_ENTRIES_READ} when it cannot be known.
   */
  estimateDistanceFromFirstEverEntry(id: StreamID): number {
    if (!this.entriesAdded) return 0;
    if (!this.length && compareStreamId(id, this.lastId) < 1) return this.entriesAdded;
    const cmpLast = compareStreamId(id, this.lastId);
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return SCG_INVALID_ENTRIES_READ;
    const cmpFirst = compareStreamId(id, this.firstId);
    const noTombstone = this.maxDeletedEntryId.ms === 0n && this.maxDeletedEntryId.seq === 0n;
    if (noTombstone || compareStreamId(this.maxDeletedEntryId, this.firstId) < 0) {
      if (cmpFirst < 0) return this.entriesAdded - this.length;
      if (cmpFirst === 0) return this.entriesAdded - this.length + 1;
    }
    return SCG_INVALID_ENTRIES_READ;
  }

  /** Recomputes {@link firstId} from the entries (streamGetEdgeID(s, 1, 1, ...)). */
  updateFirstId(): void {
    const k = this.entries.firstKey();
    this.firstId = k === undefined ? { ms: 0n, seq: 0n } : streamIdFromKey(k);
  }

  clone(): Stream {
    const s = new Stream();
    for (const [k, v] of this.entries.entries()) s.entries.set(k, v.slice());
    s.lastId = { ...this.lastId };
    s.firstId = { ...this.firstId };
    s.maxDeletedEntryId = { ...this.maxDeletedEntryId };
    s.entriesAdded = this.entriesAdded;
    // COPY duplicates Redis's listpacks as they are, tombstones included (streamDup)
    if (this.layout !== null) s.layout = this.layout.clone();
    for (const g of this.groups.values()) {
      const ng = new StreamCG(g.name, { ...g.lastId }, g.entriesRead);
      const copies = new Map<StreamNACK, StreamNACK>();
      for (const [k, n] of g.pel.entries()) {
        const nn: StreamNACK = { deliveryTime: n.deliveryTime, deliveryCount: n.deliveryCount, consumer: null };
        copies.set(n, nn);
        ng.pel.set(k, nn);
      }
      for (const c of g.consumers.values()) {
        const nc = new StreamConsumer(c.name, c.seenTime, c.activeTime);
        for (const [k, n] of c.pel.entries()) {
          const nn = copies.get(n);
          if (nn) {
            nn.consumer = nc;
            nc.pel.set(k, nn);
          }
        }
        ng.consumers.set(nc.name, nc);
      }
      s.groups.set(ng.name, ng);
    }
    return s;
  }
}

// ---- listpack node layout ---------------------------------------------------------------------

/**
 * One listpack node of a stream as Redis 7.0's streamAppendItem would have built it (t_stream.c):
 * the rax key, the master entry, the live and deleted counts and the listpack's size in bytes.
 * Amber keeps the entries themselves in {@link Stream.entries}; a node covers the entries with
 * keys from its {@link masterKey} up to the next node's master key.
 */
export interface StreamNode {
  /** 16-byte key of the master ID: the first ID put in the node (its rax key) */
  masterKey: string;
  masterMs: bigint;
  masterSeq: bigint;
  /** field names of the master entry */
  masterFields: string[];
  /** live entries (the listpack's count field) */
  count: number;
  /** entries flagged deleted, still in the listpack (the deleted field) */
  deleted: number;
  /** bytes of num-fields, the master field names and the master entry's 0 terminator */
  masterBytes: number;
  /** bytes of the entries appended after the master entry, deleted ones included */
  entriesBytes: number;
  /** 16-byte key of the last entry in the listpack, deleted or not (lpGetEdgeStreamID) */
  lastKey: string;
  /**
   * The entries flagged deleted that the listpack still holds, as [key, fields] in key order
   * ({@link deleted} of them; null when none): Redis keeps a deleted entry's bytes until its
   * whole node goes, and they are part of the node's DUMP and RDB form.
   */
  tombstones: Array<[string, string[]]> | null;
}

/**
 * Flags entry `key` (with its `fields`) deleted in `node`, as streamIteratorRemoveEntry and
 * streamTrim do inside a listpack: a live entry becomes a tombstone. The caller has removed it
 * from the stream's entries and checked that the node keeps another live entry.
 */
export function markDeleted(node: StreamNode, key: string, fields: string[]): void {
  node.count--;
  node.deleted++;
  let t = node.tombstones;
  if (t === null) t = node.tombstones = [];
  // XDEL deletes in any order: insert in key order (usually at the end)
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]![0] < key) lo = mid + 1;
    else hi = mid;
  }
  if (lo === t.length) t.push([key, fields]);
  else t.splice(lo, 0, [key, fields]);
}

/** lpBytes of a node: header, count, deleted, master part, entries, terminator. */
export function streamNodeBytes(n: StreamNode): number {
  return LP_HDR_SIZE + listpackIntSize(n.count) + listpackIntSize(n.deleted) + n.masterBytes + n.entriesBytes + 1;
}

/**
 * The listpack node layout of a stream, emulated so that everything that depends on Redis's node
 * boundaries matches it: approximate trimming (`MAXLEN ~`, `MINID ~` remove whole nodes only),
 * the node-full rule (stream-node-max-bytes, stream-node-max-entries, counting tombstones), and
 * XINFO STREAM's radix-tree-keys and radix-tree-nodes.
 */
export class StreamLayout {
  /** nodes in key order */
  nodes: StreamNode[] = [];
  /** sum of the nodes' live counts; differs from entries.size if entries changed behind it */
  live = 0;

  clone(): StreamLayout {
    const l = new StreamLayout();
    l.nodes = this.nodes.map((n) => ({ ...n, tombstones: n.tombstones === null ? null : n.tombstones.slice() }));
    l.live = this.live;
    return l;
  }

  /** Index of the node holding `key` (the last whose master key is <= key), or -1. */
  nodeIndexOf(key: string): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (nodes[mid]!.masterKey <= key) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Appends an entry as streamAppendItem: starts a new node when the tail's listpack plus the
   * new fields' bytes reach `maxBytes` (0: 1 GB) or its live plus deleted entries reach
   * `maxEntries` (0: no limit). When the entry has the master entry's field names, its field
   * strings are replaced by the master's (the SAMEFIELDS flag, and shared memory here).
   */
  append(key: string, id: StreamID, fields: string[], maxBytes: number, maxEntries: number): void {
    const nodes = this.nodes;
    let node = nodes.length > 0 ? nodes[nodes.length - 1]! : null;
    if (node !== null) {
      let totelelen = 0;
      for (let i = 0; i < fields.length; i++) totelelen += fields[i]!.length;
      const nodeMax = maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE ? STREAM_LISTPACK_MAX_SIZE : maxBytes;
      if (streamNodeBytes(node) + totelelen >= nodeMax) node = null;
      else if (maxEntries !== 0 && node.count + node.deleted >= maxEntries) node = null;
    }
    const nf = fields.length >> 1;
    let same: boolean;
    if (node === null) {
      const mf: string[] = new Array<string>(nf);
      let mb = listpackIntSize(nf) + 2;
      for (let i = 0; i < nf; i++) {
        mf[i] = fields[2 * i]!;
        mb += listpackEntrySize(mf[i]!);
      }
      node = {
        masterKey: key, masterMs: id.ms, masterSeq: id.seq, masterFields: mf, count: 0, deleted: 0,
        masterBytes: mb, entriesBytes: 0, lastKey: key, tombstones: null,
      };
      nodes.push(node);
      same = true;
    } else {
      const mf = node.masterFields;
      same = mf.length === nf;
      for (let i = 0; same && i < nf; i++) if (mf[i] !== fields[2 * i]) same = false;
    }
    let bytes = 1 + lpDeltaSize(id.ms, node.masterMs) + lpDeltaSize(id.seq, node.masterSeq);
    if (same) {
      const mf = node.masterFields;
      for (let i = 0; i < nf; i++) {
        fields[2 * i] = mf[i]!;
        bytes += listpackEntrySize(fields[2 * i + 1]!);
      }
      bytes += listpackIntSize(nf + 3);
    } else {
      bytes += listpackIntSize(nf);
      for (let i = 0; i < fields.length; i++) bytes += listpackEntrySize(fields[i]!);
      bytes += listpackIntSize(nf + 3 + nf + 1);
    }
    node.entriesBytes += bytes;
    node.count++;
    node.lastKey = key;
    this.live++;
  }

  /**
   * Flags the entry `key` deleted (streamIteratorRemoveEntry): it stays in its node as a
   * tombstone with its `fields` ({@link markDeleted}); a node whose last live entry goes is
   * removed, tombstones and all. The entry must exist.
   */
  remove(key: string, fields: string[]): void {
    const i = this.nodeIndexOf(key);
    if (i < 0) return;
    const node = this.nodes[i]!;
    if (node.count === 1) this.nodes.splice(i, 1);
    else markDeleted(node, key, fields);
    this.live--;
  }

  /**
   * XINFO STREAM's radix-tree-nodes: the node count of the rax holding the nodes' master keys
   * (rax->numnodes). A rax's shape is canonical for a set of keys: one node per branching point,
   * one per run of single-child characters (compressed), one per key.
   */
  raxNodes(): number {
    const keys = this.nodes.map((n) => n.masterKey);
    if (keys.length === 0) return 1;
    return raxCount(keys, 0, keys.length, 0);
  }
}

/** Nodes of a rax built from sorted 16-byte keys[a..b) sharing their first `d` bytes, from depth d. */
function raxCount(keys: string[], a: number, b: number, d: number): number {
  if (d === 16) return 1;
  if (b - a === 1) return 2;
  // longest common prefix of the range: that of its first and last keys
  const first = keys[a]!;
  const last = keys[b - 1]!;
  let l = d;
  while (l < 16 && first.charCodeAt(l) === last.charCodeAt(l)) l++;
  if (l > d) return 1 + raxCount(keys, a, b, l);
  // a branching node at depth d, one child per byte value
  let n = 1;
  let i = a;
  while (i < b) {
    const ch = keys[i]!.charCodeAt(d);
    let j = i + 1;
    while (j < b && keys[j]!.charCodeAt(d) === ch) j++;
    n += raxCount(keys, i, j, d + 1);
    i = j;
  }
  return n;
}

/** STREAM_LISTPACK_MAX_SIZE (t_stream.c): the cap on a node's bytes whatever the config says. */
export const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

/**
 * Rebuilds `s.layout` from its entries when it has none or it went out of step with them (the
 * stream came from an RDB file, RESTORE, or another path that filled the entries directly): the
 * entries are appended in order as streamAppendItem would, so no node has tombstones.
 */
export function ensureStreamLayout(s: Stream, maxBytes: number, maxEntries: number): StreamLayout {
  const cur = s.layout;
  if (cur !== null && cur.live === s.entries.size) return cur;
  const l = new StreamLayout();
  for (const [k, fields] of s.entries.entries()) l.append(k, streamIdFromKey(k), fields, maxBytes, maxEntries);
  s.layout = l;
  return l;
}

/** Bytes of the int64 element `a - b` (uint64 difference read as int64, as lpAppendInteger gets it). */
function lpDeltaSize(a: bigint, b: bigint): number {
  return listpackIntEncodedSize(BigInt.asIntN(64, a - b)) + 1;
}
