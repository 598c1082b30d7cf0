import { openSync, writeSync, closeSync, fdatasync, fstatSync, ftruncateSync, fsync } from 'node:fs';

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

/** Events the writer reports to its owner (INFO fields, MISCONF). */
export interface AofWriterEvents {
  /** a write failed; `message` names the file and the OS error */
  writeError(message: string): void;
  /** writes work again after an error */
  writeRecovered(): void;
  /** an fsync failed under `always`: data acknowledged could be lost, so the process must stop */
  fatal(message: string): void;
}

/**
 * Appends effects to the current incr file (feedAppendOnlyFile + flushAppendOnlyFile in
 * src/aof.c), with Amber's group commit:
 *
 * - {@link feed} buffers a command's RESP (with SELECT when the db changes and `#TS:` annotations
 *   when aof-timestamp-enabled), in memory, during the event-loop turn.
 * - {@link flush}, called once per turn before replies are released, writes the whole buffer with
 *   one write(). Under `always` it returns a promise of an fdatasync that covers this write; the
 *   server holds this turn's replies until it resolves, while it goes on executing the next turn's
 *   commands (their own sync starts when the current one ends, covering all of them at once).
 * - `everysec`: {@link tick} starts a background fdatasync once a second; if the previous one is
 *   still running, it is postponed and counted (aof_delayed_fsync), as Redis does.
 * - A failed or short write is truncated back to the last good size (so no partial command is left
 *   in the file), the buffer is kept and retried on the next flush; the owner refuses writes with
 *   MISCONF meanwhile, and lifts it once a retry succeeds.
 */
export class AofWriter {
  private fd: number;
  private buf = '';
  private selectedDb = -1;
  private lastTsSecond = 0;
  /** bytes successfully written to the current file */
  size: number;
  /** fdatasync in flight (always or everysec) */
  private syncing: Promise<void> | null = null;
  /** a sync to run after the in-flight one, covering writes made meanwhile */
  private nextSync: Promise<void> | null = null;
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

  constructor(
    readonly path: string,
    public policy: FsyncPolicy,
    private readonly events: AofWriterEvents,
    public timestamps = false,
  ) {
    this.fd = openSync(path, 'a', 0o644);
    this.size = fstatSync(this.fd).size;
  }

  /** Pending bytes not yet written (aof_buffer_length). */
  get bufferLength(): number {
    return this.buf.length;
  }

  /** Appends one effect. */
  feed(db: number, argv: readonly string[]): void {
    if (this.timestamps) {
      const sec = Math.floor(Date.now() / 1000);
      if (sec !== this.lastTsSecond) {
        this.lastTsSecond = sec;
        this.buf += `#TS:${sec}\r\n`;
      }
    }
    if (db !== this.selectedDb) {
      const d = String(db);
      this.buf += '*2\r\n$6\r\nSELECT\r\n$' + d.length + '\r\n' + d + '\r\n';
      this.selectedDb = db;
    }
    this.buf += respCommand(argv);
  }

  /**
   * Writes the turn's buffer. Returns a promise when replies must wait for durability
   * (`always`), else null.
   */
  flush(): Promise<void> | null {
    if (this.buf.length > 0) {
      const data = Buffer.from(this.buf, 'latin1');
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
        while (written < data.length) written += writeSync(this.fd, data, written, data.length - written);
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
      this.buf = '';
      if (this.writeFailed) {
        this.writeFailed = false;
        this.events.writeRecovered();
      }
    }
    let p: Promise<void> | null = this.policy === 'always' && this.unsynced > 0 ? this.syncCovering() : null;
    if (this.carry !== null) {
      const c = this.carry;
      this.carry = null;
      p = p === null ? c : Promise.all([c, p]).then(() => undefined);
    }
    return p;
  }

  private retryPromise: Promise<void> | null = null;
  private retryUntilWritten(): Promise<void> {
    if (this.retryPromise) return this.retryPromise;
    this.retryPromise = new Promise<void>((resolve) => {
      const attempt = (): void => {
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

  /** A promise of an fdatasync that starts after everything written so far. */
  private syncCovering(): Promise<void> {
    if (this.syncing === null) return this.startSync();
    if (this.nextSync === null) {
      this.nextSync = this.syncing.then(() => {
        this.nextSync = null;
        return this.startSync();
      });
    }
    return this.nextSync;
  }

  private startSync(): Promise<void> {
    this.unsynced = 0;
    const fd = this.fd;
    const p = new Promise<void>((resolve, reject) => {
      fdatasync(fd, (err) => {
        this.lastFsyncAt = Date.now();
        if (err) {
          const msg = `Can't persist AOF for fsync error when the AOF fsync policy is '${this.policy}': ${err.message}. Exiting...`;
          if (this.policy === 'always') this.events.fatal(msg);
          reject(err);
        } else {
          resolve();
        }
      });
    });
    this.syncing = p;
    const clear = (): void => {
      if (this.syncing === p) this.syncing = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Called every second by the owner: the everysec background fsync. */
  tick(): void {
    if (this.policy !== 'everysec' || this.unsynced === 0) return;
    if (this.syncing !== null) {
      // postponed: an fsync is still running (aof_delayed_fsync when over 2 s)
      if (Date.now() - this.lastFsyncAt > 2000) this.delayedFsyncs++;
      return;
    }
    this.startSync().catch((e: Error) => this.events.writeError(`Background AOF fsync failed on ${this.path}: ${e.message}`));
  }

  /** True while a background fsync runs (aof_pending_bio_fsync). */
  get fsyncInProgress(): boolean {
    return this.syncing !== null;
  }

  /** Forces the db to be re-selected in the next command (new file). */
  resetSelectedDb(): void {
    this.selectedDb = -1;
  }

  /** Writes what is buffered, fsyncs and closes (shutdown, switch of file). */
  async close(): Promise<void> {
    this.flush();
    await this.syncing?.catch(() => undefined);
    await new Promise<void>((resolve) => fsync(this.fd, () => resolve()));
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
    const written = this.flush();
    const next = new AofWriter(path, this.policy, this.events, this.timestamps);
    if (written !== null) next.carry = written;
    else if (this.policy === 'always' && this.unsynced > 0) next.carry = this.syncCovering();
    const fd = this.fd;
    const pending = next.carry ?? this.syncing ?? Promise.resolve();
    void pending.catch(() => undefined).then(() => {
      fsync(fd, () => closeSync(fd));
    });
    return next;
  }

  /** a previous file's fsync that the next flush must also wait for (see switchTo) */
  private carry: Promise<void> | null = null;

}
