/**
 * Checks a LevelDB store's files against their own CRC-32C checksums before LevelDB opens it.
 *
 * classic-level opens stores with LevelDB's defaults: paranoid_checks and verify_checksums off, so
 * LevelDB never checks a table block's CRC, and a flipped byte in a table either loads a different
 * keyspace silently or trips an assertion compiled into classic-level's prebuilt binary, which
 * aborts the process. A corrupt record in the middle of a write-ahead log is dropped with the rest
 * of its 32 KB block, also silently. So Amber checks what LevelDB is about to read, following
 * leveldb 1.20 (the version classic-level 3 builds):
 * - `CURRENT` names the MANIFEST (db/filename.cc);
 * - the MANIFEST is a log (db/log_format.h) of version edits (db/version_edit.cc): replaying them
 *   gives the live table files with their sizes, and the log number from which write-ahead logs
 *   are replayed (DBImpl::Recover);
 * - every live table (table/format.cc, table/table_builder.cc): the footer's magic number, the
 *   CRC of every block (data blocks, filter block, metaindex, index), and that the blocks cover
 *   the file exactly, so no byte escapes a checksum;
 * - every write-ahead log LevelDB will replay: the CRC of every record. A bad record with valid
 *   records after it is corruption; bad bytes at the very end with nothing valid after them are
 *   the tail of a write cut short by a crash, which LevelDB drops (as it does) and Amber reports
 *   ({@link StoreCheck.tornTails}), like aof-load-truncated.
 *
 * Found corruption is thrown as a {@link LevelDbCorruption} naming the file, the byte offset and
 * the reason. Costs one read of the store (the load reads it next, from the page cache) and about
 * a millisecond of CRC per MB.
 */
import { existsSync, readFileSync, statSync, openSync, fstatSync, closeSync } from 'node:fs';
import { open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c, unmaskCrc } from './crc32c.js';
import { snappyUncompress } from './snappy.js';
import { readPrefixSync } from '../fsutil.js';

/** Bytes of a log block (log_format.h kBlockSize) and of a record header (crc, length, type). */
const LOG_BLOCK = 32768;
/** A write-ahead log is read and checked this many bytes at a time (256 blocks, 8 MB). */
const LOG_CHUNK = 256 * LOG_BLOCK;
const LOG_HEADER = 7;
/** Log record types (log_format.h). */
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;
/** Table footer bytes and block trailer bytes (table/format.h). */
const FOOTER = 48;
const TRAILER = 5;
/** kTableMagicNumber 0xdb4775248b80fb57, as the footer's two little-endian halves. */
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;

/** Corruption found in a store: the file (`file`: its name within the store), the byte offset, the reason. */
export class LevelDbCorruption extends Error {
  constructor(readonly store: string, readonly file: string, readonly offset: number, readonly reason: string, remedy: string) {
    super(`corrupt file ${join(store, file)} at offset ${offset}: ${reason}. ${remedy}`);
  }
}

/** What a check found: files and bytes checked, and write-ahead logs ending in a torn record. */
export interface StoreCheck {
  tables: number;
  logs: number;
  /** bytes read and checked */
  bytes: number;
  /** logs whose last bytes are an incomplete or bad record that LevelDB drops: where and how many bytes */
  tornTails: Array<{ file: string; offset: number; bytes: number }>;
}

const RESTORE = 'Restore the store from a BACKUP copy (or move the directory away and load an RDB or AOF export), then start again.';

/**
 * The PID of the process holding the store's LOCK file (LevelDB takes an fcntl write lock on it
 * while the store is open), from Linux's /proc/locks; null when the store is not locked, or the
 * lock table cannot be read (another OS). A store in use changes under a check (compactions
 * delete and write tables), so a check of it could report damage that is not there.
 */
export function storeLockHolder(path: string): number | null {
  let st: ReturnType<typeof statSync>;
  let locks: string;
  try {
    st = statSync(join(path, 'LOCK'));
    locks = readFileSync('/proc/locks', 'latin1');
  } catch {
    return null;
  }
  // "1: POSIX  ADVISORY  WRITE 11047 fe:00:2343800 0 EOF": pid, then major:minor:inode in hex:hex:decimal
  const dev = Number(st.dev);
  const major = ((dev >> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  for (const line of locks.split('\n')) {
    const m = /^\d+:\s+POSIX\s+\S+\s+WRITE\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m === null) continue;
    if (m[4] === String(st.ino) && parseInt(m[2]!, 16) === major && parseInt(m[3]!, 16) === minor) return Number(m[1]);
  }
  return null;
}

/**
 * The file a backup writes first into its directory and removes once BACKUP.log says SUCCESS: a
 * directory holding it without that BACKUP.log is a copy cut short, which the engine and
 * amber-check-leveldb refuse ({@link unfinishedBackup}) even if somebody gave it a CURRENT file.
 */
export const BACKUP_UNFINISHED = 'BACKUP.unfinished';

/**
 * Why the directory `path` is no store to open, when it is a BACKUP that did not finish (its
 * {@link BACKUP_UNFINISHED} file is there and its BACKUP.log does not end with SUCCESS); else null.
 */
export function unfinishedBackup(path: string): string | null {
  if (!existsSync(join(path, BACKUP_UNFINISHED))) return null;
  let last = '';
  try {
    last = readFileSync(join(path, 'BACKUP.log'), 'latin1').trimEnd().split('\n').pop() ?? '';
  } catch {
    // no BACKUP.log: killed during the copy
  }
  if (last === 'SUCCESS') return null;
  return `${path} is a BACKUP whose copy was cut short (${last === '' ? 'it has no BACKUP.log' : `its BACKUP.log says ${JSON.stringify(last.slice(0, 200))}`}): it holds part of the data only. Take the backup again, or start from another copy`;
}

/**
 * Checks the store at `path` as described in the module comment. A directory without `CURRENT`
 * (a new store, or none) has nothing to check: an empty result. `onFile` is called after each
 * file, e.g. to report progress.
 * @throws LevelDbCorruption for a file that fails a check; Error for a file that cannot be read
 */
export async function verifyStore(path: string, onFile?: (bytes: number) => void, logChunkBytes = LOG_CHUNK): Promise<StoreCheck> {
  const check: StoreCheck = { tables: 0, logs: 0, bytes: 0, tornTails: [] };
  let current: string;
  try {
    current = await readFile(join(path, 'CURRENT'), 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return check;
    throw e;
  }
  const fail = (file: string, offset: number, reason: string, remedy = RESTORE): never => {
    throw new LevelDbCorruption(path, file, offset, reason, remedy);
  };
  const manifestName = manifestOf(current);
  if (manifestName === null) return fail('CURRENT', 0, `it should hold the name of a MANIFEST file and a newline, it holds ${JSON.stringify(current.slice(0, 40))}`);
  let manifest: Buffer;
  try {
    manifest = await readFile(join(path, manifestName));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return fail('CURRENT', 0, `it names ${manifestName}, which does not exist`);
  }
  const version = replayManifest(path, manifestName, manifest);
  check.bytes += manifest.length;
  onFile?.(manifest.length);

  const live = liveFiles(version, await readdir(path));
  const tables: Array<[string, number]> = [];
  for (const [number, file, size] of live.tables) {
    if (file === null) fail(tableFile(number, '.ldb'), 0, `the table is listed in ${manifestName} but missing`);
    tables.push([file!, size]);
  }
  /** every table is read into this one buffer, grown to the biggest: no 2 MB allocation per table */
  let tableBuf = Buffer.allocUnsafe(0);
  for (let i = 0; i < tables.length; i++) {
    // a synchronous read of a whole file is one syscall (readFile reads in 512 KB steps through
    // the thread pool); the event loop runs between files (a table is 2 MB)
    if (i > 0) await new Promise((r) => setImmediate(r));
    const [file, size] = tables[i]!;
    const fd = openSync(join(path, file), 'r');
    let b: Buffer;
    try {
      const length = fstatSync(fd).size;
      if (tableBuf.length < length) tableBuf = Buffer.allocUnsafe(length);
      b = tableBuf.subarray(0, readPrefixSync(fd, tableBuf, length));
    } finally {
      closeSync(fd);
    }
    verifyTable(b, size, (offset, reason) => fail(file, offset, reason));
    check.tables++;
    check.bytes += b.length;
    onFile?.(b.length);
  }
  for (const name of live.logs) {
    const size = await walkLogFile(join(path, name), logChunkBytes, (offset, reason) =>
      fail(name, offset, reason, `LevelDB would skip the rest of its 32 KB block and replay the writes after it. To load only the writes before it, truncate the file there (truncate -s ${offset} ${join(path, name)}); or restore the store from a BACKUP copy`),
    (tail, bytes) => check.tornTails.push({ file: name, offset: tail, bytes }));
    check.logs++;
    check.bytes += size;
    onFile?.(size);
  }
  return check;
}

/**
 * Checks the log file at `path` in chunks of `chunkBytes` (a multiple of 32 KB), the event loop
 * running between them; reports a torn tail through `torn(offset, bytes)`. Returns the file's size.
 */
async function walkLogFile(path: string, chunkBytes: number, corrupt: (offset: number, reason: string) => never,
  torn: (offset: number, bytes: number) => void): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const w = new LogWalker(corrupt, null);
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
    for (let base = 0; base < size; base += chunkBytes) {
      const want = Math.min(chunkBytes, size - base);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, base + got);
        if (bytesRead === 0) break; // the file shrank under the check: check what was there
        got += bytesRead;
      }
      w.feed(buf.subarray(0, got), base);
      if (got < want) break;
    }
    const tail = w.finish();
    if (tail !== null) torn(tail.offset, size - tail.offset);
    return size;
  } finally {
    await fh.close();
  }
}

/**
 * The first bad spot of a log: where, why, and whether LevelDB reads it as the log's end without
 * complaint (a record cut short by the end of the file, zeros).
 */
interface BadSpot {
  offset: number;
  reason: string;
  benign: boolean;
}

/**
 * Walks the physical records of a LevelDB log file (db/log_reader.cc ReadPhysicalRecord) and
 * checks each one's CRC, fed in chunks of whole 32 KB blocks ({@link feed}), so that a big log is
 * neither read whole into memory nor checked in one go. With `onRecord`, the logical records
 * (fragments joined) are passed on with the offset of their first fragment. At a bad spot
 * LevelDB drops the rest of its block (or, at the file's end, takes it for the end): a valid
 * record anywhere after it is reported through `corrupt` (which throws), since LevelDB would skip
 * data and go on. {@link finish} returns a bad spot with nothing valid after it (a torn tail; its
 * offset is that of the logical record it cuts short), or null when the whole file is valid.
 */
class LogWalker {
  private bad: BadSpot | null = null;
  /** offset of the first fragment of a logical record whose last fragment is still to come, or -1 */
  private pendingAt = -1;
  private parts: Buffer[] = [];

  constructor(
    private readonly corrupt: (offset: number, reason: string) => never,
    private readonly onRecord: ((record: Buffer, offset: number) => void) | null,
  ) {}

  /**
   * Walks `b`, the file's bytes from offset `base` (a multiple of 32 KB): whole blocks, except
   * the file's last one, which is shorter (a block that ends short of 32 KB ends the file).
   */
  feed(b: Buffer, base: number): void {
    const onRecord = this.onRecord;
    const corrupt = this.corrupt;
    let off = 0;
    /** records the first bad spot; refuses the file if a valid record follows in the block */
    const badSpot = (spot: BadSpot, blockEnd: number): void => {
      const bad = (this.bad ??= spot);
      const next = findRecord(b, off + 1, blockEnd);
      if (next !== -1) corrupt(bad.offset, `${bad.reason}, with a valid record after it (at offset ${base + next})`);
    };
    while (off < b.length) {
      const blockEnd = Math.min(b.length, (Math.floor(off / LOG_BLOCK) + 1) * LOG_BLOCK);
      const atEof = (base + blockEnd) % LOG_BLOCK !== 0;
      if (blockEnd - off < LOG_HEADER) {
        // the writer pads a block's last bytes with zeros; fewer at the end of the file is a header cut short
        if (atEof) this.bad ??= { offset: base + off, reason: 'record header cut short by the end of the file', benign: true };
        off = blockEnd;
        continue;
      }
      const length = b[off + 4]! | (b[off + 5]! << 8);
      const type = b[off + 6]!;
      const end = off + LOG_HEADER + length;
      if (end > blockEnd) {
        if (!atEof) badSpot({ offset: base + off, reason: `bad record length ${length}`, benign: false }, blockEnd);
        else if (unmaskCrc(b.readUInt32LE(off)) === crc32c(b, off + 6, blockEnd)) {
          // what a crash leaves is a record whose bytes stop short of its length; these bytes are a
          // whole record whose length field is damaged
          corrupt(base + off, `bad record length ${length} (the record's ${blockEnd - off - LOG_HEADER} bytes to the end of the file match its checksum)`);
        } else badSpot({ offset: base + off, reason: 'record cut short by the end of the file', benign: true }, blockEnd);
        off = blockEnd;
        continue;
      }
      if (type === 0 && length === 0) {
        // what LevelDB skips silently (preallocated space): harmless at the end, not before valid records
        badSpot({ offset: base + off, reason: 'zeros where a record should start', benign: true }, blockEnd);
        off = blockEnd;
        continue;
      }
      if (unmaskCrc(b.readUInt32LE(off)) !== crc32c(b, off + 6, end) || type < FULL || type > LAST) {
        badSpot({ offset: base + off, reason: 'record checksum mismatch', benign: false }, blockEnd);
        off = blockEnd;
        continue;
      }
      const bad = this.bad;
      if (bad !== null) corrupt(bad.offset, `${bad.reason}, with a valid record after it (at offset ${base + off})`);
      const payload = b.subarray(off + LOG_HEADER, end);
      if (type === FULL || type === FIRST) {
        if (this.pendingAt !== -1) corrupt(this.pendingAt, 'fragmented record without its last fragment');
        if (type === FULL) onRecord?.(payload, base + off);
        else {
          this.pendingAt = base + off;
          if (onRecord !== null) this.parts = [payload];
        }
      } else {
        if (this.pendingAt === -1) corrupt(base + off, 'fragment without the start of its record');
        if (onRecord !== null) this.parts.push(payload);
        if (type === LAST) {
          onRecord?.(Buffer.concat(this.parts), this.pendingAt);
          this.pendingAt = -1;
          this.parts = [];
        }
      }
      off = end;
    }
  }

  /** After the last byte was fed: the torn tail, or null. */
  finish(): BadSpot | null {
    const found = this.bad;
    if (this.pendingAt !== -1) {
      // what LevelDB drops of a log's end is the whole logical record the bad spot cuts short
      return { offset: this.pendingAt, reason: found?.reason ?? 'fragmented record cut short by the end of the file', benign: found?.benign ?? true };
    }
    return found;
  }
}

/** {@link LogWalker} over a whole file in memory (the MANIFEST). */
function walkLog(b: Buffer, onRecord: ((record: Buffer, offset: number) => void) | null, corrupt: (offset: number, reason: string) => never): BadSpot | null {
  const w = new LogWalker(corrupt, onRecord);
  w.feed(b, 0);
  return w.finish();
}

/**
 * The offset of the first valid physical record starting in [from, blockEnd - 7] (type 1-4, within
 * the block, matching CRC), or -1. Only run past a bad spot: at most one block's positions.
 */
function findRecord(b: Buffer, from: number, blockEnd: number): number {
  for (let p = from; p + LOG_HEADER <= blockEnd; p++) {
    const type = b[p + 6]!;
    if (type < FULL || type > LAST) continue;
    const end = p + LOG_HEADER + (b[p + 4]! | (b[p + 5]! << 8));
    if (end <= blockEnd && unmaskCrc(b.readUInt32LE(p)) === crc32c(b, p + 6, end)) return p;
  }
  return -1;
}

/** Reads LevelDB varints (util/coding.cc) from a byte array; numbers beyond 2^53 lose precision. */
class Cursor {
  constructor(readonly b: Uint8Array, public pos = 0, readonly end = b.length) {}

  get more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const c = this.b[this.pos++]!;
      v += (c & 127) * 2 ** shift;
      if (c < 128) return v;
    }
    throw new Error('varint longer than 10 bytes');
  }

  /** Skips a varint-length-prefixed byte string. */
  skipSlice(): void {
    const n = this.varint();
    if (this.pos + n > this.end) throw new Error('byte string past the end');
    this.pos += n;
  }
}

/** The MANIFEST file the text of a CURRENT file names (db/filename.cc), or null when malformed. */
export function manifestOf(current: string): string | null {
  return /^(MANIFEST-\d+)\n$/.exec(current)?.[1] ?? null;
}

/** The file name of table `number` with extension `ext` (db/filename.cc TableFileName). */
function tableFile(number: number, ext: '.ldb' | '.sst'): string {
  return String(number).padStart(6, '0') + ext;
}

/**
 * The files of a store that `version` (its MANIFEST replayed) says LevelDB reads, among `names`
 * (the directory's entries): each live table as [number, file name (`.ldb`, or the older
 * `.sst`; null when neither is there), size], and the write-ahead logs DBImpl::Recover replays
 * (numbered from the log number on, and the previous log number), in name order. Amber's own
 * `amber-wal-*.log` files are not LevelDB's and are left out.
 */
export function liveFiles(version: ManifestState, names: Iterable<string>): { tables: Array<[number, string | null, number]>; logs: string[] } {
  const set = new Set(names);
  const tables: Array<[number, string | null, number]> = [];
  for (const [number, size] of version.files) {
    const ldb = tableFile(number, '.ldb');
    const sst = tableFile(number, '.sst');
    tables.push([number, set.has(ldb) ? ldb : set.has(sst) ? sst : null, size]);
  }
  const logs: string[] = [];
  for (const name of [...set].sort()) {
    const lm = /^(\d+)\.log$/.exec(name);
    if (lm === null) continue;
    const number = Number(lm[1]);
    if (number >= version.logNumber || number === version.prevLogNumber) logs.push(name);
  }
  return { tables, logs };
}

/** What a MANIFEST's version edits add up to ({@link replayManifest}). */
export interface ManifestState {
  /** live table file number -> its size in bytes */
  readonly files: Map<number, number>;
  /** write-ahead logs numbered from this one on are replayed at open (and prevLogNumber, if not 0) */
  readonly logNumber: number;
  readonly prevLogNumber: number;
  /**
   * Bytes of the MANIFEST up to the end of its last complete record: all of it, or less when it
   * ends in a record cut short (what a crash leaves, or a read racing LevelDB's append).
   */
  readonly end: number;
}

/**
 * Replays the version edits of `manifest`, the bytes of the store's MANIFEST file `manifestName`
 * (db/version_set.cc VersionSet::Recover): the live tables and the logs LevelDB replays. A record
 * cut short at the end is what LevelDB reads as the MANIFEST's end, and is left out.
 * @throws LevelDbCorruption for a bad record (checksum, length, fragments) or version edit
 */
export function replayManifest(store: string, manifestName: string, manifest: Buffer): ManifestState {
  const fail = (offset: number, reason: string): never => {
    throw new LevelDbCorruption(store, manifestName, offset, reason, RESTORE);
  };
  const version = new VersionReplay();
  const mtail = walkLog(manifest, (record, offset) => {
    try {
      version.apply(record);
    } catch (e) {
      fail(offset, `bad version edit: ${(e as Error).message}`);
    }
  }, fail);
  // bad bytes with the length of a whole record are corruption to LevelDB (it refuses to open)
  if (mtail !== null && !mtail.benign) fail(mtail.offset, mtail.reason);
  return { files: version.files, logNumber: version.logNumber, prevLogNumber: version.prevLogNumber, end: mtail?.offset ?? manifest.length };
}

/**
 * The live files of a store, by replaying the MANIFEST's version edits (db/version_edit.cc
 * DecodeFrom, VersionSet::Builder::Apply: an edit's deletions, then its additions).
 */
class VersionReplay {
  /** table file number -> its size in bytes */
  readonly files = new Map<number, number>();
  logNumber = 0;
  prevLogNumber = 0;

  /** @throws Error on a malformed edit */
  apply(record: Buffer): void {
    const c = new Cursor(record);
    const added: Array<[number, number]> = [];
    const deleted: number[] = [];
    while (c.more) {
      const tag = c.varint();
      switch (tag) {
        case 1: c.skipSlice(); break; // comparator name
        case 2: this.logNumber = c.varint(); break;
        case 3: c.varint(); break; // next file number
        case 4: c.varint(); break; // last sequence
        case 5: c.varint(); c.skipSlice(); break; // compact pointer: level, key
        case 6: c.varint(); deleted.push(c.varint()); break; // deleted file: level, number
        case 7: { // new file: level, number, size, smallest key, largest key
          c.varint();
          const number = c.varint();
          const size = c.varint();
          c.skipSlice();
          c.skipSlice();
          added.push([number, size]);
          break;
        }
        case 9: this.prevLogNumber = c.varint(); break;
        default: throw new Error(`unknown tag ${tag}`);
      }
    }
    for (const n of deleted) this.files.delete(n);
    for (const [n, size] of added) this.files.set(n, size);
  }
}

/**
 * Checks one table file (table/format.cc Footer, ReadBlock; table/table_builder.cc): its size
 * against the MANIFEST's, the footer, the CRC of every block, and that data blocks, meta blocks,
 * metaindex and index cover everything before the footer exactly.
 */
function verifyTable(b: Buffer, size: number, corrupt: (offset: number, reason: string) => never): void {
  if (b.length !== size) corrupt(Math.min(b.length, size), `the table is ${b.length} bytes where the MANIFEST records ${size}`);
  if (b.length < FOOTER) corrupt(0, 'file too short to be a table');
  const footer = b.length - FOOTER;
  if (b.readUInt32LE(footer + 40) !== MAGIC_LO || b.readUInt32LE(footer + 44) !== MAGIC_HI) corrupt(footer + 40, 'bad table magic number');
  const fc = new Cursor(b, footer, footer + 40);
  let metaindex: [number, number];
  let index: [number, number];
  try {
    metaindex = [fc.varint(), fc.varint()];
    index = [fc.varint(), fc.varint()];
  } catch (e) {
    return corrupt(footer, `bad table footer: ${(e as Error).message}`);
  }
  /** data blocks in the index, for error messages (set once the index is read) */
  let dataBlocks = 0;
  /** a block's name in an error: data blocks are numbered (a table of compressible values has tens of thousands of small ones) */
  const name = (what: string | number): string => (typeof what === 'number' ? `data block ${what + 1} of ${dataBlocks}` : what);
  /** checks the CRC of the block at `off` of `n` bytes and returns its type; `what` names it for an error */
  const check = (off: number, n: number, what: string | number): number => {
    if (off + n + TRAILER > footer) corrupt(off, `${name(what)} of ${n} bytes runs past the footer`);
    if (unmaskCrc(b.readUInt32LE(off + n + 1)) !== crc32c(b, off, off + n + 1)) corrupt(off, `${name(what)} checksum mismatch`);
    const type = b[off + n]!;
    if (type > 1) corrupt(off, `${name(what)} of unknown compression type ${type}`);
    return type;
  };
  /** checks the block at `h` and returns its contents, uncompressed (LevelDB decompresses data blocks itself) */
  const block = (h: [number, number], what: string): Uint8Array => {
    const [off, n] = h;
    if (check(off, n, what) === 0) return b.subarray(off, off + n);
    try {
      return snappyUncompress(b.subarray(off, off + n));
    } catch (e) {
      return corrupt(off, `${what}: corrupted compressed block contents (${(e as Error).message})`);
    }
  };
  /** the block handles an index or metaindex block holds as values (table/block.cc entry format), flat: offset, size, ... */
  const handles = (contents: Uint8Array, at: number, what: string): number[] => {
    const out: number[] = [];
    try {
      if (contents.length < 4) throw new Error('too short');
      const dv = new DataView(contents.buffer, contents.byteOffset, contents.byteLength);
      const restarts = dv.getUint32(contents.length - 4, true);
      if (restarts > (contents.length - 4) / 4) throw new Error(`${restarts} restart points`);
      const c = new Cursor(contents, 0, contents.length - 4 - 4 * restarts);
      while (c.more) {
        // shared, unshared and value lengths: one byte each as a rule (Block::Iter's fast path)
        let unshared: number;
        let valueLength: number;
        if (c.pos + 3 <= c.end && (contents[c.pos]! | contents[c.pos + 1]! | contents[c.pos + 2]!) < 128) {
          unshared = contents[c.pos + 1]!;
          valueLength = contents[c.pos + 2]!;
          c.pos += 3;
        } else {
          c.varint();
          unshared = c.varint();
          valueLength = c.varint();
        }
        c.pos += unshared;
        const end = c.pos + valueLength;
        if (end > c.end) throw new Error('entry past the end');
        out.push(c.varint(), c.varint());
        if (c.pos > end) throw new Error('block handle longer than its entry');
        c.pos = end;
      }
    } catch (e) {
      corrupt(at, `bad ${what}: ${(e as Error).message}`);
    }
    return out;
  };
  const data = handles(block(index, 'index block'), index[0], 'index block');
  dataBlocks = data.length / 2;
  const meta = handles(block(metaindex, 'metaindex block'), metaindex[0], 'metaindex block');
  // TableBuilder writes the data blocks in index order from offset 0, then the meta blocks (the
  // filter), the metaindex and the index: together they cover every byte before the footer
  let covered = 0;
  for (let i = 0; i < data.length; i += 2) {
    const off = data[i]!;
    const n = data[i + 1]!;
    if (off !== covered) corrupt(Math.min(off, covered), off > covered ? `bytes ${covered}-${off - 1} belong to no block` : 'blocks overlap');
    check(off, n, i / 2);
    covered = off + n + TRAILER;
  }
  const rest: Array<[number, number]> = [metaindex, index];
  for (let i = 0; i < meta.length; i += 2) {
    check(meta[i]!, meta[i + 1]!, 'meta block');
    rest.push([meta[i]!, meta[i + 1]!]);
  }
  rest.sort((x, y) => x[0] - y[0]);
  for (const [off, n] of rest) {
    if (off !== covered) corrupt(Math.min(off, covered), off > covered ? `bytes ${covered}-${off - 1} belong to no block` : 'blocks overlap');
    covered = off + n + TRAILER;
  }
  if (covered !== footer) corrupt(covered, `bytes ${covered}-${footer - 1} belong to no block`);
}
