import { performance } from 'node:perf_hooks';
import type { Server } from './server.js';
import type { Client } from './client.js';
import type { CommandSpec } from '../commands/spec.js';
import { blockingPending, handleClientsBlockedOnKeys } from './blocking.js';
import { EVICT_FAIL } from '../keyspace/evict.js';
import { parseInt64 } from '../util/number.js';

/** Redis's replies for refused commands (shared.* in src/server.c). */
export const ERR = {
  noauth: 'NOAUTH Authentication required.',
  loading: 'LOADING Redis is loading the dataset in memory',
  misconfPrefix: 'MISCONF ',
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  noSuchKey: 'ERR no such key',
  outOfRange: 'ERR index out of range',
  overflow: 'ERR increment or decrement would overflow',
} as const;

/**
 * getLongFromObjectOrReply: `s` as an int64 (string2ll rules) in a JS number, beyond 2^53 rounded
 * (for counts and bounds that are clamped or compared), or null after replying `msg` to `c`.
 */
export function getLongOrReply(c: Client, s: string, msg: string = ERR.notInteger): number | null {
  const v = parseInt64(s);
  if (v === null) {
    c.addError(msg);
    return null;
  }
  return Number(v);
}

/** `ERR wrong number of arguments for 'x' command` for a spec. */
export function arityError(spec: CommandSpec): string {
  return `ERR wrong number of arguments for '${spec.fullName}' command`;
}

/**
 * Finds the spec for argv (lookupCommand in src/server.c): the command, or for a container
 * (CONFIG, CLIENT...) with at least two arguments, its subcommand. Returns undefined when unknown;
 * `parentOnly` tells that argv[0] is a container whose subcommand is unknown.
 */
export function lookupCommand(server: Server, argv: string[]): { spec?: CommandSpec; container?: CommandSpec } {
  const name = argv[0]!;
  let spec = server.commandCache.get(name);
  if (spec === undefined) {
    spec = server.commands.get(name.toLowerCase());
    if (spec === undefined) return {};
    if (server.commandCache.size < 1024) server.commandCache.set(name, spec);
  }
  if (spec.subcommands === null || argv.length < 2) return { spec };
  const sub = spec.subcommands.get(argv[1]!.toLowerCase());
  return sub ? { spec: sub } : { container: spec };
}

/**
 * Runs one request of `c` (processCommand + call in src/server.c): looks the command up, checks
 * arity, authentication, commands refused inside MULTI, ACL permissions, maxmemory (eviction,
 * OOM), loading and MISCONF as Redis does, in Redis's order, runs the handler, records stats and slowlog through the
 * after-command hooks, and propagates its effects. The layers for MULTI queueing and pub/sub
 * context hook in through {@link DispatchHooks}.
 */
export function processCommand(server: Server, c: Client): void {
  const argv = c.argv;
  // the cache hit of a plain command is the hot path: no lookupCommand result object
  let spec = server.commandCache.get(argv[0]!);
  if (spec === undefined || spec.subcommands !== null) {
    const found = lookupCommand(server, argv);
    spec = found.spec;
    if (spec === undefined) {
      rejectUnknown(server, c, found.container);
      return;
    }
  }
  c.cmd = spec;
  c.lastCmd = spec;
  if ((spec.arity > 0 && spec.arity !== argv.length) || argv.length < -spec.arity) {
    reject(server, c, spec, arityError(spec));
    return;
  }
  const hooks = dispatchHooks;
  if (hooks.protect !== null) {
    const err = hooks.protect(c, spec);
    if (err !== null) {
      reject(server, c, spec, err);
      return;
    }
  }
  if (!c.authenticated && !spec.noAuth) {
    reject(server, c, spec, ERR.noauth);
    return;
  }
  // SAVE and SHUTDOWN cannot be queued (CMD_NO_MULTI); MultiState is read structurally
  if (spec.noMulti && c.multi !== null && !(c.multi as { inExec: boolean }).inExec) {
    reject(server, c, spec, 'ERR Command not allowed inside a transaction');
    return;
  }
  // ACLCheckAllPerm; the default user's full access skips it
  const user = c.user;
  if (user !== null && !user.unrestricted) {
    const denied = server.acl.denyCommand(c, spec);
    if (denied !== null) {
      reject(server, c, spec, denied);
      return;
    }
  }
  // maxmemory: evict before the command; refuse what may use more memory when nothing could be
  // freed. Inside MULTI every queued command counts (queuing itself takes memory), except the
  // commands that end the transaction (processCommand).
  const evictor = server.evictor;
  if (evictor.maxmemory !== 0 && evictor.perform() === EVICT_FAIL) {
    const m = c.multi as { denyOom?: boolean; inExec?: boolean } | null;
    const name = spec.fullName;
    if (spec.denyOom || (name === 'exec' && m?.denyOom === true) ||
      (m !== null && m.inExec !== true && name !== 'exec' && name !== 'discard' && name !== 'quit' && name !== 'reset')) {
      reject(server, c, spec, ERR.oom);
      return;
    }
  }
  if (hooks.check !== null) {
    const err = hooks.check(c, spec);
    if (err !== null) {
      if (err !== '') reject(server, c, spec, err);
      return;
    }
  }
  // MISCONF refuses writes, PING, and an EXEC whose queue holds a write (processCommand)
  if (server.writeError !== null && (spec.isWrite || spec.fullName === 'ping' ||
    (spec.fullName === 'exec' && (c.multi as { hasWrite?: boolean } | null)?.hasWrite === true))) {
    reject(server, c, spec, server.writeError);
    return;
  }
  if (server.keyspace.loading && !spec.allowLoading) {
    reject(server, c, spec, ERR.loading);
    return;
  }
  // a script past busy-reply-threshold is running: only allow_busy commands (processCommand)
  const busy = server.suspension;
  if (busy !== null && !spec.allowBusy) {
    reject(server, c, spec, busy.busyError);
    return;
  }
  if (hooks.queue !== null && hooks.queue(c, spec)) return;
  call(server, c, spec);
  const s = server.suspension;
  if (s !== null && s.unwinding) {
    // the command suspended (suspend.ts): what is left here runs when it completes, then the
    // client's next commands
    s.unwinding = false;
    s.rest.push(() => {
      if (blockingPending.count !== 0) handleClientsBlockedOnKeys(server);
      c.blocked = false;
      if (!c.closed) server.processInput(c);
    });
    return;
  }
  // serve clients blocked on keys this command made ready (processCommand in server.c)
  if (blockingPending.count !== 0) handleClientsBlockedOnKeys(server);
}

/**
 * Adds a check to {@link dispatchHooks.check}, after the ones installed before it: the first
 * that answers (an error, or '' for a command held or already answered) decides.
 */
export function addDispatchCheck(check: (c: Client, spec: CommandSpec) => string | null): void {
  const previous = dispatchHooks.check;
  dispatchHooks.check = previous === null ? check : (c, spec) => {
    const r = previous(c, spec);
    return r !== null ? r : check(c, spec);
  };
}

/**
 * Runs the parsed command of a client that was held (a CLIENT PAUSE, the Lua VM loading) once
 * the hold ends, then the rest of its input (processPendingCommandAndInputBuffer in Redis): it
 * may be held again.
 */
export function resumeHeldClient(server: Server, c: Client): void {
  if (c.closed) return;
  c.blocked = false;
  processCommand(server, c);
  if (c.blocked) server.scheduleFlush(c);
  else server.processInput(c);
}

/** Optional checks and queueing installed by later layers (pub/sub context, MULTI, CLIENT PAUSE). */
export const dispatchHooks: {
  /**
   * the protected-command check (DEBUG, MODULE LOAD...), right after the arity check as in
   * processCommand, before authentication: an error to reject with, or null to go on
   */
  protect: ((c: Client, spec: CommandSpec) => string | null) | null;
  /** returns an error to reject with, '' to drop silently (reply already given), or null to go on */
  check: ((c: Client, spec: CommandSpec) => string | null) | null;
  /** returns true when the command was queued (MULTI) instead of run */
  queue: ((c: Client, spec: CommandSpec) => boolean) | null;
  /** a refused EXEC discards the transaction and answers EXECABORT (execCommandAbort) */
  execAbort: ((c: Client, msg: string) => void) | null;
} = { protect: null, check: null, queue: null, execAbort: null };

/**
 * Executes a command whose checks passed (call() in src/server.c): runs the handler, counts
 * calls, time and failures, feeds after-command hooks (slowlog, MONITOR) and propagates the
 * command's effects when it changed the dataset.
 */
export function call(server: Server, c: Client, spec: CommandSpec): void {
  const ks = server.keyspace;
  const dirtyBefore = ks.dirty;
  const effects = server.effects;
  effects.beginCommand(c.db.id);
  c.lastError = null;
  const outBefore = c.out.length;
  const prevClient = server.currentClient;
  server.currentClient = c;
  const t0 = performance.now();
  try {
    spec.handler(c);
  } catch (e) {
    // A handler bug must not take the server down: reply with an error and log it loudly.
    const err = e as Error;
    server.log.warning(`Internal error running '${spec.fullName}' for client id=${c.id}: ${err.stack ?? err.message}`);
    c.addError(`ERR internal error while running '${spec.fullName}': ${err.message}`);
  }
  server.currentClient = prevClient;
  const s = server.suspension;
  if (s !== null && s.unwinding) {
    // a script yielded (suspend.ts): the command is accounted for when it completes
    s.rest.push(() => endCall(server, c, spec, t0, dirtyBefore, outBefore));
    return;
  }
  endCall(server, c, spec, t0, dirtyBefore, outBefore);
}

/**
 * The end of {@link call}, after the handler: statistics, effects, after-command hooks and CLIENT
 * REPLY. `t0`: performance.now() before the handler (ms); `dirtyBefore`: the dirty counter then;
 * `outBefore`: the length of the client's output then.
 */
function endCall(server: Server, c: Client, spec: CommandSpec, t0: number, dirtyBefore: number, outBefore: number): void {
  const ks = server.keyspace;
  const effects = server.effects;
  const us = Math.round((performance.now() - t0) * 1000);
  spec.stats.calls++;
  spec.stats.usec += us;
  server.stats.numCommands++;
  c.commandsProcessed++;
  if (c.lastError !== null) {
    spec.stats.failedCalls++;
    server.countError(c.lastError);
  }
  const dirty = ks.dirty - dirtyBefore;
  effects.endCommand(dirty > 0 ? c.argv : null);
  const hooks = server.afterCommandHooks;
  for (let i = 0; i < hooks.length; i++) hooks[i]!(c, spec, us);
  if (c.replyMode !== 'on') {
    // CLIENT REPLY OFF|SKIP: the reply is dropped; SKIP arms itself for the next command only.
    if (c.replyMode === 'skip-next') c.replyMode = 'skip';
    else {
      c.out = c.out.slice(0, outBefore);
      if (c.replyMode === 'skip') c.replyMode = 'on';
    }
  }
}

/** Refuses an unknown command, or an unknown subcommand of `container`, with Redis's text. */
function rejectUnknown(server: Server, c: Client, container: CommandSpec | undefined): void {
  const argv = c.argv;
  if (container) {
    reject(server, c, null, `ERR unknown subcommand '${trunc(argv[1]!, 128)}'. Try ${container.fullName.toUpperCase()} HELP.`);
  } else {
    let args = '';
    for (let i = 1; i < argv.length && args.length < 128; i++) {
      args += `'${trunc(argv[i]!, 128 - args.length)}' `;
    }
    reject(server, c, null, `ERR unknown command '${trunc(argv[0]!, 128)}', with args beginning with: ${args}`);
  }
}

function reject(server: Server, c: Client, spec: CommandSpec | null, msg: string): void {
  // flagTransaction (multi.c): a refused command inside MULTI makes EXEC answer EXECABORT. The
  // state object is transactions.ts's MultiState; read structurally to avoid an import cycle.
  const m = c.multi as { dirtyExec: boolean; inExec: boolean } | null;
  if (m !== null && !m.inExec) m.dirtyExec = true;
  if (spec !== null && spec.fullName === 'exec' && dispatchHooks.execAbort !== null) {
    spec.stats.rejectedCalls++;
    dispatchHooks.execAbort(c, msg);
    return;
  }
  c.addError(msg);
  server.countError(msg);
  if (spec) spec.stats.rejectedCalls++;
}

function trunc(s: string, n: number): string {
  return s.length > n ? s.slice(0, n) : s;
}
