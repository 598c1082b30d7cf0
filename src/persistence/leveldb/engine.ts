/**
 * The LevelDB write-through engine (the idea of RedisLV, the layout of Kvrocks: see layout.ts).
 *
 * Every change that passes the keyspace gate reaches the store: the gate signals modified keys
 * (onKeyModified), replaced databases (onDbReplaced: FLUSHDB, FLUSHALL, SWAPDB, loads) and values
 * leaving their key (onRelease), and the collection types report element changes (capture.ts).
 * The engine gathers them during an event-loop turn and, at its end (before the turn's replies,
 * or from the cron for changes nobody replies to, such as active expiry), writes for each
 * modified key its current state, as one atomic batch through the ordered {@link WriteQueue}:
 *
 * - a string or stream: its metadata record (value inline);
 * - a small collection (see {@link INLINE_MAX_BYTES} and inlineBlob) new to the store, stored
 *   inline or rebuilt whole: its metadata record holding its RDB encoding, rewritten at every
 *   change (bounded by the size limit);
 * - a collection whose records are in the store: the records of the changed elements and its
 *   metadata (size, expire time, list head): O(1) records per element change;
 * - a bigger collection new to the store (or rebuilt whole, or an inline one grown past the
 *   limits): a fresh version with every element, its metadata in the same batch;
 * - a key gone: its metadata record deleted; a collection that left the keyspace gets its version
 *   marked for reclaim, unless it reappeared under another key (RENAME, MOVE), whose metadata
 *   then takes over its version: O(1) records;
 * - FLUSHDB and SWAPDB change `D` records only; a flushed namespace is reclaimed in the background;
 * - the namespace's key count hint (`K`, layout.ts) when the database's size drifted from it;
 * - the function libraries' `F` record, whole, when FUNCTION LOAD/DELETE/FLUSH/RESTORE (or a
 *   load) changed them in the turn (server.functions' change hooks).
 *
 * Reclaim runs from the cron, a bounded number of records per tick, on versions and namespaces
 * whose marks are committed (so no queued write can still touch them).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { ClassicLevel } from 'classic-level';
import { workerModuleUrl } from '../worker-module.js';
import { RECORD_HEADER, LOAD_WORKER_START, type LoadWorkerData, type LoadWorkerIn, type LoadWorkerOut } from './load-worker.js';

/**
 * classic-level, loaded on first use: its native addon costs ~30 ms of every start-up, and most
 * servers never enable the LevelDB engine.
 */
export async function loadClassicLevel(): Promise<typeof import('classic-level').ClassicLevel> {
  return (await import('classic-level')).ClassicLevel;
}
import type { Server } from '../../server/server.js';
import type { Database } from '../../keyspace/database.js';
import type { Value, RObject } from '../../keyspace/types/object.js';
import { Hash } from '../../keyspace/types/hash.js';
import { RedisSet } from '../../keyspace/types/set.js';
import { ZSet, cmpKey } from '../../keyspace/types/zset.js';
import { ListObject } from '../../keyspace/types/list.js';
import { Stream } from '../../keyspace/types/stream.js';
import { RdbWriter, writeTypedValue, DEFAULT_SAVE_OPTIONS, type RdbSaveOptions } from '../rdb/encoder.js';
import { RdbReader } from '../rdb/reader.js';
import { loadObject } from '../rdb/decoder.js';
import { rdbIsObjectType } from '../rdb/constants.js';
import { buildHash, buildSet, limitsFromConfig, type TypeLimits } from '../rdb/values.js';
import { WriteQueue, type Records, type SyncPolicy } from './queue.js';
import { Wal, recoverWal, type WalRecovery } from './wal.js';
import { turnChanges, captureStarted, captureStopped, type ObjChanges } from './capture.js';
import * as L from './layout.js';
import { DelayDebt, DELAY_WAIT_MAX_MS } from '../debug-delay.js';
import { ScriptingEngine } from '../../scripting/engine.js';
import { libraryMetadata } from '../../scripting/function-registry.js';

/** Key ranges a load reads at once (LevelDB's threads read ahead while JS builds values). */
const PARALLEL_SCANS = 4;

/** A collection whose metadata was read, waiting for its elements (loading). */
interface Pending {
  db: number;
  key: string;
  exp: number;
  type: number;
  size: number;
  head: number;
}

/**
 * Largest RDB encoding of a collection stored inline in its metadata record (layout.ts): one full
 * 8 KB listpack (a quicklist node at list-max-listpack-size -2) and its framing.
 */
export const INLINE_MAX_BYTES = 8192 + 32;
/**
 * Sets of strings stored inline: at most this many members of at most INLINE_SET_VALUE bytes
 * (Redis 7.0 holds them in a hashtable; these are the bounds of 7.2's listpack sets).
 */
const INLINE_SET_ENTRIES = 128;
const INLINE_SET_VALUE = 64;

/** The key count hint (`K`) is rewritten when a database's size is this far from it, plus 1/16. */
const COUNT_SLACK = 1024;

/** Records reclaimed per cron tick (bounded background work). */
const RECLAIM_BUDGET = 2000;
/**
 * Keys (by the store's count hints) from which a load reads the metadata on a worker
 * (load-worker.ts): starting one costs ~60-80 ms (a thread, the module, classic-level's addon),
 * and it saves ~0.3 us per key of this thread's time on a 2-core machine.
 */
const LOAD_WORKER_MIN_KEYS = 200_000;
/**
 * Bytes of store files from which the start-up starts a load worker ahead of the load
 * ({@link LevelDbEngine.prestartLoadWorker}): below LOAD_WORKER_MIN_KEYS keys' worth it goes
 * unused (and costs the other core its start).
 */
export const LOAD_WORKER_PRESTART_BYTES = 4 << 20;
/** Bytes of a load worker's chunk of records, and chunks it may have unconsumed (load-worker.ts). */
const LOAD_CHUNK_BYTES = 1 << 20;
const LOAD_CHUNKS_IN_FLIGHT = 8;
/** Records read per iterator step while loading and copying. */
const READ_BATCH = 2000;

/** A value's position in the store when it left its key (for RENAME/MOVE hand-over and reclaim). */
interface Release {
  o: RObject;
  /** db index and its namespace at the release */
  db: number;
  ns: number;
  key: string;
}

/** The engine's state. */
export type EngineState = 'off' | 'opening' | 'loading' | 'importing' | 'on' | 'closing';

/** What a load found, for the log and INFO. */
export interface LoadStats {
  keys: number;
  records: number;
  bytes: number;
  ms: number;
  orphans: number;
  /** function libraries loaded (the `F` record) */
  libraries: number;
  /** the metadata was read on a load worker (load-worker.ts) */
  worker: boolean;
}

/** Start-up progress for INFO loading_* fields. */
export interface LoadProgress {
  startTime: number;
  totalBytes: number;
  loadedBytes: number;
}

const EMPTY = '';

/**
 * Refuses a store directory that holds LevelDB files but no CURRENT file: opened as it is,
 * LevelDB would create a new, empty store over them (createIfMissing) and the old tables would be
 * deleted by its first compaction.
 * @throws Error telling the operator what to restore
 */
function refuseHeadlessStore(path: string): void {
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return; // missing: a new store
  }
  if (names.includes('CURRENT')) return;
  const tables = names.filter((n) => /^MANIFEST-\d+$|\.(ldb|sst|log)$/.test(n) && n !== 'LOG');
  if (tables.length === 0) return;
  throw new Error(`${path} holds LevelDB files (${tables.slice(0, 3).join(', ')}${tables.length > 3 ? ', ...' : ''}) but no CURRENT file, so LevelDB would start an empty store over them. ` +
    'Restore CURRENT (one line naming the newest MANIFEST-NNNNNN file, then a newline) or move the directory away, then start again.');
}

/**
 * The reason of a LevelDB error: classic-level wraps LevelDB's own status ("Corruption: 1 missing
 * files", "IO error: .../LOCK: already held by process") in a generic "Database failed to open".
 */
export function levelDbReason(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const cause = err.cause instanceof Error ? err.cause.message : '';
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
}

/**
 * One server's LevelDB engine: the store, its write queue, the change capture and the
 * namespace/version bookkeeping of layout.ts, loading, import and reclaim. The layer in index.ts
 * drives it from the server's hooks; backup.ts copies its store.
 */
export class LevelDbEngine {
  state: EngineState = 'off';
  store: ClassicLevel<string, string> | null = null;
  queue: WriteQueue | null = null;
  /** absolute path of the store */
  path = '';
  /** db index -> namespace of its keys (kept eagerly: FLUSHDB/SWAPDB change it at once) */
  nsOf: number[] = [];
  nextVersion = 1;
  nextNs = 1;
  private countersChanged = false;
  private dbMapChanged = new Set<number>();
  private newGarbageNs: number[] = [];
  /** modified keys by db index, following contents (SWAPDB swaps the sets) */
  private dirty: Array<Set<string>> = [];
  /** databases whose contents came from outside the keyspace (DEBUG RELOAD): written whole */
  private fullDbs = new Set<number>();
  private released: Release[] = [];
  private anyChange = false;
  /** the function libraries changed since the last write-through: the `F` record is rewritten */
  private functionsChanged = false;
  private scheduled = false;
  private lastSwap: [Database, Database] | null = null;
  /** true while changes are captured (the store is the copy of the keyspace) */
  capturing = false;
  /** versions / namespaces whose garbage marks are committed, waiting for reclaim */
  garbageVersions: number[] = [];
  garbageNs: number[] = [];
  private reclaiming = false;
  /** counters for INFO */
  keysWritten = 0;
  reclaimedRecords = 0;
  lastLoad: LoadStats | null = null;
  /** the store check before the last load (verify.ts): ms, bytes checked, torn log tails found */
  lastCheck: { ms: number; bytes: number; tornTails: number } | null = null;
  /** a load worker started ahead of the load ({@link prestartLoadWorker}) until the load takes it */
  private spareWorker: { w: Worker; dead: boolean } | null = null;
  /**
   * key-load-delay during {@link load} (debug-delay.ts), null when the directive was 0 as the load
   * started: the load's counts, of whose `keys` the first `charged` are in `debt`, slept off
   * between batches; `usec` is the directive as of the last batch (a CONFIG SET during the load
   * applies from the next one)
   */
  private loadDelay: { debt: DelayDebt; stats: LoadStats; charged: number; usec: number } | null = null;
  /** the payment of {@link loadDelay}'s debt under way, which every scan waits for */
  private loadPaying: Promise<void> | null = null;
  readonly progress: LoadProgress = { startTime: 0, totalBytes: 0, loadedBytes: 0 };
  private limits: TypeLimits;
  /** {@link limits} were read from the config in this turn (see currentLimits) */
  private limitsRead = false;
  /** namespace -> the key count its `K` record holds (or is queued to hold) */
  private keyCounts = new Map<number, number>();
  /** the format of the store's `I` record when it was opened ('' for a new store) */
  loadedFormat = '';
  /** the run-time import (CONFIG SET leveldb yes) in progress: restarts after FLUSHDB/SWAPDB */
  private importCursor: { db: number; seg: number; restart: boolean } | null = null;

  constructor(readonly server: Server) {
    this.limits = limitsFromConfig(server.config);
  }

  private get ks(): import('../../keyspace/keyspace.js').Keyspace {
    return this.server.keyspace;
  }

  /** The data directory (`dir`), absolute. */
  get dataDir(): string {
    return this.server.config.get<string>('dir') || process.cwd();
  }

  /** The configured store path, absolute. */
  configuredPath(): string {
    return resolve(this.dataDir, this.server.config.get<string>('leveldb-path'));
  }

  // ---- opening and closing ------------------------------------------------------------------

  /**
   * Opens the store at {@link path} (created when missing) with the configured buffer sizes.
   * @throws Error for a directory with LevelDB files but no CURRENT (refuseHeadlessStore), or
   *   from LevelDB (lock held by another process, corruption)
   */
  async open(path: string): Promise<void> {
    this.path = path;
    this.state = 'opening';
    const cfg = this.server.config;
    refuseHeadlessStore(path);
    mkdirSync(path, { recursive: true });
    const ClassicLevelCtor = await loadClassicLevel();
    // byte strings as JS latin1 strings, stored as their UTF-8 (see layout.ts)
    const store = new ClassicLevelCtor<string, string>(path, {
      keyEncoding: 'utf8',
      valueEncoding: 'utf8',
      createIfMissing: true,
      writeBufferSize: cfg.get<number>('leveldb-write-buffer-size'),
      cacheSize: cfg.get<number>('leveldb-cache-size'),
    });
    await store.open();
    this.store = store;
    // acknowledged turns the store never got (the process died first): written before anything else
    let recovery: WalRecovery;
    try {
      recovery = await recoverWal(store, path);
    } catch (e) {
      await store.close().catch(() => undefined);
      this.store = null;
      this.state = 'off';
      throw e;
    }
    const log = this.server.log;
    if (recovery.entries > 0) log.notice(`LevelDB store ${path}: wrote ${recovery.records} records of ${recovery.entries} turns from its write-ahead log that the store did not have yet`);
    if (recovery.torn !== null) {
      const t = recovery.torn;
      log.warning(`LevelDB store ${path}: the write-ahead log ${t.file} ends with an incomplete entry at offset ${t.offset} (${t.bytes} bytes, a write cut short): dropped`);
    }
    // classic-level's private array batch: see BatchTarget in queue.ts
    const target = store as unknown as import('./queue.js').BatchTarget;
    this.queue = new WriteQueue(target, cfg.get<SyncPolicy>('leveldb-sync'), {
      error: (msg, held) => this.onWriteError(msg, held),
      recovered: () => this.onWriteRecovered(),
      syncOp: () => [L.P_COUNTERS, L.countersValue(this.nextVersion, this.nextNs)],
    });
    this.queue.wal = new Wal(path, recovery.nextSeq);
    this.queue.pauseLog = () => this.state === 'importing';
    this.nsOf = new Array(this.ks.dbs.length).fill(0);
    this.dirty = this.ks.dbs.map(() => new Set<string>());
    // what a previous store (CONFIG SET leveldb no, then yes) recorded means nothing here
    this.keyCounts.clear();
    this.loadedFormat = '';
  }

  private onWriteError(msg: string, held: boolean): void {
    const s = this.server;
    if (held) {
      // Under always, the turn's replies wait for this batch (the write-ahead log did not cover
      // it), and every later turn's behind them: the server would hang (reads and INFO too) until
      // the disk recovers. Stop instead, as Redis does after an AOF write error under appendfsync
      // always: nothing unsynced was acknowledged, and a restart loads the store as it is on disk
      // (with what the synced log holds). Turns the synced log covers were acknowledged already:
      // those go on below as under everysec, writes refused until a retry succeeds.
      s.log.warning(`Can't recover from a LevelDB write error when leveldb-sync is 'always' (store ${this.path}: ${msg}). Exiting...`);
      s.fatalExit(1);
      return;
    }
    s.log.warning(`Error writing to the LevelDB store ${this.path}: ${msg}. Writes are refused until the store accepts them again.`);
    s.writeError = `MISCONF Errors writing to the LevelDB store: ${msg}`;
  }

  private onWriteRecovered(): void {
    const s = this.server;
    s.log.warning('LevelDB write error looks solved, Amber can write again.');
    if (s.writeError?.startsWith('MISCONF Errors writing to the LevelDB store')) s.writeError = null;
  }

  /**
   * Writes what is pending, syncs, closes the store; capture stops. `reset`: forget the values'
   * store versions (the server goes on without the store); a shutting-down server skips that walk.
   */
  async close(reset = true): Promise<void> {
    if (this.store === null) return;
    // a busy script's changes so far stay out of the store (SHUTDOWN NOSAVE during the script)
    if (this.server.suspension === null) {
      this.processTurn();
      if (this.state === 'on' && this.queue !== null && this.capturing) this.writeCounts(this.queue.open);
    }
    this.stopCapture(reset);
    this.state = 'closing';
    let drained = false;
    try {
      drained = await Promise.race([this.queue!.drain(true).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10000).unref())]);
    } finally {
      // everything in the store: the write-ahead log is no longer needed; else the next start
      // writes what it holds
      this.queue!.wal?.close(drained && !this.queue!.inError);
      await this.closeStore();
    }
  }

  /** Closes the store handle (a failure is logged) and forgets it and its queue: state 'off'. */
  private async closeStore(): Promise<void> {
    try {
      await this.store!.close();
    } catch (e) {
      this.server.log.warning(`Error closing the LevelDB store ${this.path}: ${(e as Error).message}`);
    }
    this.store = null;
    this.queue = null;
    this.state = 'off';
  }

  /**
   * Closes the store without writing or syncing what is pending (an embedded server's stop after
   * a fatal error, Server.fatalExit: the store's own writes are usually what failed). Capture stops
   * and the queue is dropped; classic-level closes the store once its operations in flight settle,
   * which releases its LOCK file. The store keeps what it had committed.
   */
  async release(): Promise<void> {
    if (this.store === null) return;
    this.stopCapture(false);
    this.state = 'closing';
    // what it holds of acknowledged turns is written at the next start
    this.queue?.wal?.close(false);
    await this.closeStore();
  }

  // ---- capture ----------------------------------------------------------------------------------

  /** Hooks the gate's signals (once per server; they test {@link capturing}). */
  installSignals(): void {
    const ks = this.ks;
    ks.onKeyModified((db, key) => {
      if (!this.capturing) return;
      this.dirty[db.id]!.add(key);
      if (!this.anyChange) this.changed();
    });
    ks.onDbReplaced((db, other) => {
      if (this.capturing) this.dbReplaced(db, other);
    });
  }

  /**
   * server.functions' change hook while capture runs: the turn's write-through rewrites the `F`
   * record (from the libraries as they are then, so several changes in a turn cost one record).
   */
  private readonly onFunctionsChanged = (): void => {
    if (!this.capturing) return;
    this.functionsChanged = true;
    if (!this.anyChange) this.changed();
  };

  /** Starts capturing changes (after a load or an import). */
  startCapture(): void {
    if (this.capturing) return;
    this.capturing = true;
    captureStarted();
    this.server.functions.changeHooks.push(this.onFunctionsChanged);
    this.ks.onRelease = (db, key, old) => {
      if (!this.capturing || old.ldb === 0) return;
      this.released.push({ o: old, db: db.id, ns: this.nsOf[db.id]!, key });
      if (!this.anyChange) this.changed();
    };
  }

  /** Stops capturing and, with `reset`, forgets every value's store version (meaningless without the store). */
  stopCapture(reset = true): void {
    if (!this.capturing) return;
    this.capturing = false;
    this.ks.onRelease = null;
    captureStopped();
    const hooks = this.server.functions.changeHooks;
    const at = hooks.indexOf(this.onFunctionsChanged);
    if (at >= 0) hooks.splice(at, 1);
    this.functionsChanged = false;
    if (reset) {
      for (const db of this.ks.dbs) {
        for (const seg of db.segments) {
          for (const v of seg.values()) {
            if (typeof v !== 'string') {
              turnChanges.delete(v);
              v.ldb = 0;
            }
          }
        }
      }
    }
    for (const r of this.released) turnChanges.delete(r.o);
    this.released = [];
    for (const d of this.dirty) d.clear();
    this.anyChange = false;
  }

  /** Gives every database without one (a store written with fewer dbs) a namespace. */
  assignMissingNamespaces(): void {
    let any = false;
    for (let i = 0; i < this.nsOf.length; i++) {
      if (this.nsOf[i] !== 0) continue;
      this.nsOf[i] = this.nextNs++;
      this.dbMapChanged.add(i);
      this.countersChanged = true;
      any = true;
    }
    if (any) this.changed();
  }

  private changed(): void {
    this.anyChange = true;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.processTurn();
      });
    }
  }

  /** FLUSHDB/FLUSHALL (`other` null), SWAPDB, or contents loaded from elsewhere. */
  private dbReplaced(db: Database, other: Database | null): void {
    const ks = this.ks;
    if (db.ks !== ks) return; // the other side of a load's swap: a staging database
    if (other === null) {
      this.flushNs(db.id);
      this.lastSwap = null;
    } else if (other.ks !== ks) {
      // DEBUG RELOAD and friends: new contents from a staging keyspace
      this.flushNs(db.id);
      this.fullDbs.add(db.id);
      this.lastSwap = null;
    } else if (other !== db) {
      // swapWith signals (a, b) then (b, a): act on the first only
      if (this.lastSwap !== null && this.lastSwap[0] === other && this.lastSwap[1] === db) {
        this.lastSwap = null;
        return;
      }
      this.lastSwap = [db, other];
      const a = db.id;
      const b = other.id;
      const ns = this.nsOf[a]!;
      this.nsOf[a] = this.nsOf[b]!;
      this.nsOf[b] = ns;
      const d = this.dirty[a]!;
      this.dirty[a] = this.dirty[b]!;
      this.dirty[b] = d;
      const fa = this.fullDbs.has(a);
      const fb = this.fullDbs.has(b);
      if (fa !== fb) {
        if (fa) {
          this.fullDbs.delete(a);
          this.fullDbs.add(b);
        } else {
          this.fullDbs.delete(b);
          this.fullDbs.add(a);
        }
      }
      this.dbMapChanged.add(a);
      this.dbMapChanged.add(b);
    }
    if (this.importCursor !== null) this.importCursor.restart = true;
    if (!this.anyChange) this.changed();
  }

  private flushNs(db: number): void {
    this.newGarbageNs.push(this.nsOf[db]!);
    this.nsOf[db] = this.nextNs++;
    this.countersChanged = true;
    this.dbMapChanged.add(db);
    this.dirty[db]!.clear();
    this.fullDbs.delete(db);
  }

  // ---- write-through --------------------------------------------------------------------------

  /**
   * Turns the changes captured since the last call into records in the write queue's open group
   * and submits it. Called at the end of every event-loop turn that changed something (before its
   * replies), by the cron, and by BACKUP (so that its snapshot includes everything before it).
   */
  processTurn(): void {
    if (!this.anyChange || this.queue === null || !this.capturing) return;
    // a busy script is half-way through (server/suspend.ts): its changes go in one batch at its end
    if (this.server.suspension !== null) return;
    this.anyChange = false;
    this.limitsRead = false;
    const ops = this.queue.open;
    for (const i of this.dbMapChanged) ops.put(L.dbKey(i), L.varint(this.nsOf[i]!));
    this.dbMapChanged.clear();
    if (this.newGarbageNs.length > 0) {
      const gs = this.newGarbageNs;
      this.newGarbageNs = [];
      for (const ns of gs) ops.put(L.garbageNsKey(ns), EMPTY);
      this.queue.onCommit(() => {
        for (const ns of gs) this.garbageNs.push(ns);
      });
    }
    // values that left a key: their old metadata goes first (a later write of the same key wins)
    let releasedSet: Set<RObject> | null = null;
    const released = this.released;
    if (released.length > 0) {
      this.released = [];
      releasedSet = new Set();
      for (const r of released) {
        // a key still in its namespace and modified is written below anyway (deleted or put)
        if (this.nsOf[r.db] !== r.ns || !this.dirty[r.db]!.has(r.key) || this.fullDbs.has(r.db)) ops.del(L.metaKey(r.ns, r.key));
        releasedSet.add(r.o);
      }
    }
    const dbs = this.ks.dbs;
    const garbage: number[] = [];
    for (let i = 0; i < dbs.length; i++) {
      const set = this.dirty[i]!;
      const full = this.fullDbs.size > 0 && this.fullDbs.has(i);
      if (set.size === 0 && !full) continue;
      const db = dbs[i]!;
      const ns = this.nsOf[i]!;
      if (full) {
        this.fullDbs.delete(i);
        for (const seg of db.segments) for (const k of seg.keys()) this.writeKey(ops, db, ns, k, releasedSet, garbage);
      } else {
        for (const k of set) this.writeKey(ops, db, ns, k, releasedSet, garbage);
      }
      set.clear();
      this.noteCount(ops, ns, db.size, false);
    }
    if (releasedSet !== null) {
      // released and not seen under another key: gone, its records are garbage
      for (const o of releasedSet) {
        turnChanges.delete(o);
        if (o.ldb !== 0) {
          garbage.push(o.ldb);
          o.ldb = 0;
        }
      }
    }
    this.markGarbage(garbage);
    if (this.functionsChanged) {
      this.functionsChanged = false;
      this.writeFunctions(ops);
    }
    if (this.countersChanged) {
      this.countersChanged = false;
      ops.put(L.P_COUNTERS, L.countersValue(this.nextVersion, this.nextNs));
    }
    this.queue.kick();
  }

  /** Queues the `F` record of the libraries as they are now, or its deletion when there is none. */
  private writeFunctions(ops: Records): void {
    const codes = this.server.functions.codes();
    if (codes.length === 0) ops.del(L.P_FUNCTIONS);
    else ops.put(L.P_FUNCTIONS, L.functionsValue(codes));
  }

  /**
   * Queues `G` records for dropped versions (emptying `garbage`); they become eligible for
   * reclaim once committed, when no queued write can still touch their subkeys.
   */
  private markGarbage(garbage: number[]): void {
    if (garbage.length === 0) return;
    const q = this.queue!;
    const vs = garbage.splice(0);
    for (const v of vs) q.open.put(L.garbageVersionKey(v), EMPTY);
    q.onCommit(() => {
      for (const v of vs) this.garbageVersions.push(v);
    });
  }

  /**
   * Queues the `K` record of namespace `ns` holding `size` keys, when `exact` or when `size` has
   * drifted from the recorded hint by more than COUNT_SLACK plus 1/16 (so that writes rarely pay a
   * record for it). The hint sizes the database at the next load (layout.ts).
   */
  private noteCount(ops: Records, ns: number, size: number, exact: boolean): void {
    const last = this.keyCounts.get(ns) ?? 0;
    if (size === last) return;
    if (!exact && Math.abs(size - last) <= COUNT_SLACK + last / 16) return;
    this.keyCounts.set(ns, size);
    ops.put(L.countKey(ns), L.varint(size));
  }

  /** Queues the exact key count of every database (shutdown, after a load or an import). */
  private writeCounts(ops: Records): void {
    const dbs = this.ks.dbs;
    for (let i = 0; i < dbs.length; i++) if (this.nsOf[i] !== 0) this.noteCount(ops, this.nsOf[i]!, dbs[i]!.size, true);
  }

  /**
   * The encoding limits (they decide what is stored inline and how a list splits into quicklist
   * nodes), read from the config once per turn: CONFIG SET may change them.
   */
  private currentLimits(): TypeLimits {
    if (!this.limitsRead) {
      this.limits = limitsFromConfig(this.server.config);
      this.limitsRead = true;
    }
    return this.limits;
  }

  /** Allocates a version (never reused). */
  private newVersion(): number {
    this.countersChanged = true;
    return this.nextVersion++;
  }

  /** Writes the current state of `key` of `db` (namespace `ns`). */
  private writeKey(ops: Records, db: Database, ns: number, key: string, releasedSet: Set<RObject> | null, garbage: number[]): void {
    this.keysWritten++;
    const v = db.segmentOf(key).get(key);
    const mk = L.metaKey(ns, key);
    if (v === undefined) {
      ops.del(mk);
      return;
    }
    const t = db.expires.size > 0 ? db.expires.get(key) : undefined;
    const exp = t === undefined ? -1 : t;
    if (typeof v === 'string') {
      ops.put(mk, L.stringMeta(v, exp));
      return;
    }
    if (releasedSet !== null) releasedSet.delete(v);
    ops.put(mk, this.writeValue(ops, v, exp, garbage));
  }

  /**
   * Writes the element records of a collection (incremental when its records are in the store
   * and it changed element by element, else whole under a new version) and returns its metadata.
   */
  private writeValue(ops: Records, v: RObject, exp: number, garbage: number[]): string {
    const c = turnChanges.get(v);
    if (c !== undefined) turnChanges.delete(v);
    if (v instanceof Stream) {
      if (v.ldb !== 0) {
        garbage.push(v.ldb);
        v.ldb = 0;
      }
      return L.blobMeta(L.T_STREAM, rdbBlob(v), exp);
    }
    if (v.ldb !== 0 && (c === undefined || !c.whole)) {
      if (c === undefined || this.writeChanges(ops, v, c)) return this.collectionMeta(v, exp);
    }
    // new to the store, inline, or rewritten whole: inline while small enough (the metadata put
    // replaces the previous inline record), else every element under a fresh version
    if (v.ldb !== 0) {
      garbage.push(v.ldb);
      v.ldb = 0;
    }
    const blob = this.inlineBlob(v);
    if (blob !== null) return L.inlineMeta(typeCode(v), blob, exp);
    v.ldb = this.newVersion();
    this.writeAll(ops, v);
    return this.collectionMeta(v, exp);
  }

  /**
   * The RDB encoding (type byte and body) of `v` when it is small enough to be stored inline
   * (layout.ts), else null. Small: the sizes where Redis 7.0 keeps a compact encoding — a hash or
   * zset in listpack form, a set in intset form, a set of strings of at most INLINE_SET_ENTRIES
   * members of at most INLINE_SET_VALUE bytes, a list that is one quicklist node — and an
   * encoding of at most INLINE_MAX_BYTES. The checks before encoding bound the work for big values
   * (a value too big is not encoded at all).
   */
  private inlineBlob(v: RObject): string | null {
    if (v instanceof Hash) {
      // a packed hash's listpack is its encoding: measured without unpacking it
      if (!v.isListpack() || v.size === 0 || (v.packedListpack ?? v.lp!).length > INLINE_MAX_BYTES) return null;
    } else if (v instanceof ZSet) {
      if (!v.listpack || v.size === 0 || v.size > INLINE_MAX_BYTES / 4) return null;
      if (v.memberLengths().total > INLINE_MAX_BYTES) return null;
    } else if (v instanceof RedisSet) {
      const n = v.size;
      if (n === 0) return null;
      if (v.isIntset()) {
        if (n * 8 > INLINE_MAX_BYTES) return null;
      } else {
        if (n > INLINE_SET_ENTRIES) return null;
        const st = { ok: true };
        v.forEach((o, m) => {
          if (m.length > INLINE_SET_VALUE) o.ok = false;
        }, st);
        if (!st.ok) return null;
      }
    } else if (v instanceof ListObject) {
      if (v.length === 0 || v.length > INLINE_MAX_BYTES / 2) return null;
      let bytes = 0;
      for (const e of v) {
        bytes += e.length + 2;
        if (bytes > INLINE_MAX_BYTES) return null;
      }
    } else {
      return null;
    }
    const blob = inlineEncoding(v, this.currentLimits());
    if (blob.length > INLINE_MAX_BYTES) return null;
    // RDB_TYPE_LIST_QUICKLIST_2, then the node count: one node is the single byte 1
    if (v instanceof ListObject && blob.charCodeAt(1) !== 1) return null;
    return blob;
  }

  private collectionMeta(v: RObject, exp: number): string {
    if (v instanceof ListObject) return L.collectionMeta(L.T_LIST, exp, v.ldb, v.length, v.ldbHead);
    if (v instanceof Hash) return L.collectionMeta(L.T_HASH, exp, v.ldb, v.size, 0);
    if (v instanceof RedisSet) return L.collectionMeta(L.T_SET, exp, v.ldb, v.size, 0);
    if (v instanceof ZSet) return L.collectionMeta(L.T_ZSET, exp, v.ldb, v.size, 0);
    throw new Error(`LevelDB engine: unknown value type ${v.type}`);
  }

  /** Every element of `v` under its (new) version `v.ldb`. */
  private writeAll(ops: Records, v: RObject): void {
    const ver = v.ldb;
    if (v instanceof Hash) {
      v.forEach((o, f, val) => o.put(L.subKey(ver, L.K_HASH, f), val), ops);
    } else if (v instanceof RedisSet) {
      v.forEach((o, m) => o.put(L.subKey(ver, L.K_SET, m), EMPTY), ops);
    } else if (v instanceof ZSet) {
      v.forEach((m, s) => {
        ops.put(L.subKey(ver, L.K_ZMEMBER, m), L.scoreValue(s));
        ops.put(L.zindexKey(ver, s, m), EMPTY);
      });
    } else if (v instanceof ListObject) {
      const head = L.LIST_START;
      v.ldbHead = head;
      v.forEach((item, i) => ops.put(L.listKey(ver, head + i), item));
    }
  }

  /**
   * The records of the elements changed since the last write-through. Returns false when the
   * value should rather be rewritten whole (the list's recorded moves do not add up, or a trim
   * deleted more records than rewriting would write).
   */
  private writeChanges(ops: Records, v: RObject, c: ObjChanges): boolean {
    const ver = v.ldb;
    if (v instanceof Hash) {
      if (c.names !== null) {
        for (const f of c.names) {
          const val = v.get(f);
          const k = L.subKey(ver, L.K_HASH, f);
          if (val === undefined) ops.del(k);
          else ops.put(k, val);
        }
      }
      return true;
    }
    if (v instanceof RedisSet) {
      if (c.names !== null) {
        for (const m of c.names) {
          const k = L.subKey(ver, L.K_SET, m);
          if (v.has(m)) ops.put(k, EMPTY);
          else ops.del(k);
        }
      }
      return true;
    }
    if (v instanceof ZSet) {
      if (c.zold !== null) {
        for (const [m, old] of c.zold) {
          const cur = v.score(m);
          const had = !Number.isNaN(old);
          if (cur !== undefined && had && Object.is(cur, old)) continue;
          if (had) ops.del(L.zindexKey(ver, old, m));
          if (cur === undefined) {
            ops.del(L.subKey(ver, L.K_ZMEMBER, m));
          } else {
            ops.put(L.subKey(ver, L.K_ZMEMBER, m), L.scoreValue(cur));
            ops.put(L.zindexKey(ver, cur, m), EMPTY);
          }
        }
      }
      return true;
    }
    if (v instanceof ListObject) return this.writeListChanges(ops, v, c);
    return false;
  }

  private writeListChanges(ops: Records, v: ListObject, c: ObjChanges): boolean {
    const ver = v.ldb;
    const len = v.length;
    const h = c.h;
    const t = h + len;
    if (t !== c.t) return false; // a change was not reported: rewrite whole rather than diverge
    const delA = Math.max(0, Math.min(c.t0, h) - c.h0);
    const delB = Math.max(0, c.t0 - Math.max(c.h0, t));
    if (delA + delB > 64 && delA + delB > 2 * len) return false;
    for (let p = c.h0, e = Math.min(c.t0, h); p < e; p++) ops.del(L.listKey(ver, p));
    for (let p = Math.max(c.h0, t); p < c.t0; p++) ops.del(L.listKey(ver, p));
    // [h, a) and [b, t) were pushed (or popped and pushed again); [a, b) is as in the store but LSETs
    const a = Math.min(c.maxH, t);
    const b = Math.max(c.minT, a, h);
    if (a > h) {
      const items = v.range(0, a - h - 1);
      for (let i = 0; i < items.length; i++) ops.put(L.listKey(ver, h + i), items[i]!);
    }
    if (t > b) {
      const items = v.range(b - h, len - 1);
      for (let i = 0; i < items.length; i++) ops.put(L.listKey(ver, b + i), items[i]!);
    }
    if (c.sets !== null) {
      for (const p of c.sets) {
        if (p >= a && p < b) ops.put(L.listKey(ver, p), v.get(p - h));
      }
    }
    v.ldbHead = h;
    return true;
  }

  // ---- the whole data set -----------------------------------------------------------------------

  /**
   * Writes every key of the keyspace into the (empty) store in batches of about `batchKeys` keys,
   * the function libraries (`F`), then the `I` record, synced: used after an import at start-up.
   * Resolves when durable.
   */
  async writeEverything(batchKeys = 5000): Promise<number> {
    const q = this.queue!;
    this.limitsRead = false;
    const dbs = this.ks.dbs;
    let n = 0;
    const garbage: number[] = [];
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[i]!;
      if (this.nsOf[i] === 0) {
        this.nsOf[i] = this.nextNs++;
        this.countersChanged = true;
      }
      q.open.put(L.dbKey(i), L.varint(this.nsOf[i]!));
      const ns = this.nsOf[i]!;
      for (const seg of db.segments) {
        for (const k of seg.keys()) {
          this.writeKey(q.open, db, ns, k, null, garbage);
          this.markGarbage(garbage);
          if (++n % batchKeys === 0) {
            q.kick();
            await q.drain(false);
          }
        }
      }
    }
    this.writeCounts(q.open);
    // the libraries the import's source held (RDB FUNCTION2 records, FUNCTION LOADs of an AOF)
    if (this.server.functions.libraries.size > 0) this.writeFunctions(q.open);
    q.open.put(L.P_COUNTERS, L.countersValue(this.nextVersion, this.nextNs));
    q.open.put(L.P_INFO, L.FORMAT);
    this.countersChanged = false;
    await q.drain(true);
    return n;
  }

  /** Marks a fresh store: db namespaces, counters and the `I` record, synced. */
  async initEmpty(): Promise<void> {
    await this.writeEverything();
  }

  /**
   * CONFIG SET leveldb yes at run time: writes the live data set into the store in slices of
   * about a millisecond per event-loop turn while capture already runs, so a key changed before
   * its slice is written by the turn's write-through and one changed after, again. A FLUSHDB or
   * SWAPDB during the import restarts it (values already written keep their records). The
   * function libraries go in the first turn's batch, and again whenever they change.
   */
  async importLive(): Promise<void> {
    const q = this.queue!;
    for (let i = 0; i < this.nsOf.length; i++) {
      this.nsOf[i] = this.nextNs++;
      this.dbMapChanged.add(i);
    }
    this.countersChanged = true;
    this.state = 'importing';
    this.startCapture();
    this.functionsChanged = this.server.functions.libraries.size > 0;
    this.changed();
    const cur = { db: 0, seg: 0, restart: false };
    this.importCursor = cur;
    const garbage: number[] = [];
    const dbs = this.ks.dbs;
    try {
      while (cur.db < dbs.length) {
        const t0 = performance.now();
        this.processTurn();
        while (cur.db < dbs.length && performance.now() - t0 < 1) {
          if (cur.restart) {
            cur.restart = false;
            cur.db = 0;
            cur.seg = 0;
          }
          const db = dbs[cur.db]!;
          if (cur.seg >= db.segments.length) {
            cur.db++;
            cur.seg = 0;
            continue;
          }
          const seg = db.segments[cur.seg++]!;
          const ns = this.nsOf[cur.db]!;
          for (const [k, v] of seg) {
            // a collection with a version is in the store already (written by a turn or a slice)
            if (typeof v !== 'string' && v.ldb !== 0) continue;
            this.writeKey(q.open, db, ns, k, null, garbage);
          }
          this.markGarbage(garbage);
        }
        if (this.countersChanged) {
          this.countersChanged = false;
          q.open.put(L.P_COUNTERS, L.countersValue(this.nextVersion, this.nextNs));
        }
        q.kick();
        await new Promise((r) => setImmediate(r));
        if (this.state !== 'importing') return;
      }
      this.processTurn();
      this.writeCounts(q.open);
      q.open.put(L.P_INFO, L.FORMAT);
      await q.drain(true);
      this.state = 'on';
    } finally {
      this.importCursor = null;
    }
  }

  // ---- loading ------------------------------------------------------------------------------

  /** True when the store holds no record at all. */
  async isEmpty(): Promise<boolean> {
    const it = this.store!.keys({ limit: 1 });
    try {
      const k = await it.next();
      return k === undefined;
    } finally {
      await it.close();
    }
  }

  /**
   * What the open store holds, by its `I` record: 'empty' (nothing at all), 'complete' (created or
   * imported completely: load it) or 'interrupted' (Amber's import was cut short: empty it and
   * import again).
   * @throws Error, never emptying the store, for records without an `I` record (another
   *   program's store), a BACKUP copy cut short, or an `I` record of an unknown format (a newer
   *   Amber's store)
   */
  async ownership(): Promise<'empty' | 'complete' | 'interrupted'> {
    if (await this.isEmpty()) return 'empty';
    const v = await this.store!.get(L.P_INFO);
    if (v === undefined) {
      throw new Error(`${this.path} holds LevelDB records but is not an Amber store (no 'I' record), and Amber does not overwrite it. ` +
        'Point leveldb-path at an empty or missing directory, or move this one away; an Amber store whose very first import was interrupted by an older Amber can be removed to import again.');
    }
    if (v === L.IMPORTING) return 'interrupted';
    if (v === L.BACKUP_INCOMPLETE) {
      throw new Error(`${this.path} is a BACKUP whose copy was cut short (its BACKUP.log is missing or says FAILED): it holds part of the data only. Take the backup again, or start from another copy`);
    }
    if (v !== L.FORMAT && v !== L.FORMAT_1) throw new Error(`${this.path} is not an Amber LevelDB store of a known format (found '${v.slice(0, 40)}')`);
    this.loadedFormat = v;
    return 'complete';
  }

  /** Deletes every record (an unfinished import is started again). */
  async wipe(): Promise<void> {
    await this.store!.clear();
  }

  /** Writes the "import under way" `I` record, synced, before an import writes anything else. */
  async markImporting(): Promise<void> {
    await this.store!.put(L.P_INFO, L.IMPORTING, { sync: true });
  }

  /**
   * Loads the whole store into the keyspace (start-up): db namespaces, counters, garbage marks,
   * key count hints, then per live namespace — its table first sized from the hint
   * (Database.reserve) — its metadata (strings, streams and inline collections are complete
   * there, the latter decoded as an RDB load decodes them; other collections wait for their
   * elements), then the subkeys in version order, each collection built in one go with the
   * encoding Redis would pick after loading an RDB; the metadata of a store of
   * LOAD_WORKER_MIN_KEYS or more keys is read on a load worker (load-worker.ts). Orphan subkeys
   * (reclaim not finished) are skipped with a seek. Then the exact key counts are queued, and a
   * format-1 store is marked format 2 (layout.ts). Sets {@link progress}; logs every few seconds.
   * key-load-delay (a hidden test directive) slows it as it slows an RDB load: each key owes its
   * delay, slept off on timers between batches (the store is then read on this thread).
   * @throws Error naming the record on a corrupt record or a db index beyond `databases`
   */
  async load(): Promise<LoadStats> {
    const t0 = performance.now();
    const stats: LoadStats = { keys: 0, records: 0, bytes: 0, ms: 0, orphans: 0, libraries: 0, worker: false };
    this.limits = limitsFromConfig(this.server.config);
    const usec = this.server.config.get<number>('key-load-delay');
    this.loadDelay = usec !== 0 ? { debt: new DelayDebt(), stats, charged: 0, usec } : null;
    try {
      return await this.loadStore(stats, t0);
    } finally {
      this.loadDelay = null;
    }
  }

  private async loadStore(stats: LoadStats, t0: number): Promise<LoadStats> {
    const store = this.store!;
    const ks = this.ks;
    const log = this.server.log;
    // startTime: set when the start-up began (opening the store counts as loading)
    if (this.progress.startTime === 0) this.progress.startTime = Math.floor(Date.now() / 1000);
    this.progress.loadedBytes = 0;
    if (this.progress.totalBytes === 0) {
      try {
        this.progress.totalBytes = await store.approximateSize('\x00', '\xff');
      } catch {
        this.progress.totalBytes = 0;
      }
    }
    const counters = await store.get(L.P_COUNTERS);
    if (counters !== undefined && counters.length >= 16) {
      this.nextVersion = L.readU64(counters, 0);
      this.nextNs = L.readU64(counters, 8);
    }
    // the function libraries: decoded now (a corrupt record stops the start-up before the keys
    // are read), compiled after the keys, by the Lua engine loading meanwhile
    const functionsRecord = await store.get(L.P_FUNCTIONS);
    let functionCodes: string[] = [];
    let lua: Promise<unknown> | null = null;
    if (functionsRecord !== undefined) {
      try {
        functionCodes = L.decodeFunctions(functionsRecord);
      } catch (e) {
        throw new Error(`corrupt function libraries record 'F' (${functionsRecord.length} bytes) in the LevelDB store ${this.path}: ${(e as Error).message}. ` +
          'Restore the store from a BACKUP copy (or move the directory away and load an RDB or AOF export), then start again');
      }
      if (functionCodes.length > 0) {
        lua = ScriptingEngine.ensure(this.server);
        // awaited below; a failure while the keys load must not be an unhandled rejection meanwhile
        lua.catch(() => undefined);
      }
    }
    let lastLog = performance.now();
    /** a record of `bytes` (key and value) was read */
    const account = (bytes: number): void => {
      stats.records++;
      stats.bytes += bytes;
      this.progress.loadedBytes = stats.bytes;
      if ((stats.records & 4095) === 0 && performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log.notice(`Loading LevelDB store ${this.path}: ${stats.keys} keys, ${(stats.bytes / 1048576).toFixed(1)} MB read`);
      }
    };
    await this.scan(L.P_DB, L.prefixEnd(L.P_DB), (k, v) => {
      account(k.length + v.length);
      const db = L.readVarint(k, 1);
      if (db >= ks.dbs.length) {
        throw new Error(`the LevelDB store has keys in DB ${db} but databases is ${ks.dbs.length}`);
      }
      this.nsOf[db] = L.readVarint(v, 0);
    });
    await this.scan(L.P_GARBAGE_VERSION, L.prefixEnd(L.P_GARBAGE_VERSION), (k) => {
      this.garbageVersions.push(L.readU64(k, 1));
    });
    await this.scan(L.P_GARBAGE_NS, L.prefixEnd(L.P_GARBAGE_NS), (k) => {
      this.garbageNs.push(L.readVarint(k, 1));
    });
    this.keyCounts.clear();
    await this.scan(L.P_COUNT, L.prefixEnd(L.P_COUNT), (k, v) => {
      account(k.length + v.length);
      this.keyCounts.set(L.readVarint(k, 1), L.readVarint(v, 0));
    });
    // metadata, per live namespace, in PARALLEL_SCANS key ranges at once (the order prefix is a
    // hash, so its first byte splits a namespace evenly): while JS builds one batch, LevelDB's
    // threads read the next ones. A big store's are read on a load worker (readInWorker), which
    // then also bears classic-level's making of a JS string per key and value
    const pending = new Map<number, Pending>();
    /** a metadata record other than a string without an expire time */
    const onMeta = (dbi: number, key: string, v: string): void => {
      const db = ks.dbs[dbi]!;
      let m: L.Meta;
      try {
        m = L.decodeMeta(v);
      } catch (e) {
        throw new Error(`corrupt metadata record of key '${key}' in DB ${dbi}: ${(e as Error).message}`);
      }
      const exp = m.expireAt;
      if (m.type === L.T_STRING) {
        db.loadKey(key, flatSlice(v, m.body), exp);
        stats.keys++;
      } else if (m.type === L.T_STREAM || m.inline) {
        const o = this.decodeBlob(v.slice(m.body), key, dbi);
        if (typeof o === 'string' || (o instanceof Stream ? L.T_STREAM : typeCode(o)) !== m.type) {
          throw new Error(`corrupt metadata record of key '${key}' in DB ${dbi}: its value is not of type ${m.type}`);
        }
        db.loadKey(key, o, exp);
        stats.keys++;
      } else {
        pending.set(m.version, { db: dbi, key, exp: m.expireAt, type: m.type, size: m.size, head: m.head });
      }
    };
    /** the metadata ranges: [gte, lt), db index, length of the key's prefix */
    const ranges: Array<{ lo: string; hi: string; dbi: number; skip: number }> = [];
    for (let dbi = 0; dbi < ks.dbs.length; dbi++) {
      const ns = this.nsOf[dbi]!;
      if (ns === 0) continue;
      // size the table for the keys to come (RESIZEDB's dictExpand in an RDB load): no segment
      // splits while it fills. The hint is bounded by the store's bytes on disk (a key takes
      // more than a byte), so a corrupt one cannot reserve without limit.
      const hint = this.keyCounts.get(ns) ?? 0;
      if (hint > 0) ks.dbs[dbi]!.reserve(Math.min(hint, this.progress.totalBytes));
      const prefix = L.metaPrefix(ns);
      const skip = prefix.length + 4; // the order prefix (layout.ts)
      for (let i = 0; i < PARALLEL_SCANS; i++) {
        // the order prefix's first byte is 7 bits of hash
        const lo = i === 0 ? prefix : prefix + String.fromCharCode((128 / PARALLEL_SCANS) * i);
        const hi = i === PARALLEL_SCANS - 1 ? L.prefixEnd(prefix) : prefix + String.fromCharCode((128 / PARALLEL_SCANS) * (i + 1));
        ranges.push({ lo, hi, dbi, skip });
      }
    }
    let hinted = 0;
    for (const ns of this.nsOf) if (ns !== 0) hinted += this.keyCounts.get(ns) ?? 0;
    // key-load-delay sleeps between batches read on this thread (a test directive: slow on purpose)
    const inWorker = this.loadDelay === null && hinted >= LOAD_WORKER_MIN_KEYS && await this.readInWorker(ranges.map((r) => [r.lo, r.hi]), (range, buf, records) => {
      const { dbi, skip } = ranges[range]!;
      const db = ks.dbs[dbi]!;
      let n = 0;
      for (let p = 0; p < buf.length; n++) {
        const kn = buf.readUInt32LE(p);
        const vn = buf.readUInt32LE(p + 4);
        const ka = p + RECORD_HEADER;
        const va = ka + kn;
        p = va + vn;
        if (kn < skip || p > buf.length) throw new Error(`the LevelDB load worker sent a malformed chunk (record at byte ${ka - RECORD_HEADER})`);
        account(kn + vn);
        const key = buf.latin1Slice(ka + skip, va);
        // the commonest record, a string without an expire time: no Meta object, no record string
        if (vn >= 2 && buf[va + 1] === 0 && buf[va] === L.T_STRING) {
          db.loadKey(key, buf.latin1Slice(va + 2, p), -1);
          stats.keys++;
        } else {
          onMeta(dbi, key, buf.latin1Slice(va, p));
        }
      }
      if (n !== records) throw new Error(`the LevelDB load worker sent a malformed chunk (${n} records where it said ${records})`);
    });
    stats.worker = inWorker;
    if (!inWorker) {
      await Promise.all(ranges.map(({ lo, hi, dbi, skip }) => {
        const db = ks.dbs[dbi]!;
        return this.scan(lo, hi, (k, v) => {
          account(k.length + v.length);
          const key = flatSlice(k, skip);
          if (v.length >= 2 && v.charCodeAt(1) === 0 && v.charCodeAt(0) === L.T_STRING) {
            db.loadKey(key, flatSlice(v, 2), -1);
            stats.keys++;
          } else {
            onMeta(dbi, key, v);
          }
        });
      }));
    }
    // subkeys, in version order, in PARALLEL_SCANS ranges of whole versions of about equal size
    if (pending.size > 0) {
      const versions = [...pending.keys()].sort((a, b) => a - b);
      const weight = (v: number): number => {
        const p = pending.get(v)!;
        return 1 + (p.type === L.T_ZSET ? 2 : 1) * p.size;
      };
      let total = 0;
      for (const v of versions) total += weight(v);
      const groups: number[][] = [[]];
      let acc = 0;
      for (const v of versions) {
        if (acc >= (total * groups.length) / PARALLEL_SCANS && groups.length < PARALLEL_SCANS) groups.push([]);
        groups[groups.length - 1]!.push(v);
        acc += weight(v);
      }
      await Promise.all(groups.map((g, i) => {
        const lo = i === 0 ? L.P_SUB : L.subPrefix(g[0]!);
        const hi = i === groups.length - 1 ? L.prefixEnd(L.P_SUB) : L.subPrefix(groups[i + 1]![0]!);
        return this.loadSubkeys(lo, hi, g, pending, stats, account);
      }));
      for (const p of pending.values()) {
        log.warning(`LevelDB store: key '${p.key}' in DB ${p.db} has no elements; skipped`);
      }
    }
    if (lua !== null) {
      await this.installFunctions(functionCodes, lua);
      stats.libraries = functionCodes.length;
    }
    // exact key count hints, and a format-1 store is now format 2 (its records are valid as they
    // are; the `I` record goes first in the queue, before any inline record can be written)
    const q = this.queue!;
    this.writeCounts(q.open);
    if (this.loadedFormat !== L.FORMAT) {
      q.open.put(L.P_INFO, L.FORMAT);
      log.notice(`LevelDB store ${this.path}: format '${this.loadedFormat}' upgraded to '${L.FORMAT}'`);
    }
    q.kick();
    const delay = this.loadDelay;
    if (delay !== null) {
      await this.payLoadDebt();
      while (delay.debt.us > 0) await delay.debt.payAsync(DELAY_WAIT_MAX_MS);
    }
    stats.ms = performance.now() - t0;
    this.lastLoad = stats;
    return stats;
  }

  /**
   * Compiles the store's function libraries into server.functions, replacing any (as an RDB
   * load's FUNCTION2 records do), once `lua` (ScriptingEngine.ensure) is ready. Runs before
   * capture starts, so the install is not written back.
   * @throws Error naming the store and the library when Lua cannot be loaded or a library does
   *   not compile; the store is left as it is
   */
  private async installFunctions(codes: string[], lua: Promise<unknown>): Promise<void> {
    try {
      await lua;
    } catch (e) {
      throw new Error(`the LevelDB store ${this.path} holds ${codes.length} function libraries, and the Lua engine that runs them could not be loaded: ${(e as Error).message}. Check that the wasmoon-lua5.1 package is installed (npm ci)`);
    }
    const failed = this.server.functions.install(codes, 'flush');
    if (failed === null) return;
    const i = failed.failedAt >= 0 ? failed.failedAt : 0;
    const md = libraryMetadata(codes[i]!);
    const name = 'name' in md ? `'${md.name}'` : `number ${i + 1} (its first line is unreadable: ${md.error})`;
    throw new Error(`the function library ${name} in the LevelDB store ${this.path} (library ${i + 1} of ${codes.length} of its 'F' record) failed to load: ${failed.error}. ` +
      'The store was not changed and its keys are intact: start the Amber version that wrote it and FUNCTION DELETE or fix the library there, then start this one again');
  }

  /**
   * Loads the collections of `versions` (ascending) from the subkeys in [lo, hi): each version's
   * elements are read in order and the value is built in one go and set; versions not in
   * `pending` (records awaiting reclaim) are skipped with a seek. A zset is built from its score
   * index (already in order); its member records are read too (skipping them with a seek costs
   * more than reading them) and used only when they do not match the index.
   */
  private async loadSubkeys(lo: string, hi: string, versions: number[], pending: Map<number, Pending>, stats: LoadStats,
    account: (bytes: number) => void): Promise<void> {
    const ks = this.ks;
    const log = this.server.log;
    let vi = 0;
    const it = this.store!.iterator({ gte: lo, lt: hi, highWaterMarkBytes: 4 << 20 });
    let cur: Pending | null = null;
    let curVersion = -1;
    let strs: string[] = [];
    let nums: number[] = [];
    /** zset member record keys: the source of truth when the index does not match them */
    let zms: string[] = [];
    let zss: number[] = [];
    let lastScore = -Infinity;
    let lastMember = '';
    let sorted = true;
    const finish = (): void => {
      if (cur === null) return;
      const p = cur;
      cur = null;
      if (p.type === L.T_ZSET && zms.length !== strs.length) {
        log.warning(`LevelDB store: the score index of zset '${p.key}' in DB ${p.db} does not match its members; rebuilt from the members`);
        const z = new ZSet(false);
        for (let i = 0; i < zms.length; i++) z.insertNew(zss[i]!, flatSlice(zms[i]!, 10));
        strs = [];
        nums = [];
        for (const [m, sc] of z.entries()) {
          strs.push(m);
          nums.push(sc);
        }
        sorted = true;
      }
      const o = this.build(p.type, strs, nums, sorted, p.key, p.db);
      strs = [];
      nums = [];
      zms = [];
      zss = [];
      if (o === null) return;
      const n = o instanceof ListObject ? o.length : (o as Hash | RedisSet | ZSet).size;
      if (n !== p.size) log.warning(`LevelDB store: key '${p.key}' in DB ${p.db} has ${n} elements where its metadata says ${p.size}`);
      o.ldb = curVersion;
      o.ldbHead = p.head;
      ks.dbs[p.db]!.loadKey(p.key, o, p.exp);
      stats.keys++;
    };
    try {
      outer: for (;;) {
        if (this.loadDelay !== null) await this.payLoadDebt();
        const batch = await it.nextv(READ_BATCH);
        if (batch.length === 0) break;
        for (let bi = 0; bi < batch.length; bi++) {
          const k = batch[bi]![0];
          const v = batch[bi]![1];
          account(k.length + v.length);
          const ver = L.readU64(k, 1);
          if (ver !== curVersion) {
            finish();
            curVersion = ver;
            const p = pending.get(ver);
            while (vi < versions.length && versions[vi]! <= ver) vi++;
            if (p === undefined) {
              stats.orphans++;
              if (vi >= versions.length) break outer;
              it.seek(L.subPrefix(versions[vi]!));
              continue outer;
            }
            pending.delete(ver);
            cur = p;
            sorted = true;
            lastScore = -Infinity;
            lastMember = '';
          }
          const p = cur!;
          const kind = k.charCodeAt(9);
          if (p.type === L.T_HASH && kind === L.K_HASH) {
            strs.push(flatSlice(k, 10), v);
          } else if (p.type === L.T_SET && kind === L.K_SET) {
            strs.push(flatSlice(k, 10));
          } else if (p.type === L.T_ZSET && kind === L.K_ZINDEX) {
            const s = L.decodeScore(k, 10);
            const m = flatSlice(k, 18);
            if (sorted && strs.length > 0 && cmpKey(lastScore, lastMember, s, m) >= 0) sorted = false;
            lastScore = s;
            lastMember = m;
            strs.push(m);
            nums.push(s);
          } else if (p.type === L.T_LIST && kind === L.K_LIST) {
            strs.push(v);
          } else if (p.type === L.T_ZSET && kind === L.K_ZMEMBER) {
            zms.push(k); // the member is cut out only if the index does not match (rare)
            zss.push(v.length === 8 ? L.readF64be(v, 0) : NaN);
          } else {
            throw new Error(`corrupt subkey of key '${p.key}' in DB ${p.db}: kind ${kind} in a value of type ${p.type}`);
          }
        }
      }
      finish();
    } finally {
      await it.close();
    }
  }

  /** Calls `fn` for every record in [lo, hi), reading in batches. */
  private async scan(lo: string, hi: string, fn: (k: string, v: string) => void): Promise<void> {
    const it = this.store!.iterator({ gte: lo, lt: hi, highWaterMarkBytes: 4 << 20 });
    try {
      for (;;) {
        if (this.loadDelay !== null) await this.payLoadDebt();
        const batch = await it.nextv(READ_BATCH);
        if (batch.length === 0) return;
        for (let i = 0; i < batch.length; i++) fn(batch[i]![0], batch[i]![1]);
      }
    } finally {
      await it.close();
    }
  }

  /**
   * Starts a load worker (load-worker.ts) ahead of {@link load}: its thread, module and
   * classic-level's addon (~60-80 ms of the other core) get ready while this thread checks and
   * opens the store, instead of after. The start-up calls it for a store of
   * LOAD_WORKER_PRESTART_BYTES or more; the load takes it ({@link readInWorker}), else
   * {@link dropSpareWorker} ends it.
   */
  prestartLoadWorker(): void {
    if (this.spareWorker !== null) return;
    const url = workerModuleUrl('load-worker', import.meta.url);
    if (url === null) return;
    let w: Worker;
    try {
      w = new Worker(url, { workerData: LOAD_WORKER_START });
    } catch {
      // the load starts one itself, or reads on this thread
      return;
    }
    const spare = { w, dead: false };
    w.once('error', () => (spare.dead = true));
    w.once('exit', () => (spare.dead = true));
    this.spareWorker = spare;
  }

  /** Ends the load worker started ahead when the load did not take it (a small store, a failure). */
  dropSpareWorker(): void {
    const s = this.spareWorker;
    this.spareWorker = null;
    if (s !== null) void s.w.terminate();
  }

  /**
   * Reads the ranges [gte, lt) on a load worker (load-worker.ts) and hands each chunk of packed
   * records to `onChunk(range, chunk, records)` as it arrives; the store is closed meanwhile (one handle
   * per process) and reopened before this returns. False, with nothing read, when no worker can
   * run here or it could not open the store (the caller then reads on this thread).
   * @throws Error from `onChunk` (the worker is stopped first) or the worker's read error
   */
  private async readInWorker(ranges: Array<[string, string]>, onChunk: (range: number, chunk: Buffer, records: number) => void): Promise<boolean> {
    const spare = this.spareWorker;
    this.spareWorker = null;
    const url = workerModuleUrl('load-worker', import.meta.url);
    if (url === null) {
      if (spare !== null) void spare.w.terminate();
      return false;
    }
    const store = this.store!;
    await store.close();
    let worker: Worker | null = null;
    try {
      const data: LoadWorkerData = { path: this.path, ranges, batch: READ_BATCH, chunkBytes: LOAD_CHUNK_BYTES, maxInFlight: LOAD_CHUNKS_IN_FLIGHT };
      if (spare !== null && !spare.dead) worker = spare.w;
      else {
        if (spare !== null) void spare.w.terminate();
        worker = new Worker(url, { workerData: LOAD_WORKER_START });
      }
      const w = worker;
      w.postMessage({ job: data } satisfies LoadWorkerIn);
      return await new Promise<boolean>((resolve, reject) => {
        let opened = false;
        /** the first failure, reported once the worker has let go of the store */
        let failure: Error | null = null;
        const fail = (e: Error): void => {
          if (failure !== null) return;
          failure = e;
          w.postMessage({ stop: true } satisfies LoadWorkerIn);
        };
        w.on('message', (m: LoadWorkerOut) => {
          if ('chunk' in m) {
            if (failure !== null) return;
            try {
              onChunk(m.range, Buffer.from(m.chunk), m.records);
            } catch (e) {
              fail(e as Error);
              return;
            }
            w.postMessage({ ack: 1 } satisfies LoadWorkerIn);
          } else if ('opened' in m) {
            opened = true;
          } else if ('done' in m) {
            if (failure !== null) reject(failure);
            else resolve(true);
          } else if ('error' in m) {
            if (failure !== null) reject(failure);
            else if (!opened) resolve(false);
            else reject(new Error(`reading the LevelDB store ${this.path}: ${m.error}`));
          }
        });
        w.on('error', (e) => (opened || failure !== null ? reject(failure ?? e) : resolve(false)));
        w.on('exit', (code) => reject(failure ?? new Error(`the LevelDB load worker exited (code ${code}) before it finished`)));
      });
    } finally {
      // after done or error the worker holds no handle; terminate waits for the thread to end
      if (worker !== null) await worker.terminate();
      await store.open();
    }
  }

  /**
   * Charges key-load-delay for the keys loaded since the last call and sleeps off the debt once it
   * is due (on timers: clients get -LOADING meanwhile). The load's parallel scans share one
   * payment: each sleeping the debt off would pay it several times over in the same time.
   */
  private async payLoadDebt(): Promise<void> {
    if (this.loadPaying !== null) return this.loadPaying;
    const d = this.loadDelay!;
    for (; d.charged < d.stats.keys; d.charged++) d.debt.add(d.usec);
    d.usec = this.server.config.get<number>('key-load-delay');
    if (!d.debt.due) return;
    const paying = (async () => {
      while (d.debt.due) await d.debt.payAsync(DELAY_WAIT_MAX_MS);
    })();
    this.loadPaying = paying;
    try {
      await paying;
    } finally {
      this.loadPaying = null;
    }
  }

  private decodeBlob(b: string, key: string, db: number): Value {
    const r = new RdbReader(Buffer.from(b, 'latin1'));
    const type = r.u8();
    if (!rdbIsObjectType(type)) throw new Error(`corrupt value of key '${key}' in DB ${db}: RDB type ${type}`);
    const v = loadObject(r, type, this.limits, key);
    if (v === null) throw new Error(`corrupt value of key '${key}' in DB ${db}: empty`);
    return v;
  }

  /** A collection from its elements, in the encoding Redis 7.0 picks after an RDB load. */
  private build(type: number, strs: string[], nums: number[], sorted: boolean, key: string, db: number): RObject | null {
    const lim = this.limits;
    switch (type) {
      case L.T_HASH: {
        const h = buildHash(strs, 'hashtable', lim);
        if (h === null) throw new Error(`corrupt hash '${key}' in DB ${db}: duplicate field`);
        return h;
      }
      case L.T_SET: {
        const s = buildSet(strs, lim);
        if (s === null) throw new Error(`corrupt set '${key}' in DB ${db}: duplicate member`);
        return s;
      }
      case L.T_ZSET: {
        let ms = strs;
        let ss = nums;
        if (!sorted) {
          // only -0 beside 0 can be out of zset order: the index orders -0 first
          const idx = ms.map((_, i) => i).sort((a, b) => cmpKey(ss[a]!, ms[a]!, ss[b]!, ms[b]!));
          ms = idx.map((i) => strs[i]!);
          ss = idx.map((i) => nums[i]!);
        }
        let lp = ms.length <= lim.zsetEntries;
        if (lp) for (const m of ms) if (m.length > lim.zsetValue) { lp = false; break; }
        // A listpack holds -0 as 0 (ZSet.insertNew), so a -0 in the store was written from a
        // skiplist: keep that encoding, or the restart would turn the score -0 into 0. (An RDB
        // load does turn it into 0, as Redis's does; the store must give back the keyspace as
        // it was before the restart.)
        if (lp) for (const s of ss) if (s === 0 && Object.is(s, -0)) { lp = false; break; }
        const z = new ZSet(lp);
        z.bulkLoad(ms, ss);
        return z;
      }
      case L.T_LIST:
        // packed pages straight away: the element strings read from the store are not kept
        return ListObject.fromArrayPacked(strs);
      default:
        throw new Error(`corrupt metadata of key '${key}' in DB ${db}: type ${type}`);
    }
  }

  // ---- reclaim ------------------------------------------------------------------------------

  /**
   * Cron: reclaims a bounded number of garbage records (one dead namespace's metadata, whose
   * collections' versions become garbage in turn, or one dead version's subkeys), if none is
   * being reclaimed and the store is healthy.
   */
  reclaimStep(): void {
    if (this.reclaiming || this.state !== 'on' || this.queue === null || this.queue.inError || this.store === null) return;
    if (this.garbageNs.length === 0 && this.garbageVersions.length === 0) return;
    this.reclaiming = true;
    const work = this.garbageNs.length > 0 ? this.reclaimNs(this.garbageNs[0]!) : this.reclaimVersion(this.garbageVersions[0]!);
    work.catch((e: unknown) => {
      this.server.log.warning(`LevelDB reclaim failed: ${(e as Error).message}`);
      this.reclaiming = false;
    });
  }

  private async reclaimVersion(v: number): Promise<void> {
    const [lo, hi] = L.versionRange(v);
    const keys = await this.store!.keys({ gte: lo, lt: hi, limit: RECLAIM_BUDGET }).all();
    const q = this.queue;
    if (q === null || this.state !== 'on') {
      this.reclaiming = false;
      return;
    }
    for (const k of keys) q.open.del(k);
    const done = keys.length < RECLAIM_BUDGET;
    if (done) q.open.del(L.garbageVersionKey(v));
    this.reclaimedRecords += keys.length;
    q.onCommit(() => {
      if (done && this.garbageVersions[0] === v) this.garbageVersions.shift();
      this.reclaiming = false;
    });
    q.kick();
  }

  private async reclaimNs(ns: number): Promise<void> {
    const [lo, hi] = L.metaRange(ns);
    const entries = await this.store!.iterator({ gte: lo, lt: hi, limit: RECLAIM_BUDGET }).all();
    const q = this.queue;
    if (q === null || this.state !== 'on') {
      this.reclaiming = false;
      return;
    }
    const versions: number[] = [];
    for (const [k, v] of entries) {
      q.open.del(k);
      try {
        const m = L.decodeMeta(v);
        if (m.version !== 0) {
          versions.push(m.version);
          q.open.put(L.garbageVersionKey(m.version), EMPTY);
        }
      } catch {
        // a corrupt record of a dead namespace: deleting it is all there is to do
      }
    }
    const done = entries.length < RECLAIM_BUDGET;
    if (done) {
      q.open.del(L.countKey(ns));
      this.keyCounts.delete(ns);
      q.open.del(L.garbageNsKey(ns));
    }
    this.reclaimedRecords += entries.length;
    q.onCommit(() => {
      for (const v of versions) this.garbageVersions.push(v);
      if (done && this.garbageNs[0] === ns) this.garbageNs.shift();
      this.reclaiming = false;
    });
    q.kick();
  }

  // ---- statistics ------------------------------------------------------------------------------

  /** LevelDB's own statistics: `leveldb.stats` rows and files per level. */
  levelStats(): { stats: string; filesPerLevel: number[]; memory: string } {
    const s = this.store;
    // while CONFIG SET leveldb no or a shutdown closes it, the store answers no property
    if (s === null || s.status !== 'open') return { stats: '', filesPerLevel: [], memory: '0' };
    const files: number[] = [];
    for (let i = 0; i < 7; i++) files.push(Number(s.getProperty(`leveldb.num-files-at-level${i}`)) || 0);
    let memory = '0';
    try {
      memory = s.getProperty('leveldb.approximate-memory-usage');
    } catch {
      // older LevelDB builds lack the property
    }
    return { stats: s.getProperty('leveldb.stats'), filesPerLevel: files, memory };
  }
}

let scratch = Buffer.allocUnsafe(1 << 12);

/**
 * Longest slice {@link flatSlice} copies. A longer one stays a SlicedString: its overhead (a
 * 32-byte slice object and the record's few header bytes) is then under 8% of it, while copying
 * costs in proportion to its length.
 */
const FLAT_COPY_MAX = 512;

/**
 * `s.slice(start)` as a flat string when that matters. V8 makes a slice of 13 chars or more a
 * SlicedString that keeps the whole record string alive (about 40 bytes more per key or value,
 * 30% of a 100-byte value), so loaded keys and values of up to FLAT_COPY_MAX bytes are copied out
 * through a scratch buffer instead; shorter ones V8 copies itself.
 */
function flatSlice(s: string, start: number): string {
  const n = s.length;
  const len = n - start;
  if (len < 13 || len > FLAT_COPY_MAX) return s.slice(start);
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  scratch.latin1Write(s, 0, n);
  return scratch.latin1Slice(start, n);
}

/** The layout's type code of a collection. */
function typeCode(v: RObject): number {
  if (v instanceof Hash) return L.T_HASH;
  if (v instanceof RedisSet) return L.T_SET;
  if (v instanceof ZSet) return L.T_ZSET;
  if (v instanceof ListObject) return L.T_LIST;
  throw new Error(`LevelDB engine: unknown value type ${v.type}`);
}

/** Options of the inline encoder: no LZF (LevelDB compresses its blocks), no CRC; limits set per call. */
const inlineOptions: RdbSaveOptions = { compression: false, checksum: false, limits: DEFAULT_SAVE_OPTIONS.limits };
let inlineOut = '';
/** One writer for every inline value: encoding is synchronous and each one fits its buffer. */
const inlineWriter = new RdbWriter((c) => {
  inlineOut += c.latin1Slice(0, c.length);
}, inlineOptions, true);

/**
 * `v`'s RDB encoding (type byte and body) for an inline record, with the quicklist node size of
 * `limits` (as BGSAVE would split a list).
 */
function inlineEncoding(v: RObject, limits: TypeLimits): string {
  inlineOptions.limits = limits;
  inlineOut = '';
  writeTypedValue(inlineWriter, v);
  inlineWriter.flush();
  const s = inlineOut;
  inlineOut = '';
  return s;
}

/** A value's RDB encoding (type byte and body), as stored for streams. */
export function rdbBlob(v: Value): string {
  const chunks: Uint8Array[] = [];
  const w = new RdbWriter((c) => chunks.push(c), { ...DEFAULT_SAVE_OPTIONS, checksum: false });
  writeTypedValue(w, v);
  w.flush();
  const b = Buffer.concat(chunks);
  return b.latin1Slice(0, b.length);
}
