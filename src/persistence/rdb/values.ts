/**
 * The bridge between RDB encodings and Amber's value types: building values from decoded
 * elements (with the encoding Redis 7.0 would pick after rdbLoadObject) and reading values for
 * the encoder (which RDB type to write, and the elements in the order Redis writes them).
 */
import type { Config } from '../../config/config.js';
import type { Value, RObject } from '../../keyspace/types/object.js';
import { Hash } from '../../keyspace/types/hash.js';
import { ZSet } from '../../keyspace/types/zset.js';
import { RedisSet } from '../../keyspace/types/set.js';
import { Stream } from '../../keyspace/types/stream.js';
import { ListObject } from '../../keyspace/types/list.js';

/**
 * The encoding thresholds that decide how a loaded value is held and how the encoder splits
 * lists and streams: the *-max-listpack-*, set-max-intset-entries, list-max-listpack-size and
 * stream-node-max-* directives.
 */
export interface TypeLimits {
  hashEntries: number;
  hashValue: number;
  zsetEntries: number;
  zsetValue: number;
  setIntsetEntries: number;
  /** list-max-listpack-size: > 0 entries per node, < 0 a size class (-2 = 8 KB) */
  listFill: number;
  /** list-compress-depth: nodes this far from both ends stay plain, inner ones are LZF blobs */
  listCompressDepth: number;
  streamNodeMaxBytes: number;
  streamNodeMaxEntries: number;
}

/** Redis 7.0's defaults. */
export const DEFAULT_LIMITS: Readonly<TypeLimits> = Object.freeze({
  hashEntries: 512,
  hashValue: 64,
  zsetEntries: 128,
  zsetValue: 64,
  setIntsetEntries: 512,
  listFill: -2,
  listCompressDepth: 0,
  streamNodeMaxBytes: 4096,
  streamNodeMaxEntries: 100,
});

/** Reads the limits from the configuration; a directive not (yet) registered keeps its default. */
export function limitsFromConfig(config: Config): TypeLimits {
  const get = (name: string, dflt: number): number => {
    if (config.find(name) === undefined) return dflt;
    const v = config.get<number>(name);
    return typeof v === 'number' ? v : dflt;
  };
  return {
    hashEntries: get('hash-max-listpack-entries', DEFAULT_LIMITS.hashEntries),
    hashValue: get('hash-max-listpack-value', DEFAULT_LIMITS.hashValue),
    zsetEntries: get('zset-max-listpack-entries', DEFAULT_LIMITS.zsetEntries),
    zsetValue: get('zset-max-listpack-value', DEFAULT_LIMITS.zsetValue),
    setIntsetEntries: get('set-max-intset-entries', DEFAULT_LIMITS.setIntsetEntries),
    listFill: get('list-max-listpack-size', DEFAULT_LIMITS.listFill),
    listCompressDepth: get('list-compress-depth', DEFAULT_LIMITS.listCompressDepth),
    streamNodeMaxBytes: get('stream-node-max-bytes', DEFAULT_LIMITS.streamNodeMaxBytes),
    streamNodeMaxEntries: get('stream-node-max-entries', DEFAULT_LIMITS.streamNodeMaxEntries),
  };
}

// ---- building values (decoder side) -------------------------------------------------------

/** A list of `items` (head first). */
export function buildList(items: string[]): RObject {
  return ListObject.from(items);
}

/**
 * A set of `members` as rdbLoadObject builds RDB_TYPE_SET / RDB_TYPE_SET_INTSET: an intset while
 * the members are integers and no more than set-max-intset-entries, else a hashtable.
 * @returns the set, or null when a member is duplicated
 */
export function buildSet(members: string[], limits: TypeLimits): RedisSet | null {
  const max = limits.setIntsetEntries >= 1 << 30 ? 1 << 30 : limits.setIntsetEntries;
  const s = new RedisSet(members.length <= max);
  for (let i = 0; i < members.length; i++) {
    if (!s.add(members[i]!, limits.setIntsetEntries)) return null;
  }
  return s;
}

/**
 * A hash from a flat [field, value, ...] list. `from` tells which RDB type it came from, since
 * Redis decides the encoding differently for each:
 * - 'hashtable' (RDB_TYPE_HASH): listpack unless there are more than hash-max-listpack-entries
 *   pairs or a field or value is longer than hash-max-listpack-value;
 * - 'listpack' (listpack and ziplist types): listpack unless there are too many pairs;
 * - 'zipmap': listpack unless too many pairs or a too long field or value.
 * @returns the hash, or null when a field is duplicated
 */
export function buildHash(flat: string[], from: 'hashtable' | 'listpack' | 'zipmap', limits: TypeLimits): Hash | null {
  const n = flat.length >> 1;
  let big = n > limits.hashEntries;
  if (!big && from !== 'listpack') {
    for (let i = 0; i < flat.length; i++) {
      if (flat[i]!.length > limits.hashValue) {
        big = true;
        break;
      }
    }
  }
  const seen = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) {
    const f = flat[i]!;
    if (seen.has(f)) return null;
    seen.add(f);
  }
  return Hash.fromPairs(flat, !big);
}

/**
 * A sorted set. `from`: 'skiplist' (RDB_TYPE_ZSET/ZSET_2: listpack when small enough in count
 * and member length) or 'listpack' (listpack and ziplist types: skiplist only when too many).
 * @returns the zset, or null when a member is duplicated
 */
export function buildZSet(members: string[], scores: number[], from: 'skiplist' | 'listpack', limits: TypeLimits): ZSet | null {
  const n = members.length;
  const z = new ZSet(false);
  for (let i = 0; i < n; i++) {
    const m = members[i]!;
    if (z.score(m) !== undefined) return null;
    z.insertNew(scores[i]!, m);
  }
  if (from === 'listpack') {
    if (n <= limits.zsetEntries) z.convertToListpack();
  } else {
    z.convertToListpackIfFits({ entries: limits.zsetEntries, value: limits.zsetValue });
  }
  return z;
}

// ---- reading values (encoder side) ---------------------------------------------------------

/** The RDB type of a value and how to read it, as rdbSaveObjectType decides. */
export type ValueKind =
  | { kind: 'string'; value: string }
  | { kind: 'list'; items: Iterable<string>; length: number }
  | { kind: 'set-intset'; values: bigint[] }
  | { kind: 'set'; members: Iterable<string>; size: number }
  | { kind: 'zset-listpack'; zset: ZSet }
  | { kind: 'zset'; zset: ZSet }
  | { kind: 'hash-listpack'; pairs: Iterable<[string, string]>; size: number }
  | { kind: 'hash'; pairs: Iterable<[string, string]>; size: number }
  | { kind: 'stream'; stream: Stream };

/** Classifies a value for the encoder. */
export function valueKind(v: Value): ValueKind {
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (v instanceof ListObject) return { kind: 'list', items: v, length: v.length };
  if (v instanceof RedisSet) {
    if (v.isIntset()) return { kind: 'set-intset', values: v.intsetValues() };
    return { kind: 'set', members: v.members(), size: v.size };
  }
  if (v instanceof ZSet) return v.listpack ? { kind: 'zset-listpack', zset: v } : { kind: 'zset', zset: v };
  if (v instanceof Hash) {
    return v.isListpack() ? { kind: 'hash-listpack', pairs: v.pairs(), size: v.size } : { kind: 'hash', pairs: v.pairs(), size: v.size };
  }
  if (v instanceof Stream) return { kind: 'stream', stream: v };
  throw new Error(`RDB encoder: unknown value type ${(v as RObject).type}`);
}
