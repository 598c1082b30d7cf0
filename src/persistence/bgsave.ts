import { open, type FileHandle } from 'node:fs/promises';
import { renameSync, unlinkSync, readdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import type { Server } from '../server/server.js';
import { Snapshot } from './snapshot.js';
import { rdbState, rdbFilePath, rdbFormatFor, rdbSave, type SavePoints } from './rdb/load.js';
import { aofOf } from './aof/aof.js';
import { fsyncDir } from './fsutil.js';
import { registerInfoProvider } from '../server/info.js';

/** Bytes queued for the disk above which the snapshot stops producing until writes catch up. */
const QUEUE_HIGH_WATER = 16 * 1024 * 1024;
/** Chunk size of file writes. */
const WRITE_CHUNK = 1024 * 1024;
/** CONFIG_BGSAVE_RETRY_DELAY: seconds before a save point retries after a failed BGSAVE. */
const BGSAVE_RETRY_DELAY_S = 5;

export { BGSAVE_MISCONF } from './misconf.js';
import { BGSAVE_MISCONF } from './misconf.js';

/**
 * BGSAVE without fork (DESIGN.md): a point-in-time {@link Snapshot} of the keyspace serialized in
 * ~1 ms slices between event-loop turns, through a bounded write queue (the snapshot pauses when
 * the disk lags, the clients do not), into `temp-<pid>-<n>.rdb` beside dbfilename; then fdatasync,
 * rename over dbfilename, fsync of the directory. A crash at any moment leaves the previous file.
 * Also the save points of `save` (serverCron), BGSAVE SCHEDULE, and stop-writes-on-bgsave-error.
 */
export class BackgroundSaver {
  private snapshot: Snapshot | null = null;
  private seq = 0;
  scheduled = false;
  startedAt = 0;
  lastBgsaveTimeSec = -1;
  lastCowSize = 0;
  private lastTryAt = 0;
  private aborting = false;

  constructor(private readonly server: Server) {}

  get inProgress(): boolean {
    return this.running;
  }
  private running = false;

  /** Hooks: save points and scheduled saves in the cron, abort on shutdown, INFO fields. */
  install(): void {
    const s = this.server;
    s.cronHooks.push((now) => this.cron(now));
    s.startupHooks.unshift(() => {
      const dir = dirname(rdbFilePath(s));
      for (const f of removeStaleTempRdb(dir)) s.log.notice(`Removed the temporary file ${f} of an interrupted save`);
    });
    s.shutdownHooks.unshift(() => {
      this.abort('shutdown');
    });
    const refresh = (): void => this.refreshWriteError();
    s.config.onChange('stop-writes-on-bgsave-error', refresh);
    s.config.onChange('save', refresh);
    registerInfoProvider('persistence', (_srv, sec) => {
      sec.set('rdb_bgsave_in_progress', this.inProgress ? 1 : 0);
      sec.set('rdb_last_bgsave_time_sec', this.lastBgsaveTimeSec);
      sec.set('rdb_current_bgsave_time_sec', this.inProgress ? Math.round((Date.now() - this.startedAt) / 1000) : -1);
      sec.set('rdb_last_cow_size', this.lastCowSize);
      if (this.inProgress && this.snapshot) {
        sec.set('current_save_keys_processed', this.snapshot.keysWritten);
        sec.set('current_cow_size', this.snapshot.forcedBytesTotal);
      }
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
    const s = this.server;
    const st = rdbState(s);
    const path = rdbFilePath(s);
    const tmp = join(dirname(path), `temp-${process.pid}-${++this.seq}.rdb`);
    const dirtyAtStart = s.keyspace.dirty;
    this.startedAt = Date.now();
    this.lastTryAt = this.startedAt;
    this.aborting = false;
    const fmt = rdbFormatFor(s, false);
    let fh: FileHandle | null = null;
    let queue: Buffer[] = [];
    let queued = 0;
    let writing: Promise<void> | null = null;
    let writeError: Error | null = null;
    const pump = (): Promise<void> => {
      writing ??= (async () => {
        while (queue.length && writeError === null) {
          const batch = Buffer.concat(queue, queued);
          queue = [];
          queued = 0;
          try {
            await fh!.write(batch, 0, batch.length);
          } catch (e) {
            writeError = e as Error;
          }
        }
        writing = null;
      })();
      return writing;
    };
    const push = (chunk: Uint8Array | string): boolean => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      queue.push(b);
      queued += b.length;
      if (queued >= WRITE_CHUNK && fh !== null) void pump();
      return queued + (writing ? WRITE_CHUNK : 0) < QUEUE_HIGH_WATER;
    };
    try {
      // The point in time is now, in the turn BGSAVE was accepted: the snapshot starts before any
      // await, and its first bytes queue while the file is being opened.
      push(fmt.header());
      const snap = new Snapshot(s.keyspace, fmt.snapshot, (chunk) => {
        fmt.observe(chunk);
        return push(chunk);
      });
      this.snapshot = snap;
      st.bgsaveInProgress = true;
      snap.start();
      s.log.notice('Background saving started');
      fh = await open(tmp, 'w', 0o644);
      while (!snap.step(1)) {
        if (this.aborting) throw new Error('background save aborted');
        if (writeError) throw writeError;
        if (queued >= QUEUE_HIGH_WATER || writing) await pump();
        else await new Promise((r) => setImmediate(r));
      }
      this.lastCowSize = snap.forcedBytesTotal;
      push(fmt.trailer());
      await pump();
      if (writeError) throw writeError;
      await fh.datasync();
      await fh.close();
      fh = null;
      if (this.aborting) throw new Error('background save aborted');
      renameSync(tmp, path);
      fsyncDir(dirname(path));
      st.saves++;
      st.lastSave = Math.floor(Date.now() / 1000);
      st.lastBgsaveStatus = 'ok';
      s.keyspace.dirty -= Math.min(dirtyAtStart, s.keyspace.dirty);
      s.log.notice('DB saved on disk');
      s.log.notice('Background saving terminated with success');
      return true;
    } catch (e) {
      st.lastBgsaveStatus = 'err';
      const msg = (e as Error).message;
      s.log.warning(`Background saving error: ${msg} (temp file ${basename(tmp)}, target ${path})`);
      if (fh) await fh.close().catch(() => undefined);
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was created
      }
      return false;
    } finally {
      this.snapshot?.abort();
      this.snapshot = null;
      this.running = false;
      st.bgsaveInProgress = false;
      this.lastBgsaveTimeSec = Math.round((Date.now() - this.startedAt) / 1000);
      this.refreshWriteError();
    }
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
 * The persistence part of FLUSHALL (flushAllDataAndResetRDB in Redis 7.0): a running background
 * save is aborted, and with save points configured the now empty dataset is saved at once, so a
 * restart does not bring the flushed keys back; the dirty counter keeps the flushed keys.
 */
export function flushAllSaveRdb(server: Server): void {
  bgsaverOf(server).abort('FLUSHALL');
  if (server.config.get<SavePoints>('save').length > 0) {
    // rdbSave resets dirty; Redis restores it so that FLUSHALL still counts (and propagates)
    const saved = server.keyspace.dirty;
    rdbSave(server);
    server.keyspace.dirty = saved;
  }
}

const savers = new WeakMap<Server, BackgroundSaver>();

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
