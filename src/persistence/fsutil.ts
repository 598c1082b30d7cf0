import { openSync, fsyncSync, closeSync, writeSync, readSync, renameSync, close, unlink, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Reads the first `length` bytes of the open file `fd` into `buf` (which has room for them), in as
 * many read(2) calls as it takes; fewer when the file ends first.
 * @returns the bytes read
 * @throws the read error (EIO...)
 */
export function readPrefixSync(fd: number, buf: Buffer, length: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * fsyncs a directory so that a rename or a new file in it survives a power loss (fsyncFileDir in
 * Redis's util.c). Errors other than the platform not supporting directory fsync are thrown.
 */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    throw new Error(`cannot open directory ${dir} to fsync it: ${(e as Error).message}`);
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    closeSync(fd);
  }
}

/** REDIS_AUTOSYNC_BYTES: bytes between two syncs of rdb-save-incremental-fsync and aof-rewrite-incremental-fsync. */
export const AUTOSYNC_BYTES = 4 * 1024 * 1024;

/**
 * A sink writing whole chunks to `fd` (short writes retried) that calls `sync(fd)` every
 * `autosyncBytes` bytes (rdb-save-incremental-fsync: REDIS_AUTOSYNC_BYTES), 0 for never, so the
 * final sync does not have a whole file to flush at once.
 * @throws the write or sync error (ENOSPC, EIO...)
 */
export function chunkWriter(fd: number, autosyncBytes: number, sync: (fd: number) => void): (chunk: Uint8Array) => void {
  let unsynced = 0;
  return (chunk) => {
    let off = 0;
    while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    unsynced += chunk.length;
    if (autosyncBytes > 0 && unsynced >= autosyncBytes) {
      unsynced = 0;
      sync(fd);
    }
  };
}

/**
 * Writes `data` to `path` durably: a temp file beside it, fsync, rename, fsync of the directory.
 * A crash at any instant leaves the old file or the new one, never a torn one; a failed write,
 * sync or rename (a full disk) removes the temp file before throwing.
 * @throws the failing call's error (ENOSPC, EIO...); `path` is then unchanged
 */
export function writeFileDurably(path: string, data: Uint8Array | string, tmpPath = path + '.tmp'): void {
  const fd = openSync(tmpPath, 'w', 0o644);
  try {
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmpPath, path);
  } catch (e) {
    try {
      unlinkSync(tmpPath);
    } catch {
      // already gone, or the disk refuses even that: the error below is the one to report
    }
    throw e;
  }
  fsyncDir(dirname(path));
}

/**
 * Renames `from` over `to` without freeing the replaced file's blocks on the calling thread. A
 * rename over a file drops its last link, and the kernel frees its blocks inside rename(): on
 * this machine's ext4 (mounted with `discard`) that is ~0.25 ms per MB, a 250 ms stall of the
 * event loop for a 1 GB dump.rdb. The old file is opened first, so the rename only unlinks it;
 * the last close, which frees it, runs on libuv's thread pool. Redis does the same when an AOF
 * rewrite replaces a file (backgroundRewriteDoneHandler opens the old file and closes it in a
 * bio thread); a BGSAVE's rename happens in its forked child.
 * @returns a promise that settles once the old file is closed (never rejects: the data is safe
 *   by then, a failed close only leaves its space to be freed at exit)
 * @throws the rename's error (the old file is then kept open by nobody)
 */
export function renameReplacing(from: string, to: string): Promise<void> {
  let oldFd = -1;
  try {
    oldFd = openSync(to, 'r');
  } catch {
    // nothing to replace, or unreadable: the rename frees it inline as a plain rename would
  }
  try {
    renameSync(from, to);
  } catch (e) {
    if (oldFd >= 0) closeSync(oldFd);
    throw e;
  }
  if (oldFd < 0) return Promise.resolve();
  return new Promise((resolve) => replacedFileClose.close(oldFd, resolve));
}

/** How {@link renameReplacing} closes a replaced file: fs.close on the thread pool (a test hook). */
export const replacedFileClose: { close: (fd: number, done: () => void) => void } = {
  close: (fd, done) => close(fd, () => done()),
};

/**
 * Deletes `path` on libuv's thread pool (bg_unlink in Redis's aof.c): freeing a big file's
 * blocks takes ~0.25 ms per MB here, which must not stall the event loop.
 * @returns a promise that settles once it is deleted; it never rejects: a file already gone is
 *   what was wanted, and any other error is passed to `onError` (to be logged)
 */
export function unlinkInBackground(path: string, onError?: (e: NodeJS.ErrnoException) => void): Promise<void> {
  return new Promise((resolve) => unlink(path, (e) => {
    if (e && e.code !== 'ENOENT') onError?.(e);
    resolve();
  }));
}
