import type { Client } from '../server/client.js';
import type { Handler } from './spec.js';
import { ERR } from '../server/dispatch.js';
import { addReplyHelp } from './client.js';
import { parseInt64 } from '../util/number.js';
import { keyBytes, valueBytes, DEFAULT_SAMPLES } from '../keyspace/memory.js';
import { memoryOverhead, type MemoryOverhead } from '../server/info.js';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP (memoryCommand in src/object.c).
 * Sizes are Amber's estimates (keyspace/memory.ts) and V8's figures where Redis reports malloc's;
 * "allocator" means V8's heap (see server/info.ts memoryOverhead).
 */

const MEMORY_HELP = [
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
];

/**
 * MEMORY USAGE key [SAMPLES count]: the key's estimated bytes (name, table slots, value sampled
 * up to `count` elements, 0 = all), or null when absent. Like Redis it reads the key without
 * expiring it or touching its access clock.
 */
const memoryUsage: Handler = (c) => {
  const argv = c.argv;
  let samples = DEFAULT_SAMPLES;
  for (let j = 3; j < argv.length; j++) {
    if (argv[j]!.toLowerCase() === 'samples' && j + 1 < argv.length) {
      const n = parseInt64(argv[j + 1]!);
      if (n === null) return c.addError(ERR.notInteger);
      if (n < 0n) return c.addError(ERR.syntax);
      samples = n > 0x7fffffffn ? 0 : Number(n);
      j++;
    } else {
      return c.addError(ERR.syntax);
    }
  }
  const key = argv[2]!;
  const v = c.db.segmentOf(key).get(key);
  if (v === undefined) return c.addNull();
  c.addInt(keyBytes(key) + valueBytes(v, samples));
};

/** MEMORY STATS: Redis 7.0.15's map, in its order, from the figures INFO memory reports. */
const memoryStats: Handler = (c) => {
  const mo = memoryOverhead(c.server);
  const dbs = c.server.keyspace.dbs.filter((db) => db.size > 0);
  let keys = 0;
  for (const db of dbs) keys += db.size;
  c.addMapLen(27 + dbs.length);
  const int = (name: string, n: number): void => {
    c.addBulk(name);
    c.addInt(Math.round(n));
  };
  const dbl = (name: string, n: number): void => {
    c.addBulk(name);
    c.addDouble(n);
  };
  int('peak.allocated', mo.peak);
  int('total.allocated', mo.used);
  int('startup.allocated', mo.startup);
  int('replication.backlog', 0);
  int('clients.slaves', 0);
  int('clients.normal', mo.clientsNormal);
  int('cluster.links', 0);
  int('aof.buffer', mo.aofBuffer);
  int('lua.caches', 0);
  int('functions.caches', 0);
  for (const db of dbs) {
    c.addBulk(`db.${db.id}`);
    c.addMapLen(3);
    // the segment tables' own slots: no per-key estimate of Map internals is kept apart
    int('overhead.hashtable.main', db.segments.length * 64);
    int('overhead.hashtable.expires', db.expires.size > 0 ? 64 : 0);
    int('overhead.hashtable.slot-to-keys', 0);
  }
  int('overhead.total', mo.overhead);
  int('keys.count', keys);
  int('keys.bytes-per-key', keys > 0 ? Math.floor(mo.netUsage / keys) : 0);
  int('dataset.bytes', mo.dataset);
  dbl('dataset.percentage', (mo.dataset * 100) / mo.netUsage);
  dbl('peak.percentage', (mo.used * 100) / mo.peak);
  int('allocator.allocated', mo.allocated);
  int('allocator.active', mo.active);
  int('allocator.resident', mo.resident);
  dbl('allocator-fragmentation.ratio', mo.allocatorFragRatio);
  int('allocator-fragmentation.bytes', mo.allocatorFragBytes);
  dbl('allocator-rss.ratio', mo.allocatorRssRatio);
  int('allocator-rss.bytes', mo.allocatorRssBytes);
  dbl('rss-overhead.ratio', mo.rssOverheadRatio);
  int('rss-overhead.bytes', mo.rssOverheadBytes);
  dbl('fragmentation', mo.fragRatio);
  int('fragmentation.bytes', mo.fragBytes);
};

/** MEMORY DOCTOR: getMemoryDoctorReport's checks and words, on V8's figures. */
const memoryDoctor: Handler = (c) => {
  c.addVerbatim(doctorReport(memoryOverhead(c.server), c.server.clients.size));
};

/**
 * The MEMORY DOCTOR text for the figures `mo` and `clients` connected clients. "Empty" is judged
 * on memory above the start-up footprint (Redis: under 5 MB in all, its footprint being ~1 MB).
 */
export function doctorReport(mo: MemoryOverhead, clients: number): string {
  const MB10 = 10 << 20;
  const issues: string[] = [];
  if (mo.used - mo.startup < 5 * 1024 * 1024) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  }
  if (mo.peak / mo.used > 1.5) {
    issues.push(' * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n');
  }
  if (mo.fragRatio > 1.4 && mo.fragBytes > MB10) {
    issues.push(` * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is "v8-${process.versions.v8}".\n\n`);
  }
  if (mo.allocatorFragRatio > 1.1 && mo.allocatorFragBytes > MB10) {
    issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
  }
  if (mo.allocatorRssRatio > 1.1 && mo.allocatorRssBytes > MB10) {
    issues.push(' * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n');
  }
  if (mo.rssOverheadRatio > 1.1 && mo.rssOverheadBytes > MB10) {
    issues.push(' * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n');
  }
  if (clients > 0 && mo.clientsNormal / clients > 1024 * 200) {
    issues.push(' * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n');
  }
  if (issues.length === 0) {
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  }
  return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + issues.join('') + "I'm here to keep you safe, Sam. I want to help you.\n";
}

/**
 * MEMORY MALLOC-STATS: V8's heap spaces (Redis prints jemalloc's statistics, or "Stats not
 * supported for the current allocator" without jemalloc).
 */
const memoryMallocStats: Handler = (c) => {
  let s = `___ Begin V8 heap statistics (v8-${process.versions.v8}) ___\n`;
  for (const sp of getHeapSpaceStatistics()) {
    s += `${sp.space_name}: size=${sp.space_size} used=${sp.space_used_size} available=${sp.space_available_size} physical=${sp.physical_space_size}\n`;
  }
  s += '--- End V8 heap statistics ---\n';
  c.addVerbatim(s);
};

/**
 * MEMORY PURGE: a full garbage collection, V8's nearest to purging jemalloc's dirty pages: the
 * garbage of deleted and overwritten values is freed, used_memory falls to the live heap and
 * V8 may return pages to the system. Blocks the server for the collection (tens of ms per
 * 100 MB of heap). Replies OK, as Redis does.
 */
const memoryPurge: Handler = (c) => {
  fullGc()?.();
  c.addSimple('OK');
};

let gcFunction: (() => void) | null | undefined;

/**
 * V8's gc() for a full collection: the global one under `node --expose-gc`, else one obtained
 * by turning the flag on for a new context only (the flag is turned off again, so the host's
 * global scope does not change). Null if V8 refuses.
 */
function fullGc(): (() => void) | null {
  if (gcFunction !== undefined) return gcFunction;
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return (gcFunction = g);
  try {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  } catch {
    gcFunction = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}

const memoryHelp: Handler = (c: Client) => addReplyHelp(c, MEMORY_HELP);

export const memoryCommands: Record<string, Handler> = {
  'memory|help': memoryHelp,
  'memory|usage': memoryUsage,
  'memory|stats': memoryStats,
  'memory|doctor': memoryDoctor,
  'memory|malloc-stats': memoryMallocStats,
  'memory|purge': memoryPurge,
};
