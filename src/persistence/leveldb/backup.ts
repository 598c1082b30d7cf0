/**
 * BACKUP <dir>: an online, point-in-time copy of the LevelDB store (RedisLV's BACKUP, done so
 * that a backup is never called complete before it is durable).
 *
 * 1. In the command's turn: the changes captured so far (this turn's commands before BACKUP
 *    included) are queued, and at the queue's barrier — every record before committed, none after,
 *    no LevelDB write in flight — the store's files are captured ({@link captureStore}): the
 *    MANIFEST's complete records, the live tables it lists and the write-ahead logs LevelDB would
 *    replay, each held open with its size at that moment. Tables never change once written, and
 *    the logs and the MANIFEST only grow, so the first `size` bytes of each are the store as it was
 *    at the barrier, whatever the server writes or LevelDB compacts (and deletes) afterwards. This
 *    is the checkpoint of RocksDB (utilities/checkpoint), with copies instead of hard links so that
 *    the backup shares no blocks with the store.
 * 2. In the background: those bytes are copied into `<dir>` (which must not exist or be empty) on
 *    libuv's thread pool through one 1 MB buffer, each file fsynced; then CURRENT (temp file,
 *    fsync, rename, directory fsync), which makes the directory a store; then the copy is checked
 *    against its own CRC-32Cs as a start-up checks a store (verify.ts).
 * 3. Only then `<dir>/BACKUP.log` is written (temp file, fsync, rename, directory fsync) with the
 *    start, end, duration, files and bytes, `SUCCESS` on its last line, and the
 *    BACKUP_UNFINISHED file written before the copy is removed (verify.ts). A failure writes the log
 *    with `FAILED: <reason>` as its last line. A backup killed halfway has no BACKUP.log; opening it
 *    is refused (verify.ts unfinishedBackup), as is opening a failed one.
 *
 * Copying files rather than records costs no memory on the JS heap and next to no CPU on the event
 * loop: a copy through LevelDB (iterator over a snapshot into a new store) took 8.7 s for 1M keys
 * under writes and grew the server's PSS 1.5x with the strings it made.
 *
 * Starting Amber with `leveldb-path <dir>` opens a backup as a normal store.
 */
import { existsSync, readdirSync, statSync, mkdirSync, openSync, closeSync, readFileSync, fstatSync, unlinkSync, read, write, fsync } from 'node:fs';
import { resolve, join, relative, isAbsolute } from 'node:path';
import { promisify } from 'node:util';
import { levelDbReason, type LevelDbEngine } from './engine.js';
import { replayManifest, verifyStore, manifestOf, liveFiles, BACKUP_UNFINISHED } from './verify.js';
import { writeFileDurably, fsyncDir, readPrefixSync } from '../fsutil.js';

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
  /** files and bytes copied by the last backup */
  lastFiles: number;
  lastBytes: number;
  /** set by shutdown or CONFIG SET leveldb no: the running backup stops and records FAILED with it */
  abort: string | null;
}

/** A fresh backup state. */
export function newBackupState(): BackupState {
  return { inProgress: false, lastStatus: 'none', lastStart: 0, lastEnd: 0, lastDir: '', lastError: '', lastFiles: 0, lastBytes: 0, abort: null };
}

/** Bytes of the buffer the copy reads into and writes from. */
const COPY_CHUNK = 1 << 20;

/**
 * Captures tried before the backup gives up: a capture is retried when a compaction deleted a
 * file between the read of the MANIFEST and its opening (the newer MANIFEST then lists its
 * replacement), which takes one more LevelDB compaction to recur.
 */
const CAPTURE_TRIES = 50;

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
  st.abort = null;
  const start = Date.now();
  engine.server.log.notice(`Background backup of the LevelDB store into ${abs} started`);
  // everything captured before BACKUP goes into the queue first; the files are captured once it
  // is committed and before anything later is written (the barrier runs this synchronously)
  engine.processTurn();
  engine.queue.atBarrier(() => {
    let files: StoreFiles | Error;
    try {
      files = captureStore(engine.path);
    } catch (e) {
      files = e as Error;
    }
    void copy(engine, st, files, abs, start);
  });
  return null;
}

/** A file of the store held open at the backup point: its first `size` bytes belong to the backup. */
interface HeldFile {
  name: string;
  /** the open descriptor, or -1 once closed (copied, or the backup ended) */
  fd: number;
  size: number;
}

/** The store's files at the backup point: tables, logs and the MANIFEST, then CURRENT's text. */
export interface StoreFiles {
  files: HeldFile[];
  current: string;
  /** captures thrown away because a compaction deleted a file under them */
  retries: number;
}

/** A compaction changed the store under a capture: try again. */
class CaptureRace extends Error {}

/**
 * Captures the files that make up the store at `path` now (see the module comment): CURRENT, the
 * MANIFEST it names up to its last complete record, the tables that prefix lists and the logs
 * LevelDB would replay from it, each opened. Must run while no LevelDB write is in flight.
 * @throws LevelDbCorruption when the MANIFEST is damaged; Error when a file cannot be read, or
 *   when compactions kept deleting listed files through {@link CAPTURE_TRIES} tries
 */
export function captureStore(path: string): StoreFiles {
  for (let attempt = 0; attempt < CAPTURE_TRIES; attempt++) {
    const held: HeldFile[] = [];
    const hold = (name: string, size: number | null): HeldFile => {
      let fd: number;
      try {
        fd = openSync(join(path, name), 'r');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new CaptureRace();
        if (code === 'EMFILE' || code === 'ENFILE') {
          throw new Error(`the backup holds every file of the store open until it is copied, and ${held.length} files reached the limit on open files (${code}): raise it (ulimit -n, LimitNOFILE=) and run BACKUP again`);
        }
        throw e;
      }
      const f = { name, fd, size: size ?? fstatSync(fd).size };
      held.push(f);
      return f;
    };
    try {
      const current = readFileSync(join(path, 'CURRENT'), 'latin1');
      const manifestName = manifestOf(current);
      if (manifestName === null) throw new Error(`${join(path, 'CURRENT')} does not name a MANIFEST file (it holds ${JSON.stringify(current.slice(0, 40))})`);
      const manifest = hold(manifestName, null);
      const bytes = Buffer.allocUnsafe(manifest.size);
      const version = replayManifest(path, manifest.name, bytes.subarray(0, readPrefixSync(manifest.fd, bytes, bytes.length)));
      manifest.size = version.end;
      const live = liveFiles(version, readdirSync(path));
      for (const [, file, size] of live.tables) {
        // a table LevelDB deleted after a newer MANIFEST record stopped listing it: a race
        if (file === null) throw new CaptureRace();
        hold(file, size);
      }
      for (const name of live.logs) hold(name, null);
      // the log the MANIFEST points at exists until a newer record moves past it
      if (!live.logs.some((name) => Number(name.slice(0, -4)) === version.logNumber)) throw new CaptureRace();
      if (readFileSync(join(path, 'CURRENT'), 'latin1') !== current) throw new CaptureRace();
      return { files: held, current, retries: attempt };
    } catch (e) {
      closeHeld(held);
      if (!(e instanceof CaptureRace)) throw e;
    }
  }
  throw new Error(`the LevelDB store ${path} kept changing under the backup (compactions deleted the files it listed ${CAPTURE_TRIES} times in a row); run BACKUP again`);
}

/** Closes the descriptors of a capture (a finished or abandoned backup). */
export function closeHeld(files: readonly HeldFile[]): void {
  for (const f of files) {
    if (f.fd < 0) continue;
    try {
      closeSync(f.fd);
    } catch {
      // closing a read-only descriptor does not fail in a way that matters here
    }
    f.fd = -1;
  }
}

const readAsync = promisify(read);
const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);

/**
 * Copies the first `from.size` bytes of `from` into the new file `to` on the thread pool, then
 * fsyncs it. Returns the bytes copied.
 * @throws Error when the source ends early (the store lost bytes under the backup) or on an I/O error
 */
async function copyHeld(from: HeldFile, to: string, buf: Buffer, st: BackupState): Promise<number> {
  const out = openSync(to, 'wx', 0o644);
  try {
    let pos = 0;
    while (pos < from.size) {
      if (st.abort !== null) throw new Error(st.abort);
      const want = Math.min(buf.length, from.size - pos);
      const { bytesRead } = await readAsync(from.fd, buf, 0, want, pos);
      if (bytesRead === 0) throw new Error(`${from.name} of the store ended at ${pos} bytes where the backup point had ${from.size}`);
      let done = 0;
      while (done < bytesRead) done += (await writeAsync(out, buf, done, bytesRead - done)).bytesWritten;
      pos += bytesRead;
    }
    await fsyncAsync(out);
    return pos;
  } finally {
    closeSync(out);
  }
}

async function copy(engine: LevelDbEngine, st: BackupState, captured: StoreFiles | Error, abs: string, start: number): Promise<void> {
  const log = engine.server.log;
  let files = 0;
  let bytes = 0;
  /** when the backup ended: BACKUP.log and INFO show the same duration */
  let end = 0;
  try {
    if (captured instanceof Error) throw captured;
    mkdirSync(abs, { recursive: true });
    writeFileDurably(join(abs, BACKUP_UNFINISHED), `A BACKUP of ${engine.path} began copying into this directory at ${new Date(start).toISOString()}. ` +
      'This file is removed once BACKUP.log ends with SUCCESS; while it is here without that, the copy is incomplete and must not be opened.\n');
    const buf = Buffer.allocUnsafe(COPY_CHUNK);
    for (const f of captured.files) {
      bytes += await copyHeld(f, join(abs, f.name), buf, st);
      files++;
      // a table LevelDB compacted away since the capture frees its disk space once copied
      closeHeld([f]);
    }
    // CURRENT last: before it the directory is no store (refused when opened), after it a whole one
    writeFileDurably(join(abs, 'CURRENT'), captured.current, join(abs, 'CURRENT.amber-tmp'));
    files++;
    // the copy checked as a start-up checks a store: its tables' and logs' CRCs, the MANIFEST's list
    const check = await verifyStore(abs);
    if (check.tornTails.length > 0) {
      const t = check.tornTails[0]!;
      throw new Error(`the copy of ${t.file} ends in a torn record at offset ${t.offset}`);
    }
    fsyncDir(abs);
    end = Date.now();
    writeFileDurably(join(abs, 'BACKUP.log'), logText(engine, abs, start, end, files, bytes, 'SUCCESS'));
    unlinkSync(join(abs, BACKUP_UNFINISHED));
    fsyncDir(abs);
    st.lastStatus = 'ok';
    st.lastError = '';
    const retried = captured.retries > 0 ? ` (the capture was taken ${captured.retries + 1} times: compactions deleted files under the first)` : '';
    log.notice(`Background backup into ${abs} done: ${files} files, ${(bytes / 1048576).toFixed(1)} MB in ${((end - start) / 1000).toFixed(3)} seconds${retried}`);
  } catch (e) {
    const reason = levelDbReason(e);
    st.lastStatus = 'err';
    st.lastError = reason;
    log.warning(`Background backup into ${abs} failed: ${reason}`);
    try {
      mkdirSync(abs, { recursive: true });
      end = Date.now();
      writeFileDurably(join(abs, 'BACKUP.log'), logText(engine, abs, start, end, files, bytes, `FAILED: ${reason.replace(/[\r\n]+/g, ' ')}`));
    } catch (e2) {
      log.warning(`Could not write ${join(abs, 'BACKUP.log')}: ${(e2 as Error).message}`);
    }
  } finally {
    if (!(captured instanceof Error)) closeHeld(captured.files);
    st.lastStart = start;
    st.lastEnd = end || Date.now();
    st.lastDir = abs;
    st.lastFiles = files;
    st.lastBytes = bytes;
    st.inProgress = false;
  }
}

/** The BACKUP.log text; `status` is its last line. */
function logText(engine: LevelDbEngine, abs: string, start: number, end: number, files: number, bytes: number, status: string): string {
  return [
    `source: ${engine.path}`,
    `target: ${abs}`,
    `start: ${new Date(start).toISOString()} (${start})`,
    `end: ${new Date(end).toISOString()} (${end})`,
    `duration_ms: ${end - start}`,
    `files: ${files}`,
    `bytes: ${bytes}`,
    status,
  ].join('\n') + '\n';
}
