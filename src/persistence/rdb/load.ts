/**
 * RDB files on disk: loading at start-up (loadDataFromDisk / rdbLoad of Redis 7.0), synchronous
 * saving (rdbSave: `temp-<pid>.rdb`, fsync, rename, fsync of the directory), the state INFO
 * persistence reports, and the shutdown save.
 *
 * Loading decodes into a staging set of databases and swaps them in only when the whole file was
 * read and checked, so a corrupt or truncated file never leaves a half-loaded keyspace. It runs
 * in slices of a few tens of milliseconds, yielding to the event loop in between, so clients
 * connected meanwhile get -LOADING instead of a frozen server.
 */
import { ScriptingEngine } from '../../scripting/engine.js';
import { openSync, closeSync, fsyncSync, unlinkSync, fstatSync, constants as fsc } from 'node:fs';
import { resolve, dirname, basename, isAbsolute } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Server, ShutdownOptions } from '../../server/server.js';
import { Keyspace } from '../../keyspace/keyspace.js';
import type { Database } from '../../keyspace/database.js';
import { RdbReader, RdbError } from './reader.js';
import { RdbParser, checksumMismatch } from './decoder.js';
import { saveThroughWorkerSync, crcOnWorker, type WorkerCrc } from './save-worker-client.js';
import { crc64OfFile } from './crc64.js';
import { RdbFileEncoder, rdbSnapshotFormat, DEFAULT_SAVE_OPTIONS, type RdbSaveOptions, type KeyAccess, type RdbSnapshotFormat } from './encoder.js';
import type { Value } from '../../keyspace/types/object.js';
import { LRU_CLOCK_MAX, lfuTimeInMinutes, estimateIdleMs, lfuDecrAndReturn } from '../../keyspace/lru.js';
import { registerRdbForAof } from '../aof/aof.js';
import { installRdbDebug } from './debug.js';
import { limitsFromConfig } from './values.js';
import { registerInfoProvider, setLoadingFields } from '../../server/info.js';
import { fsyncDir, chunkWriter, renameReplacing, AUTOSYNC_BYTES } from '../fsutil.js';
import { BGSAVE_MISCONF } from '../misconf.js';
import { DelayDebt, DELAY_WAIT_MAX_MS } from '../debug-delay.js';

/** Per-server RDB state (the rdb_* and loading_* fields of struct redisServer). */
export interface RdbState {
  /** Unix seconds of the last successful save (server.lastsave); start-up counts as one */
  lastSave: number;
  /** status of the last background save, set by BGSAVE (lastbgsave_status) */
  lastBgsaveStatus: 'ok' | 'err';
  /** saves done by SAVE and BGSAVE (stat_rdb_saves; not FLUSHALL's or DEBUG RELOAD's) */
  saves: number;
  /** true while a background save runs (child_type == CHILD_TYPE_RDB); set by BGSAVE */
  bgsaveInProgress: boolean;
  /** keys loaded / dropped as expired by the last load */
  lastLoadKeysLoaded: number;
  lastLoadKeysExpired: number;
  /** progress of the running load */
  loadingStartTime: number;
  loadingTotalBytes: number;
  loadingLoadedBytes: number;
  loadingRdbUsedMem: number;
  /** DEBUG SET-SKIP-CHECKSUM-VALIDATION (server.skip_checksum_validation): no CRC check of RDB files and RESTORE payloads */
  skipChecksumValidation: boolean;
}

const states = new WeakMap<Server, RdbState>();

/** The RDB state of a server (created on first use). */
export function rdbState(server: Server): RdbState {
  let st = states.get(server);
  if (st === undefined) {
    st = {
      lastSave: Math.floor(server.startTime / 1000),
      lastBgsaveStatus: 'ok',
      saves: 0,
      bgsaveInProgress: false,
      skipChecksumValidation: false,
      lastLoadKeysLoaded: 0,
      lastLoadKeysExpired: 0,
      loadingStartTime: 0,
      loadingTotalBytes: 0,
      loadingLoadedBytes: 0,
      loadingRdbUsedMem: 0,
    };
    states.set(server, st);
  }
  return st;
}

/** Absolute path of `dir/dbfilename` (the RDB file of this server). */
export function rdbFilePath(server: Server): string {
  const dir = server.config.get<string>('dir');
  const name = server.config.get<string>('dbfilename');
  // a relative dir was made the working directory at start-up (chdir), as Redis does
  return dir && isAbsolute(dir) ? resolve(dir, name) : resolve(name);
}

/** The byte-shaping options of the configuration (rdbcompression, rdbchecksum, limits). */
export function saveOptions(server: Server): RdbSaveOptions {
  return {
    compression: server.config.get<boolean>('rdbcompression'),
    checksum: server.config.get<boolean>('rdbchecksum'),
    limits: limitsFromConfig(server.config),
  };
}

/** Options of {@link loadRdbFile}. */
export interface LoadOptions {
  /** the file is an AOF base: keep keys that are already expired (RDBFLAGS_AOF_PREAMBLE) */
  aofBase?: boolean;
  /** byte offset where the RDB starts in the file (default 0) */
  offset?: number;
  /** slice length before yielding to the event loop, ms (default 50); 0 = load in one go */
  sliceMs?: number;
  /** a key already loaded may be replaced by a later copy (DEBUG RELOAD MERGE) */
  merge?: boolean;
  /** keep the current data and add the file's keys to it (DEBUG RELOAD NOFLUSH) */
  noflush?: boolean;
}

/** What a load did. */
export interface LoadResult {
  /** false when the file does not exist (nothing loaded, not an error) */
  exists: boolean;
  keysLoaded: number;
  keysExpired: number;
  emptyKeysSkipped: number;
  /** offset just after the RDB's checksum: where an AOF tail starts */
  endOffset: number;
  version: number;
  aux: Map<string, string>;
}

/**
 * Loads an RDB file into the server's keyspace, replacing its contents only on success.
 * Sets `keyspace.loading` meanwhile (unless the caller already did) and the loading_* INFO
 * fields. Keys already expired are dropped unless `aofBase`.
 * @throws RdbError naming the file, the byte offset and the reason when the file is corrupt,
 *   truncated or uses what Amber does not support (modules, functions); the keyspace is then
 *   unchanged. Other I/O errors are thrown as they come.
 */
export async function loadRdbFile(server: Server, path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      return { exists: false, keysLoaded: 0, keysExpired: 0, emptyKeysSkipped: 0, endOffset: 0, version: 0, aux: new Map() };
    }
    throw e;
  }
  try {
    return await loadRdb(server, fd, path, opts);
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads RDB data held in memory (an AOF's RDB preamble) into the keyspace, as
 * {@link loadRdbFile} does; `file` names it in errors.
 */
export async function loadRdbBuffer(server: Server, buf: Buffer, file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  return loadRdb(server, buf, file, opts);
}

async function loadRdb(server: Server, source: number | Buffer, path: string, opts: LoadOptions): Promise<LoadResult> {
  const job = new LoadJob(server, source, path, opts, true);
  try {
    const slice = opts.sliceMs ?? 50;
    let lastLog = performance.now();
    while (!job.step(slice > 0 ? performance.now() + slice : Infinity)) {
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        job.logProgress();
      }
      // key-load-delay: the sleep on a timer, clients getting -LOADING meanwhile (Redis sleeps in
      // place, serving events every loading-process-events-interval-bytes)
      if (job.delay.due) await job.delay.payAsync(DELAY_WAIT_MAX_MS);
      else await new Promise<void>((r) => setImmediate(r));
    }
    while (job.delay.us > 0) await job.delay.payAsync(DELAY_WAIT_MAX_MS);
    await job.verifyChecksum();
    // function libraries are compiled by the Lua engine, loaded on demand
    if (job.functionCodes.length > 0) await ScriptingEngine.ensure(server);
    return job.commit();
  } finally {
    job.end();
  }
}

/**
 * Loads an RDB file at once, blocking the event loop (DEBUG RELOAD). Same contract as
 * {@link loadRdbFile}.
 */
export function loadRdbFileSync(server: Server, path: string, opts: LoadOptions = {}): LoadResult {
  const fd = openSync(path, 'r');
  const job = new LoadJob(server, fd, path, opts, false);
  try {
    // key-load-delay blocks here, as Redis's sleeps in DEBUG RELOAD's rdbLoad do
    while (!job.step(Infinity)) job.delay.paySync();
    job.delay.paySync();
    return job.commit();
  } finally {
    job.end();
    closeSync(fd);
  }
}

/**
 * One load: parses into a staging keyspace in steps, then commits (swap, or merge with NOFLUSH).
 * Errors come out as RdbErrors naming the file.
 */
class LoadJob {
  private readonly ks: Keyspace;
  private readonly st: RdbState;
  private readonly wasLoading: boolean;
  private readonly staging: Keyspace;
  private readonly parser: RdbParser;
  private readonly reader: RdbReader;
  private readonly aux = new Map<string, string>();
  private expired = 0;
  /** the database of the last SELECTDB, for RESIZEDB */
  private dbid = 0;
  /** the CRC-64 computed on a worker while this thread parses (see {@link verifyChecksum}) */
  private readonly crcJob: WorkerCrc | null = null;
  /** where the RDB data starts in the source */
  private readonly start: number;
  /** the file's function libraries (FUNCTION2 records) and their offsets */
  readonly functionCodes: string[] = [];
  readonly functionOffsets: number[] = [];

  /**
   * @param background the caller awaits {@link verifyChecksum} (an asynchronous load): a big
   *   file's CRC-64 may then be computed on a worker thread
   */
  constructor(private readonly server: Server, private readonly source: number | Buffer, private readonly path: string, private readonly opts: LoadOptions, background: boolean) {
    const ks = (this.ks = server.keyspace);
    const st = (this.st = rdbState(server));
    this.wasLoading = ks.loading;
    ks.loading = true;
    st.loadingStartTime = Math.floor(Date.now() / 1000);
    st.loadingLoadedBytes = 0;
    st.loadingRdbUsedMem = 0;
    st.lastLoadKeysExpired = 0;
    st.lastLoadKeysLoaded = 0;
    st.loadingTotalBytes = typeof source === 'number' ? fstatSync(source).size : source.length;
    const staging = (this.staging = new Keyspace(ks.dbs.length));
    // the maxmemory estimate travels with the databases when they are swapped in
    staging.accounting = ks.accounting;
    staging.loading = true;
    const now = Date.now();
    const start = (this.start = opts.offset ?? 0);
    const reader = (this.reader = new RdbReader(source, start));
    const verifyChecksum = server.config.get<boolean>('rdbchecksum') && !st.skipChecksumValidation;
    // a file's CRC-64 on another core while this thread parses: the trailer is its last 8 bytes
    // (verifyChecksum falls back to this thread when it turns out not to be)
    if (background && verifyChecksum && typeof source === 'number' && st.loadingTotalBytes - start >= CRC_WORKER_MIN_BYTES) {
      this.crcJob = crcOnWorker(source, start, st.loadingTotalBytes - 8);
    }
    const log = server.log;
    const aux = this.aux;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- handlers are called by the parser
    const job = this;
    this.parser = new RdbParser(reader, {
      databases: ks.dbs.length,
      limits: limitsFromConfig(server.config),
      verifyChecksum,
      externalChecksum: this.crcJob !== null,
      handlers: {
        aux(k, v) {
          aux.set(k, v);
          logAux(server, k, v);
        },
        selectDb(dbid) {
          job.dbid = dbid;
        },
        resizeDb(size) {
          // every key takes 3 bytes or more of the file: a corrupt hint cannot reserve more
          staging.dbs[job.dbid]?.reserve(Math.min(size, st.loadingTotalBytes / 3));
        },
        key(dbid, key, value, expireAt, meta) {
          if (job.loadDelay !== 0) job.keyDelay();
          if (!opts.aofBase && expireAt !== -1 && expireAt < now) {
            job.expired++;
            return;
          }
          const db = staging.dbs[dbid]!;
          // the staging set is discarded on error, so detecting the duplicate after is enough
          if (!db.loadKey(key, value, expireAt) && !opts.merge) throw new RdbError(reader.offset, `RDB has duplicated key '${key}' in DB ${dbid}`);
          if (meta.freq >= 0 || meta.idle >= 0) {
            const lru = accessClock(ks, meta.freq, meta.idle);
            if (lru >= 0) db.setLru(key, value, lru);
          }
        },
        functionLibrary(code, at) {
          // compiled when the load commits (the Lua engine may still have to load)
          job.functionCodes.push(code);
          job.functionOffsets.push(at);
        },
        emptyKey(_db, key) {
          if (job.parser.emptyKeysSkipped <= 10) log.warning(`rdbLoadObject skipping empty key: ${key}`);
          if (job.loadDelay !== 0) job.keyDelay();
        },
      },
    });
  }

  /**
   * key-load-delay as of this step (a CONFIG SET lands between steps, so it applies from the next
   * key), µs as debugDelay takes it
   */
  loadDelay = 0;
  /** what the keys loaded so far owe of {@link loadDelay} and was not slept yet */
  readonly delay = new DelayDebt();

  /** One key's key-load-delay (rdbLoadRio: expired and empty keys too): the step ends once it is due. */
  keyDelay(): void {
    this.delay.add(this.loadDelay);
    if (this.delay.due) this.parser.yieldRequested = true;
  }

  /**
   * Parses until done (true), `deadline` (performance.now() ms) has passed or key-load-delay
   * wants a sleep ({@link delay} due) (false).
   */
  step(deadline: number): boolean {
    this.loadDelay = this.server.config.get<number>('key-load-delay');
    try {
      const done = this.parser.step(deadline);
      this.st.loadingLoadedBytes = this.reader.offset;
      this.st.lastLoadKeysLoaded = this.parser.keys - this.expired;
      this.st.lastLoadKeysExpired = this.expired;
      return done;
    } catch (e) {
      if (e instanceof RdbError) throw e.withFile(this.path);
      throw e;
    }
  }

  /**
   * Compares the trailer with the CRC-64 computed on the worker, when the parser left it
   * 'pending'; computes it here instead when the worker failed or the file has bytes after the
   * trailer (its range was then wrong).
   * @throws RdbError naming the file, at the trailer's offset, on a mismatch (as the parser would)
   */
  async verifyChecksum(): Promise<void> {
    const p = this.parser;
    if (p.checksum !== 'pending') return;
    const at = p.endOffset - 8;
    let computed: Uint8Array | null = null;
    if (this.crcJob !== null && p.endOffset === this.st.loadingTotalBytes) {
      try {
        computed = await this.crcJob.result;
        this.server.log.verbose(`The checksum of ${this.path} was computed on a worker thread while it loaded.`);
      } catch (e) {
        this.server.log.warning(`The checksum of ${this.path} could not be computed on a worker thread (${(e as Error).message}): computing it on the main thread.`);
      }
    }
    if (computed === null) computed = crc64OfFile(this.source as number, this.start, at);
    if (!Buffer.from(computed.buffer, computed.byteOffset, 8).equals(p.storedChecksum!)) {
      throw checksumMismatch(at, computed, p.storedChecksum!).withFile(this.path);
    }
    p.checksum = 'ok';
  }

  logProgress(): void {
    const st = this.st;
    const perc = st.loadingTotalBytes ? ((this.reader.offset / st.loadingTotalBytes) * 100).toFixed(2) : '?';
    this.server.log.notice(`Loading RDB ${basename(this.path)}: ${perc}% (${this.parser.keys} keys)`);
  }

  /** Puts the loaded data in place: swapped in, or merged over the current data with `noflush`. */
  commit(): LoadResult {
    const ks = this.ks;
    const { parser, expired } = this;
    this.installFunctions();
    if (this.opts.noflush) {
      if (!this.opts.merge) {
        this.staging.dbs.forEach((sdb, i) => {
          for (const [k] of sdb.entries()) {
            if (ks.dbs[i]!.peek(k) !== undefined) throw new RdbError(parser.endOffset, `RDB has duplicated key '${k}' in DB ${i}`, this.path);
          }
        });
      }
      this.staging.dbs.forEach((sdb, i) => {
        const real = ks.dbs[i]!;
        for (const [k, v] of sdb.entries()) {
          const t = sdb.getExpire(k);
          real.setKey(k, v, t === -1 ? undefined : t);
        }
      });
    } else {
      for (let i = 0; i < ks.dbs.length; i++) {
        const real: Database = ks.dbs[i]!;
        real.clear();
        real.swapWith(this.staging.dbs[i]!);
      }
    }
    const loaded = parser.keys - expired;
    const log = this.server.log;
    if (parser.emptyKeysSkipped) {
      log.warning(`Done loading RDB, keys loaded: ${loaded}, keys expired: ${expired}, empty keys skipped: ${parser.emptyKeysSkipped}.`);
    } else {
      log.notice(`Done loading RDB, keys loaded: ${loaded}, keys expired: ${expired}.`);
    }
    if (parser.checksum === 'disabled-in-file') log.warning('RDB file was saved with checksum disabled: no check performed.');
    return {
      exists: true, keysLoaded: loaded, keysExpired: expired, emptyKeysSkipped: parser.emptyKeysSkipped,
      endOffset: parser.endOffset, version: parser.version, aux: this.aux,
    };
  }

  /**
   * The file's libraries replace the server's (a full load: emptyData drops functions before
   * Redis loads a file), or join them with NOFLUSH (MERGE replaces a library of the same name,
   * as RDBFLAGS_ALLOW_DUP does). Runs before the keys are swapped in: nothing changes on error.
   * @throws RdbError naming the library that does not compile or clashes, at its record's offset
   */
  private installFunctions(): void {
    const codes = this.functionCodes;
    if (codes.length === 0 && this.opts.noflush) return;
    const policy = !this.opts.noflush ? 'flush' : this.opts.merge ? 'replace' : 'append';
    if (codes.length > 0 && this.server.functions.engine === null) {
      throw new RdbError(this.functionOffsets[0]!, 'the file holds function libraries and Lua is not loaded yet: run any FUNCTION or EVAL command, then load again', this.path);
    }
    const failed = this.server.functions.install(codes, policy);
    if (failed !== null) {
      const at = failed.failedAt >= 0 ? this.functionOffsets[failed.failedAt]! : this.functionOffsets[0]!;
      throw new RdbError(at, `Failed loading library: ${failed.error}`, this.path);
    }
  }

  /** Restores the loading flag; stops a checksum worker still running (a failed load). */
  end(): void {
    this.crcJob?.cancel();
    this.ks.loading = this.wasLoading;
  }
}

/**
 * Smallest RDB (bytes) whose CRC-64 is computed on a worker thread while it loads: starting the
 * thread costs ~30 ms of the other core, the CRC ~2 ms per MB of this one.
 */
const CRC_WORKER_MIN_BYTES = 8 * 1024 * 1024;

/** The start-up log lines of the aux fields Redis understands (rdbLoadRio). */
function logAux(server: Server, k: string, v: string): void {
  const log = server.log;
  const key = k.toLowerCase();
  if (k.startsWith('%')) log.notice(`RDB '${k}': ${v}`);
  else if (key === 'redis-ver') log.notice(`Loading RDB produced by version ${v}`);
  else if (key === 'ctime') log.notice(`RDB age ${Math.max(0, Math.floor(Date.now() / 1000) - (parseInt(v, 10) || 0))} seconds`);
  else if (key === 'used-mem') {
    const mem = parseInt(v, 10) || 0;
    rdbState(server).loadingRdbUsedMem = mem;
    log.notice(`RDB memory usage when created ${(mem / (1024 * 1024)).toFixed(2)} Mb`);
  } else if (key === 'aof-preamble') {
    if (parseInt(v, 10)) log.notice('RDB has an AOF tail');
  } else if (key === 'aof-base') {
    if (parseInt(v, 10)) log.notice('RDB is base AOF');
  } else if (!['repl-stream-db', 'repl-id', 'repl-offset', 'lua', 'redis-bits'].includes(key)) {
    log.debug(`Unrecognized RDB AUX field: '${k}'`);
  }
}

/**
 * objectSetLRUOrLFU (src/object.c): the access clock of a key given an LFU counter `freq` or an
 * idle time `idle` in seconds (-1 when not given), for the current policy; -1 when neither
 * applies.
 */
export function accessClock(ks: Keyspace, freq: number, idle: number): number {
  if (ks.lfu) {
    if (freq >= 0) return (lfuTimeInMinutes(ks) << 8) | (freq & 255);
    return -1;
  }
  if (idle >= 0) {
    let abs = ks.lruClock - idle;
    if (abs < 0) abs += LRU_CLOCK_MAX;
    return abs;
  }
  return -1;
}

/** The IDLE/FREQ information rdbSaveKeyValuePair writes for a key under the current policy. */
export function keyAccess(server: Server, db: Database, key: string, value: Value): KeyAccess | undefined {
  const policy = server.config.get<string>('maxmemory-policy');
  const ks = server.keyspace;
  if (policy.endsWith('-lru')) return { idle: Math.floor(estimateIdleMs(ks, db.lruOf(key, value)) / 1000) };
  if (policy.endsWith('-lfu')) return { freq: lfuDecrAndReturn(ks, db.lruOf(key, value)) };
  return undefined;
}

/** Options of {@link writeRdbFile}. */
export interface WriteOptions {
  /** aof-base aux field: 1 for an AOF base file */
  aofBase?: boolean;
}

/**
 * Writes the whole keyspace to `path` as Redis's rdbSave does: into `temp-<pid>.rdb` beside it,
 * fsync, rename over `path`, fsync of the directory. A crash at any point leaves the old file or
 * the new one, never a torn file. Synchronous: the caller blocks the server (SAVE, shutdown).
 * @throws Error (the temp file removed) when writing fails
 */
export function writeRdbFile(server: Server, path: string, opts: WriteOptions = {}): void {
  const dir = dirname(path);
  const tmp = resolve(dir, `temp-${process.pid}.rdb`);
  let fd = -1;
  try {
    // rdb-save-incremental-fsync: fsync every AUTOSYNC_BYTES so the final fsync does not have
    // the whole file to flush at once
    const autosync = server.config.get<boolean>('rdb-save-incremental-fsync') ? AUTOSYNC_BYTES : 0;
    const saveOpts = saveOptions(server);
    const fill = (enc: RdbFileEncoder): void => {
      enc.begin({ aofBase: opts.aofBase }, server.functions.codes());
      const dbs = server.keyspace.dbs;
      const policy = server.config.get<string>('maxmemory-policy');
      const withAccess = policy.endsWith('-lru') || policy.endsWith('-lfu');
      // rdb-key-save-delay: a synchronous save blocks the server, and so do its sleeps, as in
      // Redis's rdbSaveKeyValuePair on the main thread
      const usec = server.config.get<number>('rdb-key-save-delay');
      const delay = new DelayDebt();
      for (let i = 0; i < dbs.length; i++) {
        const db = dbs[i]!;
        if (db.size === 0) continue;
        enc.selectDb(i, db.size, db.expires.size);
        const expires = db.expires;
        for (const seg of db.segments) {
          for (const [k, v] of seg) {
            const t = expires.size ? expires.get(k) : undefined;
            enc.key(k, v, t === undefined ? -1 : t, withAccess ? keyAccess(server, db, k, v) : undefined);
            if (usec !== 0) {
              delay.add(usec);
              if (delay.due) delay.paySync();
            }
          }
        }
      }
      delay.paySync();
    };
    // LZF and the CRC on the save worker, the keyspace walk here: the server blocks as in
    // Redis's SAVE, two cores work
    const viaWorker = saveThroughWorkerSync(tmp, { compression: saveOpts.compression, checksum: saveOpts.checksum, autosyncBytes: autosync },
      (sink) => new RdbFileEncoder(sink, { ...saveOpts, checksum: false }), fill);
    if (!viaWorker) {
      fd = openSync(tmp, 'w');
      const enc = new RdbFileEncoder(chunkWriter(fd, autosync, fsyncSync), saveOpts);
      fill(enc);
      enc.end();
      fsyncSync(fd);
      closeSync(fd);
      fd = -1;
    }
    void renameReplacing(tmp, path);
    fsyncDir(dir);
  } catch (e) {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the original error is what matters
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may not exist
    }
    throw e;
  }
}

export { fsyncDir } from '../fsutil.js';

/**
 * rdbSave for SAVE and shutdown: writes dir/dbfilename, then resets the dirty counter and sets
 * lastsave. Logs like Redis. Returns false (after logging why) when the write failed.
 */
export function rdbSave(server: Server): boolean {
  const st = rdbState(server);
  const path = rdbFilePath(server);
  const dirtyBefore = server.keyspace.dirty;
  try {
    writeRdbFile(server, path);
  } catch (e) {
    server.log.warning(`Write error saving DB on disk: ${(e as Error).message}`);
    return false;
  }
  server.log.notice('DB saved on disk');
  // changes made while saving (none for a synchronous save) stay counted
  server.keyspace.dirty -= dirtyBefore;
  st.lastSave = Math.floor(Date.now() / 1000);
  st.lastBgsaveStatus = 'ok';
  // a good save ends stop-writes-on-bgsave-error's MISCONF at once, as the status check in
  // Redis's processCommand is live (the BGSAVE layer sets the message)
  if (server.writeError === BGSAVE_MISCONF) {
    server.writeError = null;
  }
  return true;
}

export type { SavePoints } from '../../config/areas/rdb.js';
import type { SavePoints } from '../../config/areas/rdb.js';

/**
 * Attaches the RDB layer to a server: INFO persistence fields, loading dir/dbfilename at
 * start-up (unless appendonly is on: the AOF layer loads then), and the save on shutdown when
 * save points are configured (prepareForShutdown).
 */
export function installRdb(server: Server): void {
  rdbState(server);
  installRdbDebug();
  server.startupHooks.push(async () => {
    if (server.config.find('appendonly') !== undefined && server.config.get<boolean>('appendonly')) return;
    // with leveldb yes the LevelDB layer loads (and imports dump.rdb into an empty store itself)
    if (server.config.find('leveldb') !== undefined && server.config.get<boolean>('leveldb')) return;
    // `dbfilename ""`: Redis's fopen("") finds no file, so it starts empty
    if (server.config.get<string>('dbfilename') === '') return;
    const path = rdbFilePath(server);
    const t0 = performance.now();
    let res: LoadResult;
    try {
      res = await loadRdbFile(server, path);
    } catch (e) {
      if (e instanceof RdbError) {
        server.log.warning(`Internal error in RDB reading offset ${e.offset}, file ${path} -> ${e.reason}`);
        server.log.warning('Terminating server after rdb file reading failure.');
      } else {
        server.log.warning(`Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
      }
      throw e;
    }
    if (res.exists) {
      server.log.notice(`DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
    }
    server.keyspace.dirty = 0;
  });
  server.shutdownHooks.push((opts: ShutdownOptions) => shutdownSave(server, opts));
}

/**
 * The RDB part of prepareForShutdown: SHUTDOWN SAVE, or save points configured and no NOSAVE.
 * Library close() does not save.
 */
function shutdownSave(server: Server, opts: ShutdownOptions): boolean {
  if (opts.reason === 'close' || opts.nosave) return true;
  const points = server.config.get<SavePoints>('save');
  if (!opts.save && points.length === 0) return true;
  server.log.notice('Saving the final RDB snapshot before exiting.');
  if (!rdbSave(server)) {
    server.log.warning('Error trying to save the DB, can\'t exit.');
    return false;
  }
  return true;
}

registerInfoProvider('persistence', (server, s) => {
  const st = states.get(server);
  if (st === undefined) return;
  s.set('rdb_bgsave_in_progress', st.bgsaveInProgress ? 1 : 0);
  s.set('rdb_last_save_time', st.lastSave);
  s.set('rdb_last_bgsave_status', st.lastBgsaveStatus);
  s.set('rdb_saves', st.saves);
  s.set('rdb_last_load_keys_expired', st.lastLoadKeysExpired);
  s.set('rdb_last_load_keys_loaded', st.lastLoadKeysLoaded);
  if (server.keyspace.loading) setLoadingFields(s, st.loadingStartTime, st.loadingTotalBytes, st.loadingLoadedBytes, st.loadingRdbUsedMem);
});

/**
 * The per-key RDB format of a BGSAVE or an AOF base for `server` (its rdbcompression, limits and
 * LRU/LFU opcodes), for the snapshot's guard.
 */
export function rdbFormatFor(server: Server): RdbSnapshotFormat {
  const policy = server.config.get<string>('maxmemory-policy');
  const withAccess = policy.endsWith('-lru') || policy.endsWith('-lfu');
  return rdbSnapshotFormat(saveOptions(server), withAccess
    ? (db, key, value) => keyAccess(server, server.keyspace.dbs[db]!, key, value)
    : undefined);
}

// The AOF layer loads RDB-preamble bases with this loader; its rewrites serialize keys changed
// in place with this format (the base itself is streamed by BGSAVE's writer).
/**
 * Loads the RDB part of an AOF file (loadSingleAppendOnlyFile's "REDIS" prefix: rdbLoadRio into the
 * current dataset). Usually a base, loaded into an empty keyspace; an RDB at the head of an incr
 * file (Redis never writes one, but loads it) adds to what the earlier files loaded, and a key
 * already there is refused as a duplicate. Keys already expired are kept, as in every AOF file.
 * @returns the offset where the file's RESP tail starts
 * @throws RdbError with the file, offset and reason
 */
export async function loadAofPreamble(server: Server, buf: Buffer, file: string): Promise<number> {
  const noflush = server.keyspace.dbs.some((db) => db.size > 0);
  return (await loadRdbBuffer(server, buf, file, { aofBase: true, noflush })).endOffset;
}

/**
 * {@link loadAofPreamble} in one go, blocking the event loop (DEBUG LOADAOF). Same contract.
 * @throws RdbError with the file, offset and reason
 */
export function loadAofPreambleSync(server: Server, buf: Buffer, file: string): number {
  const noflush = server.keyspace.dbs.some((db) => db.size > 0);
  const job = new LoadJob(server, buf, file, { aofBase: true, noflush }, false);
  try {
    // a step also ends when key-load-delay is due: sleep it off in place, as Redis does
    while (!job.step(Infinity)) job.delay.paySync();
    job.delay.paySync();
    return job.commit().endOffset;
  } finally {
    job.end();
  }
}

registerRdbForAof({
  loader: loadAofPreamble,
  loaderSync: loadAofPreambleSync,
  snapshotFormat: (server: Server) => rdbFormatFor(server).snapshot,
  bgsaveInProgress: (server: Server) => rdbState(server).bgsaveInProgress,
});
