import { openSync, writeSync, closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, fsync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * fdatasyncs allowed in flight at once on libuv's thread pool (4 threads by default: one stays
 * free for other file work). Overlapping syncs let a turn's replies go out one sync after its
 * write instead of waiting for the previous turn's sync to end first; on a virtio/ext4 disk two
 * or three concurrent fdatasyncs complete at about the latency of one.
 */
const MAX_PARALLEL_SYNCS = 3;

/** Initial size of a writer's buffer, bytes. */
const OUT_INITIAL = 64 * 1024;
/** A buffer grown beyond this many bytes is replaced by a new OUT_INITIAL one once written. */
const OUT_KEEP_MAX = 4 * 1024 * 1024;

/** Writes the decimal digits of `n` (a non-negative integer) at `p` of `out`; returns the end. */
function writeDecimal(out: Buffer, p: number, n: number): number {
  if (n < 10) {
    out[p] = 48 + n;
    return p + 1;
  }
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  for (let i = p + digits - 1; i >= p; i--) {
    out[i] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
  return p + digits;
}

/** fsync policy (appendfsync). */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

/** Encodes argv as a RESP multibulk command (catAppendOnlyGenericCommand), latin1. */
export function respCommand(argv: readonly string[]): string {
  let s = '*' + argv.length + '\r\n';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    s += '$' + a.length + '\r\n' + a + '\r\n';
  }
  return s;
}

/** The C library's text for an errno, as Redis prints strerror(errno) in MISCONF replies and logs. */
export function strerror(e: NodeJS.ErrnoException): string {
  const texts: Record<string, string> = {
    ENOSPC: 'No space left on device', EIO: 'Input/output error', EDQUOT: 'Disk quota exceeded',
    EACCES: 'Permission denied', EPERM: 'Operation not permitted', EROFS: 'Read-only file system',
    EBADF: 'Bad file descriptor', EFBIG: 'File too large', ENOENT: 'No such file or directory',
  };
  return (e.code && texts[e.code]) || e.message;
}

/** Redis's log line when an fdatasync fails under `always` (flushAppendOnlyFile), before it exits. */
function fsyncFatal(err: Error): string {
  return `Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${err.message}. Exiting...`;
}

/** Events the writer reports to its owner (INFO fields, MISCONF). */
export interface AofWriterEvents {
  /** a write failed; `message` names the file and the OS error */
  writeError(message: string): void;
  /** writes work again after an error */
  writeRecovered(): void;
  /** an fsync failed under `always`: data acknowledged could be lost, so the process must stop */
  fatal(message: string): void;
  /** an everysec write waited 2 s for a slow fsync and goes out anyway (aof_delayed_fsync) */
  slowFsync?(): void;
  /**
   * a turn's write() took `ms`; `pendingFsync`: under everysec, a background fdatasync was
   * running meanwhile (the latency monitor's aof-write-* events)
   */
  wrote?(ms: number, pendingFsync: boolean): void;
  /** an `always` fdatasync took `ms` (the latency monitor's aof-fsync-always) */
  syncedAlways?(ms: number): void;
}

/**
 * Appends effects to the current incr file (feedAppendOnlyFile + flushAppendOnlyFile in
 * src/aof.c), with Amber's group commit:
 *
 * - {@link feed} buffers a command's RESP (with SELECT when the db changes and `#TS:` annotations
 *   when aof-timestamp-enabled), in memory, during the event-loop turn.
 * - {@link flush}, called once per turn before replies are released, writes the whole buffer with
 *   one write(). Under `always` it then syncs: inline ({@link syncInline}, on machines with fewer
 *   than 3 CPUs) it calls fdatasync before returning, as Redis does; else it returns a promise
 *   that an fdatasync begun after this write has completed; the server holds this turn's replies
 *   until it resolves (and releases turns in order), while it goes on executing the next turns'
 *   commands. Each turn's write starts its own fdatasync at once, overlapping the previous ones,
 *   up to {@link MAX_PARALLEL_SYNCS} in flight; beyond that one more is queued and covers every
 *   turn written meanwhile.
 * - `everysec`: {@link tick} starts a background fdatasync once a second; if the previous one is
 *   still running, it is postponed and counted (aof_delayed_fsync), as Redis does.
 * - A failed or short write is truncated back to the last good size (so no partial command is left
 *   in the file), the buffer is kept and retried on the next flush; the owner refuses writes with
 *   MISCONF meanwhile, and lifts it once a retry succeeds.
 */
export class AofWriter {
  private fd: number;
  /**
   * The turn's effects not yet written (the AOF buffer, server.aof_buf): bytes [0, {@link len}).
   * RESP is encoded straight into it, so a turn's write needs no string building and no
   * conversion; it grows by doubling and goes back to OUT_INITIAL bytes after a big turn.
   */
  private out = Buffer.allocUnsafe(OUT_INITIAL);
  private len = 0;
  private selectedDb = -1;
  private lastTsSecond = 0;
  /** bytes successfully written to the current file */
  size: number;
  /** file offset up to which an fdatasync has completed: everything below it is on disk */
  private durable: number;
  /** the highest offset an fdatasync started (or queued) so far will cover */
  private requested: number;
  /** fdatasyncs in flight on the thread pool, at most {@link MAX_PARALLEL_SYNCS} */
  private readonly inflight = new Set<Promise<void>>();
  /** a sync is wanted as soon as a slot frees, covering what is written by then */
  private syncQueued = false;
  /** replies waiting for the file to be durable up to `offset` (ascending offsets) */
  private waiters: Array<{ offset: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private lastFsyncAt = Date.now();
  delayedFsyncs = 0;
  writeFailed = false;
  lastWriteError = '';
  /** bytes written since the last fsync started */
  private unsynced = 0;

  /**
   * Test hook: returns an error to fail the next write of the file at `path` with (after a short
   * partial write), as a full or failing disk would, or null to write normally.
   */
  static faultInjector: ((path: string) => NodeJS.ErrnoException | null) | null = null;

  /** The fdatasync used (fs.fdatasync); a test hook to delay or observe syncs. */
  static fdatasync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void = fdatasync;

  /** The fdatasync of the inline `always` path (fs.fdatasyncSync); a test hook to observe it. */
  static fdatasyncSync: (fd: number) => void = fdatasyncSync;

  /**
   * Under `always`, sync on the event loop inside the turn (write, fdatasync, then the replies, as
   * Redis's flushAppendOnlyFile does) instead of on libuv's thread pool with overlapping syncs.
   * The overlap pays only when a core is free for the syncing thread: with two cores the event
   * loop and the clients already hold both, and measured on such a machine (SET -c 50, ~0.3 ms
   * fdatasync) the thread pool path is 10-25% slower: each sync costs ~60 us more CPU for the
   * hand-offs and its completion waits for the event loop's turn (~0.5 ms seen vs ~0.34 ms
   * inline), so fewer commands share each sync. Chosen once from the CPU count; tests set it.
   */
  static syncInline = availableParallelism() < 3;

  constructor(
    readonly path: string,
    public policy: FsyncPolicy,
    private readonly events: AofWriterEvents,
    public timestamps = false,
  ) {
    this.fd = openSync(path, 'a', 0o644);
    this.size = fstatSync(this.fd).size;
    // what was in the file before this process opened it was synced by its writer (or is loaded
    // data): only this process's writes need a sync before their replies
    this.durable = this.size;
    this.requested = this.size;
  }

  /** Pending bytes not yet written (aof_buffer_length). */
  get bufferLength(): number {
    return this.len;
  }

  /** Appends one effect. */
  feed(db: number, argv: readonly string[]): void {
    if (this.timestamps) {
      const sec = Math.floor(Date.now() / 1000);
      if (sec !== this.lastTsSecond) {
        this.lastTsSecond = sec;
        this.appendAscii(`#TS:${sec}\r\n`);
      }
    }
    if (db !== this.selectedDb) {
      const d = String(db);
      this.appendAscii('*2\r\n$6\r\nSELECT\r\n$' + d.length + '\r\n' + d + '\r\n');
      this.selectedDb = db;
    }
    // room for the whole command: each argument's header is at most 14 bytes ($, 10 digits, CRLF)
    // and its trailer 2
    let need = 14;
    for (let i = 0; i < argv.length; i++) need += argv[i]!.length + 16;
    if (this.len + need > this.out.length) this.grow(need);
    const out = this.out;
    let p = this.len;
    out[p++] = 0x2a; // '*'
    p = writeDecimal(out, p, argv.length);
    out[p++] = 13;
    out[p++] = 10;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const n = a.length;
      out[p++] = 0x24; // '$'
      p = writeDecimal(out, p, n);
      out[p++] = 13;
      out[p++] = 10;
      // short arguments byte by byte: a native latin1Write costs more than the loop below ~16 bytes
      if (n <= 16) for (let j = 0; j < n; j++) out[p++] = a.charCodeAt(j);
      else p += out.latin1Write(a, p, n);
      out[p++] = 13;
      out[p++] = 10;
    }
    this.len = p;
  }

  /** Appends a short ASCII text (SELECT, #TS annotations). */
  private appendAscii(text: string): void {
    if (this.len + text.length > this.out.length) this.grow(text.length);
    this.len += this.out.latin1Write(text, this.len, text.length);
  }

  /** Makes room for `need` more bytes after {@link len}, keeping what is buffered. */
  private grow(need: number): void {
    let size = this.out.length * 2;
    while (size < this.len + need) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.out.copy(nb, 0, 0, this.len);
    this.out = nb;
  }

  /**
   * Writes the turn's buffer. Returns a promise when replies must wait for durability
   * (`always`), else null. Under `everysec`, while the background fdatasync runs, the write is
   * postponed for up to 2 seconds as flushAppendOnlyFile does (a write() to a file being synced
   * can block the event loop until the sync ends); after 2 seconds it is written anyway and
   * counted in aof_delayed_fsync. `force` writes now (close, switch of file, rewrite commit).
   */
  flush(force = false): Promise<void> | null {
    if (this.released) return null;
    if (this.len > 0 && !force && this.policy === 'everysec' && this.inflight.size > 0 && !this.writeFailed) {
      const now = Date.now();
      if (this.postponedSince === 0) this.postponedSince = now;
      if (now - this.postponedSince < 2000) return this.takeCarry(null);
      this.delayedFsyncs++;
      this.events.slowFsync?.();
    }
    this.postponedSince = 0;
    if (this.len > 0) {
      const data = this.out.subarray(0, this.len);
      let written = 0;
      try {
        if (AofWriter.faultInjector !== null) {
          const fault = AofWriter.faultInjector(this.path);
          if (fault !== null) {
            // simulate a short write followed by the error, as a full disk produces
            written = writeSync(this.fd, data, 0, Math.min(3, data.length));
            throw fault;
          }
        }
        const writeStart = performance.now();
        while (written < data.length) written += writeSync(this.fd, data, written, data.length - written);
        this.events.wrote?.(performance.now() - writeStart, this.policy === 'everysec' && this.inflight.size > 0);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (written > 0) {
          // Remove the partial command so the file never holds half of one (flushAppendOnlyFile).
          try {
            ftruncateSync(this.fd, this.size);
          } catch {
            // The file keeps a partial tail; the loader cuts it under aof-load-truncated.
          }
        }
        this.lastWriteError = strerror(err);
        if (!this.writeFailed) {
          this.writeFailed = true;
          this.events.writeError(`Error writing to the AOF file ${this.path}: ${err.message}`);
        }
        // Under always the commands of this turn are not durable: hold their replies until a
        // retry succeeds (retried by the owner's cron), never acknowledge them before.
        return this.policy === 'always' ? this.retryUntilWritten() : null;
      }
      this.size += data.length;
      this.unsynced += data.length;
      this.len = 0;
      // a big turn's buffer is not kept for the next, small ones
      if (this.out.length > OUT_KEEP_MAX) this.out = Buffer.allocUnsafe(OUT_INITIAL);
      if (this.writeFailed) {
        this.writeFailed = false;
        this.events.writeRecovered();
      }
    }
    if (this.policy !== 'always' || this.size <= this.durable) return this.takeCarry(null);
    if (AofWriter.syncInline && this.inflight.size === 0) return this.takeCarry(this.syncNow());
    return this.takeCarry(this.waitDurable(this.size));
  }

  /**
   * The inline `always` sync: fdatasync on the event loop, so the turn's replies can go out at
   * once (returns null). A failure is fatal under `always` (the owner exits); the replies are
   * then never released (returns a rejected promise, as the thread pool path's waiters are).
   */
  private syncNow(): Promise<void> | null {
    const target = this.size;
    try {
      const syncStart = performance.now();
      AofWriter.fdatasyncSync(this.fd);
      this.events.syncedAlways?.(performance.now() - syncStart);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.events.fatal(fsyncFatal(err));
      return Promise.reject(err);
    }
    this.lastFsyncAt = Date.now();
    this.unsynced = 0;
    this.durable = target;
    if (target > this.requested) this.requested = target;
    while (this.waiters.length > 0 && this.waiters[0]!.offset <= target) this.waiters.shift()!.resolve();
    return null;
  }

  /** `p` joined with the previous file's sync that this turn's replies must also wait for. */
  private takeCarry(p: Promise<void> | null): Promise<void> | null {
    if (this.carry === null) return p;
    const c = this.carry;
    this.carry = null;
    return p === null ? c : Promise.all([c, p]).then(() => undefined);
  }

  /** when the current everysec write postponement began (Date.now()), or 0 */
  private postponedSince = 0;

  /** True while buffered effects wait for the running fsync (the owner's cron flushes them). */
  get writePostponed(): boolean {
    return this.postponedSince !== 0 && this.len > 0;
  }

  private retryPromise: Promise<void> | null = null;
  private retryUntilWritten(): Promise<void> {
    if (this.retryPromise) return this.retryPromise;
    this.retryPromise = new Promise<void>((resolve) => {
      const attempt = (): void => {
        // released after a fatal error: nothing is written any more, these replies never go out
        if (this.released) return resolve();
        const p = this.flush();
        if (!this.writeFailed) {
          this.retryPromise = null;
          if (p) p.then(resolve, resolve);
          else resolve();
          return;
        }
        setTimeout(attempt, 1000).unref();
      };
      setTimeout(attempt, 1000).unref();
    });
    return this.retryPromise;
  }

  /**
   * A promise that the file is on disk up to `offset` (bytes already written). Group commit with
   * overlapping syncs: when fewer than {@link MAX_PARALLEL_SYNCS} fdatasyncs are in flight a new
   * one starts at once, covering every byte written so far; else one is queued and starts when a
   * slot frees. An fdatasync covers all data written before it began (POSIX), so a waiter is
   * released by the first completed sync that began after its bytes were written, whichever
   * finishes first. The server releases turns' replies in order on top of this.
   */
  private waitDurable(offset: number): Promise<void> {
    if (offset <= this.durable) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
    if (offset > this.requested) {
      if (this.inflight.size < MAX_PARALLEL_SYNCS) void this.startSync().catch(() => undefined);
      else this.syncQueued = true;
    }
    return p;
  }

  /** Starts an fdatasync covering every byte written so far; resolves when it completes. */
  private startSync(): Promise<void> {
    this.unsynced = 0;
    const fd = this.fd;
    const target = this.size;
    if (target > this.requested) this.requested = target;
    const syncStart = performance.now();
    const p = new Promise<void>((resolve, reject) => {
      AofWriter.fdatasync(fd, (err) => {
        this.lastFsyncAt = Date.now();
        // on the thread pool: from the request to its completion, which is what the replies wait
        if (!err && this.policy === 'always') this.events.syncedAlways?.(performance.now() - syncStart);
        this.inflight.delete(p);
        if (err) {
          if (this.policy === 'always') this.events.fatal(fsyncFatal(err));
          // the bytes up to `target` are not known to be on disk: their waiters fail
          while (this.waiters.length > 0 && this.waiters[0]!.offset <= target) this.waiters.shift()!.reject(err);
          reject(err);
        } else {
          if (target > this.durable) this.durable = target;
          while (this.waiters.length > 0 && this.waiters[0]!.offset <= this.durable) this.waiters.shift()!.resolve();
          resolve();
        }
        // writes postponed behind this sync go out now rather than at the next turn or cron
        if (this.writePostponed && this.inflight.size === 0) this.flush();
        if (this.syncQueued && this.inflight.size < MAX_PARALLEL_SYNCS) {
          this.syncQueued = false;
          if (this.size > this.requested) void this.startSync().catch(() => undefined);
        }
      });
    });
    this.inflight.add(p);
    return p;
  }

  /** Resolves once no fdatasync is in flight on this file (before closing the descriptor). */
  private async syncsSettled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Called every second by the owner: the everysec background fsync. */
  tick(): void {
    if (this.policy !== 'everysec' || this.unsynced === 0) return;
    // an fsync still running: this one is skipped (the next tick covers what is written by then)
    if (this.inflight.size > 0) return;
    this.startSync().catch((e: Error) => this.events.writeError(`Background AOF fsync failed on ${this.path}: ${e.message}`));
  }

  /** True while a background fsync runs (aof_pending_bio_fsync). */
  get fsyncInProgress(): boolean {
    return this.inflight.size > 0;
  }

  /** Forces the db to be re-selected in the next command (new file). */
  resetSelectedDb(): void {
    this.selectedDb = -1;
  }

  /** Writes what is buffered, fsyncs and closes (shutdown, switch of file). */
  async close(): Promise<void> {
    this.flush(true);
    await this.syncsSettled();
    await new Promise<void>((resolve) => fsync(this.fd, () => resolve()));
    closeSync(this.fd);
  }

  /** set by {@link release}: the file is closed and nothing is written any more */
  private released = false;

  /**
   * Closes the file without writing the buffer or syncing it (an embedded server's stop after a
   * fatal error: what is on disk stays as it is, and nothing more is appended). Waits for the
   * fdatasyncs in flight first (the descriptor must not be closed, and reused, under them); replies
   * still waiting for durability are failed.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.len = 0;
    await this.syncsSettled();
    const err = new Error(`the AOF file ${this.path} was closed after a fatal error`);
    for (const w of this.waiters.splice(0)) w.reject(err);
    closeSync(this.fd);
  }

  /**
   * Moves the writer to another file: the old one is flushed, fsynced and closed in the
   * background (aof_background_fsync_and_close); pending buffer goes to the new file.
   */
  switchTo(path: string): AofWriter {
    // Effects buffered so far happened before the switch (before a rewrite's point in time):
    // they belong to the old file. Under `always`, their replies wait for its fsync, which the
    // new writer's next flush carries.
    const written = this.flush(true);
    const next = new AofWriter(path, this.policy, this.events, this.timestamps);
    if (written !== null) next.carry = written;
    else if (this.policy === 'always' && this.size > this.durable) next.carry = this.waitDurable(this.size);
    const fd = this.fd;
    void (next.carry ?? Promise.resolve()).catch(() => undefined).then(() => this.syncsSettled()).then(() => {
      fsync(fd, () => closeSync(fd));
    });
    return next;
  }

  /** a previous file's fsync that the next flush must also wait for (see switchTo) */
  private carry: Promise<void> | null = null;

}
