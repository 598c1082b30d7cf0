/**
 * BACKUP <dir>: an online, point-in-time copy of the LevelDB store (RedisLV's BACKUP, done so
 * that a backup is never called complete before it is durable).
 *
 * 1. In the command's turn: the changes captured so far (this turn's commands before BACKUP
 *    included) are queued, and at the queue's barrier — every record before committed, none after
 *    — a LevelDB snapshot is taken. So the backup is exactly the keyspace at the moment BACKUP was
 *    accepted, whatever the server does afterwards.
 * 2. In the background: the snapshot is iterated and written into a new LevelDB store in `<dir>`
 *    (which must not exist or be empty), the last batch synced, the store closed, every file and
 *    the directory fsynced.
 * 3. Only then `<dir>/BACKUP.log` is written (temp file, fsync, rename, directory fsync) with the
 *    start, end, duration, records and bytes, `SUCCESS` on its last line. A failure writes the log
 *    with `FAILED: <reason>` as its last line. A backup killed halfway has no BACKUP.log at all.
 *
 * Starting Amber with `leveldb-path <dir>` opens a backup as a normal store.
 */
import { existsSync, readdirSync, statSync, mkdirSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { resolve, join, relative, isAbsolute } from 'node:path';
import type { ClassicLevel } from 'classic-level';
import { loadClassicLevel, levelDbReason, type LevelDbEngine } from './engine.js';
import type { BatchTarget } from './queue.js';
import * as L from './layout.js';
import { writeFileDurably, fsyncDir } from '../fsutil.js';

/** State of the last and the running backup, for INFO leveldb. */
export interface BackupState {
  inProgress: boolean;
  /** 'none' before the first backup */
  lastStatus: 'ok' | 'err' | 'none';
  /** Unix ms */
  lastStart: number;
  lastEnd: number;
  lastDir: string;
  lastError: string;
  lastRecords: number;
  lastBytes: number;
  /** set by shutdown: the running backup stops and records FAILED */
  abort: boolean;
}

/** A fresh backup state. */
export function newBackupState(): BackupState {
  return { inProgress: false, lastStatus: 'none', lastStart: 0, lastEnd: 0, lastDir: '', lastError: '', lastRecords: 0, lastBytes: 0, abort: false };
}

/** Records per batch copied into the backup store. */
const COPY_BATCH = 2000;

/**
 * Starts a backup into `dirArg` (relative to `dir`). Returns null when started, else the error
 * reply (the store is not open, a backup runs, the directory is not empty or is the store).
 */
export function startBackup(engine: LevelDbEngine, st: BackupState, dirArg: string): string | null {
  if (engine.state !== 'on' || engine.store === null || engine.queue === null) {
    return 'ERR BACKUP needs the LevelDB engine: set leveldb yes';
  }
  if (st.inProgress) return 'ERR Background backup already in progress';
  if (dirArg === '') return 'ERR BACKUP needs a directory: BACKUP <dir>, relative to dir or absolute';
  const abs = resolve(engine.dataDir, dirArg);
  const rel = relative(engine.path, abs);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return 'ERR BACKUP directory can\'t be inside the LevelDB store';
  const relBack = relative(abs, engine.path);
  if (!relBack.startsWith('..') && !isAbsolute(relBack)) return 'ERR BACKUP directory can\'t contain the LevelDB store';
  if (existsSync(abs)) {
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) return `ERR BACKUP target ${abs} exists and is not a directory`;
    if (readdirSync(abs).length > 0) return `ERR BACKUP directory ${abs} is not empty`;
  }
  st.inProgress = true;
  st.abort = false;
  const start = Date.now();
  engine.server.log.notice(`Background backup of the LevelDB store into ${abs} started`);
  // everything captured before BACKUP goes into the queue first; the snapshot is taken once it is
  // committed and before anything later is
  engine.processTurn();
  const store = engine.store;
  engine.queue.atBarrier(() => {
    const snap = store.snapshot();
    void copy(engine, st, store, snap, abs, start);
  });
  return null;
}

async function copy(
  engine: LevelDbEngine, st: BackupState, store: ClassicLevel<string, string>,
  snap: ReturnType<ClassicLevel<string, string>['snapshot']>, abs: string, start: number,
): Promise<void> {
  const log = engine.server.log;
  let records = 0;
  let bytes = 0;
  let target: ClassicLevel<string, string> | null = null;
  try {
    mkdirSync(abs, { recursive: true });
    const ClassicLevelCtor = await loadClassicLevel();
    target = new ClassicLevelCtor<string, string>(abs, { keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing: true, errorIfExists: true });
    await target.open();
    const out = target as unknown as BatchTarget;
    const it = store.iterator({ snapshot: snap, highWaterMarkBytes: 4 << 20, fillCache: false });
    // The copy runs in key order, and the `I` record sorts before the data: it goes in last, so
    // a copy cut short (kill -9, no BACKUP.log) is marked incomplete and refused when opened,
    // instead of loading as a store with part of the data.
    let info: string | null = null;
    const put = async (pairs: Array<[string, string]>, sync: boolean): Promise<void> => {
      const b = out.batch();
      for (const [k, v] of pairs) b._put(k, v);
      try {
        await b._write({ sync });
      } finally {
        await b.close();
      }
    };
    await put([[L.P_INFO, L.BACKUP_INCOMPLETE]], false);
    try {
      for (;;) {
        if (st.abort) throw new Error('the server is shutting down');
        const batch = await it.nextv(COPY_BATCH);
        if (batch.length === 0) break;
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < batch.length; i++) {
          const [k, v] = batch[i]!;
          if (k === L.P_INFO) info = v;
          else pairs.push([k, v]);
          bytes += k.length + v.length;
        }
        records += batch.length;
        await put(pairs, false);
      }
    } finally {
      await it.close();
    }
    if (info === null) throw new Error(`the LevelDB store ${engine.path} has no 'I' record to copy`);
    // the completion record, synced: LevelDB syncs its log then; the tables were synced as written
    await put([[L.P_INFO, info]], true);
    await target.close();
    target = null;
    fsyncTree(abs);
    const end = Date.now();
    writeFileDurably(join(abs, 'BACKUP.log'), logText(engine, abs, start, end, records, bytes, 'SUCCESS'));
    st.lastStatus = 'ok';
    st.lastError = '';
    log.notice(`Background backup into ${abs} done: ${records} records, ${(bytes / 1048576).toFixed(1)} MB in ${((end - start) / 1000).toFixed(3)} seconds`);
  } catch (e) {
    const reason = levelDbReason(e);
    st.lastStatus = 'err';
    st.lastError = reason;
    log.warning(`Background backup into ${abs} failed: ${reason}`);
    if (target !== null) {
      try {
        await target.close();
      } catch {
        // the store is being abandoned
      }
    }
    try {
      mkdirSync(abs, { recursive: true });
      writeFileDurably(join(abs, 'BACKUP.log'), logText(engine, abs, start, Date.now(), records, bytes, `FAILED: ${reason.replace(/[\r\n]+/g, ' ')}`));
    } catch (e2) {
      log.warning(`Could not write ${join(abs, 'BACKUP.log')}: ${(e2 as Error).message}`);
    }
  } finally {
    try {
      await snap.close();
    } catch {
      // the source store may be closing
    }
    st.lastStart = start;
    st.lastEnd = Date.now();
    st.lastDir = abs;
    st.lastRecords = records;
    st.lastBytes = bytes;
    st.inProgress = false;
  }
}

/** The BACKUP.log text; `status` is its last line. */
function logText(engine: LevelDbEngine, abs: string, start: number, end: number, records: number, bytes: number, status: string): string {
  return [
    `source: ${engine.path}`,
    `target: ${abs}`,
    `start: ${new Date(start).toISOString()} (${start})`,
    `end: ${new Date(end).toISOString()} (${end})`,
    `duration_ms: ${end - start}`,
    `records: ${records}`,
    `bytes: ${bytes}`,
    status,
  ].join('\n') + '\n';
}

/** fsyncs every file of a directory (not recursive: a LevelDB store is flat), then the directory. */
function fsyncTree(dir: string): void {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (!statSync(p).isFile()) continue;
    const fd = openSync(p, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  fsyncDir(dir);
}
