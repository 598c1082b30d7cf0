/**
 * The engine's own write-ahead log in front of LevelDB.
 *
 * A client must not hear OK for a write a killed process would lose (under `always`, a power cut
 * either). LevelDB writes a batch to its log on classic-level's thread pool, so the server used to
 * hold each turn's replies until that round trip came back (100-300 us, and under `always` a
 * LevelDB fsync on top; the turn's clients idle meanwhile: -c 50 SET ran at ~0.6x of the AOF's
 * everysec). Instead each turn's records are now appended here with one write(2) on the main
 * thread, as the AOF appends a turn — under `always` followed by an fdatasync, the AOF's group
 * commit — and the replies go out at once; LevelDB gets the same records in its batches behind,
 * in order, as before. Each batch also writes the `W` record: the sequence number of the last log
 * entry it holds. At start-up ({@link recoverWal}) the entries after the store's `W` (acknowledged,
 * never in LevelDB: the process died first) are written to the store before it is loaded; then
 * the files are deleted.
 *
 * Under everysec and no an entry is in the page cache, as the AOF's write() leaves it: a killed
 * process loses nothing acknowledged, a power cut what LevelDB had not synced (its batches are
 * synced once a second and trail the log by a batch at most), and a file goes once LevelDB has
 * its entries. Under always the entry is on disk before its replies, LevelDB's batches covered by
 * it are synced once a second, and a file goes only once a synced batch holds its entries.
 *
 * Files: `amber-wal-<n>.log` in the store's directory (LevelDB ignores names it did not make;
 * the ".log" makes refuseHeadlessStore count them). Entries: `[u32le length][u32le CRC-32C of the
 * payload, masked as LevelDB's][payload]`, the payload `[f64le sequence][records]`, a record
 * `[u8 1 put | 0 delete][u32le key length][key][u32le value length][value]` (puts only), keys and
 * values as the engine's latin1 byte strings. A file is started when the current one passes
 * {@link WAL_FILE_BYTES}; files whose entries are all in LevelDB are deleted.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c, maskCrc, unmaskCrc } from './crc32c.js';
import { fsyncDir, unlinkInBackground } from '../fsutil.js';
import { LevelDbCorruption } from './verify.js';
import type { Records } from './queue.js';

/**
 * Bytes after which the log moves on to a new file; a file whose entries are all in LevelDB is
 * deleted, and the current one is started over once it holds WAL_KEEP_BYTES that all are. What a
 * crash leaves for the next start-up to read is then a few MB at most, as a rule.
 */
export const WAL_FILE_BYTES = 16 * 1024 * 1024;
const WAL_KEEP_BYTES = 1024 * 1024;
/** Largest entry: records of a bigger turn are not logged (its replies wait for LevelDB). */
const WAL_ENTRY_MAX = 64 * 1024 * 1024;
/** Entry header: length, CRC. Payload header: sequence number. */
const ENTRY_HEADER = 8;
const SEQ_BYTES = 8;
const PUT = 1;
const DEL = 0;
const NAME = /^amber-wal-(\d+)\.log$/;

/** The name of log file `n`. */
function fileName(n: number): string {
  return `amber-wal-${String(n).padStart(6, '0')}.log`;
}

/** The log files of store `dir`: [number, name], ascending. */
function walFiles(dir: string): Array<[number, string]> {
  return readdirSync(dir).map((n) => [NAME.exec(n), n] as const).filter(([m]) => m !== null)
    .map(([m, n]) => [Number(m![1]), n] as [number, string]).sort((a, b) => a[0] - b[0]);
}

/** Where the store records the last log entry it holds (layout.ts `W`; older Amber versions ignore it). */
export const WAL_APPLIED_KEY = 'W';

/** What a store needs for recovery: classic-level's get and batch. */
export interface WalStore {
  get(key: string): Promise<string | undefined>;
  batch(ops: WalOp[], options: { sync: boolean }): Promise<void>;
}

/** A torn last entry: the file, where it starts, its bytes. */
export interface WalTornTail {
  file: string;
  offset: number;
  bytes: number;
}

/** What {@link scanWal} found. */
export interface WalScan {
  files: number;
  entries: number;
  bytes: number;
  /** the highest sequence number seen (0: none) */
  lastSeq: number;
  torn: WalTornTail | null;
}

/**
 * Reads every entry of the log files of store `dir`, in order, checking each one's CRC, and
 * passes the sequence number and records of those after sequence `after` to `onEntry`.
 * @throws LevelDbCorruption naming the file and offset when an entry is damaged and others follow
 *   it (or a whole file follows it): what follows cannot be trusted to be in order
 */
export async function scanWal(dir: string, onEntry?: (seq: number, ops: WalOp[]) => Promise<void>, after = 0): Promise<WalScan> {
  const files = walFiles(dir);
  const out: WalScan = { files: files.length, entries: 0, bytes: 0, lastSeq: 0, torn: null };
  for (let fi = 0; fi < files.length; fi++) {
    const name = files[fi]![1];
    const path = join(dir, name);
    const b = readFileSync(path);
    out.bytes += b.length;
    let p = 0;
    while (p < b.length) {
      const bad = (why: string, followed = true): never => {
        const after = followed ? `, with ${fi < files.length - 1 ? 'later log files' : 'more bytes'} after it` : '';
        throw new LevelDbCorruption(dir, name, p, `${why}${after}`, 'Move the file away to start without its writes, or restore the store from a BACKUP copy');
      };
      const end = entryEnd(b, p);
      if (end < 0) {
        // what a process killed in the middle of a write leaves: the last entry of the last file
        if (fi === files.length - 1 && !hasEntryAfter(b, p + 1)) {
          out.torn = { file: path, offset: p, bytes: b.length - p };
          break;
        }
        bad(end === BAD_LENGTH ? `bad entry length ${p + ENTRY_HEADER <= b.length ? b.readUInt32LE(p) : -1}` : 'entry checksum mismatch');
      }
      const seq = b.readDoubleLE(p + ENTRY_HEADER);
      if (!(seq > out.lastSeq)) bad(`entry ${seq} after entry ${out.lastSeq}`, false);
      // entries the store holds already are only checked (a crash leaves mostly those)
      if (onEntry !== undefined && seq > after) await onEntry(seq, decodeRecords(b, p + ENTRY_HEADER + SEQ_BYTES, end, () => bad('malformed records', false)));
      out.entries++;
      out.lastSeq = seq;
      p = end;
    }
  }
  return out;
}

/** A record of an entry, as a classic-level batch operation. */
export type WalOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** What {@link recoverWal} did. */
export interface WalRecovery {
  /** entries written to the store, and their records */
  entries: number;
  records: number;
  /** the sequence number the next entry takes */
  nextSeq: number;
  /** a torn last entry dropped, or null */
  torn: WalTornTail | null;
}

/**
 * Writes the entries of the store's log files that the store does not hold yet (sequence above
 * its `W` record) to the store, in order, synced; then deletes the files.
 * @throws Error from {@link scanWal} (the files and the store are left as they are, but for the
 *   entries before the damage, which are written)
 */
export async function recoverWal(store: WalStore, dir: string): Promise<WalRecovery> {
  const appliedRaw = await store.get(WAL_APPLIED_KEY);
  const parsed = appliedRaw === undefined ? 0 : Number(appliedRaw);
  const applied = Number.isFinite(parsed) ? parsed : 0;
  const out: WalRecovery = { entries: 0, records: 0, nextSeq: applied + 1, torn: null };
  const scan = await scanWal(dir, async (seq, ops) => {
    ops.push({ type: 'put', key: WAL_APPLIED_KEY, value: String(seq) });
    await store.batch(ops, { sync: false });
    out.entries++;
    out.records += ops.length - 1;
  }, applied);
  out.torn = scan.torn;
  if (scan.lastSeq + 1 > out.nextSeq) out.nextSeq = scan.lastSeq + 1;
  if (scan.files > 0) {
    // one synced write covers the batches above (LevelDB's log is sequential)
    await store.batch([{ type: 'put', key: WAL_APPLIED_KEY, value: String(out.nextSeq - 1) }], { sync: true });
    for (const [, name] of walFiles(dir)) unlinkSync(join(dir, name));
  }
  return out;
}

/** {@link entryEnd}'s answers for a bad entry: its length field, or its checksum. */
const BAD_LENGTH = -1;
const BAD_CRC = -2;

/**
 * Where the entry starting at `p` of `b` ends, when it is whole and its CRC matches; else
 * BAD_LENGTH (no room for a header, a length below the sequence number's or past the end) or
 * BAD_CRC.
 */
function entryEnd(b: Buffer, p: number): number {
  if (p + ENTRY_HEADER > b.length) return BAD_LENGTH;
  const len = b.readUInt32LE(p);
  const end = p + ENTRY_HEADER + len;
  if (len < SEQ_BYTES || end > b.length) return BAD_LENGTH;
  return unmaskCrc(b.readUInt32LE(p + 4)) === crc32c(b, p + ENTRY_HEADER, end) ? end : BAD_CRC;
}

/** True when a whole valid entry starts anywhere in b[from..] (a torn entry has none after it). */
function hasEntryAfter(b: Buffer, from: number): boolean {
  for (let p = from; p + ENTRY_HEADER + SEQ_BYTES <= b.length; p++) if (entryEnd(b, p) >= 0) return true;
  return false;
}

/** The records of one entry, b[p, end), as classic-level batch operations. */
function decodeRecords(b: Buffer, p: number, end: number, bad: () => never): WalOp[] {
  const ops: WalOp[] = [];
  while (p < end) {
    const op = b[p]!;
    if ((op !== PUT && op !== DEL) || p + 5 > end) bad();
    const kl = b.readUInt32LE(p + 1);
    p += 5;
    if (p + kl > end) bad();
    const key = b.latin1Slice(p, p + kl);
    p += kl;
    if (op === DEL) {
      ops.push({ type: 'del', key });
      continue;
    }
    if (p + 4 > end) bad();
    const vl = b.readUInt32LE(p);
    p += 4;
    if (p + vl > end) bad();
    ops.push({ type: 'put', key, value: b.latin1Slice(p, p + vl) });
    p += vl;
  }
  return ops;
}

/**
 * The log being appended to while the store is open (see the module comment). {@link append}
 * returns null once a write failed and could not be undone; the caller then waits for LevelDB
 * as it did before this log existed, until {@link applied} finds every entry in the store and
 * starts a clean file.
 */
export class Wal {
  private fd = -1;
  private file = 0;
  private size = 0;
  /** files before the current one, with the last sequence number in each */
  private older: Array<[number, number]> = [];
  private lastSeq: number;
  private appliedSeq: number;
  /** entries up to this one are on disk (fdatasync'ed; older files closed after a sync) */
  syncedSeq: number;
  /** the current file was created since the directory was last fsync'ed */
  private dirUnsynced = false;
  private buf = Buffer.allocUnsafe(64 * 1024);
  /** a failed write left the file in a state appends must not follow */
  broken = false;
  /** the last write error, for INFO and the log */
  lastError: string | null = null;

  /**
   * @param dir the store's directory (recovered: no log files left)
   * @param nextSeq the sequence number of the first entry ({@link WalRecovery.nextSeq})
   * @param fileBytes size after which a new file is started (tests make it small)
   */
  constructor(private readonly dir: string, nextSeq: number, private readonly fileBytes = WAL_FILE_BYTES) {
    this.lastSeq = nextSeq - 1;
    this.appliedSeq = nextSeq - 1;
    this.syncedSeq = nextSeq - 1;
  }

  /** Bytes of the current log file. */
  get bytes(): number {
    return this.size;
  }

  /**
   * Appends records [from, end) of `recs` as one entry. Returns its sequence number, or null when
   * the write failed or the entry would be bigger than WAL_ENTRY_MAX (the caller holds the turn's
   * replies for LevelDB instead).
   */
  append(recs: Records, from: number): number | null {
    if (this.broken) return null;
    const { keys, vals } = recs;
    let need = ENTRY_HEADER + SEQ_BYTES;
    for (let i = from; i < keys.length; i++) need += 9 + keys[i]!.length + (vals[i]?.length ?? 0);
    // a turn that rewrites a whole data set (DEBUG RELOAD, a big RESTORE) waits for LevelDB
    // instead of doubling its memory here
    if (need > WAL_ENTRY_MAX) return null;
    if (need > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    const b = this.buf;
    const seq = this.lastSeq + 1;
    b.writeDoubleLE(seq, ENTRY_HEADER);
    let p = ENTRY_HEADER + SEQ_BYTES;
    for (let i = from; i < keys.length; i++) {
      const k = keys[i]!;
      const v = vals[i]!;
      b[p] = v === null ? DEL : PUT;
      b.writeUInt32LE(k.length, p + 1);
      p += 5;
      p += b.latin1Write(k, p, k.length);
      if (v !== null) {
        b.writeUInt32LE(v.length, p);
        p += 4;
        p += b.latin1Write(v, p, v.length);
      }
    }
    b.writeUInt32LE(p - ENTRY_HEADER, 0);
    b.writeUInt32LE(maskCrc(crc32c(b, ENTRY_HEADER, p)), 4);
    try {
      if (this.fd < 0 || this.size >= this.fileBytes) this.nextFile();
      let done = 0;
      while (done < p) done += writeSync(this.fd, b, done, p - done);
    } catch (e) {
      this.fail(e as Error);
      return null;
    }
    this.size += p;
    this.lastSeq = seq;
    return seq;
  }

  /**
   * fdatasyncs the current file when it has entries not yet on disk (leveldb-sync always: once
   * per turn, before its replies). False when the sync failed (the caller then waits for LevelDB).
   */
  sync(): boolean {
    if (this.syncedSeq >= this.lastSeq) return true;
    if (this.broken || this.fd < 0) return false;
    try {
      fdatasyncSync(this.fd);
      if (this.dirUnsynced) {
        fsyncDir(this.dir);
        this.dirUnsynced = false;
      }
    } catch (e) {
      // what the failed sync leaves on disk is unknown: no more appends to this file
      this.lastError = (e as Error).message;
      this.broken = true;
      return false;
    }
    this.syncedSeq = this.lastSeq;
    return true;
  }

  /** Starts the next file (the current one, if any, joins the older ones, synced first). */
  private nextFile(): void {
    if (this.fd >= 0) {
      try {
        fdatasyncSync(this.fd);
      } catch (e) {
        // what the failed sync leaves on disk is unknown: no more appends to this file
        this.broken = true;
        throw e;
      }
      this.syncedSeq = this.lastSeq;
      this.older.push([this.file, this.lastSeq]);
      closeSync(this.fd);
      this.fd = -1;
    }
    const n = this.file === 0 ? 1 : this.file + 1;
    this.fd = openSync(join(this.dir, fileName(n)), 'w', 0o644);
    this.file = n;
    this.size = 0;
    // the new name must survive a power cut too, for a synced entry in it to (see sync)
    this.dirUnsynced = true;
  }

  /** A failed or short write: cut the file back to its last whole entry, or give up on it. */
  private fail(e: Error): void {
    this.lastError = e.message;
    if (this.broken) return;
    try {
      if (this.fd < 0) throw e;
      ftruncateSync(this.fd, this.size);
      if (fstatSync(this.fd).size !== this.size) throw new Error('truncation did not take');
    } catch {
      this.broken = true;
    }
  }

  /**
   * LevelDB holds every entry up to `seq`: deletes the files it covers; with everything held and a
   * broken or long file, starts over with a clean one.
   */
  applied(seq: number): void {
    if (seq > this.appliedSeq) this.appliedSeq = seq;
    while (this.older.length > 0 && this.older[0]![1] <= this.appliedSeq) {
      const [n] = this.older.shift()!;
      // freeing a full file's blocks takes milliseconds: off the event loop (a file left behind
      // by a failed unlink holds only entries the store has, which a start-up skips)
      void unlinkInBackground(join(this.dir, fileName(n)));
    }
    if (this.appliedSeq >= this.lastSeq && this.fd >= 0 && (this.broken || this.size >= Math.min(WAL_KEEP_BYTES, this.fileBytes))) this.reset();
  }

  /** With every entry in the store: removes the current file; the next append starts a new one. */
  private reset(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closing a file whose writes failed: its contents are in the store already
    }
    this.fd = -1;
    void unlinkInBackground(join(this.dir, fileName(this.file)));
    // the next append starts a new file: whatever happened to this one no longer matters
    this.broken = false;
    this.lastError = null;
    this.size = 0;
    // its entries are in LevelDB (under always, in a synced batch): nothing of them is left to
    // sync, and a turn with nothing new must not find the log unsyncable for want of a file
    this.syncedSeq = this.lastSeq;
  }

  /**
   * Closes the log. `remove`: every entry is in the store (a drained close): the files go too;
   * otherwise they stay for the next start-up to recover.
   */
  close(remove: boolean): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // nothing more can be done for it
      }
      this.fd = -1;
    }
    if (!remove) return;
    for (const [, name] of walFiles(this.dir)) {
      try {
        unlinkSync(join(this.dir, name));
      } catch {
        // already gone
      }
    }
  }
}
