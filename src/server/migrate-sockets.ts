import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Logger } from './log.js';

/**
 * MIGRATE's connections to target instances (the migrate socket cache of Redis 7.0's
 * src/cluster.c: migrateGetSocket, migrateCloseSocket, migrateCloseTimedoutSockets), and the
 * blocking exchange migrateCommand has with a target.
 *
 * Redis blocks its whole server while MIGRATE talks to the target (connBlockingConnect,
 * connSyncWrite, connSyncReadLine): no other command runs between the lookup of the keys and
 * their deletion, so a key changed meanwhile can never be deleted by a MIGRATE that sent its old
 * value. Amber keeps that guarantee the same way. The sockets live on a worker thread with its
 * own event loop; the main thread posts a transfer and waits for its answer with Atomics.wait,
 * its event loop (and every other client) standing still, as Redis's does. That also makes
 * MIGRATE work inside MULTI/EXEC, where a command cannot wait for an event.
 *
 * The worker runs {@link migrateWorker} from its source text (an `eval` worker): it has no module
 * file of its own, so it works the same from the TypeScript sources (tests), the compiled files
 * and the bundle.
 */

/** Cached sockets at most (MIGRATE_SOCKET_CACHE_ITEMS). */
export const MIGRATE_SOCKET_CACHE_ITEMS = 64;
/** A cached socket unused for more than this many seconds is closed (MIGRATE_SOCKET_CACHE_TTL). */
export const MIGRATE_SOCKET_CACHE_TTL = 10;
/** How long the first MIGRATE waits for the worker thread to start, ms. */
const WORKER_START_MS = 10_000;

/** One MIGRATE's exchange with its target. */
export interface MigrateTransfer {
  /** the host and port arguments as given (latin1); `host:port` names the cached socket */
  host: string;
  port: string;
  /** ms allowed for the connect, for each 64 KB written and for each reply line read */
  timeoutMs: number;
  /** the target database, in decimal */
  dbid: string;
  /** AUTH [username] password in RESP, or null */
  auth: Uint8Array | null;
  /** SELECT dbid in RESP, sent when the socket's last database differs */
  select: Uint8Array;
  /** the RESTORE commands in RESP */
  body: Uint8Array;
  /** RESTORE commands in body */
  restores: number;
}

/** What the target answered, as migrateCommand reads it. */
export interface MigrateOutcome {
  /**
   * null: every reply line expected was read (some may be errors). 'connect': the target could
   * not be reached (name not resolved, connect timed out). 'write': the command could not be
   * written. 'read': a reply line could not be read (closed, timed out); `replies` holds the
   * lines read before. Socket errors are retried once on a new connection, as Redis does, unless
   * the target already answered a RESTORE or the error was a timeout.
   */
  failure: 'connect' | 'write' | 'read' | null;
  /** the AUTH reply line, without its CRLF ('' when not sent) */
  authLine: string;
  /** whether SELECT was sent, and its reply line */
  selected: boolean;
  selectLine: string;
  /** the RESTORE reply lines read, in order */
  replies: string[];
}

/** A message to the worker. */
interface Job extends MigrateTransfer {
  id: number;
}

/** The worker's answer to job `id`. */
interface Answer {
  id: number;
  outcome: MigrateOutcome;
}

/** workerData of the worker. */
interface WorkerStart {
  /** [0]: 2 once the worker runs, 0 while a job runs, 1 when its answer is posted; [1]: cached sockets */
  state: SharedArrayBuffer;
  answers: MessagePort;
  maxItems: number;
  ttlSeconds: number;
}

/**
 * The worker's program. It runs from its source text in a thread of its own, so it may use its
 * parameters and globals only (no imports, no module-level names).
 */
function migrateWorker(net: typeof import('node:net'), wt: typeof import('node:worker_threads')): void {
  const start = wt.workerData as WorkerStart;
  const state = new Int32Array(start.state);
  const answers = start.answers;

  interface Cached {
    sock: import('node:net').Socket;
    /** the database the last successful MIGRATE selected, '' when unknown */
    lastDb: string;
    lastUse: number;
    /** bytes received and not yet read as lines (latin1) */
    inbox: string;
    /** the socket closed or failed: reads and writes fail */
    dead: boolean;
    /** wakes a reader waiting for a line or for the socket's end */
    wake: (() => void) | null;
  }
  /** a failed step: the kind of failure, and whether it was a timeout (no retry then) */
  class StepError extends Error {
    constructor(readonly kind: 'connect' | 'write' | 'read', readonly timedOut: boolean) {
      super(kind);
    }
  }
  const cache = new Map<string, Cached>();
  const unixNow = (): number => Math.floor(Date.now() / 1000);
  const publish = (): void => {
    Atomics.store(state, 1, cache.size);
  };
  const drop = (name: string): void => {
    const cs = cache.get(name);
    if (cs === undefined) return;
    cs.sock.destroy();
    cache.delete(name);
    publish();
  };
  /** C's atoi() as Redis reads the port: leading blanks, a sign, digits, the rest ignored. */
  const atoi = (s: string): number => {
    const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
    if (m === null) return 0;
    // strtol saturates on overflow, then the int conversion keeps the low 32 bits
    let v = BigInt(m[1]!);
    if (v > 0x7fffffffffffffffn) v = 0x7fffffffffffffffn;
    if (v < -0x8000000000000000n) v = -0x8000000000000000n;
    return Number(BigInt.asIntN(32, v));
  };

  /** migrateGetSocket: the cached socket `name` (host:port), or a new connection. */
  const getSocket = (job: Job, name: string): Promise<Cached> => {
    const hit = cache.get(name);
    if (hit !== undefined) {
      hit.lastUse = unixNow();
      return Promise.resolve(hit);
    }
    if (cache.size >= start.maxItems) {
      // too many: one goes, chosen at random (dictGetRandomKey)
      const names = [...cache.keys()];
      drop(names[Math.floor(Math.random() * names.length)]!);
    }
    const port = atoi(job.port);
    // getaddrinfo() refuses a negative service number and an empty host name
    if (port < 0 || job.host === '') return Promise.reject(new StepError('connect', false));
    return new Promise<Cached>((resolve, reject) => {
      const cs: Cached = { sock: null as unknown as import('node:net').Socket, lastDb: '', lastUse: unixNow(), inbox: '', dead: false, wake: null };
      const sock = net.connect({ host: job.host, port: port & 0xffff });
      cs.sock = sock;
      sock.setNoDelay(true);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new StepError('connect', true));
      }, job.timeoutMs);
      const settle = (): void => {
        clearTimeout(timer);
        sock.removeListener('connect', onConnect);
        sock.removeListener('error', onError);
      };
      const onConnect = (): void => {
        settle();
        sock.on('data', (d: Buffer) => {
          cs.inbox += d.latin1Slice();
          cs.wake?.();
        });
        const end = (): void => {
          cs.dead = true;
          cs.wake?.();
        };
        sock.on('end', end);
        sock.on('close', end);
        sock.on('error', end);
        cache.set(name, cs);
        publish();
        resolve(cs);
      };
      const onError = (e: NodeJS.ErrnoException): void => {
        settle();
        sock.destroy();
        // a name that does not resolve fails the connect; a refused connection is, for Redis,
        // a socket that connected and then fails its first write (its non-blocking connect
        // reports a refusal as writable)
        reject(new StepError(e.syscall === 'getaddrinfo' || e.code === 'ENOTFOUND' ? 'connect' : 'write', false));
      };
      sock.once('connect', onConnect);
      sock.once('error', onError);
    });
  };

  /** connSyncWrite in 64 KB steps, each allowed timeoutMs. */
  const write = async (cs: Cached, data: Uint8Array, timeoutMs: number): Promise<void> => {
    for (let pos = 0; pos < data.length; pos += 65536) {
      if (cs.dead) throw new StepError('write', false);
      const chunk = data.subarray(pos, Math.min(pos + 65536, data.length));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new StepError('write', true)), timeoutMs);
        cs.sock.write(chunk, (err) => {
          clearTimeout(timer);
          if (err) reject(new StepError('write', false));
          else resolve();
        });
      });
    }
  };

  /** connSyncReadLine: the next line without its CRLF, within timeoutMs. */
  const readLine = async (cs: Cached, timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = cs.inbox.indexOf('\n');
      if (nl >= 0) {
        let line = cs.inbox.slice(0, nl);
        cs.inbox = cs.inbox.slice(nl + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        return line;
      }
      if (cs.dead) throw new StepError('read', false);
      const left = deadline - Date.now();
      if (left <= 0) throw new StepError('read', true);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          cs.wake = null;
          resolve();
        }
        cs.wake = done;
      });
    }
  };

  /** One try of migrateCommand's exchange (from try_again to the replies); `mayRetry` once. */
  const attempt = async (job: Job, mayRetry: boolean): Promise<MigrateOutcome> => {
    const name = `${job.host}:${job.port}`;
    const out: MigrateOutcome = { failure: null, authLine: '', selected: false, selectLine: '', replies: [] };
    /** socket_err: the socket goes; a new connection gets one more try unless this one timed out */
    const fail = (e: unknown): MigrateOutcome | Promise<MigrateOutcome> => {
      drop(name);
      const step = e instanceof StepError ? e : new StepError('read', false);
      if (!step.timedOut && mayRetry) return attempt(job, false);
      return { ...out, failure: step.kind };
    };
    let cs: Cached;
    try {
      cs = await getSocket(job, name);
    } catch (e) {
      // a refused connection fails as a write (see getSocket); one that could not be made at all
      // is reported at once (migrateGetSocket's reply), without a retry
      if (e instanceof StepError && e.kind === 'connect') return { ...out, failure: 'connect' };
      return fail(e);
    }
    const select = cs.lastDb !== job.dbid;
    out.selected = select;
    try {
      const parts: Uint8Array[] = [];
      if (job.auth !== null) parts.push(job.auth);
      if (select) parts.push(job.select);
      parts.push(job.body);
      await write(cs, Buffer.concat(parts), job.timeoutMs);
      if (job.auth !== null) out.authLine = await readLine(cs, job.timeoutMs);
      if (select) out.selectLine = await readLine(cs, job.timeoutMs);
    } catch (e) {
      return fail(e);
    }
    let socketError: StepError | null = null;
    for (let j = 0; j < job.restores; j++) {
      try {
        out.replies.push(await readLine(cs, job.timeoutMs));
      } catch (e) {
        socketError = e instanceof StepError ? e : new StepError('read', false);
        break;
      }
    }
    const prefixError = (job.auth !== null && out.authLine[0] === '-') || (select && out.selectLine[0] === '-');
    const fromTarget = out.replies.some((l) => prefixError || l[0] === '-');
    if (socketError !== null) {
      // nothing was acknowledged yet: a new connection gets one more try
      if (!fromTarget && out.replies.length === 0) return fail(socketError);
      drop(name);
      if (!fromTarget) out.failure = 'read';
      return out;
    }
    // an error from the target leaves its selected database in doubt
    cs.lastDb = fromTarget ? '' : job.dbid;
    return out;
  };

  // jobs run one at a time: the main thread waits for each answer before it sends the next
  wt.parentPort!.on('message', (job: Job) => {
    void attempt(job, true)
      .catch((): MigrateOutcome => ({ failure: 'read', authLine: '', selected: false, selectLine: '', replies: [] }))
      .then((outcome) => {
        answers.postMessage({ id: job.id, outcome } satisfies Answer);
        Atomics.store(state, 0, 1);
        Atomics.notify(state, 0);
      });
  });
  // migrateCloseTimedoutSockets, once a second (serverCron's run_with_period(1000))
  setInterval(() => {
    const now = unixNow();
    for (const [name, cs] of cache) if (now - cs.lastUse > start.ttlSeconds) drop(name);
  }, 1000).unref();
  Atomics.store(state, 0, 2);
  Atomics.notify(state, 0);
}

/**
 * The migrate socket cache of one server (server.migrateSockets): its worker thread is started
 * by the first MIGRATE and ended by {@link close}.
 */
export class MigrateSockets {
  private worker: Worker | null = null;
  private answers: MessagePort | null = null;
  /** shared with the worker: see WorkerStart.state */
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private nextId = 1;

  /**
   * @param log where a stuck or failed worker is reported
   * @param ttlSeconds idle seconds after which a cached socket is closed (tests shorten it)
   */
  constructor(private readonly log: Logger, private readonly ttlSeconds = MIGRATE_SOCKET_CACHE_TTL) {}

  /** Sockets in the cache (INFO migrate_cached_sockets). */
  get cached(): number {
    return this.worker === null ? 0 : Atomics.load(this.state, 1);
  }

  /**
   * Runs one MIGRATE exchange, blocking this thread until the worker answers (see the module's
   * comment for why). Never throws: a worker that cannot start or does not answer within every
   * timeout the exchange could take is reported in the log, ended, and the exchange reported as
   * failed ('connect' before it started, 'read' after).
   */
  transfer(t: MigrateTransfer): MigrateOutcome {
    const failed = (failure: 'connect' | 'read'): MigrateOutcome => ({ failure, authLine: '', selected: false, selectLine: '', replies: [] });
    const w = this.start();
    if (w === null) return failed('connect');
    const id = this.nextId++;
    Atomics.store(this.state, 0, 0);
    w.postMessage({ ...t, id } satisfies Job);
    // each of the two tries: the connect, the writes, the AUTH, SELECT and RESTORE replies
    const steps = 4 + Math.ceil((t.body.length + 1) / 65536) + t.restores;
    const limit = 2 * steps * t.timeoutMs + 5000;
    if (this.wait(0, limit)) {
      for (let m = receiveMessageOnPort(this.answers!); m !== undefined; m = receiveMessageOnPort(this.answers!)) {
        const a = m.message as Answer;
        if (a.id === id) return a.outcome;
      }
    }
    this.log.warning(`MIGRATE to ${t.host}:${t.port}: the migrate socket worker gave no answer within ${limit} ms; its connections are closed and it will be started again by the next MIGRATE.`);
    this.close();
    return failed('read');
  }

  /** Ends the worker and with it every cached socket. */
  close(): void {
    if (this.worker === null) return;
    void this.worker.terminate();
    this.worker = null;
    this.answers?.close();
    this.answers = null;
    Atomics.store(this.state, 1, 0);
  }

  /** Waits up to `ms` for state[0] to leave `from`; true when it did. */
  private wait(from: number, ms: number): boolean {
    const deadline = performance.now() + ms;
    while (Atomics.load(this.state, 0) === from) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.state, 0, from, left);
    }
    return true;
  }

  /** The running worker, started (and waited for) when there is none; null when it cannot start. */
  private start(): Worker | null {
    if (this.worker !== null) return this.worker;
    const { port1, port2 } = new MessageChannel();
    Atomics.store(this.state, 0, 0);
    Atomics.store(this.state, 1, 0);
    // `__name`: tsx (the tests) compiles with esbuild's keepNames, which wraps named functions
    // in calls to a helper of its module; the worker's copy of the source needs its own
    const source = `const __name = (f) => f;\n(${migrateWorker.toString()})(require('node:net'), require('node:worker_threads'));\n`;
    let w: Worker;
    try {
      w = new Worker(source, {
        eval: true,
        workerData: { state: this.state.buffer as SharedArrayBuffer, answers: port2, maxItems: MIGRATE_SOCKET_CACHE_ITEMS, ttlSeconds: this.ttlSeconds } satisfies WorkerStart,
        transferList: [port2],
      });
    } catch (e) {
      this.log.warning(`MIGRATE: could not start the migrate socket worker thread: ${(e as Error).message}`);
      return null;
    }
    w.unref();
    // an error after the start (the thread died) ends the cache; the next MIGRATE starts another
    w.on('error', (e) => {
      this.log.warning(`MIGRATE: the migrate socket worker failed: ${e.message}; the next MIGRATE starts another.`);
      if (this.worker === w) this.close();
    });
    this.worker = w;
    this.answers = port1;
    if (!this.wait(0, WORKER_START_MS)) {
      this.log.warning(`MIGRATE: the migrate socket worker thread did not start within ${WORKER_START_MS} ms (is the working directory still there?); the MIGRATE fails.`);
      this.close();
      return null;
    }
    return w;
  }
}
