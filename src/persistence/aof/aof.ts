import { existsSync, mkdirSync, openSync, writeSync, closeSync, fdatasync, renameSync, unlinkSync, readdirSync, statSync, lstatSync } from 'node:fs';
import { join, resolve, basename } from 'node:path';
import type { Server, ShutdownOptions } from '../../server/server.js';
import { AofManifest, AofManifestError } from './manifest.js';
import { AofWriter, respCommand, type FsyncPolicy } from './writer.js';
import { loadAofManifest, loadAofManifestSync, AofLoadError, type AofLoadSizes, type RdbPreambleLoader, type LoadProgress } from './loader.js';
import { Snapshot, runSliced, runToEnd, reportSnapshotProgress, type SnapshotFormat, type SnapshotOutput } from '../snapshot.js';
import { respBaseFormat } from './base-resp.js';
import { fsyncDir, unlinkInBackground, AUTOSYNC_BYTES } from '../fsutil.js';
import { registerInfoProvider, setLoadingFields } from '../../server/info.js';
import { LoggedFatalError } from '../../server/fatal.js';

/**
 * What the RDB layer lends the AOF: its preamble loader, and its encoder as a snapshot format
 * (the bytes of a key changed in place during a rewrite, serialized by the snapshot's guard).
 */
export interface RdbForAof {
  loader: RdbPreambleLoader;
  /** the same, in one go without yielding (DEBUG LOADAOF) */
  loaderSync: (server: Server, buf: Buffer, file: string) => number;
  snapshotFormat: (server: Server) => SnapshotFormat;
  /** true from BGSAVE's start until its file is renamed (Redis: the RDB child is alive) */
  bgsaveInProgress: (server: Server) => boolean;
}

let rdbForAof: RdbForAof | null = null;

/**
 * A streaming RDB file writer fed by a snapshot (BGSAVE's RdbFileOutput): chunks queued and
 * written off the event loop, {@link SnapshotOutput.paused} while the disk is behind.
 */
export interface RdbStreamOutput extends SnapshotOutput {
  /** creates the file and starts writing what is queued */
  open(path: string): Promise<void>;
  /** resolves when a paused output can take more */
  drained(): Promise<void>;
  /** @throws the write error, if writing failed */
  throwIfFailed(): void;
  /** EOF and checksum, the rest of the queue, fdatasync, close. @throws the write error */
  finish(): Promise<void>;
  /** closes the file after a failure; never throws */
  close(): Promise<void>;
}

let rdbBaseOutput: ((server: Server) => RdbStreamOutput) | null = null;

/** Called by the BGSAVE layer at import: rewrites stream RDB-preamble bases through its writer. */
export function registerRdbBaseOutput(f: (server: Server) => RdbStreamOutput): void {
  rdbBaseOutput = f;
}

/** Called by the RDB layer at import: the AOF uses its codec for RDB-preamble bases. */
export function registerRdbForAof(r: RdbForAof): void {
  rdbForAof = r;
}

/** AOF state (server.aof_state). */
type AofState = 'off' | 'on' | 'wait-rewrite';

/** Consecutive failed rewrites after which automatic rewrites back off (AOF_REWRITE_LIMITE_THRESHOLD). */
const REWRITE_LIMIT_THRESHOLD = 3;

/**
 * The AOF layer: Redis 7.0's multi-part AOF (src/aof.c) on Amber's effect stream and fork-less
 * snapshot. Loads at start-up (with priority over RDB), upgrades a legacy `appendonly.aof`,
 * appends effects with group-commit fsync, rewrites without a fork or a rewrite buffer (a new incr
 * file takes the writes from the rewrite's point in time on; the base comes from the snapshot),
 * switches on and off at run time with CONFIG SET appendonly, and reports INFO aof_* fields.
 */
export class Aof {
  state: AofState = 'off';
  manifest = new AofManifest();
  writer: AofWriter | null = null;
  private unsubscribe: (() => void) | null = null;
  rewriteInProgress = false;
  rewriteScheduled = false;
  rewriteStartedAt = 0;
  lastRewriteTimeSec = -1;
  lastBgrewriteOk = true;
  rewrites = 0;
  consecutiveFailures = 0;
  private nextRewriteAllowedAt = 0;
  private nextDelayMinutes = 0;
  /** size of the AOF (base + incr) right after the last rewrite or load (aof_rewrite_base_size) */
  baseSize = 0;
  /** base + incr sizes at the last measurement (aof_current_size) */
  private otherFilesSize = 0;
  /**
   * What aof_current_size counts beyond the files' bytes: the torn tail a load cut off, which
   * Redis 7.0.15 goes on counting (see AofLoadSizes) until a rewrite measures the files again.
   */
  private loadSizeSkew = 0;
  lastWriteOk = true;
  lastCowSize = 0;
  private lastTickSecond = 0;
  readonly progress: LoadProgress = { file: '', totalBytes: 0, loadedBytes: 0 };
  /** Unix ms when the start-up load of the AOF began (loading_start_time) */
  private loadingStartedAt = 0;

  constructor(private readonly server: Server) {}

  /** the data directory (`dir`), absolute: the process may be embedded and never chdir there */
  get dataDir(): string {
    return this.server.config.get<string>('dir') || process.cwd();
  }
  /** absolute path of the AOF directory (`dir`/`appenddirname`) */
  get dirName(): string {
    return resolve(this.dataDir, this.server.config.get<string>('appenddirname'));
  }
  get fileName(): string {
    return this.server.config.get<string>('appendfilename');
  }
  private get policy(): FsyncPolicy {
    return this.server.config.get<FsyncPolicy>('appendfsync');
  }

  /** Installs hooks: start-up load, per-turn flush, cron, shutdown, config changes, INFO. */
  install(): void {
    const s = this.server;
    s.startupHooks.unshift(() => this.startup());
    s.beforeReplyHooks.push(() => this.writer?.flush() ?? undefined);
    s.cronHooks.push((now) => this.cron(now));
    s.whileBlockedCronHooks.push((now) => this.syncTick(now));
    s.shutdownHooks.push((opts) => this.shutdown(opts));
    s.releaseHooks.push(() => this.stop(true));
    s.config.onChange('appendonly', (v) => {
      if (v && this.state === 'off') this.start();
      else if (!v && this.state !== 'off') void this.stop();
    });
    s.config.onChange('appendfsync', (v) => {
      if (this.writer) this.writer.policy = v as FsyncPolicy;
    });
    // updateAofAutoGCEnabled: history kept while auto-gc was off goes as soon as it is back on
    s.config.onChange('aof-disable-auto-gc', (v) => {
      if (!v) this.deleteHistory();
    });
    s.config.onChange('aof-timestamp-enabled', (v) => {
      if (this.writer) this.writer.timestamps = Boolean(v);
    });
    registerInfoProvider('persistence', (_srv, sec) => this.info(sec), s);
    s.aofBufferBytes = () => this.writer?.bufferLength ?? 0;
  }

  /** True when the dataset must come from the AOF at start-up (appendonly yes). */
  get enabledAtStart(): boolean {
    return this.server.config.get<boolean>('appendonly');
  }

  // ---- start-up -----------------------------------------------------------------------------

  /**
   * Loads the AOF when appendonly is yes (loadAppendOnlyFiles + aofOpenIfNeededOnServerStart):
   * upgrade of a legacy single file, base then incr files, then the incr file opened for appends
   * (and a base created first when there is none). Any fatal problem stops start-up with the file,
   * the offset and the reason.
   */
  async startup(): Promise<void> {
    if (!this.enabledAtStart) return;
    // with leveldb yes the LevelDB layer loads (appendonly yes is refused with it anyway)
    if (this.server.config.find('leveldb') !== undefined && this.server.config.get<boolean>('leveldb')) return;
    const s = this.server;
    const dir = this.dirName;
    this.removeStrayTempFiles();
    const manifest = this.readManifest();
    this.manifest = manifest;
    // Clients get -LOADING until the incr file is open: a write accepted before would be in no
    // file (Redis opens the AOF before it serves anyone).
    s.keyspace.loading = true;
    let loaded: AofLoadSizes | null = null;
    try {
      if (manifest.base || manifest.incr.length) {
        const t0 = Date.now();
        this.loadingStartedAt = t0;
        this.progress.totalBytes = 0;
        this.progress.loadedBytes = 0;
        try {
          loaded = await loadAofManifest(s, dir, manifest, rdbForAof?.loader ?? null, this.progress);
          this.baseSize = loaded.base;
        } catch (e) {
          if (e instanceof AofLoadError) this.fatal([`${e.message} (file ${e.file}, offset ${e.offset})`]);
          throw e;
        }
        s.keyspace.dirty = 0;
        s.log.notice(`DB loaded from append only file: ${((Date.now() - t0) / 1000).toFixed(3)} seconds`);
      }
      await this.openOnStart();
      if (loaded !== null) this.countLoadedSize(loaded.total);
    } finally {
      s.keyspace.loading = false;
    }
    // main() in server.c: history files left by an interrupted rewrite go once the AOF is open
    this.deleteHistory();
  }

  /**
   * The manifest on disk (aofLoadManifestFromDisk), empty when there is none, after the upgrade of
   * a legacy single-file AOF in `dir` into it (the first step of loadAppendOnlyFiles).
   * @throws LoggedFatalError after logging Redis's "FATAL AOF MANIFEST FILE ERROR" block
   */
  private readManifest(): AofManifest {
    const dir = this.dirName;
    let manifest: AofManifest | null;
    try {
      manifest = existsSync(dir) ? AofManifest.load(dir, this.fileName) : null;
    } catch (e) {
      if (e instanceof AofManifestError) {
        // the lines of aofLoadManifestFromFile's loaderr, one log record each
        this.fatal(['\n*** FATAL AOF MANIFEST FILE ERROR ***\n',
          ...(e.text === null ? [] : [`Reading the manifest file, at line ${e.line}\n`, `>>> '${e.text}'\n`]), `${e.reason}\n`]);
      }
      throw e;
    }
    manifest ??= new AofManifest();
    // Legacy single-file AOF in `dir`: move it in as the base (aofUpgradePrepare).
    const legacy = join(this.dataDir, this.fileName);
    if (existsSync(legacy) && lstatSync(legacy).isFile()) {
      const noDir = !existsSync(dir);
      const empty = manifest.base === null && manifest.incr.length === 0;
      const halfDone = manifest.base !== null && manifest.incr.length === 0 && manifest.base.fileName === this.fileName && !existsSync(join(dir, this.fileName));
      if (noDir || empty || halfDone) this.upgradeLegacy(manifest);
    }
    return manifest;
  }

  // ---- DEBUG LOADAOF ---------------------------------------------------------------------------

  /**
   * DEBUG LOADAOF (debugCommand's "loadaof" in Redis 7.0's src/debug.c): the AOF buffer written to
   * the incr file (flushAppendOnlyFile(1)) when AOF is on, every database emptied (WATCH and
   * tracking are signalled as by FLUSHALL), the manifest read from disk again, its history files
   * deleted, and base and incr files loaded as at start-up (loadAppendOnlyFiles), in one go: the
   * event loop gets no turn until the data set is whole, so no client sees or writes a half-loaded
   * keyspace. Nothing the loaded commands do is appended or propagated, and the dirty counter is
   * reset. Works with appendonly no too, on whatever AOF the directory holds. aof_base_size and
   * aof_current_size become the loaded files' sizes.
   *
   * A BGSAVE or rewrite under way keeps its own point-in-time view (the emptied databases hand
   * their old segments to it) and goes on; a rewrite's new incr file is in the manifest already,
   * so it is loaded too, and the rewrite's commit leaves a loadable AOF.
   *
   * @returns null when loaded, or the error reply when refused before anything changed (the AOF
   *   buffer could not be written: reloading would lose those writes)
   * @throws LoggedFatalError, after logging why, when there is no AOF, it cannot be loaded, or its
   *   last file had a torn tail (cut off under aof-load-truncated): the data set is then gone or
   *   short and the caller exits with 1, as Redis does
   */
  reloadFromDisk(): string | null {
    const s = this.server;
    const ks = s.keyspace;
    const dir = this.dirName;
    const w = this.writer;
    if (this.state !== 'off' && w !== null) {
      w.flush(true);
      if (w.writeFailed) {
        s.log.warning(`DEBUG LOADAOF refused: the AOF buffer could not be written to ${w.path} (${w.lastWriteError}); the data set and the AOF were left as they were.`);
        return `ERR DEBUG LOADAOF refused: the AOF buffer could not be written to ${basename(w.path)} (${w.lastWriteError}). Check server logs.`;
      }
    }
    const manifest = this.readManifest();
    if (manifest.base === null && manifest.incr.length === 0) {
      // loadAppendOnlyFiles answers AOF_NOT_EXIST, and DEBUG LOADAOF exits(1) on it
      this.fatal([`DEBUG LOADAOF found no AOF to load in ${dir} (no manifest, or one listing no base nor incr file: appendonly is no and no AOF was written there?). Exiting with status 1, as Redis does; the data set in memory is lost unless it was saved. Turn AOF on (CONFIG SET appendonly yes) before DEBUG LOADAOF.`]);
    }
    ks.flushAll();
    const wasLoading = ks.loading;
    ks.loading = true;
    try {
      this.manifest = manifest;
      this.deleteHistory();
      this.progress.totalBytes = 0;
      this.progress.loadedBytes = 0;
      const loader = rdbForAof?.loaderSync ?? null;
      let sizes: AofLoadSizes;
      try {
        sizes = s.effects.discarding(() => loadAofManifestSync(s, dir, manifest, loader, this.progress));
      } catch (e) {
        if (e instanceof AofLoadError) this.fatal([`DEBUG LOADAOF: ${e.message} (file ${e.file}, offset ${e.offset}). The data set is incomplete; exiting.`]);
        this.fatal([`DEBUG LOADAOF: loading the AOF in ${dir} failed: ${(e as Error).message}. The data set is incomplete; exiting.`]);
      }
      if (sizes.truncated) {
        // DEBUG LOADAOF exits on anything but AOF_OK and AOF_EMPTY, AOF_TRUNCATED included: the
        // file is cut, and the incr file this process appends to is shorter than it believes
        this.fatal([`DEBUG LOADAOF: the last AOF file in ${dir} had a torn tail, cut off at its last complete command (aof-load-truncated yes). Exiting with status 1, as Redis 7.0.15 does in this case; a restart loads the AOF as it was cut.`]);
      }
      this.baseSize = sizes.base;
      this.refreshSizes();
      this.countLoadedSize(sizes.total);
    } finally {
      ks.loading = wasLoading;
    }
    ks.dirty = 0;
    return null;
  }

  private upgradeLegacy(manifest: AofManifest): void {
    const dir = this.dirName;
    mkdirSync(dir, { recursive: true });
    manifest.base = { fileName: this.fileName, seq: 1, type: 'b' };
    manifest.currBaseSeq = 1;
    manifest.persist(dir, this.fileName);
    renameSync(join(this.dataDir, this.fileName), join(dir, this.fileName));
    fsyncDir(dir);
    fsyncDir(this.dataDir);
    this.server.log.notice(`Successfully migrated an old-style AOF file (${this.fileName}) into the AOF directory (${dir}).`);
  }

  /** aofOpenIfNeededOnServerStart: base when none, the last incr opened, manifest persisted. */
  private async openOnStart(): Promise<void> {
    const dir = this.dirName;
    mkdirSync(dir, { recursive: true });
    const m = this.manifest;
    const created = !m.base && m.incr.length === 0;
    if (created) {
      const preamble = this.server.config.get<boolean>('aof-use-rdb-preamble');
      const base = m.newBase(this.fileName, preamble);
      const tmp = join(dir, 'temp-' + base.fileName);
      // at start-up nothing else runs: the snapshot goes to the end without yielding
      await this.writeBase(tmp, preamble, false);
      renameSync(tmp, join(dir, base.fileName));
      this.server.log.notice(`Creating AOF base file ${base.fileName} on server start`);
      // as Redis, whose aof_rewrite_base_size counts loaded bases only
      this.baseSize = 0;
    }
    const hadIncr = m.incr.length > 0;
    const incr = m.lastIncr(this.fileName);
    this.attachWriter(join(dir, incr.fileName));
    // persistAofManifest writes only a changed manifest: one loaded as it is stays byte for byte
    // (comments, quoting, unknown keys the operator or a newer Redis put there)
    if (created || !hadIncr) m.persist(dir, this.fileName);
    this.server.log.notice(`${hadIncr ? 'Opening' : 'Creating'} AOF incr file ${incr.fileName} on server start`);
    this.state = 'on';
    this.refreshSizes();
  }

  private removeStrayTempFiles(): void {
    const dir = this.dirName;
    const rm = (p: string): void => {
      try {
        unlinkSync(p);
        this.server.log.notice(`Removed stray temporary AOF file ${p}`);
      } catch {
        // already gone
      }
    };
    if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.startsWith('temp-')) rm(join(dir, f));
    for (const f of readdirSync(this.dataDir)) if (f.startsWith('temp-rewriteaof-')) rm(join(this.dataDir, f));
  }

  /** Logs `lines` (a record each) and stops start-up without repeating them. */
  private fatal(lines: string[]): never {
    for (const l of lines) this.server.log.warning(l);
    throw new LoggedFatalError(lines.join('').trim());
  }

  // ---- appending ----------------------------------------------------------------------------

  private attachWriter(path: string): void {
    const s = this.server;
    const events = {
      writeError: (message: string) => {
        this.lastWriteOk = false;
        s.log.warning(message);
        s.writeError = `MISCONF Errors writing to the AOF file: ${this.writer?.lastWriteError ?? message}`;
      },
      writeRecovered: () => {
        this.lastWriteOk = true;
        s.log.warning('AOF write error looks solved, Redis can write again.');
        if (s.writeError?.startsWith('MISCONF Errors writing to the AOF file')) s.writeError = null;
      },
      slowFsync: () => {
        s.log.notice('Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.');
      },
      wrote: (ms: number, pendingFsync: boolean) => {
        const lm = s.latency;
        if (lm.threshold === 0) return;
        // flushAppendOnlyFile's classes of a slow write: behind an fsync, beside a background
        // save or rewrite (Redis's child process), or alone; and all of them as aof-write
        lm.addSampleIfNeeded(pendingFsync ? 'aof-write-pending-fsync'
          : this.rewriteInProgress || this.backgroundSaveActive ? 'aof-write-active-child' : 'aof-write-alone', ms);
        lm.addSampleIfNeeded('aof-write', ms);
      },
      syncedAlways: (ms: number) => s.latency.addSampleIfNeeded('aof-fsync-always', ms),
      fatal: (message: string) => {
        // An fsync error under `always` means acknowledged data may not be on disk: stop, as Redis does.
        s.log.warning(message);
        s.fatalExit(1);
      },
    };
    this.writer = new AofWriter(path, this.policy, events, s.config.get<boolean>('aof-timestamp-enabled'));
    if (this.unsubscribe === null) {
      this.unsubscribe = s.effects.subscribe((db, argv) => this.writer?.feed(db, argv));
    }
  }

  /**
   * Stops appending: effects are no longer fed, the writer is flushed, synced and closed (with
   * `release`, closed as it is on disk: AofWriter.release). Resolves once it is closed; a failed
   * close is logged (callers may leave it running in the background).
   */
  private detachWriter(release = false): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    const w = this.writer;
    if (w === null) return Promise.resolve();
    this.writer = null;
    return (release ? w.release() : w.close()).catch((e: Error) => this.server.log.warning(`Closing the AOF file ${w.path} failed: ${e.message}`));
  }

  private switchWriter(path: string): void {
    if (this.writer) this.writer = this.writer.switchTo(path);
    else this.attachWriter(path);
  }

  /** Bytes of base + incr files on disk plus what this turn wrote (aof_current_size). */
  get currentSize(): number {
    return this.otherFilesSize + (this.writer?.size ?? 0) + this.loadSizeSkew;
  }

  /**
   * After a load and the files' measurement: aof_current_size starts at the size the load found
   * before it cut any torn tail (`loadedTotal`), as in Redis.
   */
  private countLoadedSize(loadedTotal: number): void {
    this.loadSizeSkew = 0;
    this.loadSizeSkew = loadedTotal - this.currentSize;
  }

  private refreshSizes(): void {
    const dir = this.dirName;
    let other = 0;
    const files = [...(this.manifest.base ? [this.manifest.base] : []), ...this.manifest.incr];
    const current = this.writer?.path;
    for (const f of files) {
      const p = join(dir, f.fileName);
      if (p === current) continue;
      try {
        other += statSync(p).size;
      } catch {
        // a missing file counts as empty
      }
    }
    this.otherFilesSize = other;
  }

  private cron(now: number): void {
    this.syncTick(now);
    // effects postponed behind a slow everysec fsync, with no client turn to flush them
    if (this.writer?.writePostponed) this.writer.flush();
    if (this.rewriteScheduled && !this.rewriteInProgress && !this.backgroundSaveActive && !this.rewriteLimited(now)) {
      this.rewriteScheduled = false;
      void this.rewrite();
    }
    // Automatic rewrite on growth (serverCron, auto-aof-rewrite-percentage / -min-size).
    const perc = this.server.config.get<number>('auto-aof-rewrite-percentage');
    if (this.state === 'on' && !this.rewriteInProgress && perc > 0 && !this.backgroundSaveActive) {
      const size = this.currentSize;
      const min = this.server.config.get<number>('auto-aof-rewrite-min-size');
      const base = this.baseSize || 1;
      const growth = Math.floor((size * 100) / base) - 100;
      if (size > min && growth >= perc && !this.rewriteLimited(now)) {
        this.server.log.notice(`Starting automatic rewriting of AOF on ${growth}% growth`);
        void this.rewrite();
      }
    }
  }

  /**
   * Once a second: the everysec fsync and the retry of a failed write. Also runs while a busy
   * script holds the server (whileBlockedCron), for what earlier turns wrote.
   */
  private syncTick(now: number): void {
    const sec = Math.floor(now / 1000);
    if (sec !== this.lastTickSecond) {
      this.lastTickSecond = sec;
      // no-appendfsync-on-rewrite (flushAppendOnlyFile): the everysec fsync is skipped while a
      // rewrite or a snapshot runs. Under `always` Amber keeps syncing before every reply: its
      // fsync runs off the event loop, so the stall this directive avoids in Redis does not exist.
      const skip = this.server.config.get<boolean>('no-appendfsync-on-rewrite') && (this.rewriteInProgress || this.backgroundSaveActive);
      if (!skip) this.writer?.tick();
      // a failed write is retried every second until the disk accepts it again
      if (this.writer?.writeFailed) this.writer.flush();
    }
  }

  /** Back-off after repeated failures: 1, 2, 4... up to 60 minutes (aofRewriteLimited). */
  private rewriteLimited(now: number): boolean {
    if (this.consecutiveFailures < REWRITE_LIMIT_THRESHOLD) {
      this.nextDelayMinutes = 0;
      this.nextRewriteAllowedAt = 0;
      return false;
    }
    if (this.nextRewriteAllowedAt !== 0) {
      if (now < this.nextRewriteAllowedAt) return true;
      this.nextRewriteAllowedAt = 0;
      return false;
    }
    this.nextDelayMinutes = Math.min(60, this.nextDelayMinutes === 0 ? 1 : this.nextDelayMinutes * 2);
    this.nextRewriteAllowedAt = now + this.nextDelayMinutes * 60000;
    this.server.log.warning(`Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.nextDelayMinutes} minutes`);
    return true;
  }

  // ---- run-time switch ----------------------------------------------------------------------

  /**
   * CONFIG SET appendonly yes (startAppendOnly): a rewrite writes the base; from its point in time
   * on, writes go to a temp incr that becomes the first incr file when the base is ready. While
   * another background save runs, or inside EXEC, the rewrite is scheduled instead (the cron
   * starts it), and until it starts nothing is appended: its snapshot will hold those writes, so
   * appending them too would replay them twice.
   */
  start(): void {
    mkdirSync(this.dirName, { recursive: true });
    this.state = 'wait-rewrite';
    if (this.rewriteInProgress) {
      // a rewrite stopped by appendonly no that has not noticed yet: the new one follows it
      // (Redis kills the old child and starts a new rewrite at once)
      this.rewriteScheduled = true;
      return;
    }
    if (this.backgroundSaveActive) {
      this.rewriteScheduled = true;
      this.server.log.warning('AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.');
      return;
    }
    if ((this.server.currentClient?.multi as { inExec?: boolean } | null)?.inExec === true) {
      // as Redis: the rewrite starts after the transaction, so its snapshot holds all of it
      this.rewriteScheduled = true;
      this.server.log.warning('AOF was enabled during a transaction. An AOF background was scheduled to start when possible.');
      return;
    }
    void this.rewrite();
  }

  /**
   * CONFIG SET appendonly no (stopAppendOnly): flush, fsync, stop appending. With `release`, after
   * a fatal error of an embedded server (Server.fatalExit), the current file is closed as it is on
   * disk instead, its unsynced buffer dropped (the AOF's own fsync or write is usually what failed).
   */
  async stop(release = false): Promise<void> {
    this.state = 'off';
    this.rewriteScheduled = false;
    // killAppendOnlyChild: a rewrite under way is stopped, its files removed, nothing committed
    if (this.rewriteInProgress) this.rewriteCancelled = true;
    await this.detachWriter(release);
  }

  private async shutdown(opts: ShutdownOptions): Promise<boolean> {
    // finishShutdown: AOF being turned on and its first base not written yet: exiting now would
    // leave no usable AOF, so SHUTDOWN is refused unless FORCE (SIGTERM/SIGINT included, as Redis)
    if (this.state === 'wait-rewrite' && opts.reason !== 'close') {
      if (!opts.force) {
        this.server.log.warning("Writing initial AOF, can't exit.");
        return false;
      }
      this.server.log.warning('Writing initial AOF. Exit anyway.');
    }
    if (this.writer) {
      this.server.log.notice('Calling fsync() on the AOF file.');
      await this.writer.close();
      this.writer = null;
    }
    // history files still being deleted: the directory holds exactly the manifest's files at exit
    while (this.deletions.size > 0) await Promise.all([...this.deletions]);
    return true;
  }

  /** background deletions of history files not yet finished (see deleteHistory) */
  private readonly deletions = new Set<Promise<void>>();

  // ---- rewrite ------------------------------------------------------------------------------

  /** the snapshot of the rewrite under way, for INFO's current_save_keys_* */
  private rewriteSnapshot: Snapshot | null = null;

  /** set by CONFIG SET appendonly no while a rewrite runs: the rewrite stops at its next step */
  private rewriteCancelled = false;

  private throwIfCancelled(): void {
    if (this.rewriteCancelled) throw new Error('the rewrite was stopped (appendonly no)');
  }

  /**
   * True while another background job holds the keyspace (Redis's hasActiveChildProcess): a
   * snapshot is running (BGSAVE, LevelDB import or BACKUP), or a BGSAVE is still finishing its file
   * after its snapshot ended (an empty keyspace's snapshot ends at once).
   */
  private get backgroundSaveActive(): boolean {
    return this.server.keyspace.guard !== null || (rdbForAof?.bgsaveInProgress(this.server) ?? false);
  }

  /**
   * BGREWRITEAOF. Returns the reply text: started, scheduled (a snapshot is running), or the
   * error when one is in progress.
   */
  requestRewrite(): { ok: true; msg: string } | { ok: false; msg: string } {
    if (this.rewriteInProgress) return { ok: false, msg: 'ERR Background append only file rewriting already in progress' };
    if (this.backgroundSaveActive) {
      this.rewriteScheduled = true;
      return { ok: true, msg: 'Background append only file rewriting scheduled' };
    }
    void this.rewrite();
    return { ok: true, msg: 'Background append only file rewriting started' };
  }

  /**
   * One rewrite (rewriteAppendOnlyFileBackground + backgroundRewriteDoneHandler), no fork, no
   * rewrite buffer: (1) when AOF is on, a new incr file is opened and the manifest persisted, so
   * every later effect lands there; (2) in the same turn the snapshot fixes its point in time and
   * is written, slice by slice, to a temp file; (3) fsync, rename to the new base, manifest with the
   * old base and incr files as history, history deleted. A failure leaves the live AOF untouched.
   */
  async rewrite(): Promise<boolean> {
    if (this.rewriteInProgress) return false;
    const s = this.server;
    const dir = this.dirName;
    this.rewriteInProgress = true;
    this.rewriteCancelled = false;
    this.rewriteStartedAt = Date.now();
    // stat_aof_rewrites counts a rewrite when it starts (rewriteAppendOnlyFileBackground)
    this.rewrites++;
    const tmp = join(this.dataDir, `temp-rewriteaof-bg-${process.pid}.aof`);
    const preamble = s.config.get<boolean>('aof-use-rdb-preamble');
    try {
      mkdirSync(dir, { recursive: true });
      if (this.state === 'on') {
        const m = this.manifest.clone();
        const incr = m.newIncr(this.fileName);
        closeSync(openSync(join(dir, incr.fileName), 'w', 0o644));
        m.persist(dir, this.fileName);
        this.manifest = m;
        this.refreshSizes();
        this.switchWriter(join(dir, incr.fileName));
        s.log.notice(`Creating AOF incr file ${incr.fileName} on background rewrite`);
      } else if (this.state === 'wait-rewrite') {
        // turning AOF on: writes from this turn (the snapshot's point in time) on go to a fresh
        // temp incr; what an earlier failed attempt left in it is in this snapshot already
        const tmpIncr = join(dir, `temp-${this.fileName}.incr`);
        void this.detachWriter();
        closeSync(openSync(tmpIncr, 'w', 0o644));
        this.attachWriter(tmpIncr);
      }
      s.log.notice('Background append only file rewriting started');
      await this.writeBase(tmp, preamble, true);
      this.throwIfCancelled();
      // commit: new base, old files to history
      const m = this.manifest.clone();
      const base = m.newBase(this.fileName, preamble);
      const renameStart = performance.now();
      renameSync(tmp, join(dir, base.fileName));
      s.latency.addSampleIfNeeded('aof-rename', performance.now() - renameStart);
      if (this.state === 'wait-rewrite') {
        const incr = m.newIncr(this.fileName);
        m.markRewrittenIncrAsHistory(true);
        // the temp incr has taken every write since the snapshot: it becomes the new incr file
        const tmpIncr = join(dir, `temp-${this.fileName}.incr`);
        this.writer?.flush(true);
        renameSync(tmpIncr, join(dir, incr.fileName));
        this.switchWriter(join(dir, incr.fileName));
      } else {
        m.markRewrittenIncrAsHistory(this.state === 'on');
      }
      m.persist(dir, this.fileName);
      this.manifest = m;
      if (this.state === 'wait-rewrite') {
        this.state = 'on';
        s.log.notice('Background append only file rewriting finished successfully; AOF is now enabled');
      }
      s.log.notice(`Successfully renamed the temporary AOF base file ${basename(tmp)} into ${base.fileName}`);
      this.deleteHistory();
      this.refreshSizes();
      // backgroundRewriteDoneHandler measures the files: a load's skew ends here
      this.loadSizeSkew = 0;
      this.baseSize = this.currentSize;
      this.lastBgrewriteOk = true;
      this.consecutiveFailures = 0;
      s.log.notice('Background AOF rewrite finished successfully');
      return true;
    } catch (e) {
      if (this.rewriteCancelled) {
        // stopped on purpose: no failure counted, as Redis's killAppendOnlyChild
        s.log.notice('Background AOF rewrite stopped: appendonly was switched off');
        if (this.state === 'off') void unlinkInBackground(join(dir, `temp-${this.fileName}.incr`));
        try {
          unlinkSync(tmp);
        } catch {
          // nothing written yet
        }
        return false;
      }
      this.lastBgrewriteOk = false;
      this.consecutiveFailures++;
      s.log.warning(`Background AOF rewrite failed: ${(e as Error).message}. The current AOF files are left as they were.`);
      if (this.state === 'wait-rewrite') {
        // AOF is still being turned on: stop appending to the temp incr, drop it (its writes are
        // in the next attempt's snapshot) and try again from the cron, as Redis does in
        // AOF_WAIT_REWRITE (aofDelTempIncrAofFile, then a scheduled rewrite)
        void this.detachWriter();
        const tmpIncr = `temp-${this.fileName}.incr`;
        s.log.notice(`Removing the temp incr aof file ${tmpIncr} in the background`);
        void unlinkInBackground(join(dir, tmpIncr));
        this.rewriteScheduled = true;
      }
      try {
        unlinkSync(tmp);
      } catch {
        // nothing written yet
      }
      return false;
    } finally {
      this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteStartedAt) / 1000);
      this.rewriteInProgress = false;
    }
  }

  /** Deletes history files and persists the manifest without them (aofDelHistoryFiles). */
  private deleteHistory(): void {
    if (this.server.config.get<boolean>('aof-disable-auto-gc') || this.manifest.history.length === 0) return;
    const dir = this.dirName;
    for (const h of this.manifest.history) {
      this.server.log.notice(`Removing the history file ${h.fileName} in the background`);
      // off the event loop: freeing a big base takes ~0.25 ms per MB here (unlinkInBackground)
      const p = unlinkInBackground(join(dir, h.fileName), (e) =>
        this.server.log.warning(`Can't remove the AOF history file ${h.fileName} in ${dir}: ${e.message}; it is no longer in the manifest, remove it by hand`));
      this.deletions.add(p);
      void p.then(() => this.deletions.delete(p));
    }
    this.manifest.history = [];
    this.manifest.persist(dir, this.fileName);
  }

  /**
   * Writes a base file from a fork-less snapshot: an RDB preamble through the streaming RDB
   * writer ({@link writeRdbBase}), or RESP commands. With `yieldToClients`, the snapshot advances
   * in slices interleaved with the clients ({@link runSliced}); without (start-up), it runs to the
   * end at once.
   */
  private async writeBase(path: string, preamble: boolean, yieldToClients: boolean): Promise<void> {
    if (preamble) return this.writeRdbBase(path, yieldToClients);
    const fd = openSync(path, 'w', 0o644);
    let chunks: Uint8Array[] = [];
    let pending = 0;
    const incremental = this.server.config.get<boolean>('aof-rewrite-incremental-fsync');
    let sinceSync = 0;
    const flushChunks = (): void => {
      if (pending === 0) return;
      const buf = Buffer.concat(chunks, pending);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      sinceSync += buf.length;
      chunks = [];
      pending = 0;
    };
    const sink = (chunk: Uint8Array | string): boolean => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      chunks.push(b);
      pending += b.length;
      if (pending >= 1 << 20) flushChunks();
      return true;
    };
    let snap: Snapshot | null = null;
    try {
      // the function libraries first, as FUNCTION LOAD commands (rewriteFunctions), as they are now
      for (const code of this.server.functions.codes()) sink(respCommand(['FUNCTION', 'LOAD', code]));
      snap = new Snapshot(this.server.keyspace, respBaseFormat(), sink);
      snap.keySaveDelay = this.server.config.get<number>('rdb-key-save-delay');
      snap.start();
      this.rewriteSnapshot = snap;
      if (yieldToClients) {
        // BGSAVE's scheduler: a share of the time while clients are active, slices after the
        // turn's replies; aof-rewrite-incremental-fsync pauses it every 4 MB for an fdatasync
        const server = this.server;
        await runSliced(snap, { paused: () => incremental && sinceSync >= AUTOSYNC_BYTES }, {
          check: () => this.throwIfCancelled(),
          drained: async () => {
            flushChunks();
            await fdatasyncAsync(fd);
            sinceSync = 0;
          },
          schedule: (fn) => server.afterReplies(fn),
          activity: () => server.stats.totalReads,
        });
      } else {
        // start-up: no clients to yield to
        await runToEnd(snap);
      }
      this.lastCowSize = snap.forcedBytesTotal;
      flushChunks();
      await fdatasyncAsync(fd);
    } finally {
      snap?.abort();
      this.rewriteSnapshot = null;
      closeSync(fd);
    }
  }

  /**
   * An RDB-preamble base, as BGSAVE writes dump.rdb: the snapshot (started now, in the caller's
   * turn) feeds the streaming RDB writer key by key, its chunks written off the event loop; on
   * BGSAVE's scheduler with `yieldToClients`, else to the end at once (start-up).
   * @throws the write error (the temp file is then left for the caller)
   */
  private async writeRdbBase(path: string, yieldToClients: boolean): Promise<void> {
    if (rdbForAof === null || rdbBaseOutput === null) throw new Error('aof-use-rdb-preamble is yes but the RDB encoder is not available');
    const server = this.server;
    const out = rdbBaseOutput(server);
    const snap = new Snapshot(server.keyspace, rdbForAof.snapshotFormat(server), out);
    snap.keySaveDelay = server.config.get<number>('rdb-key-save-delay');
    try {
      snap.start();
      this.rewriteSnapshot = snap;
      await out.open(path);
      if (yieldToClients) {
        await runSliced(snap, out, {
          check: () => {
            this.throwIfCancelled();
            out.throwIfFailed();
          },
          drained: () => out.drained(),
          schedule: (fn) => server.afterReplies(fn),
          activity: () => server.stats.totalReads,
        });
      } else {
        await runToEnd(snap, async () => {
          if (out.paused()) await out.drained();
          out.throwIfFailed();
        });
      }
      this.lastCowSize = snap.forcedBytesTotal;
      await out.finish();
    } catch (e) {
      await out.close();
      throw e;
    } finally {
      snap.abort();
      this.rewriteSnapshot = null;
    }
  }

  // ---- INFO -----------------------------------------------------------------------------------

  private info(sec: import('../../server/info.js').InfoSection): void {
    const on = this.state !== 'off';
    sec.set('aof_enabled', on ? 1 : 0);
    sec.set('aof_rewrite_in_progress', this.rewriteInProgress ? 1 : 0);
    sec.set('aof_rewrite_scheduled', this.rewriteScheduled ? 1 : 0);
    sec.set('aof_last_rewrite_time_sec', this.lastRewriteTimeSec);
    sec.set('aof_current_rewrite_time_sec', this.rewriteInProgress ? Math.round((Date.now() - this.rewriteStartedAt) / 1000) : -1);
    sec.set('aof_last_bgrewrite_status', this.lastBgrewriteOk ? 'ok' : 'err');
    sec.set('aof_rewrites', this.rewrites);
    sec.set('aof_rewrites_consecutive_failures', this.consecutiveFailures);
    sec.set('aof_last_write_status', this.lastWriteOk ? 'ok' : 'err');
    sec.set('aof_last_cow_size', this.lastCowSize);
    if (this.rewriteSnapshot !== null && !this.rewriteSnapshot.done) reportSnapshotProgress(sec, this.rewriteSnapshot);
    if (on) {
      const after = 'module_fork_last_cow_size';
      let prev = sec.get(after) !== undefined ? after : 'aof_last_cow_size';
      const add = (k: string, v: string | number): void => {
        sec.setAfter(prev, k, v);
        prev = k;
      };
      add('aof_current_size', this.currentSize);
      add('aof_base_size', this.baseSize);
      add('aof_pending_rewrite', this.rewriteScheduled ? 1 : 0);
      add('aof_buffer_length', this.writer?.bufferLength ?? 0);
      add('aof_pending_bio_fsync', this.writer?.fsyncInProgress ? 1 : 0);
      add('aof_delayed_fsync', this.writer?.delayedFsyncs ?? 0);
    }
    if (this.server.keyspace.loading && this.progress.totalBytes > 0) {
      sec.set('loading', 1);
      // the AOF's own progress, as Redis's loadingIncrProgress during loadAppendOnlyFiles (the RDB
      // layer's loading_* describe no more than an RDB preamble)
      setLoadingFields(sec, Math.floor(this.loadingStartedAt / 1000), this.progress.totalBytes, this.progress.loadedBytes);
    }
  }
}

function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

const layers = new WeakMap<Server, Aof>();

/** The AOF layer of a server, created and installed on first use. */
export function aofOf(server: Server): Aof {
  let a = layers.get(server);
  if (!a) {
    a = new Aof(server);
    a.install();
    layers.set(server, a);
  }
  return a;
}

