import type { Keyspace } from '../keyspace/keyspace.js';
import type { Database } from '../keyspace/database.js';
import type { Value } from '../keyspace/types/object.js';

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

interface DbState {
  db: Database;
  /** the segments as they were at the start (FLUSHALL may replace the db's array) */
  segments: Map<string, Value>[];
  expires: Map<string, number>;
  keys: number;
  expiresCount: number;
  /** segments already serialized, by index */
  done: Uint8Array;
  /** bytes of segments serialized early (forced by writers) before the iteration reached this db */
  forced: Array<Uint8Array | string>;
  forcedBytes: number;
}

/**
 * The fork-less point-in-time snapshot of DESIGN.md: iterates every database segment by segment
 * in short slices, and serializes a segment before the keyspace gate lets anything change it
 * (write, delete, expiry, flush), so the result is exactly the dataset at {@link start}.
 *
 * - Segment growth is blocked while it runs (segment indexes stay stable).
 * - A segment forced by a write of a database the iteration has not reached yet is serialized at
 *   once into a per-database buffer and emitted when the iteration gets there, so the output keeps
 *   the per-database order formats like RDB need. Extra memory = those forced bytes plus whatever
 *   the sink buffers.
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
  private dbCursor = 0;
  private segCursor = 0;
  private headerDone = false;
  private finished = false;
  /** bytes produced so far */
  bytes = 0;
  /** bytes produced early because writers forced segments (the snapshot's own extra memory) */
  forcedBytesTotal = 0;
  keysWritten = 0;
  readonly startedAt = Date.now();

  constructor(
    private readonly ks: Keyspace,
    private readonly format: SnapshotFormat,
    private readonly sink: SnapshotSink,
  ) {}

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
        done: new Uint8Array(db.segments.length), forced: [], forcedBytes: 0,
      };
      this.dbs.push(st);
      this.bySegments.set(db.segments, st);
    }
    this.ks.growthBlocked = true;
    this.ks.guard = (db, seg) => this.guard(db, seg);
    if (this.dbs.length === 0) this.finish();
  }

  /** True once every segment was emitted (or the snapshot was aborted). */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Serializes segments for about `budgetMs` milliseconds, or until the sink asks for a pause.
   * Returns true when the snapshot is complete.
   */
  step(budgetMs = 1): boolean {
    if (this.finished) return true;
    const t0 = performance.now();
    while (this.dbCursor < this.dbs.length) {
      const st = this.dbs[this.dbCursor]!;
      if (!this.headerDone) {
        this.headerDone = true;
        if (!this.emit(this.format.beginDb(st.db.id, st.keys, st.expiresCount))) return false;
        for (const chunk of st.forced) this.emit(chunk);
        st.forced = [];
        st.forcedBytes = 0;
      }
      while (this.segCursor < st.segments.length) {
        const i = this.segCursor++;
        if (st.done[i]) continue;
        st.done[i] = 1;
        const more = this.serializeSegment(st, i, (chunk) => this.emit(chunk));
        if (!more || performance.now() - t0 > budgetMs) return false;
      }
      if (this.format.endDb) this.emit(this.format.endDb(st.db.id));
      this.dbCursor++;
      this.segCursor = 0;
      this.headerDone = false;
      if (performance.now() - t0 > budgetMs) return false;
    }
    this.finish();
    return true;
  }

  /** Stops the snapshot early and removes the guard (BGSAVE failure, server shutdown). */
  abort(): void {
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.ks.guard !== null) this.ks.guard = null;
    this.ks.growthBlocked = false;
  }

  private emit(chunk: Uint8Array | string): boolean {
    this.bytes += chunk.length;
    return this.sink(chunk);
  }

  /** Keyspace guard: a segment is about to change. */
  private guard(db: Database, seg: number): void {
    // Found by the segment array, not the Database: after SWAPDB a Database object holds the
    // other db's start-time segments, and after FLUSHDB a fresh array that is not ours.
    const st = this.bySegments.get(db.segments);
    if (st === undefined || seg >= st.done.length || st.done[seg]) return;
    st.done[seg] = 1;
    const idx = this.dbs.indexOf(st);
    if (idx < this.dbCursor || (idx === this.dbCursor && this.headerDone)) {
      // the iteration is in this db (or past it, impossible since done is set): emit in place
      this.serializeSegment(st, seg, (chunk) => this.emit(chunk));
    } else {
      this.serializeSegment(st, seg, (chunk) => {
        st.forced.push(chunk);
        st.forcedBytes += chunk.length;
        this.forcedBytesTotal += chunk.length;
        return true;
      });
    }
  }

  private serializeSegment(st: DbState, i: number, out: (chunk: Uint8Array | string) => boolean): boolean {
    const seg = st.segments[i]!;
    let more = true;
    const exp = st.expires;
    for (const [key, value] of seg) {
      const t = exp.size > 0 ? exp.get(key) : undefined;
      more = out(this.format.entry(st.db.id, key, value, t === undefined ? -1 : t)) && more;
      this.keysWritten++;
    }
    return more;
  }
}
