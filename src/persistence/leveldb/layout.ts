/**
 * The LevelDB key layout of Amber's write-through engine (DESIGN.md "The LevelDB engine"), after
 * Kvrocks rather than RedisLV's flat one: a metadata record per key plus versioned subkeys, so that
 * DEL, EXPIRE, PERSIST, RENAME, MOVE, SWAPDB and FLUSHDB write O(1) records and one field of a big
 * collection is one record.
 *
 * Records, by the first byte of the key (integers big-endian unless said otherwise):
 *
 * | key                                   | value                                               |
 * |---------------------------------------|-----------------------------------------------------|
 * | `I`                                   | `amber-leveldb <format>`: written last when a store is created or imported (its absence in a non-empty store means an unfinished import); see {@link FORMAT} |
 * | `C`                                   | counters: next version (u64), next namespace (u64)  |
 * | `D` varint(db)                        | varint(namespace): the namespace holding db `db`'s keys |
 * | `K` varint(ns)                        | varint(keys): about how many keys namespace `ns` holds (format 2; a load hint, see below) |
 * | `M` varint(ns) order(4) key           | metadata (below); the key bytes run to the end, so key length is unlimited |
 * | `S` u64(version) `h` field            | hash field value                                    |
 * | `S` u64(version) `s` member           | empty: set member                                   |
 * | `S` u64(version) `z` member           | f64 score: zset member                              |
 * | `S` u64(version) `i` score(8) member  | empty: zset score index, {@link encodeScore} order  |
 * | `S` u64(version) `l` u64(position)    | list element; positions are consecutive from the list's head position |
 * | `G` u64(version)                      | empty: a version whose subkeys wait for reclaim     |
 * | `N` varint(ns)                        | empty: a namespace whose metadata (and `K` record) waits for reclaim |
 * | `W`                                   | decimal: the last entry of the engine's write-ahead log this store holds (wal.ts), written with every batch that holds logged records |
 * | `F`                                   | the function libraries ({@link functionsValue}): varint(count), then for each library in load order varint(length) and its code, shebang line included, as FUNCTION LOAD got it; absent when there is none |
 *
 * Metadata value: type (u8: 0 string, 1 list, 2 set, 3 zset, 4 hash, 5 stream), flags (u8: bit 0
 * = has an expire time, bit 1 = inline collection), the expire time as an f64 of Unix ms when
 * flagged, then
 * - string: the value bytes;
 * - stream: the value in RDB encoding (type byte then body, as in a DUMP payload without its
 *   trailer): streams are stored as one blob per key, rewritten whole when they change;
 * - inline list, set, zset, hash (flag bit 1, format 2): the value in RDB encoding, like a stream.
 *   A small collection is stored so (see INLINE in engine.ts: the sizes where Redis 7.0 keeps a
 *   listpack or an intset, a list of one quicklist node, at most about 8 KB): one record instead
 *   of one per element, which a load reads and decodes in one go, as an RDB load does. Every change
 *   rewrites the record (bounded by its size); a collection growing past the bounds moves to
 *   subkeys in the same batch; DEL, RENAME, MOVE and expiry touch the metadata record only;
 * - list, set, zset, hash in subkeys: version (u64), size (u64), and for a list its head position
 *   (u64).
 *
 * The `K` record of a namespace is a hint, not a count to trust: the write-through rewrites it
 * when the database's size drifted by more than 1024 + 1/16 from the value recorded (so a
 * write costs no extra record as a rule), exactly at a clean shutdown, after a load and after an
 * import. A load sizes the database from it before filling it (Database.reserve, as an RDB load
 * does from RESIZEDB), bounded by the store's size on disk. A missing `K` (a format-1 store, a
 * fresh namespace) just means no reservation.
 *
 * `order` is the key's keyspace hash (Database's hashKey) with its bits reversed (see
 * {@link keyOrder}): keys of the same
 * keyspace segment are adjacent in the store, so a load fills one segment after the other (as an
 * RDB file written in segment order does) instead of touching a random segment per key, which
 * costs a cache miss per key. It is only an ordering hint: the key name follows it whole.
 *
 * A version is a store-wide counter value, never reused, naming one collection value's subkeys;
 * the subkeys do not contain the key name, so RENAME, MOVE and SWAPDB move a value by rewriting
 * its metadata only. A namespace is the same for databases: SWAPDB exchanges two `D` records and
 * FLUSHDB points `D` at a fresh namespace. Dropped versions and namespaces are marked with `G`
 * and `N` records in the same atomic batch and reclaimed in the background.
 *
 * The `F` record is to the store what RDB_OPCODE_FUNCTION2 records are to an RDB file: the
 * whole set of libraries, rewritten (or deleted, once none is left) in the batch of the turn that
 * changed them, so FUNCTION LOAD in a MULTI with SETs commits with them. Library sets are small and
 * change rarely, so one record rewritten whole costs nothing that matters, and a load reads them
 * in one get. It needs no new {@link FORMAT}: an Amber that predates it loads the prefixes it knows
 * and leaves an unknown one alone, and such an Amber has no way to change the libraries either,
 * so the record is still exact when a newer Amber opens the store again. (A format bump would only
 * lock every store out of a downgrade, functions or not.)
 *
 * Physical form: every key and value above is a byte string, held in JS as a latin1 string (one
 * char per byte, as Amber holds keys and values) and stored in LevelDB as the UTF-8 encoding of
 * those chars (bytes 0x80-0xFF take two bytes on disk). UTF-8 preserves code point order, so
 * LevelDB's byte order is exactly the byte strings' order (the score index and list positions
 * rely on it), and classic-level reads and writes records as JS strings natively: no Buffer is
 * created per record, which makes loading several times faster.
 */

import { hashKey } from '../../keyspace/database.js';

/**
 * Format written in the `I` record of new stores. Format 1 had no `K` records and no inline
 * collections; its records are all valid in format 2, so a format-1 store is loaded as is and
 * then marked format 2 (an Amber that only knows format 1 then refuses it rather than misread
 * inline records).
 */
export const FORMAT = 'amber-leveldb 2';
/** The formats a load accepts. */
export const FORMAT_1 = 'amber-leveldb 1';
/**
 * The `I` record while a store is being created or imported (written first, synced): a store
 * found with it was Amber's and its import was cut short, so it is emptied and imported again. A
 * non-empty store without any `I` record is not Amber's, and is never emptied.
 */
export const IMPORTING = 'amber-leveldb importing';
/**
 * The `I` record of a BACKUP copy until its last record is in (backup.ts writes the real one
 * last): a copy cut short is refused when opened, never loaded with part of the data.
 */
export const BACKUP_INCOMPLETE = 'amber-leveldb incomplete backup';

export const P_INFO = 'I';
export const P_COUNTERS = 'C';
export const P_DB = 'D';
export const P_COUNT = 'K';
export const P_META = 'M';
export const P_SUB = 'S';
export const P_GARBAGE_VERSION = 'G';
export const P_GARBAGE_NS = 'N';
/** The function libraries: one record, no suffix (see {@link functionsValue}). */
export const P_FUNCTIONS = 'F';

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

/** Metadata flag: an expire time follows the flags. */
export const F_EXPIRE = 1;
/** Metadata flag: a list, set, zset or hash stored inline in RDB encoding (format 2). */
export const F_INLINE = 2;

/** Head position of a list written anew: positions can then grow 2^47 either way. */
export const LIST_START = 2 ** 47;

const fc = String.fromCharCode;

/** The unsigned LEB128 varint of `v` (0 <= v < 2^53) as a byte string. */
export function varint(v: number): string {
  let s = '';
  while (v >= 128) {
    s += fc((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  return s + fc(v);
}

/** Offset after the varint last read by {@link readVarint} (module state, no allocation). */
export let varintEnd = 0;

/** Reads the varint at `off` of byte string `s` (sets {@link varintEnd}). */
export function readVarint(s: string, off: number): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (off >= s.length) throw new Error('truncated varint');
    const c = s.charCodeAt(off++);
    v += (c & 127) * mul;
    if (c < 128) break;
    mul *= 128;
  }
  varintEnd = off;
  return v;
}

/** `v` (0 <= v < 2^53) as 8 bytes big-endian. */
export function u64(v: number): string {
  const hi = Math.floor(v / 4294967296);
  const lo = v >>> 0;
  return fc(hi >>> 24, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255);
}

/** Reads 8 bytes big-endian at `off` as a number (exact below 2^53). */
export function readU64(s: string, off: number): number {
  const hi = s.charCodeAt(off) * 16777216 + ((s.charCodeAt(off + 1) << 16) | (s.charCodeAt(off + 2) << 8) | s.charCodeAt(off + 3));
  const lo = s.charCodeAt(off + 4) * 16777216 + ((s.charCodeAt(off + 5) << 16) | (s.charCodeAt(off + 6) << 8) | s.charCodeAt(off + 7));
  return hi * 4294967296 + lo;
}

// ---- doubles -----------------------------------------------------------------------------------

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The IEEE-754 bits of `d`, big-endian, as 8 bytes (exact, -0 included). */
export function f64be(d: number): string {
  f64[0] = d;
  return LITTLE
    ? fc(f64b[7]!, f64b[6]!, f64b[5]!, f64b[4]!, f64b[3]!, f64b[2]!, f64b[1]!, f64b[0]!)
    : fc(f64b[0]!, f64b[1]!, f64b[2]!, f64b[3]!, f64b[4]!, f64b[5]!, f64b[6]!, f64b[7]!);
}

/** Reads 8 bytes written by {@link f64be}. */
export function readF64be(s: string, off: number): number {
  for (let i = 0; i < 8; i++) f64b[LITTLE ? 7 - i : i] = s.charCodeAt(off + i);
  return f64[0]!;
}

/**
 * The 8-byte order-preserving encoding of a double: the IEEE-754 bits big-endian with the sign
 * bit flipped for positive numbers and every bit flipped for negative ones, so that byte order
 * equals numeric order: -inf < negative normals < negative subnormals < -0 < +0 < positive
 * subnormals < normals < +inf (-0 and +0 are distinct, -0 first). NaN is never a score.
 */
export function encodeScore(d: number): string {
  f64[0] = d;
  const b = new Array<number>(8);
  for (let i = 0; i < 8; i++) b[i] = f64b[LITTLE ? 7 - i : i]!;
  if (b[0]! & 0x80) {
    for (let i = 0; i < 8; i++) b[i] = ~b[i]! & 0xff;
  } else {
    b[0] = b[0]! | 0x80;
  }
  return fc(b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, b[6]!, b[7]!);
}

/** Reads a double written by {@link encodeScore} at `off`. */
export function decodeScore(s: string, off: number): number {
  const neg = (s.charCodeAt(off) & 0x80) === 0;
  for (let i = 0; i < 8; i++) {
    let c = s.charCodeAt(off + i);
    if (neg) c = ~c & 0xff;
    else if (i === 0) c &= 0x7f;
    f64b[LITTLE ? 7 - i : i] = c;
  }
  return f64[0]!;
}

// ---- keys ------------------------------------------------------------------------------------

/** `M` varint(ns): the prefix of namespace `ns`'s metadata keys. */
export function metaPrefix(ns: number): string {
  return P_META + varint(ns);
}

/**
 * The 4-byte load-order prefix of a key in its metadata key (see the module comment): the low 28
 * bits of the key's hash, bit-reversed, in four 7-bit bytes. 7-bit bytes keep the record ASCII for
 * ASCII keys, which V8 decodes from UTF-8 on its fast path.
 */
export function keyOrder(key: string): string {
  let v = hashKey(key);
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  v = ((v >>> 16) | (v << 16)) >>> 0;
  return fc(v >>> 25, (v >>> 18) & 127, (v >>> 11) & 127, (v >>> 4) & 127);
}

/** `M` varint(ns) order(4) key. */
export function metaKey(ns: number, key: string): string {
  return P_META + varint(ns) + keyOrder(key) + key;
}

/** The first key of namespace `ns`'s metadata range and the first key past it. */
export function metaRange(ns: number): [string, string] {
  const lo = metaPrefix(ns);
  return [lo, prefixEnd(lo)];
}

/** The namespace of a metadata key. */
export function metaKeyNs(k: string): number {
  return readVarint(k, 1);
}

/** Offset of the key name in a metadata key of namespace `ns`. */
export function metaNameOffset(ns: number): number {
  return 1 + varint(ns).length + 4;
}

/** The key name of a metadata key of namespace `ns`. */
export function metaKeyName(k: string, ns: number): string {
  return k.slice(metaNameOffset(ns));
}

/** `S` u64(version): the prefix of a version's subkeys. */
export function subPrefix(version: number): string {
  return P_SUB + u64(version);
}

/** `S` u64(version) kind name. */
export function subKey(version: number, kind: number, name: string): string {
  return P_SUB + u64(version) + fc(kind) + name;
}

/** `S` u64(version) `i` score member: a zset's score index entry. */
export function zindexKey(version: number, score: number, member: string): string {
  return P_SUB + u64(version) + 'i' + encodeScore(score) + member;
}

/** `S` u64(version) `l` u64(position): a list element. */
export function listKey(version: number, pos: number): string {
  return P_SUB + u64(version) + 'l' + u64(pos);
}

/** The subkey range of a version: [`S` u64(v), `S` u64(v+1)). */
export function versionRange(version: number): [string, string] {
  return [P_SUB + u64(version), P_SUB + u64(version + 1)];
}

/** `D` varint(db). */
export function dbKey(db: number): string {
  return P_DB + varint(db);
}

/** `K` varint(ns): the key count hint of a namespace. */
export function countKey(ns: number): string {
  return P_COUNT + varint(ns);
}

/** `G` u64(version). */
export function garbageVersionKey(version: number): string {
  return P_GARBAGE_VERSION + u64(version);
}

/** `N` varint(ns). */
export function garbageNsKey(ns: number): string {
  return P_GARBAGE_NS + varint(ns);
}

/** The counters record value. */
export function countersValue(nextVersion: number, nextNs: number): string {
  return u64(nextVersion) + u64(nextNs);
}

/** The first byte string after every one starting with `prefix`. */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xff) return prefix.slice(0, i) + fc(c + 1);
  }
  // all 0xff: nothing sorts after it in a prefix-bounded way; callers never build such prefixes
  return prefix + '\xff\xff\xff\xff\xff\xff\xff\xff';
}

// ---- values ----------------------------------------------------------------------------------

/**
 * The `F` record's value for the function libraries' codes (in load order, each a byte string):
 * varint(count), then varint(length) and the code of each.
 */
export function functionsValue(codes: readonly string[]): string {
  let s = varint(codes.length);
  for (const c of codes) s += varint(c.length) + c;
  return s;
}

/**
 * The libraries' codes of an `F` record value written by {@link functionsValue}.
 * @throws Error when the value is cut short or has bytes after the last library
 */
export function decodeFunctions(s: string): string[] {
  const n = readVarint(s, 0);
  let off = varintEnd;
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    let len: number;
    try {
      len = readVarint(s, off);
    } catch {
      throw new Error(`the record ends before library ${i + 1} of ${n} (at byte ${off} of ${s.length})`);
    }
    off = varintEnd;
    if (off + len > s.length) throw new Error(`library ${i + 1} of ${n} is ${len} bytes, past the end of the record (at byte ${off} of ${s.length})`);
    codes.push(s.slice(off, off + len));
    off += len;
  }
  if (off !== s.length) throw new Error(`${s.length - off} bytes after the last of its ${n} libraries`);
  return codes;
}

/** Type, flags and the optional expire time (`expireAt`: Unix ms or -1). */
function header(type: number, expireAt: number, flags = 0): string {
  return expireAt === -1 ? fc(type, flags) : fc(type, flags | F_EXPIRE) + f64be(expireAt);
}

/** Metadata of a string key: header then the value bytes. */
export function stringMeta(value: string, expireAt: number): string {
  return (expireAt === -1 ? STRING_HEADER : header(T_STRING, expireAt)) + value;
}
const STRING_HEADER = fc(T_STRING, 0);

/** Metadata of a stream key: header then its RDB encoding (latin1). */
export function blobMeta(type: number, blob: string, expireAt: number): string {
  return header(type, expireAt) + blob;
}

/** Metadata of an inline collection (`type` list, set, zset or hash): header then its RDB encoding (latin1). */
export function inlineMeta(type: number, blob: string, expireAt: number): string {
  return header(type, expireAt, F_INLINE) + blob;
}

/** Metadata of a collection: header, version, size and (lists) head position. */
export function collectionMeta(type: number, expireAt: number, version: number, size: number, head: number): string {
  const s = header(type, expireAt) + u64(version) + u64(size);
  return type === T_LIST ? s + u64(head) : s;
}

/** A decoded metadata record. */
export interface Meta {
  type: number;
  /** Unix ms, or -1 */
  expireAt: number;
  /** offset of the string value / stream or inline blob / version fields in the record */
  body: number;
  /** an inline collection: its RDB encoding starts at `body` (version, size and head are 0) */
  inline: boolean;
  version: number;
  size: number;
  head: number;
}

/**
 * Decodes a metadata value.
 * @throws Error on an unknown type or a record too short for its type
 */
export function decodeMeta(s: string): Meta {
  if (s.length < 2) throw new Error('metadata record too short');
  const type = s.charCodeAt(0);
  if (type > T_STREAM) throw new Error(`unknown value type ${type} in metadata record`);
  let off = 2;
  let expireAt = -1;
  const flags = s.charCodeAt(1);
  if (flags & ~(F_EXPIRE | F_INLINE)) throw new Error(`unknown metadata flags ${flags}`);
  if (flags & F_EXPIRE) {
    if (s.length < 10) throw new Error('metadata record too short for its expire time');
    expireAt = readF64be(s, 2);
    off = 10;
  }
  const inline = (flags & F_INLINE) !== 0;
  const m: Meta = { type, expireAt, body: off, inline, version: 0, size: 0, head: 0 };
  if (inline) {
    if (type === T_STRING || type === T_STREAM) throw new Error(`inline flag on a value of type ${type}`);
    if (s.length <= off) throw new Error('metadata record too short for an inline collection');
  } else if (type !== T_STRING && type !== T_STREAM) {
    if (s.length < off + (type === T_LIST ? 24 : 16)) throw new Error('metadata record too short for a collection');
    m.version = readU64(s, off);
    m.size = readU64(s, off + 8);
    if (type === T_LIST) m.head = readU64(s, off + 16);
  }
  return m;
}

/** A double as 8 bytes (zset member records: the exact score, -0 included). */
export function scoreValue(d: number): string {
  return f64be(d);
}
