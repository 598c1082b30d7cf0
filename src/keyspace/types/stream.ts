import { RObject } from './object.js';

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
