import type { Keyspace } from '../keyspace/keyspace.js';
import type { Database } from '../keyspace/database.js';
import type { RObject, Value } from '../keyspace/types/object.js';
import { GUARD_MUTATE, type GuardChange } from '../keyspace/guard.js';

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

/** A key's value at the start, kept because a writer changed the key before its segment was saved. */
class Serialized {
  constructor(readonly chunk: Uint8Array | string) {}
}

/**
 * The start-time state of a changed key: its value object (strings are immutable; collections are
 * kept by reference until something mutates them in place, see Snapshot.thaw), its bytes, or
 * null when the key did not exist at the start.
 */
type Preimage = Value | Serialized | null;

interface DbState {
  db: Database;
  /** the segments as they were at the start (FLUSHALL may replace the db's array) */
  segments: Map<string, Value>[];
  expires: Map<string, number>;
  keys: number;
  expiresCount: number;
  /** segments already serialized, by index */
  done: Uint8Array;
  /**
   * Per segment not serialized yet (sparse, by index): start-time values of its keys changed
   * since the start, deleted ones included. Small per-segment tables keep the guard's lookups and
   * the iteration's cheap (no lookup at all in a segment nobody wrote to), and a segment's table
   * goes away whole once the segment is serialized.
   */
  pre: Array<Map<string, Preimage> | undefined>;
  /** start-time expire times of preimage keys that had one (Value preimages only) */
  preExpires: Map<string, number>;
}

/** What a kept collection preimage belongs to, to copy it before it is mutated in place. */
interface FrozenRef {
  st: DbState;
  seg: number;
  key: string;
}

/**
 * Retained-memory estimate per kept key beyond its value: its entry in a segment's preimage
 * table (key, value, chain, buckets and slack) plus that table's share of a Map object, bytes.
 */
const PREIMAGE_ENTRY_OVERHEAD = 64;

/**
 * The fork-less point-in-time snapshot of DESIGN.md: iterates every database segment by segment
 * in short slices; a key changed before its segment is serialized keeps its start-time value in
 * a preimage table (per-key copy-on-write), so the result is exactly the dataset at
 * {@link start} and a write costs a Map insertion, not the serialization of a segment.
 *
 * - GUARD_REPLACE / GUARD_DELETE (a new value object, a TTL change, a deletion): the old value is
 *   kept by reference, no copy: strings are immutable, and a collection that leaves its key is
 *   not changed by that. A kept collection that later reaches another key (RENAME, MOVE) and
 *   is mutated there is serialized first ({@link thaw}), found through a WeakMap.
 * - GUARD_MUTATE (lookupWrite: the caller may change the object in place): a collection is
 *   serialized now with {@link SnapshotFormat.entry}; a string is kept by reference.
 * - A key created after the start is recorded as absent and skipped.
 * - Segment growth is blocked while it runs (segment indexes stay stable).
 * - Nothing is emitted early, so the output keeps the per-database order RDB needs. Extra memory:
 *   the preimages of keys changed in segments not serialized yet (released as the iteration
 *   passes them) plus what the output buffers; {@link retainedBytes} estimates the former.
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
  /** kept collection preimages -> where they are kept, see {@link thaw} */
  private frozen = new WeakMap<RObject, FrozenRef[]>();
  private frozenCount = 0;
  private readonly out: SnapshotOutput;
  private dbCursor = 0;
  private segCursor = 0;
  private headerDone = false;
  private finished = false;
  /** bytes produced so far (byte sinks only; a {@link SnapshotOutput} counts its own) */
  bytes = 0;
  /** estimated bytes the preimages hold now */
  retainedBytes = 0;
  /**
   * Peak of {@link retainedBytes}: the snapshot's own extra memory, reported as the
   * rdb_last_cow_size / aof_last_cow_size of a fork-less save.
   */
  forcedBytesTotal = 0;
  /** keys serialized so far (current_save_keys_processed) */
  keysWritten = 0;
  readonly startedAt = Date.now();

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
        done: new Uint8Array(db.segments.length), pre: new Array(db.segments.length), preExpires: new Map(),
      };
      this.dbs.push(st);
      this.bySegments.set(db.segments, st);
    }
    this.ks.growthBlocked = true;
    this.ks.guard = (db, seg, key, change) => this.guard(db, seg, key, change);
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
    while (this.dbCursor < this.dbs.length) {
      const st = this.dbs[this.dbCursor]!;
      if (!this.headerDone) {
        this.headerDone = true;
        out.beginDb(st.db.id, st.keys, st.expiresCount);
        if (out.paused()) return false;
      }
      const n = st.segments.length;
      while (this.segCursor < n) {
        const i = this.segCursor++;
        if (st.done[i]) continue;
        st.done[i] = 1;
        this.serializeSegment(st, i);
        if (out.paused() || performance.now() - t0 > budgetMs) return false;
      }
      if (out.endDb) out.endDb(st.db.id);
      this.dbCursor++;
      this.segCursor = 0;
      this.headerDone = false;
      st.pre = [];
      st.preExpires.clear();
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
    this.ks.growthBlocked = false;
    for (const st of this.dbs) {
      st.pre = [];
      st.preExpires.clear();
    }
    this.frozen = new WeakMap();
    this.frozenCount = 0;
  }

  /** Keyspace guard: `key` in segment `seg` of `db` is about to change. */
  private guard(db: Database, seg: number, key: string, change: GuardChange): void {
    if (change === GUARD_MUTATE && this.frozenCount > 0) {
      const v = db.segments[seg]?.get(key);
      if (v !== undefined && typeof v !== 'string') this.thaw(v);
    }
    // Found by the segment array, not the Database: after SWAPDB a Database object holds the
    // other db's start-time segments, and after FLUSHDB a fresh array that is not ours.
    const st = this.bySegments.get(db.segments);
    if (st === undefined || seg >= st.done.length || st.done[seg]) return;
    let pre = st.pre[seg];
    if (pre === undefined) {
      pre = new Map();
      st.pre[seg] = pre;
    } else if (pre.has(key)) {
      return; // changed before: the preimage is the start-time state already
    }
    const v = st.segments[seg]!.get(key);
    if (v === undefined) {
      // created after the start: absent from the snapshot (kept so a re-creation is skipped too)
      pre.set(key, null);
      this.retain(PREIMAGE_ENTRY_OVERHEAD);
      return;
    }
    const t = st.expires.size > 0 ? st.expires.get(key) : undefined;
    if (typeof v === 'string') {
      pre.set(key, v);
      if (t !== undefined) st.preExpires.set(key, t);
      this.retain(PREIMAGE_ENTRY_OVERHEAD + v.length);
    } else if (change === GUARD_MUTATE) {
      const chunk = this.format.entry(st.db.id, key, v, t === undefined ? -1 : t);
      pre.set(key, new Serialized(chunk));
      this.retain(PREIMAGE_ENTRY_OVERHEAD + chunk.length);
    } else {
      pre.set(key, v);
      if (t !== undefined) st.preExpires.set(key, t);
      this.freeze(v, st, seg, key);
      this.retain(PREIMAGE_ENTRY_OVERHEAD);
    }
  }

  private retain(n: number): void {
    this.retainedBytes += n;
    if (this.retainedBytes > this.forcedBytesTotal) this.forcedBytesTotal = this.retainedBytes;
  }

  /** Records that collection `v` is kept by reference as the preimage of `key`. */
  private freeze(v: RObject, st: DbState, seg: number, key: string): void {
    const refs = this.frozen.get(v);
    if (refs === undefined) this.frozen.set(v, [{ st, seg, key }]);
    else refs.push({ st, seg, key });
    this.frozenCount++;
  }

  /**
   * Collection `v` is about to be mutated in place: every preimage still holding it by reference
   * (it left a key, then reached another one by RENAME or MOVE, or only its TTL changed) becomes
   * its serialized bytes.
   */
  private thaw(v: RObject): void {
    const refs = this.frozen.get(v);
    if (refs === undefined) return;
    this.frozen.delete(v);
    this.frozenCount -= refs.length;
    for (const { st, seg, key } of refs) {
      const pre = st.pre[seg];
      if (pre === undefined || pre.get(key) !== v) continue; // emitted already
      const t = st.preExpires.get(key);
      const chunk = this.format.entry(st.db.id, key, v, t === undefined ? -1 : t);
      pre.set(key, new Serialized(chunk));
      st.preExpires.delete(key);
      this.retain(chunk.length);
    }
  }

  /** Emits the preimage (start-time state) of `key`. */
  private emitPreimage(st: DbState, key: string, p: Preimage): void {
    if (p === null) {
      this.retainedBytes -= PREIMAGE_ENTRY_OVERHEAD;
      return;
    }
    if (p instanceof Serialized) {
      this.retainedBytes -= PREIMAGE_ENTRY_OVERHEAD + p.chunk.length;
      this.out.raw(p.chunk);
    } else {
      let t: number | undefined;
      if (st.preExpires.size > 0) {
        t = st.preExpires.get(key);
        if (t !== undefined) st.preExpires.delete(key);
      }
      this.retainedBytes -= PREIMAGE_ENTRY_OVERHEAD + (typeof p === 'string' ? p.length : 0);
      this.out.entry(st.db.id, key, p, t === undefined ? -1 : t);
    }
    this.keysWritten++;
  }

  /**
   * Emits segment `i` as it was at the start: its keys not changed since (current values), then
   * the preimages of the changed ones, deleted keys included, except those created after it.
   */
  private serializeSegment(st: DbState, i: number): void {
    const seg = st.segments[i]!;
    const out = this.out;
    const id = st.db.id;
    const exp = st.expires;
    const pre = st.pre[i];
    let n = 0;
    if (pre === undefined) {
      for (const [key, value] of seg) {
        const t = exp.size > 0 ? exp.get(key) : undefined;
        out.entry(id, key, value, t === undefined ? -1 : t);
      }
      n = seg.size;
    } else {
      st.pre[i] = undefined;
      for (const [key, value] of seg) {
        if (pre.has(key)) continue;
        const t = exp.size > 0 ? exp.get(key) : undefined;
        out.entry(id, key, value, t === undefined ? -1 : t);
        n++;
      }
      for (const [key, p] of pre) this.emitPreimage(st, key, p);
    }
    this.keysWritten += n;
  }
}

/** Share of wall-clock time a background snapshot takes while clients are active. */
const SNAPSHOT_SHARE = 0.25;
/** Most snapshot time saved up while clients are active, ms: the longest slice under load. */
const MAX_TOKENS_MS = 1;
/** Shortest slice worth running, ms (a slice serializes at least one segment anyway). */
const MIN_SLICE_MS = 0.1;
/** No client activity for this long, ms, and the server counts as idle: full-speed slices. */
const IDLE_AFTER_MS = 2;
/** Slice length while the server is idle, ms: the most a newly arriving client waits. */
const IDLE_SLICE_MS = 1;

/** What {@link runSliced} did: for the log line of a finished save. */
export interface SliceStats {
  slices: number;
  /** slices run while the server was idle */
  idleSlices: number;
  /** time spent in slices, ms */
  workMs: number;
  /** times the output paused the snapshot (disk behind) */
  pauses: number;
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
}

/**
 * Runs a started snapshot to the end in slices interleaved with the clients. While clients are
 * active the snapshot gets SNAPSHOT_SHARE of wall-clock time, as a token bucket: time accrues
 * at that rate (at most MAX_TOKENS_MS saved up) and each slice spends what it took; short of
 * MIN_SLICE_MS of tokens it waits on a timer (the event loop sleeps in poll meanwhile rather
 * than spinning through setImmediate). A per-turn share would not do:
 * pipelining clients leave short idle gaps between their batches, and filling those delays
 * every batch. Once no client has been read for IDLE_AFTER_MS the server is idle and slices run
 * back to back at IDLE_SLICE_MS. While the output is paused (disk behind), it waits for
 * {@link SliceHooks.drained} and the clients run alone.
 * @throws whatever `check` throws; the snapshot is not aborted (the caller does that)
 */
export async function runSliced(snap: Snapshot, output: Pick<SnapshotOutput, 'paused'>, hooks: SliceHooks): Promise<SliceStats> {
  const stats: SliceStats = { slices: 0, idleSlices: 0, workMs: 0, pauses: 0 };
  const schedule = hooks.schedule ?? ((fn: () => void): void => void setImmediate(fn));
  const activity = hooks.activity;
  let last = performance.now();
  let tokens = MIN_SLICE_MS;
  let seen = activity ? activity() : 0;
  let quietSince = activity ? last : Infinity;
  for (;;) {
    hooks.check?.();
    if (output.paused()) {
      stats.pauses++;
      await hooks.drained();
      hooks.check?.();
    }
    const now = performance.now();
    tokens = Math.min(MAX_TOKENS_MS, tokens + (now - last) * SNAPSHOT_SHARE);
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
      if (done) return stats;
    }
    if (idle || tokens >= MIN_SLICE_MS) {
      await new Promise<void>((r) => schedule(r));
    } else {
      // a timer, not setImmediate: the event loop then blocks in poll until a client or the
      // timer wakes it, instead of spinning (a spinning loop takes a core from everyone else)
      const deficitMs = (MIN_SLICE_MS - tokens) / SNAPSHOT_SHARE;
      await new Promise<void>((r) => setTimeout(r, Math.max(1, Math.ceil(deficitMs))));
    }
  }
}
