import { openSync, fsyncSync, closeSync, writeSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

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
 * A crash at any instant leaves the old file or the new one, never a torn one.
 */
export function writeFileDurably(path: string, data: Uint8Array | string, tmpPath = path + '.tmp'): void {
  const fd = openSync(tmpPath, 'w', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmpPath, path);
  fsyncDir(dirname(path));
}
