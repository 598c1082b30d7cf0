/**
 * The LevelDB layer on a server: configuration checks, start-up (load the store, or import
 * dump.rdb / the AOF once into an empty store), the per-turn write-through and group commit,
 * the cron (everysec sync, retries, reclaim), shutdown, run-time CONFIG SET leveldb yes|no,
 * BACKUP, and INFO (`leveldb` section, loading_* fields while the store loads).
 */
import { existsSync, statSync, readdirSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Server } from '../../server/server.js';
import { ConfigError } from '../../config/directives.js';
import { registerInfoProvider, registerInfoSection, setLoadingFields, type InfoSection } from '../../server/info.js';
import { LevelDbEngine, levelDbReason, LOAD_WORKER_PRESTART_BYTES } from './engine.js';
import { unfinishedBackup, storeLockHolder, verifyStore } from './verify.js';
import { markDetached, detachedAt, clearDetached } from './detached.js';
import { LoggedFatalError } from '../../server/fatal.js';
import { newBackupState, startBackup, type BackupState } from './backup.js';
import type { SyncPolicy } from './queue.js';
import type { Keyspace } from '../../keyspace/keyspace.js';
import { loadRdbFile, loadAofPreamble } from '../rdb/load.js';
import { AofManifest } from '../aof/manifest.js';
import { loadAofManifest, loadAofFile, type RdbPreambleLoader } from '../aof/loader.js';

/** Why `appendonly yes` and `leveldb yes` are refused together. */
export const BOTH_ENGINES_MSG =
  'appendonly yes and leveldb yes cannot be used together: with leveldb yes the LevelDB store is the source of truth; turn one of them off';

/** Records waiting for LevelDB beyond which replies are held until they are written. */
const BACKLOG_RECORDS = 500_000;

/** The LevelDB layer of one server. */
export interface LevelDbLayer {
  engine: LevelDbEngine;
  backup: BackupState;
}

const layers = new WeakMap<Server, LevelDbLayer>();

/** The LevelDB layer of a server, or undefined when it was not installed. */
export function levelDbOf(server: Server): LevelDbLayer | undefined {
  return layers.get(server);
}

/**
 * BACKUP <dir> for a server: null when started, else the error reply.
 */
export function backupCommand(server: Server, dir: string): string | null {
  const layer = layers.get(server);
  if (layer === undefined) return 'ERR BACKUP needs the LevelDB engine: set leveldb yes';
  return startBackup(layer.engine, layer.backup, dir);
}

/**
 * Attaches the LevelDB layer to a server (called by Server.init after the AOF and RDB layers, so
 * that its start-up hook runs first).
 * @throws Error when `appendonly yes` and `leveldb yes` are both configured
 */
export function installLevelDb(server: Server): LevelDbLayer {
  const cfg = server.config;
  if (cfg.find('leveldb') === undefined) throw new Error('the leveldb directives are not registered');
  if (cfg.get<boolean>('leveldb') && cfg.get<boolean>('appendonly')) {
    server.log.warning(`FATAL CONFIG: ${BOTH_ENGINES_MSG}`);
    throw new LoggedFatalError(BOTH_ENGINES_MSG);
  }
  const engine = new LevelDbEngine(server);
  const layer: LevelDbLayer = { engine, backup: newBackupState() };
  layers.set(server, layer);
  engine.installSignals();

  server.startupHooks.unshift(() => startup(server, engine));
  server.beforeReplyHooks.push(() => {
    const q = engine.queue;
    if (!engine.capturing || q === null) return undefined;
    engine.processTurn();
    // the turn's records go to the write-ahead log (wal.ts; synced under always) and the replies
    // at once; when the log cannot take them (it failed, an import runs) the replies wait for LevelDB
    if (!q.logTurn()) {
      const d = q.durable();
      if (d !== undefined) return d;
    }
    // backpressure: replies wait while the store is far behind
    return q.pendingOps > BACKLOG_RECORDS ? q.committed() : undefined;
  });
  server.cronHooks.push((now) => {
    if (engine.queue === null) return;
    engine.processTurn();
    engine.queue.tick(now);
    engine.reclaimStep();
  });
  // while a busy script holds the server: the everysec sync of earlier turns' batches only
  server.whileBlockedCronHooks.push((now) => engine.queue?.tick(now));
  server.shutdownHooks.push(async () => {
    if (engine.store === null) return;
    layer.backup.abort = 'the server is shutting down';
    server.log.notice('Closing the LevelDB store.');
    await engine.close(false);
  });
  server.releaseHooks.push(async () => {
    layer.backup.abort = 'the server is stopping after a fatal error';
    await engine.release();
  });

  // appendonly and leveldb exclude each other at run time too
  const ao = cfg.find('appendonly');
  if (ao !== undefined) {
    const prev = ao.apply;
    ao.apply = (v: unknown, old: unknown) => {
      if (v === true && cfg.get<boolean>('leveldb')) throw new ConfigError(BOTH_ENGINES_MSG);
      prev?.(v, old);
    };
  }
  cfg.onChange('leveldb', (v) => {
    if (v === true) {
      if (cfg.get<boolean>('appendonly')) throw new ConfigError(BOTH_ENGINES_MSG);
      if (engine.state !== 'off') throw new ConfigError('the LevelDB engine is still closing, try again');
      void enableAtRuntime(server, engine);
    } else if (engine.state !== 'off') {
      layer.backup.abort = 'the LevelDB engine was turned off (CONFIG SET leveldb no)';
      const path = engine.configuredPath();
      // as Redis leaves its AOF behind on CONFIG SET appendonly no, the store stays, frozen at
      // this point; marked as detached, so that a start-up with leveldb yes prefers a dump.rdb
      // or AOF written later to it (detached.ts)
      void engine.close().then(() => {
        try {
          markDetached(path);
          server.log.notice(`LevelDB write-through stopped (CONFIG SET leveldb no). The store ${path} keeps the data set as of now and is marked as detached: a start-up with leveldb yes imports dump.rdb or the AOF instead when one was written after now, and loads the store only when none was. CONFIG SET leveldb yes imports the live data set into it again.`);
        } catch (e) {
          server.log.warning(`LevelDB write-through stopped (CONFIG SET leveldb no), but the store ${path} could not be marked as detached: ${(e as Error).message}. A start-up with leveldb yes would load it without later changes: before one, CONFIG SET leveldb yes (imports the live data set again), or remove the store so that start-up imports dump.rdb or the AOF.`);
        }
      });
    }
  });
  cfg.onChange('leveldb-sync', (v) => {
    if (engine.queue !== null) engine.queue.policy = v as SyncPolicy;
  });

  registerInfoSection('leveldb', 'LevelDB', (_s, sec) => leveldbInfo(layer, sec), { server });
  registerInfoProvider('persistence', (_s, sec) => {
    // opening the store and reading it: the RDB layer's loading_* fields (for an import from
    // dump.rdb / the AOF) would show a load that is not running
    if (!server.keyspace.loading || (engine.state !== 'opening' && engine.state !== 'loading')) return;
    const p = engine.progress;
    sec.set('loading', 1);
    setLoadingFields(sec, p.startTime, p.totalBytes, p.loadedBytes, 0);
  }, server);
  return layer;
}

/**
 * Start-up with `leveldb yes`: opens the store; an empty one (or one whose import was cut short)
 * takes the data set of `dir` once — the AOF (appendonlydir or a legacy appendonly.aof) when
 * there is one, else dump.rdb — written through whole; a complete one is loaded. Clients get
 * -LOADING meanwhile. Then write-through starts.
 */
async function startup(server: Server, engine: LevelDbEngine): Promise<void> {
  const cfg = server.config;
  if (!cfg.get<boolean>('leveldb')) {
    // a store beside a server that will not write to it falls behind from now on (unless another
    // server has it open: that one writes to it)
    const path = engine.configuredPath();
    if (existsSync(join(path, 'CURRENT')) && storeLockHolder(path) === null) {
      try {
        markDetached(path);
      } catch (e) {
        server.log.warning(`Could not mark the LevelDB store ${path} as detached (leveldb is no): ${(e as Error).message}. A start-up with leveldb yes would load it as it is now, without later writes.`);
      }
    }
    return;
  }
  if (cfg.get<boolean>('appendonly')) {
    server.log.warning(`FATAL CONFIG: ${BOTH_ENGINES_MSG}`);
    throw new Error(BOTH_ENGINES_MSG);
  }
  const path = engine.configuredPath();
  // clients connected from now on get -LOADING until the data set is in memory
  server.keyspace.loading = true;
  engine.progress.startTime = Math.floor(Date.now() / 1000);
  engine.progress.totalBytes = storeFilesSize(path);
  engine.progress.loadedBytes = 0;
  // a big store is read on a load worker: its start overlaps the check
  if (engine.progress.totalBytes >= LOAD_WORKER_PRESTART_BYTES) engine.prestartLoadWorker();
  try {
    await openAndLoad(server, engine, path);
  } finally {
    engine.dropSpareWorker();
  }
}

/** The start-up with `leveldb yes` once the store's size is known: check, open, load or import. */
async function openAndLoad(server: Server, engine: LevelDbEngine, path: string): Promise<void> {
  const log = server.log;
  const ks = server.keyspace;
  let loaded: Awaited<ReturnType<LevelDbEngine['load']>> | null = null;
  try {
    // INFO shows the check as part of the load (loading_* fields)
    engine.state = 'opening';
    try {
      await checkStore(server, engine, path);
    } catch (e) {
      engine.state = 'off';
      throw e;
    }
    await engine.open(path);
  } catch (e) {
    ks.loading = false;
    log.warning(`Fatal error opening the LevelDB store ${path}: ${levelDbReason(e)}`);
    throw e;
  }
  try {
    const found = await engine.ownership();
    // a store detached while the server went on (detached.ts): a dump.rdb or AOF written since
    // holds later writes than the store, and is imported in its place
    const detached = found === 'complete' ? detachedAt(path) : null;
    const newer = detached === null ? null : findImportSource(server);
    const replace = newer !== null && sourceWrittenAt(newer) > detached!;
    if (detached !== null && !replace) {
      log.warning(`The LevelDB store ${path} stopped receiving writes at ${new Date(detached).toISOString()} (CONFIG SET leveldb no, or a start-up with leveldb no), and no dump.rdb or AOF in dir was written after that: loading the store as it was then.`);
    }
    if (found !== 'complete' || replace) {
      if (found === 'interrupted') {
        log.warning(`The LevelDB store ${path} was being created or imported when Amber stopped: emptying it and starting again.`);
        await engine.wipe();
      } else if (replace) {
        log.warning(`The LevelDB store ${path} stopped receiving writes at ${new Date(detached!).toISOString()} (CONFIG SET leveldb no, or a start-up with leveldb no), and ${sourceName(newer!)} was written after that: emptying the store and importing that instead.`);
        await engine.wipe();
      }
      await engine.markImporting();
      engine.state = 'importing';
      const t0 = performance.now();
      // the source found above when it replaces a detached store (its AOF manifest read once)
      const source = await importFiles(server, newer ?? findImportSource(server), replace ? 'the emptied LevelDB store' : undefined);
      const n = await engine.writeEverything();
      if (source !== null) {
        const libs = server.functions.libraries.size;
        log.notice(`Imported ${source} into the LevelDB store ${path}: ${n} keys${libs > 0 ? ` and ${libs} function librar${libs === 1 ? 'y' : 'ies'}` : ''} in ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
      } else {
        log.notice(`Created the LevelDB store ${path}`);
      }
    } else {
      engine.state = 'loading';
      log.notice(`Loading the LevelDB store ${path}`);
      loaded = await engine.load();
    }
    // the store holds the live data set again: a later start-up must not take it for a detached one
    clearDetached(path);
  } catch (e) {
    log.warning(`Fatal error loading the LevelDB store ${path}: ${levelDbReason(e)}`);
    // clients keep getting -LOADING until the process exits: closing the store may take a while,
    // and a half-loaded keyspace must not be served (or written to) meanwhile
    await engine.close();
    throw e;
  }
  ks.loading = false;
  ks.dirty = 0;
  engine.state = 'on';
  engine.startCapture();
  engine.assignMissingNamespaces();
  if (loaded !== null) {
    const st = loaded;
    const expired = removeExpiredAtLoad(ks);
    log.notice(`DB loaded from the LevelDB store: ${st.keys - expired} keys, ${st.records} records, ${(st.bytes / 1048576).toFixed(1)} MB in ${(st.ms / 1000).toFixed(3)} seconds${st.libraries > 0 ? `, ${st.libraries} function librar${st.libraries === 1 ? 'y' : 'ies'}` : ''}${st.worker ? ' (metadata read on a worker thread)' : ''}${expired > 0 ? `; ${expired} keys had expired and were removed` : ''}`);
    if (st.orphans > 0) log.notice(`LevelDB store: ${st.orphans} versions of reclaimable records skipped`);
  }
}

/**
 * Deletes the keys whose time passed while the server was down, as an RDB load drops them
 * (rdbLoad on a master): out of the keyspace at once, and out of the store through the write-
 * through that has just started. Not counted in expired_keys, as Redis does not count them.
 * Returns how many.
 */
function removeExpiredAtLoad(ks: Keyspace): number {
  const before = ks.stats.expiredKeys;
  const now = ks.now();
  let n = 0;
  for (const db of ks.dbs) {
    if (db.expires.size === 0) continue;
    const due: string[] = [];
    for (const [k, t] of db.expires) if (t < now) due.push(k);
    for (const k of due) if (db.expireIfNeeded(k)) n++;
  }
  ks.stats.expiredKeys = before;
  return n;
}

/** Bytes of the files in a store directory (0 when missing): loading_total_bytes before the store is open. */
function storeFilesSize(path: string): number {
  let n = 0;
  try {
    for (const f of readdirSync(path)) {
      try {
        const st = statSync(join(path, f));
        if (st.isFile()) n += st.size;
      } catch {
        // a file LevelDB removed meanwhile
      }
    }
  } catch {
    return 0;
  }
  return n;
}

/** What a one-time import reads: the AOF (a manifest's files, or a legacy single file), or dump.rdb. */
type ImportSource =
  | { kind: 'aof'; dir: string; manifest: AofManifest }
  | { kind: 'legacy' | 'rdb'; path: string };

/**
 * The files of `dir` a one-time import reads, in Redis's order of preference at start-up: the AOF
 * when appendonlydir has a manifest with files (or a legacy appendonly.aof exists), else
 * dump.rdb; null when there is none.
 */
function findImportSource(server: Server): ImportSource | null {
  const cfg = server.config;
  const dir = cfg.get<string>('dir') || process.cwd();
  const appendFilename = cfg.get<string>('appendfilename');
  const aofDir = resolve(dir, cfg.get<string>('appenddirname'));
  const manifest = existsSync(aofDir) ? AofManifest.load(aofDir, appendFilename) : null;
  if (manifest !== null && (manifest.base !== null || manifest.incr.length > 0)) return { kind: 'aof', dir: aofDir, manifest };
  const legacy = resolve(dir, appendFilename);
  if (existsSync(legacy) && statSync(legacy).isFile()) return { kind: 'legacy', path: legacy };
  const rdb = resolve(dir, cfg.get<string>('dbfilename'));
  return existsSync(rdb) ? { kind: 'rdb', path: rdb } : null;
}

/** When `src` was last written (Unix ms): for an AOF directory, its newest file. */
function sourceWrittenAt(src: ImportSource): number {
  if (src.kind !== 'aof') return statSync(src.path).mtimeMs;
  let newest = 0;
  for (const name of readdirSync(src.dir)) newest = Math.max(newest, statSync(join(src.dir, name)).mtimeMs);
  return newest;
}

/** A source's name for the log. */
function sourceName(src: ImportSource): string {
  return src.kind === 'aof' ? `the AOF in ${src.dir}` : src.path;
}

/**
 * Loads `src` ({@link findImportSource}) with the AOF or RDB loader, for a one-time import into
 * `into` (for the log). Returns what it loaded ('dump.rdb', 'the AOF ...'), or null when there
 * was nothing.
 */
async function importFiles(server: Server, src: ImportSource | null, into = 'the empty LevelDB store'): Promise<string | null> {
  const cfg = server.config;
  const log = server.log;
  if (src === null) return null;
  const rdbLoader: RdbPreambleLoader = loadAofPreamble;
  log.notice(`Importing ${sourceName(src)} into ${into}`);
  if (src.kind === 'aof') {
    await withLoading(server, () => loadAofManifest(server, src.dir, src.manifest, rdbLoader));
    return sourceName(src);
  }
  if (src.kind === 'legacy') {
    const truncatedAllowed = cfg.get<boolean>('aof-load-truncated');
    await withLoading(server, () => loadAofFile(server, src.path, { truncatedAllowed, rdbLoader }));
    return src.path;
  }
  const res = await loadRdbFile(server, src.path);
  return res.exists ? src.path : null;
}

/**
 * Checks the store's files against their checksums before LevelDB opens it (verify.ts: LevelDB
 * as classic-level opens it checks none) and logs what LevelDB is going to drop of a log's torn
 * tail. Both ways of opening a store (start-up, CONFIG SET leveldb yes) run it first: it also
 * refuses a BACKUP copy that did not finish (verify.ts unfinishedBackup) before its files are read.
 * @throws LevelDbCorruption naming the file, offset and reason; Error for an unfinished backup
 */
async function checkStore(server: Server, engine: LevelDbEngine, path: string): Promise<void> {
  const unfinished = unfinishedBackup(path);
  if (unfinished !== null) throw new Error(unfinished);
  const holder = storeLockHolder(path);
  if (holder !== null) {
    throw new Error(`the LevelDB store ${path} is in use by process ${holder} (it holds the store's LOCK file). Stop that process, or give this server another dir or leveldb-path.`);
  }
  const t0 = performance.now();
  // a big store takes a while (~5 ms per MB): say how far the check is, as a load does
  let checked = 0;
  let lastLog = t0;
  /** the store's size, for the progress line: listed only once a check has run that long */
  let total = -1;
  const check = await verifyStore(path, (bytes) => {
    checked += bytes;
    if (performance.now() - lastLog < 5000) return;
    lastLog = performance.now();
    if (total < 0) total = storeFilesSize(path);
    server.log.notice(`Checking the LevelDB store ${path}: ${(checked / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MB checked`);
  });
  const ms = performance.now() - t0;
  engine.lastCheck = { ms, bytes: check.bytes, tornTails: check.tornTails.length };
  if (check.tables + check.logs === 0) return;
  for (const t of check.tornTails) {
    server.log.warning(`The LevelDB store ${path}: its log ${t.file} ends in an incomplete record at offset ${t.offset} (${t.bytes} bytes), a write cut short when Amber or the machine stopped (under leveldb-sync always, one no client was told had succeeded). LevelDB drops it.`);
  }
  server.log.notice(`Checked the LevelDB store ${path}: ${check.tables} tables and ${check.logs} logs, ${(check.bytes / 1048576).toFixed(1)} MB in ${(ms / 1000).toFixed(3)} seconds`);
}

async function withLoading<T>(server: Server, fn: () => Promise<T>): Promise<T> {
  const ks = server.keyspace;
  const was = ks.loading;
  ks.loading = true;
  try {
    return await fn();
  } finally {
    ks.loading = was;
  }
}

/** CONFIG SET leveldb yes: open (emptied) and import the live data set, then write through. */
async function enableAtRuntime(server: Server, engine: LevelDbEngine): Promise<void> {
  const path = engine.configuredPath();
  try {
    // the store is emptied below, but LevelDB may compact a corrupt table as soon as it opens it
    await checkStore(server, engine, path);
    await engine.open(path);
    // the live data set replaces what the store holds: it is not behind any more (detached.ts)
    clearDetached(path);
    if ((await engine.ownership()) !== 'empty') {
      server.log.warning(`CONFIG SET leveldb yes: emptying the LevelDB store ${path}: the live data set replaces it`);
      await engine.wipe();
    }
    await engine.markImporting();
    const t0 = performance.now();
    await engine.importLive();
    server.log.notice(`LevelDB write-through started; the live data set was imported into ${path} in ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
  } catch (e) {
    server.log.warning(`CONFIG SET leveldb yes failed: ${levelDbReason(e)}`);
    server.config.restore('leveldb', false);
    await engine.close();
  }
}

function leveldbInfo(layer: LevelDbLayer, sec: InfoSection): void {
  const e = layer.engine;
  const q = e.queue;
  const b = layer.backup;
  sec.set('leveldb_enabled', e.state === 'off' ? 0 : 1);
  sec.set('leveldb_state', e.state);
  sec.set('leveldb_path', e.path || e.configuredPath());
  sec.set('leveldb_sync', e.server.config.get<string>('leveldb-sync'));
  sec.set('leveldb_batches', q?.batches ?? 0);
  sec.set('leveldb_records_written', q?.records ?? 0);
  sec.set('leveldb_bytes_written', q?.bytes ?? 0);
  sec.set('leveldb_keys_written', e.keysWritten);
  // not yet in LevelDB (waiting or in the batch in flight): with the write-ahead log, replies do not wait for them
  sec.set('leveldb_pending_records', q?.uncommittedOps ?? 0);
  sec.set('leveldb_last_write_status', q?.inError ? 'err' : 'ok');
  sec.set('leveldb_last_write_error', q?.lastError ?? '');
  // the write-ahead log (wal.ts): bytes in its current file, and whether appends work
  sec.set('leveldb_wal_bytes', q?.wal?.bytes ?? 0);
  sec.set('leveldb_wal_status', q?.wal ? (q.wal.broken ? 'err' : 'ok') : 'off');
  sec.set('leveldb_garbage_versions', e.garbageVersions.length);
  sec.set('leveldb_garbage_namespaces', e.garbageNs.length);
  sec.set('leveldb_reclaimed_records', e.reclaimedRecords);
  if (e.lastLoad !== null) {
    sec.set('leveldb_last_load_keys', e.lastLoad.keys);
    sec.set('leveldb_last_load_time_ms', Math.round(e.lastLoad.ms));
  }
  if (e.lastCheck !== null) {
    sec.set('leveldb_last_check_time_ms', Math.round(e.lastCheck.ms));
    sec.set('leveldb_last_check_bytes', e.lastCheck.bytes);
    sec.set('leveldb_last_check_torn_tails', e.lastCheck.tornTails);
  }
  sec.set('leveldb_backup_in_progress', b.inProgress ? 1 : 0);
  sec.set('leveldb_last_backup_status', b.lastStatus);
  sec.set('leveldb_last_backup_time', Math.floor(b.lastEnd / 1000));
  sec.set('leveldb_last_backup_duration_ms', b.lastEnd ? b.lastEnd - b.lastStart : -1);
  sec.set('leveldb_last_backup_dir', b.lastDir);
  sec.set('leveldb_last_backup_files', b.lastFiles);
  sec.set('leveldb_last_backup_bytes', b.lastBytes);
  if (b.lastStatus === 'err') sec.set('leveldb_last_backup_error', b.lastError);
  const ls = e.levelStats();
  sec.set('leveldb_approximate_memory_usage', ls.memory);
  ls.filesPerLevel.forEach((n, i) => sec.set(`leveldb_files_level${i}`, n));
  // leveldb.stats is a table: one field per level row
  for (const line of ls.stats.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/.exec(line);
    if (m) sec.set(`leveldb_stats_level${m[1]}`, `files=${m[2]},size_mb=${m[3]},time_sec=${m[4]},read_mb=${m[5]},write_mb=${m[6]}`);
  }
}
