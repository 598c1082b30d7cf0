/**
 * The bridge between RDB encodings and Amber's value types: building values from decoded
 * elements (with the encoding Redis 7.0 would pick after rdbLoadObject) and reading values for
 * the encoder (which RDB type to write, and the elements in the order Redis writes them).
 */
import type { Config } from '../../config/config.js';
import type { Value, RObject } from '../../keyspace/types/object.js';
import { Hash, LP_LONG_HEADER, setHashListpackReader } from '../../keyspace/types/hash.js';
import { ZSet, setZsetListpackReader } from '../../keyspace/types/zset.js';
import { LP_HDR_SIZE, lpRead, lpEntry, lpValidate, lpDecode } from './listpack.js';
import { scanDouble } from './reader.js';
import { parseInteger } from '../../util/number.js';
import { RedisSet } from '../../keyspace/types/set.js';
import { Stream } from '../../keyspace/types/stream.js';
import { ListObject, setListNodesReader, type ListLoader } from '../../keyspace/types/list.js';

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

/**
 * A set of `members` as rdbLoadObject builds RDB_TYPE_SET / RDB_TYPE_SET_INTSET: an intset while
 * the members are integers and no more than set-max-intset-entries, else a hashtable.
 * @returns the set, or null when a member is duplicated
 */
export function buildSet(members: string[], limits: TypeLimits): RedisSet | null {
  const max = limits.setIntsetEntries >= 1 << 30 ? 1 << 30 : limits.setIntsetEntries;
  const n = members.length;
  if (n > max || (n > 0 && parseInteger(members[0]!) === null)) {
    // a hashtable from the start: presized, so that no segment splits while loading
    const s = new RedisSet(false);
    const ht = s.ht!;
    ht.reserve(n);
    for (let i = 0; i < n; i++) ht.add(members[i]!);
    return ht.size === n ? s : null;
  }
  const s = new RedisSet(true);
  for (let i = 0; i < n; i++) {
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
  if (big) {
    // hashtable: the table itself tells duplicates (fewer fields than pairs)
    const h = new Hash();
    h.convert();
    const ht = h.ht!;
    ht.reserve(n);
    for (let i = 0; i < flat.length; i += 2) ht.set(flat[i]!, flat[i + 1]!);
    return ht.size === n ? h : null;
  }
  const seen = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) {
    const f = flat[i]!;
    if (seen.has(f)) return null;
    seen.add(f);
  }
  return Hash.fromPairs(flat, true);
}

/**
 * A sorted set. `from`: 'skiplist' (RDB_TYPE_ZSET/ZSET_2: listpack when small enough in count
 * and member length) or 'listpack' (listpack and ziplist types: skiplist only when too many).
 * Elements may come in any order (Redis saves a skiplist from the greatest down); they are
 * sorted when needed and bulk-loaded into the tree in O(n).
 * @returns the zset, or null when a member is duplicated
 */
export function buildZSet(members: string[], scores: number[], from: 'skiplist' | 'listpack', limits: TypeLimits): ZSet | null {
  const n = members.length;
  const listpack = from === 'listpack' ? n <= limits.zsetEntries : fitsListpack(members, limits);
  sortZsetInput(members, scores);
  const z = new ZSet(listpack);
  if (listpack) {
    // no member index in listpack form: check for duplicates apart
    if (hasDuplicateString(members)) return null;
    z.bulkLoad(members, scores);
  } else {
    z.bulkLoad(members, scores);
    if (z.dict!.size !== n) return null;
  }
  return z;
}

/** zsetConvertToListpackIfNeeded's test: few enough members, none too long. */
function fitsListpack(members: string[], limits: TypeLimits): boolean {
  if (members.length > limits.zsetEntries) return false;
  for (let i = 0; i < members.length; i++) if (members[i]!.length > limits.zsetValue) return false;
  return true;
}

/**
 * Puts members/scores in zset order (score, then member bytes) in place: nothing to do when
 * already ascending, a reversal when descending (a skiplist as Redis saves it), else a sort.
 */
function sortZsetInput(members: string[], scores: number[]): void {
  const n = members.length;
  let asc = true;
  let desc = true;
  for (let i = 1; i < n && (asc || desc); i++) {
    const s0 = scores[i - 1]!;
    const s1 = scores[i]!;
    const c = s0 < s1 ? -1 : s0 > s1 ? 1 : members[i - 1]! < members[i]! ? -1 : members[i - 1]! > members[i]! ? 1 : 0;
    if (c >= 0) asc = false;
    if (c <= 0) desc = false;
  }
  if (asc) return;
  if (desc) {
    members.reverse();
    scores.reverse();
    return;
  }
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    if (sa < sb) return -1;
    if (sa > sb) return 1;
    const ma = members[a]!;
    const mb = members[b]!;
    return ma < mb ? -1 : ma > mb ? 1 : 0;
  });
  const m2 = idx.map((i) => members[i]!);
  const s2 = idx.map((i) => scores[i]!);
  for (let i = 0; i < n; i++) {
    members[i] = m2[i]!;
    scores[i] = s2[i]!;
  }
}

// ---- straight from listpack bytes (RDB_TYPE_HASH_LISTPACK, RDB_TYPE_ZSET_LISTPACK) ----------

/** Output of the listpack-to-flat-hash conversion, reused between hashes. */
const FLAT_BUF_INITIAL = 64 * 1024;
const FLAT_BUF_MAX = 1024 * 1024;
let flatBuf = Buffer.allocUnsafe(FLAT_BUF_INITIAL);
/** The last source buffer of {@link hashFromListpack} and a view of it. */
let inViewBuf: ArrayBufferLike | null = null;
let inView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
/** A view of {@link flatBuf} for word copies (replaced with it; flatBuf is never pooled). */
let flatView = new DataView(flatBuf.buffer, flatBuf.byteOffset, flatBuf.byteLength);
/** start and length of each field in {@link flatBuf}, for the duplicate check */
let fieldStart = new Int32Array(1024);
let fieldLen = new Int32Array(1024);
let dupTable = new Int32Array(2048);
/** Makes {@link fieldStart} and {@link fieldLen} hold at least `n` ranges (contents not kept). */
function reserveRanges(n: number): void {
  if (fieldStart.length >= n) return;
  fieldStart = new Int32Array(n * 2);
  fieldLen = new Int32Array(n * 2);
}

/**
 * Empties the shared open-addressing table of the duplicate checks ({@link dupTable}) for `n`
 * entries: a power of two of at least 2n slots set to -1. Returns its slot mask.
 */
function emptyDupTable(n: number): number {
  let size = 4;
  while (size < n * 2) size <<= 1;
  if (dupTable.length < size) dupTable = new Int32Array(size);
  dupTable.fill(-1, 0, size);
  return size - 1;
}

/**
 * Writes the record header of a `len`-byte entry at `o` of `out` (lpHeader's format, the flat
 * string of a listpack-form Hash); returns where its bytes go.
 */
function writeRecordHeader(out: Buffer, o: number, len: number): number {
  if (len < LP_LONG_HEADER) {
    out[o] = len;
    return o + 1;
  }
  out[o] = LP_LONG_HEADER;
  out.writeUInt32BE(len, o + 1);
  return o + 5;
}

/** After a value with huge elements grew {@link flatBuf}: not kept that big for the next ones. */
function shrinkFlat(): void {
  if (flatBuf.length <= FLAT_BUF_MAX) return;
  flatBuf = Buffer.allocUnsafe(FLAT_BUF_INITIAL);
  flatView = new DataView(flatBuf.buffer, flatBuf.byteOffset, flatBuf.byteLength);
}

function growFlat(need: number): void {
  let size = flatBuf.length;
  while (size < need) size *= 2;
  const nb = Buffer.allocUnsafe(size);
  flatBuf.copy(nb, 0);
  flatBuf = nb;
  flatView = new DataView(nb.buffer, nb.byteOffset, nb.byteLength);
}

/** Writes the decimal form of an integer at `p` of {@link flatBuf}; returns its length. */
function writeDecimal(v: number | bigint, p: number): number {
  const str = String(v);
  for (let j = 0; j < str.length; j++) flatBuf[p + j] = str.charCodeAt(j);
  return str.length;
}

/**
 * A hash in listpack form straight from a listpack holding `count` elements (validated with
 * lpValidate, count even, count / 2 <= hash-max-listpack-entries): the elements are copied into
 * Hash's flat-string format in a reused buffer and become one string, with no string per field.
 * @returns the hash, or null when a field is duplicated
 */
export function hashFromListpack(buf: Buffer, start: number, count: number): Hash | null {
  const flat = flatFromListpack(buf, start, count);
  return flat === null ? null : Hash.fromFlat(flat, count >> 1);
}

/**
 * A listpack-form hash left packed ({@link Hash.fromPackedListpack}) when that checks exactly what
 * {@link hashFromListpack} checks: every field a string entry (an integer-encoded field would have
 * to be compared with the others as text) and no field twice (compared as bytes). Null when it
 * does not apply: the caller loads it eagerly, which also reports the duplicate. The caller has
 * validated the listpack (lpValidate: `count` entries, even, within hash-max-listpack-entries).
 */
export function packedHashFromListpack(buf: Buffer, start: number, size: number, count: number): Hash | null {
  const n = count >> 1;
  if (!distinctStringKeys(buf, start, n)) return null;
  return Hash.fromPackedListpack(buf.latin1Slice(start, start + size), n);
}

/**
 * True when the first entry of each of the `n` pairs of the validated listpack at `start` (a
 * hash's fields, a zset's members) is a string entry, and no two of them are equal as bytes;
 * leaves their ranges in fieldStart/fieldLen.
 */
function distinctStringKeys(buf: Buffer, start: number, n: number): boolean {
  reserveRanges(n);
  const e = lpEntry;
  let p = start + LP_HDR_SIZE;
  for (let i = 0; i < n; i++) {
    const b = buf[p]!;
    if ((b & 0xc0) === 0x80) {
      // the usual key, a string of up to 63 bytes: 1-byte header and back-length
      fieldStart[i] = p + 1;
      fieldLen[i] = b & 0x3f;
      p += (b & 0x3f) + 2;
    } else {
      p = lpRead(buf, p);
      if (!e.isStr) return false;
      fieldStart[i] = e.start;
      fieldLen[i] = e.len;
    }
    // the second entry: any; the usual ones, a 7-bit integer or a short string, skipped in place
    const v = buf[p]!;
    p = v < 0x80 ? p + 2 : (v & 0xc0) === 0x80 ? p + (v & 0x3f) + 2 : lpRead(buf, p);
  }
  return !hasDuplicateBytes(buf, fieldStart, fieldLen, n);
}

/**
 * Appends the `count` elements of the validated listpack at `start` of `buf` (a quicklist node)
 * to the list loader `l`, read in place: strings as bytes, integers as their decimal text.
 */
export function addListpackNode(l: ListLoader, buf: Buffer, start: number, count: number): void {
  const e = lpEntry;
  let p = start + LP_HDR_SIZE;
  for (let k = 0; k < count; k++) {
    // the usual entries read in place: a string of up to 63 bytes (1-byte header and
    // back-length) or a 7-bit integer
    const c = buf[p]!;
    if ((c & 0xc0) === 0x80) {
      const len = c & 0x3f;
      l.addBytes(buf, p + 1, len);
      p += len + 2;
      continue;
    }
    if (c < 0x80) {
      l.addInt(c);
      p += 2;
      continue;
    }
    p = lpRead(buf, p);
    if (e.isStr) l.addBytes(buf, e.start, e.len);
    else l.addInt(e.int);
  }
}

/** {@link addListpackNode} of a quicklist node kept as a latin1 string (validated when loaded). */
export function addPackedNode(l: ListLoader, node: string): void {
  const buf = Buffer.from(node, 'latin1');
  addListpackNode(l, buf, 0, lpValidate(buf, 0, buf.length));
}

setListNodesReader({
  addNode: addPackedNode,
  entries(node) {
    const buf = Buffer.from(node, 'latin1');
    const out = lpDecode(buf, 0, buf.length);
    // the node was validated when the list was loaded
    if (out === null) throw new Error('ListObject: a packed quicklist node that does not decode');
    return out.map((v) => (typeof v === 'string' ? v : String(v)));
  },
});

setHashListpackReader((blob, n) => {
  const buf = Buffer.from(blob, 'latin1');
  const flat = flatFromListpack(buf, 0, 2 * n);
  // the bytes were checked when the hash was packed
  if (flat === null) throw new Error('Hash: a packed listpack with a duplicate field');
  return flat;
});

/**
 * The elements of a validated listpack of `count` entries (pairs) in {@link Hash}'s flat-string
 * format, built in a reused buffer: one string, none per field. Null when a field is duplicated.
 */
function flatFromListpack(buf: Buffer, start: number, count: number): string | null {
  const n = count >> 1;
  reserveRanges(n);
  let p = start + LP_HDR_SIZE;
  let o = 0;
  const e = lpEntry;
  // a view of the whole ArrayBuffer, kept while the reader hands out the same one (a view per
  // hash would cost more than the copies save on a million small hashes)
  if (buf.buffer !== inViewBuf) {
    inViewBuf = buf.buffer;
    inView = new DataView(buf.buffer);
  }
  const din = inView;
  const ib = buf.byteOffset;
  for (let i = 0; i < count; i++) {
    let from: number;
    let len: number;
    const b = buf[p]!;
    if ((b & 0xc0) === 0x80) {
      // the usual entry, a string of up to 63 bytes (1-byte header and back-length): read
      // in place rather than through lpRead
      len = b & 0x3f;
      from = p + 1;
      p = from + len + 1;
    } else {
      p = lpRead(buf, p);
      if (!e.isStr) {
        if (o + 26 > flatBuf.length) growFlat(o + 26);
        const dlen = writeDecimal(e.int, o + 1);
        flatBuf[o] = dlen;
        o++;
        if ((i & 1) === 0) {
          fieldStart[i >> 1] = o;
          fieldLen[i >> 1] = dlen;
        }
        o += dlen;
        continue;
      }
      len = e.len;
      from = e.start;
    }
    if (o + len + 5 > flatBuf.length) growFlat(o + len + 5);
    const out = flatBuf;
    o = writeRecordHeader(out, o, len);
    if ((i & 1) === 0) {
      fieldStart[i >> 1] = o;
      fieldLen[i >> 1] = len;
    }
    if (len <= 64) {
      // 4 bytes per step, then the tail
      const dout = flatView;
      let j = 0;
      for (; j + 4 <= len; j += 4) dout.setInt32(o + j, din.getInt32(ib + from + j, true), true);
      for (; j < len; j++) out[o + j] = buf[from + j]!;
    } else {
      buf.copy(out, o, from, from + len);
    }
    o += len;
  }
  const dup = hasDuplicateRange(flatBuf, flatView, fieldStart, fieldLen, n);
  const flat = dup ? null : flatBuf.latin1Slice(0, o);
  shrinkFlat();
  return flat;
}

/** End of the records of the set being loaded in {@link flatBuf} ({@link setRecordsBegin}). */
let recordsEnd = 0;

/**
 * Starts the members of an RDB_TYPE_SET of `n` members as flat records in {@link flatBuf}
 * ({@link setRecordAdd} each, then {@link setFromRecords}): no string per member.
 */
export function setRecordsBegin(n: number): void {
  reserveRanges(n);
  recordsEnd = 0;
}

/** Appends member `i`, bytes [start, start+len) of `src`. */
export function setRecordAdd(i: number, src: Buffer, start: number, len: number): void {
  if (recordsEnd + len + 5 > flatBuf.length) growFlat(recordsEnd + len + 5);
  const out = flatBuf;
  const o = writeRecordHeader(out, recordsEnd, len);
  if (len <= 32) for (let j = 0; j < len; j++) out[o + j] = src[start + j]!;
  else src.copy(out, o, start, start + len);
  fieldStart[i] = o;
  fieldLen[i] = len;
  recordsEnd = o + len;
}

/**
 * The set of the `n` members added since {@link setRecordsBegin}, as rdbLoadObject builds
 * RDB_TYPE_SET: left packed (RedisSet.fromPacked, the records as they are) when buildSet would
 * make a hashtable (more members than set-max-intset-entries, or a first member that is not an
 * integer), else built by {@link buildSet}. Null on a duplicate member.
 */
export function setFromRecords(n: number, limits: TypeLimits): RedisSet | null {
  const out = flatBuf;
  const max = limits.setIntsetEntries >= 1 << 30 ? 1 << 30 : limits.setIntsetEntries;
  let s: RedisSet | null;
  if (n <= max && parseInteger(out.latin1Slice(fieldStart[0]!, fieldStart[0]! + fieldLen[0]!)) !== null) {
    const members = new Array<string>(n);
    for (let i = 0; i < n; i++) members[i] = out.latin1Slice(fieldStart[i]!, fieldStart[i]! + fieldLen[i]!);
    s = buildSet(members, limits);
  } else {
    s = hasDuplicateRange(out, flatView, fieldStart, fieldLen, n) ? null : RedisSet.fromPacked(out.latin1Slice(0, recordsEnd), n);
  }
  shrinkFlat();
  return s;
}

/**
 * True when two of the `n` byte ranges [starts[i], starts[i] + lens[i]) of `buf` are equal (the
 * members of a set or zset loaded packed).
 */
export function hasDuplicateBytes(buf: Buffer, starts: Int32Array, lens: Int32Array, n: number): boolean {
  return hasDuplicateRange(buf, new DataView(buf.buffer, buf.byteOffset, buf.byteLength), starts, lens, n);
}

/**
 * True when two of the `n` byte ranges (starts, lens) of `buf` are equal: an open-addressing
 * table of range indexes keyed by a hash of the bytes (4 at a time), compared byte by byte on a hit.
 */
function hasDuplicateRange(buf: Buffer, view: DataView, starts: Int32Array, lens: Int32Array, n: number): boolean {
  if (n < 2) return false;
  const mask = emptyDupTable(n);
  const table = dupTable;
  for (let i = 0; i < n; i++) {
    const a = starts[i]!;
    const len = lens[i]!;
    // a multiplicative hash over 4-byte words, then the tail bytes, mixed down before masking
    let h = 0x811c9dc5 ^ len;
    let j = 0;
    for (; j + 4 <= len; j += 4) {
      h = Math.imul(h ^ view.getInt32(a + j, true), 0x9e3779b1);
      h ^= h >>> 15;
    }
    for (; j < len; j++) h = Math.imul(h ^ buf[a + j]!, 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    let slot = (h ^ (h >>> 13)) & mask;
    for (;;) {
      const k = table[slot]!;
      if (k < 0) {
        table[slot] = i;
        break;
      }
      if (lens[k] === len) {
        const b = starts[k]!;
        let same = true;
        for (let j = 0; j < len; j++) {
          if (buf[a + j] !== buf[b + j]) {
            same = false;
            break;
          }
        }
        if (same) return true;
      }
      slot = (slot + 1) & mask;
    }
  }
  return false;
}

/**
 * True when `strs` holds the same string twice: an open-addressing table of indexes keyed by an
 * FNV-1a hash of the chars (no Set allocated per value; listpack-sized inputs).
 */
function hasDuplicateString(strs: string[]): boolean {
  const n = strs.length;
  if (n < 2) return false;
  const mask = emptyDupTable(n);
  const table = dupTable;
  for (let i = 0; i < n; i++) {
    const s = strs[i]!;
    let h = 0x811c9dc5;
    for (let j = 0; j < s.length; j++) h = Math.imul(h ^ s.charCodeAt(j), 0x01000193);
    let slot = (h ^ s.length) & mask;
    for (;;) {
      const k = table[slot]!;
      if (k < 0) {
        table[slot] = i;
        break;
      }
      if (strs[k] === s) return true;
      slot = (slot + 1) & mask;
    }
  }
  return false;
}

/**
 * The score of a listpack string element (zzlGetScore: strtod): plain decimals and exponents
 * through Number(), anything else ("inf", "nan", odd forms) through {@link scanDouble}.
 */
export function listpackScore(s: string): number {
  const n = s.length;
  let plain = n > 0;
  for (let i = 0; i < n && plain; i++) {
    const c = s.charCodeAt(i);
    // digits, '.', '-', '+', 'e', 'E'
    plain = (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 43 || c === 101 || c === 69;
  }
  if (plain) {
    const v = Number(s);
    if (!Number.isNaN(v)) return v;
  }
  const v = scanDouble(s);
  return v === null ? 0 : v;
}

/**
 * A sorted set straight from a listpack of `count` elements (validated, count even): members
 * are cut from one latin1 string of the whole listpack (one native call instead of one per
 * member; each member keeps at most this listpack-sized string alive), scores read as numbers.
 * @returns the zset, or null when a member is duplicated
 */
export function zsetFromListpack(buf: Buffer, start: number, size: number, count: number, limits: TypeLimits): ZSet | null {
  const { members, scores } = readZsetListpack(buf, start, size, count);
  return buildZSet(members, scores, 'listpack', limits);
}

/** The member and score of each pair of a validated listpack of `count` entries, as stored. */
function readZsetListpack(buf: Buffer, start: number, size: number, count: number): { members: string[]; scores: number[] } {
  const n = count >> 1;
  const whole = buf.latin1Slice(start, start + size);
  const members = new Array<string>(n);
  const scores = new Array<number>(n);
  let p = start + LP_HDR_SIZE;
  const e = lpEntry;
  for (let i = 0; i < n; i++) {
    // the usual entries are read in place rather than through lpRead: a string of up to 63
    // bytes (1-byte header and back-length) and a 7-bit integer (1 byte, 1-byte back-length)
    let b = buf[p]!;
    if ((b & 0xc0) === 0x80) {
      const at = p + 1 - start;
      const len = b & 0x3f;
      members[i] = whole.slice(at, at + len);
      p += len + 2;
    } else {
      p = lpRead(buf, p);
      members[i] = e.isStr ? whole.slice(e.start - start, e.start - start + e.len) : String(e.int);
    }
    b = buf[p]!;
    if (b < 0x80) {
      scores[i] = b;
      p += 2;
      continue;
    }
    let at: number;
    let len: number;
    if ((b & 0xc0) === 0x80) {
      at = p + 1;
      len = b & 0x3f;
      p += len + 2;
    } else {
      p = lpRead(buf, p);
      if (!e.isStr) {
        scores[i] = Number(e.int);
        continue;
      }
      at = e.start;
      len = e.len;
    }
    const v = shortDecimalAt(buf, at, len);
    scores[i] = v === v ? v : listpackScore(whole.slice(at - start, at - start + len));
  }
  return { members, scores };
}

/**
 * A listpack zset (RDB_TYPE_ZSET_LISTPACK, validated by lpValidate: `count` entries) left packed
 * ({@link ZSet.fromPackedListpack}) when that checks exactly what {@link zsetFromListpack}
 * checks: pairs within zset-max-listpack-entries (else Redis converts it at load), every member
 * a string entry (an integer-encoded member would have to be compared with the others as text),
 * no member twice (compared as bytes). Null when it does not apply: the caller loads it eagerly,
 * which also reports the duplicate. A packed zset saves back as these bytes, as Redis writes a
 * listpack it loaded; it is unpacked (members sorted as the eager load sorts them) at first use.
 */
export function packedZsetFromListpack(buf: Buffer, start: number, size: number, count: number, limits: TypeLimits): ZSet | null {
  const n = count >> 1;
  if (n > limits.zsetEntries || n === 0) return null;
  // the scores: any entry (listpackScore reads every string, as zzlGetScore does)
  if (!distinctStringKeys(buf, start, n)) return null;
  return ZSet.fromPackedListpack(buf.latin1Slice(start, start + size), n);
}

setZsetListpackReader((blob, n) => {
  const buf = Buffer.from(blob, 'latin1');
  const r = readZsetListpack(buf, 0, buf.length, n * 2);
  sortZsetInput(r.members, r.scores);
  // a listpack holds -0 as 0 (ZSet.bulkLoad's rule for the listpack encoding)
  const sc = r.scores;
  for (let i = 0; i < sc.length; i++) if (sc[i] === 0) sc[i] = 0;
  return r;
});

/** Exact powers of ten up to 10^15 (every double of this table is exact). */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * The value of bytes [at, at+len) of `buf` when they are a plain decimal `-?d*.?d*` of 1 to 15
 * digits (what d2string writes for most scores), read without making a string; NaN when they
 * are anything else (the caller then takes the general path). The digits as an integer N and
 * the fraction length f give N / 10^f: both exact doubles, so the one division rounds
 * correctly, as strtod and Number() do.
 */
export function shortDecimalAt(buf: Buffer, at: number, len: number): number {
  const end = at + len;
  let i = at;
  const neg = len > 0 && buf[i] === 45;
  if (neg) i++;
  let n = 0;
  let digits = 0;
  let dot = -1;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits++;
    } else if (c === 46 && dot < 0) {
      dot = i;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15) return NaN;
  const v = dot < 0 ? n : n / POW10[end - dot - 1]!;
  return neg ? -v : v;
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
