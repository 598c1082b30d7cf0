/**
 * Blocking operations on keys (src/blocked.c of Redis 7.0): BLPOP and the other list commands
 * now, BZPOPMIN/BZPOPMAX/BZMPOP and XREAD/XREADGROUP BLOCK through the same API.
 *
 * A command that must wait calls {@link blockForKeys} with the keys, a deadline and a `serve`
 * callback, and returns without a reply. The client is then `c.blocked` (the server stops reading
 * its requests) until one of:
 * - a key it waits on becomes ready: any change signalled by the keyspace gate to a key some
 *   client waits on (or an explicit {@link signalKeyAsReady}) queues the key; after the running
 *   top-level command (dispatch calls {@link handleClientsBlockedOnKeys}, so a push inside
 *   MULTI/EXEC serves only once EXEC is done) the waiters of each ready key are offered the key
 *   in the order they blocked (FIFO), those whose `type` matches the value's type; `serve`
 *   returns true when it consumed the key for that client (reply written), false to keep waiting;
 * - its deadline passes: it gets the null array (replyToBlockedClientTimedOut);
 * - CLIENT UNBLOCK ({@link unblockClientById});
 * - it disconnects (the server's freeClientHooks).
 * Replies written to an unblocked client go out through server.scheduleFlush, and its pipelined
 * requests are processed on the next turn of the event loop (processUnblockedClients).
 *
 * Redis signals readiness only when a key is created (dbAdd) or for XADD; Amber signals it on any
 * change to a key someone waits on, which serves the same clients plus the rare case Redis misses
 * (a list stored over an existing key of another type by SORT ... STORE).
 */
import type { Server } from './server.js';
import type { Client } from './client.js';
import type { Database } from '../keyspace/database.js';
import type { RObject } from '../keyspace/types/object.js';
import { parseLongDouble } from '../util/longdouble.js';

/**
 * What clients can wait for: a value type (BLOCKED_LIST, BLOCKED_ZSET, BLOCKED_STREAM), or
 * 'wait' (BLOCKED_WAIT: WAIT for replicas, no keys; only its deadline or CLIENT UNBLOCK ends it).
 */
export type BlockType = 'list' | 'zset' | 'stream' | 'wait';

/** What a blocking command asks of {@link blockForKeys}. */
export interface BlockRequest {
  /** the value type that can serve this client; other types leave it waiting */
  type: BlockType;
  /** keys of c.db to wait on; duplicates are ignored */
  keys: string[];
  /** Unix ms when to give up; 0 waits forever (see {@link parseTimeout}) */
  deadline: number;
  /**
   * Offered a ready key holding a value of `type`, after the command that made it ready. Runs with
   * the receiving client as the current client; writes the reply to `c`, changes the data through
   * the keyspace gate, propagates its effect with server.effects.propagate. Returns true when the
   * client is served (it is then unblocked), false to keep it waiting.
   */
  serve(c: Client, key: string, value: RObject): boolean;
  /** the timeout reply; default: the null array, as Redis for lists, sorted sets and streams */
  onTimeout?: (c: Client) => void;
  /**
   * Offered, like {@link serve}, a ready key that no longer holds a value of `type` (deleted,
   * expired, flushed or overwritten by another type). Returns true when it unblocked the client
   * with a reply (XREADGROUP's `-UNBLOCKED the stream key no longer exists`, as Redis 7.0's
   * unblockDeletedStreamReadgroupClients), false to keep waiting. Absent: the client keeps waiting.
   */
  onKeyMissing?: (c: Client, key: string) => boolean;
}

/** The state of one blocked client (c.blockState). */
export class BlockState {
  readonly req: BlockRequest;
  readonly db: Database;
  /** distinct keys waited on */
  readonly keys: string[];
  timer: NodeJS.Timeout | null = null;
  readonly since = Date.now();

  constructor(req: BlockRequest, db: Database, keys: string[]) {
    this.req = req;
    this.db = db;
    this.keys = keys;
  }
}

/** Per-server bookkeeping, created the first time a client of that server blocks. */
interface ServerBlocking {
  server: Server;
  /** db -> key -> clients waiting, oldest first (db->blocking_keys) */
  waiting: Map<Database, Map<string, Client[]>>;
  /** keys signalled ready and not handled yet (server.ready_keys), with a per-db dedupe set */
  ready: Array<{ db: Database; key: string }>;
  readySet: Map<Database, Set<string>>;
  /** databases whose contents were swapped or flushed: re-scan their waited keys */
  rescan: Set<Database>;
  blocked: number;
  /** counted in {@link blockingPending} */
  pending: boolean;
  immediate: boolean;
  /** clients unblocked whose queued requests must be processed next turn */
  resume: Client[];
  resumeScheduled: boolean;
  keyspace: unknown;
}

const states = new WeakMap<Server, ServerBlocking>();

/**
 * Read by dispatch after every top-level command: `count` is the number of servers with ready
 * keys to serve, so the common case costs one comparison.
 */
export const blockingPending = { count: 0 };

/** Nesting depth of contexts that forbid blocking besides MULTI (scripts): CLIENT_DENY_BLOCKING. */
let denyBlockingDepth = 0;

/**
 * True when a blocking command run by `c` must not block but act as if it timed out at once:
 * inside MULTI/EXEC (c.multi is set by the transactions layer, including while EXEC runs) or a
 * context opened with {@link beginDenyBlocking} (scripts). Redis's CLIENT_DENY_BLOCKING.
 */
export function isInMulti(c: Client): boolean {
  return c.multi !== null || denyBlockingDepth > 0;
}

/** Opens a context where blocking commands do not block (a script run); pair with end. */
export function beginDenyBlocking(): void {
  denyBlockingDepth++;
}

/** Closes a context opened by {@link beginDenyBlocking}. */
export function endDenyBlocking(): void {
  if (denyBlockingDepth > 0) denyBlockingDepth--;
}

function stateOf(server: Server): ServerBlocking {
  let st = states.get(server);
  if (st === undefined || st.keyspace !== server.keyspace) {
    const fresh: ServerBlocking = st ?? {
      server, waiting: new Map(), ready: [], readySet: new Map(), rescan: new Set(), blocked: 0,
      pending: false, immediate: false, resume: [], resumeScheduled: false, keyspace: null,
    };
    if (st === undefined) {
      server.freeClientHooks.push((c) => {
        if (c.blockState instanceof BlockState) unblock(fresh, c, false);
      });
    }
    // the keyspace gate tells us about every change; only keys someone waits on matter
    const ks = server.keyspace;
    fresh.keyspace = ks;
    ks.onKeyModified((db, key) => {
      if (fresh.blocked === 0 || fresh.keyspace !== ks) return;
      const keys = fresh.waiting.get(db);
      if (keys !== undefined && keys.has(key)) queueReady(fresh, db, key);
    });
    ks.onDbReplaced((db, other) => {
      if (fresh.blocked === 0 || fresh.keyspace !== ks) return;
      // contents change after this call: look at the waited keys once the command is over
      fresh.rescan.add(db);
      if (other !== null) fresh.rescan.add(other);
      markPending(fresh);
    });
    st = fresh;
    states.set(server, st);
  }
  return st;
}

function markPending(st: ServerBlocking): void {
  if (!st.pending) {
    st.pending = true;
    blockingPending.count++;
  }
  // a change made outside a command (a timer, a loader) is served on the next turn
  if (!st.immediate) {
    st.immediate = true;
    setImmediate(() => {
      st.immediate = false;
      handleClientsBlockedOnKeys(st.server);
    });
  }
}

function queueReady(st: ServerBlocking, db: Database, key: string): void {
  let set = st.readySet.get(db);
  if (set === undefined) {
    set = new Set();
    st.readySet.set(db, set);
  }
  if (set.has(key)) return;
  set.add(key);
  st.ready.push({ db, key });
  markPending(st);
}

/**
 * signalKeyAsReady (blocked.c): `key` of `db` may now serve clients waiting on it. The keyspace
 * gate already signals every change, so commands need this only for changes it cannot see.
 */
export function signalKeyAsReady(server: Server, db: Database, key: string): void {
  const st = states.get(server);
  if (st === undefined || st.blocked === 0) return;
  const keys = st.waiting.get(db);
  if (keys !== undefined && keys.has(key)) queueReady(st, db, key);
}

/**
 * Blocks `c` (blockForKeys in blocked.c): registers it as waiting on the request's keys of c.db,
 * arms the deadline and sets c.blocked, so the server reads no more of its requests. The command
 * returns without a reply; one comes when the client is served, times out or is unblocked.
 */
export function blockForKeys(c: Client, req: BlockRequest): void {
  const st = stateOf(c.server);
  const db = c.db;
  let keys = st.waiting.get(db);
  if (keys === undefined) {
    keys = new Map();
    st.waiting.set(db, keys);
  }
  const distinct: string[] = [];
  for (const key of req.keys) {
    if (distinct.includes(key)) continue;
    distinct.push(key);
    let q = keys.get(key);
    if (q === undefined) {
      q = [];
      keys.set(key, q);
    }
    q.push(c);
  }
  const bs = new BlockState(req, db, distinct);
  c.blockState = bs;
  c.blocked = true;
  st.blocked++;
  if (req.deadline > 0) armTimer(st, c, bs);
}

/** setTimeout takes at most 2^31-1 ms; longer waits re-arm. */
const MAX_TIMER_MS = 2147483647;

function armTimer(st: ServerBlocking, c: Client, bs: BlockState): void {
  const delay = Math.max(0, bs.req.deadline - Date.now());
  bs.timer = setTimeout(() => {
    bs.timer = null;
    if (c.blockState !== bs) return;
    if (bs.req.deadline - Date.now() > 0) {
      armTimer(st, c, bs);
      return;
    }
    timedOut(st, c, bs);
  }, Math.min(delay, MAX_TIMER_MS));
  bs.timer.unref();
}

function timedOut(st: ServerBlocking, c: Client, bs: BlockState): void {
  if (bs.req.onTimeout) bs.req.onTimeout(c);
  else c.addNullArray();
  unblock(st, c, true);
}

/**
 * Removes `c` from every wait queue and clears its blocked state (unblockClient). With `resume`,
 * its reply is flushed and its queued requests are processed on the next turn.
 */
function unblock(st: ServerBlocking, c: Client, resume: boolean): void {
  const bs = c.blockState;
  if (!(bs instanceof BlockState)) return;
  if (bs.timer !== null) {
    clearTimeout(bs.timer);
    bs.timer = null;
  }
  const keys = st.waiting.get(bs.db);
  if (keys !== undefined) {
    for (const key of bs.keys) {
      const q = keys.get(key);
      if (q === undefined) continue;
      const i = q.indexOf(c);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) keys.delete(key);
    }
    if (keys.size === 0) st.waiting.delete(bs.db);
  }
  c.blockState = null;
  c.blocked = false;
  st.blocked--;
  if (!resume || c.closed) return;
  st.server.scheduleFlush(c);
  st.resume.push(c);
  if (!st.resumeScheduled) {
    st.resumeScheduled = true;
    setImmediate(() => {
      st.resumeScheduled = false;
      const list = st.resume;
      st.resume = [];
      for (const r of list) {
        if (!r.closed && !r.blocked && r.parser.bufferedBytes > 0) st.server.processInput(r);
      }
    });
  }
}

/**
 * handleClientsBlockedOnKeys (blocked.c): serves the clients waiting on keys made ready since
 * the last call, key by key in the order they became ready, each key's waiters in the order they
 * blocked, while the key still holds a value of their type. Keys made ready while serving (a
 * BLMOVE pushing to a key others wait on) are served in the same call. Dispatch calls it after
 * each top-level command; it does nothing while a command is running (inside EXEC or a script).
 */
export function handleClientsBlockedOnKeys(server: Server): void {
  const st = states.get(server);
  if (st === undefined || !st.pending) return;
  if (server.currentClient !== null) return; // nested in a running command: the outer one serves
  // a busy script is half-way through: served once it completes (its processCommand's rest)
  if (server.suspension !== null) return;
  clearPending(st);
  while (st.ready.length > 0 || st.rescan.size > 0) {
    if (st.rescan.size > 0) {
      const dbs = [...st.rescan];
      st.rescan.clear();
      for (const db of dbs) {
        const keys = st.waiting.get(db);
        if (keys === undefined) continue;
        // missing keys too: a waiter may react to its key being gone (onKeyMissing)
        for (const key of keys.keys()) queueReady(st, db, key);
      }
    }
    const batch = st.ready;
    st.ready = [];
    for (const { db, key } of batch) {
      // forget it first, so serving may signal the same key again
      st.readySet.get(db)?.delete(key);
      serveKey(st, db, key);
    }
    // keys signalled while serving are handled by this loop
    clearPending(st);
  }
}

function clearPending(st: ServerBlocking): void {
  if (st.pending) {
    st.pending = false;
    blockingPending.count--;
  }
}

function serveKey(st: ServerBlocking, db: Database, key: string): void {
  const q = st.waiting.get(db)?.get(key);
  if (q === undefined || q.length === 0) return;
  const server = st.server;
  const waiters = q.slice();
  for (const c of waiters) {
    const bs = c.blockState;
    if (!(bs instanceof BlockState) || bs.db !== db) continue;
    const v = db.lookupWrite(key);
    const missing = v === undefined || typeof v === 'string' || v.type !== bs.req.type;
    if (missing && bs.req.onKeyMissing === undefined) continue;
    const prev = server.currentClient;
    server.currentClient = c;
    const serveStart = performance.now();
    let served: boolean;
    try {
      served = missing ? bs.req.onKeyMissing!(c, key) : bs.req.serve(c, key, v as RObject);
    } catch (e) {
      // a bug in a serve callback must not take the server down: answer and unblock the client
      const err = e as Error;
      server.log.warning(`Internal error serving blocked client id=${c.id}: ${err.stack ?? err.message}`);
      c.addError(`ERR internal error while serving a blocked client: ${err.message}`);
      served = true;
    } finally {
      server.currentClient = prev;
    }
    if (served) {
      // updateStatsOnUnblock: the time spent producing the blocked client's reply
      server.latency.addSampleIfNeeded('command-unblocking', performance.now() - serveStart);
      unblock(st, c, true);
    }
  }
}

/**
 * CLIENT UNBLOCK id [TIMEOUT|ERROR]: unblocks a client blocked by this layer, replying as on a
 * timeout (`mode` 'timeout', the null array) or with `-UNBLOCKED client unblocked via CLIENT
 * UNBLOCK` ('error'), and counts a failed call of its command either way, as Redis 7.0 does.
 * Returns false when no such client is blocked on keys (or WAIT).
 */
export function unblockClientById(server: Server, id: number, mode: 'timeout' | 'error'): boolean {
  const st = states.get(server);
  const c = server.clients.get(id);
  if (st === undefined || c === undefined || !(c.blockState instanceof BlockState)) return false;
  const bs = c.blockState;
  if (mode === 'error') {
    const msg = 'UNBLOCKED client unblocked via CLIENT UNBLOCK';
    c.addError(msg);
    server.countError(msg);
    c.lastError = null;
  } else if (bs.req.onTimeout) bs.req.onTimeout(c);
  else c.addNullArray();
  // Redis 7.0's CLIENT UNBLOCK calls updateStatsOnUnblock(target, 0, 0, 1): the blocked command
  // counts a failed call whichever reply it got (INFO commandstats shows it)
  if (c.lastCmd !== null) c.lastCmd.stats.failedCalls++;
  unblock(st, c, true);
  return true;
}

/** INFO clients `blocked_clients`: clients blocked on keys. */
export function blockedClientCount(server: Server): number {
  return states.get(server)?.blocked ?? 0;
}

/** Distinct keys with waiting clients, over all databases (for INFO/DEBUG). */
export function blockingKeyCount(server: Server): number {
  const st = states.get(server);
  if (st === undefined) return 0;
  let n = 0;
  for (const keys of st.waiting.values()) n += keys.size;
  return n;
}

/** True when `c` is blocked on keys by this layer (CLIENT LIST flag `b`). */
export function isBlockedOnKeys(c: Client): boolean {
  return c.blockState instanceof BlockState;
}

/**
 * Parses a blocking timeout as getTimeoutFromObjectOrReply (timeout.c) and returns the deadline
 * in Unix ms (0: wait forever), or null after replying with Redis's error.
 * - 'seconds' (BLPOP ... timeout): a float (strtold syntax; hex and inf accepted, spaces and nan
 *   not): `ERR timeout is not a float or out of range`; the value times 1000 rounded up, so 0.0001
 *   is 1 ms and -0.0001 means forever; negative: `ERR timeout is negative`; beyond the int64
 *   range (inf, 1e16) it overflows to a negative number in Redis, hence the same error.
 * - 'milliseconds' (XREAD BLOCK ms): an integer: `ERR timeout is not an integer or out of range`.
 * A deadline past the int64 range of Redis's clock never fires there; here it is forever too.
 */
export function parseTimeout(c: Client, arg: string, unit: 'seconds' | 'milliseconds' = 'seconds'): number | null {
  let ms: bigint | null;
  if (unit === 'seconds') {
    ms = secondsToMs(arg);
    if (ms === null) {
      c.addError('ERR timeout is not a float or out of range');
      return null;
    }
  } else {
    ms = strictInt64(arg);
    if (ms === null) {
      c.addError('ERR timeout is not an integer or out of range');
      return null;
    }
  }
  if (ms < 0n) {
    c.addError('ERR timeout is negative');
    return null;
  }
  if (ms === 0n) return 0;
  const now = Date.now();
  if (ms > BigInt(Number.MAX_SAFE_INTEGER - now)) return 0;
  return now + Number(ms);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function strictInt64(s: string): bigint | null {
  if (!/^-?(0|[1-9][0-9]*)$/.test(s) || s === '-0' || s.length > 20) return null;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/**
 * (long long)ceill(strtold(s) * 1000) as Redis 7.0.15 computes it on x86-64: the string parsed
 * to an x87 long double (util/longdouble.ts), multiplied by 1000 in long double (rounded to 64
 * significant bits, half to even), rounded up to an integer; an out-of-range result gives
 * INT64_MIN, as the conversion instruction does. So "0.0001" is 1 ms, "-0.001" is 0 (wait
 * forever, since the long double of 0.001 is a hair below it), like in Redis. Null when
 * string2ld refuses the string.
 */
function secondsToMs(s: string): bigint | null {
  const ld = parseLongDouble(s);
  if (ld === null) return null;
  if (ld.inf) return INT64_MIN;
  if (ld.m === 0n) return 0n;
  let p = ld.m * 1000n;
  let e = ld.e;
  let bl = p.toString(2).length;
  if (bl > 64) {
    const sh = BigInt(bl - 64);
    const q = p >> sh;
    const r = p - (q << sh);
    const half = 1n << (sh - 1n);
    p = r > half || (r === half && (q & 1n) === 1n) ? q + 1n : q;
    e += bl - 64;
    bl = p.toString(2).length;
  }
  // ceill: a positive fraction rounds up (0.0001 s is 1 ms), a negative one towards zero
  let v: bigint;
  if (e >= 0) {
    if (bl + e > 64) return INT64_MIN;
    v = p << BigInt(e);
  } else {
    v = -e >= bl ? 0n : p >> BigInt(-e);
    if (!ld.neg && v << BigInt(-e) !== p) v += 1n;
  }
  if (ld.neg) v = -v;
  return v > INT64_MAX || v < INT64_MIN ? INT64_MIN : v;
}
