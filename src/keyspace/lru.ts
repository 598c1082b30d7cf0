import type { Keyspace } from './keyspace.js';

/**
 * Access clocks of keys, for OBJECT IDLETIME / OBJECT FREQ, DEBUG OBJECT, the RDB idle/freq
 * opcodes and maxmemory eviction. A key's clock is a 24-bit value with Redis's two meanings
 * (robj.lru in src/server.h, src/evict.c):
 * - under an LRU (or no-eviction) policy, the LRU clock of the last access: Unix seconds mod 2^24;
 * - under an LFU policy, `(minutes mod 2^16) << 8 | counter`, the time of the last decrement and
 *   a logarithmic access counter.
 * As in Redis, switching the policy at run time reinterprets the stored values ("LRU and LFU
 * data will take some time to adjust").
 *
 * Where the clock is stored (see Database): collections keep it in their RObject (`lru`), exact
 * per key, like Redis. Strings are stored as bare JS strings, which cannot carry a field, so their
 * clocks live in a per-database Uint32Array indexed by the key's hash (the hash the gate computes
 * anyway to find the segment). Keys whose hashes collide share a slot, so a string key may look
 * more recently used than it was (never less), exactly like an approximate LRU. The table costs
 * 4 to 8 bytes per key and one typed-array store per lookup, where a Map from key to time would
 * cost tens of bytes per key and a hash insertion per GET.
 *
 * The clock is cached in the Keyspace and refreshed by the cron ({@link updateClock}), as Redis
 * caches server.lruclock, so a lookup never reads the system time.
 */

/** LRU_CLOCK_MAX: the clock wraps at 2^24 seconds (about 194 days). */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
/** LFU_INIT_VAL: the counter of a new key, so it is not evicted before it can be used. */
export const LFU_INIT_VAL = 5;

/** Refreshes the cached clocks from the system time (serverCron's `server.lruclock = ...`). */
export function updateClock(ks: Keyspace): void {
  const sec = Math.floor(Date.now() / 1000);
  ks.clockSec = sec;
  ks.lruClock = sec & LRU_CLOCK_MAX;
}

/** LFUGetTimeInMinutes: Unix minutes mod 2^16. */
export function lfuTimeInMinutes(ks: Keyspace): number {
  return Math.floor(ks.clockSec / 60) & 65535;
}

/** The clock value of a newly created key under the current policy (createObject). */
export function newLru(ks: Keyspace): number {
  return ks.lfu ? (lfuTimeInMinutes(ks) << 8) | LFU_INIT_VAL : ks.lruClock;
}

/** LFUTimeElapsed: minutes since `ldt`, modulo the 16-bit wrap. */
function lfuTimeElapsed(ks: Keyspace, ldt: number): number {
  const now = lfuTimeInMinutes(ks);
  return now >= ldt ? now - ldt : 65535 - ldt + now;
}

/**
 * LFUDecrAndReturn: the counter of an LFU clock value after the decay of one unit per
 * `lfu-decay-time` minutes since its last decrement (what OBJECT FREQ reports).
 */
export function lfuDecrAndReturn(ks: Keyspace, lru: number): number {
  const ldt = lru >>> 8;
  let counter = lru & 255;
  const periods = ks.lfuDecayTime ? Math.floor(lfuTimeElapsed(ks, ldt) / ks.lfuDecayTime) : 0;
  if (periods) counter = periods > counter ? 0 : counter - periods;
  return counter;
}

/** LFULogIncr: increments the counter with probability 1/((counter-5)*lfu-log-factor+1). */
function lfuLogIncr(ks: Keyspace, counter: number): number {
  if (counter === 255) return 255;
  const r = Math.random();
  let baseval = counter - LFU_INIT_VAL;
  if (baseval < 0) baseval = 0;
  const p = 1 / (baseval * ks.lfuLogFactor + 1);
  if (r < p) counter++;
  return counter;
}

/** updateLFU: the LFU clock value after one access (decay, then logarithmic increment). */
export function updateLfu(ks: Keyspace, lru: number): number {
  const counter = lfuLogIncr(ks, lfuDecrAndReturn(ks, lru));
  return (lfuTimeInMinutes(ks) << 8) | counter;
}

/** estimateObjectIdleTime: milliseconds since the access recorded in an LRU clock value. */
export function estimateIdleMs(ks: Keyspace, lru: number): number {
  const now = ks.lruClock;
  return now >= lru ? (now - lru) * 1000 : (now + (LRU_CLOCK_MAX - lru)) * 1000;
}
