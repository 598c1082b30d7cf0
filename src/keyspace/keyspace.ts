import { Database } from './database.js';
import { NOTIFY_EXPIRED, NOTIFY_EVICTED } from './notify.js';
import type { GuardChange } from './guard.js';
import type { RObject } from './types/object.js';
import { MEM_COUNT_PACKED, inPackedForm } from './memory.js';

/** Counters the keyspace keeps for INFO stats. */
export interface KeyspaceStats {
  expiredKeys: number;
  expiredStalePerc: number;
  expiredTimeCapReachedCount: number;
  expireCycleCpuMs: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  /** keys deleted by maxmemory eviction (stat_evictedkeys) */
  evictedKeys: number;
}

/**
 * Receives the effects of writes in propagation order (DESIGN.md "Effects"): the AOF writer and,
 * later, replication. `db` is the database the argv applies to.
 */
export type EffectSink = (db: number, argv: string[]) => void;

/**
 * All databases plus the mechanisms the keyspace gate drives for every command: dirty counter,
 * modified-key signal (WATCH, client tracking, LevelDB change capture), keyspace notifications,
 * the snapshot guard, and the effects of expiry.
 */
export class Keyspace {
  dbs: Database[];
  /** changes since the last successful save (server.dirty) */
  dirty = 0;
  stats: KeyspaceStats = {
    expiredKeys: 0, expiredStalePerc: 0, expiredTimeCapReachedCount: 0, expireCycleCpuMs: 0,
    keyspaceHits: 0, keyspaceMisses: 0, evictedKeys: 0,
  };
  /** true while a dataset loads: expiry is suspended, as in Redis */
  loading = false;
  /** true while a snapshot runs: segments must not split */
  growthBlocked = false;
  /**
   * Snapshot guard: called before anything changes a key (write, delete, expiry, TTL change)
   * with its database, segment index, the key and how it changes ({@link GuardChange}); for
   * GUARD_MUTATE (the value object may be changed in place) whatever the key's segment. Null when
   * no snapshot runs.
   */
  guard: ((db: Database, segment: number, key: string, change: GuardChange) => void) | null = null;
  /**
   * Bytes the running snapshot keeps apart from the keyspace (segment copies: the values it
   * still has to write and writers have replaced), or null when none runs. maxmemory does not
   * count them, as Redis does not count a fork's copy-on-write.
   */
  snapshotRetained: (() => number) | null = null;
  /**
   * Called when a collection value leaves `key` (overwritten, deleted, expired) with that value:
   * the LevelDB engine's capture reclaims the value's records unless it reappears elsewhere
   * (RENAME, MOVE). Null when nobody listens.
   */
  onRelease: ((db: Database, key: string, old: RObject) => void) | null = null;
  /** Listeners of signalModifiedKey (WATCH, tracking, change capture). */
  private modifiedListeners: Array<(db: Database, key: string) => void> = [];
  /** Publishes a keyspace notification; set by the pub/sub layer. */
  notifier: ((type: number, event: string, key: string, dbid: number) => void) | null = null;
  /** Receives effects (expired-key DELs); set by the server's propagation. */
  effects: EffectSink | null = null;
  /** The clock for expiry, Unix ms; a function so tests and DEBUG can steer it. */
  now: () => number = Date.now;
  /**
   * Access-clock state (see lru.ts): Unix seconds and the 24-bit LRU clock as of the last cron
   * tick, whether an LFU maxmemory policy is selected, and the LFU parameters. Kept here so the
   * gate's lookups read fields instead of the config or the system time.
   */
  clockSec = Math.floor(Date.now() / 1000);
  lruClock = this.clockSec & 0xffffff;
  lfu = false;
  lfuLogFactor = 10;
  lfuDecayTime = 1;

  /**
   * True while maxmemory is set: every database keeps `memBytes`, its estimated dataset bytes
   * (memory.ts), which the eviction measure follows between garbage collections.
   */
  accounting = false;

  constructor(databases: number) {
    this.dbs = Array.from({ length: databases }, (_, i) => new Database(this, i));
  }

  /** Registers a listener of modified keys (signalModifiedKey). */
  onKeyModified(fn: (db: Database, key: string) => void): void {
    this.modifiedListeners.push(fn);
  }

  private dbReplacedListeners: Array<(db: Database, other: Database | null) => void> = [];

  /**
   * Registers a listener called before a whole database is emptied (FLUSHDB/FLUSHALL, `other`
   * null) or exchanged with `other` (SWAPDB): touchAllWatchedKeysInDb's hook point.
   */
  onDbReplaced(fn: (db: Database, other: Database | null) => void): void {
    this.dbReplacedListeners.push(fn);
  }

  /** Called by Database.clear/swapWith before the contents change. */
  dbReplaced(db: Database, other: Database | null): void {
    for (const l of this.dbReplacedListeners) l(db, other);
  }

  /** signalModifiedKey: a key's value or TTL changed, or it was deleted. */
  keyModified(db: Database, key: string): void {
    const ls = this.modifiedListeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(db, key);
  }

  /** notifyKeyspaceEvent: `type` is a NOTIFY_* class. */
  notify(type: number, event: string, key: string, dbid: number): void {
    if (this.notifier !== null) this.notifier(type, event, key, dbid);
  }

  /** An expired key was removed: notify, signal, propagate DEL (deleteExpiredKeyAndPropagate). */
  keyExpired(db: Database, key: string): void {
    this.notify(NOTIFY_EXPIRED, 'expired', key, db.id);
    this.keyModified(db, key);
    if (this.effects !== null) this.effects(db.id, ['DEL', key]);
  }

  /**
   * Turns the dataset accounting on (a full count, O(keys): when maxmemory is set at run time)
   * or off. Returns the estimated dataset bytes.
   */
  setAccounting(on: boolean): number {
    this.accounting = on;
    let bytes = 0;
    for (const db of this.dbs) bytes += on ? db.recount() : (db.memBytes = 0);
    return bytes;
  }

  /** (db, key, value) of lookups of values estimated in a packed form, see {@link settlePacked} */
  private packedLookups: Array<Database | string | RObject> = [];

  /**
   * A lookup found `v`, estimated in the packed form of an RDB load (memory.ts MEM_COUNT_PACKED):
   * the command may build its real structure (a read too), which no write re-estimates.
   */
  notePackedLookup(db: Database, key: string, v: RObject): void {
    if (this.accounting) this.packedLookups.push(db, key, v);
  }

  /**
   * Estimates again the values looked up in a packed form that have left it since, so the
   * accounting follows their growth (O(lookups noted); run by {@link datasetBytes}).
   */
  settlePacked(): void {
    const l = this.packedLookups;
    if (l.length === 0) return;
    this.packedLookups = [];
    for (let i = 0; i < l.length; i += 3) {
      const db = l[i] as Database;
      const key = l[i + 1] as string;
      const v = l[i + 2] as RObject;
      if (db.segmentOf(key).get(key) === v && v.memCount === MEM_COUNT_PACKED && !inPackedForm(v)) db.reestimate(key);
    }
  }

  /** Estimated bytes of every database's keys, values and TTLs (0 while accounting is off). */
  datasetBytes(): number {
    this.settlePacked();
    let n = 0;
    for (const db of this.dbs) n += db.memBytes;
    return n;
  }

  /**
   * An evicted key was removed (Database.evict): signal, notify `evicted`, propagate DEL, or
   * UNLINK when `lazy` (performEvictions' signalModifiedKey, notify, propagateDeletion).
   */
  keyEvicted(db: Database, key: string, lazy: boolean): void {
    this.keyModified(db, key);
    this.notify(NOTIFY_EVICTED, 'evicted', key, db.id);
    if (this.effects !== null) this.effects(db.id, [lazy ? 'UNLINK' : 'DEL', key]);
  }

  /** Empties every database (FLUSHALL); returns the number of keys removed. */
  flushAll(): number {
    let n = 0;
    for (const db of this.dbs) n += db.clear();
    return n;
  }
}
