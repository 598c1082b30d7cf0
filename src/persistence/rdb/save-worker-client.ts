import { Worker } from 'node:worker_threads';
import { workerModuleUrl } from '../worker-module.js';
import { DEFAULT_SAVE_OPTIONS, type RdbFileEncoder } from './encoder.js';
import { compressChunk } from './lzf-stage.js';
import type { SaveWorkerData, SaveWorkerIn, CrcWorkerData, CrcWorkerOut } from './save-worker.js';

/**
 * Young-generation size of a save worker, MB: it allocates little that lives, and every page its
 * semi-spaces touch is resident memory.
 */
const SAVE_WORKER_YOUNG_MB = 2;

/**
 * Starts a save worker (or, with CrcWorkerData, a checksum worker: the same module), or returns
 * null when none can run here (no worker module, or the thread could not be created: the caller
 * then keeps the work on its own thread).
 */
export function startSaveWorker(data: SaveWorkerData | CrcWorkerData): Worker | null {
  const url = workerModuleUrl('save-worker', import.meta.url);
  if (url === null) return null;
  try {
    return new Worker(url, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: SAVE_WORKER_YOUNG_MB } });
  } catch {
    return null;
  }
}

/** A CRC-64 being computed on a worker ({@link crcOnWorker}). */
export interface WorkerCrc {
  /** the CRC's 8 little-endian bytes; rejects with the worker's read error */
  result: Promise<Uint8Array>;
  /** stops the worker (the load failed first: its answer is no longer wanted) */
  cancel(): void;
}

/**
 * Computes the CRC-64 of bytes [start, end) of the open file `fd` on a worker thread, while the
 * caller parses the same bytes (an RDB load at start-up: rdbLoad checks the trailer at the end,
 * so the check moves off the main thread without changing what is reported). The caller keeps
 * `fd` open until `result` settles or it has called `cancel`.
 * @returns null when no worker can run here (the caller computes the CRC itself)
 */
export function crcOnWorker(fd: number, start: number, end: number): WorkerCrc | null {
  const worker = startSaveWorker({ crcFd: fd, start, end });
  if (worker === null) return null;
  const result = new Promise<Uint8Array>((resolve, reject) => {
    worker.once('message', (m: CrcWorkerOut) => {
      if ('crc' in m) resolve(m.crc);
      else reject(Object.assign(new Error(m.error), { code: m.code }));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the checksum worker exited (code ${code}) before answering`)));
  });
  // a cancelled job's rejection is nobody's concern
  result.catch(() => undefined);
  return { result, cancel: () => void worker.terminate() };
}

/**
 * Chunks (64 KB each) a synchronous save lets the worker fall behind by before this thread
 * compresses chunks itself; at twice as many it waits.
 */
const SYNC_MAX_BEHIND = 16;

/** What a synchronous save reports of its split (for tests and the log). */
export interface SyncSaveStats {
  /** chunks whose LZF work the main thread took over from a worker that was behind */
  compressedHere: number;
}
/** A synchronous save gives up when the worker shows no progress for this long, ms. */
const SYNC_STALL_MS = 120_000;
/** ... or when it has not even opened its file after this long (it failed to start), ms. */
const SYNC_START_MS = 10_000;

/** Slots of the shared control array of a synchronous save (see save-worker.ts). */
export const SYNC_ACKED = 0;
export const SYNC_STATE = 1;
export const SYNC_ERROR_LEN = 2;
export const SYNC_STATE_RUNNING = 0;
export const SYNC_STATE_DONE = 1;
export const SYNC_STATE_FAILED = 2;
/** Where the error message (UTF-8, truncated) starts in the shared buffer: after 4 control slots. */
export const SYNC_MESSAGE_AT = 16;
/** Bytes of the shared buffer. */
export const SYNC_SAB_BYTES = SYNC_MESSAGE_AT + 1024;

/**
 * A synchronous save (SAVE, the save at shutdown, DEBUG RELOAD) with its LZF and CRC on a worker:
 * `fill(enc)` walks the keyspace into `enc` on this thread while the worker compresses, checksums
 * and writes — the server blocks as Redis's SAVE does, while the two halves run on two cores.
 * When the worker falls `stealAfter` chunks behind, this thread compresses the next chunks itself
 * (compressChunk: same bytes) instead of waiting, so that neither core idles while the other has
 * LZF work left (-Infinity: every chunk, for tests); it blocks (Atomics.wait) only when the worker
 * is twice SYNC_MAX_BEHIND behind, and at the end until the file at `path` is written,
 * fdatasync'ed and closed. `stats` counts the chunks compressed here.
 * @param makeEncoder builds the main thread's encoder around the given chunk sink (deferred
 *   compression and checksum off are set up here)
 * @returns false when no worker could be started (nothing was done: save on this thread)
 * @throws Error with the worker's reason (the file's open or write error) or when it stalls
 */
export function saveThroughWorkerSync(
  path: string,
  data: Omit<SaveWorkerData, 'sync'>,
  makeEncoder: (sink: (chunk: Buffer) => void) => RdbFileEncoder,
  fill: (enc: RdbFileEncoder) => void,
  stats: SyncSaveStats = { compressedHere: 0 },
  stealAfter = SYNC_MAX_BEHIND,
): boolean {
  const sab = new SharedArrayBuffer(SYNC_SAB_BYTES);
  const ctrl = new Int32Array(sab, 0, 4);
  const worker = startSaveWorker({ ...data, sync: sab });
  if (worker === null) return false;
  // this thread blocks while the worker runs, so its events arrive after the save is decided:
  // failures are read from the shared state (or the start and stall timeouts) instead
  worker.on('error', () => undefined);
  try {
    let posted = 0;
    const check = (): void => {
      if (Atomics.load(ctrl, SYNC_STATE) === SYNC_STATE_FAILED) {
        const n = Atomics.load(ctrl, SYNC_ERROR_LEN);
        throw new Error(Buffer.from(new Uint8Array(sab, SYNC_MESSAGE_AT, n)).toString('utf8'));
      }
    };
    /** Blocks until `ok()` holds (or the worker failed or stalled). */
    const waitUntil = (ok: () => boolean): void => {
      let last = Atomics.load(ctrl, SYNC_ACKED);
      let since = Date.now();
      while (!ok()) {
        check();
        Atomics.wait(ctrl, SYNC_ACKED, last, 100);
        const now = Atomics.load(ctrl, SYNC_ACKED);
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (now === 0 && Date.now() - since > SYNC_START_MS) {
          throw new Error(`the save worker did not start within ${SYNC_START_MS / 1000} s`);
        } else if (Date.now() - since > SYNC_STALL_MS) {
          throw new Error(`the save worker made no progress for ${SYNC_STALL_MS / 1000} s`);
        }
      }
      check();
    };
    worker.postMessage({ open: path } satisfies SaveWorkerIn);
    /** offset in the raw stream of the next chunk */
    let rawBase = 0;
    // compressChunk writes no checksum whatever the options: the worker's stage does
    const opts = { ...DEFAULT_SAVE_OPTIONS, compression: data.compression };
    const enc = makeEncoder((chunk) => {
      const triples = enc.w.takeDeferred();
      if (triples.length > 0 && posted - Atomics.load(ctrl, SYNC_ACKED) > stealAfter) {
        // the worker is behind: rather than wait for it, this thread takes the chunk's LZF work
        // (the worker still checksums and writes it, in order)
        worker.postMessage({ chunk: compressChunk(chunk, triples, rawBase, opts), triples: [], rawLength: chunk.length } satisfies SaveWorkerIn);
        stats.compressedHere++;
      } else {
        worker.postMessage({ chunk, triples } satisfies SaveWorkerIn);
      }
      rawBase += chunk.length;
      posted++;
      // chunks with nothing to compress, or a worker slow at writing: wait as before
      if (posted - Atomics.load(ctrl, SYNC_ACKED) > 2 * SYNC_MAX_BEHIND) waitUntil(() => posted - Atomics.load(ctrl, SYNC_ACKED) <= SYNC_MAX_BEHIND);
    });
    enc.w.deferCompression();
    enc.w.lend();
    fill(enc);
    enc.end(false);
    worker.postMessage({ end: true } satisfies SaveWorkerIn);
    waitUntil(() => Atomics.load(ctrl, SYNC_STATE) !== SYNC_STATE_RUNNING);
    return true;
  } finally {
    void worker.terminate();
  }
}
