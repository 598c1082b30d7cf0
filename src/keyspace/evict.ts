import { performance } from 'node:perf_hooks';
import type { Keyspace } from './keyspace.js';
import type { Database } from './database.js';
import { estimateIdleMs, lfuDecrAndReturn } from './lru.js';

/** performEvictions results (src/evict.c). */
export const EVICT_OK = 0;
/** Memory is still over the limit, but a background eviction continues (evictionTimeProc). */
export const EVICT_RUNNING = 1;
/** Over the limit and nothing (more) can be evicted: denyoom commands get the OOM error. */
export const EVICT_FAIL = 2;
export type EvictResult = typeof EVICT_OK | typeof EVICT_RUNNING | typeof EVICT_FAIL;

/** maxmemory-policy values (Redis 7.0 names). */
export type MaxmemoryPolicy =
  | 'volatile-lru' | 'volatile-lfu' | 'volatile-random' | 'volatile-ttl'
  | 'allkeys-lru' | 'allkeys-lfu' | 'allkeys-random' | 'noeviction';

/** EVPOOL_SIZE: candidates kept between calls. */
const EVPOOL_SIZE = 16;

/**
 * maxmemory eviction as Redis 7.0's src/evict.c: {@link perform} is performEvictions, run before
 * every command while maxmemory is set. When `used()` (bytes counted against maxmemory, see
 * server/maxmemory.ts) is over `maxmemory`, it frees keys by the policy until the excess is
 * freed, measuring what each deletion frees with the keyspace's dataset accounting:
 * - `*-lru`, `*-lfu`, `volatile-ttl`: the eviction pool. Each round samples `maxmemory-samples`
 *   keys of every database (all keys, or only keys with a TTL for `volatile-*`) into a pool of
 *   the 16 best candidates by idle time, LFU counter or expire time, then evicts the best one
 *   that still exists (evictionPoolPopulate).
 * - `*-random`: a random key of the next database in turn.
 * - `noeviction`: nothing; over the limit is EVICT_FAIL.
 *
 * Sampling: Redis takes dictGetSomeKeys from random buckets; Amber takes keys from a random
 * position of random segments (for `volatile-*` keeping those with a TTL, see sampleTtl).
 *
 * Time: `maxmemory-eviction-tenacity` bounds one call (evictionTimeLimitUs: 50 us per step up to
 * 10, then +15% per step, unlimited at 100); past it a background loop continues on later
 * event-loop turns (evictionTimeProc) and commands are not refused meanwhile (EVICT_RUNNING).
 * An evicted key is deleted through the keyspace gate ({@link Database.evict}): the
 * snapshot guard, `evicted` notification, WATCH, evicted_keys, and DEL (UNLINK with
 * lazyfree-lazy-eviction) propagated to the AOF and the LevelDB engine.
 */
export class Evictor {
  /** bytes; 0 disables eviction */
  maxmemory = 0;
  policy: MaxmemoryPolicy = 'noeviction';
  samples = 5;
  tenacity = 10;
  /** lazyfree-lazy-eviction: propagate UNLINK instead of DEL */
  lazy = false;
  /** true while a dataset loads or clients are paused for writes: no eviction (isSafeToPerformEvictions) */
  unsafe: () => boolean = () => false;
  /** stat_total_eviction_exceeded_time, microseconds */
  totalExceededUs = 0;
  /** performance.now() when the limit was first exceeded without relief, 0 when not */
  exceededSince = 0;
  /**
   * The eviction pool (EvictionPoolLRU) as parallel arrays, ascending by idle score, `poolLen`
   * entries: larger scores are better candidates (idle ms for LRU, 255 - counter for LFU, minus
   * the expire time for TTL). Entries are shifted in place, as Redis's pool does.
   */
  private poolIdle = new Float64Array(EVPOOL_SIZE);
  private poolKey: string[] = new Array<string>(EVPOOL_SIZE).fill('');
  private poolDb = new Int32Array(EVPOOL_SIZE);
  private poolLen = 0;
  private sampled: string[] = [];
  private nextDb = 0;
  private procRunning = false;
  private stopped = false;
  /**
   * The server's latency monitor (structurally: the keyspace layer does not import the server's),
   * told of `eviction-cycle` and `eviction-del` durations in ms, as performEvictions reports them.
   */
  latency: { readonly threshold: number; addSampleIfNeeded(event: string, ms: number): void } | null = null;
  /** persistent iterators over each database's expires Map, for volatile sampling */
  private ttlCursors = new Map<Database, { map: Map<string, number>; it: Iterator<string> }>();

  /**
   * @param ks the keyspace to evict from
   * @param used bytes currently counted against maxmemory
   */
  constructor(private readonly ks: Keyspace, public used: () => number) {}

  /** current_eviction_exceeded_time, microseconds. */
  currentExceededUs(): number {
    return this.exceededSince === 0 ? 0 : Math.round((performance.now() - this.exceededSince) * 1000);
  }

  /** CONFIG RESETSTAT: the exceeded-time counters back to zero (resetServerStats). */
  resetStats(): void {
    this.totalExceededUs = 0;
    this.exceededSince = 0;
  }

  /** True while the background eviction loop runs (isEvictionProcRunning). */
  get running(): boolean {
    return this.procRunning;
  }

  /** Stops the background loop for good (server shutdown). */
  stop(): void {
    this.stopped = true;
  }

  /** Starts the background loop unless it runs (startEvictionTimeProc, CONFIG SET maxmemory). */
  startProc(): void {
    if (this.procRunning || this.stopped) return;
    this.procRunning = true;
    const tick = (): void => {
      if (!this.stopped && this.perform() === EVICT_RUNNING) setImmediate(tick);
      else this.procRunning = false;
    };
    setImmediate(tick);
  }

  /** performEvictions: frees memory down to maxmemory when possible. */
  perform(): EvictResult {
    if (this.maxmemory === 0 || this.unsafe()) return EVICT_OK;
    const used = this.used();
    let result: EvictResult;
    if (used <= this.maxmemory) result = EVICT_OK;
    else if (this.policy === 'noeviction') result = EVICT_FAIL;
    else result = this.evict(used - this.maxmemory);
    // update_metrics
    if (result !== EVICT_OK) {
      if (this.exceededSince === 0) this.exceededSince = performance.now();
    } else if (this.exceededSince !== 0) {
      this.totalExceededUs += Math.round((performance.now() - this.exceededSince) * 1000);
      this.exceededSince = 0;
    }
    return result;
  }

  /** The eviction loop of performEvictions for `toFree` bytes over the limit, timed as `eviction-cycle`. */
  private evict(toFree: number): EvictResult {
    const latency = this.latency !== null && this.latency.threshold !== 0 ? this.latency : null;
    if (latency === null) return this.evictLoop(toFree, null);
    const t0 = performance.now();
    const result = this.evictLoop(toFree, latency);
    latency.addSampleIfNeeded('eviction-cycle', performance.now() - t0);
    return result;
  }

  /** {@link evict}'s loop; with `latency`, each deletion is timed as `eviction-del`. */
  private evictLoop(toFree: number, latency: Evictor['latency']): EvictResult {
    const t0 = performance.now();
    const limitMs = timeLimitUs(this.tenacity) / 1000;
    let freed = 0;
    let keysFreed = 0;
    while (freed < toFree) {
      const victim = this.policy.endsWith('-random') ? this.pickRandom() : this.pickFromPool();
      if (victim === null) return EVICT_FAIL; // nothing left to evict
      const db = this.ks.dbs[victim.db]!;
      const before = db.memBytes;
      const delStart = latency !== null ? performance.now() : 0;
      if (!db.evict(victim.key, this.lazy)) continue;
      if (latency !== null) latency.addSampleIfNeeded('eviction-del', performance.now() - delStart);
      // at least one byte per key: a loop must end even if an estimate said a key costs nothing
      freed += Math.max(1, before - db.memBytes);
      keysFreed++;
      if (keysFreed % 16 === 0 && performance.now() - t0 > limitMs) {
        // enough for this command: go on between the next event-loop turns
        this.startProc();
        break;
      }
    }
    return this.procRunning ? EVICT_RUNNING : EVICT_OK;
  }

  /** A random key of the next non-empty database in turn (volatile: one with a TTL). */
  private pickRandom(): { db: number; key: string } | null {
    const dbs = this.ks.dbs;
    const volatile = this.policy.startsWith('volatile-');
    for (let i = 0; i < dbs.length; i++) {
      const j = (++this.nextDb) % dbs.length;
      const db = dbs[j]!;
      if (volatile) {
        if (db.expires.size === 0) continue;
        // a random one of a sample of keys with a TTL (a Map has no random access)
        const keys = this.sampled;
        keys.length = 0;
        this.sampleTtl(db, this.samples, keys);
        if (keys.length > 0) return { db: j, key: keys[Math.floor(Math.random() * keys.length)]! };
      } else {
        const key = db.randomKey();
        if (key !== undefined) return { db: j, key };
      }
    }
    return null;
  }

  /** Refills the pool from every database and takes its best existing candidate. */
  private pickFromPool(): { db: number; key: string } | null {
    const dbs = this.ks.dbs;
    const volatile = this.policy.startsWith('volatile-');
    const keys = this.sampled;
    for (;;) {
      let total = 0;
      for (let i = 0; i < dbs.length; i++) {
        const db = dbs[i]!;
        const size = volatile ? db.expires.size : db.size;
        if (size === 0) continue;
        total += size;
        keys.length = 0;
        if (volatile) this.sampleTtl(db, this.samples, keys);
        else sampleKeys(db, this.samples, keys);
        for (let j = 0; j < keys.length; j++) this.consider(db, keys[j]!);
      }
      if (total === 0) return null;
      // the best candidate is at the end; skip ghosts (deleted since they were sampled)
      while (this.poolLen > 0) {
        const n = --this.poolLen;
        const key = this.poolKey[n]!;
        const db = dbs[this.poolDb[n]!]!;
        this.poolKey[n] = '';
        const present = volatile ? db.expires.has(key) : db.segmentOf(key).has(key);
        if (present) return { db: db.id, key };
      }
    }
  }

  /** Adds a sampled key to the pool by its idle score (evictionPoolPopulate's insertion). */
  private consider(db: Database, key: string): void {
    const ks = this.ks;
    let idle: number;
    if (this.policy === 'volatile-ttl') {
      idle = -(db.expires.get(key) ?? 0);
    } else {
      const lru = db.lruIfPresent(key);
      if (lru < 0) return;
      idle = ks.lfu ? 255 - lfuDecrAndReturn(ks, lru) : estimateIdleMs(ks, lru);
    }
    const len = this.poolLen;
    const pIdle = this.poolIdle;
    const pKey = this.poolKey;
    const pDb = this.poolDb;
    if (len === EVPOOL_SIZE && idle <= pIdle[0]!) return; // worse than every candidate
    let k = 0;
    while (k < len && pIdle[k]! < idle) k++;
    // no duplicate check, as Redis: a key sampled twice is skipped as a ghost once evicted
    if (len < EVPOOL_SIZE) {
      // room at the end: shift the better ones right
      for (let i = len; i > k; i--) {
        pIdle[i] = pIdle[i - 1]!;
        pKey[i] = pKey[i - 1]!;
        pDb[i] = pDb[i - 1]!;
      }
      this.poolLen = len + 1;
    } else {
      // full: drop the worst (first) by shifting the worse ones left
      k--;
      for (let i = 0; i < k; i++) {
        pIdle[i] = pIdle[i + 1]!;
        pKey[i] = pKey[i + 1]!;
        pDb[i] = pDb[i + 1]!;
      }
    }
    pIdle[k] = idle;
    pKey[k] = key;
    pDb[k] = db.id;
  }

  /**
   * Up to `count` keys with a TTL of `db`, for volatile-* policies. Redis samples its expires
   * dict at random; a Map has no random access, so when at least one key in 8 has a TTL the
   * keys are sampled at random positions of the main segments, keeping those with a TTL, and
   * otherwise taken from a persistent cursor over the expires Map, which gives every volatile
   * key its turn (sequential, so biased by insertion order: the pool's memory of the best
   * candidates seen evens that out over rounds).
   */
  private sampleTtl(db: Database, count: number, out: string[]): void {
    if (db.expires.size <= count) {
      // as dictGetSomeKeys: a dict no bigger than the sample is sampled whole
      for (const k of db.expires.keys()) out.push(k);
      return;
    }
    if (db.expires.size * 8 >= db.size) {
      sampleKeys(db, count, out, true, count * 16);
      if (out.length > 0) return;
    }
    let cur = this.ttlCursors.get(db);
    if (cur === undefined || cur.map !== db.expires) {
      cur = { map: db.expires, it: db.expires.keys() };
      this.ttlCursors.set(db, cur);
    }
    let wrapped = false;
    while (out.length < count) {
      const r = cur.it.next();
      if (r.done === true) {
        if (wrapped) return;
        wrapped = true;
        cur.it = db.expires.keys();
        continue;
      }
      out.push(r.value);
    }
  }
}

/** evictionTimeLimitUs: microseconds one performEvictions call may spend. */
export function timeLimitUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return Math.floor(500 * Math.pow(1.15, tenacity - 10));
  return Number.MAX_SAFE_INTEGER;
}

/** Scratch of {@link sampleKeys}: the positions drawn in one segment, ascending. */
const picks: number[] = [];

/**
 * Up to `count` keys of `db` (dictGetSomeKeys), drawn at random positions of random segments.
 * Positions, not runs: a segment's Map keeps insertion order, so neighbours in it are keys of
 * about the same age, and a run of consecutive keys would sample one age, not five keys. Several
 * positions of one segment are drawn in one pass over it (a Map has no random access: reaching
 * a position costs a step per key before it), as independent in age as positions of different
 * segments would be, since a key's segment depends on its hash only. With `ttlOnly` only keys
 * with a TTL count, and at most `budget` positions are drawn.
 */
function sampleKeys(db: Database, count: number, out: string[], ttlOnly = false, budget = count * 4): void {
  const segs = db.segments;
  const expires = db.expires;
  if (!ttlOnly && db.size <= count) {
    // as dictGetSomeKeys: a dict no bigger than the sample is sampled whole
    for (const seg of segs) for (const k of seg.keys()) out.push(k);
    return;
  }
  for (let draws = 0; draws < budget && out.length < count;) {
    const seg = segs[Math.floor(Math.random() * segs.length)]!;
    const size = seg.size;
    draws++;
    if (size === 0) continue;
    const want = Math.min(count - out.length, size, budget - draws + 1);
    picks.length = 0;
    while (picks.length < want) {
      const r = Math.floor(Math.random() * size);
      if (!picks.includes(r)) picks.push(r);
    }
    picks.sort((x, y) => x - y);
    draws += want - 1;
    let i = 0;
    let j = 0;
    for (const k of seg.keys()) {
      if (i++ !== picks[j]) continue;
      if (!ttlOnly || expires.has(k)) out.push(k);
      if (++j === want) break;
    }
  }
  if (out.length === 0 && !ttlOnly && db.size > 0) {
    // a sparse table (segments do not merge after deletes): the first key from a random segment on
    let i = Math.floor(Math.random() * segs.length);
    for (let visited = 0; visited < segs.length; visited++, i = i + 1 === segs.length ? 0 : i + 1) {
      const first = segs[i]!.keys().next();
      if (first.done !== true) {
        out.push(first.value);
        return;
      }
    }
  }
}
