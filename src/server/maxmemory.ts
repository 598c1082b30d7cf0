import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import type { Server } from './server.js';
import { Evictor, type MaxmemoryPolicy } from '../keyspace/evict.js';
import { startupMemory, usedMemory } from './info.js';

/**
 * What maxmemory counts, in bytes, for eviction and the OOM error (getMaxmemoryState).
 *
 * Redis counts every byte malloc handed out. V8's heapUsed is no such measure: deleted keys stay
 * in it until a major garbage collection, and a write load leaves megabytes of young garbage,
 * so evicting until heapUsed falls would empty the keyspace. Amber counts instead:
 *
 *     counted = dataset + (overhead - baseline)
 *
 * - dataset: the keyspace's own estimate of its keys, values and TTLs (keyspace/memory.ts),
 *   kept exact at every write and eviction, so the count drops as soon as a key is evicted;
 * - overhead: everything else the process holds (client buffers, code), taken as INFO's
 *   used_memory minus the dataset estimate, minus a running snapshot's copies (as a fork's
 *   copy-on-write is not in Redis's count) and minus the AOF buffer (not counted by Redis either:
 *   freeMemoryGetNotCountedMemory) when a major GC has just finished (a PerformanceObserver on
 *   `gc` entries), when the heap holds little garbage;
 * - baseline: the smallest overhead seen, starting from used_memory_startup (the JS code and
 *   tables, ~12 MB, which no eviction can free) and lowered by any GC that finds less (a start-up
 *   measure taken with garbage around, as in a host process that embeds Amber).
 *
 * So `maxmemory 10mb` leaves about 10 MB for data and buffers above Amber's footprint, where
 * Redis's own footprint (~1 MB) counts; INFO reports the baseline as mem_not_counted_for_evict.
 * Until the first major GC after maxmemory is set, the dataset estimate alone counts.
 *
 * A server embedded in another program (startServer) shares its heap with the host, whose memory
 * is not Amber's to evict for: there the dataset estimate alone counts (no GC measure).
 */
export class MemoryMeasure {
  /** overhead at the last major GC, bytes */
  private overhead = 0;
  /** smallest overhead seen, bytes */
  private baseline = 0;
  private observer: PerformanceObserver | null = null;
  private active = false;

  constructor(private readonly server: Server) {}

  /** Bytes not counted: the baseline footprint and the AOF buffer (mem_not_counted_for_evict). */
  notCounted(): number {
    return (this.active ? this.baseline : startupMemory(this.server)) + this.server.aofBufferBytes();
  }

  /** The overhead measured at the last major GC (or the start-up footprint before one), bytes. */
  get overheadBytes(): number {
    return this.overhead;
  }

  /** Bytes counted against maxmemory now (O(databases), no system call). */
  counted(): number {
    return this.server.keyspace.datasetBytes() + this.overhead - this.baseline;
  }

  /** Starts the dataset accounting (a full count of the keyspace) and the GC observer. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.server.keyspace.setAccounting(true);
    this.overhead = this.baseline = startupMemory(this.server);
    if (this.server.embedded) return; // the host's heap is not ours to count
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        // gc entries carry { kind } in `detail` (Node >= 16); the typings of PerformanceEntry lack it
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
          this.anchor();
          break;
        }
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Stops the accounting and the observer (maxmemory back to 0). */
  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.observer?.disconnect();
    this.observer = null;
    this.server.keyspace.setAccounting(false);
  }

  /**
   * Measures the overhead on real memory (just after a major GC), without what a running
   * snapshot keeps apart (Redis does not count its fork's copy-on-write either) and without the
   * AOF buffer.
   */
  anchor(): void {
    const ks = this.server.keyspace;
    const retained = ks.snapshotRetained?.() ?? 0;
    this.overhead = Math.max(0, usedMemory() - ks.datasetBytes() - retained - this.server.aofBufferBytes());
    if (this.overhead < this.baseline) this.baseline = this.overhead;
  }
}

/**
 * V8 lets the old generation grow to up to ~4 times its live size between major collections
 * when it judges collections costly; under a steady eviction load that garbage is most of the
 * resident memory (1M SETs of 100 bytes through maxmemory 64mb: RSS 277-309 MB, Redis 78 MB).
 * Once the counted memory passes half the limit, a standalone server asks V8 for a fixed growth
 * of 30% instead (`--heap-growing-percent`, read at every major GC, so it applies at run time):
 * RSS 190-202 MB in the same runs, throughput within their noise (90-113k against 106-116k
 * req/s). Back to V8's own heuristic (0) below half the limit or when it is removed. Not for an
 * embedded server: the flag is the whole process's.
 */
function setHeapGrowing(bounded: boolean): void {
  setFlagsFromString(`--heap-growing-percent=${bounded ? 30 : 0}`);
}

/** The eviction state of a server, for INFO, MEMORY and tests. */
export interface MaxmemoryState {
  evictor: Evictor;
  measure: MemoryMeasure;
}

const states = new WeakMap<Server, MaxmemoryState>();

/** The server's eviction state (installed by {@link installMaxmemory}). */
export function maxmemoryOf(server: Server): MaxmemoryState {
  const st = states.get(server);
  if (st === undefined) throw new Error('maxmemory is not installed on this server');
  return st;
}

/**
 * Wires maxmemory into the server: the measure and accounting while maxmemory is set, the
 * Evictor's settings from maxmemory-policy, maxmemory-samples, maxmemory-eviction-tenacity and
 * lazyfree-lazy-eviction, and CONFIG SET maxmemory's warning and background eviction
 * (updateMaxmemory in src/config.c). Dispatch runs `server.evictor` before every command.
 */
export function installMaxmemory(server: Server): MaxmemoryState {
  const existing = states.get(server);
  if (existing !== undefined) return existing;
  const cfg = server.config;
  const measure = new MemoryMeasure(server);
  const evictor = new Evictor(server.keyspace, () => measure.counted());
  // isSafeToPerformEvictions: not while loading, nor while clients are paused (no writes then)
  // isSafeToPerformEvictions: not while loading, paused, or half-way through a busy script
  evictor.unsafe = () => server.keyspace.loading || server.suspension !== null || (server.pauseUntil !== 0 && server.pauseUntil > Date.now());
  evictor.latency = server.latency;
  const st = { evictor, measure };
  states.set(server, st);
  server.evictor = evictor;
  // the heap-growth cap (see setHeapGrowing) applies from half the limit up: below it V8's own
  // heuristic is cheaper while a data set grows (with a fixed 30% a growing 1M-field hash took
  // ~2x the GC time: HSET -P16 205k -> 95k req/s under an 8gb limit never reached)
  let capped = false;
  const syncHeapGrowing = (): void => {
    if (server.embedded) return;
    const max = evictor.maxmemory;
    const near = max > 0 && measure.counted() * 2 > max;
    if (near !== capped) {
      capped = near;
      setHeapGrowing(near);
    }
  };
  const sync = (): void => {
    evictor.policy = cfg.get<string>('maxmemory-policy') as MaxmemoryPolicy;
    evictor.samples = cfg.get<number>('maxmemory-samples');
    evictor.tenacity = cfg.get<number>('maxmemory-eviction-tenacity');
    evictor.lazy = cfg.get<boolean>('lazyfree-lazy-eviction');
    const max = cfg.get<number>('maxmemory');
    evictor.maxmemory = max;
    if (max > 0) measure.start();
    else measure.stop();
    syncHeapGrowing();
  };
  server.cronHooks.push(syncHeapGrowing);
  sync();
  for (const name of ['maxmemory-policy', 'maxmemory-samples', 'maxmemory-eviction-tenacity', 'lazyfree-lazy-eviction']) {
    cfg.onChange(name, sync);
  }
  cfg.onChange('maxmemory', () => {
    sync();
    const max = evictor.maxmemory;
    if (max === 0) return;
    const counted = measure.counted();
    if (max < counted) {
      server.log.warning(`WARNING: the new maxmemory value set via CONFIG SET (${max}) is smaller than the current memory usage (${counted}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.`);
    }
    evictor.startProc();
  });
  const heapLimit = getHeapStatistics().heap_size_limit;
  const warnHeap = (): void => {
    const max = cfg.get<number>('maxmemory');
    if (max > heapLimit) {
      server.log.warning(`WARNING maxmemory (${max} bytes) is above the V8 heap limit of this process (${heapLimit} bytes): Node.js fails with "JavaScript heap out of memory" before eviction starts. Lower maxmemory or start node with --max-old-space-size.`);
    }
  };
  warnHeap();
  cfg.onChange('maxmemory', warnHeap);
  server.closeHooks.push(() => {
    evictor.stop();
    measure.stop();
  });
  return st;
}
