import type { Handler, CommandSpec } from './spec.js';
import type { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import { ERR, addDispatchCheck, resumeHeldClient } from '../server/dispatch.js';
import type { AclUser } from '../server/acl/user.js';
import { aclHooks } from '../server/acl/acl.js';
import { parseInt64 } from '../util/number.js';
import { setClientNameOrReply } from './connection.js';
import type { TrackingState } from '../server/tracking.js';
import { unblockClientById } from '../server/blocking.js';

/**
 * CLIENT subcommands after Redis 7.0's clientCommand (src/networking.c): ID, INFO, LIST, KILL,
 * SETNAME, GETNAME, REPLY, NO-EVICT, PAUSE, UNPAUSE, UNBLOCK, HELP. The client-side caching
 * subcommands (TRACKING, CACHING, GETREDIR, TRACKINGINFO) live in tracking.ts.
 */

/**
 * addReplyHelp: an array of status lines, `<CMD> <subcommand> [<arg> [value] [opt] ...].
 * Subcommands are:`, the given lines, then `HELP` / `    Prints this help.`.
 */
export function addReplyHelp(c: Client, lines: readonly string[]): void {
  const cmd = (c.argv[0] ?? '').toUpperCase();
  c.addArrayLen(lines.length + 3);
  c.addSimple(`${cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.addSimple(l);
  c.addSimple('HELP');
  c.addSimple('    Prints this help.');
}

/** addReplySubcommandSyntaxError: the reply for a subcommand given the wrong arguments. */
export function addReplySubcommandSyntaxError(c: Client): void {
  const sub = c.argv[1] ?? '';
  c.addError(`ERR unknown subcommand or wrong number of arguments for '${sub.length > 128 ? sub.slice(0, 128) : sub}'. Try ${(c.argv[0] ?? '').toUpperCase()} HELP.`);
}

// ---- client description (catClientInfoString) -----------------------------------------------

interface PubSubLike {
  channels: Set<string>;
  patterns: Set<string>;
  shardChannels: Set<string>;
}

interface MultiLike {
  commands: Array<{ argv: string[] }>;
}

function pubsubOf(c: Client): PubSubLike | null {
  const p = c.pubsub as Partial<PubSubLike> | null;
  return p !== null && p.channels instanceof Set ? (p as PubSubLike) : null;
}

/** Total subscriptions (channels, patterns, shard channels): Redis's CLIENT_PUBSUB flag. */
function subscriptions(c: Client): number {
  const p = pubsubOf(c);
  return p === null ? 0 : p.channels.size + p.patterns.size + p.shardChannels.size;
}

type ClientType = 'normal' | 'slave' | 'pubsub' | 'master';

/** getClientType: MONITOR clients count as normal; Amber has no replica or master links. */
function clientType(c: Client): ClientType {
  return subscriptions(c) > 0 ? 'pubsub' : 'normal';
}

/** getClientTypeByName, or null for an unknown name. */
function clientTypeByName(name: string): ClientType | null {
  switch (name.toLowerCase()) {
    case 'normal': return 'normal';
    case 'slave': case 'replica': return 'slave';
    case 'pubsub': return 'pubsub';
    case 'master': return 'master';
    default: return null;
  }
}

function argvLen(argv: readonly string[]): number {
  let n = 0;
  for (const a of argv) n += a.length;
  return n;
}

/** Bytes of the commands queued in a client's MULTI. */
function multiBytes(c: Client): number {
  const multi = c.multi as MultiLike | null;
  let n = 0;
  if (multi !== null) for (const q of multi.commands) n += argvLen(q.argv);
  return n;
}

/**
 * A client's memory, bytes (CLIENT LIST tot-mem, getClientMemoryUsage): a fixed 1 KB for the
 * client itself, its query buffer, the argv of the command it runs or is blocked in (`current`:
 * the client whose command runs now), its queued MULTI commands, its pending replies and what
 * its socket has not sent yet.
 */
export function clientMemory(c: Client, current: Client | null): number {
  const argvMem = c === current || c.blocked ? argvLen(c.argv) : 0;
  return 1024 + c.parser.bufferedBytes + argvMem + multiBytes(c) + c.out.length + (c.socket?.writableLength ?? 0);
}

/**
 * One CLIENT LIST / CLIENT INFO line (catClientInfoString), without the trailing newline. Fields
 * Amber has no equivalent for (rbs, rbp, qbuf-free) are given the values of an idle Redis client.
 * @param current the client running the command (its argv counts in argv-mem)
 */
export function clientInfoString(c: Client, current: Client | null): string {
  let flags = '';
  if (c.monitor) flags += 'O';
  const subs = pubsubOf(c);
  const subTotal = subs === null ? 0 : subs.channels.size + subs.patterns.size + subs.shardChannels.size;
  if (subTotal > 0) flags += 'P';
  const multi = c.multi as MultiLike | null;
  if (multi !== null) flags += 'x';
  if (c.blocked) flags += 'b';
  const tr = c.tracking as TrackingState | null;
  if (tr !== null && tr.on) {
    flags += 't';
    if (tr.brokenRedirect) flags += 'R';
    if (tr.bcast) flags += 'B';
  }
  if (c.closeAfterReply) flags += 'c';
  if (c.noEvict) flags += 'e';
  if (flags === '') flags = 'N';
  const now = Math.floor(Date.now() / 1000);
  const qbuf = c.parser.bufferedBytes;
  const argvMem = c === current || c.blocked ? argvLen(c.argv) : 0;
  const multiMem = multiBytes(c);
  const obl = c.out.length;
  const omem = c.socket?.writableLength ?? 0;
  const totMem = clientMemory(c, current);
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.fd} name=${c.name}` +
    ` age=${now - Math.floor(c.createdAt / 1000)} idle=${now - Math.floor(c.lastInteraction / 1000)}` +
    ` flags=${flags} db=${c.db.id}` +
    ` sub=${subs?.channels.size ?? 0} psub=${subs?.patterns.size ?? 0} ssub=${subs?.shardChannels.size ?? 0}` +
    ` multi=${multi !== null ? multi.commands.length : -1}` +
    ` qbuf=${qbuf} qbuf-free=0 argv-mem=${argvMem} multi-mem=${multiMem} rbs=16384 rbp=16384` +
    ` obl=${obl} oll=0 omem=${omem} tot-mem=${totMem}` +
    ` events=${omem > 0 ? 'rw' : 'r'} cmd=${c.lastCmd ? c.lastCmd.fullName : 'NULL'} user=${c.user?.name ?? '(superuser)'}` +
    ` redir=${tr !== null && tr.on ? tr.redirect : -1} resp=${c.resp}`;
}

// ACL LOG's client-info: the line of the client whose command was refused, its argv counted
aclHooks.clientInfo = (c) => clientInfoString(c, c);

// ---- subcommands -----------------------------------------------------------------------------

const HELP = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
];

function clientHelp(c: Client): void {
  addReplyHelp(c, HELP);
}

function clientId(c: Client): void {
  c.addInt(c.id);
}

function clientInfo(c: Client): void {
  c.addVerbatim(clientInfoString(c, c) + '\n');
}

/** CLIENT LIST [TYPE type] | [ID id ...] */
function clientList(c: Client): void {
  const argv = c.argv;
  let out = '';
  if (argv.length === 4 && argv[2]!.toLowerCase() === 'type') {
    const type = clientTypeByName(argv[3]!);
    if (type === null) {
      c.addError(`ERR Unknown client type '${argv[3]!}'`);
      return;
    }
    for (const cl of c.server.clients.values()) if (clientType(cl) === type) out += clientInfoString(cl, c) + '\n';
  } else if (argv.length > 3 && argv[2]!.toLowerCase() === 'id') {
    for (let j = 3; j < argv.length; j++) {
      const id = parseInt64(argv[j]!);
      if (id === null) {
        c.addError('ERR Invalid client ID');
        return;
      }
      const cl = id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? c.server.clients.get(Number(id)) : undefined;
      if (cl !== undefined) out += clientInfoString(cl, c) + '\n';
    }
  } else if (argv.length !== 2) {
    c.addError(ERR.syntax);
    return;
  } else {
    for (const cl of c.server.clients.values()) out += clientInfoString(cl, c) + '\n';
  }
  c.addVerbatim(out);
}

/** CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE t] [ADDR a] [LADDR a] [USER u] [SKIPME yes|no] */
function clientKill(c: Client): void {
  const argv = c.argv;
  let addr: string | null = null;
  let laddr: string | null = null;
  let user: AclUser | null = null;
  let type: ClientType | null = null;
  let id = 0;
  let skipme = true;
  if (argv.length === 3) {
    addr = argv[2]!;
    skipme = false; // with the old form, a client may kill itself
  } else {
    for (let i = 2; i < argv.length; i += 2) {
      const opt = argv[i]!.toLowerCase();
      const more = argv.length > i + 1;
      const val = argv[i + 1]!;
      if (opt === 'id' && more) {
        const v = parseInt64(val);
        if (v === null || v < 1n) {
          c.addError('ERR client-id should be greater than 0');
          return;
        }
        id = v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
      } else if (opt === 'type' && more) {
        type = clientTypeByName(val);
        if (type === null) {
          c.addError(`ERR Unknown client type '${val}'`);
          return;
        }
      } else if (opt === 'addr' && more) {
        addr = val;
      } else if (opt === 'laddr' && more) {
        laddr = val;
      } else if (opt === 'user' && more) {
        user = c.server.acl.get(val) ?? null;
        if (user === null) {
          c.addError(`ERR No such user '${val}'`);
          return;
        }
      } else if (opt === 'skipme' && more) {
        const v = val.toLowerCase();
        if (v === 'yes') skipme = true;
        else if (v === 'no') skipme = false;
        else {
          c.addError(ERR.syntax);
          return;
        }
      } else {
        c.addError(ERR.syntax);
        return;
      }
    }
  }
  let killed = 0;
  let closeThis = false;
  for (const cl of [...c.server.clients.values()]) {
    if (addr !== null && cl.addr !== addr) continue;
    if (laddr !== null && cl.laddr !== laddr) continue;
    if (type !== null && clientType(cl) !== type) continue;
    if (id !== 0 && cl.id !== id) continue;
    if (user !== null && cl.user !== user) continue;
    if (cl === c && skipme) continue;
    if (cl === c) closeThis = true;
    else c.server.closeClient(cl);
    killed++;
  }
  if (argv.length === 3) {
    if (killed === 0) c.addError('ERR No such client');
    else c.addOk();
  } else {
    c.addInt(killed);
  }
  if (closeThis) c.closeAfterReply = true;
}

function clientSetname(c: Client): void {
  if (setClientNameOrReply(c, c.argv[2]!)) c.addOk();
}

function clientGetname(c: Client): void {
  if (c.name !== '') c.addBulk(c.name);
  else c.addNull();
}

/** CLIENT REPLY ON|OFF|SKIP; dispatch drops the replies according to c.replyMode. */
function clientReply(c: Client): void {
  const v = c.argv[2]!.toLowerCase();
  if (v === 'on') {
    c.replyMode = 'on';
    c.addOk();
  } else if (v === 'off') {
    c.replyMode = 'off';
  } else if (v === 'skip') {
    if (c.replyMode !== 'off') c.replyMode = 'skip-next';
  } else {
    c.addError(ERR.syntax);
  }
}

function clientNoEvict(c: Client): void {
  const v = c.argv[2]!.toLowerCase();
  if (v === 'on') c.noEvict = true;
  else if (v === 'off') c.noEvict = false;
  else {
    c.addError(ERR.syntax);
    return;
  }
  c.addOk();
}

// ---- CLIENT PAUSE ----------------------------------------------------------------------------

/**
 * Commands held by a WRITE pause besides those flagged `write`: the ones Redis flags
 * CMD_MAY_REPLICATE (COMMAND INFO does not show that flag).
 */
export const MAY_REPLICATE: ReadonlySet<string> = new Set(['eval', 'evalsha', 'fcall', 'publish', 'spublish', 'pfcount', 'script|flush', 'script|load']);

interface PauseState {
  /** clients whose parsed command waits for the pause to end (BLOCKED_POSTPONE) */
  postponed: Set<Client>;
  timer: NodeJS.Timeout | null;
}

const pauses = new WeakMap<Server, PauseState>();

function pauseState(server: Server): PauseState {
  let p = pauses.get(server);
  if (p === undefined) {
    const st: PauseState = { postponed: new Set(), timer: null };
    p = st;
    pauses.set(server, st);
    server.freeClientHooks.push((c) => { st.postponed.delete(c); });
  }
  return p;
}

/** True when `c` is held because a pause is in effect (CLIENT UNBLOCK must leave it alone). */
export function isPostponed(c: Client): boolean {
  return pauses.get(c.server)?.postponed.has(c) ?? false;
}

/** is_may_replicate_command of processCommand: writes, may-replicate commands, EXEC of writes. */
function mayReplicate(c: Client, spec: CommandSpec): boolean {
  if (spec.isWrite || MAY_REPLICATE.has(spec.fullName)) return true;
  if (spec.fullName === 'exec') {
    const m = c.multi as MultiLike & { commands: Array<{ spec?: CommandSpec }> } | null;
    if (m !== null) for (const q of m.commands) if (q.spec && (q.spec.isWrite || MAY_REPLICATE.has(q.spec.fullName))) return true;
  }
  return false;
}

/**
 * Re-runs the commands held by a pause that ended or was lifted (unblockPostponedClients); each
 * one may be held again if a pause still applies to it.
 */
function resumePostponed(server: Server): void {
  const st = pauses.get(server);
  if (st === undefined || st.postponed.size === 0) return;
  const list = [...st.postponed];
  st.postponed.clear();
  for (const c of list) resumeHeldClient(server, c);
}

/** Arms the timer that ends the pause at server.pauseUntil. */
function armPauseTimer(server: Server): void {
  const st = pauseState(server);
  if (st.timer !== null) clearTimeout(st.timer);
  const fire = (): void => {
    st.timer = null;
    const now = Date.now();
    if (server.pauseUntil !== 0 && now < server.pauseUntil) {
      st.timer = setTimeout(fire, Math.min(server.pauseUntil - now, 0x7fffffff));
      st.timer.unref();
      return;
    }
    if (server.pauseUntil !== 0) server.unpause();
    resumePostponed(server);
  };
  st.timer = setTimeout(fire, Math.min(Math.max(0, server.pauseUntil - Date.now()), 0x7fffffff));
  st.timer.unref();
}

// The WRITE pause holds commands once parsed, at the point processCommand blocks them in Redis
// (after the other checks). The ALL pause is also applied by server.processInput before parsing.
addDispatchCheck((c: Client, spec: CommandSpec): string | null => {
  const server = c.server;
  if (server.pauseUntil === 0) return null;
  if (Date.now() >= server.pauseUntil) {
    setImmediate(() => {
      if (server.pauseUntil !== 0 && Date.now() >= server.pauseUntil) server.unpause();
      resumePostponed(server);
    });
    return null;
  }
  if (!server.pauseWritesOnly || mayReplicate(c, spec)) {
    pauseState(server).postponed.add(c);
    c.blocked = true;
    return '';
  }
  return null;
});

/** CLIENT PAUSE timeout [WRITE|ALL] (pauseClients for PAUSE_BY_CLIENT_COMMAND). */
function clientPause(c: Client): void {
  const argv = c.argv;
  if (argv.length > 4) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  let writeOnly = false;
  if (argv.length === 4) {
    const m = argv[3]!.toLowerCase();
    if (m === 'write') writeOnly = true;
    else if (m !== 'all') {
      c.addError('ERR CLIENT PAUSE mode must be WRITE or ALL');
      return;
    }
  }
  const tval = parseInt64(argv[2]!);
  if (tval === null) {
    c.addError('ERR timeout is not an integer or out of range');
    return;
  }
  if (tval < 0n) {
    c.addError('ERR timeout is negative');
    return;
  }
  const now = Date.now();
  let end = 0;
  // Redis 7.0 adds mstime() without an overflow check: a sum past 2^63-1 wraps to a time in the
  // past, so the pause ends at once (and the reply is still +OK)
  if (tval > 0n && tval <= 9223372036854775807n - BigInt(now)) end = now + Number(tval);
  const server = c.server;
  const active = server.pauseUntil !== 0 && server.pauseUntil > now;
  if (active) {
    // a second pause extends the first and keeps the more restrictive type
    server.pauseWritesOnly = server.pauseWritesOnly && writeOnly;
    server.pauseUntil = Math.max(server.pauseUntil, end);
  } else if (end > now) {
    server.pauseWritesOnly = writeOnly;
    server.pauseUntil = end;
  }
  if (server.pauseUntil !== 0) armPauseTimer(server);
  c.addOk();
}

/** CLIENT UNPAUSE */
function clientUnpause(c: Client): void {
  const server = c.server;
  if (server.pauseUntil !== 0) server.unpause();
  const st = pauses.get(server);
  if (st?.timer) {
    clearTimeout(st.timer);
    st.timer = null;
  }
  // the caller's reply is written first; held clients resume right after this command
  setImmediate(() => resumePostponed(server));
  c.addOk();
}

// ---- CLIENT UNBLOCK --------------------------------------------------------------------------

/** CLIENT UNBLOCK client-id [TIMEOUT|ERROR] */
function clientUnblock(c: Client): void {
  const argv = c.argv;
  if (argv.length > 4) {
    addReplySubcommandSyntaxError(c);
    return;
  }
  let error = false;
  if (argv.length === 4) {
    const r = argv[3]!.toLowerCase();
    if (r === 'error') error = true;
    else if (r !== 'timeout') {
      c.addError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      return;
    }
  }
  const id = parseInt64(argv[2]!);
  if (id === null) {
    c.addError(ERR.notInteger);
    return;
  }
  // only clients blocked on keys (BLPOP, XREAD BLOCK...): a client held by CLIENT PAUSE stays held
  const ok = id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) && unblockClientById(c.server, Number(id), error ? 'error' : 'timeout');
  c.addInt(ok ? 1 : 0);
}

export const clientCommands: Record<string, Handler> = {
  'client|help': clientHelp,
  'client|id': clientId,
  'client|info': clientInfo,
  'client|list': clientList,
  'client|kill': clientKill,
  'client|setname': clientSetname,
  'client|getname': clientGetname,
  'client|reply': clientReply,
  'client|no-evict': clientNoEvict,
  'client|pause': clientPause,
  'client|unpause': clientUnpause,
  'client|unblock': clientUnblock,
};
