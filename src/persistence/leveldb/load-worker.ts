/**
 * Worker thread of a LevelDB load at start-up (LevelDbEngine.load): opens the store, reads key
 * ranges with classic-level and streams their records to the main thread packed in chunks, so
 * that classic-level's conversion of each record into JS strings (about two thirds of the main
 * thread's time in a load of 1M small keys) runs on another core while the main thread builds
 * the keyspace. LevelDB lets one handle per process open a store, so the main thread closes its
 * handle for the worker's reads and reopens it after.
 *
 * A chunk is an ArrayBuffer of records, each `[u32le key length][u32le value length][key][value]`,
 * keys and values as latin1 bytes (the engine's byte strings, layout.ts), in store order within a
 * range; a chunk holds records of one range only.
 *
 * The worker is started ahead of its job ({@link LOAD_WORKER_START}: while the main thread checks
 * the store, so that the thread, this module and classic-level's addon are ready when the load
 * needs them) and receives the job as its first message, `{ job }`.
 *
 * Messages out: `{ opened: true }`, then `{ range, chunk, records }` any number of times, then
 * `{ done: true }` once every range is read and the store closed; or `{ error, code }` once (after
 * the store is closed when it was opened). Messages in: `{ job }` first, then `{ ack: n }` (n
 * chunks consumed: the worker keeps at most {@link LoadWorkerData.maxInFlight} unconsumed) and
 * `{ stop: true }`.
 */
import { parentPort, workerData } from 'node:worker_threads';

/** What the main thread passes to the worker. */
export interface LoadWorkerData {
  /** the store's directory */
  path: string;
  /** key ranges [gte, lt) to read, as byte strings; read at the same time */
  ranges: Array<[string, string]>;
  /** records per iterator step */
  batch: number;
  /** a chunk is posted once it holds this many bytes */
  chunkBytes: number;
  /** chunks posted and not yet acknowledged before the worker waits */
  maxInFlight: number;
}

/** A message from the worker. */
export type LoadWorkerOut =
  | { opened: true }
  | { range: number; chunk: ArrayBuffer; records: number }
  | { done: true }
  | { error: string; code?: string };

/** A message to the worker. */
export type LoadWorkerIn = { job: LoadWorkerData } | { ack: number } | { stop: true };

/** The workerData a load worker is started with (its job comes as a message). */
export const LOAD_WORKER_START = { leveldbLoadWorker: true } as const;

/** Bytes of a record's header: its key and value lengths. */
export const RECORD_HEADER = 8;

const port = parentPort;
// the engine imports this module for its protocol too: only a thread started as a load worker runs it
if (port !== null && (workerData as Partial<typeof LOAD_WORKER_START> | null)?.leveldbLoadWorker === true) {
  // loading classic-level (its addon) starts now, before the job comes
  const classicLevel = import('classic-level');
  // the rejection is reported when the job awaits it
  classicLevel.catch(() => undefined);
  let job: LoadWorkerData | null = null;
  let inFlight = 0;
  let stopped = false;
  /** the ranges waiting for the main thread to consume chunks */
  let waiting: Array<() => void> = [];
  port.on('message', (m: LoadWorkerIn) => {
    if ('job' in m) {
      if (job !== null) return;
      job = m.job;
      run(job).catch((e: unknown) => {
        const err = e as NodeJS.ErrnoException;
        port.postMessage({ error: err.message, code: err.code } satisfies LoadWorkerOut);
      });
      return;
    }
    if ('ack' in m) inFlight -= m.ack;
    else stopped = true;
    const w = waiting;
    waiting = [];
    for (const wake of w) wake();
  });
  const room = async (max: number): Promise<void> => {
    while (inFlight >= max && !stopped) await new Promise<void>((r) => waiting.push(r));
  };
  const run = async (job: LoadWorkerData): Promise<void> => {
    const { ClassicLevel } = await classicLevel;
    const store = new ClassicLevel<string, string>(job.path, { keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing: false });
    await store.open();
    port.postMessage({ opened: true } satisfies LoadWorkerOut);
    try {
      await Promise.all(job.ranges.map(async ([gte, lt], range) => {
        const it = store.iterator({ gte, lt, highWaterMarkBytes: 4 << 20 });
        let buf = Buffer.allocUnsafe(job.chunkBytes);
        let pos = 0;
        let records = 0;
        const post = (): void => {
          const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + pos);
          port.postMessage({ range, chunk: ab, records } satisfies LoadWorkerOut, [ab]);
          inFlight++;
          buf = Buffer.allocUnsafe(job.chunkBytes);
          pos = 0;
          records = 0;
        };
        try {
          for (;;) {
            await room(job.maxInFlight);
            if (stopped) return;
            const b = await it.nextv(job.batch);
            if (b.length === 0) break;
            for (let i = 0; i < b.length; i++) {
              const k = b[i]![0];
              const v = b[i]![1];
              const need = RECORD_HEADER + k.length + v.length;
              if (pos + need > buf.length) {
                if (pos > 0) post();
                if (need > buf.length) buf = Buffer.allocUnsafe(need);
              }
              buf.writeUInt32LE(k.length, pos);
              buf.writeUInt32LE(v.length, pos + 4);
              pos += RECORD_HEADER;
              pos += buf.latin1Write(k, pos);
              pos += buf.latin1Write(v, pos);
              records++;
            }
            if (pos >= job.chunkBytes >> 1) post();
          }
          if (pos > 0) post();
        } finally {
          await it.close();
        }
      }));
    } finally {
      await store.close();
    }
    port.postMessage({ done: true } satisfies LoadWorkerOut);
  };
}
