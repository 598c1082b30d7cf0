import type { Keyspace } from './keyspace.js';
import { updateClock } from './lru.js';

/** ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP: keys with a TTL checked per loop at effort 1. */
const KEYS_PER_LOOP = 20;
/** ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC: % of CPU the cycle may use at effort 1. */
const SLOW_TIME_PERC = 25;
/** ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE: % of expired keys among the checked ones that is fine. */
const ACCEPTABLE_STALE = 10;
/** CRON_DBS_PER_CALL */
const DBS_PER_CALL = 16;

/** Next database to test (`current_db` of activeExpireCycle). */
let currentDb = 0;
/** Whether the previous call hit its time limit (then every database is tested). */
let timelimitExit = false;

/**
 * The active expiry cycle, activeExpireCycle(ACTIVE_EXPIRE_CYCLE_SLOW) of Redis 7.0
 * (src/expire.c), run by the cron `hz` times a second. It also refreshes the keyspace's cached
 * LRU clock (serverCron does that in Redis), since both run on every tick.
 *
 * For each database in turn (16 per call, or all of them after a call that ran out of time) it
 * checks batches of keys with a TTL and deletes the expired ones (with their DEL propagation and
 * `expired` notification), and goes on with the same database while more than 10% of a batch
 * had expired (the share of stale keys Redis accepts). So when few keys are stale the cycle costs
 * almost nothing, and when many are, it reclaims them as fast as its time limit allows.
 *
 * Redis walks the buckets of the expires dict with a persistent cursor; Amber walks the expires
 * Map with a persistent iterator (`Database.expireCursor`), which has the same property: every key
 * with a TTL is visited in turn, so keys that are never read again are still reclaimed.
 *
 * Work per call is bounded by time: 25% of the cron period at effort 1, plus 2% per effort step,
 * checked every 16 batches. Counters for INFO (expired_keys, expired_stale_perc,
 * expired_time_cap_reached_count, expire_cycle_cpu_milliseconds) are kept in `ks.stats`.
 * @param hz cron frequency (calls per second)
 * @param effort `active-expire-effort`, 1..10
 */
export function activeExpireCycle(ks: Keyspace, hz: number, effort: number): void {
  updateClock(ks);
  if (ks.loading || !activeExpireEnabled) return;
  const e = Math.max(1, Math.min(10, effort)) - 1;
  const keysPerLoop = KEYS_PER_LOOP + (KEYS_PER_LOOP / 4) * e;
  const acceptableStale = ACCEPTABLE_STALE - e;
  const timelimitMs = Math.max(0.001, ((SLOW_TIME_PERC + 2 * e) * 1000) / Math.max(1, hz) / 100);
  const start = performance.now();
  const dbs = ks.dbs;
  let dbsPerCall = DBS_PER_CALL;
  if (dbsPerCall > dbs.length || timelimitExit) dbsPerCall = dbs.length;
  timelimitExit = false;
  let totalSampled = 0;
  let totalExpired = 0;
  let iteration = 0;

  for (let j = 0; j < dbsPerCall && !timelimitExit; j++) {
    const db = dbs[currentDb % dbs.length]!;
    currentDb = (currentDb + 1) % dbs.length;
    let sampled = 0;
    let expired = 0;
    do {
      iteration++;
      const num = db.expires.size;
      if (num === 0) break;
      const now = ks.now();
      const batch = num < keysPerLoop ? num : keysPerLoop;
      sampled = 0;
      expired = 0;
      let it = db.expireCursor ?? db.expires.entries();
      while (sampled < batch) {
        let r = it.next();
        if (r.done) {
          // wrapped around: start a new pass over the map
          it = db.expires.entries();
          r = it.next();
          if (r.done) break;
        }
        sampled++;
        const [key, when] = r.value;
        // activeExpireCycleTryExpire: expired when the time is strictly past the expire time
        if (when < now && db.expireIfNeeded(key)) expired++;
      }
      // expireIfNeeded may have emptied the database (clear/swap reset the cursor themselves)
      if (db.expires.size > 0) db.expireCursor = it;
      totalSampled += sampled;
      totalExpired += expired;
      if ((iteration & 0xf) === 0 && performance.now() - start > timelimitMs) {
        timelimitExit = true;
        ks.stats.expiredTimeCapReachedCount++;
        break;
      }
    } while (sampled === 0 || Math.floor((expired * 100) / sampled) > acceptableStale);
  }
  ks.stats.expireCycleCpuMs += performance.now() - start;
  const perc = totalSampled ? totalExpired / totalSampled : 0;
  ks.stats.expiredStalePerc = perc * 0.05 + ks.stats.expiredStalePerc * 0.95;
}

/** DEBUG SET-ACTIVE-EXPIRE 0|1: whether the cron expires keys actively. */
export let activeExpireEnabled = true;
/** Turns active expiry on or off (DEBUG SET-ACTIVE-EXPIRE). */
export function setActiveExpire(on: boolean): void {
  activeExpireEnabled = on;
}
