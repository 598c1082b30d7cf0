import { RObject, changeCapture } from './object.js';
import { HashDict } from './dict.js';

/**
 * A hash value: field -> value, both latin1 strings (t_hash.c of Redis 7.0).
 *
 * Two forms, matching Redis's two encodings so that OBJECT ENCODING reports what Redis 7.0
 * would for the same history of commands:
 * - 'listpack': {@link lp}, every field and value in insertion order packed into ONE latin1
 *   string, each as a length header and its bytes (see {@link lpHeader}), searched linearly as
 *   Redis searches its listpack. Used while the hash has at most `hash-max-listpack-entries`
 *   fields and no field or value is longer than `hash-max-listpack-value` bytes. One flat string
 *   costs 16 bytes plus the payload, where an array of field and value strings costs about
 *   50 bytes per pair: a million small hashes take about half the memory.
 * - 'hashtable': {@link ht}, a segmented {@link HashDict}. A hash never goes back to listpack, as
 *   in Redis 7.0.
 *
 * A listpack-form hash loaded from an RDB listpack (or a LevelDB inline blob) is kept as those
 * listpack bytes ({@link packedListpack}) until first used, as ZSet and RedisSet keep theirs: a
 * load does not convert a million hashes that may never be read, and an unchanged one saves back
 * as the same bytes, as Redis writes a listpack it loaded.
 *
 * The limits are passed in by the caller (the command reads them from the config), so that two
 * servers in one process may use different settings.
 */
export class Hash extends RObject {
  /** listpack form (see the class comment), or null once converted or while packed */
  private flatLp: string | null;
  /** number of pairs in the listpack form (flat or packed) */
  private n: number;
  /** hashtable form, or null while in listpack form */
  ht: HashDict | null = null;
  /** a Redis listpack's bytes (latin1) as loaded, until first used; else null */
  private packed: string | null = null;

  /** An empty hash in listpack form (createHashObject). */
  constructor() {
    super();
    this.flatLp = '';
    this.n = 0;
  }

  /** The listpack form (see the class comment), or null in the hashtable form; unpacks a packed hash. */
  get lp(): string | null {
    if (this.packed !== null) this.unpack();
    return this.flatLp;
  }

  set lp(v: string | null) {
    this.flatLp = v;
  }

  /**
   * A listpack-form hash of the `n` pairs of `blob` (latin1 bytes of a Redis listpack, validated
   * by the caller: well-formed, field/value pairs, no field twice, n within
   * hash-max-listpack-entries), left packed until first used.
   */
  static fromPackedListpack(blob: string, n: number): Hash {
    const h = new Hash();
    h.flatLp = null;
    h.packed = blob;
    h.n = n;
    return h;
  }

  /** The listpack bytes (latin1) while this hash is still as loaded, else null (RDB encoder). */
  get packedListpack(): string | null {
    return this.packed;
  }

  /**
   * The flat listpack form to read from without keeping it: a packed hash stays packed (a walk
   * by DEBUG DIGEST, an AOF rewrite or a memory estimate is no use of it, and must not change
   * what the maxmemory accounting recorded for it). Null in the hashtable form.
   */
  private readView(): string | null {
    const p = this.packed;
    if (p === null) return this.flatLp;
    if (hashListpackReader === null) throw new Error('Hash: a packed listpack hash but no listpack reader is registered');
    return hashListpackReader(p, this.n);
  }

  /** Converts {@link packed} to the flat listpack form (no change capture: the value is the same). */
  private unpack(): void {
    this.flatLp = this.readView();
    this.packed = null;
  }

  /**
   * A hash of the pairs in `pairs` ([field, value, ...], fields distinct) built in one pass, in
   * listpack form when `listpack`, else hashtable (RDB loading, where adding pairs one by one
   * would search the listpack each time).
   */
  static fromPairs(pairs: readonly string[], listpack: boolean): Hash {
    const h = new Hash();
    if (!listpack) {
      h.convert();
      for (let i = 0; i < pairs.length; i += 2) h.ht!.set(pairs[i]!, pairs[i + 1]!);
      return h;
    }
    const parts: string[] = new Array<string>(pairs.length * 2);
    for (let i = 0; i < pairs.length; i++) {
      parts[2 * i] = lpHeader(pairs[i]!.length);
      parts[2 * i + 1] = pairs[i]!;
    }
    h.lp = flat(parts.join(''));
    h.n = pairs.length >> 1;
    return h;
  }

  /**
   * A hash in listpack form whose flat string is already built: `flat` holds `n` pairs in the
   * format described at {@link lpHeader} (RDB loading writes it straight from a listpack).
   * The caller guarantees the format and that the fields are distinct.
   */
  static fromFlat(flat: string, n: number): Hash {
    const h = new Hash();
    h.lp = flat;
    h.n = n;
    return h;
  }

  /** 'hash', on the prototype rather than in every instance. */
  get type(): 'hash' {
    return 'hash';
  }

  /** OBJECT ENCODING: 'listpack' or 'hashtable'. */
  encoding(): string {
    return this.isListpack() ? 'listpack' : 'hashtable';
  }

  /** True while in the listpack form (the RDB encoder writes a listpack then). */
  isListpack(): boolean {
    return this.flatLp !== null || this.packed !== null;
  }

  /** Number of fields (hashTypeLength). */
  get size(): number {
    return this.isListpack() ? this.n : this.ht!.size;
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    const s = this.lp;
    if (s === null) return this.ht!.get(field);
    const p = lpFind(s, field);
    if (p < 0) return undefined;
    const vh = skip(s, p);
    const vl = readLen(s, vh);
    return s.slice(at, at + vl);
  }

  has(field: string): boolean {
    return this.lp !== null ? lpFind(this.lp, field) >= 0 : this.ht!.has(field);
  }

  /**
   * hashTypeTryConversion: converts to hashtable when any of `argv[start..end]` (fields and
   * values about to be written) is longer than `maxValue` bytes. Call before {@link set} in
   * HSET/HMSET/HSETNX, as Redis does.
   */
  tryConversion(argv: readonly string[], start: number, end: number, maxValue: number): void {
    if (this.lp === null) return;
    for (let i = start; i <= end; i++) {
      if (argv[i]!.length > maxValue) {
        this.convert();
        return;
      }
    }
  }

  /**
   * hashTypeSet: sets `field` to `value`; returns true when the field is new. In the listpack
   * form, converts first when the field or value is longer than `maxValue` (the HINCRBY* case),
   * and after the write when the hash has more than `maxEntries` fields.
   */
  set(field: string, value: string, maxEntries: number, maxValue: number): boolean {
    if (this.ldb !== 0) changeCapture.recorder?.element(this, field);
    const s = this.lp;
    if (s === null) return this.ht!.set(field, value);
    if (field.length > maxValue || value.length > maxValue) {
      this.convert();
      return this.ht!.set(field, value);
    }
    const p = lpFind(s, field);
    let added = false;
    if (p >= 0) {
      const vh = skip(s, p);
      const vl = readLen(s, vh);
      const vd = at;
      if (vl !== value.length || !s.startsWith(value, vd)) {
        this.lp = flat(s.slice(0, vh) + lpHeader(value.length) + value + s.slice(vd + vl));
      }
    } else {
      this.lp = flat(s + lpHeader(field.length) + field + lpHeader(value.length) + value);
      this.n++;
      added = true;
    }
    if (this.n > maxEntries) this.convert();
    return added;
  }

  /**
   * hashTypeSet for each pair `argv[from]`, `argv[from + 1]`, ... in order (HSET/HMSET), with the
   * same result as {@link set} called pair by pair; returns how many fields were new. In the
   * listpack form with {@link SET_MANY_MIN} pairs or more, the listpack is searched once and
   * rebuilt once instead of searched and copied again for every pair, which is quadratic in the
   * pairs (an HSET of 100 fields into a new hash took ~200 us); a conversion to hashtable then
   * happens after the last pair, which leaves the same fields and values since a hash only grows
   * here.
   */
  setMany(argv: readonly string[], from: number, maxEntries: number, maxValue: number): number {
    let added = 0;
    const s = this.lp;
    if (s === null || argv.length - from < 2 * SET_MANY_MIN) {
      for (let i = from; i + 1 < argv.length; i += 2) if (this.set(argv[i]!, argv[i + 1]!, maxEntries, maxValue)) added++;
      return added;
    }
    this.tryConversion(argv, from, argv.length - 1, maxValue);
    if (this.lp === null) return this.setMany(argv, from, maxEntries, maxValue);
    const recorder = this.ldb !== 0 ? changeCapture.recorder : null;
    // the fields already there, each to the offset of its value's header
    let existing: Map<string, number> | null = null;
    if (this.n > 0) {
      existing = new Map();
      for (let p = 0; p < s.length; ) {
        const fl = readLen(s, p);
        const fd = at;
        existing.set(s.slice(fd, fd + fl), fd + fl);
        p = skip(s, fd + fl);
      }
    }
    /** new values of existing fields, by the offset of the old value's header */
    let replaced: Map<number, string> | null = null;
    /** new fields in the order of their first appearance (a later pair updates the value) */
    const appended = new Map<string, string>();
    for (let i = from; i + 1 < argv.length; i += 2) {
      const f = argv[i]!;
      const v = argv[i + 1]!;
      recorder?.element(this, f);
      const vh = existing?.get(f);
      if (vh !== undefined) (replaced ??= new Map()).set(vh, v);
      else appended.set(f, v);
    }
    const parts: string[] = [];
    if (replaced === null) {
      parts.push(s);
    } else {
      let p = 0;
      for (const vh of [...replaced.keys()].sort((a, b) => a - b)) {
        const v = replaced.get(vh)!;
        parts.push(s.slice(p, vh), lpHeader(v.length), v);
        p = skip(s, vh);
      }
      parts.push(s.slice(p));
    }
    for (const [f, v] of appended) parts.push(lpHeader(f.length), f, lpHeader(v.length), v);
    this.lp = flat(parts.join(''));
    this.n += appended.size;
    if (this.n > maxEntries) this.convert();
    return appended.size;
  }

  /** hashTypeDelete: removes `field`; true when it existed. */
  delete(field: string): boolean {
    if (this.ldb !== 0) changeCapture.recorder?.element(this, field);
    const s = this.lp;
    if (s === null) return this.ht!.delete(field);
    const p = lpFind(s, field);
    if (p < 0) return false;
    const end = skip(s, skip(s, p));
    this.lp = this.n === 1 ? '' : flat(s.slice(0, p) + s.slice(end));
    this.n--;
    return true;
  }

  /** hashTypeConvert(o, OBJ_ENCODING_HT): moves to the hashtable form (no-op when there). */
  convert(): void {
    const s = this.lp;
    if (s === null) return;
    const ht = new HashDict();
    // Fields and values are cut from a copy, so that none of them keeps the listpack string
    // alive as a V8 sliced string.
    const buf = Buffer.from(s, 'latin1');
    for (let p = 0; p < s.length; ) {
      const fl = readLen(s, p);
      const fd = at;
      const vl = readLen(s, fd + fl);
      const vd = at;
      ht.set(buf.latin1Slice(fd, fd + fl), buf.latin1Slice(vd, vd + vl));
      p = vd + vl;
    }
    this.ht = ht;
    this.lp = null;
    this.n = 0;
  }

  /** A uniformly random [field, value]; the hash must not be empty. */
  random(): [string, string] {
    const s = this.lp;
    if (s === null) return this.ht!.random();
    let p = 0;
    for (let k = Math.floor(Math.random() * this.n); k > 0; k--) p = skip(s, skip(s, p));
    const fl = readLen(s, p);
    const fd = at;
    const vl = readLen(s, fd + fl);
    return [s.slice(fd, fd + fl), s.slice(at, at + vl)];
  }

  /**
   * Calls `fn(ctx, field, value)` for every pair: listpack in insertion order, hashtable in
   * table order. `ctx` lets callers pass state without allocating a closure per call.
   */
  forEach<C>(fn: (ctx: C, field: string, value: string) => void, ctx: C): void {
    const s = this.readView();
    if (s !== null) {
      for (let p = 0; p < s.length; ) {
        const fl = readLen(s, p);
        const fd = at;
        const vl = readLen(s, fd + fl);
        const vd = at;
        fn(ctx, s.slice(fd, fd + fl), s.slice(vd, vd + vl));
        p = vd + vl;
      }
      return;
    }
    for (const seg of this.ht!.segs) for (const [f, v] of seg) fn(ctx, f, v);
  }

  /** Every [field, value] pair (listpack: insertion order), for RDB/AOF rewrite and tests. */
  *pairs(): IterableIterator<[string, string]> {
    const s = this.readView();
    if (s !== null) {
      for (let p = 0; p < s.length; ) {
        const fl = readLen(s, p);
        const fd = at;
        const vl = readLen(s, fd + fl);
        const vd = at;
        p = vd + vl;
        yield [s.slice(fd, fd + fl), s.slice(vd, vd + vl)];
      }
      return;
    }
    for (const seg of this.ht!.segs) yield* seg;
  }

  clone(): Hash {
    // the packed bytes are an immutable string: shared
    if (this.packed !== null) return Hash.fromPackedListpack(this.packed, this.n);
    const h = new Hash();
    if (this.lp !== null) {
      h.lp = this.lp; // strings are immutable: sharing is a copy
      h.n = this.n;
    } else {
      h.lp = null;
      h.ht = new HashDict();
      for (const seg of this.ht!.segs) for (const [f, v] of seg) h.ht.set(f, v);
    }
    return h;
  }
}

/**
 * Converts a packed hash's listpack bytes (`blob`, latin1, `n` pairs) to the flat form of
 * {@link Hash.lp}. Registered by the RDB layer, which owns the listpack format (rdb/values.ts).
 */
export type HashListpackReader = (blob: string, n: number) => string;
let hashListpackReader: HashListpackReader | null = null;

/** Registers the reader packed hashes are unpacked with (once, by rdb/values.ts). */
export function setHashListpackReader(fn: HashListpackReader): void {
  hashListpackReader = fn;
}

/** First char of a long {@link lpHeader}: lengths from this value up take 5 chars. */
export const LP_LONG_HEADER = 254;

/**
 * The length header of one listpack entry: one char for lengths below 254, else char 254 and
 * the length in 4 chars, big-endian.
 */
export function lpHeader(len: number): string {
  return len < 254
    ? String.fromCharCode(len)
    : String.fromCharCode(254, (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
}

/**
 * Calls `fn(s, start, len)` for each record of `s`, a flat string of {@link lpHeader} records
 * (a listpack-form hash's `lp`; a hashtable set as loaded keeps its members so too).
 */
export function forEachRecord(s: string, fn: (s: string, start: number, len: number) => void): void {
  for (let p = 0; p < s.length; ) {
    const len = readLen(s, p);
    const start = at;
    fn(s, start, len);
    p = start + len;
  }
}

/** Data offset of the entry last read by {@link readLen} (module state: no allocation per read). */
let at = 0;

/** Reads the length header at `p`; sets {@link at} to the entry's data offset. */
function readLen(s: string, p: number): number {
  const c = s.charCodeAt(p);
  if (c < 254) {
    at = p + 1;
    return c;
  }
  at = p + 5;
  return ((s.charCodeAt(p + 1) << 24) | (s.charCodeAt(p + 2) << 16) | (s.charCodeAt(p + 3) << 8) | s.charCodeAt(p + 4)) >>> 0;
}

/** Offset just past the entry at `p`. */
function skip(s: string, p: number): number {
  const l = readLen(s, p);
  return at + l;
}

/** Pairs from which {@link Hash.setMany} rebuilds a listpack once rather than pair by pair. */
const SET_MANY_MIN = 4;

/** Offset of the field entry `field` in the listpack `s`, or -1. */
function lpFind(s: string, field: string): number {
  const fl = field.length;
  const n = s.length;
  for (let p = 0; p < n; ) {
    const l = readLen(s, p);
    const d = at;
    if (l === fl && s.startsWith(field, d)) return p;
    p = skip(s, d + l);
  }
  return -1;
}

/**
 * Makes V8 flatten a concatenation now (reading a char does), so that the stored listpack is one
 * sequential string and not a rope holding slices of the previous version alive.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}
