/**
 * Worker thread of an RDB save (SAVE, BGSAVE, the AOF rewrite's RDB preamble): receives the
 * raw stream from the main thread's deferred-compression writer, runs {@link RdbLzfStage} (LZF of
 * the deferred strings, CRC-64) and writes the file, so that the save's heaviest byte work runs
 * on another core, as Redis's forked child does. The main thread keeps the keyspace walk.
 *
 * Messages in (in order): `{ open: path }`, then `{ chunk, triples }` any number of times, then
 * `{ end: true }` (trailer, fdatasync, close) or `{ abort: true }` (close).
 * Messages out: `{ opened: true }`, `{ ack: bytes }` per chunk written, `{ done: true }`,
 * `{ closed: true }`, or `{ error, code }` once, after which it ignores everything but abort.
 *
 * Started with {@link CrcWorkerData} instead, the same module computes the CRC-64 of a file range
 * while an RDB load parses it (as Redis checks it at the end of rdbLoad), posts it and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSync, fdatasyncSync, closeSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { crc64OfFile } from './crc64.js';
import { chunkWriter } from '../fsutil.js';
import { RdbLzfStage } from './lzf-stage.js';
import { DEFAULT_SAVE_OPTIONS, type RdbSaveOptions } from './encoder.js';
import { SYNC_ACKED, SYNC_STATE, SYNC_ERROR_LEN, SYNC_STATE_DONE, SYNC_STATE_FAILED, SYNC_SAB_BYTES, SYNC_MESSAGE_AT } from './save-worker-client.js';

/** What the main thread passes to the worker. */
export interface SaveWorkerData {
  compression: boolean;
  checksum: boolean;
  /** fdatasync every this many bytes (rdb-save-incremental-fsync), 0 for none */
  autosyncBytes: number;
  /**
   * Nice value for the worker's own thread (Linux; elsewhere ignored): a background save's
   * byte work then yields the CPU to the event loop and to the clients' processes when cores
   * are short, as a background job should, and still runs at full speed on an idle core.
   */
  niceness?: number;
  /**
   * A synchronous save's shared control block (save-worker-client.ts): progress, end and errors
   * are reported there (the main thread is blocked in Atomics.wait and reads no messages)
   */
  sync?: SharedArrayBuffer;
}

/**
 * What the main thread passes to a checksum worker: the CRC-64 of bytes [start, end) of the open
 * file descriptor `fd` (an RDB load: crcOnWorker in save-worker-client.ts). The descriptor is the
 * process's, shared with the main thread, which keeps it open until the worker has answered.
 */
export interface CrcWorkerData {
  crcFd: number;
  start: number;
  end: number;
}

/** A checksum worker's one message: the CRC's 8 little-endian bytes, or the read error. */
export type CrcWorkerOut = { crc: Uint8Array } | { error: string; code?: string };

/** A message to the worker. */
export type SaveWorkerIn =
  | { open: string }
  | { chunk: Uint8Array; triples: number[]; rawLength?: number }
  | { end: true }
  | { abort: true };

/** A message from the worker. */
export type SaveWorkerOut =
  | { opened: true }
  | { ack: number }
  | { done: true }
  | { closed: true }
  | { error: string; code?: string };

/** The checksum worker's job (see {@link CrcWorkerData}). */
function crcJob(port: NonNullable<typeof parentPort>, job: CrcWorkerData): void {
  try {
    port.postMessage({ crc: crc64OfFile(job.crcFd, job.start, job.end) } satisfies CrcWorkerOut);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    port.postMessage({ error: err.message, code: err.code } satisfies CrcWorkerOut);
  }
}

/**
 * Sets the nice value of the calling thread only: on Linux, setpriority(2) given a thread id
 * (here from /proc/thread-self) applies to that thread, not to the process. Raising the nice
 * value needs no privilege. Silently does nothing where that is not available.
 */
function lowerThreadPriority(niceness: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, niceness);
  } catch {
    // not Linux, or no /proc: the worker runs at the process's priority
  }
}

const port = parentPort;
if (port !== null && typeof (workerData as Partial<CrcWorkerData>).crcFd === 'number') {
  crcJob(port, workerData as CrcWorkerData);
} else if (port !== null) {
  const data = workerData as SaveWorkerData;
  if (data.niceness !== undefined) lowerThreadPriority(data.niceness);
  const opts: RdbSaveOptions = { ...DEFAULT_SAVE_OPTIONS, compression: data.compression, checksum: data.checksum };
  let fd = -1;
  let failed = false;
  let write: (chunk: Uint8Array) => void = () => undefined;
  const stage = new RdbLzfStage((chunk) => write(chunk), opts);
  const close = (): void => {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        // closing after a failure: the error already reported says what went wrong
      }
      fd = -1;
    }
  };
  const ctrl = data.sync ? new Int32Array(data.sync, 0, 4) : null;
  const post = (m: SaveWorkerOut): void => {
    if (ctrl === null) {
      port.postMessage(m);
      return;
    }
    // a synchronous save: the main thread waits on the ack slot, so every report bumps it
    if ('error' in m) {
      const msg = Buffer.from(m.error, 'utf8').subarray(0, SYNC_SAB_BYTES - SYNC_MESSAGE_AT);
      new Uint8Array(data.sync!, SYNC_MESSAGE_AT, msg.length).set(msg);
      Atomics.store(ctrl, SYNC_ERROR_LEN, msg.length);
      Atomics.store(ctrl, SYNC_STATE, SYNC_STATE_FAILED);
    } else if ('done' in m) {
      Atomics.store(ctrl, SYNC_STATE, SYNC_STATE_DONE);
    }
    Atomics.add(ctrl, SYNC_ACKED, 1);
    Atomics.notify(ctrl, SYNC_ACKED);
  };
  port.on('message', (m: SaveWorkerIn) => {
    if ('abort' in m) {
      close();
      post({ closed: true });
      return;
    }
    if (failed) return;
    try {
      if ('open' in m) {
        fd = openSync(m.open, 'w', 0o644);
        write = chunkWriter(fd, data.autosyncBytes, fdatasyncSync);
        post({ opened: true });
      } else if ('chunk' in m) {
        const c = Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength);
        // rawLength: compressed on the main thread already (compressChunk)
        if (m.rawLength !== undefined) stage.precompressed(c, m.rawLength);
        else stage.chunk(c, m.triples);
        post({ ack: c.length });
      } else {
        stage.end();
        fdatasyncSync(fd);
        closeSync(fd);
        fd = -1;
        post({ done: true });
      }
    } catch (e) {
      failed = true;
      const err = e as NodeJS.ErrnoException;
      close();
      post({ error: err.message, code: err.code });
    }
  });
}
