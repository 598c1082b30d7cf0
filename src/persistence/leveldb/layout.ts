/**
 * The LevelDB key layout of Amber's write-through engine (DESIGN.md "The LevelDB engine"), after
 * Kvrocks rather than RedisLV's flat one: a metadata record per key plus versioned subkeys, so that
 * DEL, EXPIRE, PERSIST, RENAME, MOVE, SWAPDB and FLUSHDB write O(1) records and one field of a big
 * collection is one record.
 *
 * Records, by the first byte of the LevelDB key (all integers big-endian unless said otherwise):
 *
 * | key                                   | value                                               |
 * |---------------------------------------|-----------------------------------------------------|
 * | `I`                                   | `amber-leveldb <format>`: written last when a store is created or imported (its absence in a non-empty store means an unfinished import) |
 * | `C`                                   | counters: next version (u64), next namespace (u64)  |
 * | `D` varint(db)                        | varint(namespace): the namespace holding db `db`'s keys |
 * | `M` varint(ns) key                    | metadata (below); the key bytes run to the end, so key length is unlimited |
 * | `S` u64(version) `h` field            | hash field value                                    |
 * | `S` u64(version) `s` member           | empty: set member                                   |
 * | `S` u64(version) `z` member           | f64 score: zset member                              |
 * | `S` u64(version) `i` score(8) member  | empty: zset score index, {@link encodeScore} order  |
 * | `S` u64(version) `l` u64(position)    | list element; positions are consecutive from the list's head position |
 * | `G` u64(version)                      | empty: a version whose subkeys wait for reclaim     |
 * | `N` varint(ns)                        | empty: a namespace whose metadata waits for reclaim |
 *
 * Metadata value: type (u8: 0 string, 1 list, 2 set, 3 zset, 4 hash, 5 stream), flags (u8: bit 0
 * = has an expire time), the expire time as an f64 of Unix ms when flagged, then
 * - string: the value bytes;
 * - stream: the value in RDB encoding (type byte then body, as in a DUMP payload without its
 *   trailer): streams are stored as one blob per key, rewritten whole when they change;
 * - list, set, zset, hash: version (u64), size (u64), and for a list its head position (u64).
 *
 * A version is a store-wide counter value, never reused, naming one collection value's subkeys;
 * the subkeys do not contain the key name, so RENAME, MOVE and SWAPDB move a value by rewriting
 * its metadata only. A namespace is the same for databases: SWAPDB exchanges two `D` records and
 * FLUSHDB points `D` at a fresh namespace. Dropped versions and namespaces are marked with `G`
 * and `N` records in the same atomic batch and reclaimed in the background.
 */

/** Format version written in the `I` record. */
export const FORMAT = 'amber-leveldb 1';

export const P_INFO = 0x49; // 'I'
export const P_COUNTERS = 0x43; // 'C'
export const P_DB = 0x44; // 'D'
export const P_META = 0x4d; // 'M'
export const P_SUB = 0x53; // 'S'
export const P_GARBAGE_VERSION = 0x47; // 'G'
export const P_GARBAGE_NS = 0x4e; // 'N'

export const K_HASH = 0x68; // 'h'
export const K_SET = 0x73; // 's'
export const K_ZMEMBER = 0x7a; // 'z'
export const K_ZINDEX = 0x69; // 'i'
export const K_LIST = 0x6c; // 'l'

export const T_STRING = 0;
export const T_LIST = 1;
export const T_SET = 2;
export const T_ZSET = 3;
export const T_HASH = 4;
export const T_STREAM = 5;

/** Head position of a list written anew: positions can then grow 2^47 either way. */
export const LIST_START = 2 ** 47;

const EMPTY = Buffer.alloc(0);

/** Bytes of the unsigned LEB128 varint of `v` (0 <= v < 2^53). */
export function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes the varint of `v` at `off`; returns the offset after it. */
export function writeVarint(b: Buffer, off: number, v: number): number {
  while (v >= 128) {
    b[off++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  b[off++] = v;
  return off;
}

/** Offset after the varint last read by {@link readVarint} (module state, no allocation). */
export let varintEnd = 0;

/** Reads the varint at `off` (sets {@link varintEnd}). */
export function readVarint(b: Uint8Array, off: number): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    const c = b[off++];
    if (c === undefined) throw new Error('truncated varint');
    v += (c & 127) * mul;
    if (c < 128) break;
    mul *= 128;
  }
  varintEnd = off;
  return v;
}

/** Writes `v` (0 <= v < 2^53) as 8 bytes big-endian. */
export function writeU64(b: Buffer, off: number, v: number): number {
  b.writeUInt32BE(Math.floor(v / 4294967296), off);
  b.writeUInt32BE(v >>> 0, off + 4);
  return off + 8;
}

/** Reads 8 bytes big-endian as a number (exact below 2^53). */
export function readU64(b: Uint8Array, off: number): number {
  const hi = (b[off]! * 16777216) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
  const lo = (b[off + 4]! * 16777216) + ((b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!);
  return hi * 4294967296 + lo;
}

// ---- order-preserving doubles ----------------------------------------------------------------

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes the 8-byte order-preserving encoding of a double at `off`: the IEEE-754 bits big-endian
 * with the sign bit flipped for positive numbers and every bit flipped for negative ones, so that
 * unsigned byte order equals numeric order: -inf < negative normals < negative subnormals < -0 <
 * +0 < positive subnormals < normals < +inf (-0 and +0 are distinct, -0 first). NaN is never a
 * score.
 */
export function encodeScore(b: Uint8Array, off: number, d: number): void {
  f64[0] = d;
  for (let i = 0; i < 8; i++) b[off + i] = f64b[LITTLE ? 7 - i : i]!;
  if (b[off]! & 0x80) {
    for (let i = 0; i < 8; i++) b[off + i] = ~b[off + i]! & 0xff;
  } else {
    b[off] = b[off]! | 0x80;
  }
}

/** Reads a double written by {@link encodeScore}. */
export function decodeScore(b: Uint8Array, off: number): number {
  const neg = (b[off]! & 0x80) === 0;
  for (let i = 0; i < 8; i++) {
    let c = b[off + i]!;
    if (neg) c = ~c & 0xff;
    else if (i === 0) c &= 0x7f;
    f64b[LITTLE ? 7 - i : i] = c;
  }
  return f64[0]!;
}

// ---- keys ----------------------------------------------------------------------------------

/** `M` varint(ns) key. */
export function metaKey(ns: number, key: string): Buffer {
  const vl = varintLength(ns);
  const b = Buffer.allocUnsafe(1 + vl + key.length);
  b[0] = P_META;
  writeVarint(b, 1, ns);
  b.latin1Write(key, 1 + vl);
  return b;
}

/** The first key of namespace `ns`'s metadata range and the first key past it. */
export function metaRange(ns: number): [Buffer, Buffer] {
  const vl = varintLength(ns);
  const lo = Buffer.allocUnsafe(1 + vl);
  lo[0] = P_META;
  writeVarint(lo, 1, ns);
  return [lo, prefixEnd(lo)];
}

/** The key name of a metadata key of namespace `ns` (latin1). */
export function metaKeyName(k: Buffer, ns: number): string {
  return k.latin1Slice(1 + varintLength(ns), k.length);
}

/** The namespace of a metadata key. */
export function metaKeyNs(k: Uint8Array): number {
  return readVarint(k, 1);
}

/** `S` u64(version) kind name. */
export function subKey(version: number, kind: number, name: string): Buffer {
  const b = Buffer.allocUnsafe(10 + name.length);
  b[0] = P_SUB;
  writeU64(b, 1, version);
  b[9] = kind;
  b.latin1Write(name, 10);
  return b;
}

/** `S` u64(version) `i` score member: a zset's score index entry. */
export function zindexKey(version: number, score: number, member: string): Buffer {
  const b = Buffer.allocUnsafe(18 + member.length);
  b[0] = P_SUB;
  writeU64(b, 1, version);
  b[9] = K_ZINDEX;
  encodeScore(b, 10, score);
  b.latin1Write(member, 18);
  return b;
}

/** `S` u64(version) `l` u64(position): a list element. */
export function listKey(version: number, pos: number): Buffer {
  const b = Buffer.allocUnsafe(18);
  b[0] = P_SUB;
  writeU64(b, 1, version);
  b[9] = K_LIST;
  writeU64(b, 10, pos);
  return b;
}

/** The subkey range of a version: [`S` u64(v), `S` u64(v+1)). */
export function versionRange(version: number): [Buffer, Buffer] {
  const lo = Buffer.allocUnsafe(9);
  lo[0] = P_SUB;
  writeU64(lo, 1, version);
  const hi = Buffer.allocUnsafe(9);
  hi[0] = P_SUB;
  writeU64(hi, 1, version + 1);
  return [lo, hi];
}

/** `D` varint(db). */
export function dbKey(db: number): Buffer {
  const b = Buffer.allocUnsafe(1 + varintLength(db));
  b[0] = P_DB;
  writeVarint(b, 1, db);
  return b;
}

/** varint(ns) as a `D` record value. */
export function nsValue(ns: number): Buffer {
  const b = Buffer.allocUnsafe(varintLength(ns));
  writeVarint(b, 0, ns);
  return b;
}

/** `G` u64(version). */
export function garbageVersionKey(version: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  b[0] = P_GARBAGE_VERSION;
  writeU64(b, 1, version);
  return b;
}

/** `N` varint(ns). */
export function garbageNsKey(ns: number): Buffer {
  const b = Buffer.allocUnsafe(1 + varintLength(ns));
  b[0] = P_GARBAGE_NS;
  writeVarint(b, 1, ns);
  return b;
}

/** The single-byte key of a prefix record (`I`, `C`). */
export function singleKey(prefix: number): Buffer {
  return Buffer.from([prefix]);
}

/** The counters record value. */
export function countersValue(nextVersion: number, nextNs: number): Buffer {
  const b = Buffer.allocUnsafe(16);
  writeU64(b, 0, nextVersion);
  writeU64(b, 8, nextNs);
  return b;
}

/** The first key after every key starting with `prefix` (LevelDB's byte order). */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i] = b[i]! + 1;
      return b.subarray(0, i + 1);
    }
  }
  // all 0xff: no finite upper bound; callers never build such prefixes
  return Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
}

// ---- values -------------------------------------------------------------------------------

/** Bytes of the metadata header: type, flags and the optional expire time. */
function headerLength(expireAt: number): number {
  return expireAt === -1 ? 2 : 10;
}

function writeHeader(b: Buffer, type: number, expireAt: number): number {
  b[0] = type;
  if (expireAt === -1) {
    b[1] = 0;
    return 2;
  }
  b[1] = 1;
  b.writeDoubleBE(expireAt, 2);
  return 10;
}

/** Metadata of a string key: header then the value bytes. `expireAt`: Unix ms or -1. */
export function stringMeta(value: string, expireAt: number): Buffer {
  const h = headerLength(expireAt);
  const b = Buffer.allocUnsafe(h + value.length);
  writeHeader(b, T_STRING, expireAt);
  b.latin1Write(value, h);
  return b;
}

/** Metadata of a stream key: header then its RDB encoding. */
export function blobMeta(type: number, blob: Buffer, expireAt: number): Buffer {
  const h = headerLength(expireAt);
  const b = Buffer.allocUnsafe(h + blob.length);
  writeHeader(b, type, expireAt);
  blob.copy(b, h);
  return b;
}

/** Metadata of a collection: header, version, size and (lists) head position. */
export function collectionMeta(type: number, expireAt: number, version: number, size: number, head: number): Buffer {
  const h = headerLength(expireAt);
  const b = Buffer.allocUnsafe(h + (type === T_LIST ? 24 : 16));
  writeHeader(b, type, expireAt);
  writeU64(b, h, version);
  writeU64(b, h + 8, size);
  if (type === T_LIST) writeU64(b, h + 16, head);
  return b;
}

/** A decoded metadata record. */
export interface Meta {
  type: number;
  /** Unix ms, or -1 */
  expireAt: number;
  /** offset of the string value / stream blob / version fields in the record */
  body: number;
  version: number;
  size: number;
  head: number;
}

/**
 * Decodes a metadata value.
 * @throws Error on an unknown type or a record too short for its type
 */
export function decodeMeta(b: Uint8Array): Meta {
  if (b.length < 2) throw new Error('metadata record too short');
  const type = b[0]!;
  if (type > T_STREAM) throw new Error(`unknown value type ${type} in metadata record`);
  let off = 2;
  let expireAt = -1;
  if (b[1]! & 1) {
    if (b.length < 10) throw new Error('metadata record too short for its expire time');
    expireAt = Buffer.from(b.buffer, b.byteOffset, b.length).readDoubleBE(2);
    off = 10;
  }
  const m: Meta = { type, expireAt, body: off, version: 0, size: 0, head: 0 };
  if (type !== T_STRING && type !== T_STREAM) {
    if (b.length < off + (type === T_LIST ? 24 : 16)) throw new Error('metadata record too short for a collection');
    m.version = readU64(b, off);
    m.size = readU64(b, off + 8);
    if (type === T_LIST) m.head = readU64(b, off + 16);
  }
  return m;
}

/** A double as 8 bytes big-endian (zset member records: the exact score, -0 included). */
export function scoreValue(d: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(d, 0);
  return b;
}

/** The empty value of set members, index entries and garbage marks. */
export function emptyValue(): Buffer {
  return EMPTY;
}
