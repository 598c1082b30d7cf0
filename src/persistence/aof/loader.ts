import { ScriptingEngine } from '../../scripting/engine.js';
import { readFileSync, truncateSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { strerror } from './writer.js';
import type { Server } from '../../server/server.js';
import { Client } from '../../server/client.js';
import { lookupCommand } from '../../server/dispatch.js';
import type { AofManifest } from './manifest.js';
import type { CommandSpec } from '../../commands/spec.js';
import { DelayDebt } from '../debug-delay.js';

/** The commands of an AOF that need the Lua engines loaded before they replay. */
const LUA_COMMANDS = new Set(['eval', 'evalsha', 'script', 'function', 'fcall', 'fcall_ro']);

/** A fatal AOF loading problem: the file, the byte offset and the reason, for the log and exit. */
export class AofLoadError extends Error {
  constructor(readonly file: string, readonly offset: number, reason: string) {
    super(reason);
  }
}

/** Result of loading one file (loadSingleAppendOnlyFile's AOF_OK / AOF_EMPTY / AOF_TRUNCATED). */
export type AofFileStatus = 'ok' | 'empty' | 'truncated' | 'missing';

/**
 * Loads an RDB image at the start of `buf` into the keyspace as an AOF base (keys already expired
 * are kept, as Redis's RDBFLAGS_AOF_PREAMBLE), returning the number of bytes it used. Provided by
 * the RDB layer.
 */
export type RdbPreambleLoader = (server: Server, buf: Buffer, file: string) => Promise<number> | number;

/** How often loading yields to the event loop so clients get -LOADING replies promptly (ms). */
const SLICE_MS = 50;

/** Progress of the current load, for INFO loading_* fields. */
export interface LoadProgress {
  file: string;
  totalBytes: number;
  loadedBytes: number;
}

/**
 * What a load in steps waits for between two steps: the promise of an asynchronous RDB preamble
 * loader (its result, the offset of the RESP tail, is passed back), null for a pause that lets
 * the event loop serve clients (-LOADING) before the next slice, or the key-load-delay debt to
 * sleep off (on a timer, or blocking in a synchronous load).
 */
type LoadWait = Promise<number> | null | DelayDebt;

/** A load as a generator of {@link LoadWait}s, run by {@link runAsync} or {@link runSync}. */
type LoadSteps<T> = Generator<LoadWait, T, number | undefined>;

/** Runs a load yielding to the event loop between slices (start-up). */
async function runAsync<T>(steps: LoadSteps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const wait = next.value;
    let value: number | undefined;
    try {
      if (wait === null) await new Promise((r) => setImmediate(r));
      else if (wait instanceof DelayDebt) await wait.payAsync();
      else value = await wait;
    } catch (e) {
      next = steps.throw(e);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}

/**
 * Runs a load to its end without giving the event loop a turn (DEBUG LOADAOF: as in Redis, nothing
 * else runs until the data set is whole again). Its RDB preamble loader must be synchronous.
 */
function runSync<T>(steps: LoadSteps<T>): T {
  let next = steps.next();
  while (!next.done) {
    const wait = next.value;
    if (wait instanceof DelayDebt) wait.paySync();
    else if (wait !== null) throw new Error('a synchronous AOF load cannot wait for an asynchronous step (an RDB preamble loader, or the Lua VM an EVAL in the file needs)');
    next = steps.next(undefined);
  }
  return next.value;
}

/** Options of one file's load. */
interface AofFileOptions {
  /** aof-load-truncated and this is the last file: a torn last command is cut off */
  truncatedAllowed: boolean;
  rdbLoader: RdbPreambleLoader | null;
  progress?: LoadProgress;
  /** how long a slice of commands runs before the load yields, ms (default SLICE_MS; tests) */
  sliceMs?: number;
}

/**
 * Loads one AOF file (loadSingleAppendOnlyFile in src/aof.c): an optional RDB preamble, then RESP
 * commands (`#` annotation lines skipped) run through their handlers on a fake client. A MULTI
 * without EXEC at the end is rolled back; a truncated last command is cut off, and the file
 * truncated at the last complete command, when `truncatedAllowed` (aof-load-truncated, last file);
 * anything else malformed throws {@link AofLoadError} with the offset. Yields to the event loop
 * every 50 ms.
 */
export async function loadAofFile(server: Server, path: string, opts: AofFileOptions): Promise<AofFileStatus> {
  return runAsync(aofFileSteps(server, path, opts));
}

function* aofFileSteps(server: Server, path: string, opts: AofFileOptions): LoadSteps<AofFileStatus> {
  if (!existsSync(path)) return 'missing';
  const buf = readFileSync(path);
  const name = path;
  if (buf.length === 0) return 'empty';
  if (opts.progress) {
    opts.progress.file = path;
    opts.progress.totalBytes += buf.length;
  }
  const fake = new Client(server, 0, null, server.keyspace.dbs[0]!);
  fake.authenticated = true;
  // the log replays what was already allowed: no user, no permission check (a null c->user)
  fake.user = null;
  let pos = 0;
  if (buf.length >= 5 && buf.latin1Slice(0, 5) === 'REDIS') {
    if (opts.rdbLoader === null) throw new AofLoadError(name, 0, 'the AOF has an RDB preamble but no RDB loader is available');
    server.log.notice('Reading RDB base file on AOF loading...');
    const loaded = opts.rdbLoader(server, buf, path);
    pos = typeof loaded === 'number' ? loaded : (yield loaded)!;
    server.log.notice('Reading the remaining AOF tail...');
  }
  let validUpTo = pos;
  let validBeforeMulti = pos;
  let multiQueue: Array<{ argv: string[] }> | null = null;
  let t0 = performance.now();
  const n = buf.length;
  const loadedBefore = opts.progress?.loadedBytes ?? 0;
  const reader = new AofCommandReader(buf, pos);
  // key-load-delay (debugDelay after every command of loadSingleAppendOnlyFile): read again after
  // every yield, where a CONFIG SET may have changed it
  let loadDelay = server.config.get<number>('key-load-delay');
  const delay = new DelayDebt();
  const sliceMs = opts.sliceMs ?? SLICE_MS;
  // the clock is read every 256 commands: a read per command costs more than a small SET
  for (let count = 0; ; count++) {
    if (delay.due || ((count & 255) === 0 && performance.now() - t0 > sliceMs)) {
      if (opts.progress) opts.progress.loadedBytes = loadedBefore + reader.pos;
      // the delay's sleep: on a timer at start-up (clients get -LOADING meanwhile), blocking in
      // DEBUG LOADAOF (Redis sleeps in place)
      yield delay.due ? delay : null;
      loadDelay = server.config.get<number>('key-load-delay');
      t0 = performance.now();
    }
    const r = reader.next();
    if (r.kind === 'end') break;
    if (r.kind === 'annotation') {
      validUpTo = reader.pos;
      continue;
    }
    if (r.kind === 'eof') return unexpectedEof(server, path, validUpTo, opts.truncatedAllowed);
    if (r.kind === 'format') throw badFormat(path, r.offset);
    const argv = r.argv;
    const start = r.offset;
    const { spec } = lookupCommand(server, argv);
    if (spec === undefined) {
      throw new AofLoadError(path, start, `Unknown command '${argv[0]}' reading the append only file ${path}`);
    }
    const top = spec.parent ?? spec;
    // an AOF holds EVAL (Redis 6), SCRIPT LOAD, FUNCTION LOAD or FCALL: the Lua VM loads first
    if (server.scripting === null && LUA_COMMANDS.has(top.name)) {
      yield ScriptingEngine.ensure(server).then(() => 0);
    }
    if (top.name === 'multi') {
      validBeforeMulti = validUpTo;
      multiQueue = [];
    } else if (top.name === 'exec') {
      if (multiQueue === null) throw new AofLoadError(path, start, `EXEC without MULTI in the append only file ${path}`);
      for (const q of multiQueue) run(server, fake, q.argv, path, start);
      multiQueue = null;
    } else if (multiQueue !== null) {
      multiQueue.push({ argv });
    } else {
      run(server, fake, argv, path, start, spec);
    }
    validUpTo = reader.pos;
    if (loadDelay !== 0) delay.add(loadDelay);
  }
  while (delay.us > 0) yield delay;
  if (opts.progress) opts.progress.loadedBytes = loadedBefore + n;
  if (multiQueue !== null) {
    server.log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${path}`);
    return unexpectedEof(server, path, validBeforeMulti, opts.truncatedAllowed);
  }
  return 'ok';
}

/** One step of {@link AofCommandReader}. */
export type AofReadResult =
  | { kind: 'command'; argv: string[]; offset: number }
  | { kind: 'annotation'; offset: number; text: string }
  | { kind: 'end' }
  | { kind: 'eof'; offset: number }
  | { kind: 'format'; offset: number };

/**
 * Reads RESP commands from an AOF image as loadSingleAppendOnlyFile does: `*argc` lines, `$len`
 * bulk arguments (the CRLF after a bulk is skipped, not checked, like Redis's fread of 2 bytes),
 * `#` annotation lines (`#TS:<unix>`). Stops at the end (`end`), a truncated command (`eof`, with
 * the offset where it began) or malformed bytes (`format`). {@link pos} is the offset after the
 * last complete item.
 */
export class AofCommandReader {
  constructor(private readonly buf: Buffer, public pos: number) {}

  next(): AofReadResult {
    const buf = this.buf;
    const n = buf.length;
    const start = this.pos;
    if (start >= n) return { kind: 'end' };
    if (buf[start] === 35 /* # */) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) return { kind: 'eof', offset: start };
      this.pos = nl + 1;
      return { kind: 'annotation', offset: start, text: buf.latin1Slice(start + 1, nl).replace(/\r$/, '') };
    }
    if (buf[start] !== 42 /* * */) return { kind: 'format', offset: start };
    let nl = this.intLine(start);
    if (nl < 0) return { kind: 'eof', offset: start };
    const argc = this.value;
    if (argc < 1) return { kind: 'format', offset: start };
    let p = nl + 1;
    const argv: string[] = new Array(argc);
    for (let j = 0; j < argc; j++) {
      if (p >= n) return { kind: 'eof', offset: start };
      if (buf[p] !== 36 /* $ */) return { kind: 'format', offset: p };
      nl = this.intLine(p);
      if (nl < 0) return { kind: 'eof', offset: start };
      const len = this.value;
      if (len < 0) return { kind: 'format', offset: p };
      p = nl + 1;
      if (p + len + 2 > n) return { kind: 'eof', offset: start };
      argv[j] = buf.latin1Slice(p, p + len);
      p += len + 2;
    }
    this.pos = p;
    return { kind: 'command', argv, offset: start };
  }

  /** the number parsed by the last {@link intLine} */
  private value = 0;

  /**
   * Parses the `*<n>` or `$<n>` line starting at `at` into {@link value}; returns the offset of its
   * `\n`, or -1 when the line is not complete. Plain digits followed by CRLF (what every writer
   * produces) are read byte by byte; anything else goes through atoi like Redis's
   * atoi/strtol on the fgets'd line.
   */
  private intLine(at: number): number {
    const buf = this.buf;
    const n = buf.length;
    let i = at + 1;
    let v = 0;
    let c = i < n ? buf[i]! : -1;
    while (c >= 48 && c <= 57 && i - at < 17) {
      v = v * 10 + (c - 48);
      c = ++i < n ? buf[i]! : -1;
    }
    if (c === 13 && i > at + 1 && i + 1 < n && buf[i + 1] === 10) {
      this.value = v;
      return i + 1;
    }
    const nl = buf.indexOf(10, at);
    if (nl < 0) return -1;
    this.value = atoi(buf.latin1Slice(at + 1, nl));
    return nl;
  }
}

/** Runs one loaded command on the fake client (its spec when already looked up); its reply is discarded. */
function run(server: Server, fake: Client, argv: string[], path: string, offset: number, found?: CommandSpec): void {
  const spec = found ?? lookupCommand(server, argv).spec;
  if (spec === undefined) throw new AofLoadError(path, offset, `Unknown command '${argv[0]}' reading the append only file ${path}`);
  if ((spec.arity > 0 && spec.arity !== argv.length) || argv.length < -spec.arity) {
    throw new AofLoadError(path, offset, `Bad file format reading the append only file ${path}: wrong number of arguments for '${spec.fullName}'`);
  }
  fake.argv = argv;
  fake.cmd = spec;
  try {
    spec.handler(fake);
  } catch (e) {
    throw new AofLoadError(path, offset, `Error running '${spec.fullName}' from the append only file ${path}: ${(e as Error).message}`);
  }
  fake.out = '';
}

function badFormat(path: string, offset: number): AofLoadError {
  return new AofLoadError(path, offset,
    `Bad file format reading the append only file ${path}: make a backup of your AOF file, then use ./amber-check-aof --fix <filename.manifest>`);
}

/** Truncated tail: cut the file at the last complete command when allowed, else fail. */
function unexpectedEof(server: Server, path: string, validUpTo: number, allowed: boolean): AofFileStatus {
  if (allowed) {
    const size = statSync(path).size;
    server.log.warning(`!!! Warning: short read while loading the AOF file ${path}!!!`);
    server.log.warning(`!!! Truncating the AOF ${path} at offset ${validUpTo} !!!`);
    try {
      truncateSync(path, validUpTo);
    } catch (e) {
      throw new AofLoadError(path, validUpTo, `Error truncating the AOF file ${path}: ${(e as Error).message}`);
    }
    server.log.warning(`AOF ${path} loaded anyway because aof-load-truncated is enabled (${size - validUpTo} bytes dropped)`);
    return 'truncated';
  }
  throw new AofLoadError(path, validUpTo,
    `Unexpected end of file reading the append only file ${path}. You can: 1) Make a backup of your AOF file, then use ./amber-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`);
}

function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/**
 * Sizes of the files a manifest load read, bytes, as they were before the load: a torn tail that
 * aof-load-truncated cut off the last file still counts, as in Redis 7.0.15, whose
 * loadAppendOnlyFiles measures the files first (getBaseAndIncrAppendOnlyFilesSize) and sets
 * aof_current_size and aof_rewrite_base_size from those figures (INFO then shows more than the
 * files hold until the next rewrite measures them again).
 */
export interface AofLoadSizes {
  /** every base and incr file (aof_current_size after the load) */
  total: number;
  /** the base file, 0 without one (aof_base_size: what the automatic rewrite's growth is measured against) */
  base: number;
  /** the last file had a torn tail, cut off under aof-load-truncated (AOF_TRUNCATED) */
  truncated: boolean;
}

/**
 * Loads every file of a manifest in order, base then incr (loadAppendOnlyFiles): every file is
 * looked up first, so a missing one stops the load before anything is read; a truncated file is
 * accepted only when it is the last one.
 * @throws AofLoadError on any fatal problem
 */
export async function loadAofManifest(
  server: Server,
  dir: string,
  manifest: AofManifest,
  rdbLoader: RdbPreambleLoader | null,
  progress?: LoadProgress,
): Promise<AofLoadSizes> {
  return runAsync(manifestSteps(server, dir, manifest, rdbLoader, progress));
}

/**
 * {@link loadAofManifest} without yielding to the event loop (DEBUG LOADAOF, which blocks as Redis
 * does), with a synchronous RDB preamble loader.
 * @throws AofLoadError on any fatal problem
 */
export function loadAofManifestSync(
  server: Server,
  dir: string,
  manifest: AofManifest,
  rdbLoader: ((server: Server, buf: Buffer, file: string) => number) | null,
  progress?: LoadProgress,
): AofLoadSizes {
  return runSync(manifestSteps(server, dir, manifest, rdbLoader, progress));
}

function* manifestSteps(
  server: Server,
  dir: string,
  manifest: AofManifest,
  rdbLoader: RdbPreambleLoader | null,
  progress?: LoadProgress,
): LoadSteps<AofLoadSizes> {
  const files = [...(manifest.base ? [manifest.base] : []), ...manifest.incr];
  const truncatedOk = server.config.get<boolean>('aof-load-truncated');
  // getBaseAndIncrAppendOnlyFilesSize: a file the manifest lists but the disk lacks is fatal
  const sizes = files.map((f) => {
    const path = join(dir, f.fileName);
    try {
      return statSync(path).size;
    } catch (e) {
      throw new AofLoadError(path, 0, `Unable to obtain the AOF file ${f.fileName} length. stat: ${strerror(e as NodeJS.ErrnoException)}`);
    }
  });
  let total = 0;
  let base = 0;
  let truncated = false;
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const path = join(dir, f.fileName);
    const last = i === files.length - 1;
    const t0 = performance.now();
    const status = yield* aofFileSteps(server, path, { truncatedAllowed: truncatedOk, rdbLoader, progress });
    if (status === 'truncated' && !last) {
      throw new AofLoadError(path, 0, `Fatal error: the truncated file is not the last file (${f.fileName})`);
    }
    truncated = status === 'truncated';
    const size = sizes[i]!;
    total += size;
    if (f.type === 'b') base = size;
    if (status !== 'empty') server.log.notice(`DB loaded from ${f.type === 'b' ? 'base' : 'incr'} file ${f.fileName}: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
  }
  return { total, base, truncated };
}
