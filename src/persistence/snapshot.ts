import type { Keyspace } from '../keyspace/keyspace.js';
import type { Database } from '../keyspace/database.js';
import { formatFixed } from '../util/number.js';
import type { RObject, Value } from '../keyspace/types/object.js';
import { GUARD_MUTATE, type GuardChange } from '../keyspace/guard.js';
import { DelayDebt, DELAY_WAIT_MAX_MS } from './debug-delay.js';
import type { InfoSection } from '../server/info.js';

/**
 * What a snapshot produces, in order: for every database that had keys at the start, one
 * `beginDb`, then `entry` bytes for each of its keys, then `endDb`; finally `end`. Chunks are
 * whatever the format makes of a key (an RDB key-value pair, a RESP command, LevelDB records).
 */
export interface SnapshotFormat {
  /** header bytes of database `db` (RDB: SELECTDB + RESIZEDB), given its size at the start */
  beginDb(db: number, keys: number, expires: number): Uint8Array | string;
  /**
   * Serializes one key now. Must copy what it needs: the value may change right after it returns.
   * `expireAt` is Unix ms or -1.
   */
  entry(db: number, key: string, value: Value, expireAt: number): Uint8Array | string;
  endDb?(db: number): Uint8Array | string;
}

/** Receives the snapshot's bytes in order. Returns false when the consumer wants a pause. */
export type SnapshotSink = (chunk: Uint8Array | string) => boolean;

/**
 * A streaming output: the snapshot hands it keys rather than bytes, so a format with its own
 * buffered writer (the RDB file encoder) serializes straight into its output, with no chunk per
 * key. Calls come in the order of {@link SnapshotFormat}'s chunks.
 */
export interface SnapshotOutput {
  beginDb(db: number, keys: number, expires: number): void;
  /** one key as it was at the start; `expireAt` Unix ms or -1 */
  entry(db: number, key: string, value: Value, expireAt: number): void;
  /** one key serialized earlier with the snapshot's {@link SnapshotFormat.entry} */
  raw(chunk: Uint8Array | string): void;
  endDb?(db: number): void;
  /** true while the consumer wants the iteration to pause (its queue is full) */
  paused(): boolean;
}

/** A key's start-time value serialized early: a collection about to be mutated in place. */
class Serialized {
  constructor(readonly chunk: Uint8Array | string) {}
}

/** Segment states in {@link DbState.state}. */
const SEG_UNTOUCHED = 0;
const SEG_COPIED = 1;
const SEG_DONE = 2;

/**
 * A segment's start-time entries, copied at the first change to it. Values are kept by
 * reference (strings are immutable; a collection stays frozen until something mutates it in
 * place, see Snapshot.thaw, which replaces it by its bytes).
 */
interface SegmentCopy {
  keys: string[];
  vals: Array<Value | Serialized>;
  /** start-time expire times (Unix ms, -1 for none), or null when no key of it had one */
  exps: number[] | null;
  /** what this copy counts in {@link Snapshot.retainedBytes} */
  bytes: number;
}

interface DbState {
  db: Database;
  /** the segments as they were at the start (FLUSHALL may replace the db's array) */
  segments: Map<string, Value>[];
  expires: Map<string, number>;
  keys: number;
  expiresCount: number;
  /** per segment: SEG_UNTOUCHED, SEG_COPIED (its start-time entries are in {@link copies}) or SEG_DONE */
  state: Uint8Array;
  /** copies of the segments changed before their turn, by index (sparse) */
  copies: Array<SegmentCopy | undefined>;
}

/** Where a frozen collection sits in a segment copy, to serialize it before it is mutated in place. */
interface FrozenRef {
  st: DbState;
  seg: number;
  idx: number;
}

/** Retained-memory estimate of a segment copy: two arrays' headers, bytes. */
const COPY_OVERHEAD = 64;
/** Retained-memory estimate per copied key: its slots in the key and value arrays, bytes. */
const COPY_ENTRY_BYTES = 16;

/**
 * The fork-less point-in-time snapshot of DESIGN.md: iterates every database segment by segment
 * in short slices; the first change to a segment the iteration has not reached copies that
 * segment's entries (references, not values: copy-on-write of one small segment, as a fork
 * copies one page), so the result is exactly the dataset at {@link start}. A segment has about
 * 32 keys: the first write to it costs one short array copy, every later write to it a typed-
 * array check (a per-key copy-on-write cost a preimage-table lookup on every write, 15% of the
 * server's time under a SET load).
 *
 * - Strings are kept by reference (immutable); a collection kept in a copy that is then mutated
 *   in place, under its key or another one it reached by RENAME or MOVE, is serialized first with
 *   {@link SnapshotFormat.entry} ({@link thaw}, found through a WeakMap).
 * - A key created after the start is not in the copy, a deleted one still is.
 * - Segment growth is blocked while it runs (segment indexes stay stable).
 * - Nothing is emitted early, so the output keeps the per-database order RDB needs. Extra memory:
 *   the copies of the segments changed and not serialized yet (released as the iteration passes
 *   them), plus what the output buffers. {@link retainedBytes} counts a copy's arrays and its
 *   strings' bytes (an upper bound: a string is only extra memory once overwritten, as a forked
 *   page is only copied once written).
 * - FLUSHDB/FLUSHALL hand the old segments over for free: the database starts a new segment array
 *   and the snapshot keeps iterating the start-time one, which nobody mutates any more. SWAPDB
 *   moves arrays between Database objects; the guard finds a segment's state by its array.
 *
 * One mechanism serves BGSAVE, the AOF rewrite base, LevelDB import and BACKUP.
 */
export class Snapshot {
  private readonly dbs: DbState[] = [];
  /** start-time segment arrays -> state: SWAPDB moves arrays between Database objects */
  private readonly bySegments = new Map<Map<string, Value>[], DbState>();
  /** collections kept by reference in segment copies -> where, see {@link thaw} */
  private frozen = new WeakMap<RObject, FrozenRef[]>();
  private frozenCount = 0;
  private readonly out: SnapshotOutput;
  private dbCursor = 0;
  private segCursor = 0;
  private headerDone = false;
  private finished = false;
  /** bytes produced so far (byte sinks only; a {@link SnapshotOutput} counts its own) */
  bytes = 0;
  /** estimated bytes the segment copies hold now (see the class comment) */
  retainedBytes = 0;
  /**
   * Peak of {@link retainedBytes}: the snapshot's own extra memory, reported as the
   * rdb_last_cow_size / aof_last_cow_size of a fork-less save.
   */
  forcedBytesTotal = 0;
  /** keys at the point in time (current_save_keys_total: dbTotalServerKeyCount at the fork) */
  keysTotal = 0;
  /** keys serialized so far (current_save_keys_processed) */
  keysWritten = 0;
  readonly startedAt = Date.now();
  /**
   * rdb-key-save-delay of the save this snapshot serves, debugDelay's argument in µs (0: none),
   * set before {@link start}: fixed for the whole save, as Redis's forked child keeps the value
   * it had at the fork (a CONFIG SET applies to the next save). With a delay, segments are
   * emitted key by key, each key adding to {@link delay}, which the caller sleeps off
   * ({@link runSliced} on timers, {@link runToEnd} blocking).
   */
  keySaveDelay = 0;
  /** what the keys serialized so far owe of {@link keySaveDelay} and was not slept yet */
  readonly delay = new DelayDebt();
  /** the next key of segment {@link segCursor} to emit, while it is emitted key by key */
  private keyCursor = 0;

  /**
   * @param format serializes keys; with a byte `sink` it produces every chunk, with a
   *   {@link SnapshotOutput} only the copies of collections about to be mutated in place
   * @param sink receives the chunks in order (returns false to pause), or a streaming output
   */
  constructor(
    private readonly ks: Keyspace,
    private readonly format: SnapshotFormat,
    sink: SnapshotSink | SnapshotOutput,
  ) {
    this.out = typeof sink === 'function' ? this.byteOutput(sink) : sink;
  }

  /** Adapts a byte sink to {@link SnapshotOutput} through the format. */
  private byteOutput(sink: SnapshotSink): SnapshotOutput {
    const fmt = this.format;
    let pause = false;
    const emit = (chunk: Uint8Array | string): void => {
      this.bytes += chunk.length;
      if (!sink(chunk)) pause = true;
    };
    return {
      beginDb: (db, keys, expires) => emit(fmt.beginDb(db, keys, expires)),
      entry: (db, key, value, expireAt) => emit(fmt.entry(db, key, value, expireAt)),
      raw: emit,
      endDb: fmt.endDb ? (db) => emit(fmt.endDb!(db)) : undefined,
      paused: () => {
        // a byte sink says "pause" once, on the chunk that filled it
        const p = pause;
        pause = false;
        return p;
      },
    };
  }

  /**
   * Fixes the point in time: records every database's segments and installs the guard.
   * @throws Error when another snapshot is already running (the guard is taken)
   */
  start(): void {
    if (this.ks.guard !== null) throw new Error('a snapshot is already running');
    for (const db of this.ks.dbs) {
      if (db.size === 0) continue;
      const st: DbState = {
        db, segments: db.segments, expires: db.expires, keys: db.size, expiresCount: db.expires.size,
        state: new Uint8Array(db.segments.length), copies: new Array(db.segments.length),
      };
      this.dbs.push(st);
      this.bySegments.set(db.segments, st);
      this.keysTotal += db.size;
    }
    this.ks.growthBlocked = true;
    this.ks.guard = (db, seg, key, change) => this.guard(db, seg, key, change);
    this.ks.snapshotRetained = () => this.retainedBytes;
    if (this.dbs.length === 0) this.finish();
  }

  /** True once every segment was emitted (or the snapshot was aborted). */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Serializes segments for about `budgetMs` milliseconds, or until the output asks for a pause.
   * Returns true when the snapshot is complete.
   */
  step(budgetMs = 1): boolean {
    if (this.finished) return true;
    const t0 = performance.now();
    const out = this.out;
    const usec = this.keySaveDelay;
    while (this.dbCursor < this.dbs.length) {
      const st = this.dbs[this.dbCursor]!;
      if (!this.headerDone) {
        this.headerDone = true;
        out.beginDb(st.db.id, st.keys, st.expiresCount);
        if (out.paused()) return false;
      }
      const n = st.segments.length;
      while (this.segCursor < n) {
        const i = this.segCursor;
        if (usec !== 0 || this.keyCursor > 0) {
          if (!this.serializeKeys(st, i, usec, t0, budgetMs)) return false;
        } else {
          this.serializeSegment(st, i);
        }
        this.segCursor++;
        if (out.paused() || this.delay.due || performance.now() - t0 > budgetMs) return false;
      }
      if (out.endDb) out.endDb(st.db.id);
      this.dbCursor++;
      this.segCursor = 0;
      this.headerDone = false;
      st.copies = [];
      if (out.paused() || performance.now() - t0 > budgetMs) return false;
    }
    this.finish();
    return true;
  }

  /** Stops the snapshot early and removes the guard (BGSAVE failure, server shutdown). */
  abort(): void {
    if (!this.finished) this.retainedBytes = 0;
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.ks.guard !== null) this.ks.guard = null;
    this.ks.snapshotRetained = null;
    this.ks.growthBlocked = false;
    for (const st of this.dbs) st.copies = [];
    this.frozen = new WeakMap();
    this.frozenCount = 0;
  }

  /** Keyspace guard: `key` in segment `seg` of `db` is about to change. */
  private guard(db: Database, seg: number, key: string, change: GuardChange): void {
    // Found by the segment array, not the Database: after SWAPDB a Database object holds the
    // other db's start-time segments, and after FLUSHDB a fresh array that is not ours.
    const st = this.bySegments.get(db.segments);
    if (st !== undefined && seg < st.state.length && st.state[seg] === SEG_UNTOUCHED) this.copySegment(st, seg);
    if (change === GUARD_MUTATE && this.frozenCount > 0) {
      const v = db.segments[seg]?.get(key);
      if (v !== undefined && typeof v !== 'string') this.thaw(v);
    }
  }

  /** Copies the start-time entries of segment `seg` (its first change since the start). */
  private copySegment(st: DbState, seg: number): void {
    st.state[seg] = SEG_COPIED;
    const live = st.segments[seg]!;
    const n = live.size;
    const keys = new Array<string>(n);
    const vals = new Array<Value | Serialized>(n);
    const expires = st.expires;
    let exps: number[] | null = null;
    let bytes = COPY_OVERHEAD + n * COPY_ENTRY_BYTES;
    let i = 0;
    for (const [k, v] of live) {
      keys[i] = k;
      vals[i] = v;
      if (typeof v === 'string') bytes += v.length;
      else this.freeze(v, st, seg, i);
      if (expires.size > 0) {
        const t = expires.get(k);
        if (t !== undefined) {
          if (exps === null) exps = new Array<number>(n).fill(-1);
          exps[i] = t;
        }
      }
      i++;
    }
    st.copies[seg] = { keys, vals, exps, bytes };
    this.retain(bytes);
  }

  private retain(n: number): void {
    this.retainedBytes += n;
    if (this.retainedBytes > this.forcedBytesTotal) this.forcedBytesTotal = this.retainedBytes;
  }

  /** Records that collection `v` is kept by reference at `idx` of segment `seg`'s copy. */
  private freeze(v: RObject, st: DbState, seg: number, idx: number): void {
    const refs = this.frozen.get(v);
    if (refs === undefined) this.frozen.set(v, [{ st, seg, idx }]);
    else refs.push({ st, seg, idx });
    this.frozenCount++;
  }

  /** Drops the frozen reference of `v` from segment `seg`'s copy (the copy was serialized). */
  private unfreeze(v: RObject, st: DbState, seg: number): void {
    const refs = this.frozen.get(v);
    if (refs === undefined) return;
    const j = refs.findIndex((r) => r.st === st && r.seg === seg);
    if (j < 0) return;
    refs.splice(j, 1);
    this.frozenCount--;
    if (refs.length === 0) this.frozen.delete(v);
  }

  /**
   * Collection `v` is about to be mutated in place: every segment copy still holding it by
   * reference becomes its serialized bytes there.
   */
  private thaw(v: RObject): void {
    const refs = this.frozen.get(v);
    if (refs === undefined) return;
    this.frozen.delete(v);
    this.frozenCount -= refs.length;
    for (const { st, seg, idx } of refs) {
      const c = st.copies[seg];
      if (c === undefined || c.vals[idx] !== v) continue;
      const chunk = this.format.entry(st.db.id, c.keys[idx]!, v, c.exps === null ? -1 : c.exps[idx]!);
      c.vals[idx] = new Serialized(chunk);
      c.bytes += chunk.length;
      this.retain(chunk.length);
    }
  }

  /** Emits key `j` of segment `i`'s copy `c`: bytes serialized before a change, or the value kept. */
  private emitCopied(st: DbState, i: number, c: SegmentCopy, j: number): void {
    const v = c.vals[j]!;
    if (v instanceof Serialized) {
      this.out.raw(v.chunk);
    } else {
      if (typeof v !== 'string') this.unfreeze(v, st, i);
      this.out.entry(st.db.id, c.keys[j]!, v, c.exps === null ? -1 : c.exps[j]!);
    }
  }

  /**
   * Emits segment `i` key by key under rdb-key-save-delay, each key adding `usec` to
   * {@link delay}, from {@link keyCursor} on; stops after a key when the debt is due, the output
   * pauses or the slice's time is up. The segment is copied first (copy-on-write of one segment):
   * emitting it across event-loop turns, the live one may change in between. Returns true when
   * the segment is complete.
   */
  private serializeKeys(st: DbState, i: number, usec: number, t0: number, budgetMs: number): boolean {
    if (st.state[i] === SEG_UNTOUCHED) this.copySegment(st, i);
    const c = st.copies[i];
    if (st.state[i] !== SEG_COPIED || c === undefined) return true;
    const out = this.out;
    const keys = c.keys;
    while (this.keyCursor < keys.length) {
      this.emitCopied(st, i, c, this.keyCursor++);
      this.keysWritten++;
      if (usec !== 0) this.delay.add(usec);
      if (this.keyCursor < keys.length && (this.delay.due || out.paused() || performance.now() - t0 > budgetMs)) return false;
    }
    st.state[i] = SEG_DONE;
    st.copies[i] = undefined;
    this.retainedBytes -= c.bytes;
    this.keyCursor = 0;
    return true;
  }

  /**
   * Emits segment `i` as it was at the start: from its copy when something changed it since,
   * else from the segment itself (untouched, so still the start-time state).
   */
  private serializeSegment(st: DbState, i: number): void {
    const state = st.state[i];
    st.state[i] = SEG_DONE;
    const out = this.out;
    const id = st.db.id;
    if (state === SEG_UNTOUCHED) {
      const seg = st.segments[i]!;
      const exp = st.expires;
      for (const [key, value] of seg) {
        const t = exp.size > 0 ? exp.get(key) : undefined;
        out.entry(id, key, value, t === undefined ? -1 : t);
      }
      this.keysWritten += seg.size;
      return;
    }
    if (state !== SEG_COPIED) return;
    const c = st.copies[i]!;
    st.copies[i] = undefined;
    const n = c.keys.length;
    for (let j = 0; j < n; j++) this.emitCopied(st, i, c, j);
    this.retainedBytes -= c.bytes;
    this.keysWritten += n;
  }
}

/**
 * The INFO persistence fields of a running background save or rewrite (Redis's fork child):
 * current_cow_size (here the snapshot's own kept bytes), current_fork_perc, current_save_keys_*.
 */
export function reportSnapshotProgress(sec: InfoSection, snap: Snapshot): void {
  const total = snap.keysTotal;
  sec.set('current_cow_size', snap.retainedBytes);
  sec.set('current_fork_perc', formatFixed(total > 0 ? (snap.keysWritten / total) * 100 : 0, 2));
  sec.set('current_save_keys_processed', snap.keysWritten);
  sec.set('current_save_keys_total', total);
}

/** Share of wall-clock time a background snapshot takes while clients are active. */
const SNAPSHOT_SHARE = 0.25;
/**
 * Growth of the process's resident memory over its high-water mark before the snapshot started
 * (fraction) above which the snapshot takes more time: old values kept for it accumulate as clients overwrite keys, so under
 * a heavy write load a slower save holds more memory. From MEMORY_SOFT_GROWTH the share rises
 * linearly to 1 at MEMORY_HARD_GROWTH (slices then run back to back between the clients' turns).
 */
const MEMORY_SOFT_GROWTH = 0.03;
const MEMORY_HARD_GROWTH = 0.06;
/** How often the resident memory is read, ms (a syscall). */
const MEMORY_CHECK_MS = 10;
/**
 * Most snapshot time saved up while clients are active at SNAPSHOT_SHARE, ms: the longest slice
 * under load (it scales with the share: 4 ms at a share of 1).
 */
const MAX_TOKENS_MS = 1;
/** Shortest slice worth running, ms (a slice serializes at least one segment anyway). */
const MIN_SLICE_MS = 0.1;
/** No client activity for this long, ms, and the server counts as idle: full-speed slices. */
const IDLE_AFTER_MS = 2;
/** Slice length while the server is idle, ms: the most a newly arriving client waits. */
const IDLE_SLICE_MS = 1;

/**
 * Sleeps off the snapshot's rdb-key-save-delay debt on timers of at most DELAY_WAIT_MAX_MS,
 * calling `check` between them (an abort must not wait for a delay of seconds per key); `all`
 * pays every microsecond, else down to below the quantum.
 */
async function waitDelay(snap: Snapshot, hooks: SliceHooks, all: boolean): Promise<void> {
  while (all ? snap.delay.us > 0 : snap.delay.due) {
    await snap.delay.payAsync(DELAY_WAIT_MAX_MS);
    hooks.check?.();
  }
}

/**
 * Runs a started snapshot to the end without yielding to clients (start-up), blocking for its
 * rdb-key-save-delay as Redis's synchronous rewrite would. `between` runs after every step
 * (a paused output's drain, error checks).
 */
export async function runToEnd(snap: Snapshot, between?: () => Promise<void> | void): Promise<void> {
  while (!snap.step(1000)) {
    snap.delay.paySync();
    await between?.();
  }
  snap.delay.paySync();
}

/** What {@link runSliced} did: for the log line of a finished save. */
export interface SliceStats {
  slices: number;
  /** slices run while the server was idle */
  idleSlices: number;
  /** time spent in slices, ms */
  workMs: number;
  /** times the output paused the snapshot (disk behind) */
  pauses: number;
  /** highest share of wall-clock time it took under load (memory growth raises it) */
  maxShare: number;
}

/** Hooks of {@link runSliced}. */
export interface SliceHooks {
  /** throws to stop (abort, write error); called between slices */
  check?(): void;
  /** resolves when a paused output can take more; called when {@link SnapshotOutput.paused} */
  drained(): Promise<void>;
  /**
   * Runs the callback in the next event-loop turn (default setImmediate); the server's
   * afterReplies runs it after the turn's replies are written, so slices do not delay them.
   */
  schedule?(fn: () => void): void;
  /**
   * A counter that grows with client work (socket reads); unchanged for IDLE_AFTER_MS means the
   * server is idle. Without it the server always counts as busy.
   */
  activity?(): number;
  /**
   * Resident memory of the process, bytes (default process.memoryUsage.rss, measured against the
   * process's peak RSS so far; an injected one, for tests, against its first reading).
   */
  rss?(): number;
}

/**
 * The snapshot's share of wall-clock time while clients are active, given the growth of resident
 * memory since it started (a fraction: 0.05 = 5% more): SNAPSHOT_SHARE, rising to 1 between
 * MEMORY_SOFT_GROWTH and MEMORY_HARD_GROWTH.
 */
export function snapshotShare(growth: number): number {
  if (growth <= MEMORY_SOFT_GROWTH) return SNAPSHOT_SHARE;
  if (growth >= MEMORY_HARD_GROWTH) return 1;
  return SNAPSHOT_SHARE + ((1 - SNAPSHOT_SHARE) * (growth - MEMORY_SOFT_GROWTH)) / (MEMORY_HARD_GROWTH - MEMORY_SOFT_GROWTH);
}

/**
 * Runs a started snapshot to the end in slices interleaved with the clients. While clients are
 * active the snapshot gets SNAPSHOT_SHARE of wall-clock time, more when the process's memory
 * grows ({@link snapshotShare}: the old values a save keeps are its copy-on-write, and they must
 * stay bounded), as a token bucket: time accrues at that rate (at most MAX_TOKENS_MS, scaled with
 * the share, saved up) and each slice spends what it took; short of MIN_SLICE_MS of tokens it
 * waits on a timer (the event loop sleeps in poll meanwhile rather than spinning through
 * setImmediate). A per-turn share would not do: pipelining clients leave short idle gaps
 * between their batches, and filling those delays every batch. Once no client has been read for IDLE_AFTER_MS the server is idle and slices run
 * back to back at IDLE_SLICE_MS. While the output is paused (disk behind), it waits for
 * {@link SliceHooks.drained} and the clients run alone.
 * @throws whatever `check` throws; the snapshot is not aborted (the caller does that)
 */
export async function runSliced(snap: Snapshot, output: Pick<SnapshotOutput, 'paused'>, hooks: SliceHooks): Promise<SliceStats> {
  const stats: SliceStats = { slices: 0, idleSlices: 0, workMs: 0, pauses: 0, maxShare: SNAPSHOT_SHARE };
  const schedule = hooks.schedule ?? ((fn: () => void): void => void setImmediate(fn));
  const activity = hooks.activity;
  let last = performance.now();
  let tokens = MIN_SLICE_MS;
  let seen = activity ? activity() : 0;
  let quietSince = activity ? last : Infinity;
  const rss = hooks.rss ?? ((): number => process.memoryUsage.rss());
  // growth is measured from the process's high-water mark: under a write load a garbage-collected
  // heap swings by 10-15% between collections, and the low point is no baseline
  const rss0 = hooks.rss ? rss() : Math.max(rss(), process.resourceUsage().maxRSS * 1024);
  let share = SNAPSHOT_SHARE;
  let memoryCheckedAt = last;
  for (;;) {
    hooks.check?.();
    if (output.paused()) {
      stats.pauses++;
      await hooks.drained();
      hooks.check?.();
    }
    const now = performance.now();
    if (now - memoryCheckedAt >= MEMORY_CHECK_MS) {
      memoryCheckedAt = now;
      share = snapshotShare(rss() / rss0 - 1);
      if (share > stats.maxShare) stats.maxShare = share;
    }
    // a bigger share needs longer slices too: under load a turn of client work takes milliseconds
    tokens = Math.min(MAX_TOKENS_MS * share / SNAPSHOT_SHARE, tokens + (now - last) * share);
    last = now;
    if (activity) {
      const a = activity();
      if (a !== seen) {
        seen = a;
        quietSince = now;
      }
    }
    const idle = now - quietSince >= IDLE_AFTER_MS;
    if (idle || tokens >= MIN_SLICE_MS) {
      const done = snap.step(idle ? IDLE_SLICE_MS : tokens);
      const end = performance.now();
      if (!idle) tokens -= end - now;
      stats.slices++;
      if (idle) stats.idleSlices++;
      stats.workMs += end - now;
      // rdb-key-save-delay: Redis's forked child sleeps after each key; here the keys' debt is
      // waited out on timers while the clients run (the last keys' too, before the save ends)
      if (snap.delay.due || (done && snap.delay.us > 0)) {
        await waitDelay(snap, hooks, done);
        last = performance.now();
      }
      if (done) return stats;
    }
    if (idle || tokens >= MIN_SLICE_MS) {
      await new Promise<void>((r) => schedule(r));
    } else {
      // a timer, not setImmediate: the event loop then blocks in poll until a client or the
      // timer wakes it, instead of spinning (a spinning loop takes a core from everyone else)
      const deficitMs = (MIN_SLICE_MS - tokens) / share;
      await new Promise<void>((r) => setTimeout(r, Math.max(1, Math.ceil(deficitMs))));
    }
  }
}
