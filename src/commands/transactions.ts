import type { Handler, CommandSpec } from './spec.js';
import type { Client } from '../server/client.js';
import type { Database } from '../keyspace/database.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import { call, dispatchHooks } from '../server/dispatch.js';
import { ACL_OK, ACL_DENIED_CMD, ACL_DENIED_KEY, type AclDenial } from '../server/acl/check.js';

/**
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH after Redis 7.0's src/multi.c.
 *
 * A client in MULTI has a {@link MultiState} in `c.multi`; dispatch queues its commands (except
 * EXEC, DISCARD, MULTI, WATCH, QUIT, RESET) and replies +QUEUED. An error while queueing (unknown
 * command, arity, any rejection) flags the transaction so EXEC answers EXECABORT. WATCHed keys are
 * kept per database; any modification signalled by the keyspace gate (including expiry, FLUSHDB,
 * SWAPDB, RENAME, writes inside another client's EXEC) marks the watchers dirty, and EXEC then
 * answers a null array.
 */
export class MultiState {
  commands: Array<{ spec: CommandSpec; argv: string[] }> = [];
  /** an error happened while queueing (CLIENT_DIRTY_EXEC) */
  dirtyExec = false;
  /** true while EXEC runs the queue: blocking commands act as non-blocking (CLIENT_DENY_BLOCKING) */
  inExec = false;
  /**
   * a queued command is a write (mstate.cmd_flags & CMD_WRITE): dispatch then refuses EXEC under
   * MISCONF as it refuses a write
   */
  hasWrite = false;
  /** a queued command is flagged denyoom: dispatch then refuses EXEC while over maxmemory */
  denyOom = false;
}

/**
 * One watched key of one client (watchedKey in multi.c). `expired`: the key was already
 * logically expired when WATCHed, so its deletion by expiry changes nothing (7.0); cleared once
 * the key is gone.
 */
interface WatchedKey {
  db: Database;
  key: string;
  expired: boolean;
}

/** WATCH state of one client (it may watch keys while not in MULTI). */
interface WatchState {
  keys: WatchedKey[];
  dirtyCas: boolean;
}

const watchStates = new WeakMap<Client, WatchState>();
/** per keyspace: db -> key -> watching clients with their entry */
const watchedByKeyspace = new WeakMap<Keyspace, Map<Database, Map<string, Map<Client, WatchedKey>>>>();

/** True when `c` is inside MULTI or running EXEC: blocking commands must not block. */
export function denyBlocking(c: Client): boolean {
  return c.multi !== null;
}

/** Called by dispatch's reject path: an error while queueing aborts the transaction at EXEC. */
export function flagTransaction(c: Client): void {
  const m = c.multi as MultiState | null;
  if (m !== null && !m.inExec) m.dirtyExec = true;
}

function watchedMap(c: Client): Map<Database, Map<string, Map<Client, WatchedKey>>> {
  const ks = c.server.keyspace;
  let m = watchedByKeyspace.get(ks);
  if (m === undefined) {
    const map = new Map<Database, Map<string, Map<Client, WatchedKey>>>();
    m = map;
    watchedByKeyspace.set(ks, map);
    // touchWatchedKey: the deletion of a key that was already expired at WATCH is no change
    ks.onKeyModified((db, key) => {
      if (map.size === 0) return;
      const watchers = map.get(db)?.get(key);
      if (!watchers) return;
      for (const [w, wk] of watchers) {
        if (wk.expired && !exists(db, key)) {
          wk.expired = false;
          continue;
        }
        touch(w);
      }
    });
    // touchAllWatchedKeysInDb (FLUSHDB/FLUSHALL: other null; SWAPDB: `other` replaces `db`):
    // keys present in neither db, and expired keys staying (logically) absent, change nothing
    ks.onDbReplaced((db, other) => {
      const keys = map.get(db);
      if (!keys) return;
      for (const [key, watchers] of keys) {
        const inEmptied = exists(db, key);
        const inOther = other !== null && exists(other, key);
        if (!inEmptied && !inOther) continue;
        for (const [w, wk] of watchers) {
          if (wk.expired) {
            if (!inOther) {
              wk.expired = false;
              continue;
            }
            if (isExpired(other!, key)) continue;
          } else if (!inEmptied && isExpired(other!, key)) {
            wk.expired = true;
            continue;
          }
          touch(w);
        }
      }
    });
    c.server.freeClientHooks.push((gone) => unwatchAll(gone));
  }
  return m;
}

function touch(c: Client): void {
  const w = watchStates.get(c);
  if (w) w.dirtyCas = true;
}

function unwatchAll(c: Client): void {
  const w = watchStates.get(c);
  if (!w) return;
  const map = watchedByKeyspace.get(c.server.keyspace);
  if (map) {
    for (const { db, key } of w.keys) {
      const keys = map.get(db);
      const watchers = keys?.get(key);
      if (!watchers) continue;
      watchers.delete(c);
      if (watchers.size === 0) keys!.delete(key);
      if (keys!.size === 0) map.delete(db);
    }
  }
  watchStates.delete(c);
}

/** keyIsExpired: an expire time strictly in the past (the key may not be deleted yet). */
function isExpired(db: Database, key: string): boolean {
  const t = db.expires.get(key);
  return t !== undefined && t < db.ks.now() && db.segmentOf(key).has(key);
}

/** The key is in the db's dict, expired or not (dictFind). */
function exists(db: Database, key: string): boolean {
  return db.segmentOf(key).has(key);
}

/** Commands that run immediately even inside MULTI (processCommand in server.c). */
const NOT_QUEUED = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

dispatchHooks.queue = (c: Client, spec: CommandSpec): boolean => {
  const m = c.multi as MultiState | null;
  if (m === null || m.inExec) return false;
  const top = spec.parent ?? spec;
  if (NOT_QUEUED.has(top.name)) return false;
  // queueMultiCommand: an aborted transaction (queue error or touched WATCH) queues nothing more
  if (!m.dirtyExec && watchStates.get(c)?.dirtyCas !== true) {
    m.commands.push({ spec, argv: c.argv });
    if (spec.isWrite) m.hasWrite = true;
    if (spec.denyOom) m.denyOom = true;
  }
  c.addRaw('+QUEUED\r\n');
  return true;
};

/**
 * execCommandAbort (multi.c): EXEC refused by a dispatch check (arity, NOAUTH, MISCONF...) discards
 * the transaction and answers EXECABORT with the reason. Redis builds its format-string errors
 * without the ERR code, and its shared ones (MISCONF, NOAUTH) with their code: so 'ERR ' goes.
 */
dispatchHooks.execAbort = (c: Client, msg: string): void => {
  discardTransaction(c);
  const reason = msg.startsWith('ERR ') ? msg.slice(4) : msg;
  c.addError(`EXECABORT Transaction discarded because of: ${reason}`);
  c.server.countError('EXECABORT');
};

function multi(c: Client): void {
  if (c.multi !== null) {
    c.addError('ERR MULTI calls can not be nested');
    return;
  }
  c.multi = new MultiState();
  c.addOk();
}

function discardTransaction(c: Client): void {
  c.multi = null;
  unwatchAll(c);
}

function discard(c: Client): void {
  if (c.multi === null) {
    c.addError('ERR DISCARD without MULTI');
    return;
  }
  discardTransaction(c);
  c.addOk();
}

/**
 * execCommand's ACL check of a queued command: null when still allowed, else an ACL LOG entry
 * (context multi) and the NOPERM error saying the rules changed.
 */
function aclDenialAtExec(c: Client, spec: CommandSpec): string | null {
  const acl = c.server.acl;
  const out: AclDenial = { reason: 0, pos: 0 };
  const r = acl.check(c.user, spec, c.argv, out);
  if (r === ACL_OK) return null;
  acl.logDenial(c, spec, c.argv, out, 'multi');
  const reason = r === ACL_DENIED_CMD ? 'no permission to execute the command or subcommand'
    : r === ACL_DENIED_KEY ? 'no permission to touch the specified keys'
      : 'no permission to access one of the channels used as arguments';
  return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
}

function exec(c: Client): void {
  const m = c.multi as MultiState | null;
  if (m === null) {
    c.addError('ERR EXEC without MULTI');
    return;
  }
  const w = watchStates.get(c);
  if (w && !w.dirtyCas) {
    // EXEC with a watched key that expired since WATCH is refused (isWatchedKeyExpired, 7.0)
    for (const k of w.keys) if (!k.expired && isExpired(k.db, k.key)) w.dirtyCas = true;
  }
  if (m.dirtyExec || (w && w.dirtyCas)) {
    if (m.dirtyExec) c.addError('EXECABORT Transaction discarded because of previous errors.');
    else c.addNullArray();
    discardTransaction(c);
    return;
  }
  unwatchAll(c);
  const server = c.server;
  // EXEC's own argv is never propagated: the queued writes are (wrapped in MULTI/EXEC when >1).
  server.effects.prevent();
  m.inExec = true;
  c.addArrayLen(m.commands.length);
  execFrom(c, m, 0, c.argv, c.cmd);
}

/**
 * EXEC's loop from the queued command at `from`; `argv` and `cmd` are EXEC's own, restored at the
 * end. A command that suspends (a busy script, server/suspend.ts) leaves the rest of the loop to
 * run when it completes.
 */
function execFrom(c: Client, m: MultiState, from: number, argv: string[], cmd: CommandSpec | null): void {
  const server = c.server;
  const commands = m.commands;
  for (let i = from; i < commands.length; i++) {
    const q = commands[i]!;
    c.argv = q.argv;
    c.cmd = q.spec;
    // the rules may have changed since the command was queued: checked again (execCommand)
    const denied = aclDenialAtExec(c, q.spec);
    if (denied !== null) {
      c.addError(denied);
      server.countError(denied);
      continue;
    }
    if (q.spec.isWrite && server.writeError !== null) {
      c.addError(server.writeError);
      server.countError(server.writeError);
      continue;
    }
    call(server, c, q.spec);
    const s = server.suspension;
    if (s !== null && s.unwinding) {
      s.rest.push(() => execFrom(c, m, i + 1, argv, cmd));
      return;
    }
  }
  c.argv = argv;
  c.cmd = cmd;
  c.multi = null;
}

function watch(c: Client): void {
  if (c.multi !== null) {
    c.addError('ERR WATCH inside MULTI is not allowed');
    return;
  }
  const map = watchedMap(c);
  let w = watchStates.get(c);
  if (!w) {
    w = { keys: [], dirtyCas: false };
    watchStates.set(c, w);
  }
  for (let i = 1; i < c.argv.length; i++) {
    const key = c.argv[i]!;
    let keys = map.get(c.db);
    if (!keys) map.set(c.db, (keys = new Map()));
    let watchers = keys.get(key);
    if (!watchers) keys.set(key, (watchers = new Map()));
    if (watchers.has(c)) continue;
    const wk: WatchedKey = { db: c.db, key, expired: isExpired(c.db, key) };
    watchers.set(c, wk);
    w.keys.push(wk);
  }
  c.addOk();
}

function unwatch(c: Client): void {
  unwatchAll(c);
  c.addOk();
}

/** RESET support: leaves MULTI and unwatches (resetCommand in networking.c). */
export function resetTransactionState(c: Client): void {
  discardTransaction(c);
}

export const transactionsCommands: Record<string, Handler> = {
  multi,
  exec,
  discard,
  watch,
  unwatch,
};
