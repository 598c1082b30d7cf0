import type { Keyspace } from './keyspace.js';

/** Keys examined between two clock checks. */
const KEYS_PER_CLOCK_CHECK = 64;

let nextDb = 0;

/**
 * The active expiry cycle (activeExpireCycle in src/expire.c, slow mode), run by the cron `hz`
 * times a second. Redis samples random keys with a TTL; Amber walks each database's expires map
 * with a persistent iterator instead (a JS Map cannot be sampled), which visits every key with a
 * TTL in turn and so reclaims keys that are never read again. Work per call is bounded by time:
 * 25% of the cron period at effort 1, plus 2% per effort step above 1, as Redis.
 * @param hz cron frequency (calls per second)
 * @param effort `active-expire-effort`, 1..10
 */
export function activeExpireCycle(ks: Keyspace, hz: number, effort: number): void {
  if (ks.loading || !activeExpireEnabled) return;
  const start = performance.now();
  const timelimitMs = ((25 + 2 * (effort - 1)) * 1000) / hz / 100;
  const dbs = ks.dbs;
  let checked = 0;
  let expired = 0;
  let timedOut = false;
  for (let n = 0; n < dbs.length && !timedOut; n++) {
    const db = dbs[nextDb % dbs.length]!;
    nextDb = (nextDb + 1) % dbs.length;
    if (db.expires.size === 0) continue;
    const now = ks.now();
    let it = db.expireCursor ?? db.expires.entries();
    let budget = db.expires.size; // one pass over the map at most per call
    while (budget-- > 0) {
      let r = it.next();
      if (r.done) {
        it = db.expires.entries();
        r = it.next();
        if (r.done) break;
      }
      checked++;
      const [key, when] = r.value;
      if (when <= now && db.expireIfNeeded(key)) expired++;
      if ((checked & (KEYS_PER_CLOCK_CHECK - 1)) === 0 && performance.now() - start > timelimitMs) {
        timedOut = true;
        ks.stats.expiredTimeCapReachedCount++;
        break;
      }
    }
    db.expireCursor = it;
  }
  const elapsed = performance.now() - start;
  ks.stats.expireCycleCpuMs += elapsed;
  if (checked > 0) {
    const perc = expired / checked;
    ks.stats.expiredStalePerc = perc * 0.05 + ks.stats.expiredStalePerc * 0.95;
  }
}

/** DEBUG SET-ACTIVE-EXPIRE 0|1 */
export let activeExpireEnabled = true;
export function setActiveExpire(on: boolean): void {
  activeExpireEnabled = on;
}
