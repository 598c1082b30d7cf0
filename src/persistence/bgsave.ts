import { open, type FileHandle } from 'node:fs/promises';
import type { Value } from '../keyspace/types/object.js';
import { unlinkSync, readdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import type { Server } from '../server/server.js';
import { Snapshot, runSliced, reportSnapshotProgress } from './snapshot.js';
import { rdbState, rdbFilePath, rdbFormatFor, rdbSave, saveOptions, keyAccess, type SavePoints } from './rdb/load.js';
import type { Worker } from 'node:worker_threads';
import { RdbFileEncoder } from './rdb/encoder.js';
import { RdbLzfStage } from './rdb/lzf-stage.js';
import type { SaveWorkerData, SaveWorkerIn, SaveWorkerOut } from './rdb/save-worker.js';
import { startSaveWorker } from './rdb/save-worker-client.js';
import { aofOf, registerRdbBaseOutput, type RdbStreamOutput } from './aof/aof.js';
import { fsyncDir, renameReplacing, AUTOSYNC_BYTES } from './fsutil.js';
import { registerInfoProvider } from '../server/info.js';

/** Longest wait, ms, at shutdown for an aborted background save to close and remove its temp file. */
const SHUTDOWN_ABORT_WAIT_MS = 10_000;
/** Bytes queued for the disk above which the snapshot pauses (the clients do not). */
const QUEUE_HIGH_WATER = 4 * 1024 * 1024;
/** Bytes queued below which a paused snapshot resumes. */
const QUEUE_LOW_WATER = 2 * 1024 * 1024;
/**
 * The same for chunks posted to the save worker and not yet written by it: each is copied into
 * the worker, so the bytes in flight are resident memory twice; the worker writes as fast as the
 * disk takes it, so a few chunks keep it busy.
 */
const WORKER_HIGH_WATER = 1024 * 1024;
const WORKER_LOW_WATER = 512 * 1024;
/** Most bytes handed to one writev. */
const WRITE_BATCH = 1024 * 1024;

/** CONFIG_BGSAVE_RETRY_DELAY: seconds before a save point retries after a failed BGSAVE. */
const BGSAVE_RETRY_DELAY_S = 5;

export { BGSAVE_MISCONF } from './misconf.js';
import { BGSAVE_MISCONF } from './misconf.js';

/**
 * BGSAVE without fork (DESIGN.md): a point-in-time {@link Snapshot} of the keyspace serialized in
 * slices interleaved with the clients' turns ({@link runSliced}), streamed by the RDB file encoder
 * through a bounded write queue written off the event loop (the snapshot pauses when the disk
 * lags, the clients do not), into `temp-<pid>-<n>.rdb` beside dbfilename; then fdatasync,
 * rename over dbfilename, fsync of the directory. A crash at any moment leaves the previous file.
 * Also the save points of `save` (serverCron), BGSAVE SCHEDULE, and stop-writes-on-bgsave-error.
 */
export class BackgroundSaver {
  private snapshot: Snapshot | null = null;
  private seq = 0;
  scheduled = false;
  startedAt = 0;
  lastBgsaveTimeSec = -1;
  /**
   * rdb_last_cow_size of a fork-less save: the peak of what the snapshot's segment copies could
   * keep alive (their arrays and the strings in them: an upper bound, as a forked child's
   * copy-on-write counts whole pages), bytes.
   */
  lastCowSize = 0;
  private lastTryAt = 0;
  private aborting = false;

  constructor(private readonly server: Server) {}

  get inProgress(): boolean {
    return this.running;
  }
  private running = false;
  /** settles when the running (or last) save has finished, its cleanup included */
  private settled: Promise<void> = Promise.resolve();

  /** Hooks: save points and scheduled saves in the cron, abort on shutdown, INFO fields. */
  install(): void {
    const s = this.server;
    s.cronHooks.push((now) => this.cron(now));
    s.startupHooks.unshift(() => {
      const dir = dirname(rdbFilePath(s));
      for (const f of removeStaleTempRdb(dir)) s.log.notice(`Removed the temporary file ${f} of an interrupted save`);
    });
    s.shutdownHooks.unshift(() => this.abortAndWait('shutdown'));
    // an embedded server's stop after a fatal error: its save thread and temp file go too
    s.releaseHooks.push(() => this.abortAndWait('fatal error'));
    const refresh = (): void => this.refreshWriteError();
    s.config.onChange('stop-writes-on-bgsave-error', refresh);
    s.config.onChange('save', refresh);
    registerInfoProvider('persistence', (_srv, sec) => {
      sec.set('rdb_bgsave_in_progress', this.inProgress ? 1 : 0);
      sec.set('rdb_last_bgsave_time_sec', this.lastBgsaveTimeSec);
      sec.set('rdb_current_bgsave_time_sec', this.inProgress ? Math.round((Date.now() - this.startedAt) / 1000) : -1);
      sec.set('rdb_last_cow_size', this.lastCowSize);
      if (this.inProgress && this.snapshot) reportSnapshotProgress(sec, this.snapshot);
    }, s);
  }

  /**
   * BGSAVE [SCHEDULE] (bgsaveCommand): the reply text, or an error. A save already running is an
   * error; an AOF rewrite running makes it an error unless SCHEDULE, which defers it.
   */
  request(schedule: boolean): { ok: boolean; msg: string } {
    if (this.inProgress) return { ok: false, msg: 'ERR Background save already in progress' };
    if (aofOf(this.server).rewriteInProgress || this.server.keyspace.guard !== null) {
      if (schedule) {
        this.scheduled = true;
        return { ok: true, msg: 'Background saving scheduled' };
      }
      return { ok: false, msg: "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible." };
    }
    void this.run();
    return { ok: true, msg: 'Background saving started' };
  }

  /**
   * One background save to dir/dbfilename. Resolves true on success. Failures (disk full,
   * permissions) set rdb_last_bgsave_status:err, log the reason and apply
   * stop-writes-on-bgsave-error; the previous file is untouched.
   */
  async run(): Promise<boolean> {
    if (this.running) return false;
    this.running = true;
    let release!: () => void;
    this.settled = new Promise<void>((r) => (release = r));
    const s = this.server;
    const st = rdbState(s);
    const path = rdbFilePath(s);
    const tmp = join(dirname(path), `temp-${process.pid}-${++this.seq}.rdb`);
    const dirtyAtStart = s.keyspace.dirty;
    this.startedAt = Date.now();
    this.lastTryAt = this.startedAt;
    this.aborting = false;
    let out: RdbFileOutput | null = null;
    try {
      // The point in time is now, in the turn BGSAVE was accepted: the snapshot starts before any
      // await, and its first bytes queue while the file is being opened.
      out = new RdbFileOutput(s);
      // copies of collections about to be mutated in place: same bytes as out.entry
      const snap = new Snapshot(s.keyspace, rdbFormatFor(s).snapshot, out);
      snap.keySaveDelay = s.config.get<number>('rdb-key-save-delay');
      this.snapshot = snap;
      st.bgsaveInProgress = true;
      snap.start();
      s.log.notice('Background saving started');
      await out.open(tmp);
      const o = out;
      const sliced = await runSliced(snap, o, {
        check: () => {
          if (this.aborting) throw new Error('background save aborted');
          o.throwIfFailed();
        },
        drained: () => o.drained(),
        schedule: (fn) => s.afterReplies(fn),
        activity: () => s.stats.totalReads,
      });
      if (this.aborting) throw new Error('background save aborted');
      this.lastCowSize = snap.forcedBytesTotal;
      await out.finish();
      out = null;
      if (this.aborting) throw new Error('background save aborted');
      // the old dump.rdb is freed on the thread pool, not in this turn (renameReplacing)
      void renameReplacing(tmp, path);
      fsyncDir(dirname(path));
      st.saves++;
      st.lastSave = Math.floor(Date.now() / 1000);
      st.lastBgsaveStatus = 'ok';
      s.keyspace.dirty -= Math.min(dirtyAtStart, s.keyspace.dirty);
      s.log.notice('DB saved on disk');
      s.log.notice('Background saving terminated with success');
      s.log.verbose(`Background saving: ${snap.keysWritten} keys in ${sliced.slices} slices (${sliced.idleSlices} while idle), ${Math.round(sliced.workMs)} ms of work, ${sliced.pauses} waits for the disk, a share of time up to ${Math.round(sliced.maxShare * 100)}% under load, ${(snap.forcedBytesTotal / 2 ** 20).toFixed(1)} MB peak of kept old values`);
      return true;
    } catch (e) {
      const msg = (e as Error).message;
      if (this.aborting) {
        // stopped on purpose (SHUTDOWN, FLUSHALL): not a failure, so no err status and no
        // MISCONF, as Redis's SIGUSR1 kill of its child (backgroundSaveDoneHandlerDisk)
        s.log.warning(`Background saving terminated before its end; ${path} is unchanged`);
      } else {
        st.lastBgsaveStatus = 'err';
        s.log.warning(`Background saving error: ${msg} (temp file ${basename(tmp)}, target ${path})`);
      }
      if (out) await out.close();
      const unlinkStart = performance.now();
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was created
      }
      // rdbRemoveTempFile: a big temp file's unlink frees its blocks on the event loop
      s.latency.addSampleIfNeeded('rdb-unlink-temp-file', performance.now() - unlinkStart);
      return false;
    } finally {
      this.snapshot?.abort();
      this.snapshot = null;
      this.running = false;
      release();
      st.bgsaveInProgress = false;
      this.lastBgsaveTimeSec = Math.round((Date.now() - this.startedAt) / 1000);
      this.refreshWriteError();
    }
  }

  /**
   * Aborts a save under way and waits until it has stopped and removed its temp file
   * (killRDBChild + rdbRemoveTempFile), at most SHUTDOWN_ABORT_WAIT_MS (a hung disk must not hold
   * a shutdown).
   */
  private async abortAndWait(reason: string): Promise<void> {
    if (!this.inProgress) return;
    this.abort(reason);
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((r) => (timer = setTimeout(r, SHUTDOWN_ABORT_WAIT_MS)));
    await Promise.race([this.settled, bounded]);
    clearTimeout(timer);
  }

  /** Stops a running save (SHUTDOWN, FLUSHALL): its temp file is removed, dbfilename untouched. */
  abort(reason: string): void {
    if (!this.inProgress) return;
    this.server.log.warning(`Background saving aborted (${reason})`);
    this.aborting = true;
    this.snapshot?.abort();
  }

  /**
   * Writes are refused with MISCONF while the last background save failed, save points are
   * configured and stop-writes-on-bgsave-error is yes (writeCommandsDeniedByDiskError).
   */
  private refreshWriteError(): void {
    const s = this.server;
    const st = rdbState(s);
    const deny = s.config.get<boolean>('stop-writes-on-bgsave-error') && s.config.get<SavePoints>('save').length > 0 && st.lastBgsaveStatus === 'err';
    if (deny) {
      if (s.writeError === null) s.writeError = BGSAVE_MISCONF;
    } else if (s.writeError === BGSAVE_MISCONF) {
      s.writeError = null;
    }
  }

  private cron(now: number): void {
    if (this.inProgress) return;
    if (this.scheduled && !aofOf(this.server).rewriteInProgress && this.server.keyspace.guard === null) {
      this.scheduled = false;
      void this.run();
      return;
    }
    const st = rdbState(this.server);
    const dirty = this.server.keyspace.dirty;
    const sinceSave = now / 1000 - st.lastSave;
    const retryOk = st.lastBgsaveStatus === 'ok' || now - this.lastTryAt > BGSAVE_RETRY_DELAY_S * 1000;
    for (const [seconds, changes] of this.server.config.get<SavePoints>('save')) {
      if (dirty >= changes && sinceSave > seconds && retryOk) {
        if (aofOf(this.server).rewriteInProgress || this.server.keyspace.guard !== null) return;
        this.server.log.notice(`${changes} changes in ${seconds} seconds. Saving...`);
        void this.run();
        return;
      }
    }
  }
}

/**
 * The persistence part of FLUSHALL (flushAllDataAndResetRDB in Redis 7.0.15): a running background
 * save is aborted, and with save points configured the now empty dataset is saved at once, so a
 * restart does not bring the flushed keys back. That save resets the dirty counter, as in Redis
 * 7.0.15 (rdb_changes_since_last_save:0 after it); FLUSHALL still propagates, by its own
 * forced effect (forceCommandPropagation).
 */
export function flushAllSaveRdb(server: Server): void {
  bgsaverOf(server).abort('FLUSHALL');
  if (server.config.get<SavePoints>('save').length > 0) rdbSave(server);
}

const savers = new WeakMap<Server, BackgroundSaver>();

// AOF rewrites with an RDB preamble stream their base through the same writer as BGSAVE.
registerRdbBaseOutput((server) => new RdbFileOutput(server, true));

/** The background saver of a server, created and installed on first use. */
export function bgsaverOf(server: Server): BackgroundSaver {
  let b = savers.get(server);
  if (!b) {
    b = new BackgroundSaver(server);
    b.install();
    savers.set(server, b);
  }
  return b;
}

/** Removes temp files of saves that a crash interrupted (`temp-<pid>-<n>.rdb`), at start-up. */
export function removeStaleTempRdb(dir: string): string[] {
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    if (/^temp-\d+(-\d+)?\.rdb$/.test(f)) {
      try {
        unlinkSync(join(dir, f));
        removed.push(f);
      } catch {
        // gone already
      }
    }
  }
  return removed;
}

/**
 * Nice value of a background save's worker thread (BGSAVE, the AOF rewrite's RDB base): when the
 * cores are short (the event loop, the worker and the clients' own processes on 2 cores), the
 * save yields to the clients instead of taking a third of every core; on a spare core it runs at
 * full speed. The snapshot's bounded output queue paces the main thread's share accordingly.
 */
const BACKGROUND_WORKER_NICENESS = 10;

/**
 * The file side of BGSAVE: the RDB file encoder (the same bytes as SAVE's writeRdbFile: header,
 * SELECTDB/RESIZEDB, key-value pairs with IDLE/FREQ under an LRU/LFU policy, EOF and CRC-64)
 * fed key by key by the snapshot. The encoder on the main thread leaves LZF and the CRC to an
 * {@link RdbLzfStage} (RdbWriter.deferCompression): in a worker thread (rdb/save-worker.ts), which
 * also writes the file, so that the save's heaviest byte work runs on another core as Redis's
 * forked child does; when no worker can run (the TypeScript sources under tsx, a bundle without
 * the worker module, a thread that cannot start) the stage runs inline and its output is queued
 * and written with writev in the thread pool. Either way {@link paused} once a bounded number of
 * bytes wait for the disk.
 */
export class RdbFileOutput implements RdbStreamOutput {
  private readonly enc: RdbFileEncoder;
  private readonly withAccess: boolean;
  /** the stage when it runs on this thread, else null (worker) */
  private readonly stage: RdbLzfStage | null;
  private readonly worker: Worker | null;
  /** worker mode: chunks made before open() posted the file's path */
  private early: Array<[Buffer, number[]]> | null = [];
  /** worker mode: settles the pending open() / finish() / close() */
  private pending: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** worker mode: finish() or close() is done with it (its exit is expected) */
  private ended = false;
  private fh: FileHandle | null = null;
  private queue: Buffer[] = [];
  private queued = 0;
  private writing: Promise<void> | null = null;
  private error: Error | null = null;
  private waiters: Array<() => void> = [];
  private unsynced = 0;
  private readonly autosync: boolean;
  /** bytes queued (or in flight to the worker) at which the snapshot pauses, and resumes */
  private readonly highWater: number;
  private readonly lowWater: number;

  /**
   * @param aofBase an AOF base (the `aof-base` aux field; `aof-rewrite-incremental-fsync` instead
   *   of `rdb-save-incremental-fsync` chooses the periodic fdatasync)
   */
  constructor(private readonly server: Server, aofBase = false) {
    const opts = saveOptions(server);
    this.autosync = server.config.get<boolean>(aofBase ? 'aof-rewrite-incremental-fsync' : 'rdb-save-incremental-fsync');
    // the main thread's half: no LZF, no CRC (they belong to the final bytes)
    this.enc = new RdbFileEncoder((chunk) => this.rawChunk(chunk), { ...opts, checksum: false });
    this.enc.w.deferCompression();
    const data: SaveWorkerData = {
      compression: opts.compression,
      checksum: opts.checksum,
      autosyncBytes: this.autosync ? AUTOSYNC_BYTES : 0,
      niceness: BACKGROUND_WORKER_NICENESS,
    };
    this.worker = startSaveWorker(data);
    if (this.worker !== null) {
      this.worker.on('message', (m: SaveWorkerOut) => this.fromWorker(m));
      this.worker.on('error', (e) => this.fail(new Error(`the save worker failed: ${e.message}`)));
      // postMessage copies each chunk as it is posted: the encoder may write on in the same buffer
      this.enc.w.lend();
      this.worker.on('exit', (code) => {
        if (!this.ended) this.fail(new Error(`the save worker exited (code ${code})`));
      });
      this.stage = null;
      this.highWater = WORKER_HIGH_WATER;
      this.lowWater = WORKER_LOW_WATER;
    } else {
      this.highWater = QUEUE_HIGH_WATER;
      this.lowWater = QUEUE_LOW_WATER;
      this.stage = new RdbLzfStage((chunk) => this.enqueue(chunk), opts);
    }
    const policy = server.config.get<string>('maxmemory-policy');
    this.withAccess = policy.endsWith('-lru') || policy.endsWith('-lfu');
    // the libraries as they are now: the snapshot's point in time
    this.enc.begin({ aofBase }, server.functions.codes());
  }

  /**
   * Creates the temp file and starts writing what is queued.
   * @throws the file's open error (EACCES, ENOENT, ENOSPC...)
   */
  async open(path: string): Promise<void> {
    if (this.worker === null) {
      this.fh = await open(path, 'w', 0o644);
      this.pump();
      return;
    }
    const opened = this.wait();
    this.worker.postMessage({ open: path } satisfies SaveWorkerIn);
    const early = this.early ?? [];
    this.early = null;
    for (const [chunk, triples] of early) this.post(chunk, triples);
    await opened;
  }

  /** A raw chunk of the main thread's encoder, with its deferred strings. */
  private rawChunk(chunk: Buffer): void {
    const triples = this.enc.w.takeDeferred();
    if (this.stage !== null) {
      this.stage.chunk(chunk, triples);
      return;
    }
    this.queued += chunk.length;
    if (this.early !== null) this.early.push([Buffer.from(chunk), triples]);
    else this.post(chunk, triples);
  }

  /**
   * Hands a chunk to the worker, copied: never transferred, since a big blob's chunk is a view of
   * the value's own memory, which must stay with the keyspace.
   */
  private post(chunk: Buffer, triples: number[]): void {
    if (this.error !== null) return;
    this.worker!.postMessage({ chunk, triples } satisfies SaveWorkerIn);
  }

  private fromWorker(m: SaveWorkerOut): void {
    if ('ack' in m) {
      this.queued -= m.ack;
      if (this.queued < this.lowWater) this.wake();
    } else if ('error' in m) {
      const e: NodeJS.ErrnoException = new Error(m.error);
      if (m.code !== undefined) e.code = m.code;
      this.fail(e);
    } else {
      // opened, done, closed: the answer to the pending call
      const p = this.pending;
      this.pending = null;
      p?.resolve();
    }
  }

  private fail(e: Error): void {
    this.error ??= e;
    const p = this.pending;
    this.pending = null;
    p?.reject(this.error);
    this.wake();
  }

  /** A promise settled by the worker's next answer (or its failure). */
  private wait(): Promise<void> {
    if (this.error !== null) return Promise.reject(this.error);
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  beginDb(db: number, keys: number, expires: number): void {
    this.enc.selectDb(db, keys, expires);
  }

  entry(db: number, key: string, value: Value, expireAt: number): void {
    const s = this.server;
    this.enc.key(key, value, expireAt, this.withAccess ? keyAccess(s, s.keyspace.dbs[db]!, key, value) : undefined);
  }

  raw(chunk: Uint8Array | string): void {
    this.enc.w.bytes(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  }

  paused(): boolean {
    return this.queued >= this.highWater || this.error !== null;
  }

  /** Resolves once the queue is below its low-water mark (or writing failed). */
  drained(): Promise<void> {
    if (this.queued < this.lowWater || this.error !== null) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** @throws the write error, if writing failed (ENOSPC, EIO...) */
  throwIfFailed(): void {
    if (this.error !== null) throw this.error;
  }

  /** EOF and checksum, the rest of the queue, fdatasync, close. @throws the write error */
  async finish(): Promise<void> {
    this.enc.end(false);
    if (this.worker !== null) {
      this.throwIfFailed();
      const done = this.wait();
      this.worker.postMessage({ end: true } satisfies SaveWorkerIn);
      try {
        await done;
      } finally {
        this.ended = true;
        void this.worker.terminate();
      }
      return;
    }
    this.stage!.end();
    this.pump();
    while (this.writing !== null) await this.writing;
    this.throwIfFailed();
    await this.fh!.datasync();
    const fh = this.fh!;
    this.fh = null;
    await fh.close();
  }

  /** Closes the file after a failure; never throws. */
  async close(): Promise<void> {
    if (this.worker !== null) {
      const w = this.worker;
      if (this.error === null) {
        const closed = this.wait().catch(() => undefined);
        w.postMessage({ abort: true } satisfies SaveWorkerIn);
        await closed;
      }
      this.error ??= new Error('closed');
      this.ended = true;
      await w.terminate();
      return;
    }
    this.error ??= new Error('closed');
    while (this.writing !== null) await this.writing;
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close().catch(() => undefined);
  }

  private enqueue(chunk: Buffer): void {
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.writing === null && this.fh !== null) this.pump();
  }

  private pump(): void {
    if (this.writing !== null || this.fh === null || this.queue.length === 0) return;
    // writeLoop awaits before it can return (the queue is not empty), so `writing` is set first
    this.writing = this.writeLoop();
  }

  /**
   * Writes the queue until it is empty. Clears {@link writing} itself, in the same synchronous
   * run as its last queue check: a chunk queued later (even from a microtask woken by
   * {@link wake}) then starts a new loop instead of waiting in the queue.
   */
  private async writeLoop(): Promise<void> {
    const fh = this.fh!;
    while (this.queue.length > 0 && this.error === null) {
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && bytes < WRITE_BATCH) bytes += this.queue[n++]!.length;
      let batch = this.queue.splice(0, n);
      try {
        let left = bytes;
        while (left > 0) {
          const { bytesWritten } = await fh.writev(batch);
          left -= bytesWritten;
          if (left > 0) batch = skipBytes(batch, bytesWritten);
        }
        this.unsynced += bytes;
        if (this.autosync && this.unsynced >= AUTOSYNC_BYTES) {
          this.unsynced = 0;
          await fh.datasync();
        }
      } catch (e) {
        this.error = e as Error;
      }
      this.queued -= bytes;
      if (this.queued < this.lowWater || this.error !== null) this.wake();
    }
    this.writing = null;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    if (w.length === 0) return;
    this.waiters = [];
    for (const r of w) r();
  }
}

/** The buffers of `batch` after its first `n` bytes (a short writev). */
function skipBytes(batch: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < batch.length && n >= batch[i]!.length) n -= batch[i++]!.length;
  const rest = batch.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}
