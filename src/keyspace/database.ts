import type { Value } from './types/object.js';
import type { Keyspace } from './keyspace.js';
import { GUARD_REPLACE, GUARD_DELETE, GUARD_MUTATE } from './guard.js';
import { NOTIFY_KEY_MISS, NOTIFY_NEW } from './notify.js';
import { newLru, updateLfu } from './lru.js';
import { EXPIRE_ENTRY, MEM_COUNT_PACKED, keyBytes, recordValueBytes } from './memory.js';
import { parseInt64 } from '../util/number.js';
import { nextScanCursor } from './scan-cursor.js';

/**
 * The largest expire time kept, Unix ms: the largest double below 2^63. Expire times are JS
 * numbers, and 2^63 - 1 (a PXAT or ABSTTL a client may send) rounds up to 2^63, which fits no
 * int64: every RDB save would then fail. Stored times above it are clamped to it, so replies,
 * RDB and AOF stay within int64 (Redis keeps the exact value; past 2^53 ms, about the year
 * 287,000, Amber's is the nearest double).
 */
export const MAX_EXPIRE_MS = 9223372036854774784;

/** Initial slots of the string access-clock table (see lru.ts). */
const LRU_TABLE_MIN = 16;

/** Average keys per segment above which the table grows by one segment split. */
const SPLIT_LOAD = 32;

/** Most segments {@link Database.reserve} creates at once (room for 32M keys before splits). */
const MAX_RESERVED_SEGMENTS = 1 << 20;

/**
 * 32-bit FNV-1a over the latin1 chars of a key. Chooses the key's segment; SCAN order follows
 * its low bits.
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  }
  return h >>> 0;
}

/**
 * {@link Database.stringEnc} marks: built in place (raw), a string never int-encoded, or an
 * int-encoded string that is not one of Redis's shared integers (a copy: see {@link STR_UNSHARED}).
 */
export const STR_RAW = 1;
export const STR_NOINT = 2;
/**
 * An integer value of its own object, not one of Redis's shared integers 0..9999: COPY of an
 * int-encoded string makes one (dupStringObject), whose OBJECT REFCOUNT is 1. Its encoding is int.
 */
export const STR_UNSHARED = 3;
/** Longest string Redis 7.0 keeps embedded in its object header (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_MAX = 44;

/**
 * OBJECT ENCODING of a string value by Redis 7.0's createStringObject/tryObjectEncoding rules:
 * `int` for a canonical int64 of at most 20 chars, `embstr` up to 44 bytes, else `raw`.
 * {@link Database.stringEncodingOf} applies the exceptions of values built in place.
 */
export function stringEncoding(s: string): string {
  if (s.length <= 20 && s.length > 0 && parseInt64(s) !== null) return 'int';
  return s.length <= EMBSTR_MAX ? 'embstr' : 'raw';
}

/**
 * One Redis database (SELECT n): the keyspace gate of DESIGN.md. Every read and write of data goes
 * through these methods, which apply lazy expiry, call the snapshot guard before a key
 * changes, count dirty changes and signal modified keys (WATCH, tracking, change capture).
 *
 * Keys live in segments (plain Maps) addressed by linear hashing over {@link hashKey}: there are
 * 2^level base segments, of which the first `splitNext` have been split in two, so the table grows
 * one segment at a time (a bounded pause) and never while a snapshot runs. Expiry times are Unix
 * ms in {@link expires}.
 */
export class Database {
  /** the segments; index = hash & mask, see {@link segmentIndex} */
  segments: Map<string, Value>[] = [new Map()];
  private level = 0;
  private splitNext = 0;
  /** key -> expire time, Unix ms */
  expires = new Map<string, number>();
  size = 0;
  readonly ks: Keyspace;
  readonly id: number;
  /** Persistent iterator of the active expire cycle over {@link expires}. */
  expireCursor: Iterator<[string, number]> | null = null;
  /**
   * Access clocks of string keys, indexed by `hashKey(key) & lruMask` (see lru.ts); collections
   * keep theirs in RObject.lru. Grows with the database so there is about one slot per key.
   */
  lruTable: Uint32Array;
  lruMask: number;
  /**
   * Estimated bytes of this database's keys, values and TTLs (memory.ts), kept while
   * `ks.accounting` is on (maxmemory set), else 0: the dataset part of the eviction measure.
   */
  memBytes = 0;
  /**
   * OBJECT ENCODING of string values that Redis would not encode by their content (see
   * {@link stringEncodingOf}): key -> STR_RAW for strings built in place (APPEND to an existing
   * value, SETRANGE, SETBIT, BITFIELD, BITOP, PFADD, PFMERGE: Redis's createObject or
   * dbUnshareStringValue make them raw whatever their length), STR_NOINT for values Redis stores
   * as a plain string even when they read as an integer (INCRBYFLOAT). Dropped when the value is
   * replaced or the key removed; empty in the usual case, where it costs a size check per write.
   */
  stringEnc = new Map<string, number>();

  constructor(ks: Keyspace, id: number) {
    this.ks = ks;
    this.id = id;
    this.lruTable = new Uint32Array(LRU_TABLE_MIN).fill(newLru(ks));
    this.lruMask = LRU_TABLE_MIN - 1;
  }

  /** Segment index of a key hash. */
  segmentIndex(h: number): number {
    const base = 1 << this.level;
    const i = h & (base - 1);
    return i < this.splitNext ? h & (2 * base - 1) : i;
  }

  /** The segment holding `key` (whether or not the key exists). */
  segmentOf(key: string): Map<string, Value> {
    return this.segments[this.segmentIndex(hashKey(key))]!;
  }

  // ---- reads ----------------------------------------------------------------------------

  /**
   * Value of `key` for a read, or undefined; an expired key is deleted first (lazy expiry).
   * Counts keyspace_hits/misses and emits `keymiss` (lookupKeyReadWithFlags in db.c).
   */
  lookupRead(key: string): Value | undefined {
    let v: Value | undefined;
    let h = 0;
    if (this.expires.size === 0 || !this.expireIfNeeded(key)) {
      h = hashKey(key);
      v = this.segments[this.segmentIndex(h)]!.get(key);
    }
    if (v === undefined) {
      this.ks.stats.keyspaceMisses++;
      this.ks.notify(NOTIFY_KEY_MISS, 'keymiss', key, this.id);
    } else {
      this.ks.stats.keyspaceHits++;
      this.touch(h, v);
      if (typeof v !== 'string' && v.memCount === MEM_COUNT_PACKED) this.ks.notePackedLookup(this, key, v);
    }
    return v;
  }

  /** Records an access to a key's value in its access clock (lookupKey's LRU/LFU update). */
  private touch(h: number, v: Value): void {
    const ks = this.ks;
    if (ks.lfu) {
      if (typeof v === 'string') {
        const i = h & this.lruMask;
        this.lruTable[i] = updateLfu(ks, this.lruTable[i]!);
      } else {
        v.lru = updateLfu(ks, v.lru);
      }
    } else if (typeof v === 'string') {
      this.lruTable[h & this.lruMask] = ks.lruClock;
    } else {
      v.lru = ks.lruClock;
    }
  }

  /** The access clock of an existing key's value (24-bit LRU or LFU value, see lru.ts). */
  lruOf(key: string, v: Value): number {
    return typeof v === 'string' ? this.lruTable[hashKey(key) & this.lruMask]! : v.lru;
  }

  /**
   * The access clock of `key` when it exists (expired or not), else -1: one hash of the key for
   * both the lookup and the string clock table (eviction sampling).
   */
  lruIfPresent(key: string): number {
    const h = hashKey(key);
    const v = this.segments[this.segmentIndex(h)]!.get(key);
    if (v === undefined) return -1;
    return typeof v === 'string' ? this.lruTable[h & this.lruMask]! : v.lru;
  }

  /** Sets the access clock of an existing key's value (RESTORE IDLETIME/FREQ, RDB loading). */
  setLru(key: string, v: Value, lru: number): void {
    if (typeof v === 'string') this.lruTable[hashKey(key) & this.lruMask] = lru;
    else v.lru = lru;
  }

  /** Value of `key` without touching stats or notifications (EXISTS-like internal checks). */
  peek(key: string): Value | undefined {
    if (this.expires.size > 0 && this.expireIfNeeded(key)) return undefined;
    return this.segmentOf(key).get(key);
  }

  /**
   * Value of `key` for a command that may change it in place, or undefined. Calls the snapshot
   * guard for the key's segment, so the caller may mutate the returned object; it must then call
   * {@link modified}.
   */
  lookupWrite(key: string): Value | undefined {
    if (this.expires.size > 0 && this.expireIfNeeded(key)) return undefined;
    const h = hashKey(key);
    const idx = this.segmentIndex(h);
    const seg = this.segments[idx]!;
    const v = seg.get(key);
    if (v !== undefined) {
      if (this.ks.guard !== null) this.ks.guard(this, idx, key, GUARD_MUTATE);
      this.touch(h, v);
      if (typeof v !== 'string' && v.memCount === MEM_COUNT_PACKED) this.ks.notePackedLookup(this, key, v);
    }
    return v;
  }

  /** True when the key exists (and is not expired). */
  exists(key: string): boolean {
    return this.peek(key) !== undefined;
  }

  /** Expire time of `key` in Unix ms, or -1 when it has none. Does not check existence. */
  getExpire(key: string): number {
    if (this.expires.size === 0) return -1;
    const t = this.expires.get(key);
    return t === undefined ? -1 : t;
  }

  // ---- writes ---------------------------------------------------------------------------

  /**
   * Sets `key` to `value` (setKey in db.c): adds or overwrites. `expireAt`: a Unix ms time to
   * set, `'keep'` to keep an existing TTL (KEEPTTL), or undefined to clear it. Counts one dirty
   * change and signals the key as modified.
   */
  setKey(key: string, value: Value, expireAt?: number | 'keep'): void {
    // setKey's lookupKeyWrite in Redis: a key whose time is past goes first, as an expiry (its
    // `expired` event, expired_keys, a propagated DEL), whatever the command that replaces it
    if (this.expires.size > 0) this.expireIfNeeded(key);
    const h = hashKey(key);
    const idx = this.segmentIndex(h);
    const seg = this.segments[idx]!;
    const ks = this.ks;
    if (ks.guard !== null) ks.guard(this, idx, key, GUARD_REPLACE);
    if (this.stringEnc.size !== 0) this.stringEnc.delete(key);
    let had: boolean;
    if (ks.onRelease === null && !ks.lfu && !ks.accounting) {
      // nothing needs the old value: one hash lookup instead of get + set
      const n = seg.size;
      seg.set(key, value);
      had = seg.size === n;
      if (typeof value === 'string') this.lruTable[h & this.lruMask] = ks.lruClock;
      else value.lru = ks.lruClock;
    } else {
      const old = seg.get(key);
      had = old !== undefined;
      if (ks.accounting) this.account(key, old, value, had && this.expires.has(key), expireAt === undefined ? false : expireAt === 'keep' ? null : true);
      seg.set(key, value);
      if (old !== undefined && old !== value && typeof old !== 'string' && ks.onRelease !== null) ks.onRelease(this, key, old);
      // A new value starts a fresh access clock; under LFU an overwrite keeps the counter (dbSetValue).
      if (!had || !ks.lfu) {
        if (typeof value === 'string') this.lruTable[h & this.lruMask] = newLru(ks);
        else value.lru = newLru(ks);
      } else if (typeof value !== 'string') {
        value.lru = typeof old === 'string' ? this.lruTable[h & this.lruMask]! : old!.lru;
      } else if (typeof old !== 'string') {
        this.lruTable[h & this.lruMask] = old!.lru;
      }
    }
    if (!had) {
      this.size++;
      if (this.size > this.lruTable.length) this.growLruTable();
      this.maybeGrow();
      this.ks.notify(NOTIFY_NEW, 'new', key, this.id);
    }
    if (expireAt === undefined) {
      if (had && this.expires.size > 0) this.expires.delete(key);
    } else if (expireAt !== 'keep') {
      this.expires.set(key, expireAt > MAX_EXPIRE_MS ? MAX_EXPIRE_MS : expireAt);
    }
    this.ks.dirty++;
    this.ks.keyModified(this, key);
  }

  /**
   * Adds `key` while a dataset loads (RDB, LevelDB; dbAddRDBLoad in db.c): as {@link setKey}
   * but without what only clients need — no dirty count, keyspace notification or modified-key
   * signal (a load is not a change: Redis counts none either), and no snapshot guard (loads fill
   * a staging keyspace, or the live one before any client or snapshot runs; with a guard
   * installed it falls back to setKey). `expireAt`: Unix ms or -1.
   * @returns false when the key existed (its value and TTL are replaced: the caller decides
   *   whether a duplicate is an error)
   */
  loadKey(key: string, value: Value, expireAt: number): boolean {
    const ks = this.ks;
    if (ks.guard !== null) {
      const before = this.size;
      this.setKey(key, value, expireAt === -1 ? undefined : expireAt);
      return this.size !== before;
    }
    const h = hashKey(key);
    const seg = this.segments[this.segmentIndex(h)]!;
    if (ks.accounting) {
      const old = seg.get(key);
      this.account(key, old, value, old !== undefined && this.expires.has(key), expireAt !== -1);
    }
    const n = seg.size;
    seg.set(key, value);
    const added = seg.size !== n;
    if (!added && this.stringEnc.size !== 0) this.stringEnc.delete(key);
    const lru = newLru(ks);
    if (typeof value === 'string') this.lruTable[h & this.lruMask] = lru;
    else value.lru = lru;
    if (added) {
      this.size++;
      if (this.size > this.lruTable.length) this.growLruTable();
      this.maybeGrow();
    }
    if (expireAt !== -1) this.expires.set(key, expireAt > MAX_EXPIRE_MS ? MAX_EXPIRE_MS : expireAt);
    else if (!added && this.expires.size > 0) this.expires.delete(key);
    return added;
  }

  /**
   * Records that the value of `key` (obtained with {@link lookupWrite}) was changed in place by
   * `changes` element changes (the command's dirty increment).
   */
  modified(key: string, changes = 1): void {
    if (this.ks.accounting) this.reestimate(key);
    this.ks.dirty += changes;
    this.ks.keyModified(this, key);
  }

  /**
   * Estimates a collection stored under `key` again after it changed in place (O(samples), see
   * memory.ts), for the maxmemory accounting only: {@link modified} does it with its signals; a
   * command that filled a collection after storing it with setKey calls this instead.
   */
  reestimate(key: string): void {
    if (!this.ks.accounting) return;
    const v = this.segmentOf(key).get(key);
    if (v !== undefined && typeof v !== 'string') {
      const before = v.mem;
      this.memBytes += recordValueBytes(v) - before;
    }
  }

  /**
   * Marks the string value just stored at `key` as Redis would encode it whatever its content
   * (STR_RAW: built in place; STR_NOINT: never int-encoded), for OBJECT ENCODING.
   */
  markStringEncoding(key: string, how: number): void {
    this.stringEnc.set(key, how);
  }

  /**
   * Copies the OBJECT ENCODING mark of `key` to `toKey` of `to`, after the value was stored there
   * (RENAME, MOVE and COPY keep a string's encoding: the object moves, or dupStringObject keeps it).
   */
  copyStringEncoding(key: string, to: Database, toKey: string): void {
    if (this.stringEnc.size === 0) return;
    const how = this.stringEnc.get(key);
    if (how !== undefined) to.stringEnc.set(toKey, how);
  }

  /** True when the integer string at `key` is an object of its own (STR_UNSHARED), not a shared integer. */
  unsharedInteger(key: string): boolean {
    return this.stringEnc.size !== 0 && this.stringEnc.get(key) === STR_UNSHARED;
  }

  /** OBJECT ENCODING of the string `v` stored at `key` (createStringObject/tryObjectEncoding rules). */
  stringEncodingOf(key: string, v: string): string {
    const how = this.stringEnc.size !== 0 ? this.stringEnc.get(key) : undefined;
    if (how === STR_RAW) return 'raw';
    if (how === STR_NOINT) return v.length <= EMBSTR_MAX ? 'embstr' : 'raw';
    return stringEncoding(v);
  }

  /** Deletes `key`; true when it existed. Counts one dirty change and signals the key. */
  deleteKey(key: string): boolean {
    if (this.expires.size > 0 && this.expireIfNeeded(key)) return false;
    if (!this.removeRaw(key)) return false;
    this.ks.dirty++;
    this.ks.keyModified(this, key);
    return true;
  }

  /** Sets the expire time (Unix ms) of an existing key. Counts one dirty change. */
  setExpire(key: string, whenMs: number): void {
    const idx = this.segmentIndex(hashKey(key));
    if (this.ks.guard !== null) this.ks.guard(this, idx, key, GUARD_REPLACE);
    if (this.ks.accounting && !this.expires.has(key)) this.memBytes += EXPIRE_ENTRY;
    this.expires.set(key, whenMs > MAX_EXPIRE_MS ? MAX_EXPIRE_MS : whenMs);
    this.ks.dirty++;
    this.ks.keyModified(this, key);
  }

  /** Removes the TTL of `key`; true when it had one. Counts one dirty change when it did. */
  removeExpire(key: string): boolean {
    if (!this.expires.has(key)) return false;
    const idx = this.segmentIndex(hashKey(key));
    if (this.ks.guard !== null) this.ks.guard(this, idx, key, GUARD_REPLACE);
    if (this.ks.accounting) this.memBytes -= EXPIRE_ENTRY;
    this.expires.delete(key);
    this.ks.dirty++;
    this.ks.keyModified(this, key);
    return true;
  }

  /**
   * Deletes an expired key now (lazy or active expiry): propagates DEL, notifies `expired`, counts
   * expired_keys. Returns true when `key` was expired and is gone.
   */
  expireIfNeeded(key: string): boolean {
    const when = this.expires.get(key);
    // keyIsExpired: a key expires once the time is strictly past its expire time
    if (when === undefined || when >= this.ks.now()) return false;
    if (this.ks.loading) return false;
    this.removeRaw(key);
    this.ks.stats.expiredKeys++;
    this.ks.keyExpired(this, key);
    return true;
  }

  /**
   * Deletes `key` to free memory (performEvictions' deletion), as {@link expireIfNeeded} does for
   * expiry: counts evicted_keys and lets the keyspace signal, notify and propagate it
   * ({@link Keyspace.keyEvicted}; UNLINK when `lazy`). Returns false when the key was gone.
   */
  evict(key: string, lazy: boolean): boolean {
    if (!this.removeRaw(key)) return false;
    this.ks.stats.evictedKeys++;
    this.ks.keyEvicted(this, key, lazy);
    return true;
  }

  /** Removes a key and its TTL with the snapshot guard but without counting or signalling. */
  private removeRaw(key: string): boolean {
    const idx = this.segmentIndex(hashKey(key));
    const seg = this.segments[idx]!;
    const old = seg.get(key);
    if (old === undefined) return false;
    if (this.ks.guard !== null) this.ks.guard(this, idx, key, GUARD_DELETE);
    if (this.ks.accounting) {
      this.memBytes -= keyBytes(key) + recordedBytes(old) + (this.expires.size > 0 && this.expires.has(key) ? EXPIRE_ENTRY : 0);
    }
    seg.delete(key);
    if (this.stringEnc.size !== 0) this.stringEnc.delete(key);
    if (typeof old !== 'string' && this.ks.onRelease !== null) this.ks.onRelease(this, key, old);
    if (this.expires.size > 0) this.expires.delete(key);
    this.size--;
    return true;
  }

  /**
   * Empties the database (FLUSHDB). The old segment Maps are dropped, never mutated, so a running
   * snapshot that holds them keeps a consistent view without serializing anything here.
   */
  clear(): number {
    const removed = this.size;
    this.ks.dbReplaced(this, null);
    this.segments = [new Map()];
    this.level = 0;
    this.splitNext = 0;
    this.expires = new Map();
    this.expireCursor = null;
    this.stringEnc = new Map();
    this.size = 0;
    this.memBytes = 0;
    this.lruTable = new Uint32Array(LRU_TABLE_MIN).fill(newLru(this.ks));
    this.lruMask = LRU_TABLE_MIN - 1;
    return removed;
  }

  /** Takes over the contents of `other` (SWAPDB): segments, expires and size are exchanged. */
  swapWith(other: Database): void {
    this.ks.dbReplaced(this, other);
    this.ks.dbReplaced(other, this);
    const fields = ['segments', 'level', 'splitNext', 'expires', 'size', 'expireCursor', 'lruTable', 'lruMask', 'memBytes', 'stringEnc'] as const;
    for (const f of fields) {
      const a = this[f as keyof this];
      (this as Record<string, unknown>)[f] = other[f as keyof Database];
      (other as unknown as Record<string, unknown>)[f] = a;
    }
  }

  /**
   * Accounting of one key's change (setKey, loadKey), called before the Map changes: `old` the
   * value it replaces (undefined for a new key), `hadTtl` whether it had a TTL, `ttl` whether it
   * has one after (true), not (false) or unchanged (null, KEEPTTL).
   */
  private account(key: string, old: Value | undefined, value: Value, hadTtl: boolean, ttl: boolean | null): void {
    let d = old === undefined ? keyBytes(key) : -recordedBytes(old);
    d += recordValueBytes(value);
    if (ttl !== null && ttl !== hadTtl) d += ttl ? EXPIRE_ENTRY : -EXPIRE_ENTRY;
    this.memBytes += d;
  }

  /** Estimates every key again (maxmemory accounting turned on): sets and returns memBytes. */
  recount(): number {
    let bytes = this.expires.size * EXPIRE_ENTRY;
    for (const seg of this.segments) for (const [k, v] of seg) bytes += keyBytes(k) + recordValueBytes(v, true);
    this.memBytes = bytes;
    return bytes;
  }

  // ---- iteration --------------------------------------------------------------------------

  /**
   * One SCAN step (dictScan's reverse-binary cursor over the base segments): calls `fn` for every
   * key whose hash has low bits equal to the cursor's, then returns the next cursor (0 = done).
   * A key present for a whole iteration is returned at least once even as the table grows.
   */
  scanStep(cursor: bigint, fn: (key: string, value: Value) => void): bigint {
    const base = 1 << this.level;
    const mask = base - 1;
    const i = Number(cursor & BigInt(mask));
    const visit = (seg: Map<string, Value> | undefined): void => {
      if (seg) for (const [k, v] of seg) fn(k, v);
    };
    visit(this.segments[i]);
    if (i < this.splitNext) visit(this.segments[i + base]);
    return BigInt(nextScanCursor(i, mask));
  }

  /** Iterates every key (KEYS, snapshot fallback); expired keys included: callers check. */
  *entries(): IterableIterator<[string, Value]> {
    for (const seg of this.segments) yield* seg;
  }

  /** A uniformly random segment's random key, or undefined when empty (RANDOMKEY). */
  randomKey(): string | undefined {
    if (this.size === 0) return undefined;
    for (let attempts = 0; attempts < 1000; attempts++) {
      const seg = this.segments[Math.floor(Math.random() * this.segments.length)]!;
      if (seg.size === 0) continue;
      let n = Math.floor(Math.random() * seg.size);
      for (const k of seg.keys()) if (n-- === 0) return k;
    }
    for (const seg of this.segments) for (const k of seg.keys()) return k;
    return undefined;
  }

  // ---- growth -------------------------------------------------------------------------------

  /** Doubles the string access-clock table; slot i of the new table inherits old slot i & oldMask. */
  private growLruTable(): void {
    const old = this.lruTable;
    const t = new Uint32Array(old.length * 2);
    t.set(old, 0);
    t.set(old, old.length);
    this.lruTable = t;
    this.lruMask = t.length - 1;
  }

  /**
   * Sizes an empty database for about `keys` keys at once (dictExpand on RESIZEDB in rdbLoad), so
   * a load does not split its segments one by one while it fills them. Does nothing when the
   * database holds keys or a snapshot blocks growth. `keys` is a hint: the caller bounds it by
   * what its input can hold (a corrupt file may claim any number).
   */
  reserve(keys: number): void {
    if (this.size !== 0 || this.segments.length !== 1 || this.ks.growthBlocked) return;
    const n = Math.min(Math.ceil(keys / SPLIT_LOAD), MAX_RESERVED_SEGMENTS);
    if (n <= 1) return;
    // a linear-hashing table of n segments: 2^level base segments, the first splitNext split
    this.level = 31 - Math.clz32(n);
    this.splitNext = n - (1 << this.level);
    const segs = new Array<Map<string, Value>>(n);
    for (let i = 0; i < n; i++) segs[i] = new Map();
    this.segments = segs;
    // the access-clock table too: about one slot per key, without doubling its way there
    let slots = this.lruTable.length;
    while (slots < keys && slots < MAX_RESERVED_SEGMENTS * SPLIT_LOAD) slots *= 2;
    if (slots > this.lruTable.length) {
      this.lruTable = new Uint32Array(slots).fill(newLru(this.ks));
      this.lruMask = slots - 1;
    }
  }

  private maybeGrow(): void {
    if (this.size <= this.segments.length * SPLIT_LOAD || this.ks.growthBlocked) return;
    this.splitOne();
  }

  /** Splits segment `splitNext` into itself and its sibling `splitNext + 2^level`. */
  private splitOne(): void {
    const base = 1 << this.level;
    const i = this.splitNext;
    // The segment keeps its keys of the low half in place: allocating two fresh Maps would leave
    // the old (long-lived, hence old-generation) hash table behind as garbage at every split.
    // Deleting while iterating a Map is safe: entries not yet visited are still visited.
    const lo = this.segments[i]!;
    const hi = new Map<string, Value>();
    for (const [k, v] of lo) {
      if (hashKey(k) & base) {
        hi.set(k, v);
        lo.delete(k);
      }
    }
    this.segments.push(hi); // index i + base, since segments.length === base + splitNext
    this.splitNext++;
    if (this.splitNext === base) {
      this.level++;
      this.splitNext = 0;
    }
  }
}

/** The bytes last recorded for a stored value: a string's by formula, a collection's `mem`. */
function recordedBytes(v: Value): number {
  return typeof v === 'string' ? recordValueBytes(v) : v.mem;
}
