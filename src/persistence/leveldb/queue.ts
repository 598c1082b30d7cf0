/**
 * The ordered write queue of the LevelDB engine: every event-loop turn's records go out as ONE
 * atomic LevelDB WriteBatch, batches are applied strictly one after the other (two batches handed
 * to LevelDB's thread pool at once could be applied in either order), and while one is in flight
 * the following turns' records gather into the next (group commit).
 *
 * Durability follows `leveldb-sync` as `appendfsync` does for the AOF: the server holds each
 * turn's replies until the batch with its records is written ({@link WriteQueue.durable}), and
 * under `always` synced; `everysec` syncs a batch at most once a second (and the cron syncs an
 * idle store that has unsynced batches); `no` never asks for a sync.
 *
 * With the engine's write-ahead log ({@link WriteQueue.wal}, wal.ts), a turn's records are
 * appended to that log at the end of the turn ({@link WriteQueue.logTurn}) — and under `always`
 * the log is fdatasync'ed there — and the replies need not wait for LevelDB; each batch then also
 * records the last log entry it holds, so that a start-up knows which entries LevelDB never got.
 * Under `always` a batch whose turns the synced log covers is itself synced once a second only,
 * and log files are let go only once a synced batch holds them.
 *
 * A failed batch is kept, in order, ahead of everything written since, and retried once a second;
 * meanwhile the engine refuses writes with a MISCONF error (see engine.ts), so memory and disk
 * never diverge silently.
 */
import { WAL_APPLIED_KEY, type Wal } from './wal.js';

/**
 * Record operations in order, as two parallel arrays (no object per record): a put has its value,
 * a delete has null. Keys and values are byte strings (see layout.ts).
 */
export class Records {
  keys: string[] = [];
  vals: Array<string | null> = [];

  /** Queues a put. */
  put(key: string, value: string): void {
    this.keys.push(key);
    this.vals.push(value);
  }

  /** Queues a delete. */
  del(key: string): void {
    this.keys.push(key);
    this.vals.push(null);
  }

  get length(): number {
    return this.keys.length;
  }
}

/** The sync policy of `leveldb-sync`. */
export type SyncPolicy = 'always' | 'everysec' | 'no';

/**
 * The part of classic-level's chained batch the queue uses: its private `_put`, `_del` and
 * `_write`, which go straight to the native WriteBatch. The public methods validate, clone and
 * re-encode every operation, and the array form of `batch()` reads each op object's properties
 * through N-API: costs per record the write-through path cannot afford.
 */
export interface ChainedBatchTarget {
  _put(key: string, value: string): void;
  _del(key: string): void;
  _write(options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** A store the queue writes to: classic-level's ClassicLevel. */
export interface BatchTarget {
  batch(): ChainedBatchTarget;
}

interface Group {
  recs: Records;
  /** records [0, walFrom) are in the write-ahead log, the last of them in entry walSeq (0: none) */
  walFrom: number;
  walSeq: number;
  /** replies held for this group ({@link WriteQueue.durable}) */
  replies: number;
  /** resolved when this group is committed (replies held under `always`) */
  waiters: Array<() => void>;
  /** run synchronously right after this group commits, before any later group is submitted */
  markers: Array<() => void>;
}

/** What the queue reports to the engine. */
export interface QueueEvents {
  /**
   * a batch failed: writes must stop until {@link recovered}; `held`: under always, replies wait
   * for it that nothing can release (no log covers them)
   */
  error(message: string, held: boolean): void;
  /** a retried batch succeeded */
  recovered(): void;
  /** a record that rewrites itself harmlessly, to give an idle `everysec` sync something to carry */
  syncOp(): [string, string];
}

/** An empty group. */
function newGroup(): Group {
  return { recs: new Records(), walFrom: 0, walSeq: 0, replies: 0, waiters: [], markers: [] };
}

/** The last write-ahead log entry holding records of `groups` (0: none). */
function lastEntry(groups: Group[]): number {
  let seq = 0;
  for (const g of groups) if (g.walSeq > seq) seq = g.walSeq;
  return seq;
}

export class WriteQueue {
  /** groups not yet submitted; the last one is open (takes new records) */
  private groups: Group[] = [newGroup()];
  /**
   * The write-ahead log the turns' records go to (wal.ts); null: replies wait for LevelDB's write
   * (synced under `always`) instead.
   */
  wal: Wal | null = null;
  private inFlight: Group[] | null = null;
  private lastSync = Date.now();
  private unsynced = false;
  private failed = false;
  private drainWaiters: Array<() => void> = [];
  /** batches written, records written, bytes of keys and values written */
  batches = 0;
  records = 0;
  bytes = 0;
  /** the last LevelDB error message, or null */
  lastError: string | null = null;

  constructor(
    private readonly target: BatchTarget,
    public policy: SyncPolicy,
    private readonly events: QueueEvents,
  ) {}

  /** Records waiting for submission. */
  get pendingOps(): number {
    let n = 0;
    for (const g of this.groups) n += g.recs.length;
    return n;
  }

  /** Records not yet committed to LevelDB: waiting, and in the batch in flight. */
  get uncommittedOps(): number {
    let n = this.pendingOps;
    if (this.inFlight !== null) for (const g of this.inFlight) n += g.recs.length;
    return n;
  }

  /** True while a batch is in flight or waits (the store is not up to date with memory yet). */
  get busy(): boolean {
    return this.inFlight !== null || this.groups.length > 1 || this.groups[0]!.recs.length > 0;
  }

  /** True after a failed batch, until a retry succeeds. */
  get inError(): boolean {
    return this.lastError !== null;
  }

  /** The open group's records: the engine adds the turn's records straight into it. */
  get open(): Records {
    return this.groups[this.groups.length - 1]!.recs;
  }

  /** Submits the waiting records unless a batch is in flight or the queue is in error. */
  kick(): void {
    if (this.inFlight !== null || this.failed) return;
    const first = this.groups[0]!;
    if (this.groups.length === 1 && first.recs.length === 0 && first.waiters.length === 0 && first.markers.length === 0) return;
    // merge groups up to and including the first one with markers: a marker must run right after
    // its own group and before anything later
    const take: Group[] = [];
    while (this.groups.length > 0) {
      const g = this.groups.shift()!;
      take.push(g);
      if (g.markers.length > 0) break;
    }
    if (this.groups.length === 0) this.groups.push(newGroup());
    this.submit(take);
  }

  private submit(take: Group[]): void {
    let recs: Records;
    if (take.length === 1) recs = take[0]!.recs;
    else {
      recs = new Records();
      for (const g of take) {
        for (let i = 0; i < g.recs.keys.length; i++) {
          recs.keys.push(g.recs.keys[i]!);
          recs.vals.push(g.recs.vals[i]!);
        }
      }
    }
    // every record LevelDB gets is in the log first, so that a batch's W record covers whatever
    // was logged before it (records submitted outside a client's turn included)
    if (this.logging) for (const g of take) if (!this.log(g)) break;
    const walSeq = lastEntry(take);
    // under always, turns in the synced log need no synced batch for their replies
    const covered = this.policy === 'always' && this.logging && take.every((g) => g.walFrom >= g.recs.length && g.walSeq <= this.wal!.syncedSeq);
    const now = Date.now();
    const sync = (this.policy === 'always' && !covered) || this.syncNext || ((this.policy === 'everysec' || covered) && now - this.lastSync >= 1000);
    this.syncNext = false;
    this.inFlight = take;
    if (recs.length === 0 && !sync) {
      // only waiters or markers: nothing to write
      queueMicrotask(() => this.done(take, recs, false));
      return;
    }
    if (recs.length === 0) {
      const [k, v] = this.events.syncOp();
      recs = new Records();
      recs.put(k, v);
    }
    let b: ChainedBatchTarget;
    try {
      b = this.target.batch();
      const { keys, vals } = recs;
      for (let i = 0; i < keys.length; i++) {
        const v = vals[i]!;
        if (v === null) b._del(keys[i]!);
        else b._put(keys[i]!, v);
      }
      // the last log entry this batch holds, in the same atomic batch
      if (walSeq > 0) b._put(WAL_APPLIED_KEY, String(walSeq));
    } catch (e) {
      queueMicrotask(() => this.fail(take, e));
      return;
    }
    const written = recs;
    b._write({ sync }).then(
      () => {
        void b.close();
        this.done(take, written, sync);
      },
      (e: unknown) => {
        void b.close().catch(() => undefined);
        this.fail(take, e);
      },
    );
  }

  private done(take: Group[], recs: Records, synced: boolean): void {
    this.inFlight = null;
    if (recs.length > 0) {
      this.batches++;
      this.records += recs.length;
      const { keys, vals } = recs;
      for (let i = 0; i < keys.length; i++) this.bytes += keys[i]!.length + (vals[i]?.length ?? 0);
    }
    if (synced) {
      this.lastSync = Date.now();
      this.unsynced = false;
    } else if (recs.length > 0) {
      this.unsynced = true;
    }
    if (this.lastError !== null) {
      this.lastError = null;
      this.events.recovered();
    }
    if (this.wal !== null) {
      this.walWritten = Math.max(this.walWritten, lastEntry(take));
      // under always the log is what a power cut leaves: its files go once a synced batch holds them
      if (this.walWritten > 0 && (synced || this.policy !== 'always')) this.wal.applied(this.walWritten);
    }
    for (const g of take) {
      for (const w of g.waiters) w();
      for (const m of g.markers) m();
    }
    if (this.drainSync) {
      this.drainSync = false;
      this.syncNext = true;
    }
    this.kick();
    if (!this.busy && this.drainWaiters.length > 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }

  private fail(take: Group[], e: unknown): void {
    this.inFlight = null;
    this.failed = true;
    this.lastError = (e as Error).message ?? String(e);
    // under always, replies held for these groups can be neither sent nor failed: the engine stops
    const held = this.policy === 'always' && take.some((g) => g.replies > 0);
    // Under everysec and no the failed batch's replies go out (its records stay queued and are
    // retried; later writes get MISCONF meanwhile), as Redis replies after a failed AOF write
    // under those policies; under always they wait for the retry, never acknowledged unsynced.
    if (this.policy !== 'always') {
      for (const g of take) {
        const ws = g.waiters;
        g.waiters = [];
        for (const w of ws) w();
      }
    }
    // back in front, in order: a retry writes them before anything written since
    this.groups.unshift(...take);
    this.events.error(this.lastError, held);
  }

  /**
   * At the end of a turn: appends the records queued since the last call to the write-ahead log
   * (one write; under `always` then an fdatasync) and submits them. True when every record queued
   * so far is now in the log (on disk under `always`) or in LevelDB, so the turn's replies need
   * not wait ({@link durable}); false without a log, while it is paused, or when its write or sync
   * failed (then wait for {@link durable}).
   */
  logTurn(): boolean {
    if (!this.logging) return false;
    const wal = this.wal!;
    // Entries follow the order of the batches: a record is logged only when everything before it
    // is logged or in LevelDB, so that a start-up replaying entries never applies later records
    // without earlier ones. A batch in flight (submitted before this point in the turn, by the
    // engine's own setImmediate) was logged when submitted, unless the log failed or was paused.
    if (this.inFlight !== null) for (const g of this.inFlight) if (g.walFrom < g.recs.length) return false;
    // groups waiting behind it (a BACKUP's barrier closes one mid-turn) and the open one
    for (const g of this.groups) if (!this.log(g)) return false;
    // under always the turn is acknowledged once the log is on disk
    if (this.policy === 'always' && !wal.sync()) return false;
    this.kick();
    return true;
  }

  /**
   * Stops logging while it returns true (the engine's imports: a whole data set written into the
   * store needs no second copy in the log; replies wait for LevelDB meanwhile, as without a log).
   */
  pauseLog: (() => boolean) | null = null;

  /** True when turns go to the write-ahead log (a log, not paused). */
  private get logging(): boolean {
    return this.wal !== null && !(this.pauseLog?.() ?? false);
  }
  /** the highest log entry a completed batch held */
  private walWritten = 0;

  /** Appends the records of `g` not yet in the write-ahead log; false when the append failed. */
  private log(g: Group): boolean {
    if (g.walFrom >= g.recs.length) return true;
    const seq = this.wal!.append(g.recs, g.walFrom);
    if (seq === null) return false;
    g.walFrom = g.recs.length;
    g.walSeq = seq;
    return true;
  }

  /**
   * A promise resolved once every record queued so far is committed (in LevelDB's log: the page
   * cache), and synced under `always`: the server holds the turn's replies until then, so a killed
   * process loses no acknowledged write under any policy, as the AOF's write() before the replies
   * (everysec and no then differ from always only by the sync, i.e. on a power loss). Undefined
   * when nothing needs waiting for (nothing written).
   */
  durable(): Promise<void> | undefined {
    const open = this.groups[this.groups.length - 1]!;
    if (open.recs.length === 0 && this.groups.length === 1) {
      if (this.inFlight === null) return undefined;
      const last = this.inFlight[this.inFlight.length - 1]!;
      last.replies++;
      return new Promise<void>((r) => last.waiters.push(r));
    }
    open.replies++;
    return new Promise<void>((r) => open.waiters.push(r));
  }

  /**
   * A promise resolved once every record queued so far is committed, whatever the policy: the
   * server holds replies on it when the backlog grows too long (backpressure: LevelDB slower than
   * the clients, e.g. during a compaction stall), so memory stays bounded.
   */
  committed(): Promise<void> {
    return new Promise<void>((r) => {
      this.onCommit(r);
      this.kick();
    });
  }

  /** Calls `fn` once the records queued so far (the open group) are committed. */
  onCommit(fn: () => void): void {
    this.groups[this.groups.length - 1]!.waiters.push(fn);
  }

  /**
   * Runs `fn` synchronously at the point where every record queued so far is committed and no
   * later record is: at once when the queue is idle. BACKUP takes its LevelDB snapshot there.
   */
  atBarrier(fn: () => void): void {
    const open = this.groups[this.groups.length - 1]!;
    if (open.recs.length === 0 && this.groups.length === 1) {
      if (this.inFlight === null && !this.failed) {
        fn();
        return;
      }
      if (this.inFlight !== null) {
        this.inFlight[this.inFlight.length - 1]!.markers.push(fn);
        return;
      }
    }
    open.markers.push(fn);
    this.groups.push(newGroup());
    this.kick();
  }

  /**
   * Cron: under `everysec`, syncs an idle store that has unsynced batches once a second; after a
   * failure, retries once a second.
   */
  tick(now: number): void {
    if (this.failed) {
      if (now - this.lastRetry >= 1000) {
        // lastError stays set (writes stay refused) until a retry succeeds
        this.lastRetry = now;
        this.failed = false;
        this.kick();
      }
      return;
    }
    const periodic = this.policy === 'everysec' || (this.policy === 'always' && this.wal !== null);
    if (periodic && this.unsynced && this.inFlight === null && now - this.lastSync >= 1000) {
      this.syncNext = true;
      this.groups[this.groups.length - 1]!.waiters.push(() => undefined);
      this.kick();
    }
  }
  private lastRetry = 0;
  /** the next batch must be synced (everysec tick, drain) */
  private syncNext = false;
  /** drain(true) was asked while a batch was in flight: the next one is synced */
  private drainSync = false;

  /**
   * Resolves when every queued record is committed; with `sync`, the last batch is synced
   * (shutdown, BACKUP of a closing server).
   */
  async drain(sync: boolean): Promise<void> {
    if (sync) {
      const w = new Promise<void>((r) => this.groups[this.groups.length - 1]!.waiters.push(r));
      if (this.inFlight === null) this.syncNext = true;
      else this.drainSync = true;
      this.kick();
      await w;
      return;
    }
    if (!this.busy) return;
    const w = new Promise<void>((r) => this.drainWaiters.push(r));
    this.kick();
    await w;
  }
}
